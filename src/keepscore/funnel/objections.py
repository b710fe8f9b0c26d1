"""The objections report: why people hesitate or say no, ranked, by month, by the stage the
lead was at when the objection was logged, by the lead's channel, and each tag's trend.

Shared by the page ``o/<org>/funnel/objections/``, ``keepscore objections`` and
``GET /objections/report``; ``objections_trend`` is what the focus diagnosis reads for
"objections rising".

How it counts:

- an objection belongs to the period when its ``at`` (local date, ``settings.TIME_ZONE``) is
  in it; the **share** of a tag is its count over all objections of the period;
- the **stage at the time** is the stage the lead was at on ``objection.at``: the stage entered
  by its last stage change at or before that moment (the append-only history; ties in time by
  id). A lead moved later still counts at the earlier stage. An objection dated before the
  lead's first stage change (imported data) has no stage: "(before the first stage)";
- the **channel** is the lead's original source (first touch);
- the **trend** of a tag over the last N full months (12 by default): its counts per month,
  the least-squares slope (objections per month, per month), and a score test for a log-linear
  (Poisson) trend. Given the tag's N objections, under "no trend" each one's month is equally
  likely to be any of the k months; ``U = Σ count_t · (t - t̄)`` has mean 0 and variance
  ``N · Σ (t - t̄)² / k``; ``z = U / √var`` and the p-value is two-sided (normal). A tag is
  **rising** when the slope is positive, p < 0.05 and it has at least ``KEEPSCORE_MIN_N``
  (default 20) objections in the window (fewer: not enough data to say).

The counts of whole months are read from the summaries (``ObjectionCount``, kept by the
history recorder with the stage at the time); a partial first or last month, or an
organization whose summaries are not built, is one grouped query on the objections (the
stage at the time a correlated subquery on the stage history's (lead, at) index; months
bucketed with a CASE over month bounds computed here, as in ``keepscore.funnel.jobs``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, F, OuterRef, Subquery
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.activities.models import Objection, ObjectionTag
from keepscore.common.months import month_start
from keepscore.common.periods import Period
from keepscore.funnel import summary
from keepscore.funnel.jobs import month_bucket, month_split, period_check, period_months
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.stats import min_n
from keepscore.funnel.summary import readers
from keepscore.leads.models import Channel, StageChange

#: the trend's window, in full months, by default and at most
TREND_MONTHS = 12
MAX_TREND_MONTHS = 36
#: a rising trend needs p below this
ALPHA = 0.05
NO_STAGE_KEY, NO_STAGE_LABEL = "", "(before the first stage)"
TAG_LABELS = dict(ObjectionTag.choices)
#: tags in the order of the model's choices (ties in rank keep it)
TAG_ORDER = {tag: i for i, tag in enumerate(ObjectionTag.values)}


# --- the trend test ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """A count series' least-squares slope and the score test for a log-linear trend."""

    slope_per_month: float
    z: float | None
    p_value: float | None


def trend_test(counts: list[int]) -> Trend:
    """The slope of ``counts`` (one per month, oldest first) on the month index, and the
    two-sided p-value of the Poisson score test for trend (None without any count or with
    fewer than two months)."""
    k = len(counts)
    if k < 2:
        return Trend(0.0, None, None)
    mean_t = (k - 1) / 2
    deviations = [t - mean_t for t in range(k)]
    sxx = sum(d * d for d in deviations)
    total = sum(counts)
    u = sum(c * d for c, d in zip(counts, deviations, strict=True))
    slope = u / sxx  # Σ(t - t̄)(y - ȳ) = Σ(t - t̄)·y, since Σ(t - t̄) = 0
    if total == 0:
        return Trend(0.0, None, None)
    z = u / math.sqrt(total * sxx / k)
    return Trend(slope, z, math.erfc(abs(z) / math.sqrt(2)))


@dataclass(frozen=True)
class TagTrend:
    tag: str
    label: str
    months: list[date]
    counts: list[int]
    total: int
    slope_per_month: float
    z: float | None
    p_value: float | None
    enough: bool
    rising: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "label": self.label,
            "months": [m.isoformat() for m in self.months],
            "counts": self.counts,
            "total": self.total,
            "slope_per_month": self.slope_per_month,
            "z": self.z,
            "p_value": self.p_value,
            "enough": self.enough,
            "rising": self.rising,
        }


def trend_window(months: int, end: date | None = None) -> Period:
    """The ``months`` full calendar months ending with ``end``'s month (default: last month)."""
    if not 2 <= months <= MAX_TREND_MONTHS:
        raise ValueError(f"months is from 2 to {MAX_TREND_MONTHS}, not {months}")
    if end is None:
        end = timezone.localdate().replace(day=1) - timedelta(days=1)
    return Period(month_start(end, back=months - 1), Period.month(end).end)


def objections_trend(
    organization: Organization,
    months: int = TREND_MONTHS,
    end: date | None = None,
    kept: bool | None = None,
) -> list[TagTrend]:
    """Every tag's counts over the last ``months`` full months (ending with ``end``'s month;
    default the month before this one), its slope, p-value and whether it is rising; tags
    with the most objections first. ``kept``: whether the summaries can be read (asked when
    None)."""
    window = trend_window(months, end)
    buckets = period_months(window)
    since, until = window.bounds()
    counts: dict[str, list[int]] = {tag: [0] * len(buckets) for tag in ObjectionTag.values}
    if kept is None:
        kept = summary.ready(organization)
    if kept:  # whole months: the summaries hold them
        index = {b.start: i for i, b in enumerate(buckets)}
        for month, tag, _stage, _channel, n in readers.objection_months(organization, window):
            if tag in counts:
                counts[tag][index[month]] += n
    else:
        rows = (
            Objection.objects.for_org(organization)
            .filter(at__gte=since, at__lt=until)
            .order_by()
            .annotate(bucket=month_bucket("at", buckets))
            .values("tag", "bucket")
            .annotate(n=Count("pk"))
        )
        for row in rows:
            if row["tag"] in counts:
                counts[row["tag"]][row["bucket"]] = row["n"]
    least = min_n()
    out = []
    for tag, series in counts.items():
        test = trend_test(series)
        total = sum(series)
        enough = total >= least
        rising = (
            enough
            and test.slope_per_month > 0
            and test.p_value is not None
            and test.p_value < ALPHA
        )
        out.append(
            TagTrend(
                tag=tag,
                label=TAG_LABELS[tag],
                months=[b.start for b in buckets],
                counts=series,
                total=total,
                slope_per_month=test.slope_per_month,
                z=test.z,
                p_value=test.p_value,
                enough=enough,
                rising=rising,
            )
        )
    out.sort(key=lambda t: (-t.total, TAG_ORDER[t.tag]))
    return out


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TagCount:
    tag: str
    label: str
    count: int
    share: float | None


@dataclass(frozen=True)
class Breakdown:
    """A row of a breakdown table: a month, a stage or a channel, with a count per tag (in the
    ranked tags' order) and its total."""

    key: str
    label: str
    counts: list[int]
    total: int

    def as_dict(self, tags: list[str]) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "counts": dict(zip(tags, self.counts, strict=True)),
            "total": self.total,
        }


@dataclass(frozen=True)
class ObjectionsReport:
    period: Period
    total: int
    tags: list[TagCount]
    months: list[Breakdown]
    stages: list[Breakdown]
    channels: list[Breakdown]
    trends: list[TagTrend]

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON (``keepscore objections --format json`` and
        ``GET /objections/report``)."""
        order = [t.tag for t in self.tags]
        return {
            "period": self.period.as_dict(),
            "total": self.total,
            "tags": [
                {"tag": t.tag, "label": t.label, "count": t.count, "share": t.share}
                for t in self.tags
            ],
            "months": [b.as_dict(order) for b in self.months],
            "stages": [b.as_dict(order) for b in self.stages],
            "channels": [b.as_dict(order) for b in self.channels],
            "trends": [t.as_dict() for t in self.trends],
        }


def _row(key: str, label: str, tally: dict[str, int], order: list[str]) -> Breakdown:
    counts = [tally.get(tag, 0) for tag in order]
    return Breakdown(key=key, label=label, counts=counts, total=sum(counts))


def _grouped(
    organization: Organization, period: Period
) -> list[tuple[date, str, int | None, int, int]]:
    """The period's objections as (month, tag, stage at the time, channel, how many), in one
    grouped query on the objections (the reference; and a partial month of a report)."""
    buckets = period_months(period)
    since, until = period.bounds()
    stage_then = (
        StageChange.objects.filter(lead_id=OuterRef("lead_id"), at__lte=OuterRef("at"))
        .order_by("-at", "-id")
        .values("to_stage_id")[:1]
    )
    rows = (
        Objection.objects.for_org(organization)
        .filter(at__gte=since, at__lt=until)
        .order_by()
        .annotate(
            bucket=month_bucket("at", buckets),
            stage_then=Subquery(stage_then),
            channel_key=F("lead__channel_id"),
        )
        .values("tag", "bucket", "stage_then", "channel_key")
        .annotate(n=Count("pk"))
    )
    return [
        (buckets[r["bucket"]].start, r["tag"], r["stage_then"], r["channel_key"], r["n"])
        for r in rows
    ]


def _counted(
    organization: Organization, period: Period, kept: bool | None = None
) -> list[tuple[date, str, int | None, int, int]]:
    """What :func:`_grouped` answers: the whole months from the summaries (ObjectionCount,
    kept by the history recorder), a partial first or last month from the objections.
    ``kept``: whether the summaries can be read (asked when None)."""
    if not (summary.ready(organization) if kept is None else kept):
        return _grouped(organization, period)
    edges, whole = month_split(period)
    rows = [row for edge in edges for row in _grouped(organization, edge)]
    if whole is not None:
        rows.extend(readers.objection_months(organization, whole))
    return rows


def objections_report(
    organization: Organization, period: Period, trend_months: int = TREND_MONTHS
) -> ObjectionsReport:
    """The period's objections: ranked tags with count and share; month by tag, stage at the
    time by tag and channel by tag tables; each tag's trend over the ``trend_months`` months
    ending with the period's last month."""
    period_check(period)
    buckets = period_months(period)
    kept = summary.ready(organization)
    rows = _counted(organization, period, kept)
    by_tag: dict[str, int] = defaultdict(int)
    by_month: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_stage: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_channel: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    index = {b.start: i for i, b in enumerate(buckets)}
    for month, tag, stage, channel, n in rows:  # per month, tag, stage and channel
        by_tag[tag] += n
        by_month[index[month]][tag] += n
        by_stage[stage][tag] += n
        by_channel[channel][tag] += n
    total = sum(by_tag.values())
    ranked = sorted(by_tag, key=lambda tag: (-by_tag[tag], TAG_ORDER.get(tag, len(TAG_ORDER))))
    tags = [
        TagCount(tag, TAG_LABELS.get(tag, tag), by_tag[tag], by_tag[tag] / total) for tag in ranked
    ]
    months = [
        _row(b.start.isoformat(), f"{b.start:%b %Y}", by_month.get(i, {}), ranked)
        for i, b in enumerate(buckets)
    ]
    ladder = Ladder.of(organization)
    stages = [
        _row(ladder.stages[i].key, ladder.stages[i].name, by_stage[ladder.stages[i].pk], ranked)
        for i in ladder.report_order()
        if ladder.stages[i].pk in by_stage
    ]
    if None in by_stage:
        stages.append(_row(NO_STAGE_KEY, NO_STAGE_LABEL, by_stage[None], ranked))
    channel_of = {
        pk: (key, name)
        for pk, key, name in Channel.objects.for_org(organization)
        .filter(pk__in=list(by_channel))
        .values_list("pk", "key", "name")
    }
    channels = sorted(
        (_row(*channel_of[pk], tally, ranked) for pk, tally in by_channel.items()),
        key=lambda b: (-b.total, b.label.lower()),
    )
    trends = objections_trend(organization, trend_months, end=period.end, kept=kept)
    return ObjectionsReport(
        period=period,
        total=total,
        tags=tags,
        months=months,
        stages=stages,
        channels=channels,
        trends=trends,
    )


def objections_default_period(today: date | None = None) -> Period:
    """The last 12 full calendar months before the month of ``today`` (local date)."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    return Period(month_start(end, back=11), end)
