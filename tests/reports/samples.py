"""Scorecards built by hand for the report tests (and the sample PDF)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from keepscore.funnel.stats import RateFigure
from keepscore.scorecard.pace import Projection
from keepscore.scorecard.types import MetricRow, ReviewEntry, Scorecard

EVIL = "=cmd|' /C calc'!A0 <script>alert(\"x\")</script>"


def metric(key: str, name: str, group: str, unit: str, value: float | None, **kw: Any) -> MetricRow:
    fields: dict[str, Any] = {
        "manual": False,
        "previous": None,
        "change": None,
        "same_month_last_year": None,
        "target": None,
        "ytd": None,
        "goal": None,
    }
    pace = kw.pop("pace", None)
    if pace is not None:
        fields["projection"] = Projection(
            goal=kw["goal"],
            ytd=kw["ytd"],
            pro_rata=kw["goal"] / 4,
            pace=pace,
            run_months=(date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)),
            run_rate=(kw["projected_year_end"] - kw["ytd"]) / 9,
            months_left=9.0,
            year_end=kw.pop("projected_year_end"),
            low=kw.pop("projected_low", None),
            high=kw.pop("projected_high", None),
        )
    fields.update(kw)
    if fields["change"] is None and value is not None and fields["previous"] is not None:
        fields["change"] = value - fields["previous"]
    return MetricRow(key=key, name=name, group=group, unit=unit, value=value, **fields)  # type: ignore[arg-type]


def trend(*values: float | None) -> tuple[float | None, ...]:
    return tuple(values)


def build_scorecard(*, organization: str = "Acme Plumbing & Heating") -> Scorecard:
    rows = (
        metric(
            "website_visitors",
            "Website visitors",
            "SUSPECT",
            "count",
            4210,
            manual=True,
            previous=3980,
            same_month_last_year=3100,
            target=4000,
            ytd=11800,
            goal=50000,
            projected_year_end=47200,
            projected_low=44000,
            projected_high=50500,
            pace="behind",
            trend=trend(2900, 3050, 3200, 3100, 3300, 3500, 3650, None, 3700, 3610, 3980, 4210),
        ),
        metric(
            "downloads",
            "Brochure downloads",
            "SUSPECT",
            "count",
            132,
            manual=True,
            previous=150,
            target=140,
            ytd=410,
            trend=trend(90, 95, 101, 110, 120, 118, 125, 130, 141, 128, 150, 132),
        ),
        metric(
            "new_prospects",
            "New prospects",
            "PROSPECT",
            "count",
            96,
            previous=88,
            same_month_last_year=70,
            target=90,
            ytd=265,
            goal=1000,
            projected_year_end=1040,
            projected_low=960,
            projected_high=1120,
            pace="on_track",
            trend=trend(60, 64, 70, 71, 75, 80, 78, 82, 85, 81, 88, 96),
        ),
        metric(
            "cost_per_lead",
            "Cost per lead",
            "PROSPECT",
            "money",
            41.5,
            previous=46.25,
            target=45,
            ytd=44.1,
            higher_is_better=False,
            trend=trend(55, 52, 50.5, 49, 51, 48, 47, 46, 45, 47.5, 46.25, 41.5),
        ),
        metric(
            "new_leads",
            "New leads",
            "LEAD",
            "count",
            48,
            previous=51,
            same_month_last_year=39,
            target=50,
            ytd=140,
            goal=600,
            projected_year_end=590,
            projected_low=540,
            projected_high=640,
            pace="behind",
            trend=trend(30, 33, 35, 38, 41, 40, 44, 46, 45, 43, 51, 48),
        ),
        metric(
            "lead_to_qualified",
            "Lead → qualified",
            "LEAD",
            "percent",
            0.56,
            previous=0.5,
            ytd=0.53,
            target=0.55,
            rate=RateFigure(k=28, n=50, rate=0.56, ci_low=0.4225, ci_high=0.6886, enough=True),
            trend=trend(0.4, 0.42, 0.45, None, 0.47, 0.5, 0.49, 0.52, 0.5, 0.51, 0.5, 0.56),
        ),
        metric(
            "sales_conversations",
            "Sales conversations",
            "LEAD",
            "count",
            61,
            previous=55,
            target=60,
            ytd=170,
            trend=trend(40, 42, 45, 47, 50, 49, 52, 55, 57, 53, 55, 61),
        ),
        metric(
            "close_rate",
            "Close rate",
            "CUSTOMER",
            "percent",
            0.375,
            previous=0.4,
            ytd=0.38,
            rate=RateFigure(k=3, n=8, rate=0.375, ci_low=0.1368, ci_high=0.6943, enough=False),
            trend=trend(None, None, 0.3, 0.33, 0.35, 0.4, 0.38, 0.36, 0.41, 0.39, 0.4, 0.375),
        ),
        metric(
            "new_customers",
            "New customers",
            "CUSTOMER",
            "count",
            14,
            previous=12,
            same_month_last_year=9,
            target=15,
            ytd=38,
            goal=160,
            projected_year_end=152,
            projected_low=131,
            projected_high=171,
            pace="behind",
            trend=trend(8, 9, 10, 9, 11, 12, 12, 13, 12, 11, 12, 14),
        ),
        metric(
            "revenue",
            "Revenue",
            "CUSTOMER",
            "money",
            118400.0,
            previous=102250.5,
            same_month_last_year=87000,
            target=110000,
            ytd=318000,
            goal=1300000,
            projected_year_end=1352000,
            projected_low=1210000,
            projected_high=1490000,
            pace="on_track",
            trend=trend(
                70e3, 74e3, 80e3, 78e3, 85e3, 90e3, 92e3, 95e3, 99e3, 97.5e3, 102250.5, 118400
            ),
        ),
        metric(
            "margin",
            "Gross margin",
            "CUSTOMER",
            "percent",
            0.31,
            previous=0.33,
            ytd=0.32,
            target=0.35,
            trend=trend(0.3, 0.31, 0.32, 0.33, 0.31, 0.3, 0.34, 0.33, 0.32, 0.31, 0.33, 0.31),
        ),
        metric(
            "sales_cycle",
            "Sales cycle (median)",
            "CUSTOMER",
            "days",
            34.5,
            previous=38,
            higher_is_better=False,
            ytd=36,
            trend=trend(45, 44, 42, 43, 41, 40, 39, 40, 38, 37, 38, 34.5),
        ),
        metric(
            "return_on_spend",
            "Return on spend",
            "CUSTOMER",
            "number",
            2.35,
            previous=None,
            trend=(),
        ),
        metric("evil", EVIL, "CUSTOMER", "count", None, manual=True),
    )
    reviews = (
        ReviewEntry(
            kind="note",
            text="Referral leads close twice as often as ads.\nAsk "
            "every new customer for an introduction.",
            by="Maria Lopez",
            at=datetime(2025, 4, 3, 9, 30, tzinfo=UTC),
        ),
        ReviewEntry(
            kind="decision",
            text="Move €1,500 of the ads budget to the referral programme for May and June.",
            by="owner@acme.test",
            at=datetime(2025, 4, 3, 10, 5, tzinfo=UTC),
        ),
        ReviewEntry(
            kind="note",
            text=EVIL,
            by='=HYPERLINK("http://x")',
            at=datetime(2025, 4, 3, 10, 15, tzinfo=UTC),
        ),
    )
    return Scorecard(
        organization=organization,
        slug="acme",
        month=date(2025, 3, 1),
        rows=rows,
        reviews=reviews,
        generated_at=datetime(2025, 4, 3, 11, 0, tzinfo=UTC),
    )


def sample_charts() -> dict[str, str]:
    from keepscore.reports.charts import RateRow, funnel_chart, histogram, rate_chart

    return {
        "Funnel": funnel_chart(
            [
                ("Suspect", 4210),
                ("Prospect", 96),
                ("Lead", 48),
                ("Qualified", 28),
                ("Proposal", 19),
                ("Customer", 14),
            ],
            title="Funnel, March 2025",
        ),
        "Conversion by channel": rate_chart(
            [
                RateRow("Referral", 28, 50, 0.56, 0.4225, 0.6886, True),
                RateRow("Website form", 31, 120, 0.2583, 0.1892, 0.3423, True),
                RateRow("Ads", 9, 64, 0.1406, 0.0758, 0.2465, True),
                RateRow("Trade show", 3, 8, 0.375, 0.1368, 0.6943, False),
            ],
            title="Lead → customer by channel (cohort, 90 days)",
        ),
        "Sales cycle": histogram(
            [
                ("0\u201314", 3),
                ("15\u201329", 9),
                ("30\u201344", 12),
                ("45\u201359", 6),
                ("60\u201389", 4),
                ("90+", 2),
            ],
            title="Sales cycle, won deals in the last 12 months",
            markers={"median": 34.5, "80th percentile": 58},
        ),
    }
