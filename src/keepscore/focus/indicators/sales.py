"""Sales indicators: conversations (question 2), the conversion's trend, qualified, objections.

Each one's alert pushes toward sales (docs/focus.md); the late-stage stalls, which push
there too, are in :mod:`keepscore.focus.indicators.stall`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Min, Q

from keepscore.accounts.models import Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, Objection
from keepscore.common.months import month_end, month_of
from keepscore.common.periods import Period
from keepscore.focus import trends
from keepscore.focus.indicators import Indicator, confidence_of, p_text, percent, share_change
from keepscore.focus.reads import RECENT_MONTHS, Reads, conversion_over, end_of, summed
from keepscore.funnel import summary
from keepscore.funnel.stats import min_n, rate
from keepscore.leads.models import DealOutcome


def _conversations(
    organization: Organization, spans: dict[str, date], r: Reads
) -> dict[str, tuple[int, int]]:
    """For each span (from its first date to the end of the date): the sales conversations,
    and of the leads talked to then, those won at or after their first conversation of the
    span. One scan of the conversations from the earliest span on, counted in the database."""
    starts = {name: end_of(since - timedelta(days=1)) for name, since in spans.items()}
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
    monthly = [summed(r, "sales_conversations", [m]) for m in r.months]
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
        confidence_of(total),
        text,
        evidence,
    )


def conversion_trend(organization: Organization, r: Reads) -> Indicator:
    """Leads keep coming while lead → customer conversion falls (a Cochran-Armitage trend
    test over the monthly cohorts that had the whole window to convert)."""
    mature = r.mature
    ks = [r.conversion.get(m, (0, 0))[0] for m in mature]
    ns = [r.conversion.get(m, (0, 0))[1] for m in mature]
    trend = trends.proportion_trend(ks, ns)
    k, n = sum(ks), sum(ns)
    half = len(mature) // 2
    early, late = conversion_over(r, mature[:half]), conversion_over(r, mature[half:])
    early_rate = rate(*early)
    late_rate = rate(*late)
    recent = summed(r, "new_leads", r.months[-RECENT_MONTHS:])
    before = summed(r, "new_leads", r.months[-2 * RECENT_MONTHS : -RECENT_MONTHS])
    leads_change = share_change(recent, before)
    leads_trend = trends.count_trend([summed(r, "new_leads", [m]) for m in r.months])
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
        f"{percent(late_rate.rate)} of them became customers within {r.window} days, "
        f"down from {percent(early_rate.rate)}"
        if trend.falling
        else f"{percent(k / n)} of leads became customers within {r.window} days"
    )
    if trend.falling and keep_coming:
        status = "alert"
        text = f"{lead_words} but only {rates} (trend {p_text(trend.p_value)})."
    elif trend.falling:
        status = "watch"
        text = f"Conversion is falling ({rates}), and so are new leads."
    else:
        status = "ok"
        trend_words = "rising" if trend.rising else "no falling trend"
        text = f"{rates}; {trend_words} ({p_text(trend.p_value)})." if trend.p_value else rates
        text = text[0].upper() + text[1:]
    return Indicator(
        "conversion_trend",
        title,
        None,
        status,
        "sales",
        k / n,
        "percent",
        confidence_of(n),
        text,
        evidence,
    )


def qualified_vs_revenue(organization: Organization, r: Reads) -> Indicator:
    """Good leads but revenue not growing with them: qualified leads rising (Poisson score
    test) while revenue is not (Mann-Kendall)."""
    counts = [float(r.qualified.get(m, 0)) for m in r.months]
    revenue = [summed(r, "revenue", [m]) for m in r.months]
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
    change = share_change(recent, before)
    grow = f" ({change * 100:+.0f}% over the last 3 months)" if change is not None else ""
    if q_trend.rising and not r_trend.rising:
        status = "alert"
        text = (
            f"Qualified leads are rising{grow} ({p_text(q_trend.p_value)}) but revenue is "
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
        confidence_of(total),
        text,
        evidence,
    )


def _objections_reference(
    organization: Organization, r: Reads
) -> tuple[dict[date, int], list[tuple[str, int]]]:
    """The objections of each month of the history, and the three most common tags of the
    recent months with their counts (most first, then by tag), from the rows."""
    start = end_of(r.months[0] - timedelta(days=1))
    end = end_of(Period.month(r.months[-1]).end)
    rows = Objection.objects.for_org(organization).filter(at__gte=start, at__lt=end)
    monthly: dict[date, int] = defaultdict(int)
    for at in rows.values_list("at", flat=True):
        monthly[month_of(at)] += 1
    recent_start = end_of(r.months[-RECENT_MONTHS] - timedelta(days=1))
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
    whole = Period(r.months[0], month_end(r.months[-1]))
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
        text = f"Objections are rising ({p_text(trend.p_value)}); most common lately: {top}"
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
        confidence_of(total),
        text,
        evidence,
    )
