"""Undoing a mistaken move without rewriting history.

A member can undo a stage change they made in the last ``UNDO_HOURS`` hours, an owner any
member's: only the lead's latest change, never its first (the lead's arrival). The undo is a
new entry of the history (``StageCorrection``) that keeps what the change said; the change
and its deal outcome stop counting in every figure (the recorder takes them out of the
history the figures read and tells the summaries), and the lead is back at the stage it
came from. The timeline shows both.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from keepscore.accounts.models import Membership
from keepscore.common.validation import check_same_org
from keepscore.history import recorder
from keepscore.leads.models import DealOutcome, Lead, StageChange, StageCorrection

#: how long a member may undo their own move
UNDO_HOURS = 24


def why_not_undoable(change: StageChange, member: Membership, now: datetime | None = None) -> str:
    """Why ``member`` cannot undo ``change`` (empty when they can)."""
    now = now or timezone.now()
    if change.from_stage_id is None:
        return "A lead's first stage is where it arrived: it cannot be undone."
    latest = (
        StageChange.objects.filter(lead_id=change.lead_id).order_by("-at", "-id").values("pk")[:1]
    )
    if not latest or latest[0]["pk"] != change.pk:
        return "Only the lead's latest move can be undone."
    if member.is_owner:
        return ""
    if change.by_id != member.user_id:
        return "Only an owner can undo another member's move."
    if now - change.at > timedelta(hours=UNDO_HOURS):
        return f"A move can be undone for {UNDO_HOURS} hours; after that, ask an owner."
    return ""


def _outcome(change: StageChange) -> dict[str, Any] | None:
    """What the change's deal outcome said, as text (kept in the correction)."""
    outcome = DealOutcome.objects.filter(stage_change=change).select_related("lost_reason").first()
    if outcome is None:
        return None
    return {
        "result": outcome.result,
        "at": outcome.at.isoformat(),
        "revenue": None if outcome.revenue is None else str(outcome.revenue),
        "cost": None if outcome.cost is None else str(outcome.cost),
        "lost_reason": outcome.lost_reason.name if outcome.lost_reason else None,
        "lost_note": outcome.lost_note,
        "lines": [
            {
                "product": line.product.name,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "unit_cost": None if line.unit_cost is None else str(line.unit_cost),
            }
            for line in outcome.lines.select_related("product")
        ],
    }


@transaction.atomic
def stage_change_undo(
    *, change: StageChange, by: Membership, reason: str = "", now: datetime | None = None
) -> StageCorrection:
    """Undo ``change`` (see the module): refused with the reason when ``by`` may not."""
    lead = Lead.objects.select_for_update().select_related("organization").get(pk=change.lead_id)
    check_same_org(lead.organization, by=by)
    why = why_not_undoable(change, by, now)
    if why:
        raise ValidationError({"change": why})
    assert change.from_stage_id is not None  # a first change is refused above
    correction = StageCorrection(
        organization=lead.organization,
        lead=lead,
        change_id=change.pk,
        change_from_id=change.from_stage_id,
        change_to_id=change.to_stage_id,
        change_at=change.at,
        change_by_id=change.by_id,
        change_note=change.note,
        outcome=_outcome(change),
        at=now or timezone.now(),
        by=by.user,
        reason=reason.strip(),
    )
    correction.full_clean()
    recorder.stage_change_undo(lead=lead, change=change, correction=correction)
    return correction
