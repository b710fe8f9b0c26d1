"""Figures kept until the data they show changes: the data revision, and what is kept
under it (:func:`remembered`, the month's scorecard: :func:`scorecard_kept`; the reports
keep their charts and PDF under the same parts: ``keepscore.reports.month``).

What every kept figure depends on (:func:`data_parts`):

- the organization's *data revision* (:class:`~keepscore.scorecard.models.DataRevision`),
  raised in the same transaction as every write that can change a figure: each write of
  the history (the recorder hands it to every projection, this module's among them:
  new leads, stage changes, activities, imports, erasures, the ladder edited, summaries
  rebuilt) and each save or delete of the organization's other rows (targets, goals,
  manual values, spend, cash, the plan, reviews, channels, stages, products, the
  organization itself: its name, currency, locale);
- the state of its summaries (their version, ladder and time zone) and the time zone;
- the code's version;

and, for a figure of a month (:func:`month_parts`), the day for this month and later ones
(a month that runs is shown to date); a month that is over does not depend on the day.

The revision is read *before* the figures: a figure computed while the data changes is kept
under the old revision and never read back. Another organization's figures are kept under
its own id.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

import keepscore
from keepscore.accounts.models import Organization
from keepscore.history.projections import Projection, write_memo
from keepscore.scorecard.models import DataRevision

#: rows that change no report (or change too often to count): never raise the revision
_QUIET_APPS = frozenset({"audit", "funnel", "imports", "webforms", "followups", "focus"})
_QUIET_MODELS = frozenset(
    {
        "scorecard.DataRevision",
        "scorecard.ReviewMailSent",
        "accounts.ApiToken",
        "accounts.Invitation",
    }
)
#: the history's tables: written through the recorder (which tells every projection), and
#: too large for Django to delete row by row (a ``post_delete`` listener makes it do so)
_HISTORY = frozenset(
    {
        "leads.Lead",
        "leads.Touch",
        "leads.StageChange",
        "leads.StageCorrection",
        "leads.DealOutcome",
        "leads.QualificationAnswer",
        "activities.Activity",
        "activities.Objection",
        "economics.DealLine",
    }
)


# --- the data revision ------------------------------------------------------------------


#: writes of this process so far (any organization): the data parts an organization read
#: are read again after any write (:func:`data_parts`)
_writes = 0


def data_changed(organization_id: int) -> None:
    """Raise the organization's data revision (once per write of the recorder)."""
    global _writes
    _writes += 1
    memo = write_memo()
    if memo.get(("data_changed", organization_id)):
        return
    memo[("data_changed", organization_id)] = True
    DataRevision.objects.filter(organization_id=organization_id).update(revision=F("revision") + 1)


def revision_of(organization: Organization) -> tuple[int, str]:
    """The organization's data revision now, and when its row was made (a row made again,
    for an organization made again, starts a new count); the row made if there is none."""
    rows = DataRevision.objects.filter(organization=organization)
    found = rows.values_list("revision", "created_at").first()
    if found is None:
        try:
            with transaction.atomic():
                DataRevision.objects.create(organization=organization)
        except IntegrityError:  # made at the same moment by another request
            pass
        found = rows.values_list("revision", "created_at").get()
    return int(found[0]), found[1].isoformat()


class DataRevisionProjection(Projection):
    """The recorder's writes raise the data revision (after every hook, in the writer's
    transaction); it keeps no figures of its own, so there is nothing to verify."""

    name = "data revision"

    def changed(self, organization: Organization) -> None:
        data_changed(organization.pk)


def _quiet(label: str) -> bool:
    return label in _QUIET_MODELS or label.split(".", 1)[0] in _QUIET_APPS


def on_save(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """``post_save`` of any model: a row of an organization's data, or the organization."""
    if sender is Organization:
        if created:
            DataRevision.objects.get_or_create(organization=instance)
        else:
            data_changed(instance.pk)
        return
    organization_id = getattr(instance, "organization_id", None)
    if organization_id is None or _quiet(sender._meta.label):
        return
    data_changed(organization_id)


def on_delete(sender: Any, instance: Any, **kwargs: Any) -> None:
    organization_id = getattr(instance, "organization_id", None)
    if organization_id is not None:
        data_changed(organization_id)


def connect() -> None:
    """Listen to saves of every model, and to deletes of the organization's rows that are
    not its history (``ScorecardConfig.ready``)."""
    from django.apps import apps
    from django.db.models.signals import post_delete, post_save

    from keepscore.common.models import OrgOwned
    from keepscore.history.projections import register

    register(DataRevisionProjection())
    post_save.connect(on_save, dispatch_uid="keepscore.scorecard.kept.on_save")
    for model in apps.get_models():
        label = model._meta.label
        if issubclass(model, OrgOwned) and label not in _HISTORY and not _quiet(label):
            post_delete.connect(on_delete, sender=model, dispatch_uid=f"kept.on_delete.{label}")


# --- figures kept until the data changes -----------------------------------------------

#: how long a remembered figure is kept at most (its key changes with the data anyway)
REMEMBER_SECONDS = 7 * 24 * 3600


def data_parts(organization: Organization) -> list[Any]:
    """What every figure of the organization depends on, besides its own arguments: the data
    revision (read first), the summaries' state, the time zone and the code's version.

    Read once per instance of the organization (one a request) until this process writes:
    a page that shows several kept figures reads them in two queries, not two each."""
    read = organization.__dict__.get("_kept_data_parts")
    if read is not None and read[0] == _writes:
        return list(read[1])
    writes = _writes
    parts = _data_parts_read(organization)
    organization.__dict__["_kept_data_parts"] = (writes, parts)
    return list(parts)


def _data_parts_read(organization: Organization) -> list[Any]:
    from keepscore.funnel.models import SummaryState

    revision = revision_of(organization)
    summaries = (
        SummaryState.objects.filter(organization=organization)
        .values_list("version", "ladder", "zone", "built_at")
        .first()
    )
    return [organization.pk, revision, summaries, settings.TIME_ZONE, keepscore.__version__]


def remembered(organization: Organization, name: str, parts: list[Any], compute: Any) -> Any:
    """``compute()``, kept in the cache under the organization's data revision and
    ``parts`` (what else the value depends on, e.g. the day): computed once, then read back
    until any of its data changes. The value must pickle."""
    from django.core.cache import cache

    digest = hashlib.sha256(repr([*data_parts(organization), parts]).encode()).hexdigest()
    key = f"keepscore:{organization.pk}:{name}:{digest[:32]}"
    found = cache.get(key, _MISSING)
    if found is not _MISSING:
        return found
    value = compute()
    cache.set(key, value, REMEMBER_SECONDS)
    return value


_MISSING = object()


def day_part(month: date, today: date) -> str:
    """A month that runs is shown to date (it depends on the day); one that is over does not."""
    return today.isoformat() if month >= today.replace(day=1) else ""


def month_parts(month: date) -> list[str]:
    """What a figure of ``month`` depends on besides the data (for :func:`remembered`)."""
    month = month.replace(day=1)
    return [month.isoformat(), day_part(month, timezone.localdate())]


def scorecard_kept(organization: Organization, month: date) -> Any:
    """The month's :class:`~keepscore.scorecard.compute.Scorecard`, computed once and kept
    until its data (or, for a month that runs, the day) changes."""
    from keepscore.scorecard.compute import scorecard_for

    month = month.replace(day=1)
    today = timezone.localdate()
    return remembered(
        organization,
        "scorecard",
        month_parts(month),
        lambda: scorecard_for(organization, month, today=today),
    )
