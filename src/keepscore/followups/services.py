"""Writes for follow-ups: add one, change it (reschedule, reassign), mark it done.

Marking done logs the activity the follow-up was (a call reached or not, an email, a
meeting, a proposal sent) in the same transaction, so the activity report counts it.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from keepscore.accounts.models import Membership
from keepscore.activities.models import ActivityKind
from keepscore.activities.services import activity_log
from keepscore.common.days import DATE_RANGE_MESSAGE, EARLIEST_DATE, LATEST_DATE
from keepscore.common.validation import check_same_org
from keepscore.followups.models import ACTIVITY_OF, FollowUp, FollowUpKind
from keepscore.leads.models import Lead

#: what a follow-up's fields may be changed to (``done`` marks it done or open again)
CHANGEABLE = ("kind", "due_on", "due_time", "owner", "note", "done")


def _check_kind(kind: str) -> None:
    if kind not in FollowUpKind.values:
        choices = ", ".join(FollowUpKind.values)
        raise ValidationError({"kind": f"Unknown follow-up kind {kind!r}: one of {choices}."})


def _check_due(due_on: Any) -> None:
    if not isinstance(due_on, date):
        raise ValidationError({"due_on": "Say the day it is due (YYYY-MM-DD)."})
    if not EARLIEST_DATE <= due_on <= LATEST_DATE:
        raise ValidationError({"due_on": DATE_RANGE_MESSAGE})


@transaction.atomic
def followup_add(
    *,
    lead: Lead,
    by: Membership | None,
    kind: str,
    due_on: date,
    due_time: time | None = None,
    owner: Membership | None = None,
    note: str = "",
) -> FollowUp:
    """A next step with ``lead``; its owner is the lead's owner unless given, else ``by``."""
    _check_kind(kind)
    _check_due(due_on)
    check_same_org(lead.organization, by=by, owner=owner)
    followup = FollowUp(
        organization=lead.organization,
        lead=lead,
        kind=kind,
        due_on=due_on,
        due_time=due_time,
        owner=owner or lead.owner or by,
        note=note.strip(),
        created_by=by,
    )
    followup.full_clean()
    followup.save()
    return followup


@transaction.atomic
def followup_done(
    *,
    followup: FollowUp,
    by: Membership | None,
    reached: bool | None = None,
    with_buyer: bool = True,
    notes: str = "",
) -> FollowUp:
    """Mark done and log the activity it was: a call reached them (a connect) or not (a call
    attempt), an email, a meeting, a proposal sent; "other" logs nothing. A connect or
    meeting is with someone who can buy unless ``with_buyer`` says otherwise.

    Done twice is refused (a double click logs one activity, not two).
    """
    check_same_org(followup.organization, by=by)
    followup = (
        FollowUp.objects.select_for_update()
        .select_related("lead__organization")
        .get(pk=followup.pk)
    )
    if followup.done_at is not None:
        raise ValidationError({"done": "This follow-up is already done."})
    if followup.kind == FollowUpKind.CALL:
        kind: str | None = ActivityKind.CONNECT if reached else ActivityKind.CALL_ATTEMPT
    else:
        kind = ACTIVITY_OF.get(FollowUpKind(followup.kind))
    if kind is not None:
        followup.activity = activity_log(
            lead=followup.lead,
            kind=kind,
            by=by,
            with_buyer=with_buyer and kind in (ActivityKind.CONNECT, ActivityKind.MEETING),
            notes=notes or followup.note,
        )
    followup.done_at = timezone.now()
    followup.done_by = by
    followup.save(update_fields=["activity", "done_at", "done_by"])
    return followup


@transaction.atomic
def followup_update(*, followup: FollowUp, by: Membership | None, **changes: Any) -> FollowUp:
    """Change what, when, who or the note; ``done=True`` marks it done (logging nothing:
    use ``followup_done`` for that), ``done=False`` opens it again."""
    unknown = sorted(set(changes) - set(CHANGEABLE))
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in unknown})
    check_same_org(followup.organization, by=by, owner=changes.get("owner"))
    if "kind" in changes:
        _check_kind(changes["kind"])
    if "due_on" in changes:
        _check_due(changes["due_on"])
    done = changes.pop("done", None)
    for name, value in changes.items():
        setattr(followup, name, value.strip() if name == "note" else value)
    if done is True and followup.done_at is None:
        followup.done_at, followup.done_by = timezone.now(), by
    elif done is False:
        followup.done_at = followup.done_by = None
    followup.full_clean()
    followup.save()
    return followup
