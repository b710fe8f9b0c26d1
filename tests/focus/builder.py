"""Constructed organizations for the focus tests: leads with exact histories, written as
rows (bulk inserts of the real models), so a scenario of hundreds of leads builds in a
fraction of a second. Every moment is a local time of settings.TIME_ZONE."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.activities.models import Activity, Objection
from keepscore.common.months import month_add
from keepscore.economics.models import CashPosition
from keepscore.history.bulk import bulk
from keepscore.leads.models import Channel, DealOutcome, Lead, LostReason, Stage, StageChange
from keepscore.scorecard.models import Goal


def local(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_default_timezone())


@dataclass
class Spec:
    """One lead: its first touch, channel, the stages it moves to (days after the first
    touch), and how it ends (won with revenue and cost, lost, or open)."""

    first_touch: datetime
    channel: str = "referral"
    path: list[tuple[str, float]] = field(default_factory=lambda: [("prospect", 0)])
    revenue: str | None = None
    cost: str | None = None
    value: str | None = None


def won(first: datetime, days: float, revenue: str = "1000", cost: str = "500", **kw: Any) -> Spec:
    return Spec(
        first,
        path=[("prospect", 0), ("qualified", days / 2), ("customer", days)],
        revenue=revenue,
        cost=cost,
        **kw,
    )


def lost(first: datetime, days: float, **kw: Any) -> Spec:
    return Spec(first, path=[("prospect", 0), ("lost", days)], **kw)


def opened(first: datetime, stage: str = "prospect", days: float = 0, **kw: Any) -> Spec:
    path = [("prospect", 0)] if stage == "prospect" else [("prospect", 0), (stage, days)]
    return Spec(first, path=path, **kw)


def build(org: Organization, specs: list[Spec]) -> list[Lead]:
    """Write the leads, their stage changes and outcomes (bulk, in this order)."""
    stages = {s.key: s for s in Stage.objects.filter(organization=org)}
    channels = {c.key: c for c in Channel.objects.filter(organization=org)}
    reason = LostReason.objects.filter(organization=org).order_by("name").first()
    leads = []
    for i, spec in enumerate(specs):
        moments = [spec.first_touch + timedelta(days=d) for _key, d in spec.path]
        leads.append(
            Lead(
                organization=org,
                name=f"Lead {i}",
                stage=stages[spec.path[-1][0]],
                stage_entered_at=moments[-1],
                first_touch_at=spec.first_touch,
                channel=channels[spec.channel],
                value=Decimal(spec.value) if spec.value else None,
            )
        )
    with bulk(org) as block:
        _history_write(block, leads, specs, stages, reason)
    return leads


def _history_write(
    block: Any, leads: list[Lead], specs: list[Spec], stages: Any, reason: Any
) -> None:
    org = block.organization
    block.create(leads)
    changes = []
    for lead, spec in zip(leads, specs, strict=True):
        previous = None
        for key, days in spec.path:
            changes.append(
                StageChange(
                    organization=org,
                    lead=lead,
                    from_stage=previous,
                    to_stage=stages[key],
                    at=spec.first_touch + timedelta(days=days),
                )
            )
            previous = stages[key]
    block.create(changes)
    spec_of = {lead.pk: spec for lead, spec in zip(leads, specs, strict=True)}
    outcomes = []
    for change in changes:
        kind = change.to_stage.kind
        spec = spec_of[change.lead.pk]
        if kind == "won":
            outcomes.append(
                DealOutcome(
                    organization=org,
                    lead=change.lead,
                    stage_change=change,
                    result="won",
                    at=change.at,
                    revenue=Decimal(spec.revenue or "0"),
                    cost=Decimal(spec.cost) if spec.cost is not None else None,
                )
            )
        elif kind == "lost":
            outcomes.append(
                DealOutcome(
                    organization=org,
                    lead=change.lead,
                    stage_change=change,
                    result="lost",
                    at=change.at,
                    lost_reason=reason,
                )
            )
    block.create(outcomes)


def monthly(first_month: date, months: int, per_month: int, day_of: Any, make: Any) -> list[Spec]:
    """``per_month`` leads in each of ``months`` months from ``first_month``: the j-th lead of
    month i is ``make(i, j, first_touch)``, its first touch on ``day_of(j)`` of the month."""
    out = []
    for i in range(months):
        month = month_add(first_month, i)
        for j in range(per_month):
            out.append(make(i, j, local(month.replace(day=day_of(j)))))
    return out


def goal(org: Organization, key: str, year: int, value: float) -> None:
    Goal.objects.create(organization=org, metric_key=key, year=year, value=Decimal(str(value)))


def cash(org: Organization, month: date, on_hand: str, fixed: str) -> None:
    CashPosition.objects.create(
        organization=org,
        month=month,
        cash_on_hand=Decimal(on_hand),
        monthly_fixed_costs=Decimal(fixed),
    )


def objections(org: Organization, lead: Lead, moments: list[datetime], tag: str = "price") -> None:
    with bulk(org) as block:
        block.create(Objection(organization=org, lead=lead, tag=tag, at=at) for at in moments)


def conversations(org: Organization, lead: Lead, moments: list[datetime]) -> None:
    with bulk(org) as block:
        block.create(
            Activity(organization=org, lead=lead, kind="connect", with_buyer=True, at=at)
            for at in moments
        )
