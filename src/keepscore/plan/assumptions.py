"""The plan's inputs, checked: a goal (kind and amount), a year, and the assumptions an owner
sets by hand over the measured ones (rates, deal value, margin, cycle, each channel's share
and cost per lead), and the assumptions they give."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.plan import engine
from keepscore.plan.engine import GOAL_KINDS, Assumptions, Goal
from keepscore.plan.measure import Measured

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


def plan_year_check(year: int) -> int:
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValidationError({"year": f"Choose a year from {YEARS[0]} to {YEARS[1]}."})
    return year
