"""Marketing and sales, two jobs: per member and month, the member's time split beside what
each job produced. Shared by the page ``o/<org>/funnel/jobs/``, ``keepscore jobs`` and
``GET /jobs``.

What each column counts:

- **leads sourced** (marketing): leads whose first touch is in the month and that the member
  brought in (``Lead.sourced_by``: the member who recorded the lead, or an import's column),
  whoever owns and works them now.
- **leads qualified** (marketing): leads the member sourced that first reached the
  qualified stage in the month. The qualified stage is the first open stage behind the
  qualification gate (``requires_qualification``), else the stage keyed ``qualified``; a lead
  reaches it by entering it or any later stage that is not lost (as in the funnel). None when
  the ladder has neither.
- **sales conversations** (sales): activities logged by the member, dated in the month, a
  connect or meeting with someone who can buy.
- **proposals** (sales): "proposal sent" activities logged by the member.
- **won deals** (sales): won outcomes dated in the month of leads the member owns, with their
  revenue and margin (of the deals whose cost was recorded; None when none was: a missing
  cost is unknown, not 0). A lead won twice counts twice, as on the scorecard.

Work credited to no member (leads without owner, activities logged by no one) is the
"(no member)" row, so that the members' rows add up to the totals.

Every count is one grouped query (GROUP BY member and month) on the database. Months are
local calendar months (``settings.TIME_ZONE``); the first and last month of a period count only
the days inside it. Month bounds are computed here and the database buckets each row with a
``CASE`` over them (the same on SQLite and PostgreSQL, and on the indexes' ranges).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    F,
    IntegerField,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Round
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import SALES_CONVERSATION_KINDS, Activity, ActivityKind
from keepscore.common.months import month_start
from keepscore.common.periods import Period, bucket_count
from keepscore.funnel.filters import PeriodProblem
from keepscore.funnel.groupings import member_label
from keepscore.funnel.ladder import Ladder
from keepscore.leads.models import DealOutcome, Lead, Stage, StageChange, StageKind

#: the longest period the monthly reports take: ten years of months
MAX_MONTHS = 120
NO_MEMBER = "(no member)"
TOTAL = "Total"
#: the count columns, in the order shown, with their headings and their job
COUNT_COLUMNS = (
    ("leads_sourced", "Leads sourced", "marketing"),
    ("leads_qualified", "Leads qualified", "marketing"),
    ("sales_conversations", "Sales conversations", "sales"),
    ("proposals", "Proposals", "sales"),
    ("won_deals", "Won deals", "sales"),
)
COUNT_FIELDS = tuple(name for name, _label, _job in COUNT_COLUMNS)
CENT = Decimal("0.01")


# --- months ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    """A calendar month of a period: its first day and its ``[since, until)`` inside it."""

    start: date
    since: datetime
    until: datetime


def period_months(period: Period) -> list[Month]:
    """Every calendar month overlapping the period, clipped to the period's bounds."""
    since, until = period.bounds()
    out: list[Month] = []
    first = period.start.replace(day=1)
    while first <= period.end:
        following = month_start(first, back=-1)
        low = max(since, Period.month(first).bounds()[0])
        high = min(until, Period.month(first).bounds()[1])
        out.append(Month(first, low, high))
        first = following
    return out


def month_split(period: Period) -> tuple[list[Period], Period | None]:
    """The period as its partial first and last months (read from the history's rows) and
    the whole months between (what the summaries answer; None without any)."""
    first = period.start if period.start.day == 1 else month_start(period.start, back=-1)
    after = period.end + timedelta(days=1)
    last = period.end if after.day == 1 else period.end.replace(day=1) - timedelta(days=1)
    if first > last:  # no whole month
        return [period], None
    edges = []
    if first > period.start:
        edges.append(Period(period.start, first - timedelta(days=1)))
    if last < period.end:
        edges.append(Period(last + timedelta(days=1), period.end))
    return edges, Period(first, last)


def period_check(period: Period) -> None:
    """PeriodProblem (for ``from``) when the period spans more than ``MAX_MONTHS`` months."""
    months = bucket_count(period, "month")
    if months > MAX_MONTHS:
        raise PeriodProblem(
            "from",
            f"Choose a period of at most {MAX_MONTHS} months; "
            f"{period.start} to {period.end} is {months}.",
        )


def month_bucket(field_name: str, months: list[Month]) -> Any:
    """The index of the month a row's ``field_name`` falls in (rows already within the
    period): CASEs over the months' bounds, computed on the database, nested as a binary
    search (about log2(months) comparisons a row, not one per month)."""

    def split(low: int, high: int) -> Any:  # months[low:high], high - low >= 1
        if high - low == 1:
            return Value(low)
        mid = (low + high) // 2
        return Case(
            When(**{f"{field_name}__lt": months[mid].since}, then=split(low, mid)),
            default=split(mid, high),
            output_field=IntegerField(),
        )

    return split(0, len(months))


def cents(field_name: str, only: Q | None = None) -> Any:
    """The sum of a money column as whole cents: exact on SQLite too (it sums floats)."""
    return Coalesce(Sum(Cast(Round(F(field_name) * 100), BigIntegerField()), filter=only), 0)


def _grouped(rows: QuerySet[Any], member: str, at: str, months: list[Month]) -> QuerySet[Any]:
    return (
        rows.order_by()
        .annotate(member_key=F(member), bucket=month_bucket(at, months))
        .values("member_key", "bucket")
    )


# --- the qualified stage ----------------------------------------------------------------------


def qualified_stage(ladder: Ladder) -> Stage | None:
    """The first open stage behind the qualification gate, else the stage keyed
    ``qualified``; None when there is neither."""
    gated = [s for s in ladder.stages if s.requires_qualification and s.kind == StageKind.OPEN]
    if gated:
        return gated[0]
    return next((s for s in ladder.stages if s.key == "qualified"), None)


def reaching_stages(ladder: Ladder, target: Stage) -> list[int]:
    """The ids of the stages whose entry reaches ``target``: it and every later stage that is
    not lost."""
    index = ladder.find(target)
    return [s.pk for i, s in enumerate(ladder.stages) if ladder.reaches(i, index)]


# --- the grouped counts -----------------------------------------------------------------------

#: (member id or None, month index) -> {column: value}
Cells = dict[tuple[int | None, int], dict[str, Any]]


def _count_sourced(org: Organization, months: list[Month], cells: Cells) -> None:
    since, until = months[0].since, months[-1].until
    rows = Lead.objects.for_org(org).filter(first_touch_at__gte=since, first_touch_at__lt=until)
    for row in _grouped(rows, "sourced_by_id", "first_touch_at", months).annotate(n=Count("pk")):
        cells[(row["member_key"], row["bucket"])]["leads_sourced"] = row["n"]


def _count_qualified(
    org: Organization, months: list[Month], stage_ids: list[int], cells: Cells
) -> None:
    """Leads by who sourced them and the month of their first change into a reaching stage:
    the first change per lead grouped on the database, then grouped again by member and
    month."""
    since, until = months[0].since, months[-1].until
    first = (
        StageChange.objects.for_org(org)
        .filter(to_stage_id__in=stage_ids, at__lt=until)
        .order_by()
        .values("lead_id")
        .annotate(first_at=Min("at"), owner_key=Min("lead__sourced_by_id"))
        .filter(first_at__gte=since)
        .annotate(bucket=month_bucket("first_at", months))
        .values("owner_key", "bucket")
    )
    sql, params = first.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT q.owner_key, q.bucket, COUNT(*) FROM ({sql}) q GROUP BY q.owner_key, q.bucket",
            params,
        )
        for owner, bucket, n in cursor.fetchall():
            cells[(owner, bucket)]["leads_qualified"] = n


def _count_activities(org: Organization, months: list[Month], cells: Cells) -> None:
    since, until = months[0].since, months[-1].until
    conversation = Q(with_buyer=True, kind__in=SALES_CONVERSATION_KINDS)
    rows = Activity.objects.for_org(org).filter(
        conversation | Q(kind=ActivityKind.PROPOSAL), at__gte=since, at__lt=until
    )
    for row in _grouped(rows, "by_id", "at", months).annotate(
        conversations=Count("pk", filter=conversation),
        proposals=Count("pk", filter=Q(kind=ActivityKind.PROPOSAL)),
    ):
        cell = cells[(row["member_key"], row["bucket"])]
        cell["sales_conversations"] = row["conversations"]
        cell["proposals"] = row["proposals"]


def _count_won(org: Organization, months: list[Month], cells: Cells) -> None:
    since, until = months[0].since, months[-1].until
    rows = DealOutcome.objects.for_org(org).filter(
        result=DealOutcome.Result.WON, at__gte=since, at__lt=until
    )
    costed = Q(cost__isnull=False)
    for row in _grouped(rows, "lead__owner_id", "at", months).annotate(
        n=Count("pk"),
        n_costed=Count("pk", filter=costed),
        revenue_cents=cents("revenue"),
        cost_cents=cents("cost"),
        costed_cents=cents("revenue", costed),
    ):
        cell = cells[(row["member_key"], row["bucket"])]
        revenue = Decimal(row["revenue_cents"]) / 100
        cell.update(won_deals=row["n"], revenue=revenue.quantize(CENT), costed=row["n_costed"])
        margin = (Decimal(row["costed_cents"]) - Decimal(row["cost_cents"])) / 100
        cell["margin"] = margin.quantize(CENT)


# --- the report -----------------------------------------------------------------------------


@dataclass(frozen=True)
class JobCounts:
    """One member's (or everyone's) output in one month or over the period."""

    leads_sourced: int = 0
    leads_qualified: int | None = 0
    sales_conversations: int = 0
    proposals: int = 0
    won_deals: int = 0
    revenue: Decimal = Decimal("0.00")
    costed: int = 0  # the won deals with a recorded cost
    #: of the costed deals (see ``margin``)
    costed_margin: Decimal = Decimal("0.00")

    @property
    def margin(self) -> Decimal | None:
        """The margin of the won deals with a recorded cost; None when there are won deals
        but none has one (unknown, not 100%)."""
        if self.won_deals and not self.costed:
            return None
        return self.costed_margin

    def plus(self, other: JobCounts) -> JobCounts:
        qualified = (
            None
            if self.leads_qualified is None or other.leads_qualified is None
            else self.leads_qualified + other.leads_qualified
        )
        return JobCounts(
            leads_sourced=self.leads_sourced + other.leads_sourced,
            leads_qualified=qualified,
            sales_conversations=self.sales_conversations + other.sales_conversations,
            proposals=self.proposals + other.proposals,
            won_deals=self.won_deals + other.won_deals,
            revenue=self.revenue + other.revenue,
            costed=self.costed + other.costed,
            costed_margin=self.costed_margin + other.costed_margin,
        )

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in COUNT_FIELDS}
        data["revenue"] = str(self.revenue)
        data["margin"] = None if self.margin is None else str(self.margin)
        return data


@dataclass(frozen=True)
class MemberJobs:
    """A member's time split and both jobs' output, per month and over the period."""

    member_id: int | None
    label: str
    roles: list[str]
    marketing_share: int | None
    months: list[tuple[date, JobCounts]]
    total: JobCounts

    @property
    def sales_share(self) -> int | None:
        return None if self.marketing_share is None else 100 - self.marketing_share

    def as_dict(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "label": self.label,
            "roles": self.roles,
            "marketing_share": self.marketing_share,
            "sales_share": self.sales_share,
            "months": [{"month": m.isoformat(), **c.as_dict()} for m, c in self.months],
            "total": self.total.as_dict(),
        }


@dataclass(frozen=True)
class JobsReport:
    period: Period
    qualified_stage: Stage | None
    members: list[MemberJobs]
    months: list[tuple[date, JobCounts]] = field(default_factory=list)
    total: JobCounts = field(default_factory=JobCounts)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON (``keepscore jobs --format json`` and ``GET /jobs``)."""
        stage = self.qualified_stage
        return {
            "period": self.period.as_dict(),
            "qualified_stage": None if stage is None else {"key": stage.key, "name": stage.name},
            "members": [m.as_dict() for m in self.members],
            "totals": {
                "months": [{"month": m.isoformat(), **c.as_dict()} for m, c in self.months],
                "total": self.total.as_dict(),
            },
        }


def _counts(cell: dict[str, Any], qualified: bool) -> JobCounts:
    return JobCounts(
        leads_sourced=cell.get("leads_sourced", 0),
        leads_qualified=cell.get("leads_qualified", 0) if qualified else None,
        sales_conversations=cell.get("sales_conversations", 0),
        proposals=cell.get("proposals", 0),
        won_deals=cell.get("won_deals", 0),
        revenue=cell.get("revenue", Decimal("0.00")),
        costed=cell.get("costed", 0),
        costed_margin=cell.get("margin", Decimal("0.00")),
    )


def _sum(rows: list[JobCounts], qualified: bool) -> JobCounts:
    total = JobCounts(leads_qualified=0 if qualified else None)
    for row in rows:
        total = total.plus(row)
    return total


def reference_cells(
    organization: Organization, months: list[Month], ladder: Ladder, stage: Stage | None
) -> Cells:
    """The report's counts from the stored rows (the reference: a grouped query each)."""
    cells: Cells = defaultdict(dict)
    _count_sourced(organization, months, cells)
    if stage is not None:
        _count_qualified(organization, months, reaching_stages(ladder, stage), cells)
    _count_activities(organization, months, cells)
    _count_won(organization, months, cells)
    return cells


def summary_answers(organization: Organization, period: Period) -> bool:
    """Whether the summaries answer the period: whole local months, summaries ready."""
    from keepscore.funnel import summary

    return summary.supports(period, None, None) and summary.ready(organization)


def summary_cells(organization: Organization, months: list[Month], stage: Stage | None) -> Cells:
    """The same counts from the summaries (``MonthCount``; whole months only)."""
    from keepscore.funnel.summary.readers import jobs_cells

    found = jobs_cells(organization, [m.start for m in months], None if stage is None else stage.pk)
    return defaultdict(dict, found)


def jobs_report(organization: Organization, period: Period) -> JobsReport:
    """Every member of the organization (and "(no member)" when some work is credited to no
    one), with their split and per month of the period both jobs' counts; the totals."""
    period_check(period)
    months = period_months(period)
    ladder = Ladder.of(organization)
    stage = qualified_stage(ladder)
    if summary_answers(organization, period):
        cells = summary_cells(organization, months, stage)
    else:
        cells = reference_cells(organization, months, ladder, stage)
    qualified = stage is not None
    members = list(Membership.objects.filter(organization=organization).select_related("user"))
    # a lead's owner and an activity's author are members of the organization, or no one
    rows: list[tuple[int | None, str, list[str], int | None]] = sorted(
        (
            (
                m.pk,
                member_label(m.user.first_name, m.user.last_name, m.user.email),
                m.roles,
                m.marketing_share,
            )
            for m in members
        ),
        key=lambda r: (r[1].lower(), r[0] or 0),
    )
    if any(member is None for member, _bucket in cells):
        rows.append((None, NO_MEMBER, [], None))
    out: list[MemberJobs] = []
    for member_id, label, roles, share in rows:
        per_month = [
            (month.start, _counts(cells.get((member_id, i), {}), qualified))
            for i, month in enumerate(months)
        ]
        out.append(
            MemberJobs(
                member_id=member_id,
                label=label,
                roles=roles,
                marketing_share=share,
                months=per_month,
                total=_sum([c for _m, c in per_month], qualified),
            )
        )
    totals = [
        (month.start, _sum([m.months[i][1] for m in out], qualified))
        for i, month in enumerate(months)
    ]
    return JobsReport(
        period=period,
        qualified_stage=stage,
        members=out,
        months=totals,
        total=_sum([c for _m, c in totals], qualified),
    )


def jobs_default_period(today: date | None = None) -> Period:
    """This month and the five before (whole months), in local dates."""
    today = today or timezone.localdate()
    return Period(month_start(today, back=5), Period.month(today).end)
