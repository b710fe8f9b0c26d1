"""Where the customers come from (question 3): the channels ranked by customers and margin.

An answer, not a push (status ``info``); the recommendation names its first channels when
it advises marketing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.db.models import Count, Min, Q, Sum

from keepscore.accounts.models import Organization
from keepscore.common.money import money_format
from keepscore.common.months import month_of
from keepscore.common.periods import Period
from keepscore.focus.indicators import Indicator, confidence_of, percent
from keepscore.focus.reads import Reads, end_of
from keepscore.funnel.ladder import reach_dates, stage_history
from keepscore.funnel.models import ENTRY, CohortCount, FirstWin, MonthCount
from keepscore.funnel.stats import rate
from keepscore.leads.models import DealOutcome, Lead, StageKind


def _channel_reads(
    organization: Organization, r: Reads
) -> tuple[dict[int, tuple[int, int, int]], dict[int, tuple[int, float, float]]]:
    """Per channel over the history: the cohort (leads that entered the funnel in its months:
    n, those that reached won: k, those that reached the first late stage), and
    the money (leads first won in its months, revenue and margin of the deals won in them).
    From the summaries today, else from the stage history and outcomes cut at the date."""
    climbing = r.ladder.climbing
    won_i = next((i for i, s in enumerate(r.ladder.stages) if s.kind == StageKind.WON), None)
    if not climbing or won_i is None:
        return {}, {}
    late0 = min(r.late) if r.late else None
    first_month, last_month = r.months[0], r.months[-1]
    leads: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    money: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    if r.summarized:
        stage_pk = {i: st.pk for i, st in enumerate(r.ladder.stages)}
        slots = {ENTRY: [0], stage_pk[won_i]: [1]}
        if late0 is not None:
            slots.setdefault(stage_pk[late0], []).append(2)
        for row in (
            CohortCount.objects.filter(
                organization=organization,
                month__gte=first_month,
                month__lte=last_month,
                stage_a=ENTRY,
                stage_b__in=list(slots),
            )
            .values("channel", "stage_b")
            .order_by()
            .annotate(k=Sum("k_ever"))
        ):
            for slot in slots[row["stage_b"]]:
                leads[row["channel"]][slot] += int(row["k"] or 0)
        for channel, n in (
            FirstWin.objects.filter(
                organization=organization, month__gte=first_month, month__lte=last_month
            )
            .values("channel")
            .order_by()
            .annotate(n=Count("*"))  # from the index alone (``firstwin_month_cover``)
            .values_list("channel", "n")
        ):
            money[channel][0] = int(n)
        cents: dict[tuple[int, str], int] = {}
        for channel, metric, value in (
            MonthCount.objects.filter(
                organization=organization,
                month__gte=first_month,
                month__lte=last_month,
                metric__in=["revenue", "cost", "costed_revenue"],
            )
            .values("channel", "metric")
            .order_by()
            .annotate(v=Sum("value"))
            .values_list("channel", "metric", "v")
        ):
            cents[(channel, metric)] = int(value or 0)
        for channel, _metric in cents:
            money[channel][1] = cents.get((channel, "revenue"), 0) / 100
            # the margin of the deals with a recorded cost (a missing cost is unknown)
            costed = cents.get((channel, "costed_revenue"), 0) / 100
            money[channel][2] = costed - cents.get((channel, "cost"), 0) / 100
    else:
        months = set(r.months)
        channel_of = dict(Lead.objects.for_org(organization).values_list("pk", "channel_id"))
        for lead, history in stage_history(organization, r.ladder, until=r.until).items():
            reach = reach_dates(history, r.ladder)
            if month_of(history[0][0]) not in months:  # entered the funnel then
                continue
            tally = leads[channel_of[lead]]
            tally[0] += 1
            tally[1] += reach[won_i] is not None
            tally[2] += late0 is not None and reach[late0] is not None
        won = DealOutcome.objects.for_org(organization).filter(
            result=DealOutcome.Result.WON, at__lt=r.until
        )
        for channel, first_won in (
            won.values("lead_id", "lead__channel_id")
            .order_by()
            .annotate(first=Min("at"))
            .values_list("lead__channel_id", "first")
        ):
            if month_of(first_won) in months:
                money[channel][0] += 1
        since = end_of(first_month - timedelta(days=1))
        for row in (
            won.filter(at__gte=since, at__lt=end_of(Period.month(last_month).end))
            .values("lead__channel_id")
            .order_by()
            .annotate(
                revenue_sum=Sum("revenue"),
                cost_sum=Sum("cost"),
                costed_sum=Sum("revenue", filter=Q(cost__isnull=False)),
            )
        ):
            money[row["lead__channel_id"]][1] = float(row["revenue_sum"] or 0)
            costed = float(row["costed_sum"] or 0)
            money[row["lead__channel_id"]][2] = costed - float(row["cost_sum"] or 0)
    return (
        {c: (t[0], t[1], t[2]) for c, t in leads.items()},
        {c: (int(t[0]), t[1], t[2]) for c, t in money.items()},
    )


def best_channels(organization: Organization, r: Reads) -> Indicator:
    """3. Where do the customers that buy (or nearly buy) come from? Channels ranked by
    customers and margin over the history, with the lead → customer conversion's interval."""
    from keepscore.leads.models import Channel

    leads, money = _channel_reads(organization, r)
    names = dict(Channel.objects.for_org(organization).values_list("pk", "name"))
    rows = []
    for channel_id in set(money) | set(leads):
        customers, revenue, margin = money.get(channel_id, (0, 0.0, 0.0))
        n, k, late = leads.get(channel_id, (0, 0, 0))
        figure = rate(k, n) if n else None
        rows.append(
            {
                "channel": names.get(channel_id, "(unknown)"),
                "customers": customers,
                "reached_late_stage": late,
                "margin": margin,
                "revenue": revenue,
                "leads": n,
                "conversion": None
                if figure is None
                else {
                    "k": figure.k,
                    "n": figure.n,
                    "rate": figure.rate,
                    "ci_low": figure.ci_low,
                    "ci_high": figure.ci_high,
                    "enough": figure.enough,
                },
            }
        )
    rows.sort(key=lambda x: (-x["customers"], -x["margin"], x["channel"]))
    by_margin = sorted(rows, key=lambda x: (-x["margin"], x["channel"]))
    total = sum(x["customers"] for x in rows)
    evidence: dict[str, object] = {
        "by_customers": rows,
        "by_margin": [x["channel"] for x in by_margin],
        "customers": total,
    }
    if r.months:  # the customers: leads first won in these days
        evidence["customers_won"] = {
            "from": r.months[0].isoformat(),
            "to": Period.month(r.months[-1]).end.isoformat(),
        }
    title = "Where the customers come from"
    if total == 0:
        return Indicator(
            "best_channels",
            title,
            3,
            "missing",
            None,
            None,
            "count",
            "none",
            "No customers won in the last 12 months: no channel can be ranked yet.",
            evidence,
        )
    top = rows[0]
    best_margin = by_margin[0]
    most = money_format(best_margin["margin"], organization, decimals=0)
    text = (
        f"{top['channel']} brought the most customers ({top['customers']} of {total}"
        + (
            f", {percent(top['conversion']['rate'])} of its leads"
            if top["conversion"] and top["conversion"]["enough"]
            else ""
        )
        + f"); {best_margin['channel']} the most margin ({most}). "
        "Prioritise them."
    )
    return Indicator(
        "best_channels",
        title,
        3,
        "info",
        None,
        float(top["customers"]),
        "count",
        confidence_of(total),
        text,
        evidence,
    )
