"""The plan's measured assumptions: the organization's own figures, read from the summaries,
each with where it comes from in words (docs/numbers.md, "The plan").

- **Deal value**: revenue per won deal over the last 12 complete months (and the deals'
  standard deviation, for the range); **margin %** over the deals with a recorded cost.
- **The three rates** (new lead → qualified → proposal → customer), cohort-based: of the
  leads that entered the funnel in 12 months old enough to have closed (each month ended at
  least one 80th-percentile sales cycle ago), the share that reached the qualified stage,
  of those the share that reached the proposal stage, of those the share won. Reaching a
  stage counts entering it or any later stage that is not lost, so the three telescope.
- **Sales cycle**: the median days from first touch to won over the 12 months, in whole
  months (rounded), is how long before its customers a lead must arrive.
- **Season**: each calendar month's share of the 12 months' customers, when there are at
  least :data:`MIN_SEASON_CUSTOMERS` of them and a full year of history; else even.
- **Channels**: each channel's share of the 12 months' new leads and its cost per lead
  (spend / new leads; none when no spend was recorded), from channel economics.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, F, Sum
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add
from keepscore.common.periods import Period, local_date
from keepscore.economics.channels import channel_economics, qualified_stage
from keepscore.funnel import summary
from keepscore.funnel.ladder import History, Ladder, stage_history
from keepscore.funnel.models import ENTRY, CohortCount, FirstWin
from keepscore.funnel.stats import min_n
from keepscore.leads.models import DealOutcome, Lead, Stage, StageKind
from keepscore.plan.engine import Assumptions, Channel, Rate

#: customers the 12 months need before their calendar months make the season
MIN_SEASON_CUSTOMERS = 24
#: the wait for a cohort to close when no sales cycle is measured yet (days)
DEFAULT_MATURITY = 90


@dataclass(frozen=True)
class Measured:
    """The assumptions as measured, and what each was measured on."""

    assumptions: Assumptions
    period: Period  # the last 12 complete months
    cohort: tuple[date, date]  # the first and last month of the rates' leads
    qualified: Stage | None
    proposal: Stage | None
    won: Stage | None
    cycle_median: float | None  # days
    cycle_p80: float | None  # days
    seasonal: bool  # the season is measured (else even)
    sources: dict[str, str]  # assumption -> where it comes from, in words


def _milestones(ladder: Ladder) -> tuple[Stage | None, Stage | None, Stage | None]:
    """The qualified stage, the proposal stage (keyed ``proposal``, else the last open
    stage after the qualified one) and the first won stage."""
    qualified = qualified_stage(ladder)
    climbing = [ladder.stages[i] for i in ladder.climbing]
    won = next((s for s in climbing if s.kind == StageKind.WON), None)
    after = climbing[climbing.index(qualified) + 1 :] if qualified in climbing else []
    open_after = [s for s in after if s.kind == StageKind.OPEN]
    proposal = next((s for s in open_after if s.key == "proposal"), None) or (
        open_after[-1] if open_after else None
    )
    return qualified, proposal, won


def _cohort_counts(
    organization: Organization, first: date, last: date, stages: list[Stage | None]
) -> tuple[int, list[int]]:
    """n: the leads that entered the funnel in the months; k for each stage: those of them
    that reached it (0 for a stage that is None)."""
    rows = dict(
        CohortCount.objects.filter(
            organization=organization, month__gte=first, month__lte=last, stage_a=ENTRY
        )
        .values("stage_b")
        .order_by()
        .annotate(k=Sum("k_ever"))
        .values_list("stage_b", "k")
    )
    return int(rows.get(ENTRY) or 0), [
        int(rows.get(s.pk) or 0) if s is not None else 0 for s in stages
    ]


def _cohort_counts_until(
    ladder: Ladder,
    histories: dict[int, History],
    first: date,
    last: date,
    stages: list[Stage | None],
    until: datetime,
) -> tuple[int, list[int]]:
    """:func:`_cohort_counts` from the stage changes before ``until`` only: n the leads whose
    first change is in the months, k those of them with a change before ``until`` that
    reaches each stage (entering it, or a later stage that is not lost)."""
    targets = [ladder.find(s) if s is not None else None for s in stages]
    n, ks = 0, [0] * len(stages)
    for history in histories.values():
        known = [(at, entered) for at, entered in history if at < until]
        if not known or not first <= local_date(known[0][0]).replace(day=1) <= last:
            continue
        n += 1
        for j, target in enumerate(targets):
            if target is not None and any(ladder.reaches(e, target) for _at, e in known):
                ks[j] += 1
    return n, ks


def _deals(organization: Organization, period: Period) -> tuple[int, float | None, float | None]:
    """(won deals with revenue, mean revenue, standard deviation) of the period."""
    since, until = period.bounds()
    found = (
        DealOutcome.objects.for_org(organization)
        .filter(result=DealOutcome.Result.WON, at__gte=since, at__lt=until, revenue__isnull=False)
        .aggregate(n=Count("id"), total=Sum("revenue"), squares=Sum(F("revenue") * F("revenue")))
    )
    n = int(found["n"] or 0)
    if not n:
        return 0, None, None
    mean = float(found["total"]) / n
    if n < 2:
        return n, mean, None
    variance = (float(found["squares"]) - n * mean * mean) / (n - 1)
    return n, mean, math.sqrt(max(variance, 0.0))


def _season(organization: Organization, period: Period) -> tuple[float, ...] | None:
    """Each calendar month's share of the period's first wins; None with too few, or less
    than a year of history."""
    first_lead = (
        Lead.objects.for_org(organization).order_by("first_touch_at").values("first_touch_at")
    ).first()
    if first_lead is None or timezone.localtime(first_lead["first_touch_at"]).date() > period.start:
        return None
    counts = dict(
        FirstWin.objects.filter(
            organization=organization, month__gte=period.start, month__lte=period.end
        )
        .values("month")
        .order_by()
        .annotate(n=Count("*"))  # from the index alone
        .values_list("month", "n")
    )
    total = sum(counts.values())
    if total < MIN_SEASON_CUSTOMERS:
        return None
    by_calendar = [0] * 12
    for month, n in counts.items():
        by_calendar[month.month - 1] += n
    return tuple(n / total for n in by_calendar)


def _pct(rate: Rate) -> str:
    if not rate.n:
        return "no leads yet"
    return f"{rate.k:,} of {rate.n:,} ({rate.k / rate.n:.0%})"


def measure(
    organization: Organization,
    as_of: date | None = None,
    histories: dict[int, History] | None = None,
) -> Measured:
    """The plan's assumptions from the organization's last 12 complete months.

    ``as_of``: as known on the morning of that day: only what is dated before it (the rates
    from the stage changes before it, see :func:`_cohort_counts_until`). ``histories``: every
    lead's stage changes (:func:`stage_history`), read once by a caller measuring many days;
    the changes on or after ``as_of`` are left out here."""
    today = as_of or timezone.localdate()
    this_month = today.replace(day=1)
    period = Period(month_add(this_month, -12), this_month - timedelta(days=1))
    ladder = Ladder.of(organization)
    qualified, proposal, won = _milestones(ladder)
    first_m, last_m = period.start, month_add(this_month, -1)

    found = summary.cycle_quantiles(organization, first_m, last_m, [0.5, 0.8])
    median, p80 = found.get(0.5), found.get(0.8)
    wait = math.ceil(p80) if p80 is not None else DEFAULT_MATURITY
    # the last month that ended at least `wait` days ago, and the 11 before it
    cohort_last = month_add((today - timedelta(days=wait)).replace(day=1), -1)
    cohort_first = month_add(cohort_last, -11)
    if as_of is None:
        n, (k_qualified, k_proposal, k_won) = _cohort_counts(
            organization, cohort_first, cohort_last, [qualified, proposal, won]
        )
    else:
        until = Period(today, today).bounds()[0]
        if histories is None:
            histories = stage_history(organization, ladder, until=until)
        n, (k_qualified, k_proposal, k_won) = _cohort_counts_until(
            ladder, histories, cohort_first, cohort_last, [qualified, proposal, won], until
        )
    least = min_n()
    if qualified is None:  # no qualified stage: every new lead is as good as qualified
        k_qualified = n
        to_qualified = Rate(n, n, override=1.0, min_n=least)
    else:
        to_qualified = Rate(k_qualified, n, min_n=least)
    if proposal is None:  # no stage between qualified and won: the step is the whole way
        to_proposal = Rate(k_qualified, k_qualified, override=1.0, min_n=least)
        k_proposal = k_qualified
    else:
        to_proposal = Rate(k_proposal, k_qualified, min_n=least)
    to_customer = Rate(k_won, k_proposal, min_n=least)

    deals, deal_value, deal_sd = _deals(organization, period)
    economics = channel_economics(organization, period)
    margin_pct = economics.total.margin_pct
    leads = economics.total.leads
    channels = tuple(
        Channel(
            row.key,
            row.name,
            row.leads / leads,
            None if row.cost_per_lead is None else float(row.cost_per_lead),
        )
        for row in economics.rows
        if leads and row.leads
    )
    season = _season(organization, period)
    cycle_months = round(median / (365.25 / 12)) if median is not None else 0
    assumptions = Assumptions(
        deal_value=deal_value,
        margin_pct=margin_pct,
        to_qualified=to_qualified,
        to_proposal=to_proposal,
        to_customer=to_customer,
        cycle_months=cycle_months,
        season=season or (1 / 12,) * 12,
        channels=channels,
        deal_value_sd=deal_sd,
        deals=deals,
    )
    span = f"{period.start:%b %Y}\u2013{period.end:%b %Y}"
    cohort = f"the leads that entered the funnel {cohort_first:%b %Y}\u2013{cohort_last:%b %Y}"
    names = [s.name if s else "—" for s in (qualified, proposal, won)]
    sources = {
        "deal_value": f"revenue per won deal, {deals:,} deals {span}",
        "margin_pct": f"margin of the won deals with a recorded cost, {span}",
        "to_qualified": (
            f"{_pct(to_qualified)} of {cohort} reached {names[0]}"
            if qualified is not None
            else "no qualified stage on the ladder: every new lead counts as qualified"
        ),
        "to_proposal": (
            f"{_pct(to_proposal)} of them that reached {names[0]} reached {names[1]}"
            if proposal is not None
            else "no stage between qualified and won on the ladder"
        ),
        "to_customer": f"{_pct(to_customer)} of them that reached {names[1]} were won",
        "cycle_months": (
            f"median sales cycle {median:.0f} days, {span}"
            if median is not None
            else "no won deal yet: leads are planned in the month their customers close"
        ),
        "season": (
            f"each month's share of the customers won {span}"
            if season
            else "even: less than a year of history or fewer than "
            f"{MIN_SEASON_CUSTOMERS} customers {span}"
        ),
        "channels": f"each channel's share of the {leads:,} new leads and its spend per lead, "
        f"{span} (a channel without spend recorded is planned at no cost)",
    }
    return Measured(
        assumptions=assumptions,
        period=period,
        cohort=(cohort_first, cohort_last),
        qualified=qualified,
        proposal=proposal,
        won=won,
        cycle_median=median,
        cycle_p80=p80,
        seasonal=season is not None,
        sources=sources,
    )
