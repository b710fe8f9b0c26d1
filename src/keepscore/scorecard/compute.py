"""The scorecard of one month (``scorecard_for``), and its stable JSON (``scorecard_json``).

Every metric of the catalogue with last month, same month last year, target, year to date,
annual goal, pace and trend. ``docs/numbers.md`` ("Scorecard and pace") states each rule.

The figures follow ``keepscore.funnel.selectors`` (the reference implementation), but are read
over the 13 months the scorecard needs (this month back to the same month last year), by
:func:`~keepscore.scorecard.figures.figures_read`: from the organization's summaries when they
are built, otherwise from grouped queries over the stored rows
(:mod:`keepscore.scorecard.row_reads`). Each metric's value over some months is
:func:`~keepscore.scorecard.metric_values.metric_value`.

Units: percentages are fractions 0..1 here (manual values, targets and goals of percent
metrics are stored as points 0..100 and divided by 100); money is a float.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add, months_between
from keepscore.common.periods import Period
from keepscore.funnel import summary
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.stats import RateFigure, rate
from keepscore.scorecard import pace, selectors
from keepscore.scorecard.catalogue import SPEND_KEYS, MetricDef, metric_catalogue
from keepscore.scorecard.figures import Cycles, Figures, figures_read, merge
from keepscore.scorecard.metric_values import (
    ADDITIVE,
    enough,
    manual_is_known,
    metric_value,
    rate_of,
    recorded,
)
from keepscore.scorecard.row_reads import (
    closed_counts,
    first_month,
    monthly_activities,
    monthly_closed,
    monthly_entries,
    monthly_money,
    monthly_new_leads,
    span_closed,
)
from keepscore.scorecard.types import MetricRow, Scorecard

#: months of trend on each row, ending with the scorecard's month
TREND_MONTHS = 12


def _target_goal(value: Decimal | None, metric: MetricDef) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number / 100 if metric.unit == "percent" else number


def _change(value: float | None, previous: float | None) -> float | None:
    if value is None or previous is None:
        return None
    return value - previous


def same_days_comparable(metric: MetricDef) -> bool:
    """Whether a metric is compared over the same days of other months while its month
    runs: the flows of dated events (counts and money, not spend, which is entered by the
    month) and their ratios (close rate, margin %). Cohort conversions and cycles wait
    for the month's end: their leads have not had the same time."""
    if metric.manual or metric.key in SPEND_KEYS:
        return False
    return metric.unit in ADDITIVE or metric.key in ("close_rate", "margin_pct")


def same_days(organization: Organization, month: date, days: int) -> Figures:
    """The flows of the first ``days`` days of ``month`` (its whole length at most), read
    as a whole month's are (the same grouped reads, over a shorter window)."""
    window = Period.first_days(month, days).bounds()
    closed = closed_counts(organization, month, month, window=window)
    counts = merge(
        monthly_new_leads(organization, month, month, window),
        monthly_entries(organization, month, month, window),
        monthly_activities(organization, month, month, window),
        monthly_money(organization, month, month, window),
        monthly_closed(closed),
    )
    return Figures(counts=counts, cohorts={}, closed=closed, cycles=Cycles(), manual={})


def scorecard_for(
    organization: Organization,
    month: date,
    today: date | None = None,
    only: Collection[str] | None = None,
    last_year_same_days: bool = True,
) -> Scorecard:
    """The scorecard of ``month`` (any day of it): every metric of the catalogue, in order
    (``only``: just the metrics with these keys, e.g. the dashboard's few;
    ``last_year_same_days=False``: without the same days of last year, which the dashboard
    does not show).

    While the month runs, its flows are also given for the same days of last month and of
    the same month last year, and the change is against the same days of last month (a
    like-for-like comparison); once it is over, against the whole of last month."""
    month = month.replace(day=1)
    today = today or timezone.localdate()
    ladder = Ladder.of(organization)
    first = month_add(month, -TREND_MONTHS)
    catalogue = [m for m in metric_catalogue(organization) if only is None or m.key in only]
    needs_cycles = any(
        m.key.startswith("sales_cycle") or m.key in ("cost_per_customer", "return_on_spend")
        for m in catalogue
    )
    figures = figures_read(organization, ladder, first, month, cycles=needs_cycles)
    year_months = months_between(date(month.year, 1, 1), month)
    previous, last_year = month_add(month, -1), month_add(month, -12)
    trend_months = [month_add(month, -i) for i in range(TREND_MONTHS - 1, -1, -1)]
    targets = selectors.targets_for(organization=organization, months=[month])
    goals = selectors.goals_for(organization=organization, year=month.year)
    history_start = first_month(organization)
    if figures.summarized:
        ytd_closed = summary.span_closed(organization, year_months[0], month)
    else:
        ytd_closed = span_closed(organization, year_months[0], month, figures.closed)
    day = pace.as_of(month, today)
    days = day.day if month <= day < Period.month(month).end else None
    same: dict[date, Figures] = {}
    if days is not None and any(same_days_comparable(m) for m in catalogue):
        against = (previous, last_year) if last_year_same_days else (previous,)
        same = {m: same_days(organization, m, days) for m in against}
    rows = []
    for metric in catalogue:

        def at(m: date, metric: MetricDef = metric) -> float | None:
            if metric.manual and not manual_is_known(figures, metric, m):
                return None
            return metric_value(figures, metric, [m])

        def shown(m: date, metric: MetricDef = metric) -> float | None:
            """The value when there is enough data for it (else None: no comparison)."""
            return at(m) if enough(figures, metric, [m]) else None

        value = at(month)
        figure: RateFigure | None = None
        if metric.key == "close_rate":
            won, closed = figures.closed.get(month, (0, 0))
            figure = rate(won, closed)
            ytd = rate(*ytd_closed).rate
        else:
            if metric.key.startswith("conversion_"):
                figure = rate_of(figures, metric.key, [month])
            ytd = metric_value(figures, metric, year_months)
        is_enough = enough(figures, metric, [month])
        like: dict[date, float | None] = {}
        if same and same_days_comparable(metric):
            like = {
                m: metric_value(f, metric, [m]) if enough(f, metric, [m]) else None
                for m, f in same.items()
            }
        compared = like.get(previous) if days is not None else shown(previous)
        goal = _target_goal(goals.get(metric.key), metric)
        projected: pace.Projection | None = None
        additive = metric.unit in ADDITIVE and metric.key not in SPEND_KEYS
        if goal is not None and additive and ytd is not None:
            projected = pace.project(
                goal=goal,
                ytd=ytd,
                monthly={m: at(m) for m in months_between(first, month)},
                month=month,
                today=today,
                history_start=history_start,
                count=metric.unit == "count",
                higher_is_better=metric.higher_is_better,
            )
        rows.append(
            MetricRow(
                key=metric.key,
                name=metric.name,
                group=metric.group,
                unit=metric.unit,
                manual=metric.manual,
                value=value,
                previous=at(previous),
                change=_change(value if is_enough else None, compared),
                same_month_last_year=at(last_year),
                target=_target_goal(targets.get((metric.key, month)), metric),
                ytd=ytd,
                goal=goal,
                projection=projected,
                trend=tuple(at(m) for m in trend_months),
                rate=figure,
                higher_is_better=metric.higher_is_better,
                enough=is_enough,
                recorded=recorded(figures, metric, [month]),
                previous_same_days=like.get(previous),
                last_year_same_days=like.get(last_year),
            )
        )
    return Scorecard(
        organization=organization.name,
        slug=organization.slug,
        month=month,
        rows=tuple(rows),
        reviews=tuple(selectors.reviews_for(organization=organization, month=month)),
        generated_at=timezone.now(),
        extra={"today": today},
        days=days,
        currency=organization.currency,
        number_locale=organization.number_locale,
    )


def scorecard_json(scorecard: Scorecard) -> dict[str, Any]:
    """The stable JSON of a scorecard (the CLI's ``--format json`` and the API). The
    whole-month fields stay as they are while the month runs; ``month_to_date`` says how
    many of its days have passed and each flow's ``*_same_days`` fields compare like for
    like (README, "Scorecard")."""
    return {
        "organization": scorecard.organization,
        "month": f"{scorecard.month:%Y-%m}",
        "currency": scorecard.currency,
        "month_to_date": None
        if scorecard.days is None
        else {"days": scorecard.days, "of_days": scorecard.days_in_month},
        "metrics": [
            {
                "key": r.key,
                "group": r.group,
                "name": r.name,
                "unit": r.unit,
                "value": r.value,
                "enough": r.enough,
                "recorded": r.recorded,
                "previous": r.previous,
                "previous_same_days": r.previous_same_days,
                "change": r.change,
                "same_month_last_year": r.same_month_last_year,
                "same_month_last_year_same_days": r.last_year_same_days,
                "target": r.target,
                "ytd": r.ytd,
                "goal": r.goal,
                "projected_year_end": r.projected_year_end,
                "projected_low": r.projected_low,
                "projected_high": r.projected_high,
                "pace": r.pace,
                "run_rate": r.projection.run_rate if r.projection else None,
                "run_months": [f"{m:%Y-%m}" for m in r.projection.run_months]
                if r.projection
                else [],
                "months_left": r.projection.months_left if r.projection else None,
                "k": r.rate.k if r.rate else None,
                "n": r.rate.n if r.rate else None,
                "ci_low": r.rate.ci_low if r.rate else None,
                "ci_high": r.rate.ci_high if r.rate else None,
            }
            for r in scorecard.rows
        ],
        "reviews": [
            {"kind": e.kind, "text": e.text, "by": e.by, "at": e.at.isoformat()}
            for e in scorecard.reviews
        ],
    }
