"""Focus: where to put the effort now — sales, marketing, margins or cash — with the evidence.

:func:`diagnose` answers PRODUCT.md's five questions and tests its indicators for one date,
from the organization's data as it stood at the end of that date. Every indicator has a
status (``alert``: it pushes toward its side; ``watch``: worth a look, it does not push;
``ok``; ``info``: an answer that pushes nowhere; ``missing``: the data to judge is not
there), its numbers (``evidence``), a confidence and one plain sentence. The rules and
thresholds are in docs/focus.md; the trend tests in :mod:`keepscore.focus.trends`.

The recommendation, in order: not enough data → ``not_enough_data`` (and what is missing);
a cash alert → ``cash``; a margins alert → ``margins``; else the side with more alerts
(``sales`` or ``marketing``), ``balanced`` when neither has more.

Reads: today's diagnosis of an organization whose summaries are built reads the summaries
(``keepscore.funnel.summary``); any other date (or unbuilt summaries) reads the stage
history itself, cut at the date. Both give the same answer for today (tested).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, Objection
from keepscore.common.money import money_format
from keepscore.focus import trends
from keepscore.focus.models import KeptDiagnosis
from keepscore.funnel import stats, summary
from keepscore.funnel.models import ENTRY, WINDOWS, CohortCount, FirstWin, MonthCount, ReachCount
from keepscore.funnel.services import (
    Ladder,
    Period,
    min_n,
    observed_dates,
    rate,
    reach_dates,
    reached_after,
    stage_history,
)
from keepscore.funnel.summary.sql import next_month
from keepscore.leads.models import DealOutcome, Lead, Stage, StageKind
from keepscore.scorecard import compute
from keepscore.scorecard import services as scorecard_services

#: complete months the trends and rates look back over
HISTORY_MONTHS = 12
#: the recent months compared with the rest of the history
RECENT_MONTHS = 3
#: days at a late stage after which an open lead counts as stalled
STALL_DAYS = 21
#: stalled late-stage leads that make an alert
STALL_ALERT = 5
#: won deals in the history below which the cycle and margins are judged with low confidence
FEW_DEALS = 5
DAYS_PER_MONTH = 365.25 / 12
#: the recommendations, and the indicator statuses
RECOMMENDATIONS = ("sales", "marketing", "margins", "cash", "balanced", "not_enough_data")
LABELS = {
    "sales": "Focus on sales",
    "marketing": "Focus on marketing",
    "margins": "Fix the margins",
    "cash": "Mind the cash",
    "balanced": "Balanced: keep the rhythm",
    "not_enough_data": "Not enough data yet",
}
STATUSES = ("alert", "watch", "ok", "info", "missing")
SIDES = ("sales", "marketing", "margins", "cash")


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str
    question: int | None  # 1…5: which of the five questions it answers; None: an indicator
    status: str  # one of STATUSES
    pushes: str | None  # the side an alert pushes toward (one of SIDES), None: none
    value: float | None  # the headline number (unit below)
    unit: str  # "count", "percent" (a fraction), "days", "months", "money", "ratio"
    confidence: str  # "high", "medium", "low", "none"
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "question": self.question,
            "status": self.status,
            "pushes": self.pushes,
            "value": self.value,
            "unit": self.unit,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class Diagnosis:
    organization: str
    slug: str
    as_of: date
    recommendation: str  # one of RECOMMENDATIONS
    confidence: str  # "high", "medium", "low", "none"
    sentence: str
    indicators: tuple[Indicator, ...]
    missing: tuple[str, ...] = ()
    scores: dict[str, int] = field(default_factory=dict)
    currency: str = ""  # the organization's, ISO 4217: what the evidence's money is in

    def indicator(self, key: str) -> Indicator:
        return next(i for i in self.indicators if i.key == key)

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON (``keepscore focus --format json``, ``GET /api/v1/focus``)."""
        return {
            "organization": self.slug,
            "currency": self.currency,
            "as_of": self.as_of.isoformat(),
            "recommendation": self.recommendation,
            "confidence": self.confidence,
            "sentence": self.sentence,
            "missing": list(self.missing),
            "scores": dict(self.scores),
            "indicators": [i.as_dict() for i in self.indicators],
        }


# --- what is read ---------------------------------------------------------------------------


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
    counts: dict[date, dict[str, float]]  # compute.figures_read's monthly counts
    conversion: dict[date, tuple[int, int]]  # first stage → won within the window: (k, n)
    qualified: dict[date, int]  # leads reaching the qualified stage, per month
    won_rates: dict[int, tuple[int, int]]  # open stage index → (reached won, reached) mature
    cycle: Cycle  # the sales cycle of the history's first wins
    qualified_index: int | None
    late: list[int]  # the late open stages (indexes)
    summarized: bool
    pipeline: tuple[float, int, int] | None = None  # _weighted_pipeline's, once read


def _end_of(day: date) -> datetime:
    zone = timezone.get_current_timezone()
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)


def _window_for(p80_days: float | None) -> int:
    """The smallest window of WINDOWS (at least 30 days) that holds the 80th-percentile
    sales cycle; 90 days without one."""
    if p80_days is None:
        return 90
    for days in WINDOWS:
        if days >= 30 and days >= p80_days:
            return days
    return WINDOWS[-1]


def _qualified_index(organization: Organization, ladder: Ladder) -> int | None:
    gated = [
        i
        for i, s in enumerate(ladder.stages)
        if s.requires_qualification and s.kind == StageKind.OPEN
    ]
    if gated:
        return gated[0]
    keyed = [i for i, s in enumerate(ladder.stages) if s.key == "qualified"]
    return keyed[0] if keyed else None


def late_stage_indexes(organization: Organization, ladder: Ladder) -> list[int]:
    """The late stages: the open stages from the qualified one on (the first gated open
    stage, else the one keyed "qualified"), else the last two open stages."""
    qualified_index = _qualified_index(organization, ladder)
    open_stages = [i for i, s in enumerate(ladder.stages) if s.kind == StageKind.OPEN]
    if qualified_index is not None:
        return [i for i in open_stages if i >= qualified_index]
    return open_stages[-2:]


def late_stages(organization: Organization) -> list[Stage]:
    """The late stages' Stage rows (where a lead waiting more than STALL_DAYS is stalled)."""
    ladder = Ladder.of(organization)
    return [ladder.stages[i] for i in late_stage_indexes(organization, ladder)]


def _cycle(organization: Organization, months: list[date], summarized: bool) -> Cycle:
    """From the summaries: the first wins counted by day, then the quantiles' one or two
    first wins each (not every first win of the history); else from the days of the first
    wins."""
    if summarized:
        span = (months[0], months[-1])
        by_day = summary.CycleDays(organization, *span)
        found = by_day.quantiles([span], [0.5, 0.8]).get(span, {})
        return Cycle(by_day.count(*span), found.get(0.5), found.get(0.8))
    from keepscore.funnel.services import sales_cycle

    days = sales_cycle(organization, Period(months[0], Period.month(months[-1]).end)).days
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


def _month_of(at: datetime) -> date:
    return timezone.localtime(at).date().replace(day=1)


def reads(organization: Organization, as_of: date) -> Reads:
    ladder = Ladder.of(organization)
    until = _end_of(as_of)
    this_month = as_of.replace(day=1)
    months = [compute.month_add(this_month, -i) for i in range(HISTORY_MONTHS, 0, -1)]
    summarized = summary.ready(organization) and as_of >= timezone.localdate()
    figures = compute.figures_read(organization, ladder, months[0], this_month, cycles=False)
    cycle = _cycle(organization, months, summarized)
    window = _window_for(cycle.p80 if cycle.count >= FEW_DEALS else None)
    mature = [m for m in months if _end_of(Period.month(m).end) + timedelta(days=window) <= until]
    climbing = ladder.climbing
    first = climbing[0] if climbing else None
    won = next((i for i, s in enumerate(ladder.stages) if s.kind == StageKind.WON), None)
    qualified_index = _qualified_index(organization, ladder)
    late = late_stage_indexes(organization, ladder)
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
        if (m := _month_of(since)) in wanted:
            conversion[m][1] += 1
            if reached_after(history, ladder, won, since, within):
                conversion[m][0] += 1
        if qualified_index is not None:
            at = reach[qualified_index]
            if at is not None and (m := _month_of(at)) in wanted:
                qualified[m] += 1
        for s in open_stages:
            at = seen[s]  # the leads observed at the stage (not those that skipped it)
            if at is not None and _month_of(at) in matured:
                tally[s][1] += 1
                if reached_after(history, ladder, won, at, None):
                    tally[s][0] += 1
    return (
        {m: (k, n) for m, (k, n) in conversion.items()},
        qualified,
        {s: (k, n) for s, (k, n) in tally.items()},
    )


# --- helpers ------------------------------------------------------------------------------


def _confidence(n: int) -> str:
    """How sure a finding is from the size of its sample."""
    if n >= 4 * min_n():
        return "high"
    if n >= min_n():
        return "medium"
    if n > 0:
        return "low"
    return "none"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"


def _p(p: float | None) -> str:
    if p is None:
        return "p not testable"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _sum(r: Reads, key: str, months: list[date]) -> float:
    return sum(float(r.counts.get(m, {}).get(key, 0)) for m in months)


def _share_change(recent: float, before: float) -> float | None:
    return (recent - before) / before if before else None


# --- the five questions -----------------------------------------------------------------


def cash_runway(organization: Organization, r: Reads) -> Indicator:
    """1. How long is the sales cycle, and is there the cash to wait for it?"""
    from keepscore.economics.models import CashPosition

    median, p80 = r.cycle.median, r.cycle.p80
    position = (
        CashPosition.objects.for_org(organization)
        .filter(month__lte=r.as_of.replace(day=1))
        .order_by("-month")
        .first()
    )
    evidence: dict[str, Any] = {
        "cycle_median_days": median,
        "cycle_p80_days": p80,
        "won_deals": r.cycle.count,
        "cash_month": position.month.isoformat() if position else None,
        "cash_on_hand": float(position.cash_on_hand) if position else None,
        "monthly_fixed_costs": float(position.monthly_fixed_costs) if position else None,
    }
    title = "Sales cycle against cash runway"
    if position is None or median is None:
        what = "cash on hand and monthly fixed costs" if position is None else "won deals"
        return Indicator(
            "cash_runway",
            title,
            1,
            "missing",
            "cash",
            None,
            "months",
            "none",
            f"Enter {what} to compare the cash runway with the sales cycle.",
            evidence,
        )
    fixed = position.monthly_fixed_costs
    cash = position.cash_on_hand
    runway = None if fixed <= 0 else float(max(Decimal(0), cash) / fixed)
    runway_days = None if runway is None else runway * DAYS_PER_MONTH
    evidence["runway_months"] = runway
    evidence["runway_days"] = runway_days
    confidence = _confidence(r.cycle.count)
    cycle = f"a sale takes {median:.0f} days (median), {p80:.0f} at the 80th percentile"
    if runway_days is None:
        status, text = "ok", f"No fixed costs entered: cash is not running down; {cycle}."
    elif runway_days < median:
        status = "alert"
        text = (
            f"Cash lasts about {runway:.1f} months ({runway_days:.0f} days), but {cycle}: "
            "revenue from leads found now comes too late."
        )
    elif p80 is not None and runway_days < p80:
        status = "watch"
        text = f"Cash lasts about {runway:.1f} months; {cycle}: the slower deals come late."
    else:
        status = "ok"
        text = f"Cash lasts about {runway:.1f} months, longer than the cycle: {cycle}."
    return Indicator(
        "cash_runway",
        title,
        1,
        status,
        "cash",
        runway,
        "months",
        confidence,
        text,
        evidence,
    )


def _conversations(
    organization: Organization, spans: dict[str, date], r: Reads
) -> dict[str, tuple[int, int]]:
    """For each span (from its first date to the end of the date): the sales conversations,
    and of the leads talked to then, those won at or after their first conversation of the
    span. One scan of the conversations from the earliest span on, counted in the database."""
    starts = {name: _end_of(since - timedelta(days=1)) for name, since in spans.items()}
    rows = Activity.objects.for_org(organization).filter(
        with_buyer=True,
        kind__in=sorted(SALES_CONVERSATION_KINDS),
        at__gte=min(starts.values()),
        at__lt=r.until,
    )
    names = list(spans)
    per_lead: dict[str, Any] = {}
    for i, name in enumerate(names):
        # (the moment, not the id: the index holds it, PostgreSQL's has no id)
        per_lead[f"n{i}"] = Count("at", filter=Q(at__gte=starts[name]))
        per_lead[f"first{i}"] = Min("at", filter=Q(at__gte=starts[name]))
    talks, params = rows.order_by().values("lead_id").annotate(**per_lead).query.sql_with_params()
    # a lead talked to in the span, won at or after its first conversation of the span and
    # before the end of the date: its last win before the end is at or after that first
    # conversation (the wins since the earliest span, one index range, joined by lead)
    wins, win_params = (
        DealOutcome.objects.for_org(organization)
        .filter(result=DealOutcome.Result.WON, at__gte=min(starts.values()), at__lt=r.until)
        .order_by()
        .values("lead_id")
        .annotate(last=Max("at"))
        .query.sql_with_params()
    )
    columns = ", ".join(
        f"SUM(t.n{i}), SUM(CASE WHEN w.last >= t.first{i} THEN 1 ELSE 0 END)"
        for i in range(len(names))
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM ({talks}) t LEFT JOIN ({wins}) w ON w.lead_id = t.lead_id",
            [*params, *win_params],
        )
        found = cursor.fetchone()
    return {
        name: (int(found[2 * i] or 0), int(found[2 * i + 1] or 0)) for i, name in enumerate(names)
    }


def sales_conversations(organization: Organization, r: Reads) -> Indicator:
    """2. How many sales conversations happen — this week, month, quarter — and how many
    convert? Against their own history: the trend of the monthly counts."""
    day = r.as_of
    week = day - timedelta(days=day.weekday())
    month = day.replace(day=1)
    quarter = month.replace(month=(month.month - 1) // 3 * 3 + 1)
    spans = {"week": week, "month": month, "quarter": quarter}
    found = _conversations(organization, spans, r)
    monthly = [_sum(r, "sales_conversations", [m]) for m in r.months]
    history_mean = sum(monthly) / len(monthly)
    trend = trends.count_trend(monthly)
    recent = sum(monthly[-RECENT_MONTHS:]) / RECENT_MONTHS
    before = sum(monthly[:-RECENT_MONTHS]) / (len(monthly) - RECENT_MONTHS)
    evidence: dict[str, Any] = {
        name: {"since": spans[name].isoformat(), "conversations": c, "converted": w}
        for name, (c, w) in found.items()
    }
    evidence.update(
        monthly=dict(zip([m.isoformat() for m in r.months], monthly, strict=True)),
        monthly_mean=history_mean,
        recent_mean=recent,
        earlier_mean=before,
        trend=trend.as_dict(),
    )
    total = int(sum(monthly))
    title = "Sales conversations"
    if total == 0:
        return Indicator(
            "sales_conversations",
            title,
            2,
            "missing",
            "sales",
            0,
            "count",
            "none",
            "No sales conversations logged in the last 12 months: log connects and meetings "
            "with someone who can buy.",
            evidence,
        )
    w, m_, q = found["week"], found["month"], found["quarter"]
    text = (
        f"{w[0]} this week, {m_[0]} this month, {q[0]} this quarter "
        f"({q[1]} of the leads talked to this quarter bought); "
        f"{history_mean:.0f} a month over the last 12 months"
    )
    if trend.falling:
        status = "alert"
        text += f", falling: {recent:.0f} a month lately against {before:.0f} before."
    else:
        status = "ok"
        text += "."
    return Indicator(
        "sales_conversations",
        title,
        2,
        status,
        "sales",
        float(m_[0]),
        "count",
        _confidence(total),
        text,
        evidence,
    )


def _channel_reads(
    organization: Organization, r: Reads
) -> tuple[dict[int, tuple[int, int, int]], dict[int, tuple[int, float, float]]]:
    """Per channel over the history: the cohort (leads that entered the funnel in its months:
    n, those that reached won: k, those that reached the first late stage), and
    the money (leads first won in its months, revenue and margin of the deals won in them).
    From the summaries today, else from the stage history and outcomes cut at the date."""
    climbing = r.ladder.climbing
    won_i = next((i for i, s in enumerate(r.ladder.stages) if s.kind == StageKind.WON), None)
    if not climbing or won_i is None:
        return {}, {}
    late0 = min(r.late) if r.late else None
    first_month, last_month = r.months[0], r.months[-1]
    leads: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    money: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    if r.summarized:
        stage_pk = {i: st.pk for i, st in enumerate(r.ladder.stages)}
        slots = {ENTRY: [0], stage_pk[won_i]: [1]}
        if late0 is not None:
            slots.setdefault(stage_pk[late0], []).append(2)
        for row in (
            CohortCount.objects.filter(
                organization=organization,
                month__gte=first_month,
                month__lte=last_month,
                stage_a=ENTRY,
                stage_b__in=list(slots),
            )
            .values("channel", "stage_b")
            .order_by()
            .annotate(k=Sum("k_ever"))
        ):
            for slot in slots[row["stage_b"]]:
                leads[row["channel"]][slot] += int(row["k"] or 0)
        for channel, n in (
            FirstWin.objects.filter(
                organization=organization, month__gte=first_month, month__lte=last_month
            )
            .values("channel")
            .order_by()
            .annotate(n=Count("*"))  # from the index alone (``firstwin_month_cover``)
            .values_list("channel", "n")
        ):
            money[channel][0] = int(n)
        cents: dict[tuple[int, str], int] = {}
        for channel, metric, value in (
            MonthCount.objects.filter(
                organization=organization,
                month__gte=first_month,
                month__lte=last_month,
                metric__in=["revenue", "cost", "costed_revenue"],
            )
            .values("channel", "metric")
            .order_by()
            .annotate(v=Sum("value"))
            .values_list("channel", "metric", "v")
        ):
            cents[(channel, metric)] = int(value or 0)
        for channel, _metric in cents:
            money[channel][1] = cents.get((channel, "revenue"), 0) / 100
            # the margin of the deals with a recorded cost (a missing cost is unknown)
            costed = cents.get((channel, "costed_revenue"), 0) / 100
            money[channel][2] = costed - cents.get((channel, "cost"), 0) / 100
    else:
        months = set(r.months)
        channel_of = dict(Lead.objects.for_org(organization).values_list("pk", "channel_id"))
        for lead, history in stage_history(organization, r.ladder, until=r.until).items():
            reach = reach_dates(history, r.ladder)
            if _month_of(history[0][0]) not in months:  # entered the funnel then
                continue
            tally = leads[channel_of[lead]]
            tally[0] += 1
            tally[1] += reach[won_i] is not None
            tally[2] += late0 is not None and reach[late0] is not None
        won = DealOutcome.objects.for_org(organization).filter(
            result=DealOutcome.Result.WON, at__lt=r.until
        )
        for channel, first_won in (
            won.values("lead_id", "lead__channel_id")
            .order_by()
            .annotate(first=Min("at"))
            .values_list("lead__channel_id", "first")
        ):
            if _month_of(first_won) in months:
                money[channel][0] += 1
        since = _end_of(first_month - timedelta(days=1))
        for row in (
            won.filter(at__gte=since, at__lt=_end_of(Period.month(last_month).end))
            .values("lead__channel_id")
            .order_by()
            .annotate(
                revenue_sum=Sum("revenue"),
                cost_sum=Sum("cost"),
                costed_sum=Sum("revenue", filter=Q(cost__isnull=False)),
            )
        ):
            money[row["lead__channel_id"]][1] = float(row["revenue_sum"] or 0)
            costed = float(row["costed_sum"] or 0)
            money[row["lead__channel_id"]][2] = costed - float(row["cost_sum"] or 0)
    return (
        {c: (t[0], t[1], t[2]) for c, t in leads.items()},
        {c: (int(t[0]), t[1], t[2]) for c, t in money.items()},
    )


def best_channels(organization: Organization, r: Reads) -> Indicator:
    """3. Where do the customers that buy (or nearly buy) come from? Channels ranked by
    customers and margin over the history, with the lead → customer conversion's interval."""
    from keepscore.leads.models import Channel

    leads, money = _channel_reads(organization, r)
    names = dict(Channel.objects.for_org(organization).values_list("pk", "name"))
    rows = []
    for channel_id in set(money) | set(leads):
        customers, revenue, margin = money.get(channel_id, (0, 0.0, 0.0))
        n, k, late = leads.get(channel_id, (0, 0, 0))
        figure = rate(k, n) if n else None
        rows.append(
            {
                "channel": names.get(channel_id, "(unknown)"),
                "customers": customers,
                "reached_late_stage": late,
                "margin": margin,
                "revenue": revenue,
                "leads": n,
                "conversion": None
                if figure is None
                else {
                    "k": figure.k,
                    "n": figure.n,
                    "rate": figure.rate,
                    "ci_low": figure.ci_low,
                    "ci_high": figure.ci_high,
                    "enough": figure.enough,
                },
            }
        )
    rows.sort(key=lambda x: (-x["customers"], -x["margin"], x["channel"]))
    by_margin = sorted(rows, key=lambda x: (-x["margin"], x["channel"]))
    total = sum(x["customers"] for x in rows)
    evidence = {
        "by_customers": rows,
        "by_margin": [x["channel"] for x in by_margin],
        "customers": total,
    }
    title = "Where the customers come from"
    if total == 0:
        return Indicator(
            "best_channels",
            title,
            3,
            "missing",
            None,
            None,
            "count",
            "none",
            "No customers won in the last 12 months: no channel can be ranked yet.",
            evidence,
        )
    top = rows[0]
    best_margin = by_margin[0]
    most = money_format(best_margin["margin"], organization, decimals=0)
    text = (
        f"{top['channel']} brought the most customers ({top['customers']} of {total}"
        + (
            f", {_pct(top['conversion']['rate'])} of its leads"
            if top["conversion"] and top["conversion"]["enough"]
            else ""
        )
        + f"); {best_margin['channel']} the most margin ({most}). "
        "Prioritise them."
    )
    return Indicator(
        "best_channels",
        title,
        3,
        "info",
        None,
        float(top["customers"]),
        "count",
        _confidence(total),
        text,
        evidence,
    )


def _deals_reference(organization: Organization, r: Reads) -> dict[str, int]:
    """The deals won in the history's months: how many (n), those with a recorded cost
    (costed), those won below their cost (losses), from the rows."""
    since = _end_of(r.months[0] - timedelta(days=1))
    end = _end_of(Period.month(r.months[-1]).end)
    deals = DealOutcome.objects.for_org(organization).filter(
        result=DealOutcome.Result.WON, at__gte=since, at__lt=end
    )
    found = deals.aggregate(
        n=Count("id"),
        costed=Count("cost"),
        losses=Count("id", filter=Q(cost__gt=F("revenue"))),
    )
    return {key: int(value or 0) for key, value in found.items()}


def _deals_summary(organization: Organization, r: Reads) -> dict[str, int]:
    """:func:`_deals_reference` from the summaries (MonthCount ``won``, ``costed``,
    ``losses``)."""
    found = dict(
        MonthCount.objects.filter(
            organization=organization,
            month__gte=r.months[0],
            month__lte=r.months[-1],
            metric__in=("won", "costed", "losses"),
        )
        .values("metric")
        .order_by()
        .annotate(v=Sum("value"))
        .values_list("metric", "v")
    )
    return {
        "n": int(found.get("won") or 0),
        "costed": int(found.get("costed") or 0),
        "losses": int(found.get("losses") or 0),
    }


def margin_health(organization: Organization, r: Reads) -> Indicator:
    """4. How healthy are the profit margins? Margin % and its trend; deals won at a loss."""
    found = (_deals_summary if r.summarized else _deals_reference)(organization, r)
    # the margin of the deals whose cost was recorded, over their revenue (a missing cost
    # is unknown, not 0)
    revenue = _sum(r, "costed_revenue", r.months)
    margin = _sum(r, "margin", r.months)
    pct = margin / revenue if revenue else None
    monthly = []
    for m in r.months:
        rev = _sum(r, "costed_revenue", [m])
        monthly.append(_sum(r, "margin", [m]) / rev if rev else None)
    trend = trends.monotonic_trend(monthly)
    n, losses = int(found["n"]), int(found["losses"])
    loss_share = losses / n if n else None
    evidence = {
        "won_deals": n,
        "deals_with_cost": int(found["costed"]),
        "deals_at_a_loss": losses,
        "loss_share": loss_share,
        "revenue": revenue,
        "margin": margin,
        "margin_pct": pct,
        "monthly_margin_pct": dict(zip([m.isoformat() for m in r.months], monthly, strict=True)),
        "trend": trend.as_dict(),
    }
    title = "Margin health"
    if n == 0 or not found["costed"]:
        what = "won deals" if n == 0 else "the cost of won deals (or a default margin)"
        return Indicator(
            "margin_health",
            title,
            4,
            "missing",
            "margins",
            pct,
            "percent",
            "none",
            f"Enter {what} to judge the margins.",
            evidence,
        )
    confidence = _confidence(n) if n >= FEW_DEALS else "low"
    head = f"Margin {_pct(pct)} over the last 12 months; {losses} of {n} deals won below cost"
    if (loss_share or 0) > 0.5 or (pct is not None and pct < 0):
        status, text = "alert", head + ": selling more at a loss is no fix."
    elif trend.falling or (loss_share or 0) > 0.2:
        status = "watch"
        text = head + (", and the margin is falling." if trend.falling else ".")
    else:
        status, text = "ok", head + "."
    return Indicator(
        "margin_health", title, 4, status, "margins", pct, "percent", confidence, text, evidence
    )


@dataclass(frozen=True)
class Goal:
    key: str  # "customers" or "revenue"
    goal: float
    ytd: float
    months_left: float
    per_customer: float  # revenue per customer (1 for a customers goal)


def _goal(organization: Organization, r: Reads) -> Goal | None:
    goals = scorecard_services.goals_for(organization, r.as_of.year)
    key = next((k for k in ("customers", "revenue") if k in goals), None)
    if key is None:
        return None
    year_start = date(r.as_of.year, 1, 1)
    start = _end_of(year_start - timedelta(days=1))
    won = DealOutcome.objects.for_org(organization).filter(
        result=DealOutcome.Result.WON, at__gte=start, at__lt=r.until
    )
    if key == "customers":
        ytd = float(won.values("lead_id").distinct().count())
    else:
        ytd = float(won.aggregate(s=Sum("revenue"))["s"] or 0)
    end = date(r.as_of.year, 12, 31)
    months_left = (end - r.as_of).days / DAYS_PER_MONTH
    deals = _sum(r, "deals", r.months)
    per_customer = 1.0
    if key == "revenue":
        per_customer = _sum(r, "revenue", r.months) / deals if deals else 0.0
    return Goal(key, float(goals[key]), ytd, months_left, per_customer)


def _weighted_pipeline(organization: Organization, r: Reads) -> tuple[float, int, int]:
    """The open pipeline in customers, weighted by each stage's historical (mature) rate of
    reaching won; and the leads open and the cohort size behind the rates."""
    if r.pipeline is not None:
        return r.pipeline
    total = 0.0
    open_leads = 0
    cohort = 0
    for stage in compute.open_pipeline(organization, r.ladder, r.until):
        k, n = r.won_rates.get(stage.index, (0, 0))
        open_leads += stage.leads
        cohort += n
        if n:
            total += stage.leads * k / n
    r.pipeline = (total, open_leads, cohort)
    return r.pipeline


def pipeline_coverage(organization: Organization, r: Reads, goal: Goal | None) -> Indicator:
    """5. Is marketing filling the pipeline enough to reach the goal? The weighted open
    pipeline against what the goal still needs within a sales cycle."""
    weighted, open_leads, cohort = _weighted_pipeline(organization, r)
    evidence: dict[str, Any] = {
        "open_leads": open_leads,
        "weighted_customers": weighted,
        "stage_rates": {
            r.ladder.stages[i].key: {"k": k, "n": n} for i, (k, n) in sorted(r.won_rates.items())
        },
    }
    title = "Pipeline coverage"
    if goal is None:
        return Indicator(
            "pipeline_coverage",
            title,
            5,
            "missing",
            "marketing",
            None,
            "ratio",
            "none",
            f"Set an annual goal for customers or revenue for {r.as_of.year} to measure the "
            f"pipeline against it ({open_leads} leads are open, worth about {weighted:.1f} "
            "customers at the usual rates).",
            evidence,
        )
    remaining = goal.goal - goal.ytd
    p80 = r.cycle.p80
    horizon = max(1.0, (p80 or 0) / DAYS_PER_MONTH)
    share = 1.0 if goal.months_left <= horizon else horizon / goal.months_left
    needed = max(0.0, remaining) * share / (goal.per_customer or 1.0)
    value = weighted / needed if needed > 0 else None
    evidence.update(
        goal=goal.key,
        goal_value=goal.goal,
        ytd=goal.ytd,
        remaining=remaining,
        months_left=goal.months_left,
        horizon_months=horizon,
        needed_customers_in_horizon=needed,
        coverage=value,
    )
    confidence = _confidence(cohort)
    unit = "customers" if goal.key == "customers" else "revenue"
    if remaining <= 0:
        status, text = "ok", f"The {unit} goal for {r.as_of.year} is met already."
    elif value is None or goal.per_customer == 0:
        status, text = "missing", "No won deals in the last 12 months to turn revenue into deals."
    elif value < 1:
        status = "alert"
        text = (
            f"The open pipeline is worth about {weighted:.1f} customers; the goal needs "
            f"{needed:.1f} within the next {horizon:.1f} months: coverage {value:.2f}, "
            "too thin — marketing must fill it."
        )
    else:
        status = "ok"
        text = (
            f"The open pipeline (about {weighted:.1f} customers) covers the {needed:.1f} the "
            f"goal needs in the next {horizon:.1f} months ({value:.2f}x)."
        )
    return Indicator(
        "pipeline_coverage",
        title,
        5,
        status,
        "marketing",
        value,
        "ratio",
        confidence,
        text,
        evidence,
    )


# --- the indicators that push toward sales or marketing --------------------------------------


def _conversion_rates(r: Reads, months: list[date]) -> tuple[int, int]:
    k = sum(r.conversion.get(m, (0, 0))[0] for m in months)
    n = sum(r.conversion.get(m, (0, 0))[1] for m in months)
    return k, n


def conversion_trend(organization: Organization, r: Reads) -> Indicator:
    """Leads keep coming while lead → customer conversion falls (a Cochran-Armitage trend
    test over the monthly cohorts that had the whole window to convert)."""
    mature = r.mature
    ks = [r.conversion.get(m, (0, 0))[0] for m in mature]
    ns = [r.conversion.get(m, (0, 0))[1] for m in mature]
    trend = trends.proportion_trend(ks, ns)
    k, n = sum(ks), sum(ns)
    half = len(mature) // 2
    early, late = _conversion_rates(r, mature[:half]), _conversion_rates(r, mature[half:])
    early_rate = rate(*early)
    late_rate = rate(*late)
    recent = _sum(r, "new_leads", r.months[-RECENT_MONTHS:])
    before = _sum(r, "new_leads", r.months[-2 * RECENT_MONTHS : -RECENT_MONTHS])
    leads_change = _share_change(recent, before)
    leads_trend = trends.count_trend([_sum(r, "new_leads", [m]) for m in r.months])
    keep_coming = not leads_trend.falling
    evidence = {
        "window_days": r.window,
        "months": [m.isoformat() for m in mature],
        "k": ks,
        "n": ns,
        "rate": k / n if n else None,
        "early": {"k": early[0], "n": early[1], "rate": early_rate.rate},
        "late": {"k": late[0], "n": late[1], "rate": late_rate.rate},
        "trend": trend.as_dict(),
        "new_leads_recent": recent,
        "new_leads_before": before,
        "new_leads_change": leads_change,
        "new_leads_trend": leads_trend.as_dict(),
    }
    title = "Conversion of leads into customers"
    if n < min_n():
        return Indicator(
            "conversion_trend",
            title,
            None,
            "missing",
            "sales",
            None,
            "percent",
            "none",
            f"{n} leads had {r.window} days to convert; at least {min_n()} are needed to judge "
            "the conversion.",
            evidence,
        )
    lead_words = (
        f"Leads are {'up' if leads_change >= 0 else 'down'} {abs(leads_change) * 100:.0f}% "
        "over the last 3 months"
        if leads_change is not None
        else "Leads keep coming"
    )
    rates = (
        f"{_pct(late_rate.rate)} of them became customers within {r.window} days, "
        f"down from {_pct(early_rate.rate)}"
        if trend.falling
        else f"{_pct(k / n)} of leads became customers within {r.window} days"
    )
    if trend.falling and keep_coming:
        status = "alert"
        text = f"{lead_words} but only {rates} (trend {_p(trend.p_value)})."
    elif trend.falling:
        status = "watch"
        text = f"Conversion is falling ({rates}), and so are new leads."
    else:
        status = "ok"
        trend_words = "rising" if trend.rising else "no falling trend"
        text = f"{rates}; {trend_words} ({_p(trend.p_value)})." if trend.p_value else rates
        text = text[0].upper() + text[1:]
    return Indicator(
        "conversion_trend",
        title,
        None,
        status,
        "sales",
        k / n,
        "percent",
        _confidence(n),
        text,
        evidence,
    )


def qualified_vs_revenue(organization: Organization, r: Reads) -> Indicator:
    """Good leads but revenue not growing with them: qualified leads rising (Poisson score
    test) while revenue is not (Mann-Kendall)."""
    counts = [float(r.qualified.get(m, 0)) for m in r.months]
    revenue = [_sum(r, "revenue", [m]) for m in r.months]
    q_trend = trends.count_trend(counts)
    r_trend = trends.monotonic_trend(revenue)
    evidence = {
        "qualified": dict(zip([m.isoformat() for m in r.months], counts, strict=True)),
        "revenue": dict(zip([m.isoformat() for m in r.months], revenue, strict=True)),
        "qualified_trend": q_trend.as_dict(),
        "revenue_trend": r_trend.as_dict(),
    }
    title = "Qualified leads against revenue"
    total = int(sum(counts))
    if r.qualified_index is None or total < min_n():
        return Indicator(
            "qualified_vs_revenue",
            title,
            None,
            "missing",
            "sales",
            None,
            "count",
            "none",
            f"{total} qualified leads in the last 12 months; at least {min_n()} are needed.",
            evidence,
        )
    recent = sum(counts[-RECENT_MONTHS:])
    before = sum(counts[-2 * RECENT_MONTHS : -RECENT_MONTHS])
    change = _share_change(recent, before)
    grow = f" ({change * 100:+.0f}% over the last 3 months)" if change is not None else ""
    if q_trend.rising and not r_trend.rising:
        status = "alert"
        text = (
            f"Qualified leads are rising{grow} ({_p(q_trend.p_value)}) but revenue is "
            "not: good leads are not being turned into sales."
        )
    else:
        status = "ok"
        text = (
            f"{total} qualified leads in 12 months ({q_trend.direction}); revenue "
            f"{r_trend.direction}."
        )
    return Indicator(
        "qualified_vs_revenue",
        title,
        None,
        status,
        "sales",
        recent,
        "count",
        _confidence(total),
        text,
        evidence,
    )


def _objections_reference(
    organization: Organization, r: Reads
) -> tuple[dict[date, int], list[tuple[str, int]]]:
    """The objections of each month of the history, and the three most common tags of the
    recent months with their counts (most first, then by tag), from the rows."""
    start = _end_of(r.months[0] - timedelta(days=1))
    end = _end_of(Period.month(r.months[-1]).end)
    rows = Objection.objects.for_org(organization).filter(at__gte=start, at__lt=end)
    monthly: dict[date, int] = defaultdict(int)
    for at in rows.values_list("at", flat=True):
        monthly[_month_of(at)] += 1
    recent_start = _end_of(r.months[-RECENT_MONTHS] - timedelta(days=1))
    tags = list(
        rows.filter(at__gte=recent_start)
        .values("tag")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n", "tag")
        .values_list("tag", "n")[:3]
    )
    return dict(monthly), tags


def _objections_summary(
    organization: Organization, r: Reads
) -> tuple[dict[date, int], list[tuple[str, int]]]:
    """:func:`_objections_reference` from the summaries (ObjectionCount)."""
    recent = set(r.months[-RECENT_MONTHS:])
    monthly: dict[date, int] = defaultdict(int)
    by_tag: dict[str, int] = defaultdict(int)
    whole = Period(r.months[0], next_month(r.months[-1]) - timedelta(days=1))
    for month, tag, _stage, _channel, n in summary.objection_months(organization, whole):
        monthly[month] += n
        if month in recent:
            by_tag[tag] += n
    tags = sorted(((t, n) for t, n in by_tag.items() if n), key=lambda tn: (-tn[1], tn[0]))
    return {m: n for m, n in monthly.items() if n}, tags[:3]


def objections_rising(organization: Organization, r: Reads) -> Indicator:
    """Rising objections that marketing material does not answer: the monthly count of
    objections over the history (Poisson score test), and the most common tags lately."""
    monthly, tags = (_objections_summary if r.summarized else _objections_reference)(
        organization, r
    )
    counts = [float(monthly.get(m, 0)) for m in r.months]
    trend = trends.count_trend(counts)
    evidence = {
        "monthly": dict(zip([m.isoformat() for m in r.months], counts, strict=True)),
        "trend": trend.as_dict(),
        "top_recent_tags": [{"tag": t, "count": n} for t, n in tags],
    }
    total = int(sum(counts))
    title = "Objections"
    if total < min_n():
        return Indicator(
            "objections_rising",
            title,
            None,
            "missing",
            "sales",
            float(total),
            "count",
            "none",
            f"{total} objections logged in 12 months; at least {min_n()} are needed to see a "
            "trend.",
            evidence,
        )
    top = ", ".join(f"{t} ({n})" for t, n in tags) or "none lately"
    if trend.rising:
        status = "alert"
        text = f"Objections are rising ({_p(trend.p_value)}); most common lately: {top}"
    else:
        status = "ok"
        text = f"{total} objections in 12 months, {trend.direction}; most common lately: {top}."
    return Indicator(
        "objections_rising",
        title,
        None,
        status,
        "sales",
        sum(counts[-RECENT_MONTHS:]),
        "count",
        _confidence(total),
        text,
        evidence,
    )


@dataclass(frozen=True)
class Stalled:
    by_stage: dict[int, int]  # late stage index → open leads stalled there
    value: Decimal  # their values, summed (leads without a value add nothing)
    oldest_days: float | None
    high_value: int  # those worth at least the median deal

    @property
    def count(self) -> int:
        return sum(self.by_stage.values())


def _median_revenue(organization: Organization, r: Reads) -> float | None:
    """The median revenue of the deals won in the history and up to the date (the two middle
    values read from the database, interpolated as ``stats.median``)."""
    since = _end_of(r.months[0] - timedelta(days=1))
    deals = DealOutcome.objects.for_org(organization).filter(
        result=DealOutcome.Result.WON, at__gte=since, at__lt=r.until, revenue__isnull=False
    )
    n = deals.count()
    if not n:
        return None
    middle = deals.order_by("revenue").values_list("revenue", flat=True)[(n - 1) // 2 : n // 2 + 1]
    return stats.median([float(v) for v in middle])


def _stalled(organization: Organization, r: Reads, median_deal: float | None) -> Stalled:
    """Open leads at a late stage for longer than STALL_DAYS at the date."""
    if not r.late:
        return Stalled({}, Decimal(0), None, 0)
    cut = r.until - timedelta(days=STALL_DAYS)
    ids = {r.ladder.stages[i].pk: i for i in r.late}
    if r.summarized:  # today: each lead's stage and when it entered it are on the lead
        high = Q(value__gte=median_deal) if median_deal else Q(pk__in=[])
        rows = list(
            Lead.objects.for_org(organization)
            .filter(stage_id__in=list(ids), stage_entered_at__lt=cut)
            .values("stage_id")
            .order_by()
            # counted by a column of PostgreSQL's index (lead_org_stage_open), not the id it
            # has not: counting ids read the table (1M leads: 149 ms; the index alone, 37 ms).
            # stage_entered_at is never null here: the filter bounds it
            .annotate(
                n=Count("stage_entered_at"),
                value_sum=Sum("value"),
                since=Min("stage_entered_at"),
                high=Count("stage_entered_at", filter=high),
            )
        )
        oldest = min((row["since"] for row in rows), default=None)
        return Stalled(
            {ids[row["stage_id"]]: row["n"] for row in rows},
            sum((row["value_sum"] or Decimal(0) for row in rows), Decimal(0)),
            None if oldest is None else (r.until - oldest).total_seconds() / 86400,
            sum(row["high"] for row in rows),
        )
    values = dict(Lead.objects.for_org(organization).values_list("pk", "value"))
    late = set(r.late)
    by_stage: dict[int, int] = defaultdict(int)
    total, oldest_at, high_value = Decimal(0), None, 0
    for lead, history in stage_history(organization, r.ladder, until=r.until).items():
        at, stage = history[-1]
        if stage in late and at < cut:
            by_stage[stage] += 1
            value = values.get(lead)
            total += value or Decimal(0)
            oldest_at = at if oldest_at is None else min(oldest_at, at)
            if value is not None and median_deal and float(value) >= median_deal:
                high_value += 1
    oldest_days = None if oldest_at is None else (r.until - oldest_at).total_seconds() / 86400
    return Stalled(dict(by_stage), total, oldest_days, high_value)


def late_stage_stall(organization: Organization, r: Reads) -> Indicator:
    """High-value or complex offers whose leads stall in late stages: open leads at a late
    stage for more than three weeks, and those worth more than the median deal."""
    median_deal = _median_revenue(organization, r)
    found = _stalled(organization, r, median_deal)
    by_stage = {r.ladder.stages[i].name: n for i, n in sorted(found.by_stage.items(), reverse=True)}
    count = found.count
    evidence = {
        "stall_days": STALL_DAYS,
        "late_stages": [r.ladder.stages[i].key for i in r.late],
        "stalled": count,
        "stalled_by_stage": by_stage,
        "stalled_value": float(found.value),
        "oldest_days": found.oldest_days,
        "median_deal": median_deal,
        "high_value_stalled": found.high_value,
    }
    title = "Late-stage leads stalling"
    where = " and ".join(f"{n} at {name}" for name, n in by_stage.items())
    if count >= STALL_ALERT:
        status = "alert"
        text = (
            f"{count} open leads have waited more than {STALL_DAYS // 7} weeks at a late "
            f"stage ({where}), {found.high_value} of them worth more than the median deal"
        )
    elif count:
        status = "watch"
        text = f"{count} open leads have waited more than 3 weeks at a late stage ({where})."
        text = text.replace("1 open leads have", "1 open lead has") if count == 1 else text
    else:
        status = "ok"
        text = "No late-stage lead has waited more than 3 weeks."
    return Indicator(
        "late_stage_stall",
        title,
        None,
        status,
        "sales",
        float(count),
        "count",
        "high" if count else "medium",
        text,
        evidence,
    )


def lead_volume(
    organization: Organization, r: Reads, goal: Goal | None, conversion: Indicator
) -> Indicator:
    """Conversion healthy but too few new leads to meet the goal: the leads a month the goal
    needs at the usual conversion, against the leads a month coming in."""
    recent = _sum(r, "new_leads", r.months[-RECENT_MONTHS:]) / RECENT_MONTHS
    k, n = _conversion_rates(r, r.mature)
    weighted, _open, _cohort = _weighted_pipeline(organization, r)
    evidence: dict[str, Any] = {
        "new_leads_per_month": recent,
        "conversion": k / n if n else None,
        "weighted_pipeline_customers": weighted,
    }
    title = "New leads against the goal"
    if goal is None or n < min_n() or k == 0:
        why = (
            f"Set an annual goal for customers or revenue for {r.as_of.year}"
            if goal is None
            else f"At least {min_n()} leads with time to convert, some of them won, are needed"
        )
        return Indicator(
            "lead_volume",
            title,
            None,
            "missing",
            "marketing",
            recent,
            "count",
            "none",
            f"{why} to tell whether enough leads come in.",
            evidence,
        )
    conv = k / n
    remaining = (goal.goal - goal.ytd) / (goal.per_customer or 1.0)
    from_new = max(0.0, remaining - weighted)
    needed = from_new / conv / goal.months_left if goal.months_left > 0 else 0.0
    evidence.update(
        goal=goal.key,
        remaining_customers=remaining,
        customers_from_new_leads=from_new,
        months_left=goal.months_left,
        new_leads_needed_per_month=needed,
    )
    healthy = conversion.status in ("ok", "watch") and conversion.confidence != "none"
    if remaining <= 0:
        status, text = "ok", f"The {goal.key} goal for {r.as_of.year} is met already."
    elif from_new <= 0:
        status = "ok"
        text = (
            f"The open pipeline (about {weighted:.0f} customers at the usual rates) covers the "
            f"{remaining:.0f} customers the goal still needs; {recent:.0f} new leads a month "
            "come on top."
        )
    elif recent < needed and healthy:
        status = "alert"
        text = (
            f"Conversion is healthy ({_pct(conv)} of leads become customers), but "
            f"{recent:.0f} new leads a month will not reach the goal: it needs about "
            f"{needed:.0f} a month for the rest of the year."
        )
    elif recent < needed:
        status = "watch"
        text = (
            f"{recent:.0f} new leads a month is below the {needed:.0f} the goal needs at "
            f"{_pct(conv)} conversion, but conversion is the weaker side."
        )
    else:
        status = "ok"
        text = (
            f"{recent:.0f} new leads a month meets the {needed:.0f} the goal needs at "
            f"{_pct(conv)} conversion."
        )
    return Indicator(
        "lead_volume",
        title,
        None,
        status,
        "marketing",
        recent,
        "count",
        _confidence(n),
        text,
        evidence,
    )


# --- the diagnosis ---------------------------------------------------------------------------


#: the plan check's verdicts: (status, the side an alert pushes toward)
PLAN_VERDICTS = {
    "sales": ("alert", "sales"),
    "marketing": ("alert", "marketing"),
    "both": ("alert", None),
    "watch": ("watch", None),
    "on_plan": ("ok", None),
    "early": ("info", None),
}


def plan_gap(organization: Organization, r: Reads) -> Indicator | None:
    """Where the saved plan's assumptions turned out wrong, January to the last complete
    month (``keepscore.plan.check``): leads on plan but customers under it push toward
    sales; too few leads while conversion holds, toward marketing. None without a plan."""
    from keepscore.plan.check import plan_check

    found = plan_check(organization, compute.month_add(r.as_of.replace(day=1), -1))
    if found is None:
        return None
    status, pushes = PLAN_VERDICTS[found.verdict]
    return Indicator(
        "plan_gap",
        "Against the plan",
        None,
        status,
        pushes,
        found.customers_ratio,
        "percent",
        _confidence(found.leads),
        found.sentence,
        {
            "leads": found.leads,
            "leads_plan": round(found.leads_plan, 1),
            "customers": found.customers,
            "customers_plan": round(found.customers_plan, 1),
            "conversion_points": round(found.conversion_points, 1),
        },
    )


def _missing(organization: Organization, r: Reads) -> list[str]:
    """What is needed before any advice: enough leads that had time to convert."""
    _k, n = _conversion_rates(r, r.mature)
    leads = _sum(r, "new_leads", r.months) + _sum(r, "new_leads", [r.as_of.replace(day=1)])
    out = []
    if n < min_n():
        out.append(
            f"at least {min_n()} leads whose first touch is more than {r.window} days old "
            f"(within the last 12 months) — there are {n}"
        )
    if not r.cycle.count and leads:
        out.append("a won deal in the last 12 months")
    return out


def _follow_up(indicators: dict[str, Indicator]) -> str:
    stall = indicators["late_stage_stall"]
    if stall.status in ("alert", "watch"):
        n = stall.evidence["stalled"]
        return f"follow up the {n} late-stage lead{'s' if n != 1 else ''} older than 3 weeks"
    return "follow up every open lead and ask for the decision"


def _sentence(recommendation: str, indicators: dict[str, Indicator], missing: list[str]) -> str:
    if recommendation == "not_enough_data":
        return "Not enough data to advise yet: " + "; ".join(missing) + "."
    alerts = [i for i in indicators.values() if i.status == "alert" and i.pushes == recommendation]
    lead = alerts[0].explanation.rstrip(".") if alerts else ""
    if recommendation == "cash":
        return f"{lead}: focus on cash now — close the deals nearest to buying first."
    if recommendation == "margins":
        return f"{lead}: fix margins before selling more — prices, discounts and costs."
    if recommendation == "sales":
        return f"{lead}: put the next month's effort into sales — {_follow_up(indicators)}."
    if recommendation == "marketing":
        best = indicators["best_channels"]
        rows = best.evidence.get("by_customers", [])[:2]
        where = " and ".join(x["channel"] for x in rows if x["customers"])
        more = f" — more of what works: {where}" if where else ""
        return f"{lead}: put the next month's effort into marketing{more}."
    return "Nothing pushes either way: sales and marketing both hold up. Keep the rhythm."


_RANK = {"high": 3, "medium": 2, "low": 1, "none": 0}


def diagnose(organization: Organization, as_of: date | None = None) -> Diagnosis:
    """The focus for the end of ``as_of`` (default: today)."""
    today = timezone.localdate()
    as_of = min(as_of or today, today)
    r = reads(organization, as_of)
    goal = _goal(organization, r)
    conversion = conversion_trend(organization, r)
    found = [
        cash_runway(organization, r),
        sales_conversations(organization, r),
        best_channels(organization, r),
        margin_health(organization, r),
        pipeline_coverage(organization, r, goal),
        conversion,
        qualified_vs_revenue(organization, r),
        objections_rising(organization, r),
        late_stage_stall(organization, r),
        lead_volume(organization, r, goal, conversion),
    ]
    planned = plan_gap(organization, r)  # only with a saved plan for the year
    if planned is not None:
        found.append(planned)
    indicators = {i.key: i for i in found}
    missing = _missing(organization, r)
    scores = {side: 0 for side in SIDES}
    for i in found:
        if i.status == "alert" and i.pushes:
            scores[i.pushes] += 1
    if missing:
        recommendation = "not_enough_data"
    elif scores["cash"]:
        recommendation = "cash"
    elif scores["margins"]:
        recommendation = "margins"
    elif scores["sales"] > scores["marketing"]:
        recommendation = "sales"
    elif scores["marketing"] > scores["sales"]:
        recommendation = "marketing"
    else:
        recommendation = "balanced"
    deciding = [i for i in found if i.status == "alert" and i.pushes == recommendation]
    if recommendation == "not_enough_data":
        confidence = "none"
    elif deciding:
        best = max(_RANK[i.confidence] for i in deciding)
        if len(deciding) >= 2 and best >= 2:
            best = 3
        confidence = next(k for k, v in _RANK.items() if v == best)
    else:
        confidence = "medium" if conversion.confidence in ("high", "medium") else "low"
    return Diagnosis(
        organization=organization.name,
        slug=organization.slug,
        as_of=as_of,
        recommendation=recommendation,
        confidence=confidence,
        sentence=_sentence(recommendation, indicators, missing),
        indicators=tuple(found),
        missing=tuple(missing),
        scores=scores,
        currency=organization.currency,
    )


def keep(organization: Organization, month: date, by: Any = None) -> KeptDiagnosis:
    """Keep the diagnosis of a month's scorecard with its review: as of the month's last day
    (or today, for the month in progress). Called by each new review entry."""
    day = min(Period.month(month).end, timezone.localdate())
    diagnosis = diagnose(organization, day)
    return KeptDiagnosis.objects.create(
        organization=organization,
        month=month.replace(day=1),
        as_of=diagnosis.as_of,
        recommendation=diagnosis.recommendation,
        confidence=diagnosis.confidence,
        payload=diagnosis_json(diagnosis),
        by=by,
    )


def kept_for(organization: Organization, month: date) -> list[KeptDiagnosis]:
    """The diagnoses kept with a month's review, newest first."""
    return list(
        KeptDiagnosis.objects.for_org(organization)
        .filter(month=month.replace(day=1))
        .select_related("by")
        .order_by("-created_at", "-id")
    )


def _finite(value: Any) -> Any:
    """JSON-safe: no NaN or infinity anywhere in the evidence."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def diagnosis_json(diagnosis: Diagnosis) -> dict[str, Any]:
    return _finite(diagnosis.as_dict())
