"""A month's scorecard as a report: its charts and the PDF, the same for the page, the
export, the worker, the review mail and the CLI."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add
from keepscore.funnel.services import Ladder, Period, funnel
from keepscore.reports.charts import RateRow, funnel_chart, rate_chart
from keepscore.scorecard.types import Scorecard

if TYPE_CHECKING:
    from keepscore.plan.check import PlanCheck


def funnel_svg(organization: Organization, period: Period, title: str) -> str:
    report = funnel(organization, period)
    ladder = Ladder.of(organization)
    lost = {ladder.stages[i].key for i in ladder.lost}
    stages = [(s.name, s.reached) for s in report.groups[0].stages if s.key not in lost]
    return funnel_chart(stages, title=title)


def _channel_svg(organization: Organization, month: date) -> str:
    period = Period(month_add(month, -11), Period.month(month).end)
    report = funnel(organization, period, by="channel")
    rows = []
    for group in report.groups:
        overall = group.conversions[-1] if group.conversions else None
        if overall is None:
            continue
        r = overall.rate
        rows.append(RateRow(group.label, r.k, r.n, r.rate, r.ci_low, r.ci_high, r.enough))
    first, last = period.start, period.end
    return rate_chart(
        rows, title=f"Lead to customer by channel, {first:%b %Y} to {last:%b %Y} (cohorts)"
    )


def charts_for(organization: Organization, month: date) -> dict[str, str]:
    return {
        f"The funnel, {month:%B %Y}": funnel_svg(
            organization, Period.month(month), f"Leads reaching each stage, {month:%B %Y}"
        ),
        "Conversion by channel, last 12 months": _channel_svg(organization, month),
    }


def _plan_check(organization: Organization, card: Scorecard) -> PlanCheck | None:
    from keepscore.plan.check import plan_check_of_month

    today = card.extra.get("today")
    return plan_check_of_month(
        organization, card.month, today=today if isinstance(today, date) else None
    )


def plan_sentence(organization: Organization, card: Scorecard) -> str:
    """The month read against the saved plan, as the scorecard page says it ("" without a
    plan, or in January while it runs)."""
    found = _plan_check(organization, card)
    return "" if found is None else found.sentence


def plan_json(organization: Organization, card: Scorecard) -> dict[str, object] | None:
    """The same check as the scorecard JSON's ``plan`` (None without a plan)."""
    found = _plan_check(organization, card)
    if found is None:
        return None
    return {
        "verdict": found.verdict,
        "sentence": found.sentence,
        "through": f"{found.through:%Y-%m}",
        "leads": found.leads,
        "leads_plan": round(found.leads_plan, 2),
        "customers": found.customers,
        "customers_plan": round(found.customers_plan, 2),
    }


def month_pdf(organization: Organization, card: Scorecard) -> bytes:
    """The scorecard ``card`` of ``organization`` as its A4 PDF: the tables, the plan check,
    the charts and the review (``PdfUnavailable`` without the PDF library)."""
    from keepscore.reports.scorecard import scorecard_pdf

    return scorecard_pdf(
        card, charts_for(organization, card.month), plan=plan_sentence(organization, card)
    )
