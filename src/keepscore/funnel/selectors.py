"""Funnel analytics, the reference implementation: every figure computed from the stored
rows (stage changes, outcomes, activities, leads); ``docs/numbers.md`` states each rule.

Pure reads, no writes and no views. The heavy lifting is one streamed query per kind of
row (``values_list(...).iterator()``) and plain Python over it, so each rule reads as it is
written in the docs. Dates are local dates in ``settings.TIME_ZONE``: a moment belongs to a
period when its local date is within the period's (inclusive) dates.

The pieces these computations are made of live beside it: the ladder and each lead's stage
history (``ladder``), groupings and segments (``groupings``), the funnel report's shape and
assembly (``funnel_report``), rates (``stats``); periods and buckets are
``keepscore.common.periods``.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Max, QuerySet

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, ActivityKind
from keepscore.common.periods import Period, bucket_start, buckets, local_date
from keepscore.funnel import stats
from keepscore.funnel.funnel_report import (
    FunnelReport,
    Tally,
    funnel_steps,
    overall_steps,
    report_assemble,
)
from keepscore.funnel.groupings import (
    ALL_KEY,
    ALL_LABEL,
    NONE_LABEL,
    Segment,
    grouping_check,
    lead_groups,
    member_label,
    segment_leads,
)
from keepscore.funnel.ladder import (
    History,
    Ladder,
    observed_dates,
    reach_dates,
    reached_after,
    skipped_at,
    stage_history,
)
from keepscore.funnel.stats import RateFigure, rate
from keepscore.leads.models import DealOutcome, Lead, Stage, StageChange
from keepscore.leads.selectors import first_dated_in

#: the reference computations and what they return
__all__ = [
    "ALL_MEMBERS",
    "CYCLE_BINS",
    "ActivityBucket",
    "Conversion",
    "Cycle",
    "Money",
    "StageTime",
    "activity_counts",
    "close_rate",
    "conversion",
    "cycle_histogram",
    "funnel",
    "funnel_reference",
    "lost_reasons",
    "money",
    "new_leads",
    "sales_cycle",
    "stage_entries",
    "stage_times",
]

#: sales cycle histogram: [low, high) in days; a "<0" bin is added only when some cycle is
#: negative (imported data can date a win before the first touch)
CYCLE_BINS: tuple[tuple[float, float, str], ...] = (
    (0, 7, "0-7"),
    (7, 14, "7-14"),
    (14, 30, "14-30"),
    (30, 60, "30-60"),
    (60, 90, "60-90"),
    (90, 180, "90-180"),
    (180, 365, "180-365"),
    (365, float("inf"), "365+"),
)
SECONDS_PER_DAY = 86400


# --- conversion and the funnel -----------------------------------------------------------


def _window(within_days: int | None) -> timedelta | None:
    if within_days is None:
        return None
    if isinstance(within_days, bool) or not isinstance(within_days, int) or within_days < 0:
        raise ValueError(f"within_days is a whole number of days >= 0, got {within_days!r}")
    return timedelta(days=within_days)


@dataclass(frozen=True)
class Conversion:
    """A cohort conversion (k of n) and, beside it, the flow into the target stage."""

    rate: RateFigure
    flow: int


def _entered(history: History, stage: int, period: Period) -> bool:
    return any(entered == stage and period.holds(at) for at, entered in history)


def conversion(
    *,
    organization: Organization,
    from_stage: Stage | str,
    to_stage: Stage | str,
    period: Period,
    within_days: int | None = None,
    segment: Segment | None = None,
) -> Conversion:
    """Of the leads first observed at ``from_stage`` in the period (a stage change into it:
    a lead that skipped it is not judged on it) (n), those that reached ``to_stage`` at or
    after it, within ``within_days`` days when given (k).

    ``flow``: the leads with a stage change into ``to_stage`` dated in the period.
    """
    window = _window(within_days)
    ladder = Ladder.of(organization)
    source, target = ladder.find(from_stage), ladder.find(to_stage)
    histories = stage_history(organization, ladder, segment_leads(organization, segment))
    k = n = flow = 0
    for history in histories.values():
        if _entered(history, target, period):
            flow += 1
        since = observed_dates(history, ladder)[source]
        if since is None or not period.holds(since):
            continue
        n += 1
        if reached_after(history, ladder, target, since, window):
            k += 1
    return Conversion(rate=rate(k, n), flow=flow)


def funnel(
    *,
    organization: Organization,
    period: Period,
    by: str | None = None,
    within_days: int | None = None,
) -> FunnelReport:
    """Reach and flow per stage, and the cohort conversions, per group of leads.

    Groups are the values of ``by`` among leads with a stage change dated in the period
    (the one group "all" always, when ungrouped), ordered by first-stage reach, most first,
    then label.
    """
    grouping_check(by)
    from keepscore.funnel import summary  # here: summary builds on this module

    if summary.supports(period, by, within_days) and summary.ready(organization):
        return summary.funnel(organization, period, by, within_days)  # the same, pre-counted
    return funnel_reference(
        organization=organization, period=period, by=by, within_days=within_days
    )


def funnel_reference(
    *,
    organization: Organization,
    period: Period,
    by: str | None = None,
    within_days: int | None = None,
) -> FunnelReport:
    """:func:`funnel` computed from the stage changes themselves (what the summaries are
    checked against). Reach, flow and skips per stage, and the cohort conversions, per group
    of leads: a step between two stages judges the leads first observed at the first one in
    the period (a lead that skipped it is not counted, neither as converting nor as not);
    an overall step every lead that entered the funnel in the period.

    Groups are the values of ``by`` among leads with a stage change dated in the period
    (the one group "all" always, when ungrouped), ordered by first-stage reach, most first,
    then label.
    """
    grouping_check(by)
    window = _window(within_days)
    ladder = Ladder.of(organization)
    steps = funnel_steps(ladder)
    overall = overall_steps(ladder)
    histories = stage_history(organization, ladder)
    groups = lead_groups(organization, by)  # after the history: every lead in it is here
    size = len(ladder.stages)
    tallies: dict[str, Tally] = {}
    labels: dict[str, str] = {}
    for lead, history in histories.items():
        if lead not in groups:  # deleted meanwhile
            continue
        key, label = groups[lead]
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally(size, len(steps))
            labels[key] = label
        reach = reach_dates(history, ladder)
        seen = observed_dates(history, ladder)
        for i, at in enumerate(reach):
            if at is not None and period.holds(at):
                tally.reached[i] += 1
                if skipped_at(at, seen[i]):
                    tally.skipped[i] += 1
        for i in {entered for at, entered in history if period.holds(at)}:
            tally.entered[i] += 1
        for j, (source, target) in enumerate(steps):
            since = history[0][0] if j in overall else seen[source]
            if since is not None and period.holds(since):
                tally.n[j] += 1
                if reached_after(history, ladder, target, since, window):
                    tally.k[j] += 1
    if by is None:
        tallies.setdefault(ALL_KEY, Tally(size, len(steps)))
        labels[ALL_KEY] = ALL_LABEL
    busy = {key: t for key, t in tallies.items() if by is None or t.busy()}
    return report_assemble(ladder, period, by, within_days, busy, labels)


def stage_entries(*, organization: Organization, period: Period) -> dict[str, int]:
    """Flow per stage (every stage of the ladder): leads with a change into it in the period."""
    ladder = Ladder.of(organization)
    since, until = period.bounds()
    leads: dict[int, set[int]] = defaultdict(set)
    for lead, stage, at in (
        StageChange.objects.for_org(organization)
        .filter(at__gte=since, at__lt=until)
        .values_list("lead_id", "to_stage_id", "at")
        .iterator(chunk_size=5000)
    ):
        if period.holds(at):
            leads[stage].add(lead)
    return {s.key: len(leads[s.pk]) for s in ladder.stages}


def new_leads(*, organization: Organization, period: Period, segment: Segment | None = None) -> int:
    """Leads whose first touch is in the period."""
    members = segment_leads(organization, segment)
    since, until = period.bounds()
    return sum(
        1
        for pk, at in Lead.objects.for_org(organization)
        .filter(
            first_touch_at__gte=since,
            first_touch_at__lt=until,
        )
        .values_list("pk", "first_touch_at")
        .iterator(chunk_size=5000)
        if period.holds(at) and (members is None or pk in members)
    )


# --- outcomes: cycle, close rate, lost reasons, money -----------------------------------


@dataclass(frozen=True)
class Cycle:
    count: int
    median_days: float | None
    p80_days: float | None
    days: list[float]  # sorted
    histogram: list[tuple[str, int]]


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / SECONDS_PER_DAY


def cycle_histogram(*, days: Iterable[float]) -> list[tuple[str, int]]:
    counts = Counter[str]()
    negative = 0
    for d in days:
        if d < 0:
            negative += 1
            continue
        label = next(label for low, high, label in CYCLE_BINS if low <= d < high)
        counts[label] += 1
    bins = [(label, counts[label]) for _low, _high, label in CYCLE_BINS]
    return [("<0", negative), *bins] if negative else bins


def _outcomes(
    organization: Organization, result: str | None, period: Period
) -> Iterator[tuple[int, str, datetime, Any, Any, str | None]]:
    """The period's outcome rows (lead, result, at, revenue, cost, lost reason name), oldest
    first per lead."""
    since, until = period.bounds()
    rows = DealOutcome.objects.for_org(organization).filter(at__gte=since, at__lt=until)
    if result is not None:
        rows = rows.filter(result=result)
    return (
        rows.order_by("lead_id", "at", "id")
        .values_list("lead_id", "result", "at", "revenue", "cost", "lost_reason__name")
        .iterator(chunk_size=5000)
    )


def sales_cycle(
    *, organization: Organization, period: Period, segment: Segment | None = None
) -> Cycle:
    """Days from first touch to won, for the leads first won in the period."""
    members = segment_leads(organization, segment)
    _since, until = period.bounds()
    first_won: dict[int, tuple[datetime, datetime]] = {}
    for lead, at, first_touch in (
        DealOutcome.objects.for_org(organization)
        .filter(result=DealOutcome.Result.WON, at__lt=until)
        .order_by("lead_id", "at", "id")
        .values_list("lead_id", "at", "lead__first_touch_at")
        .iterator(chunk_size=5000)
    ):
        first_won.setdefault(lead, (at, first_touch))
    days = sorted(
        _days(at - first_touch)
        for lead, (at, first_touch) in first_won.items()
        if period.holds(at) and (members is None or lead in members)
    )
    return Cycle(
        count=len(days),
        median_days=stats.median(days),
        p80_days=stats.quantile(days, 0.8),
        days=days,
        histogram=cycle_histogram(days=days),
    )


def _last_outcomes(
    organization: Organization, period: Period, segment: Segment | None
) -> dict[int, tuple[str, str | None]]:
    """Each lead's last outcome dated in the period: lead → (result, lost reason name)."""
    members = segment_leads(organization, segment)
    last: dict[int, tuple[str, str | None]] = {}
    for lead, result, at, _revenue, _cost, reason in _outcomes(organization, None, period):
        if period.holds(at) and (members is None or lead in members):
            last[lead] = (result, reason)
    return last


def close_rate(
    *, organization: Organization, period: Period, segment: Segment | None = None
) -> RateFigure:
    """won / (won + lost), each lead counted once by its last outcome dated in the period."""
    last = _last_outcomes(organization, period, segment)
    won = sum(1 for result, _reason in last.values() if result == DealOutcome.Result.WON)
    return rate(won, len(last))


def lost_reasons(*, organization: Organization, period: Period) -> list[tuple[str, int, float]]:
    """Why leads were lost: (reason, count, share of the lost), most first, then by name.

    The same leads as the close rate's lost ones: each lead's last outcome in the period.
    """
    counts = Counter(
        reason or NONE_LABEL
        for result, reason in _last_outcomes(organization, period, None).values()
        if result == DealOutcome.Result.LOST
    )
    total = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(name, count, count / total) for name, count in ranked]


@dataclass(frozen=True)
class Money:
    """The won deals of a period. A deal's margin is known when its cost was recorded (a
    missing cost is unknown, not 0): ``margin`` and ``margin_pct`` are over the ``costed``
    deals, None ("not recorded") when there is none."""

    won: int  # won outcomes (deals) dated in the period
    revenue: Decimal  # of every won deal
    cost: Decimal  # the recorded costs
    margin: Decimal | None  # costed_revenue - cost
    margin_pct: float | None  # margin / costed_revenue x 100
    costed: int = 0  # the deals with a recorded cost
    costed_revenue: Decimal = Decimal("0.00")


CENT = Decimal("0.01")


def money(*, organization: Organization, period: Period, segment: Segment | None = None) -> Money:
    """Revenue, cost and margin of the won outcomes dated in the period (the margin of
    those whose cost was recorded)."""
    members = segment_leads(organization, segment)
    won, costed, revenue, cost, costed_revenue = 0, 0, Decimal(0), Decimal(0), Decimal(0)
    for lead, _result, at, deal_revenue, deal_cost, _reason in _outcomes(
        organization, DealOutcome.Result.WON, period
    ):
        if period.holds(at) and (members is None or lead in members):
            won += 1
            revenue += deal_revenue or 0
            if deal_cost is not None:
                costed += 1
                cost += deal_cost
                costed_revenue += deal_revenue or 0
    margin = (costed_revenue - cost).quantize(CENT) if costed else None
    return Money(
        won=won,
        revenue=revenue.quantize(CENT),
        cost=cost.quantize(CENT),
        margin=margin,
        margin_pct=float(margin / costed_revenue * 100)
        if margin is not None and costed_revenue
        else None,
        costed=costed,
        costed_revenue=costed_revenue.quantize(CENT),
    )


# --- time in stage -----------------------------------------------------------------------


@dataclass(frozen=True)
class StageTime:
    stage: Stage
    count: int
    median_days: float | None
    p80_days: float | None


def stage_times(*, organization: Organization, period: Period) -> list[StageTime]:
    """Time in each stage: from an entry into it to the lead's next stage change, for the
    stays that ended in the period. Every stage of the ladder, in ladder order."""
    ladder = Ladder.of(organization)
    _since, until = period.bounds()
    stays: dict[int, list[float]] = defaultdict(list)
    for history in stage_history(organization, ladder, until=until).values():
        for (start, stage), (end, _next) in itertools.pairwise(history):
            if period.holds(end):
                stays[stage].append(_days(end - start))
    out = []
    for i, s in enumerate(ladder.stages):
        days = sorted(stays[i])
        out.append(
            StageTime(
                stage=s,
                count=len(days),
                median_days=stats.median(days),
                p80_days=stats.quantile(days, 0.8),
            )
        )
    return out


# --- activities --------------------------------------------------------------------------


@dataclass(frozen=True)
class ActivityBucket:
    bucket_start: date
    member_id: int | None
    member_label: str
    call_attempts: int = 0
    connects: int = 0
    sales_conversations: int = 0
    qualifying: int = 0
    meetings: int = 0
    presentations: int = 0
    proposals: int = 0
    conversations_won: int = 0


_KIND_FIELD = {
    ActivityKind.CALL_ATTEMPT: "call_attempts",
    ActivityKind.CONNECT: "connects",
    ActivityKind.QUALIFYING: "qualifying",
    ActivityKind.MEETING: "meetings",
    ActivityKind.PRESENTATION: "presentations",
    ActivityKind.PROPOSAL: "proposals",
}
_COUNTS = (*_KIND_FIELD.values(), "sales_conversations", "conversations_won")
ALL_MEMBERS = "All members"


def activity_counts(
    *, organization: Organization, period: Period, grain: str = "month", by_member: bool = False
) -> list[ActivityBucket]:
    """Activities dated in the period, per bucket (and per member who logged them).

    Every bucket overlapping the period is listed (zeros included); with ``by_member``, for
    each member with an activity in the period ("(none)" for activities logged by no one),
    ordered by bucket, then member label.
    """
    starts = buckets(period, grain)
    since, until = period.bounds()
    in_period = Activity.objects.for_org(organization).filter(at__gte=since, at__lt=until)
    won_last = dict(
        DealOutcome.objects.for_org(organization)
        # only the leads talked to in the period (not every win of the history)
        .filter(result=DealOutcome.Result.WON, lead__in=in_period.values("lead_id"))
        .values("lead_id")
        .annotate(last=Max("at"))
        .values_list("lead_id", "last")
    )
    counts: dict[tuple[date, int | None], Counter[str]] = defaultdict(Counter)
    for lead, kind, at, with_buyer, member in in_period.values_list(
        "lead_id", "kind", "at", "with_buyer", "by_id"
    ).iterator(chunk_size=5000):
        if not period.holds(at):
            continue
        tally = counts[(bucket_start(local_date(at), grain), member if by_member else None)]
        name = _KIND_FIELD.get(kind)
        if name is not None:
            tally[name] += 1
        if with_buyer and kind in SALES_CONVERSATION_KINDS:
            tally["sales_conversations"] += 1
            won_at = won_last.get(lead)
            if won_at is not None and won_at >= at:
                tally["conversations_won"] += 1
    if by_member:
        ids = {member for _start, member in counts}
        labels = {
            m.pk: member_label(m.user.first_name, m.user.last_name, m.user.email)
            for m in Membership.objects.filter(
                organization=organization, pk__in=ids
            ).select_related("user")
        }
        members = sorted(
            ((pk, labels.get(pk, NONE_LABEL) if pk is not None else NONE_LABEL) for pk in ids),
            key=lambda m: (m[1], m[0] or 0),
        )
    else:
        members = [(None, ALL_MEMBERS)]
    return [
        ActivityBucket(
            bucket_start=start,
            member_id=member,
            member_label=label,
            **{name: counts.get((start, member), Counter())[name] for name in _COUNTS},
        )
        for start in starts
        for member, label in members
    ]


def reached_filter(
    *, leads: QuerySet[Lead], reached: Stage, start: date | None, end: date | None
) -> QuerySet[Lead]:
    """The lead list's "reached" filter (``LeadFilters.reached``): the leads whose reach of
    the stage (entering it, or a later stage that is not lost) is first dated in [start,
    end] (the economics' qualified leads link here)."""
    organization = reached.organization
    changes = StageChange.objects.filter(to_stage_id__in=Ladder.of(organization).reaching(reached))
    return leads.filter(
        first_dated_in(organization=organization, rows=changes, start=start, end=end)
    )
