"""Writes for leads, and the default ladder and lists of a new organization.

Every move writes its stage change in one transaction. The settings pages' edits of the
ladder and lists are in ``leads.settings_services``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from keepscore.accounts.models import Membership, Organization
from keepscore.common.validation import check_same_org, checked_at
from keepscore.economics.models import DealLine
from keepscore.economics.products import LineIn, LineRow, deal_amounts
from keepscore.history import recorder
from keepscore.leads.models import (
    Channel,
    DealOutcome,
    Group,
    Lead,
    LostReason,
    QualificationAnswer,
    QualificationCriterion,
    Stage,
    StageChange,
    StageKind,
    Touch,
)

DEFAULT_LADDER: list[tuple[str, str, Group, StageKind, bool, str, str]] = [
    # key, name, group, kind, requires_qualification, playbook, exit criteria
    (
        "suspect",
        "Suspect",
        Group.SUSPECT,
        StageKind.OPEN,
        False,
        "Someone who might need what we sell. Find out who they are and how to reach them.",
        "We have a name and a way to contact them.",
    ),
    (
        "prospect",
        "Prospect",
        Group.PROSPECT,
        StageKind.OPEN,
        False,
        "Make first contact. Introduce the business and ask about their situation.",
        "They replied or showed interest (asked, visited, downloaded).",
    ),
    (
        "lead",
        "Lead",
        Group.LEAD,
        StageKind.OPEN,
        False,
        "Have a first real conversation. Listen for need, budget, timing and who decides.",
        "A conversation took place and there is a possible need.",
    ),
    (
        "qualified",
        "Qualified",
        Group.LEAD,
        StageKind.OPEN,
        True,
        "Check the lead against our qualification checklist with the person who decides.",
        "Every required qualification criterion is met.",
    ),
    (
        "proposal",
        "Proposal",
        Group.LEAD,
        StageKind.OPEN,
        False,
        "Present the offer, send the proposal, agree a date to decide, answer objections.",
        "They said yes (won) or no (lost).",
    ),
    ("customer", "Customer", Group.CUSTOMER, StageKind.WON, False, "", ""),
    ("lost", "Lost", Group.CUSTOMER, StageKind.LOST, False, "", ""),
]

DEFAULT_CHANNELS = [
    "Walk-in",
    "Phone enquiry",
    "Website form",
    "Referral",
    "Trade show",
    "Telemarketing",
    "Email",
    "Social",
    "Search",
    "Ads",
]
WEBSITE_FORM_CHANNEL = "website-form"

DEFAULT_LOST_REASONS = [
    "Price too high",
    "Chose a competitor",
    "No budget",
    "Bad timing",
    "No decision / went silent",
    "Not a fit",
]

DEFAULT_CRITERIA = [
    "Talking to the person with authority to buy",
    "Fits our ideal customer profile",
    "Has a need we can meet",
    "Ready to decide within 3 months",
]


def organization_defaults_create(*, organization: Organization) -> None:
    """The default ladder with its playbook, channels, lost reasons and checklist."""
    recorder.ladder_create(
        organization=organization,
        stages=[
            Stage(
                organization=organization,
                key=key,
                name=name,
                position=(i + 1) * 10,
                group=group,
                kind=kind,
                requires_qualification=gated,
                playbook=playbook,
                exit_criteria=exit_criteria,
            )
            for i, (key, name, group, kind, gated, playbook, exit_criteria) in enumerate(
                DEFAULT_LADDER
            )
        ],
    )
    Channel.objects.bulk_create(
        Channel(organization=organization, name=name, key=slugify(name))
        for name in DEFAULT_CHANNELS
    )
    LostReason.objects.bulk_create(
        LostReason(organization=organization, name=name) for name in DEFAULT_LOST_REASONS
    )
    QualificationCriterion.objects.bulk_create(
        QualificationCriterion(organization=organization, text=text, position=i + 1)
        for i, text in enumerate(DEFAULT_CRITERIA)
    )


# --- leads -----------------------------------------------------------------------------

LEAD_EDITABLE = ("name", "company", "email", "phone", "notes", "owner", "value", "sourced_by")
SOURCE_FIELDS = ("campaign", "utm_source", "utm_medium", "utm_campaign", "referrer")


def _first_stage(organization: Organization) -> Stage:
    stage = Stage.objects.for_org(organization).filter(kind=StageKind.OPEN).first()
    if stage is None:
        raise ValidationError("The ladder has no open stage.")
    return stage


@transaction.atomic
def lead_create(
    *,
    organization: Organization,
    name: str,
    channel: Channel,
    by: Membership | None = None,
    stage: Stage | None = None,
    first_touch_at: datetime | None = None,
    **fields: Any,
) -> Lead:
    """A new lead at its first touch: needs only a name and a source (channel).

    Writes the lead's first stage change (from nothing to its stage) in the same transaction.
    Who sourced it (``sourced_by``) is the member who records it unless given.
    """
    unknown = set(fields) - set(LEAD_EDITABLE) - set(SOURCE_FIELDS)
    if unknown:
        raise TypeError(f"lead_create got unknown fields: {sorted(unknown)}")
    fields.setdefault("sourced_by", by)
    check_same_org(
        organization,
        channel=channel,
        stage=stage,
        owner=fields.get("owner"),
        sourced_by=fields.get("sourced_by"),
        by=by,
    )
    if not channel.active:
        raise ValidationError({"channel": f"The channel {channel.name} is no longer in use."})
    at = checked_at(first_touch_at, "first_touch_at")
    stage = stage or _first_stage(organization)
    if stage.is_closed:
        raise ValidationError({"stage": "A new lead starts at an open stage."})
    if needs_qualification(organization=organization, to_stage=stage) and _required_criteria(
        organization
    ):
        raise ValidationError(
            {"stage": f"A new lead cannot start at {stage.name}: qualify it first."}
        )
    lead = Lead(
        organization=organization,
        name=(name or "").strip(),
        channel=channel,
        stage=stage,
        first_touch_at=at,
        stage_entered_at=at,
        **{k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()},
    )
    lead.full_clean()
    recorder.lead_open(lead=lead, by=by.user if by else None)
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, **fields: Any) -> Lead:
    """Edit what may change on a lead; its source and stage are not among them."""
    unknown = set(fields) - set(LEAD_EDITABLE)
    if unknown:
        raise ValidationError({f: "This field cannot be changed here." for f in sorted(unknown)})
    check_same_org(
        lead.organization, owner=fields.get("owner"), sourced_by=fields.get("sourced_by")
    )
    for field, value in fields.items():
        setattr(lead, field, value.strip() if isinstance(value, str) else value)
    lead.full_clean()
    recorder.lead_save(lead=lead, fields=list(fields))
    return lead


@transaction.atomic
def touch_add(*, lead: Lead, channel: Channel, at: datetime | None = None, **source: str) -> Touch:
    """A later touch; the lead's original source stays as it was."""
    check_same_org(lead.organization, channel=channel)
    at = checked_at(at)
    touch = Touch(organization=lead.organization, lead=lead, channel=channel, at=at, **source)
    touch.full_clean()
    return recorder.touch_append(touch=touch)


@transaction.atomic
def qualification_set(
    *, lead: Lead, criterion: QualificationCriterion, met: bool, by: Membership | None = None
) -> QualificationAnswer:
    check_same_org(lead.organization, criterion=criterion, by=by)
    answer, _ = QualificationAnswer.objects.update_or_create(
        lead=lead,
        criterion=criterion,
        defaults={
            "organization": lead.organization,
            "met": met,
            "by": by.user if by else None,
        },
    )
    return answer


def qualification_missing(*, lead: Lead) -> list[QualificationCriterion]:
    """The required, active criteria this lead does not meet yet."""
    met = set(
        QualificationAnswer.objects.filter(lead=lead, met=True).values_list(
            "criterion_id", flat=True
        )
    )
    return [c for c in _required_criteria(lead.organization) if c.pk not in met]


def _required_criteria(organization: Organization) -> list[QualificationCriterion]:
    return list(
        QualificationCriterion.objects.for_org(organization).filter(active=True, required=True)
    )


def _gate_stage(organization: Organization) -> Stage | None:
    return (
        Stage.objects.for_org(organization)
        .filter(requires_qualification=True, kind=StageKind.OPEN)
        .order_by("position")
        .first()
    )


def needs_qualification(*, organization: Organization, to_stage: Stage) -> bool:
    """Whether moving to ``to_stage`` reaches or passes the qualification gate.

    Open stages at or after the first gated stage are behind the gate; closed stages (won,
    lost) are not: a walk-in who buys on the spot is a customer without a checklist.
    """
    if to_stage.is_closed:
        return False
    gate = _gate_stage(organization)
    return gate is not None and to_stage.position >= gate.position


@dataclass(frozen=True)
class Outcome:
    """What a closing move records. A won deal takes its revenue (and cost) entered directly,
    or ``lines`` (products sold) from which ``economics.products.deal_amounts`` computes them."""

    revenue: Decimal | None = None
    cost: Decimal | None = None
    lost_reason: LostReason | None = None
    lost_note: str = ""
    lines: Sequence[LineIn] = ()


@transaction.atomic
def lead_move(
    *,
    lead: Lead,
    to_stage: Stage,
    by: Membership | None,
    at: datetime | None = None,
    note: str = "",
    override_reason: str = "",
    outcome: Outcome | None = None,
) -> StageChange:
    """Move a lead to another stage and write the stage change, in one transaction.

    Rules: the qualification gate (an owner may override with a reason, which is recorded);
    won needs revenue, entered or from the lines of products sold (written with the outcome,
    never changed); lost needs a reason; skipping forward and moving back are allowed and
    recorded; the history is never edited.
    """
    organization = lead.organization
    check_same_org(organization, to_stage=to_stage, by=by)
    # re-read under a lock so two moves of one lead cannot interleave
    given, lead = lead, Lead.objects.select_for_update().select_related("stage").get(pk=lead.pk)
    if to_stage.pk == lead.stage_id:
        raise ValidationError({"to_stage": f"The lead is already at {to_stage.name}."})
    at = checked_at(at)
    if at < lead.first_touch_at:
        raise ValidationError({"at": "A move cannot be before the lead's first touch."})
    last = StageChange.objects.filter(lead=lead).aggregate(m=Max("at"))["m"]
    if last is not None and at < last:
        raise ValidationError({"at": "A move cannot be before the lead's latest stage change."})

    override = False
    if needs_qualification(organization=organization, to_stage=to_stage):
        missing = qualification_missing(lead=lead)
        if missing:
            if not override_reason.strip():
                raise ValidationError(
                    {
                        "to_stage": "Not qualified yet. Missing: "
                        + "; ".join(c.text for c in missing)
                        + "."
                    }
                )
            if by is None or not by.is_owner:
                raise ValidationError(
                    {"override_reason": "Only an owner may override the qualification checklist."}
                )
            override = True
    elif override_reason.strip():
        override_reason = ""

    outcome = outcome or Outcome()
    line_rows: list[LineRow] = []
    if to_stage.kind == StageKind.WON:
        revenue, cost, line_rows = deal_amounts(
            organization, lines=outcome.lines, revenue=outcome.revenue, cost=outcome.cost
        )
        outcome = replace(outcome, revenue=revenue, cost=cost)
        if outcome.revenue is None:
            raise ValidationError({"revenue": "A won deal needs its revenue."})
        if outcome.revenue < 0:
            raise ValidationError({"revenue": "Revenue cannot be negative."})
        if outcome.cost is not None and outcome.cost < 0:
            raise ValidationError({"cost": "Cost cannot be negative."})
    elif outcome.lines:
        raise ValidationError({"lines": "Only a won deal has products sold."})
    if to_stage.kind == StageKind.LOST:
        if outcome.lost_reason is None:
            raise ValidationError({"lost_reason": "A lost lead needs a reason."})
        check_same_org(organization, lost_reason=outcome.lost_reason)
        if not outcome.lost_reason.active:
            raise ValidationError({"lost_reason": "That lost reason is no longer in use."})

    deal: DealOutcome | None = None
    if to_stage.is_closed:
        won = to_stage.kind == StageKind.WON
        deal = DealOutcome(
            organization=organization,
            lead=lead,
            result=DealOutcome.Result.WON if won else DealOutcome.Result.LOST,
            at=at,
            revenue=outcome.revenue if won else None,
            cost=outcome.cost if won else None,
            lost_reason=None if won else outcome.lost_reason,
            lost_note="" if won else outcome.lost_note.strip(),
        )
        # money too large or too precise for the columns is a field error, not a crash
        deal.full_clean(exclude=["stage_change"], validate_constraints=False)

    change = recorder.stage_change_append(
        lead=lead,
        change=StageChange(
            organization=organization,
            lead=lead,
            from_stage=lead.stage,
            to_stage=to_stage,
            at=at,
            by=by.user if by else None,
            note=note.strip(),
            qualification_override=override,
            override_reason=override_reason.strip() if override else "",
        ),
        outcome=deal,
        lines=[
            DealLine(
                organization=organization,
                product=row.product,
                quantity=row.quantity,
                unit_price=row.unit_price,
                unit_cost=row.unit_cost,
            )
            for row in line_rows
        ],
    )
    given.stage, given.stage_entered_at = to_stage, at
    return change


@transaction.atomic
def lead_move_ticked(
    *,
    lead: Lead,
    to_stage: Stage,
    by: Membership | None,
    ticked: Iterable[QualificationCriterion] = (),
    all_met: bool = False,
    **move: Any,
) -> StageChange:
    """The move where the checklist is ticked: the criteria said to be met (every missing
    one with ``all_met``) are set, then the lead moves — all of it, or nothing when the move
    is refused."""
    met = qualification_missing(lead=lead) if all_met else list(ticked)
    for criterion in met:
        qualification_set(lead=lead, criterion=criterion, met=True, by=by)
    return lead_move(lead=lead, to_stage=to_stage, by=by, **move)
