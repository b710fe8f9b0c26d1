"""Late-stage stalls: open leads waiting at a late stage past STALL_DAYS, and what they are worth.

The late stages and ``STALL_DAYS`` are :mod:`keepscore.leads.late`'s: Today, the lead list and
the board count stalled leads by the same.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import Count, Min, Q, Sum

from keepscore.accounts.models import Organization
from keepscore.focus.indicators import Indicator
from keepscore.focus.reads import Reads, end_of
from keepscore.funnel import stats
from keepscore.funnel.ladder import stage_history
from keepscore.leads.late import STALL_DAYS, STALL_WAIT
from keepscore.leads.models import DealOutcome, Lead

#: days at a late stage after which an open lead counts as stalled
#: stalled late-stage leads that make an alert
STALL_ALERT = 5


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
    since = end_of(r.months[0] - timedelta(days=1))
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
    stage for more than ``STALL_WAIT`` (3 weeks), and those worth more than the median deal."""
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
            f"{count} open leads have waited more than {STALL_WAIT} at a late "
            f"stage ({where}), {found.high_value} of them worth more than the median deal"
        )
    elif count:
        status = "watch"
        text = f"{count} open leads have waited more than {STALL_WAIT} at a late stage ({where})."
        text = text.replace("1 open leads have", "1 open lead has") if count == 1 else text
    else:
        status = "ok"
        text = f"No late-stage lead has waited more than {STALL_WAIT}."
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
