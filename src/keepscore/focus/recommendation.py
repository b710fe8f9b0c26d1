"""The recommendation: diagnose() — the side to focus on, its confidence and its sentence.

:func:`diagnose` answers PRODUCT.md's five questions and tests its indicators
(:mod:`keepscore.focus.indicators`) for one date, from the organization's data as it stood
at the end of that date (:func:`keepscore.focus.reads.reads`).

The recommendation, in order: not enough data → ``not_enough_data`` (and what is missing);
a cash alert → ``cash``; a margins alert → ``margins``; else the side with more alerts
(``sales`` or ``marketing``), ``balanced`` when neither has more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.focus.indicators import SIDES, Indicator
from keepscore.focus.indicators.channels import best_channels
from keepscore.focus.indicators.goal import lead_volume, pipeline_coverage, plan_gap, read_goal
from keepscore.focus.indicators.money import cash_runway, margin_health
from keepscore.focus.indicators.sales import (
    conversion_trend,
    objections_rising,
    qualified_vs_revenue,
    sales_conversations,
)
from keepscore.focus.indicators.stall import late_stage_stall
from keepscore.focus.reads import Reads, conversion_over, reads, summed
from keepscore.funnel.stats import min_n
from keepscore.leads.late import STALL_WAIT

#: the recommendations


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


def _missing(organization: Organization, r: Reads) -> list[str]:
    """What is needed before any advice: enough leads that had time to convert."""
    _k, n = conversion_over(r, r.mature)
    leads = summed(r, "new_leads", r.months) + summed(r, "new_leads", [r.as_of.replace(day=1)])
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
        return f"follow up the {n} late-stage lead{'s' if n != 1 else ''} older than {STALL_WAIT}"
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
    goal = read_goal(organization, r)
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
