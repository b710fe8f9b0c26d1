"""The recorder: the one way in for the history every figure is computed from.

Each function writes its rows (already validated by the service that calls it) and, in the
same transaction, hands the change to every registered projection (``projections``):
leads are forgotten before their history changes and counted after it, so no caller has to
know what is kept from them. History models refuse writes made anywhere else
(``keepscore.common.recorded``). Many rows at once go through ``keepscore.history.bulk``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import transaction
from django.db.models import Case, Q, QuerySet, Value, When

from keepscore.activities.models import Activity, Objection
from keepscore.audit import services as audit
from keepscore.common.recorded import recording
from keepscore.economics.models import DealLine
from keepscore.history.projections import Difference, lead_fields, one_write, registered
from keepscore.leads.models import (
    ERASED_NAME,
    ERASED_TEXT,
    DealOutcome,
    Lead,
    Stage,
    StageChange,
    StageCorrection,
    Touch,
)

if TYPE_CHECKING:
    from keepscore.accounts.models import Organization, User

F = TypeVar("F", bound=Callable[..., Any])


def _write(fn: F) -> F:
    """A write of the recorder: one transaction, and one memo for its projections' hooks
    (``projections.one_write``)."""

    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        with transaction.atomic(), one_write():
            return fn(*args, **kwargs)

    return inner  # type: ignore[return-value]


def tell(*, hook: str, organization: Organization, rows: Any = None) -> None:
    """Call ``hook`` of every registered projection (with ``rows``, what it is told about,
    when given: the leads, activities, objections or touches), then its ``changed``."""
    for projection in registered():
        if rows is None:
            getattr(projection, hook)(organization)
        else:
            getattr(projection, hook)(organization, rows)
        projection.changed(organization)


# --- leads and their stage history ------------------------------------------------------


@_write
def lead_open(*, lead: Lead, by: User | None = None) -> StageChange:
    """Write a new lead (validated, not saved yet) and its first stage change: from nothing
    to its stage, at its first touch."""
    organization = lead.organization
    with recording():
        lead.save()
        change = StageChange.objects.create(
            organization=organization,
            lead=lead,
            from_stage=None,
            to_stage=lead.stage,
            at=lead.first_touch_at,
            by=by,
        )
    tell(hook="leads_count", organization=organization, rows=[lead.pk])
    return change


@_write
def lead_save(*, lead: Lead, fields: Sequence[str]) -> None:
    """Save these fields of a lead (and ``updated_at``). When a projection reads any of them
    the lead is forgotten before and counted after."""
    names = {Lead._meta.get_field(f).name for f in fields}
    recount = bool(names & lead_fields())
    organization = lead.organization
    if recount:
        tell(hook="leads_forget", organization=organization, rows=[lead.pk])
    with recording():
        lead.save(update_fields=[*names, "updated_at"])
    if recount:
        tell(hook="leads_count", organization=organization, rows=[lead.pk])


@_write
def stage_change_append(
    *,
    lead: Lead,
    change: StageChange,
    outcome: DealOutcome | None = None,
    lines: Sequence[DealLine] = (),
) -> StageChange:
    """Append a stage change (validated, not saved yet) with its deal outcome and the
    outcome's lines, and put the lead at the change's stage from the change's moment."""
    if change.lead_id != lead.pk or (outcome is not None and outcome.lead_id != lead.pk):
        raise ValueError("the stage change and its outcome must be the lead's")
    if lines and outcome is None:
        raise ValueError("deal lines need their outcome")
    organization = lead.organization
    tell(hook="leads_forget", organization=organization, rows=[lead.pk])
    with recording():
        change.save()
        if outcome is not None:
            outcome.stage_change = change
            outcome.save()
            for line in lines:
                line.outcome = outcome
            DealLine.objects.bulk_create(lines)
        lead.stage = change.to_stage
        lead.stage_entered_at = change.at
        lead.save(update_fields=["stage", "stage_entered_at", "updated_at"])
    tell(hook="leads_count", organization=organization, rows=[lead.pk])
    return change


@_write
def stage_change_undo(*, lead: Lead, change: StageChange, correction: StageCorrection) -> None:
    """Undo a lead's latest stage change: write the correction (validated, not saved yet,
    holding what the change said), take the change and its deal outcome out of the history
    the figures read, and put the lead back at the stage it came from, since the moment it
    entered it."""
    if change.lead_id != lead.pk or correction.lead_id != lead.pk:
        raise ValueError("the change and its correction must be the lead's")
    organization = lead.organization
    tell(hook="leads_forget", organization=organization, rows=[lead.pk])
    with recording():
        correction.save()
        # its outcome and the outcome's lines with it (kept in the correction)
        audit.delete(rows=StageChange.objects.filter(pk=change.pk), summary="undone")
        previous = StageChange.objects.filter(lead=lead).order_by("-at", "-id").first()
        if previous is None:
            raise ValueError("a lead's first stage change cannot be undone")
        lead.stage = previous.to_stage
        lead.stage_entered_at = previous.at
        lead.save(update_fields=["stage", "stage_entered_at", "updated_at"])
    tell(hook="leads_count", organization=organization, rows=[lead.pk])


@_write
def touch_append(*, touch: Touch) -> Touch:
    """A later touch of a lead (validated, not saved yet)."""
    with recording():
        touch.save()
    tell(hook="touches_add", organization=touch.organization, rows=[touch])
    return touch


# --- activities and objections ----------------------------------------------------------


@_write
def activity_append(*, activity: Activity) -> Activity:
    """A logged activity (validated, not saved yet)."""
    with recording():
        activity.save()
    tell(hook="activities_add", organization=activity.organization, rows=[activity])
    return activity


@_write
def objection_append(*, objection: Objection) -> Objection:
    """An objection (validated, not saved yet)."""
    with recording():
        objection.save()
    tell(hook="objections_add", organization=objection.organization, rows=[objection])
    return objection


# --- the ladder -------------------------------------------------------------------------


@_write
def ladder_create(*, organization: Organization, stages: Iterable[Stage]) -> None:
    """A new organization's ladder."""
    with recording():
        Stage.objects.bulk_create(stages)
    tell(hook="ladder_changed", organization=organization)


@_write
def stages_save(
    *, organization: Organization, stages: Sequence[Stage], fields: Sequence[str] | None = None
) -> None:
    """Save stages of the ladder (new or edited; only ``fields`` when given)."""
    with recording():
        for stage in stages:
            if stage.organization_id != organization.pk:
                raise ValueError("a stage of another organization")
            stage.save(update_fields=fields)
    tell(hook="ladder_changed", organization=organization)


@_write
def stage_delete(*, stage: Stage) -> None:
    """Delete a stage no lead and no stage change names (the caller checks)."""
    organization = stage.organization
    with recording():
        audit.delete(rows=Stage.objects.filter(pk=stage.pk))
    tell(hook="ladder_changed", organization=organization)


# --- members leaving --------------------------------------------------------------------


def _member_rows(membership: Any) -> tuple[list[int], QuerySet[Activity]]:
    # the leads they own or sourced (both cleared by the database: both are counted by)
    leads = list(
        Lead.objects.filter(organization_id=membership.organization_id)
        .filter(Q(owner_id=membership.pk) | Q(sourced_by_id=membership.pk))
        .values_list("pk", flat=True)
    )
    activities = Activity.objects.filter(
        organization_id=membership.organization_id, by_id=membership.pk
    )
    return leads, activities


def member_leaving(*, membership: Any) -> tuple[list[int], list[int]]:
    """Before a member is deleted (the database then clears the owner and the sourced-by of
    their leads and the ``by`` of their activities): forget those leads and activities;
    their ids, for :func:`member_left`."""
    leads, activities = _member_rows(membership)
    organization = membership.organization
    activity_ids = list(activities.values_list("pk", flat=True))
    tell(hook="leads_forget", organization=organization, rows=leads)
    if activity_ids:
        tell(hook="activities_forget", organization=organization, rows=activities)
    return leads, activity_ids


def member_left(*, membership: Any, leads: list[int], activities: list[int]) -> None:
    """After the member was deleted: count their former leads and activities again."""
    organization = membership.organization
    tell(hook="leads_count", organization=organization, rows=leads)
    if activities:
        tell(
            hook="activities_add",
            organization=organization,
            rows=Activity.objects.filter(organization=organization, pk__in=activities),
        )


# --- a person's data erased -----------------------------------------------------------

#: the lead's fields an erasure blanks (its name becomes ``ERASED_NAME``); none is read by
#: a projection today: if one ever is, the leads are forgotten and counted again
ERASED_LEAD_FIELDS = frozenset(
    {"name", "company", "email", "phone", "notes", "external_id", "referrer", "facts"}
)


def erasable_rows(*, lead_ids: Sequence[int]) -> dict[str, QuerySet[Any]]:
    """The history rows of these leads that hold free text an erasure blanks, by kind (the
    same rows the erasure writes: what a confirmation page counts)."""
    return {
        "touches": Touch.objects.filter(lead_id__in=lead_ids).exclude(referrer=""),
        "activities": Activity.objects.filter(lead_id__in=lead_ids).filter(
            ~Q(notes="") | ~Q(outcome="")
        ),
        "objections": Objection.objects.filter(lead_id__in=lead_ids).exclude(text=""),
        "stage_changes": StageChange.objects.filter(lead_id__in=lead_ids).filter(
            ~Q(note="") | ~Q(override_reason__in=["", ERASED_TEXT])
        ),
        "outcomes": DealOutcome.objects.filter(lead_id__in=lead_ids).exclude(lost_note=""),
        "corrections": StageCorrection.objects.filter(lead_id__in=lead_ids).filter(
            ~Q(change_note="")
            | ~Q(reason="")
            | (Q(outcome__has_key="lost_note") & ~Q(outcome__lost_note=""))
        ),
    }


@_write
def person_erase(*, organization: Organization, lead_ids: Sequence[int], at: datetime) -> None:
    """Erase a person's data from these leads of the organization (``keepscore.privacy``
    checked them): each lead becomes a tombstone (``ERASED_NAME``, its other personal data
    blank, ``erased_at``) and the free text of its history is blanked — the later touches'
    referrer, the activities' notes and outcome, the objections' text, the stage changes'
    note and override reason, the deal outcomes' lost note, the corrections' notes and the
    lost note they kept. What the figures read (stages, moments, authors, channels,
    campaigns, money, reasons) stays as it was, so no projection needs telling; the
    database lets through only this kind of update of the append-only history (migration
    leads 0008)."""
    ids = list(lead_ids)
    if not ids:
        return
    recount = bool(ERASED_LEAD_FIELDS & lead_fields())
    if recount:
        tell(hook="leads_forget", organization=organization, rows=ids)
    rows = erasable_rows(lead_ids=ids)
    with recording():
        Lead.objects.filter(organization=organization, pk__in=ids).update(
            name=ERASED_NAME,
            company="",
            email="",
            phone="",
            notes="",
            external_id="",
            referrer="",
            facts={},
            erased_at=at,
            updated_at=at,
        )
        rows["touches"].update(referrer="")
        rows["activities"].update(notes="", outcome="")
        rows["objections"].update(text="")
        rows["stage_changes"].update(
            note="",
            # the check constraint wants a reason where the checklist was overridden
            override_reason=Case(
                When(qualification_override=True, then=Value(ERASED_TEXT)), default=Value("")
            ),
        )
        rows["outcomes"].update(lost_note="")
        for pk, outcome in rows["corrections"].values_list("pk", "outcome"):
            blank: dict[str, Any] = {"change_note": "", "reason": ""}
            if isinstance(outcome, dict) and outcome.get("lost_note"):
                blank["outcome"] = {**outcome, "lost_note": ""}  # the keys in their order
            StageCorrection.objects.filter(pk=pk).update(**blank)
    if recount:
        tell(hook="leads_count", organization=organization, rows=ids)


# --- rebuild and verify -----------------------------------------------------------------


@_write
def rebuild(*, organization: Organization) -> None:
    """Every projection computed again from the stored history."""
    tell(hook="rebuild", organization=organization)


def verify(*, organization: Organization) -> list[Difference]:
    """Every projection against its reference computation: the differences (none is good)."""
    out: list[Difference] = []
    for projection in registered():
        out.extend(projection.verify(organization))
    return out
