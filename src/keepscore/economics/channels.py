"""Channel economics for any period: per channel (the lead's original source) the spend, the
new leads, the qualified leads, the customers, the conversion lead → customer, the revenue,
cost and margin of the deals won, and what the spend returns: cost per lead, cost per
customer, return on spend and payback. ``docs/numbers.md`` ("Channel economics") states each
rule.

Pure reads, aggregated on the database (a few grouped queries, never a loop over the leads):
from the pre-aggregated summaries (``keepscore.funnel.summary``: ``MonthCount``,
``ReachCount``, ``FirstWin``) when they are built and the period is whole months, else from
the stored rows (:func:`channel_economics_reference`); both give the same answers (a test
checks it). The spend is always read from the rows (a few a month per channel).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import BigIntegerField, Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Cast, Coalesce, Round

from keepscore.accounts.models import Organization
from keepscore.common.periods import Period
from keepscore.economics.models import Spend
from keepscore.funnel import summary
from keepscore.funnel.ladder import Ladder
from keepscore.funnel.models import FirstWin, MonthCount, ReachCount
from keepscore.funnel.stats import MIN_CUSTOMERS, RateFigure, min_n, rate
from keepscore.leads.models import Channel, DealOutcome, Lead, Stage, StageChange, StageKind

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
TOTAL_KEY, TOTAL_NAME = "total", "All channels"


# --- the result -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelRow:
    """One channel's economics over the period (or the total of every channel).

    Money is in Decimals rounded to cents; ``margin_pct`` and ``return_on_spend`` are
    fractions (0.25 is 25%); every ratio is None when its denominator is 0 (or, for payback,
    when the margin is not positive or there is no spend). Missing is not zero: ``spend`` is
    None when none was recorded for the channel in the period's months, ``margin`` when its
    won deals have no recorded cost; the figures made from them are None too.
    """

    key: str  # the channel's key; "total" for the total row
    name: str
    spend: Decimal | None  # None: not recorded
    leads: int  # new leads: first touch in the period
    qualified: int  # leads whose reach of the qualified stage is in the period
    customers: int  # leads first won in the period (whenever they came in)
    conversion: RateFigure  # of the period's new leads (n), those won since (k)
    revenue: Decimal  # of the won deals dated in the period
    cost: Decimal  # their recorded costs
    costed: int  # the won deals with a recorded cost
    margin: Decimal | None  # of the costed deals; None: not recorded
    margin_pct: float | None  # margin / the costed deals' revenue
    cost_per_lead: Decimal | None  # spend / leads
    cost_per_customer: Decimal | None  # spend / customers
    return_on_spend: float | None  # (margin - spend) / spend
    payback_months: float | None  # spend / (margin per month of the period)
    #: return on spend and payback rest on the margin of few deals: below MIN_CUSTOMERS
    #: customers they are "not enough data" (in the table, the chart, the CLI alike)
    too_small: bool
    too_small_reason: str  # "" when not too small

    @property
    def idle(self) -> bool:
        """Nothing in the period: no spend recorded, no lead, no qualified lead, no customer
        and no won deal (the page names such channels in one line instead of a row of
        zeros)."""
        return (
            self.spend is None
            and not (self.leads or self.qualified or self.customers or self.conversion.n)
            and not (self.revenue or self.cost or self.costed)
        )

    def as_dict(self) -> dict[str, Any]:
        c = self.conversion
        return {
            "key": self.key,
            "name": self.name,
            "spend": _float(self.spend),
            "leads": self.leads,
            "qualified": self.qualified,
            "customers": self.customers,
            "conversion": {
                "k": c.k,
                "n": c.n,
                "rate": c.rate,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
                "enough": c.enough,
            },
            "revenue": float(self.revenue),
            "cost": float(self.cost),
            "costed_deals": self.costed,
            "margin": _float(self.margin),
            "margin_pct": self.margin_pct,
            "cost_per_lead": _float(self.cost_per_lead),
            "cost_per_customer": _float(self.cost_per_customer),
            "return_on_spend": self.return_on_spend,
            "payback_months": self.payback_months,
            "too_small": self.too_small,
            "too_small_reason": self.too_small_reason,
        }


@dataclass(frozen=True)
class ChannelEconomics:
    period: Period
    months: float  # the period's length in months (see :func:`period_months`)
    qualified_stage: str | None  # the key of the stage counted as qualified; None: no such stage
    rows: tuple[ChannelRow, ...]  # one per channel, by name
    total: ChannelRow
    summarized: bool = False  # read from the summaries
    currency: str = ""  # the organization's, ISO 4217: what the amounts are in

    def as_dict(self) -> dict[str, Any]:
        """The stable JSON shape (the CLI's ``--format json`` and ``GET /economics``)."""
        return {
            "currency": self.currency,
            "period": self.period.as_dict(),
            "months": self.months,
            "qualified_stage": self.qualified_stage,
            "min_leads": min_n(),
            "min_customers": MIN_CUSTOMERS,
            "channels": [r.as_dict() for r in self.rows],
            "total": self.total.as_dict(),
        }


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


# --- rules ------------------------------------------------------------------------------


def period_months(period: Period) -> float:
    """The period's length in months: each calendar month it touches counts for the share of
    its days the period covers (January to March is 3; 1-15 April is 0.5)."""
    total = 0.0
    day = period.start
    while day <= period.end:
        month = Period.month(day)
        end = min(month.end, period.end)
        total += ((end - day).days + 1) / month.end.day
        day = end + timedelta(days=1)
    return total


def spend_months(period: Period) -> tuple[date, date]:
    """The first days of the first and last months whose spend counts: every month the
    period touches, its whole spend."""
    return period.start.replace(day=1), period.end.replace(day=1)


def qualified_stage(ladder: Ladder) -> Stage | None:
    """The first open stage behind the qualification gate (``requires_qualification``), else
    the stage keyed ``qualified``; None when there is neither."""
    gated = [s for s in ladder.stages if s.requires_qualification and s.kind == StageKind.OPEN]
    if gated:
        return gated[0]
    return next((s for s in ladder.stages if s.key == "qualified"), None)


def _divide(numerator: Decimal | None, denominator: int | Decimal) -> Decimal | None:
    if numerator is None or not denominator:
        return None
    return (numerator / denominator).quantize(CENT)


def too_small(customers: int) -> str:
    """Why a channel's return on spend and payback are not shown ("" when they are): fewer
    than :data:`MIN_CUSTOMERS` customers, whose margin they rest on. (Cost per lead and per
    customer are plain divisions of recorded totals: always shown; the conversion has its
    own minimum n.)"""
    if customers >= MIN_CUSTOMERS:
        return ""
    return f"{customers} customer{'' if customers == 1 else 's'} (fewer than {MIN_CUSTOMERS})"


def row_make(
    key: str,
    name: str,
    *,
    spend: Decimal | None,
    leads: int,
    qualified: int,
    customers: int,
    won_leads: int,
    revenue: Decimal,
    cost: Decimal,
    deals: int,
    costed: int,
    costed_revenue: Decimal,
    months: float,
) -> ChannelRow:
    """A row from its counts and sums: every ratio worked out here, once. ``spend`` None:
    none recorded; the margin is the costed deals' (None when there are deals but none has
    a recorded cost; 0 without deals)."""
    margin: Decimal | None = costed_revenue - cost if costed else None
    if not deals:
        margin = ZERO
    reason = too_small(customers)
    payback = None
    if spend is not None and margin is not None and spend > 0 and margin > 0 and months > 0:
        payback = float(spend) / (float(margin) / months)
    return_on_spend = None
    if spend and margin is not None:
        return_on_spend = float((margin - spend) / spend)
    return ChannelRow(
        key=key,
        name=name,
        spend=None if spend is None else spend.quantize(CENT),
        leads=leads,
        qualified=qualified,
        customers=customers,
        conversion=rate(won_leads, leads),
        revenue=revenue.quantize(CENT),
        cost=cost.quantize(CENT),
        costed=costed,
        margin=None if margin is None else margin.quantize(CENT),
        margin_pct=float(margin / costed_revenue)
        if margin is not None and costed_revenue
        else None,
        cost_per_lead=_divide(spend, leads),
        cost_per_customer=_divide(spend, customers),
        return_on_spend=return_on_spend,
        payback_months=payback,
        too_small=bool(reason),
        too_small_reason=reason,
    )


# --- reads ------------------------------------------------------------------------------


def _cents(field: str, only: Q | None = None) -> Any:
    # summed as whole cents: exact on SQLite too (it sums decimals as floats)
    return Coalesce(Sum(Cast(Round(F(field) * 100), BigIntegerField()), filter=only), 0)


@dataclass
class _Tally:
    spend: Decimal | None = None  # None: no spend recorded
    leads: int = 0
    qualified: int = 0
    customers: int = 0
    won_leads: int = 0
    revenue: Decimal = ZERO
    cost: Decimal = ZERO
    deals: int = 0
    costed: int = 0
    costed_revenue: Decimal = ZERO

    def busy(self) -> bool:
        return any((self.spend, self.leads, self.qualified, self.customers, self.revenue))


Tallies = dict[int, _Tally]


def _spend(organization: Organization, period: Period, tallies: Tallies) -> None:
    first, last = spend_months(period)
    for row in (
        Spend.objects.for_org(organization)
        .filter(month__gte=first, month__lte=last)
        .order_by()
        .values("channel_id")
        .annotate(cents=_cents("amount"))
    ):
        tallies[row["channel_id"]].spend = Decimal(row["cents"]) / 100


def _won_leads(organization: Organization, period: Period, tallies: Tallies) -> None:
    """The conversion's k: of the period's new leads, those with a won outcome (any time).

    Driven by the period's leads (the first-touch index), each probed for a won outcome on
    the outcomes' lead index (not every won outcome joined to its lead)."""
    since, until = period.bounds()
    won = DealOutcome.objects.filter(lead_id=OuterRef("pk"), result=DealOutcome.Result.WON)
    for row in (
        Lead.objects.for_org(organization)
        .filter(first_touch_at__gte=since, first_touch_at__lt=until)
        .filter(Exists(won))
        .order_by()
        .values("channel_id")
        .annotate(n=Count("pk"))
    ):
        tallies[row["channel_id"]].won_leads = row["n"]


def _rows_read(
    organization: Organization, period: Period, ladder: Ladder, target: Stage | None
) -> Tallies:
    """Leads, qualified, customers and money per channel id from the stored rows."""
    since, until = period.bounds()
    tallies: Tallies = defaultdict(_Tally)
    for row in (
        Lead.objects.for_org(organization)
        .filter(first_touch_at__gte=since, first_touch_at__lt=until)
        .order_by()
        .values("channel_id")
        .annotate(n=Count("pk"))
    ):
        tallies[row["channel_id"]].leads = row["n"]
    if target is not None:
        reaching = ladder.reaching(target)
        same_lead = StageChange.objects.filter(lead_id=OuterRef("lead_id"))
        # the change that reached the stage: no earlier change of its lead reached it
        reaches = (
            StageChange.objects.for_org(organization)
            .filter(to_stage_id__in=reaching, at__gte=since, at__lt=until)
            .filter(~Exists(same_lead.filter(to_stage_id__in=reaching, at__lt=OuterRef("at"))))
        )
        for row in (
            reaches.order_by()
            .values(channel_id=F("lead__channel_id"))
            .annotate(n=Count("lead_id", distinct=True))
        ):
            tallies[row["channel_id"]].qualified = row["n"]
    won = DealOutcome.objects.for_org(organization).filter(
        result=DealOutcome.Result.WON, at__gte=since, at__lt=until
    )
    earlier = DealOutcome.objects.filter(
        lead_id=OuterRef("lead_id"), result=DealOutcome.Result.WON, at__lt=since
    )
    costed = Q(cost__isnull=False)
    for row in (
        won.order_by()
        .values(channel_id=F("lead__channel_id"))
        .annotate(
            revenue_cents=_cents("revenue"),
            cost_cents=_cents("cost"),
            costed_cents=_cents("revenue", costed),
            n_deals=Count("pk"),
            n_costed=Count("pk", filter=costed),
            customers=Count("lead_id", distinct=True, filter=Q(~Exists(earlier))),
        )
    ):
        tally = tallies[row["channel_id"]]
        tally.revenue = Decimal(row["revenue_cents"]) / 100
        tally.cost = Decimal(row["cost_cents"]) / 100
        tally.costed_revenue = Decimal(row["costed_cents"]) / 100
        tally.deals, tally.costed = row["n_deals"], row["n_costed"]
        tally.customers = row["customers"]
    return tallies


def _summary_read(organization: Organization, period: Period, target: Stage | None) -> Tallies:
    """The same from the summaries (whole months only)."""
    first, last = period.start, period.end.replace(day=1)
    tallies: Tallies = defaultdict(_Tally)
    for row in (
        MonthCount.objects.filter(
            organization=organization,
            month__gte=first,
            month__lte=last,
            metric__in=(
                "new_leads",
                "won_leads",
                "won",
                "revenue",
                "cost",
                "costed",
                "costed_revenue",
            ),
        )
        .order_by()
        .values("channel", "metric")
        .annotate(v=Sum("value"))
    ):
        tally = tallies[row["channel"]]
        metric, value = row["metric"], int(row["v"])
        if metric == "new_leads":
            tally.leads = value
        elif metric == "won_leads":
            tally.won_leads = value
        elif metric == "won":
            tally.deals = value
        elif metric == "costed":
            tally.costed = value
        elif metric == "revenue":
            tally.revenue = Decimal(value) / 100
        elif metric == "cost":
            tally.cost = Decimal(value) / 100
        else:
            tally.costed_revenue = Decimal(value) / 100
    if target is not None:
        for row in (
            ReachCount.objects.filter(
                organization=organization, month__gte=first, month__lte=last, stage=target.pk
            )
            .order_by()
            .values("channel")
            .annotate(n=Sum("reached"))
        ):
            tallies[row["channel"]].qualified = int(row["n"])
    for row in (
        FirstWin.objects.filter(organization=organization, month__gte=first, month__lte=last)
        .order_by()
        .values("channel")
        .annotate(n=Count("*"))  # one a lead; from the index alone (``firstwin_month_cover``)
    ):
        tallies[row["channel"]].customers = int(row["n"])
    return tallies


def _whole_months(period: Period) -> bool:
    return period.start.day == 1 and (period.end + timedelta(days=1)).day == 1


def _assemble(
    organization: Organization,
    period: Period,
    tallies: Tallies,
    target: Stage | None,
    summarized: bool,
) -> ChannelEconomics:
    _spend(organization, period, tallies)
    if not summarized:  # the summaries hold it (MonthCount "won_leads")
        _won_leads(organization, period, tallies)
    months = period_months(period)
    channels = Channel.objects.for_org(organization).order_by("name", "id")
    rows = []
    for channel in channels:
        tally = tallies.get(channel.pk, _Tally())
        if not channel.active and not tally.busy():
            continue
        rows.append(_row(channel.key, channel.name, tally, months))
    totals = _Tally()
    for tally in _known(tallies, {c.pk for c in channels}):
        if tally.spend is not None:
            totals.spend = (totals.spend or ZERO) + tally.spend
        totals.leads += tally.leads
        totals.qualified += tally.qualified
        totals.customers += tally.customers
        totals.won_leads += tally.won_leads
        totals.revenue += tally.revenue
        totals.cost += tally.cost
        totals.deals += tally.deals
        totals.costed += tally.costed
        totals.costed_revenue += tally.costed_revenue
    return ChannelEconomics(
        period=period,
        months=months,
        qualified_stage=target.key if target is not None else None,
        rows=tuple(rows),
        total=_row(TOTAL_KEY, TOTAL_NAME, totals, months),
        summarized=summarized,
        currency=organization.currency,
    )


def _known(tallies: Tallies, ids: set[int]) -> Iterable[_Tally]:
    return (tally for pk, tally in tallies.items() if pk in ids)


def _row(key: str, name: str, tally: _Tally, months: float) -> ChannelRow:
    return row_make(
        key,
        name,
        spend=tally.spend,
        leads=tally.leads,
        qualified=tally.qualified,
        customers=tally.customers,
        won_leads=tally.won_leads,
        revenue=tally.revenue,
        cost=tally.cost,
        deals=tally.deals,
        costed=tally.costed,
        costed_revenue=tally.costed_revenue,
        months=months,
    )


def channel_economics_reference(organization: Organization, period: Period) -> ChannelEconomics:
    """:func:`channel_economics` from the stored rows (what the summaries are checked
    against)."""
    ladder = Ladder.of(organization)
    target = qualified_stage(ladder)
    tallies = _rows_read(organization, period, ladder, target)
    return _assemble(organization, period, tallies, target, summarized=False)


def channel_economics(organization: Organization, period: Period) -> ChannelEconomics:
    """Per channel (the lead's original source) and in total, over the period: spend, new
    leads, qualified leads, customers, conversion, revenue, cost, margin, margin %, cost per
    lead, cost per customer, return on spend and payback months (docs/numbers.md, "Channel
    economics"). Channels are listed by name: every active one, and an inactive one when it
    has a figure in the period."""
    if _whole_months(period) and summary.ready(organization):
        ladder = Ladder.of(organization)
        target = qualified_stage(ladder)
        tallies = _summary_read(organization, period, target)
        return _assemble(organization, period, tallies, target, summarized=True)
    return channel_economics_reference(organization, period)


__all__ = [
    "MIN_CUSTOMERS",
    "ChannelEconomics",
    "ChannelRow",
    "channel_economics",
    "channel_economics_reference",
    "period_months",
    "qualified_stage",
    "row_make",
    "spend_months",
    "too_small",
]
