"""What the focus diagnosis reads, once: the months, their counts, cohorts and cycle (Reads).

:func:`reads` reads everything the indicators are computed from for one date, as it stood at
the end of that date: the complete months of the history, each month's counts, the cohorts'
conversion within a window, the leads reaching the qualified stage, each open stage's rate
of reaching won, and the sales cycle. The late stages (where a lead waiting more than
``STALL_DAYS`` is stalled) come from the ladder.

Today's diagnosis of an organization whose summaries are built reads the summaries
(``keepscore.funnel.summary``); any other date (or unbuilt summaries) reads the stage
history itself, cut at the date. Both give the same answer for today (tested).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.days import day_start
from keepscore.common.months import month_add, month_of
from keepscore.common.periods import Period
from keepscore.funnel import stats, summary
from keepscore.funnel.ladder import (
    Ladder,
    observed_dates,
    reach_dates,
    reached_after,
    stage_history,
)
from keepscore.funnel.models import ENTRY, WINDOWS, CohortCount, ReachCount
from keepscore.leads.late import late_stage_indexes
from keepscore.leads.late import qualified_index as qualified_stage
from keepscore.leads.models import StageKind
from keepscore.scorecard.figures import figures_read

#: complete months the trends and rates look back over
HISTORY_MONTHS = 12
#: the recent months compared with the rest of the history
RECENT_MONTHS = 3
#: won deals in the history below which the cycle and margins are judged with low confidence
FEW_DEALS = 5


@dataclass(frozen=True)
class Cycle:
    """The sales cycle of some first wins: how many, and their median and 80th percentile
    in days (None without any)."""

    count: int
    median: float | None
    p80: float | None


@dataclass
class Reads:
    """Everything the indicators are computed from, read once."""

    as_of: date
    until: datetime  # the end of ``as_of``: rows at or after it are left out
    ladder: Ladder
    months: list[date]  # the complete months of the history, oldest first
    window: int  # days a cohort is given to convert (from WINDOWS)
    mature: list[date]  # the months whose cohorts had the whole window to convert
    counts: dict[date, dict[str, float]]  # figures_read's monthly counts
    conversion: dict[date, tuple[int, int]]  # first stage → won within the window: (k, n)
    qualified: dict[date, int]  # leads reaching the qualified stage, per month
    won_rates: dict[int, tuple[int, int]]  # open stage index → (reached won, reached) mature
    cycle: Cycle  # the sales cycle of the history's first wins
    qualified_index: int | None
    late: list[int]  # the late open stages (indexes)
    summarized: bool
    pipeline: tuple[float, int, int] | None = None  # _weighted_pipeline's, once read


def end_of(day: date) -> datetime:
    """The first moment after ``day`` (local): the end of a day read as of it."""
    return day_start(day + timedelta(days=1))


def _window_for(p80_days: float | None) -> int:
    """The smallest window of WINDOWS (at least 30 days) that holds the 80th-percentile
    sales cycle; 90 days without one."""
    if p80_days is None:
        return 90
    for days in WINDOWS:
        if days >= 30 and days >= p80_days:
            return days
    return WINDOWS[-1]


def _cycle(organization: Organization, months: list[date], summarized: bool) -> Cycle:
    """From the summaries: the first wins counted by day, then the quantiles' one or two
    first wins each (not every first win of the history); else from the days of the first
    wins."""
    if summarized:
        span = (months[0], months[-1])
        by_day = summary.CycleDays(organization, *span)
        found = by_day.quantiles([span], [0.5, 0.8]).get(span, {})
        return Cycle(by_day.count(*span), found.get(0.5), found.get(0.8))
    from keepscore.funnel.selectors import sales_cycle

    days = sales_cycle(
        organization=organization, period=Period(months[0], Period.month(months[-1]).end)
    ).days
    return Cycle(len(days), stats.median(days), stats.quantile(days, 0.8))


def _summary_cohorts(
    organization: Organization, ladder: Ladder, months: list[date], window: int
) -> tuple[dict[date, dict[tuple[int, int], tuple[int, int]]]]:
    """``{month: {(a, b): (k_ever, k_window)}}`` from CohortCount, by ladder index (-1: the
    funnel's entry cohort)."""
    index = {s.pk: i for i, s in enumerate(ladder.stages)}
    index[ENTRY] = -1
    out: dict[date, dict[tuple[int, int], tuple[int, int]]] = defaultdict(dict)
    for row in (
        CohortCount.objects.filter(
            organization=organization, month__gte=months[0], month__lte=months[-1]
        )
        .values("month", "stage_a", "stage_b")
        .order_by()
        .annotate(k=Sum("k_ever"), kw=Sum(f"k_{window}"))
    ):
        a, b = index.get(row["stage_a"]), index.get(row["stage_b"])
        if a is not None and b is not None:
            out[row["month"]][(a, b)] = (int(row["k"] or 0), int(row["kw"] or 0))
    return (out,)


def _summary_reach(
    organization: Organization, ladder: Ladder, months: list[date], stage: int | None
) -> dict[date, int]:
    """``{month: leads}`` whose reach of the stage (by index) is in the month (ReachCount)."""
    if stage is None:
        return {}
    return {
        row["month"]: int(row["n"])
        for row in ReachCount.objects.filter(
            organization=organization,
            month__gte=months[0],
            month__lte=months[-1],
            stage=ladder.stages[stage].pk,
        )
        .values("month")
        .order_by()
        .annotate(n=Sum("reached"))
    }


def reads(organization: Organization, as_of: date) -> Reads:
    ladder = Ladder.of(organization)
    until = end_of(as_of)
    this_month = as_of.replace(day=1)
    months = [month_add(this_month, -i) for i in range(HISTORY_MONTHS, 0, -1)]
    summarized = summary.ready(organization) and as_of >= timezone.localdate()
    figures = figures_read(organization, ladder, months[0], this_month, cycles=False)
    cycle = _cycle(organization, months, summarized)
    window = _window_for(cycle.p80 if cycle.count >= FEW_DEALS else None)
    mature = [m for m in months if end_of(Period.month(m).end) + timedelta(days=window) <= until]
    climbing = ladder.climbing
    first = climbing[0] if climbing else None
    won = next((i for i, s in enumerate(ladder.stages) if s.kind == StageKind.WON), None)
    qualified_index = qualified_stage(ladder.stages)
    late = late_stage_indexes(ladder.stages)
    open_stages = [i for i, s in enumerate(ladder.stages) if s.kind == StageKind.OPEN]
    conversion: dict[date, tuple[int, int]] = {}
    qualified: dict[date, int] = {}
    won_rates: dict[int, tuple[int, int]] = {}
    if first is not None and won is not None:
        if summarized:
            (cohorts,) = _summary_cohorts(organization, ladder, months, window)
            reached = _summary_reach(organization, ladder, months, qualified_index)
            for m in months:
                row = cohorts.get(m, {})
                # the overall conversion: every lead entering the funnel in the month
                n = row.get((-1, -1), (0, 0))[0]
                conversion[m] = (row.get((-1, won), (0, 0))[1], n)
                if qualified_index is not None:
                    qualified[m] = reached.get(m, 0)
            for s in open_stages:
                k = sum(cohorts.get(m, {}).get((s, won), (0, 0))[0] for m in mature)
                n = sum(cohorts.get(m, {}).get((s, s), (0, 0))[0] for m in mature)
                won_rates[s] = (k, n)
        else:
            conversion, qualified, won_rates = _reference_cohorts(
                organization, ladder, months, mature, window, until, first, won, qualified_index
            )
    return Reads(
        as_of=as_of,
        until=until,
        ladder=ladder,
        months=months,
        window=window,
        mature=mature,
        counts={m: dict(figures.counts.get(m, {})) for m in [*months, this_month]},
        conversion=conversion,
        qualified=qualified,
        won_rates=won_rates,
        cycle=cycle,
        qualified_index=qualified_index,
        late=late,
        summarized=summarized,
    )


def _reference_cohorts(
    organization: Organization,
    ladder: Ladder,
    months: list[date],
    mature: list[date],
    window: int,
    until: datetime,
    first: int,
    won: int,
    qualified_index: int | None,
) -> tuple[dict[date, tuple[int, int]], dict[date, int], dict[int, tuple[int, int]]]:
    """The cohorts from the stage history cut at ``until`` (as the summaries count them)."""
    within = timedelta(days=window)
    wanted = set(months)
    matured = set(mature)
    conversion: dict[date, list[int]] = {m: [0, 0] for m in months}
    qualified: dict[date, int] = dict.fromkeys(months, 0)
    open_stages = [i for i, s in enumerate(ladder.stages) if s.kind == StageKind.OPEN]
    tally: dict[int, list[int]] = {s: [0, 0] for s in open_stages}
    for history in stage_history(organization, ladder, until=until).values():
        reach = reach_dates(history, ladder)
        seen = observed_dates(history, ladder)
        since = history[0][0]  # the overall conversion: from the lead's entry
        if (m := month_of(since)) in wanted:
            conversion[m][1] += 1
            if reached_after(history, ladder, won, since, within):
                conversion[m][0] += 1
        if qualified_index is not None:
            at = reach[qualified_index]
            if at is not None and (m := month_of(at)) in wanted:
                qualified[m] += 1
        for s in open_stages:
            at = seen[s]  # the leads observed at the stage (not those that skipped it)
            if at is not None and month_of(at) in matured:
                tally[s][1] += 1
                if reached_after(history, ladder, won, at, None):
                    tally[s][0] += 1
    return (
        {m: (k, n) for m, (k, n) in conversion.items()},
        qualified,
        {s: (k, n) for s, (k, n) in tally.items()},
    )


def summed(r: Reads, key: str, months: list[date]) -> float:
    """A monthly count (``figures_read``'s key) summed over the months."""
    return sum(float(r.counts.get(m, {}).get(key, 0)) for m in months)


def conversion_over(r: Reads, months: list[date]) -> tuple[int, int]:
    """The months' cohorts: (won within the window, entered the funnel), summed."""
    k = sum(r.conversion.get(m, (0, 0))[0] for m in months)
    n = sum(r.conversion.get(m, (0, 0))[1] for m in months)
    return k, n
