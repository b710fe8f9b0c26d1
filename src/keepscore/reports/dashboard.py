"""The dashboard, assembled: how the year is doing against its goals (a bar each, with the
honest projection and the sum behind it), this month so far against the same days of last
month, the cash runway beside the sales cycle, and the leads at each stage now — every
count linking to the leads it names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone
from django.utils.safestring import SafeString

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add
from keepscore.common.periods import Period
from keepscore.economics.models import CashPosition
from keepscore.economics.selectors import cash_current, runway_months
from keepscore.funnel import summary
from keepscore.leads.links import counted, leads_url
from keepscore.leads.models import Lead, Stage, StageChange
from keepscore.reports import presenter
from keepscore.reports.charts import GoalBar, format_value, goal_bar
from keepscore.scorecard import selectors as scorecard_selectors
from keepscore.scorecard.compute import scorecard_for
from keepscore.scorecard.figures import cycle_quantile
from keepscore.scorecard.links import LEAD_COUNTS, metric_leads_url
from keepscore.scorecard.types import MetricRow, Scorecard

#: the month-to-date figures, in this order
FLOW_METRICS = ("new_leads", "sales_conversations", "customers", "revenue", "close_rate")


@dataclass(frozen=True)
class GoalProgress:
    row: MetricRow
    text: presenter.RowText
    bar: SafeString | None  # None: the goal's metric does not add up over months


@dataclass(frozen=True)
class FlowRow:
    row: MetricRow
    text: presenter.RowText
    link: str  # the leads the figure counts ("" when it counts none)
    previous_link: str  # the leads of last month's figure (the same days while the month runs)


@dataclass(frozen=True)
class StageTile:
    stage: Stage
    now: int
    entered: int
    now_link: str
    entered_link: str


@dataclass(frozen=True)
class Cash:
    position: CashPosition
    runway: Decimal | None
    cycle_days: float | None  # the year's median sales cycle
    text: str


@dataclass(frozen=True)
class Dashboard:
    card: Scorecard
    month_to_date: str
    compared_with: str
    goals: list[GoalProgress]
    flows: list[FlowRow]
    cash: Cash | None
    stages: list[StageTile]


def _goal(row: MetricRow) -> GoalProgress:
    text = presenter.row_text(row)
    p = row.projection
    bar = None
    if p is not None and row.goal is not None:
        share = f" ({p.ytd / p.goal:.0%} of it)" if p.goal else ""
        summary = (
            f"{row.name}: {format_value(p.ytd, row.unit)} so far{share} against a goal of "
            f"{format_value(p.goal, row.unit)}; {text.pace.lower()}: {text.projection}"
        )
        bar = goal_bar(
            GoalBar(
                label=row.name,
                unit=row.unit,
                ytd=p.ytd,
                goal=p.goal,
                pro_rata=p.pro_rata,
                projected=p.year_end,
                low=p.low,
                high=p.high,
                pace=p.pace,
                summary=summary,
            )
        )
    return GoalProgress(row=row, text=text, bar=bar)


def _flow_links(
    organization: Organization, row: MetricRow, month: date, today: date
) -> tuple[str, str]:
    """The lead lists of a flow's figures: this month so far, and the same days of last
    month; "" for a count of 0 or a flow that is not a count of leads."""
    if row.key not in LEAD_COUNTS:
        return "", ""
    before = Period.first_days(month_add(month, -1), today.day)
    urls = counted(
        {
            "value": metric_leads_url(organization, row.key, month, today, {}),
            "previous_same_days": metric_leads_url(
                organization, row.key, before.start, before.end, {}
            ),
        },
        lambda figure: getattr(row, figure),
    )
    return urls.get("value", ""), urls.get("previous_same_days", "")


def dashboard(organization: Organization, today: date) -> Dashboard:
    month = today.replace(day=1)
    goals = scorecard_selectors.goals_for(organization=organization, year=month.year)
    card = scorecard_for(
        organization, month, today=today, only={*FLOW_METRICS, *goals}, last_year_same_days=False
    )
    rows = {r.key: r for r in card.rows}
    flows = [
        FlowRow(
            rows[k], presenter.row_text(rows[k]), *_flow_links(organization, rows[k], month, today)
        )
        for k in FLOW_METRICS
        if k in rows
    ]
    position = cash_current(organization=organization, on=today)
    cash = None
    if position is not None:
        runway = runway_months(position=position)
        cycle = cycle_quantile(organization, month.replace(month=1), month, 0.5)
        text = (
            f"{format_value(float(position.cash_on_hand), 'money')} in cash ÷ "
            f"{format_value(float(position.monthly_fixed_costs), 'money')} of fixed costs a "
            f"month (entered for {position.month:%B %Y})"
        )
        cash = Cash(position=position, runway=runway, cycle_days=cycle, text=text)
    tiles = [
        StageTile(
            stage=stage,
            now=now,
            entered=entered,
            now_link=leads_url(organization, stage=stage.pk),
            entered_link=leads_url(organization, entered=stage.pk, entered_from=month),
        )
        for stage, now, entered in stage_counts_this_month(organization=organization)
    ]
    return Dashboard(
        card=card,
        month_to_date=presenter.month_to_date(card),
        compared_with=presenter.compared_with(card),
        goals=[_goal(rows[k]) for k in goals if k in rows],
        flows=flows,
        cash=cash,
        stages=tiles,
    )


def stage_counts_this_month(*, organization: Organization) -> list[tuple[Stage, int, int]]:
    """Per stage: leads now at it, and entries into it since the start of this month."""
    now = timezone.localtime()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if summary.ready(organization):
        current = summary.stage_counts(organization)
    else:
        current = dict(
            Lead.objects.for_org(organization)
            .values("stage")
            .annotate(n=Count("id"))
            .values_list("stage", "n")
        )
    stages = list(Stage.objects.for_org(organization))
    entered = dict(
        StageChange.objects.for_org(organization)
        # each stage named: a range of the (organization, to_stage, at) index per stage,
        # instead of reading every entry of the organization's history
        .filter(to_stage__in=[s.pk for s in stages], at__gte=month_start)
        .values("to_stage")
        .annotate(n=Count("id"))
        .values_list("to_stage", "n")
    )
    return [(s, current.get(s.pk, 0), entered.get(s.pk, 0)) for s in stages]
