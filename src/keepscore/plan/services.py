"""The year's plan: the stored goal and overrides over the measured assumptions, the plan
they give (with its range), and what-if against the measured plan."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.plan import engine
from keepscore.plan.engine import GOAL_KINDS, Assumptions, Goal, Plan, PlanRange
from keepscore.plan.measure import Measured, measure
from keepscore.plan.models import YearPlan

#: the rates an owner may set by hand (fractions above 0, at most 1)
RATE_FIELDS = tuple(name for name, _a, _b in engine.STEPS)
#: every assumption an owner may set, and what it is in words
FIELDS = {
    "deal_value": "Deal value",
    "margin_pct": "Margin %",
    "to_qualified": "New lead → qualified",
    "to_proposal": "Qualified → proposal",
    "to_customer": "Proposal → customer",
    "cycle_months": "Sales cycle (months)",
}
#: per channel: ``share:<key>`` (its part of the new leads) and ``cost_per_lead:<key>``
CHANNEL_FIELDS = ("share", "cost_per_lead")
YEARS = (2000, 2100)


@dataclass(frozen=True)
class PlanReport:
    """The plan of a year as shown: goal, assumptions (measured, and as used), the plan and
    its range, and the measured plan it differs from (None when nothing is overridden)."""

    year: int
    goal: Goal | None
    measured: Measured
    assumptions: Assumptions
    overrides: dict[str, float]
    plan: Plan | None
    range: PlanRange | None
    baseline: Plan | None  # the plan with the measured assumptions only
    accepted_at: Any = None

    @property
    def missing(self) -> list[str]:
        return self.plan.missing if self.plan is not None else []


def _number(field: str, value: Any) -> float:
    if isinstance(value, bool):
        raise ValidationError({field: "Enter a number."})
    try:
        number = Decimal(str(value).strip().rstrip("%")) if isinstance(value, str) else value
        out = float(number)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: f"“{value}” is not a number."}) from None
    if out != out or out in (float("inf"), float("-inf")):
        raise ValidationError({field: "Enter a finite number."})
    return out


def _share(field: str, value: Any) -> float:
    """A fraction: 0.3, "30%", or percent points (a number above 1: 30)."""
    number = _number(field, value)
    if (isinstance(value, str) and value.strip().endswith("%")) or number > 1:
        number /= 100
    return number


def overrides_clean(*, measured: Measured, raw: dict[str, Any]) -> dict[str, float]:
    """The overrides, checked: known names, numbers in range; rates and margin % as
    fractions (0.3) or percents ("30%", or any number above 1 is read as percent points).
    Empty values are dropped (back to the measure). A ValidationError names each field."""
    channels = {c.key for c in measured.assumptions.channels}
    errors: dict[str, list[str]] = {}
    out: dict[str, float] = {}
    for field, value in raw.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        kind, _, channel = field.partition(":")
        try:
            if field in RATE_FIELDS or field == "margin_pct":
                number = _share(field, value)
                if not 0 < number <= 1:
                    raise ValidationError({field: "Enter a share above 0% and at most 100%."})
            elif field == "deal_value":
                number = _number(field, value)
                if not 0 < number < 10**12:
                    raise ValidationError(
                        {field: "A deal value must be above 0 and under 1,000,000,000,000."}
                    )
            elif field == "cycle_months":
                number = _number(field, value)
                if number != int(number) or not 0 <= number <= 24:
                    raise ValidationError({field: "Enter whole months, 0 to 24."})
            elif kind in CHANNEL_FIELDS and channel:
                if channel not in channels:
                    raise ValidationError({field: f"There is no channel “{channel}” with leads."})
                number = (_share if kind == "share" else _number)(field, value)
                if kind == "share":
                    if not 0 <= number <= 1:
                        raise ValidationError({field: "Enter a share from 0% to 100%."})
                elif not 0 <= number < 10**9:
                    raise ValidationError(
                        {field: "A cost per lead is from 0 to under 1,000,000,000."}
                    )
            else:
                raise ValidationError({field: "This is not an assumption of the plan."})
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                errors.setdefault(name, []).extend(messages)
            continue
        out[field] = number
    shares = {k: v for k, v in out.items() if k.startswith("share:")}
    if shares and sum(shares.values()) > 1 + 1e-9:
        errors.setdefault("share", []).append(
            f"The channels' shares set by hand add up to {sum(shares.values()):.0%}: at most 100%."
        )
    if errors:
        raise ValidationError(errors)
    return out


def assumptions_apply(*, measured: Measured, overrides: dict[str, float]) -> Assumptions:
    """The measured assumptions with ``overrides`` (checked by :func:`overrides_clean`).

    Channel shares set by hand are kept; the other channels share what is left in their
    measured proportions (all of it to them when none is set)."""
    a = measured.assumptions
    changes: dict[str, Any] = {}
    for name in RATE_FIELDS:
        if name in overrides:
            changes[name] = replace(getattr(a, name), override=overrides[name])
    if "deal_value" in overrides:
        changes["deal_value"] = overrides["deal_value"]
        changes["deal_value_sd"] = None  # a value set by hand has no measured spread
    if "margin_pct" in overrides:
        changes["margin_pct"] = overrides["margin_pct"]
    if "cycle_months" in overrides:
        changes["cycle_months"] = int(overrides["cycle_months"])
    set_shares = {
        c.key: overrides[f"share:{c.key}"] for c in a.channels if f"share:{c.key}" in overrides
    }
    if a.channels and (set_shares or any(k.startswith("cost_per_lead:") for k in overrides)):
        left = 1 - sum(set_shares.values())
        rest = sum(c.share for c in a.channels if c.key not in set_shares)
        channels = []
        for c in a.channels:
            share = set_shares.get(c.key, c.share / rest * left if rest else 0.0)
            cost = overrides.get(f"cost_per_lead:{c.key}", c.cost_per_lead)
            channels.append(replace(c, share=share, cost_per_lead=cost))
        total = sum(c.share for c in channels)
        if abs(total - 1) > 1e-6:
            raise ValidationError(
                {"share": f"The channels' shares add up to {total:.0%}; they must make 100%."}
            )
        changes["channels"] = tuple(channels)
    return replace(a, **changes) if changes else a


def goal_clean(*, kind: Any, amount: Any) -> Goal:
    errors: dict[str, str] = {}
    if kind not in GOAL_KINDS:
        errors["goal_kind"] = f"Choose one of {', '.join(GOAL_KINDS)}."
    number = 0.0
    try:
        number = round(_number("goal_amount", amount), 2)
        if number < 0.01:
            errors["goal_amount"] = "A goal must be at least 0.01."
        elif number >= 10**12:
            errors["goal_amount"] = "A goal must be less than 1,000,000,000,000."
    except ValidationError as error:
        errors["goal_amount"] = error.message_dict["goal_amount"][0]
    if errors:
        raise ValidationError(errors)
    return Goal(kind, number)


def default_year(*, today: date | None = None) -> int:
    """The year a plan is made for unless said: this one; from October, the next."""
    today = today or timezone.localdate()
    return today.year + 1 if today.month >= 10 else today.year


def _year_check(year: int) -> int:
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValidationError({"year": f"Choose a year from {YEARS[0]} to {YEARS[1]}."})
    return year


def plan_report(
    *,
    organization: Organization,
    year: int,
    goal: Goal | None = None,
    overrides: dict[str, Any] | None = None,
    as_of: date | None = None,
    with_range: bool = True,
) -> PlanReport:
    """The year's plan: the stored one, or (what-if) with ``goal`` and ``overrides`` instead
    of the stored ones — nothing is saved. ``with_range=False`` skips the simulation (for
    readers of the plan's points only: the plan check, the targets)."""
    _year_check(year)
    stored = YearPlan.objects.for_org(organization).filter(year=year).first()
    measured = measure(organization, as_of)
    if goal is None and stored is not None:
        goal = Goal(stored.goal_kind, float(stored.goal_amount))
    raw = overrides if overrides is not None else (stored.overrides if stored else {})
    cleaned = overrides_clean(measured=measured, raw=raw)
    assumptions = assumptions_apply(measured=measured, overrides=cleaned)
    plan = plan_range = baseline = None
    if goal is not None:
        plan = engine.plan_compute(goal, assumptions, year)
        plan_range = engine.plan_range(goal, assumptions, year) if with_range else None
        if cleaned:
            baseline = engine.plan_compute(goal, measured.assumptions, year)
    return PlanReport(
        year=year,
        goal=goal,
        measured=measured,
        assumptions=assumptions,
        overrides=cleaned,
        plan=plan,
        range=plan_range,
        baseline=baseline,
        accepted_at=stored.accepted_at if stored else None,
    )


def overrides_stored(*, organization: Organization, year: int) -> dict[str, Any]:
    """The assumptions stored as set by hand for the year ({} without a plan)."""
    stored = YearPlan.objects.for_org(organization).filter(year=year).first()
    return dict(stored.overrides) if stored else {}


def plan_save(
    *,
    organization: Organization,
    year: int,
    goal_kind: Any,
    goal_amount: Any,
    overrides: dict[str, Any],
    by: Membership | None,
) -> PlanReport:
    """Save the year's goal and overrides (all checked first: a bad one saves nothing)."""
    _year_check(year)
    goal = goal_clean(kind=goal_kind, amount=goal_amount)
    cleaned = overrides_clean(measured=measure(organization), raw=overrides)
    with transaction.atomic():
        YearPlan.objects.update_or_create(
            organization=organization,
            year=year,
            defaults={
                "goal_kind": goal.kind,
                "goal_amount": Decimal(str(round(goal.amount, 2))),
                "overrides": cleaned,
                "by": by,
                "updated_at": timezone.now(),
            },
        )
    return plan_report(organization=organization, year=year)


@dataclass(frozen=True)
class Lever:
    """Raising one step by ``points`` does what ``leads`` more leads a month would."""

    step: str  # in words: "proposal → customer"
    before: float
    after: float
    leads: float


def levers(*, report: PlanReport, points: float = 0.02) -> list[Lever]:
    """For each step: what raising it by ``points`` (two percentage points) is worth in
    leads a month, at the plan's leads; the biggest first."""
    plan = report.plan
    if plan is None or not plan.months:
        return []
    a = report.assumptions
    monthly = plan.leads / 12
    out = []
    for name, start, end in engine.STEPS:
        value = getattr(a, name).value
        if value is None or value + points > 1:
            continue
        extra = engine.leads_equivalent(a, name, value + points, monthly)
        out.append(Lever(f"{start} → {end}", value, value + points, extra))
    return sorted(out, key=lambda lever: -lever.leads)


@dataclass(frozen=True)
class Accepted:
    written: int  # targets and goals written
    kept: list[str]  # "Customers, Mar 2027": targets typed by hand, kept


def plan_targets(*, report: PlanReport) -> dict[tuple[str, str], Decimal]:
    """The targets the plan gives: {(metric key, "YYYY-MM"): value}. Each metric's year is
    rounded once — counts up to whole ones (a plan of 150.2 customers needs 151), money to
    whole units — and split over the months by the plan's own monthly figures with
    :func:`shares_split`, so the months add up to the year exactly (rounding each month up
    would add up to half a unit a month to the year)."""
    plan = report.plan
    if plan is None or not plan.months:
        return {}
    measured = report.measured
    counts: list[tuple[str, str]] = [("new_leads", "leads"), ("customers", "customers")]
    if measured.qualified is not None:
        counts.append((f"entered_{measured.qualified.key}", "qualified"))
    if measured.proposal is not None:
        counts.append((f"entered_{measured.proposal.key}", "proposals"))
    series: dict[str, tuple[Decimal, list[float]]] = {}
    for key, attribute in counts:
        values = [float(getattr(m, attribute)) for m in plan.months]
        series[key] = (Decimal(math.ceil(sum(values) - 1e-9)), values)
    revenue = [m.revenue for m in plan.months]
    if all(r is not None for r in revenue):
        values = [float(r or 0.0) for r in revenue]
        series["revenue"] = (Decimal(round(sum(values))), values)
    if any(s is not None for m in plan.months for _leads, s in m.by_channel.values()):
        values = [m.spend for m in plan.months]
        series["marketing_spend"] = (Decimal(round(sum(values))), values)
    out: dict[tuple[str, str], Decimal] = {}
    for key, (total, values) in series.items():
        if total <= 0 or sum(values) <= 0:
            continue
        for m, part in zip(plan.months, shares_split(amount=total, weights=values), strict=True):
            out[(key, m.month.isoformat()[:7])] = part
    return out


def plan_accept(
    *, organization: Organization, year: int, by: Membership | None, replace: bool = False
) -> Accepted:
    """Write the stored plan's monthly targets (:func:`plan_targets`), its annual goal, and
    the annual goal of each other metric it sets monthly targets for (the sum of its twelve
    months, so that the grid's months add up to its goal). A target or goal typed by hand
    (not the value this plan wrote last time) is kept unless ``replace``. All or nothing."""
    from keepscore.scorecard.models import Goal, Target
    from keepscore.scorecard.services import goal_set, target_set

    report = plan_report(organization=organization, year=year, with_range=False)
    stored = YearPlan.objects.for_org(organization).filter(year=year).first()
    if stored is None or report.goal is None:
        raise ValidationError({"goal": f"There is no plan for {year} yet: set its goal first."})
    if report.plan is None or not report.plan.months:
        raise ValidationError({"plan": "The plan is missing: " + "; ".join(report.missing)})
    wanted = plan_targets(report=report)
    names = {m.key: m.name for m in _catalogue(organization)}
    existing = {
        (t.metric_key, t.month.isoformat()[:7]): t.value
        for t in Target.objects.for_org(organization).filter(
            month__year=year, metric_key__in={key for key, _m in wanted}
        )
    }
    goal = report.goal
    sums: dict[str, Decimal] = {}
    for (key, _month), value in wanted.items():
        if key != goal.kind:
            sums[key] = sums.get(key, Decimal(0)) + value
    goals = dict(
        Goal.objects.for_org(organization)
        .filter(year=year, metric_key__in=set(sums))
        .values_list("metric_key", "value")
    )
    written: dict[str, str] = {}
    kept: list[str] = []

    def mine(mark: str, have: Decimal | None) -> bool:
        """Whether to write: nothing there, or what this plan wrote last time, or replace."""
        ours = mark in stored.written and have == Decimal(stored.written[mark])
        return have is None or ours or replace

    with transaction.atomic():
        for (key, month), value in wanted.items():
            mark = f"{key}:{month}"
            if not mine(mark, existing.get((key, month))):
                kept.append(f"{names.get(key, key)}, {date.fromisoformat(month + '-01'):%b %Y}")
                continue
            target_set(organization=organization, metric_key=key, month=month, value=value)
            written[mark] = str(value)
        for key, total in sums.items():
            mark = f"{key}:goal"
            if not mine(mark, goals.get(key)):
                kept.append(f"{names.get(key, key)}, the goal of {year}")
                continue
            goal_set(organization=organization, metric_key=key, year=year, value=total)
            written[mark] = str(total)
        goal_set(
            organization=organization,
            metric_key=goal.kind,
            year=year,
            value=Decimal(str(round(goal.amount, 2))),
        )
        stored.written = written
        stored.accepted_at = timezone.now()
        stored.by = by
        stored.save(update_fields=["written", "accepted_at", "by", "updated_at"])
    return Accepted(len(written) + 1, kept)


def _catalogue(organization: Organization) -> list[Any]:
    from keepscore.scorecard.catalogue import metric_catalogue

    return metric_catalogue(organization)


# --- an annual goal spread over its months (the targets grid) --------------------------------

#: the plan's quantity a metric is spread by (the ladder's stages are added by their role)
PLAN_BASIS = {
    "new_leads": "leads",
    "customers": "customers",
    "revenue": "customers",
    "margin": "customers",
    "proposals": "proposals",
    "marketing_spend": "spend",
}
BASIS_WORDS = {
    "leads": "new leads",
    "qualified": "qualified leads",
    "proposals": "proposals",
    "customers": "customers",
    "spend": "marketing spend",
}


@dataclass(frozen=True)
class Spread:
    """A goal's twelve monthly targets and how they were made, in words."""

    months: dict[date, Decimal]
    how: str
    summed: bool = True  # split to add up to the goal (else each month is the goal)


def shares_split(*, amount: Decimal, weights: list[float]) -> list[Decimal]:
    """``amount`` split by ``weights`` (not negative, some above 0) into parts that add up to
    it exactly: in whole units for a whole amount (else in the amount's smallest decimal),
    each part the floor of its exact share, the units left over going to the largest
    remainders (the earlier month on a tie) — the largest-remainder method."""
    if amount == amount.to_integral_value():
        unit = Decimal(1)
    else:
        unit = Decimal(1).scaleb(amount.normalize().as_tuple().exponent)  # type: ignore[arg-type]
    units = int(abs(amount) / unit)
    exact_weights = [Fraction(w) for w in weights]
    total = sum(exact_weights)
    if total <= 0 or any(w < 0 for w in exact_weights):
        raise ValueError("weights must not be negative and some must be above 0")
    exact = [units * w / total for w in exact_weights]
    parts = [math.floor(e) for e in exact]
    left = units - sum(parts)
    for i in sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))[:left]:
        parts[i] += 1
    sign = -1 if amount < 0 else 1
    return [sign * part * unit for part in parts]


def goal_spread(*, organization: Organization, year: int, metric_key: str, amount: Any) -> Spread:
    """The monthly targets of a metric that make its annual goal ``amount``.

    A count or an amount of money (a sum over the year) is split so that the twelve months
    add up to the goal exactly (:func:`shares_split`): by the shares of the year's saved plan
    when there is one — new leads by the plan's leads per month, the qualified stage by its
    qualified leads, proposals by its proposals, customers, revenue and margin by its
    customers, marketing spend by its spend — else evenly. A rate, a percentage, days or a
    ratio of spend is not a sum: its goal is each month's target."""
    from keepscore.common.months import months_of
    from keepscore.scorecard.catalogue import SPEND_RATIOS, metric_get
    from keepscore.scorecard.services import value_check

    metric = metric_get(organization, metric_key, field="metric")
    value = value_check(metric=metric, value=amount, field="goal")
    months = months_of(year)
    if metric.unit not in ("count", "money") or metric.key in SPEND_RATIOS:
        return Spread(
            {m: value for m in months}, "it is not a sum: each month takes the goal", False
        )
    weights = [1.0] * 12
    how = "evenly"
    if YEARS[0] <= year <= YEARS[1] and YearPlan.objects.for_org(organization).filter(year=year):
        try:
            report = plan_report(organization=organization, year=year, with_range=False)
        except ValidationError:
            report = None
        basis = None if report is None else _basis(report, metric.key)
        plan = None if report is None else report.plan
        if basis is None:
            how = f"evenly (the plan of {year} does not plan {metric.name.lower()})"
        elif plan is None or not plan.months:
            how = f"evenly (the plan of {year} is not complete)"
        else:
            planned = [max(float(getattr(m, basis)), 0.0) for m in plan.months]
            if sum(planned) > 0:
                weights = planned
                how = f"by the plan's {BASIS_WORDS[basis]} per month"
    return Spread(dict(zip(months, shares_split(amount=value, weights=weights), strict=True)), how)


def _basis(report: PlanReport, key: str) -> str | None:
    basis = dict(PLAN_BASIS)
    measured = report.measured
    if measured.qualified is not None:
        basis[f"entered_{measured.qualified.key}"] = "qualified"
    if measured.proposal is not None:
        basis[f"entered_{measured.proposal.key}"] = "proposals"
    if measured.won is not None:
        basis[f"entered_{measured.won.key}"] = "customers"
    return basis.get(key)
