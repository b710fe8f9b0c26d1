"""Writes for activities and objections."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from keepscore.accounts.models import Membership
from keepscore.activities.models import Activity, ActivityKind, Objection, ObjectionTag
from keepscore.common.validation import check_same_org, checked_at
from keepscore.history import recorder
from keepscore.leads.models import Lead


def _checked_at(lead: Lead, at: datetime | None) -> datetime:
    at = checked_at(at)
    if at < lead.first_touch_at:
        raise ValidationError({"at": "This is before the lead's first touch."})
    return at


@transaction.atomic
def activity_log(
    *,
    lead: Lead,
    kind: str,
    by: Membership | None,
    at: datetime | None = None,
    with_buyer: bool = False,
    outcome: str = "",
    notes: str = "",
) -> Activity:
    if kind not in ActivityKind.values:
        raise ValidationError({"kind": f"Unknown activity kind {kind!r}."})
    check_same_org(lead.organization, by=by)
    at = _checked_at(lead, at)
    activity = Activity(
        organization=lead.organization,
        lead=lead,
        kind=kind,
        by=by,
        at=at,
        with_buyer=with_buyer,
        outcome=outcome.strip(),
        notes=notes.strip(),
    )
    activity.full_clean()
    return recorder.activity_append(activity=activity)


@transaction.atomic
def objection_add(
    *,
    lead: Lead,
    tag: str,
    by: Membership | None,
    text: str = "",
    activity: Activity | None = None,
    at: datetime | None = None,
) -> Objection:
    if tag not in ObjectionTag.values:
        raise ValidationError({"tag": f"Unknown objection {tag!r}."})
    check_same_org(lead.organization, by=by)
    if activity is not None and activity.lead_id != lead.pk:
        raise ValidationError({"activity": "That activity belongs to another lead."})
    at = _checked_at(lead, at)
    objection = Objection(
        organization=lead.organization,
        lead=lead,
        activity=activity,
        tag=tag,
        text=text.strip(),
        by=by,
        at=at,
    )
    objection.full_clean()
    return recorder.objection_append(objection=objection)
