"""Money indicators: the sales cycle against the cash runway (question 1), the margins (4).

An alert of :func:`cash_runway` pushes toward cash, one of :func:`margin_health` toward
margins (docs/focus.md).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, Sum

from keepscore.accounts.models import Organization
from keepscore.common.periods import Period
from keepscore.focus import trends
from keepscore.focus.indicators import DAYS_PER_MONTH, Indicator, confidence_of, percent
from keepscore.focus.reads import FEW_DEALS, Reads, end_of, summed
from keepscore.funnel.models import MonthCount
from keepscore.leads.models import DealOutcome


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
    confidence = confidence_of(r.cycle.count)
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


def _deals_reference(organization: Organization, r: Reads) -> dict[str, int]:
    """The deals won in the history's months: how many (n), those with a recorded cost
    (costed), those won below their cost (losses), from the rows."""
    since = end_of(r.months[0] - timedelta(days=1))
    end = end_of(Period.month(r.months[-1]).end)
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
    revenue = summed(r, "costed_revenue", r.months)
    margin = summed(r, "margin", r.months)
    pct = margin / revenue if revenue else None
    monthly = []
    for m in r.months:
        rev = summed(r, "costed_revenue", [m])
        monthly.append(summed(r, "margin", [m]) / rev if rev else None)
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
    confidence = confidence_of(n) if n >= FEW_DEALS else "low"
    head = f"Margin {percent(pct)} over the last 12 months; {losses} of {n} deals won below cost"
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
