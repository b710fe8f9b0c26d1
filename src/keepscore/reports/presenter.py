"""How a scorecard row reads, decided once for every door: the web page and the dashboard,
the PDF and the command line show these texts; the CSV, XLSX and JSON carry the same
decisions as raw values (None where a text says "not enough data" or "not recorded").

Rules (docs/numbers.md, "Scorecard and pace"):

- a value that rests on too little data reads "not enough data" — no number, no change, no
  arrow, no colour — and a rate keeps its k of n;
- a value whose inputs were never recorded (spend, a deal's cost) reads "not recorded",
  never 0 or 100%;
- while the month runs, the change is against the same days of last month, and says so;
- the pace says its verdict and the sum a person can check: year to date + run rate x
  months left = projection, with its 95% interval.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.utils import dateformat

from keepscore.economics.channels import ChannelRow
from keepscore.funnel.filters import rate_text
from keepscore.reports.charts import DASH, format_value
from keepscore.scorecard.pace import PACE_LABELS
from keepscore.scorecard.types import MetricRow, Scorecard

NOT_ENOUGH = "not enough data"
NOT_RECORDED = "not recorded"


@dataclass(frozen=True)
class RowText:
    value: str  # the number, "not enough data" or "not recorded"
    state: str  # "", "nodata" or "notrecorded"
    counts: str  # a rate's "k of n" ("" for others)
    interval: str  # a rate's "95% CI 40-70%" ("" without one)
    previous: str
    last_year: str
    target: str
    ytd: str
    goal: str
    change: str  # "" when there is nothing to compare
    arrow: str  # "▲", "▼" or ""
    tone: str  # "good", "bad" or "none"
    previous_same_days: str  # while the month runs ("" once over)
    last_year_same_days: str
    pace: str  # "On track", …; "" without a goal
    projection: str  # the pace's sum, or why there is none


def compared_with(card: Scorecard) -> str:
    """What the change compares with: ``vs 1-2 Nov`` while the month runs (the same
    days), ``vs last month`` once it is over."""
    if card.days is None:
        return "vs last month"
    previous = _month_before(card.month)
    last = min(card.days, calendar.monthrange(previous.year, previous.month)[1])
    span = "1" if last == 1 else f"1{DASH}{last}"
    return f"vs {span} {dateformat.format(previous, 'M')}"


def month_to_date(card: Scorecard) -> str:
    """``month to date, 2 of 31 days`` while the month runs; "" once it is over."""
    if card.days is None:
        return ""
    day = "day" if card.days == 1 else "days"
    return f"month to date, {card.days} of {card.days_in_month} {day}"


def _month_before(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def projection_text(row: MetricRow) -> str:
    """``140 so far + 14.2 a month (Jun-Nov) x 0.9 months left = 153 (95%: 145-161)``."""
    p = row.projection
    if p is None:
        return ""
    if p.year_end is None or p.run_rate is None:
        return "fewer than 3 whole months of history: no projection yet"
    unit = row.unit
    months = ""
    if p.run_months:
        first, last = p.run_months[0], p.run_months[-1]
        months = f" ({dateformat.format(first, 'M')}{DASH}{dateformat.format(last, 'M')})"
    # a count's run rate keeps a decimal (14.2 a month), not a count's rounding
    rate = f"{p.run_rate:,.1f}" if unit == "count" else format_value(p.run_rate, unit)
    text = (
        f"{format_value(p.ytd, unit)} so far + {rate} a month{months}"
        f" \u00d7 {p.months_left:.1f} months left = {format_value(p.year_end, unit)}"
    )
    if p.low is not None and p.high is not None:
        low, high = format_value(p.low, unit), format_value(p.high, unit)
        text += f" (95%: {low}{DASH}{high})"
    return text


def projection_short(row: MetricRow) -> str:
    """``proj. 153 (145-161)``: the projection and its interval, for narrow columns."""
    p = row.projection
    if p is None or p.year_end is None:
        return ""
    text = f"proj. {format_value(p.year_end, row.unit)}"
    if p.low is not None and p.high is not None:
        low = format_value(p.low, row.unit, short=True)
        text += f" ({low}{DASH}{format_value(p.high, row.unit, short=True)})"
    return text


#: how a projection is made, for a page that shows it short
PROJECTION_RULE = (
    "Projected year end = year to date + the mean of the last 6 whole months times the "
    "months left, with its 95% interval (docs/numbers.md, “Pace”)."
)


def row_text(row: MetricRow) -> RowText:
    unit = row.unit
    rate = row.rate
    counts = interval = ""
    if rate is not None:
        counts = f"{rate.k:,} of {rate.n:,}"
        if rate.ci_low is not None and rate.ci_high is not None:
            low = format_value(rate.ci_low, "percent").rstrip("%")
            interval = f"95% CI {low}{DASH}{format_value(rate.ci_high, 'percent')}"
    if not row.enough:
        value, state = NOT_ENOUGH, "nodata"
    elif row.value is None and not row.recorded:
        value, state = NOT_RECORDED, "notrecorded"
    else:
        value, state = format_value(row.value, unit), ""
    change, arrow, tone = "", "", "none"
    if row.change is not None:
        change = format_value(row.change, unit, signed=True)
        if row.change:
            arrow = "\u25b2" if row.change > 0 else "\u25bc"
            tone = "good" if (row.change > 0) == row.higher_is_better else "bad"
    return RowText(
        value=value,
        state=state,
        counts=counts,
        interval=interval,
        previous=format_value(row.previous, unit),
        last_year=format_value(row.same_month_last_year, unit),
        target=format_value(row.target, unit),
        ytd=format_value(row.ytd, unit),
        goal=format_value(row.goal, unit),
        change=change,
        arrow=arrow,
        tone=tone,
        previous_same_days=_or_blank(row.previous_same_days, unit),
        last_year_same_days=_or_blank(row.last_year_same_days, unit),
        pace=PACE_LABELS.get(row.pace or "", ""),
        projection=projection_text(row),
    )


def _or_blank(value: float | None, unit: str) -> str:
    return "" if value is None else format_value(value, unit)


# --- channel economics ------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelText:
    """A channel economics row as every door shows it: the web table and chart, the CLI."""

    spend: str
    leads: str
    qualified: str
    customers: str
    conversion: str
    revenue: str
    cost: str
    margin: str
    margin_pct: str
    cost_per_lead: str
    cost_per_customer: str
    return_on_spend: str
    payback: str
    reason: str  # why return on spend and payback are "not enough data" ("" when shown)


def _money(value: Decimal | None) -> str:
    return format_value(None if value is None else float(value), "money")


def channel_text(row: ChannelRow) -> ChannelText:
    """Missing is not zero: what needs spend reads "not recorded" when none was recorded,
    the margin when no won deal has a cost. Return on spend and payback rest on the margin
    of few deals: "not enough data" below the minimum customers. Plain divisions of recorded
    totals (cost per lead, per customer) are always shown."""

    def needs_spend(text: str) -> str:
        return NOT_RECORDED if row.spend is None else text

    def returns(value: float | None, unit: str) -> str:
        if row.spend is None or row.margin is None:
            return NOT_RECORDED
        if row.too_small and value is not None:
            return NOT_ENOUGH
        return format_value(value, unit)

    margin = NOT_RECORDED if row.margin is None else _money(row.margin)
    return ChannelText(
        spend=needs_spend(_money(row.spend)),
        leads=format_value(row.leads, "count"),
        qualified=format_value(row.qualified, "count"),
        customers=format_value(row.customers, "count"),
        conversion=rate_text(row.conversion),
        revenue=_money(row.revenue),
        cost=_money(row.cost),
        margin=margin,
        margin_pct=NOT_RECORDED if row.margin is None else format_value(row.margin_pct, "percent"),
        cost_per_lead=needs_spend(_money(row.cost_per_lead)),
        cost_per_customer=needs_spend(_money(row.cost_per_customer)),
        return_on_spend=returns(row.return_on_spend, "percent"),
        payback=returns(row.payback_months, "number"),
        reason=row.too_small_reason,
    )
