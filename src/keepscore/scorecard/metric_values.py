"""The value of one metric over some months, from the figures; whether recorded and enough.

Sums, rates, the sales cycle's quantiles, margin, spend ratios and manual values; whether what
the value rests on was recorded, and whether it rests on enough data to be shown.

Units: percentages are fractions 0..1 here (manual values of percent metrics are stored as
points 0..100 and divided by 100); money is a float.
"""

from __future__ import annotations

from datetime import date

from keepscore.funnel import stats
from keepscore.funnel.stats import RateFigure, rate
from keepscore.scorecard.catalogue import SPEND_KEYS, SPEND_RATIOS, MetricDef
from keepscore.scorecard.figures import CYCLE_QUANTILES, Figures

ADDITIVE = ("count", "money")


def _count(figures: Figures, key: str, month: date) -> float:
    return float(figures.counts.get(month, {}).get(key, 0))


def rate_of(figures: Figures, key: str, months: list[date]) -> RateFigure:
    """The rate over ``months`` (conversions: the cohorts add up; close rate: monthly)."""
    if key == "close_rate":
        pairs = [figures.closed.get(m, (0, 0)) for m in months]
    else:
        pairs = [figures.cohorts.get(m, {}).get(key, (0, 0)) for m in months]
    return rate(sum(k for k, _n in pairs), sum(n for _k, n in pairs))


def _cycle(figures: Figures, key: str, months: list[date]) -> float | None:
    q = CYCLE_QUANTILES[0] if key == "sales_cycle_median" else CYCLE_QUANTILES[1]
    return figures.cycles.quantile(months, q)


def _margin(figures: Figures, months: list[date]) -> float | None:
    """The margin of the months' deals whose cost was recorded: 0 without deals, None when
    there were deals but no cost was recorded for any."""
    if not any(_count(figures, "deals", m) for m in months):
        return 0.0
    if not _costed(figures, months):
        return None
    return sum(_count(figures, "margin", m) for m in months)


def _costed(figures: Figures, months: list[date]) -> bool:
    return any(_count(figures, "costed", m) for m in months)


def _margin_pct(figures: Figures, months: list[date]) -> float | None:
    """Margin / revenue of the deals whose cost was recorded."""
    revenue = sum(_count(figures, "costed_revenue", m) for m in months)
    margin = _margin(figures, months)
    return margin / revenue if margin is not None and revenue else None


def _spend_ratio(figures: Figures, key: str, months: list[date]) -> float | None:
    """Cost per lead, cost per customer or return on spend over the months, from the sums of
    the months (never a mean of monthly ratios). None ("not recorded") unless spend was
    recorded for every month (a month without spend is unknown, not free), or when the
    denominator is 0."""
    if not _spend_recorded(figures, months):
        return None
    spend = sum(_count(figures, "spend", m) for m in months)
    if key == "return_on_spend":
        margin = _margin(figures, months)
        return (margin - spend) / spend if spend and margin is not None else None
    if key == "cost_per_lead":
        leads = sum(_count(figures, "new_leads", m) for m in months)
        return spend / leads if leads else None
    # cost per customer: the leads won for the first time (the sales cycle's first wins)
    customers = _first_wins(figures, months)
    return spend / customers if customers else None


def _first_wins(figures: Figures, months: list[date]) -> int:
    return figures.cycles.count(months)


def recorded(figures: Figures, metric: MetricDef, months: list[date]) -> bool:
    """Whether what the metric is computed from was recorded over the months: the spend
    ratios need spend entered for every month (none entered is unknown, not free); the
    margin, margin % and return on spend a deal whose cost was recorded (a deal without one
    is unknown, not free)."""
    if metric.key in SPEND_KEYS and not _spend_recorded(figures, months):
        return False
    if metric.key in ("margin", "margin_pct", "return_on_spend"):
        return _costed(figures, months) or not any(_count(figures, "deals", m) for m in months)
    return True


def _spend_recorded(figures: Figures, months: list[date]) -> bool:
    return bool(months) and all("spend" in figures.counts.get(m, {}) for m in months)


def enough(figures: Figures, metric: MetricDef, months: list[date]) -> bool:
    """Whether the metric's value over the months rests on enough data to be shown (else
    "not enough data": no value, no change, no colour). One rule per figure, for every
    page, file and API: rates need ``min_n`` leads (``RateFigure.enough``); the sales
    cycle's quantiles :data:`~keepscore.funnel.stats.MIN_QUANTILE_N` first wins; return on
    spend :data:`~keepscore.funnel.stats.MIN_CUSTOMERS` customers (first wins). Counts,
    money and plain divisions (cost per lead, per customer, margin %) always do."""
    key = metric.key
    if metric.manual:
        return True
    if key == "close_rate" or key.startswith("conversion_"):
        return rate_of(figures, key, months).enough
    if key.startswith("sales_cycle_"):
        return _first_wins(figures, months) >= stats.MIN_QUANTILE_N
    if key == "return_on_spend":
        return _first_wins(figures, months) >= stats.MIN_CUSTOMERS
    return True


def _manual(figures: Figures, metric: MetricDef, months: list[date]) -> float | None:
    """A manual metric over months: the value of one month; a sum (count, money) or a mean
    (other units) of the months that have one. Percentages become fractions."""
    values = [figures.manual[m][metric.key] for m in months if metric.key in figures.manual[m]]
    if not values:
        return None
    total = sum(values) if metric.unit in ADDITIVE else sum(values) / len(values)
    return total / 100 if metric.unit == "percent" else total


def metric_value(figures: Figures, metric: MetricDef, months: list[date]) -> float | None:
    """The metric over one month or several (year to date): sums for counts and money, rates
    and quantiles recomputed over the months."""
    key = metric.key
    if metric.manual:
        return _manual(figures, metric, months)
    if key == "close_rate" or key.startswith("conversion_"):
        return rate_of(figures, key, months).rate
    if key.startswith("sales_cycle_"):
        return _cycle(figures, key, months)
    if key == "margin_pct":
        return _margin_pct(figures, months)
    if key == "margin":
        return _margin(figures, months)
    if key in SPEND_RATIOS:
        return _spend_ratio(figures, key, months)
    if key == "marketing_spend":
        recorded = _spend_recorded(figures, months)
        return sum(_count(figures, "spend", m) for m in months) if recorded else None
    return sum(_count(figures, key, m) for m in months)


def manual_is_known(figures: Figures, metric: MetricDef, month: date) -> bool:
    return metric.key in figures.manual.get(month, {})
