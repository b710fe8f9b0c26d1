"""Funnel analytics: every figure computed from the stored rows (stage changes, outcomes,
activities, leads). The reference implementation; ``docs/numbers.md`` states each rule.

Pure reads, no writes and no views. The heavy lifting is one streamed query per kind of
row (``values_list(...).iterator()``) and plain Python over it, so each rule reads as it is
written in the docs. Dates are local dates in ``settings.TIME_ZONE``: a moment belongs to a
period when its local date is within the period's (inclusive) dates.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, ActivityKind
from keepscore.funnel import stats
from keepscore.funnel.stats import RateFigure
from keepscore.leads.models import Channel, DealOutcome, Lead, Stage, StageChange, StageKind

#: the lead fields a funnel can be grouped by (and a segment chosen by), besides "fact:<name>"
GROUPINGS = ("channel", "campaign", "owner", "utm_source", "utm_medium", "utm_campaign")
FACT_PREFIX = "fact:"
#: the key and label of a blank value (no campaign, no owner, fact missing)
NONE_KEY, NONE_LABEL = "", "(none)"
#: the one group of an ungrouped funnel
ALL_KEY, ALL_LABEL = "all", "All leads"
GRAINS = ("week", "month", "quarter")
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


# --- periods and segments ---------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Inclusive local dates, ``start`` to ``end``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if isinstance(self.start, datetime) or isinstance(self.end, datetime):
            raise TypeError("a Period is made of dates, not datetimes")
        if self.end < self.start:
            raise ValueError(f"a period ends on or after its start: {self.start} > {self.end}")

    @classmethod
    def month(cls, day: date) -> Period:
        """The calendar month holding ``day``."""
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return cls(first, following - timedelta(days=1))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def holds(self, at: datetime) -> bool:
        """Whether a stored moment's local date is in the period.

        The same as ``local_date(at) in self``, tested as ``from <= at < until`` with the
        period's bounds (cheaper, and exact: the bounds are the first moments of local days).
        """
        since, until = self.bounds()
        return since <= at < until

    def bounds(self) -> tuple[datetime, datetime]:
        """``[from, until)`` as aware datetimes: local midnight of start and of end + 1 day."""
        return _bounds(self.start, self.end, timezone.get_default_timezone())

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


@functools.lru_cache(maxsize=256)
def _bounds(start: date, end: date, zone: tzinfo) -> tuple[datetime, datetime]:
    # a local midnight that does not exist (a DST gap) means, with fold=0, the moment the
    # clocks jump: still the first moment of that local day
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


def local_date(at: datetime) -> date:
    """The date of a stored moment in ``settings.TIME_ZONE``."""
    return timezone.localtime(at, timezone.get_default_timezone()).date()


@dataclass(frozen=True)
class Segment:
    """Only the leads whose ``by`` (a funnel grouping) equals ``value``.

    ``value`` is a group key as a funnel reports it: a channel's key (or the Channel), a
    member's id (or the Membership), the text of a campaign / UTM field or of a fact; ``""``
    (or None) picks the leads where it is blank.
    """

    by: str
    value: Any

    def __post_init__(self) -> None:
        grouping_check(self.by)
        if self.by is None:
            raise ValueError("a segment needs a grouping, e.g. Segment('channel', 'referral')")

    @property
    def key(self) -> str:
        value = self.value
        if value is None:
            return NONE_KEY
        if isinstance(value, Channel):
            return value.key
        if isinstance(value, Membership):
            return str(value.pk)
        return _text_key(value)


def grouping_check(by: str | None) -> None:
    """Refuse a grouping the funnel does not know, saying which ones it does."""
    if by is None or by in GROUPINGS:
        return
    if isinstance(by, str) and by.startswith(FACT_PREFIX) and by[len(FACT_PREFIX) :].strip():
        return
    raise ValueError(
        f"cannot group or segment leads by {by!r}: use one of "
        + ", ".join(GROUPINGS)
        + ", or 'fact:<name>' (a key of the lead's facts)"
    )


def _text_key(value: Any) -> str:
    if value is None:
        return NONE_KEY
    if isinstance(value, str):
        return value.strip()
    return json.dumps(value, sort_keys=True)


def _member_label(first: str | None, last: str | None, email: str | None) -> str:
    full = f"{first or ''} {last or ''}".strip()
    return full or email or NONE_LABEL


def lead_groups(organization: Organization, by: str | None) -> dict[int, tuple[str, str]]:
    """Every lead of the organization → (group key, label) for a grouping."""
    grouping_check(by)
    leads = Lead.objects.for_org(organization)
    out: dict[int, tuple[str, str]] = {}
    if by is None:
        for pk in leads.values_list("pk", flat=True).iterator(chunk_size=5000):
            out[pk] = (ALL_KEY, ALL_LABEL)
    elif by == "channel":
        for pk, key, name in leads.values_list("pk", "channel__key", "channel__name").iterator(
            chunk_size=5000
        ):
            out[pk] = (key, name)
    elif by == "owner":
        rows = leads.values_list(
            "pk",
            "owner_id",
            "owner__user__first_name",
            "owner__user__last_name",
            "owner__user__email",
        )
        for pk, owner, first, last, email in rows.iterator(chunk_size=5000):
            if owner is None:
                out[pk] = (NONE_KEY, NONE_LABEL)
            else:
                out[pk] = (str(owner), _member_label(first, last, email))
    elif by.startswith(FACT_PREFIX):
        name = by[len(FACT_PREFIX) :].strip()
        for pk, facts in leads.values_list("pk", "facts").iterator(chunk_size=5000):
            key = _text_key(facts.get(name) if isinstance(facts, dict) else None)
            out[pk] = (key, key or NONE_LABEL)
    else:  # a text field of the original source
        for pk, value in leads.values_list("pk", by).iterator(chunk_size=5000):
            key = _text_key(value)
            out[pk] = (key, key or NONE_LABEL)
    return out


def segment_leads(organization: Organization, segment: Segment | None) -> set[int] | None:
    """The ids of the segment's leads; None (every lead) without a segment."""
    if segment is None:
        return None
    wanted = segment.key
    return {
        pk for pk, (key, _label) in lead_groups(organization, segment.by).items() if key == wanted
    }


# --- the ladder and the stage history --------------------------------------------------


@dataclass(frozen=True)
class Ladder:
    """The organization's stages in ladder order (position, then id)."""

    stages: tuple[Stage, ...]

    @classmethod
    def of(cls, organization: Organization) -> Ladder:
        stages = tuple(Stage.objects.for_org(organization).order_by("position", "id"))
        if not stages:
            raise ValueError(f"{organization} has no stages")
        return cls(stages)

    # computed once per ladder (the reference calls them for every lead and step)
    @functools.cached_property
    def index(self) -> dict[int, int]:
        return {s.pk: i for i, s in enumerate(self.stages)}

    @functools.cached_property
    def lost(self) -> frozenset[int]:
        """Indexes of the lost stages (reached only by entering them)."""
        return frozenset(i for i, s in enumerate(self.stages) if s.kind == StageKind.LOST)

    @functools.cached_property
    def climbing(self) -> tuple[int, ...]:
        """Indexes of the stages that are not lost: open and won, in ladder order."""
        return tuple(i for i, s in enumerate(self.stages) if s.kind != StageKind.LOST)

    def report_order(self) -> list[int]:
        """Ladder order with the lost stage(s) last."""
        return [*self.climbing, *sorted(self.lost)]

    def find(self, stage: Stage | str) -> int:
        """The index of a stage given as a Stage of this ladder or as its key."""
        for i, s in enumerate(self.stages):
            if (isinstance(stage, Stage) and s.pk == stage.pk) or s.key == stage:
                return i
        raise ValueError(f"no stage {stage!r} on this organization's ladder")

    def reaches(self, entered: int, target: int) -> bool:
        """Whether entering stage ``entered`` reaches stage ``target``.

        A lost stage is reached only by entering it; any other stage by entering it or any
        later stage on the ladder that is not lost.
        """
        lost = self.lost
        if target in lost:
            return entered == target
        return entered not in lost and entered >= target


#: a lead's stage changes as (at, ladder index of the stage entered), oldest first
History = list[tuple[datetime, int]]


def stage_history(
    organization: Organization,
    ladder: Ladder,
    leads: set[int] | None = None,
    until: datetime | None = None,
) -> dict[int, History]:
    """Every lead's stage changes (the first, from nothing, included), oldest first.

    Ties in time keep the order they were written in (id). ``until``: changes before it only.
    """
    index = ladder.index
    rows = StageChange.objects.for_org(organization)
    if until is not None:
        rows = rows.filter(at__lt=until)
    out: dict[int, History] = defaultdict(list)
    for lead, to_stage, at in (
        rows.order_by("lead_id", "at", "id")
        .values_list("lead_id", "to_stage_id", "at")
        .iterator(chunk_size=5000)
    ):
        if leads is None or lead in leads:
            out[lead].append((at, index[to_stage]))
    return out


def reach_dates(history: History, ladder: Ladder) -> list[datetime | None]:
    """When the lead first reached each stage of the ladder (None: never).

    Changes are oldest first, so the first entry that reaches a stage is its reach date.
    """
    reach: list[datetime | None] = [None] * len(ladder.stages)
    lost = ladder.lost
    top = -1  # the highest not-lost stage reached so far; all below it are reached too
    for at, entered in history:
        if entered in lost:
            if reach[entered] is None:
                reach[entered] = at
        elif entered > top:
            for i in range(top + 1, entered + 1):
                if i not in lost:
                    reach[i] = at
            top = entered
    return reach


def observed_dates(history: History, ladder: Ladder) -> list[datetime | None]:
    """When the lead was first *observed* at each stage: its first stage change into that
    stage itself (None: never). A stage reached only by entering a later one was skipped."""
    seen: list[datetime | None] = [None] * len(ladder.stages)
    for at, entered in history:
        if seen[entered] is None:
            seen[entered] = at
    return seen


def skipped_at(reach: datetime | None, observed: datetime | None) -> bool:
    """Whether a stage reached at ``reach`` was skipped then: not observed at it by that
    moment (reached by entering a later stage)."""
    return reach is not None and (observed is None or observed > reach)


def reached_after(
    history: History, ladder: Ladder, target: int, since: datetime, within: timedelta | None
) -> bool:
    """Whether the lead reached ``target`` at or after ``since`` (and within the window)."""
    for at, entered in history:
        if at < since:
            continue
        if within is not None and at - since > within:
            return False
        if ladder.reaches(entered, target):
            return True
    return False


# --- rates ------------------------------------------------------------------------------


def min_n() -> int:
    return int(getattr(settings, "KEEPSCORE_MIN_N", 20))


def rate(k: int, n: int) -> RateFigure:
    """k of n with its 95% Wilson interval; ``enough`` once n reaches the minimum."""
    if not 0 <= k <= n:
        raise ValueError(f"a rate needs 0 <= k <= n, got k={k}, n={n}")
    interval = stats.wilson(k, n)
    low, high = interval if interval is not None else (None, None)
    return RateFigure(
        k=k,
        n=n,
        rate=k / n if n else None,
        ci_low=low,
        ci_high=high,
        enough=n >= min_n(),
    )


def _window(within_days: int | None) -> timedelta | None:
    if within_days is None:
        return None
    if isinstance(within_days, bool) or not isinstance(within_days, int) or within_days < 0:
        raise ValueError(f"within_days is a whole number of days >= 0, got {within_days!r}")
    return timedelta(days=within_days)


# --- conversion and the funnel -----------------------------------------------------------


@dataclass(frozen=True)
class Conversion:
    """A cohort conversion (k of n) and, beside it, the flow into the target stage."""

    rate: RateFigure
    flow: int


def _entered(history: History, stage: int, period: Period) -> bool:
    return any(entered == stage and period.holds(at) for at, entered in history)


def conversion(
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


@dataclass(frozen=True)
class StageCount:
    key: str
    name: str
    reached: int  # leads whose reach date for the stage is in the period
    entered: int  # flow: leads with a stage change into the stage dated in the period
    skipped: int = 0  # of the reached, those that reached it by entering a later stage


@dataclass(frozen=True)
class StepConversion:
    """A step's cohort conversion. A step between two stages judges the leads first observed
    at the first one in the period; the overall step (``overall``: the first stage to won)
    every lead that entered the funnel in the period, at whatever stage."""

    from_key: str
    to_key: str
    rate: RateFigure
    overall: bool = False

    def as_dict(self) -> dict[str, Any]:
        r = self.rate
        return {
            "from": self.from_key,
            "to": self.to_key,
            "overall": self.overall,
            "k": r.k,
            "n": r.n,
            "rate": r.rate,
            "ci_low": r.ci_low,
            "ci_high": r.ci_high,
            "enough": r.enough,
        }


@dataclass(frozen=True)
class FunnelGroup:
    key: str
    label: str
    stages: list[StageCount]
    conversions: list[StepConversion]

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "stages": [
                {
                    "key": s.key,
                    "name": s.name,
                    "reached": s.reached,
                    "entered": s.entered,
                    "skipped": s.skipped,
                }
                for s in self.stages
            ],
            "conversions": [c.as_dict() for c in self.conversions],
        }


@dataclass(frozen=True)
class FunnelReport:
    period: Period
    by: str | None
    within_days: int | None
    groups: list[FunnelGroup] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON shape (see docs/numbers.md)."""
        return {
            "period": self.period.as_dict(),
            "by": self.by,
            "within_days": self.within_days,
            "groups": [g.as_dict() for g in self.groups],
        }


def funnel_steps(ladder: Ladder) -> list[tuple[int, int]]:
    """Each consecutive pair of not-lost stages, then the first stage to each won stage (the
    overall steps, :func:`overall_steps`)."""
    climbing = ladder.climbing
    steps = list(itertools.pairwise(climbing))
    if climbing:
        first = climbing[0]
        for i, s in enumerate(ladder.stages):
            if s.kind == StageKind.WON and i != first and (first, i) not in steps:
                steps.append((first, i))
    return steps


def overall_steps(ladder: Ladder) -> frozenset[int]:
    """The indexes in :func:`funnel_steps` of the overall steps: their cohort is every lead
    entering the funnel in the period (its first stage change), whatever its first stage."""
    consecutive = max(len(ladder.climbing) - 1, 0)
    return frozenset(range(consecutive, len(funnel_steps(ladder))))


def cohort_since(history: History, ladder: Ladder, source: int, overall: bool) -> datetime | None:
    """When a lead joins a step's cohort: its first observation of the step's first stage,
    or (an overall step) its entry into the funnel."""
    if overall:
        return history[0][0] if history else None
    return observed_dates(history, ladder)[source]


class Tally:
    """One group's counts: reached, entered and skipped per stage, k and n per step."""

    def __init__(self, size: int, steps: int) -> None:
        self.reached = [0] * size
        self.entered = [0] * size
        self.skipped = [0] * size
        self.k = [0] * steps
        self.n = [0] * steps

    def busy(self) -> bool:
        return any(self.reached) or any(self.entered)


def funnel(
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
    return funnel_reference(organization, period, by, within_days)


def funnel_reference(
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


def report_assemble(
    ladder: Ladder,
    period: Period,
    by: str | None,
    within_days: int | None,
    tallies: dict[str, Tally],
    labels: dict[str, str],
) -> FunnelReport:
    """The report of these groups' counts (from the stage changes or from the summaries):
    stages in report order, a rate per step, groups by first-stage reach (most first), then
    label."""
    steps = funnel_steps(ladder)
    overall = overall_steps(ladder)
    first = ladder.climbing[0] if ladder.climbing else 0
    order = ladder.report_order()
    report_groups = [
        FunnelGroup(
            key=key,
            label=labels[key],
            stages=[
                StageCount(
                    key=ladder.stages[i].key,
                    name=ladder.stages[i].name,
                    reached=tally.reached[i],
                    entered=tally.entered[i],
                    skipped=tally.skipped[i],
                )
                for i in order
            ],
            conversions=[
                StepConversion(
                    from_key=ladder.stages[source].key,
                    to_key=ladder.stages[target].key,
                    rate=rate(tally.k[j], tally.n[j]),
                    overall=j in overall,
                )
                for j, (source, target) in enumerate(steps)
            ],
        )
        for key, tally in tallies.items()
    ]
    report_groups.sort(key=lambda g: (-g.stages[order.index(first)].reached, g.label, g.key))
    return FunnelReport(period=period, by=by, within_days=within_days, groups=report_groups)


def stage_entries(organization: Organization, period: Period) -> dict[str, int]:
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


def new_leads(organization: Organization, period: Period, segment: Segment | None = None) -> int:
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


def cycle_histogram(days: Iterable[float]) -> list[tuple[str, int]]:
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
    organization: Organization, period: Period, segment: Segment | None = None
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
        histogram=cycle_histogram(days),
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
    organization: Organization, period: Period, segment: Segment | None = None
) -> RateFigure:
    """won / (won + lost), each lead counted once by its last outcome dated in the period."""
    last = _last_outcomes(organization, period, segment)
    won = sum(1 for result, _reason in last.values() if result == DealOutcome.Result.WON)
    return rate(won, len(last))


def lost_reasons(organization: Organization, period: Period) -> list[tuple[str, int, float]]:
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


def money(organization: Organization, period: Period, segment: Segment | None = None) -> Money:
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


def stage_times(organization: Organization, period: Period) -> list[StageTime]:
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


def bucket_start(day: date, grain: str) -> date:
    """The first day of the week (Monday), month or quarter (Jan, Apr, Jul, Oct) of a day."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    raise ValueError(f"grain is one of {', '.join(GRAINS)}, not {grain!r}")


def _next_bucket(start: date, grain: str) -> date:
    if grain == "week":
        return start + timedelta(days=7)
    months = 1 if grain == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def buckets(period: Period, grain: str) -> list[date]:
    """The starts of every bucket that overlaps the period."""
    out, start = [], bucket_start(period.start, grain)
    while start <= period.end:
        out.append(start)
        start = _next_bucket(start, grain)
    return out


def bucket_count(period: Period, grain: str) -> int:
    """How many buckets of the grain overlap the period (``buckets``, counted)."""
    first = bucket_start(period.start, grain)
    if grain == "week":
        return (period.end - first).days // 7 + 1
    months = (period.end.year - first.year) * 12 + period.end.month - first.month
    return months // (1 if grain == "month" else 3) + 1


def activity_counts(
    organization: Organization, period: Period, grain: str = "month", by_member: bool = False
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
            m.pk: _member_label(m.user.first_name, m.user.last_name, m.user.email)
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
