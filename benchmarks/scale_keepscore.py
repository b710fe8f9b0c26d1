"""The scale benchmark's keepscore side: the same figures as scale_duck, from keepscore's
own code (funnel services, the scorecard when it exists, the pages), flattened to the same
names so the two can be compared.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

#: absolute tolerance for rates and days (counts and money must be equal)
TOLERANCE = 1e-9


class NotBuilt(Exception):
    """The code this operation times does not exist yet."""


def month_figures(organization: Any, period: Any) -> dict[str, Any]:
    """One month's figures from keepscore.funnel.selectors (what the scorecard is made of)."""
    from keepscore.funnel import selectors as f

    out: dict[str, Any] = {"new_leads": f.new_leads(organization=organization, period=period)}
    for key, n in f.stage_entries(organization=organization, period=period).items():
        out[f"entered.{key}"] = n
    (bucket,) = f.activity_counts(organization=organization, period=period, grain="month")
    for kind, name in (
        ("call_attempt", "call_attempts"),
        ("connect", "connects"),
        ("qualifying", "qualifying"),
        ("meeting", "meetings"),
        ("presentation", "presentations"),
        ("proposal", "proposals"),
    ):
        out[f"activities.{kind}"] = getattr(bucket, name)
    out["sales_conversations"] = bucket.sales_conversations
    money = f.money(organization=organization, period=period)
    out["won"] = money.won
    out["revenue"] = money.revenue
    out["cost"] = money.cost
    out["margin"] = money.margin
    out["margin_pct"] = money.margin_pct
    close = f.close_rate(organization=organization, period=period)
    out["close_rate"] = (close.k, close.n)
    out["lost"] = close.n - close.k
    cycle = f.sales_cycle(organization=organization, period=period)
    out["cycle.count"] = cycle.count
    out["cycle.median"] = cycle.median_days
    out["cycle.p80"] = cycle.p80_days
    (group,) = f.funnel(organization=organization, period=period).groups
    for c in group.conversions:
        out[f"conversion.{c.from_key}>{c.to_key}"] = (c.rate.k, c.rate.n)
    return out


def scorecard_compute() -> Callable[[Any, Any], Any]:
    """``keepscore.scorecard.compute.scorecard_for``, or NotBuilt."""
    try:
        module = importlib.import_module("keepscore.scorecard.compute")
    except ImportError as error:
        raise NotBuilt(f"keepscore.scorecard.compute: {error}") from None
    compute = getattr(module, "scorecard_for", None)
    if compute is None:
        raise NotBuilt("keepscore.scorecard.compute has no scorecard_for")
    return compute  # type: ignore[no-any-return]


#: scorecard metric key → the reference's name (conversion_<a>_<b> and entered_<s> follow the
#: ladder and are mapped by scorecard_flat)
SCORECARD_KEYS = {
    "new_leads": "new_leads",
    "call_attempts": "activities.call_attempt",
    "connects": "activities.connect",
    "sales_conversations": "sales_conversations",
    "qualifying_conversations": "activities.qualifying",
    "presentations": "activities.presentation",
    "proposals": "activities.proposal",
    "customers": "won",
    "lost": "lost",
    "close_rate": "close_rate",
    "revenue": "revenue",
    "margin": "margin",
    "margin_pct": "margin_pct",
    "sales_cycle_median": "cycle.median",
    "sales_cycle_p80": "cycle.p80",
}


def scorecard_flat(scorecard: Any, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """A Scorecard's computed rows under the reference's names (rates as (k, n))."""
    conversion = {f"conversion_{a}_{b}": f"conversion.{a}>{b}" for a, b in pairs}
    out: dict[str, Any] = {}
    for row in scorecard.rows:
        if row.manual:
            continue
        name = SCORECARD_KEYS.get(row.key) or conversion.get(row.key)
        if name is None and row.key.startswith("entered_"):
            name = "entered." + row.key[len("entered_") :]
        if name is None:
            continue
        if row.rate is not None:
            out[name] = (row.rate.k, row.rate.n)
        elif row.unit == "percent" and row.value is not None:
            # the scorecard's percentages are fractions 0..1, the reference's points 0..100
            out[name] = row.value * 100
        else:
            out[name] = row.value
    return out


def funnel_flat(report: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"groups": sorted(g.key for g in report.groups)}
    for g in report.groups:
        for s in g.stages:
            out[f"{g.key}.reached.{s.key}"] = s.reached
            out[f"{g.key}.entered.{s.key}"] = s.entered
        for c in g.conversions:
            out[f"{g.key}.conversion.{c.from_key}>{c.to_key}"] = (c.rate.k, c.rate.n)
    return out


def leads_page(organization: Any, channel: Any, per_page: int) -> dict[str, Any]:
    from keepscore.leads.selectors import LeadFilters, lead_list

    leads = lead_list(organization=organization, filters=LeadFilters(channel=channel))
    return {"count": leads.count(), "ids": list(leads.values_list("pk", flat=True)[:per_page])}


def dashboard(organization: Any) -> dict[str, Any]:
    from django.utils import timezone

    from keepscore.reports.dashboard import dashboard as the_dashboard
    from keepscore.reports.dashboard import stage_counts_this_month

    cash = the_dashboard(organization, timezone.localdate()).cash
    out: dict[str, Any] = {"cycle.ytd_median": None if cash is None else cash.cycle_days}
    for stage, now, entered in stage_counts_this_month(organization=organization):
        out[f"{stage.key}.now"] = now
        out[f"{stage.key}.entered"] = entered
    return out


def board(organization: Any) -> dict[str, Any]:
    from keepscore.reports.board import board as the_board

    out: dict[str, Any] = {}
    for column in the_board(organization).columns:
        if not column.collapsed:
            out[f"{column.stage.key}.count"] = column.count
            out[f"{column.stage.key}.total"] = column.total
    return out


def activity_report(organization: Any, period: Any) -> dict[str, Any]:
    """The activity report per month and member, as ``scale_duck.activity_report``."""
    from keepscore.funnel.activity import COUNT_FIELDS
    from keepscore.funnel.activity import activity_report as the_report

    rows, _totals = the_report(organization, period, "month", True)
    out: dict[str, Any] = {}
    for row in rows:
        member = "none" if row.member_id is None else row.member_id
        for name in COUNT_FIELDS:
            if getattr(row, name):
                out[f"{row.bucket_start.isoformat()}.{member}.{name}"] = getattr(row, name)
    return out


def jobs_report(organization: Any, period: Any) -> dict[str, Any]:
    """Marketing & sales per member and month, as ``scale_duck.jobs_report``."""
    from keepscore.funnel.jobs import jobs_report as the_report

    out: dict[str, Any] = {}
    for member in the_report(organization, period).members:
        who = "none" if member.member_id is None else member.member_id
        for month, counts in member.months:
            for name in (
                "leads_sourced",
                "leads_qualified",
                "sales_conversations",
                "proposals",
                "won_deals",
                "revenue",
            ):
                if getattr(counts, name):
                    out[f"{who}.{month.isoformat()}.{name}"] = getattr(counts, name)
            if counts.won_deals:
                out[f"{who}.{month.isoformat()}.margin"] = counts.margin
    return out


def objections_report(organization: Any, period: Any) -> dict[str, Any]:
    """The objections report's tables, as ``scale_duck.objections_report``."""
    from keepscore.funnel.objections import objections_report as the_report

    report = the_report(organization, period)
    ranked = [t.tag for t in report.tags]
    out: dict[str, Any] = {f"tag.{t.tag}": t.count for t in report.tags}
    for prefix, rows in (
        ("month", report.months),
        ("stage", report.stages),
        ("channel", report.channels),
    ):
        for row in rows:
            for tag, n in zip(ranked, row.counts, strict=True):
                if n:
                    out[f"{prefix}.{row.key}.{tag}"] = n
    return out


def today(organization: Any, member: Any, now: Any) -> dict[str, Any]:
    """A member's Today page, as ``scale_duck.today``."""
    from keepscore.followups.today import today_for

    day = today_for(organization, member, now)
    return {
        "due.count": day.due_count,
        "due.overdue": day.overdue_count,
        "due.ids": [f.pk for f, _late in day.due],
        "without.count": day.without_next_step_count,
        "without.ids": [lead.pk for lead in day.without_next_step],
        "stalled.count": day.stalled_count,
        "stalled.ids": [lead.pk for lead in day.stalled],
    }


# --- agreement -----------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, tuple) or isinstance(b, tuple) or isinstance(a, list):
        return a == b
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        if isinstance(a, float) or isinstance(b, float):
            return math.isclose(float(a), float(b), rel_tol=0, abs_tol=TOLERANCE)
        return Decimal(a) == Decimal(b)
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=0, abs_tol=TOLERANCE)


def compare(
    keepscore: dict[str, Any], reference: dict[str, Any], only_keepscore: bool = False
) -> str:
    """ "" when they agree, else the first difference (and how many there are).

    ``only_keepscore``: compare only the names keepscore reports (a scorecard carries a
    subset of the reference's figures); otherwise a name missing on either side differs.
    """
    names = sorted(keepscore) if only_keepscore else sorted(set(keepscore) | set(reference))
    diffs = [
        f"{name}: keepscore {_shown(keepscore, name)} vs DuckDB {_shown(reference, name)}"
        for name in names
        if name not in keepscore
        or name not in reference
        or not _same(keepscore[name], reference[name])
    ]
    if not diffs:
        return ""
    more = f" (+{len(diffs) - 1} more)" if len(diffs) > 1 else ""
    return diffs[0] + more


def _shown(figures: dict[str, Any], name: str) -> str:
    return repr(figures[name]) if name in figures else "(missing)"
