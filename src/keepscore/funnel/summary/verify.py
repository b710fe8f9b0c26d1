"""Checking the summaries (``keepscore summaries verify``), two ways:

- **tables**: every stored count against the counts rebuilt from the history (in a
  savepoint that is rolled back): what upkeep missed, row by row;
- **figures**: what the readers answer against the reference computations of
  ``keepscore.funnel.selectors`` over the stored rows, every month from the history's first
  to its last: the funnel by nothing, channel and owner (ever and within each window), each
  month's additive figures, the close rate and sales cycle of each calendar year, and the
  leads now at each stage. The funnel reference is :func:`funnel_months`: the reference's
  own steps (``stage_history``, ``reach_dates``, ``reached_after``) over every month in one
  pass, tested equal to ``funnel_reference`` month by month; and the marketing & sales
  report's counts per member and month (``keepscore.funnel.jobs``: its grouped queries).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, Max, Min, OuterRef

from keepscore.accounts.models import Organization
from keepscore.activities.models import Activity
from keepscore.common.months import month_add, month_of
from keepscore.common.periods import Period
from keepscore.funnel import selectors as ref
from keepscore.funnel import stats
from keepscore.funnel.funnel_report import (
    FunnelReport,
    Tally,
    cohort_since,
    funnel_steps,
    overall_steps,
    report_assemble,
)
from keepscore.funnel.groupings import ALL_KEY, ALL_LABEL, lead_groups
from keepscore.funnel.ladder import (
    History,
    Ladder,
    observed_dates,
    reach_dates,
    skipped_at,
    stage_history,
)
from keepscore.funnel.models import WINDOWS
from keepscore.funnel.summary import readers, upkeep
from keepscore.funnel.summary.cycles import cycle_quantiles
from keepscore.history.projections import Difference
from keepscore.leads.models import DealOutcome, Lead, StageChange

NAME = "summaries"
#: differences reported at most per check (the count goes on in the last line)
MAX_REPORTED = 50


def verify(organization: Organization) -> list[Difference]:
    """The summaries' differences from the history (none: they are right)."""
    if not Lead.objects.for_org(organization).exists() and not upkeep.ready(organization):
        return []
    if not upkeep.ready(organization):
        return [
            Difference(
                NAME,
                "state",
                "not built for this ladder and version",
                "built (keepscore summaries rebuild)",
            )
        ]
    return [*tables(organization), *figures(organization)]


# --- tables -----------------------------------------------------------------------------


def snapshot(organization: Organization) -> dict[tuple[Any, ...], int]:
    """Every non-zero count of the organization's summary tables, by table and key."""
    out: dict[tuple[Any, ...], int] = {}
    for model in upkeep.TABLES:
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if f.attname not in ("id", "organization_id")
        ]
        counts = [f for f in fields if f in ("n", "value", "closed", "won", "cycle_us", *_ks())]
        keys = [f for f in fields if f not in counts]
        for row in model.objects.filter(organization=organization).values(*fields):
            for count in counts:
                if row[count]:
                    out[(model.__name__, count, *(row[k] for k in keys))] = row[count]
    return out


def _ks() -> tuple[str, ...]:
    return ("k_ever", *(f"k_{d}" for d in WINDOWS))


class _Undo(Exception):
    pass


def tables(organization: Organization) -> list[Difference]:
    """Stored counts against the counts rebuilt from the history."""
    stored = snapshot(organization)
    rebuilt: dict[tuple[Any, ...], int] = {}
    try:
        with transaction.atomic():
            upkeep.rebuild(organization)
            rebuilt = snapshot(organization)
            raise _Undo
    except _Undo:
        pass
    found = [
        Difference(NAME, " ".join(str(part) for part in key), stored.get(key), rebuilt.get(key))
        for key in sorted(set(stored) | set(rebuilt), key=str)
        if stored.get(key) != rebuilt.get(key)
    ]
    return _capped(found, "tables")


# --- figures ----------------------------------------------------------------------------


def _first_reach(history: History, ladder: Ladder, target: int, since: Any) -> Any:
    """The first moment at or after ``since`` when the lead reached ``target`` (None: never):
    ``reached_after(history, ladder, target, since, w)`` is ``at is not None and at - since
    <= w`` (the history is in time order)."""
    for at, entered in history:
        if at >= since and ladder.reaches(entered, target):
            return at
    return None


def funnel_months(
    organization: Organization,
    months: Sequence[date],
    groupings: Sequence[str | None] = (None,),
    windows: Sequence[int | None] = (None,),
) -> dict[tuple[str | None, date, int | None], FunnelReport]:
    """``funnel_reference(organization, Period.month(m), by, w)`` for every grouping ``by``,
    month ``m`` and window ``w``, in one pass over the stage history."""
    ladder = Ladder.of(organization)
    steps = funnel_steps(ladder)
    overall = overall_steps(ladder)
    size = len(ladder.stages)
    histories = stage_history(organization, ladder)
    groups = {by: lead_groups(organization, by) for by in groupings}
    wanted = set(months)
    limits = {w: ref._window(w) for w in windows}
    tallies: dict[tuple[str | None, date, int | None], dict[str, Tally]] = defaultdict(dict)
    labels: dict[str | None, dict[str, str]] = {by: {} for by in groupings}

    def tally(by: str | None, month: date, window: int | None, key: str) -> Tally:
        found = tallies[(by, month, window)]
        if key not in found:
            found[key] = Tally(size, len(steps))
        return found[key]

    for lead, history in histories.items():
        keys = {}
        for by in groupings:
            if lead in groups[by]:
                keys[by], labels[by][keys[by]] = groups[by][lead]
        if not keys:
            continue
        reach = reach_dates(history, ladder)
        seen = observed_dates(history, ladder)
        reach_months = [None if at is None else month_of(at) for at in reach]
        skips = [skipped_at(at, seen[i]) for i, at in enumerate(reach)]
        entries = {(month_of(at), entered) for at, entered in history}
        cohorts = []
        for j, (source, target) in enumerate(steps):
            since = cohort_since(history, ladder, source, j in overall)
            month = None if since is None else month_of(since)
            if since is not None and month in wanted:
                first = _first_reach(history, ladder, target, since)
                cohorts.append((j, month, None if first is None else first - since))
        for by, key in keys.items():
            for window, limit in limits.items():
                for i, month in enumerate(reach_months):
                    if month in wanted:
                        counted = tally(by, month, window, key)
                        counted.reached[i] += 1
                        counted.skipped[i] += skips[i]
                for month, entered in entries:
                    if month in wanted:
                        tally(by, month, window, key).entered[entered] += 1
                for j, month, delay in cohorts:
                    counted = tally(by, month, window, key)
                    counted.n[j] += 1
                    if delay is not None and (limit is None or delay <= limit):
                        counted.k[j] += 1
    out = {}
    for by in groupings:
        for month in months:
            for window in windows:
                found = tallies.get((by, month, window), {})
                if by is None:
                    found.setdefault(ALL_KEY, Tally(size, len(steps)))
                    labels[by][ALL_KEY] = ALL_LABEL
                busy = {k: t for k, t in found.items() if by is None or t.busy()}
                out[(by, month, window)] = report_assemble(
                    ladder, Period.month(month), by, window, busy, labels[by]
                )
    return out


def month_figures(organization: Organization, month: date) -> dict[str, Any]:
    """What ``readers.month_counts`` holds for the month (but ``reached.*``), from the
    reference selectors."""
    period = Period.month(month)
    out: dict[str, Any] = {"new_leads": ref.new_leads(organization=organization, period=period)}
    since, until = period.bounds()
    won = DealOutcome.objects.filter(lead_id=OuterRef("pk"), result=DealOutcome.Result.WON)
    out["won_leads"] = (
        Lead.objects.for_org(organization)
        .filter(first_touch_at__gte=since, first_touch_at__lt=until)
        .filter(Exists(won))
        .count()
    )
    for key, n in ref.stage_entries(organization=organization, period=period).items():
        out[f"entered.{key}"] = n
    (bucket,) = ref.activity_counts(organization=organization, period=period)
    for kind, name in ref._KIND_FIELD.items():
        out[f"activities.{kind}"] = getattr(bucket, name)
    out["sales_conversations"] = bucket.sales_conversations
    out["conversations_won"] = bucket.conversations_won
    money = ref.money(organization=organization, period=period)
    out["won"], out["revenue"], out["cost"] = money.won, money.revenue, money.cost
    out["costed"], out["costed_revenue"] = money.costed, money.costed_revenue
    out["losses"] = (
        DealOutcome.objects.for_org(organization)
        .filter(result=DealOutcome.Result.WON, at__gte=since, at__lt=until, cost__gt=F("revenue"))
        .count()
    )
    close = ref.close_rate(organization=organization, period=period)
    out["closed"], out["closed_won"] = close.n, close.k
    return out


def _months_of(organization: Organization) -> list[date]:
    """Every month from the earliest moment of the organization's history to the latest (the
    tables check covers the months outside them: nothing is stored there)."""
    touches = Lead.objects.for_org(organization).aggregate(lo=Min("first_touch_at"))
    changes = StageChange.objects.for_org(organization).aggregate(lo=Min("at"), hi=Max("at"))
    activities = Activity.objects.for_org(organization).aggregate(hi=Max("at"))
    lows = [at for at in (touches["lo"], changes["lo"]) if at is not None]
    highs = [at for at in (changes["hi"], activities["hi"]) if at is not None]
    if not lows:
        return []
    first, last = month_of(min(lows)), month_of(max(highs or lows))
    out, month = [], first
    while month <= last:
        out.append(month)
        month = month_add(month, 1)
    return out


def _leaves(a: Any, b: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """The differing leaves of two JSON-like values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            yield from _leaves(a.get(key), b.get(key), f"{path}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            name = x.get("key") if isinstance(x, dict) and "key" in x else i
            yield from _leaves(x, y, f"{path}[{name}]")
    elif a != b:
        yield path, a, b


def figures(organization: Organization) -> list[Difference]:
    """What the readers answer against the reference computations."""
    months = _months_of(organization)
    if not months:
        return []
    found: list[Difference] = []
    expected = funnel_months(organization, months, upkeep.SUMMARY_GROUPINGS, (None, *WINDOWS))
    for (by, month, window), report in expected.items():
        got = readers.funnel(organization, Period.month(month), by, window)
        for path, stored, wanted in _leaves(got.as_dict(), report.as_dict(), "funnel"):
            where = f"{month:%Y-%m} by {by or 'nothing'}, within {window or 'ever'}: {path}"
            found.append(Difference(NAME, where, stored, wanted))
    counts = readers.month_counts(organization, months[0], months[-1])
    for month in months:
        expected_counts = month_figures(organization, month)
        (group,) = expected[(None, month, None)].groups
        for stage in group.stages:
            expected_counts[f"reached.{stage.key}"] = stage.reached
        for name, wanted in expected_counts.items():
            stored = counts[month].get(name)
            if stored != wanted:
                found.append(Difference(NAME, f"{month:%Y-%m} {name}", stored, wanted))
    found.extend(_spans(organization, months))
    found.extend(_jobs(organization, months))
    found.extend(_objections(organization, months))
    now = Counter(Lead.objects.for_org(organization).values_list("stage_id", flat=True))
    stored_now = readers.stage_counts(organization)
    for stage_id in sorted(set(now) | set(stored_now)):
        if stored_now.get(stage_id, 0) != now.get(stage_id, 0):
            where = f"leads now at stage {stage_id}"
            found.append(Difference(NAME, where, stored_now.get(stage_id), now[stage_id]))
    return _capped(found, "figures")


def _objections(organization: Organization, months: list[date]) -> list[Difference]:
    """The objections per month, tag, stage at the time and channel against one grouped
    query on the objections (the report's reference)."""
    from keepscore.funnel import objections  # the report reads the summaries

    period = Period(months[0], Period.month(months[-1]).end)
    stored: Counter[tuple[Any, ...]] = Counter()
    wanted: Counter[tuple[Any, ...]] = Counter()
    for month, tag, stage, channel, n in readers.objection_months(organization, period):
        stored[(month, tag, stage, channel)] += n
    for month, tag, stage, channel, n in objections._grouped(organization, period):
        wanted[(month, tag, stage, channel)] += n
    return [
        Difference(
            NAME,
            f"{key[0]:%Y-%m} objections {key[1]} at stage {key[2]} channel {key[3]}",
            stored.get(key),
            wanted.get(key),
        )
        for key in sorted(set(stored) | set(wanted), key=str)
        if stored.get(key) != wanted.get(key)
    ]


def _spans(organization: Organization, months: list[date]) -> list[Difference]:
    """The close rate and the sales cycle of each calendar year (clipped to the months)."""
    found = []
    for year in sorted({m.year for m in months}):
        inside = [m for m in months if m.year == year]
        period = Period(inside[0], Period.month(inside[-1]).end)
        close = ref.close_rate(organization=organization, period=period)
        stored = readers.span_closed(organization, period.start, period.end)
        if stored != (close.k, close.n):
            where = f"{year} close rate (won, closed)"
            found.append(Difference(NAME, where, stored, (close.k, close.n)))
        cycles = readers.cycle_days(organization, period.start, period.end)
        days = sorted(d for month_days in cycles.values() for d in month_days)
        expected = ref.sales_cycle(organization=organization, period=period).days
        if days != expected:
            found.append(Difference(NAME, f"{year} sales cycle days", days, expected))
        # the median and 80th percentile as the scorecard reads them (by day counts)
        quantiles = cycle_quantiles(organization, period.start, period.end, (0.5, 0.8))
        wanted = {q: stats.quantile(expected, q) for q in (0.5, 0.8)} if expected else {}
        if quantiles != wanted:
            where = f"{year} sales cycle median and 80th percentile"
            found.append(Difference(NAME, where, quantiles, wanted))
    return found


def _jobs(organization: Organization, months: list[date]) -> list[Difference]:
    """The marketing & sales report's counts (``keepscore.funnel.jobs``) of every month, per
    member, against its grouped queries on the stored rows."""
    from keepscore.funnel import jobs

    period = Period(months[0], Period.month(months[-1]).end)
    ladder = Ladder.of(organization)
    stage = jobs.qualified_stage(ladder)
    chosen = jobs.period_months(period)
    expected = jobs.reference_cells(organization, chosen, ladder, stage)
    stored = jobs.summary_cells(organization, chosen, stage)
    found = []
    for member, i in sorted(set(expected) | set(stored), key=lambda k: (k[0] or 0, k[1])):
        got, wanted = stored.get((member, i), {}), expected.get((member, i), {})
        if got != wanted:
            where = f"{months[i]:%Y-%m} marketing & sales, member {member or 'none'}"
            found.append(Difference(NAME, where, got, wanted))
    return found


def _capped(found: list[Difference], what: str) -> list[Difference]:
    if len(found) <= MAX_REPORTED:
        return found
    more = len(found) - MAX_REPORTED
    return [*found[:MAX_REPORTED], Difference(NAME, f"{what}: {more} more", "…", "…")]
