"""The demo's money: products and the deals sold with them, each channel's spend, the cash.

Every paid channel has its spend each month: ads cost the most and return the least,
referrals cost next to nothing and return the most; the cash of the last 12 months runs
down to about four months of fixed costs (longer than the sales cycle).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from keepscore.demo.business import CHANNELS
from keepscore.demo.draws import month_starts
from keepscore.demo.plans import LeadPlan, OutcomePlan

#: the demo's products and services: name, price, cost (None: the default margin gives it)
DEMO_PRODUCTS: tuple[tuple[str, Decimal, Decimal | None], ...] = (
    ("Shop sign, made and fitted", Decimal("2400.00"), Decimal("1450.00")),
    ("Vehicle wrap", Decimal("1800.00"), Decimal("1150.00")),
    ("Banner", Decimal("240.00"), Decimal("130.00")),
    ("Design hour", Decimal("85.00"), None),
)
DEMO_DEFAULT_MARGIN = Decimal(35)
#: the share of the won deals (not won at a loss) recorded with the products sold
DEMO_LINES_SHARE = 0.2


def products_setup(
    block: Any, seed: int, outcome_rows: list[tuple[Any, Any, OutcomePlan]]
) -> list[tuple[Any, Any, OutcomePlan]]:
    """The demo's products, its default margin, and about one won deal in five (of those
    not won at a loss) recorded with a line of the products sold.

    The line keeps the deal's planned revenue: a quantity (1 to 100) near revenue / list
    price, at the unit price revenue / quantity (exact: revenues are multiples of 10). Its
    cost is the product's, or the default margin's (``deal_amounts``), and becomes the deal's
    cost (in its plan too). Writes those deals' outcomes with their lines (outcomes are
    append-only) and returns the other ``outcome_rows``, for the caller to write.
    """
    from keepscore.economics.models import DealLine
    from keepscore.economics.products import LineIn, deal_amounts
    from keepscore.economics.services import default_margin_set, product_save
    from keepscore.leads.models import DealOutcome

    organization = block.organization
    default_margin_set(organization=organization, pct=DEMO_DEFAULT_MARGIN)
    products = [
        product_save(organization=organization, name=name, price=price, cost=cost)
        for name, price, cost in DEMO_PRODUCTS
    ]
    rng = random.Random(f"{seed}-products")
    rest, sold = [], []
    for row, lead, o in outcome_rows:
        revenue = o.revenue
        if not o.won or revenue is None or o.cost is None or o.cost > revenue:
            rest.append((row, lead, o))
            continue
        if rng.random() >= DEMO_LINES_SHARE:
            rest.append((row, lead, o))
            continue
        product = rng.choice(products)
        quantity = min(
            (1, 2, 4, 5, 10, 20, 25, 50, 100), key=lambda q: abs(revenue / q - product.price)
        )
        line = LineIn(product, Decimal(quantity), (revenue / quantity).quantize(Decimal("0.01")))
        total, cost, lines = deal_amounts(organization, lines=[line])
        if total != revenue:  # cannot happen: revenues in cents divisible by the quantity
            rest.append((row, lead, o))
            continue
        o.cost = cost
        sold.append((row, lead, o, lines))
    outcomes = block.create(
        DealOutcome(
            organization=organization,
            lead=lead,
            stage_change=row,
            result=DealOutcome.Result.WON,
            at=row.at,
            revenue=o.revenue,
            cost=o.cost,
        )
        for row, lead, o, _ in sold
    )
    block.create(
        DealLine(
            organization=organization,
            outcome=outcome,
            product=x.product,
            quantity=x.quantity,
            unit_price=x.unit_price,
            unit_cost=x.unit_cost,
        )
        for outcome, (_, _, _, lines) in zip(outcomes, sold, strict=True)
        for x in lines
    )
    return rest


#: what each paid channel costs a month: a fixed part and a part per lead it brings. Ads
#: cost the most and return the least (many leads, few customers, thin margins); referrals
#: cost only the thank-you gifts and return the most. Walk-ins, phone enquiries and the
#: website form cost nothing beyond the fixed costs.
SPEND_PER_MONTH: dict[str, tuple[int, int]] = {
    "ads": (600, 120),
    "search": (300, 75),
    "social": (150, 45),
    "email": (95, 0),  # the newsletter tool
    "telemarketing": (1100, 0),  # a part-time caller
    "referral": (120, 0),  # thank-you gifts for introductions
}
#: a stand at the regional business expo, in the months it runs
TRADE_SHOW_COST = 4500
#: the business's fixed costs a month (rent, salaries, vans, software) a year ago; they grow
FIXED_COSTS = 14200
#: months of fixed costs in the bank a year ago, and at the latest month (the runway)
RUNWAY_START, RUNWAY_LATEST = 7.2, 4.0


def money_setup(
    organization: Any,
    channels: dict[str, Any],
    owner: Any,
    plans: Sequence[LeadPlan],
    today: date,
    months: int,
    seed: int,
) -> None:
    """Spend for each paid channel in every month of the history (split over its campaigns
    as its leads are), and the cash position of the last 12 months. Derived from the plans
    and the seed, so the demo stays deterministic."""
    from calendar import monthrange

    from keepscore.economics.models import CashPosition, Spend

    rng = random.Random(seed + 2)
    leads = Counter((p.first_touch_at.date().replace(day=1), p.channel) for p in plans)
    profiles = {c.key: c for c in CHANNELS}
    this_month = today.replace(day=1)
    elapsed = (today.day - 1) / monthrange(today.year, today.month)[1]
    rows: list[Spend] = []
    for start in month_starts(today, months):
        share = elapsed if start == this_month else 1.0
        for key in sorted({*SPEND_PER_MONTH, "trade-show"}):
            n = leads[(start, key)]
            if key == "trade-show":
                cost = TRADE_SHOW_COST * rng.uniform(0.95, 1.05) if n else 0.0
            else:
                fixed, per_lead = SPEND_PER_MONTH[key]
                cost = (fixed * share + per_lead * n) * rng.uniform(0.9, 1.1)
            total = Decimal(round(cost))
            if total <= 0:
                continue
            parts: list[tuple[str, Decimal]] = []
            for campaign in profiles[key].campaigns:
                part = Decimal(round(float(total) * campaign.share))
                if part > 0:
                    parts.append((campaign.name, part))
            rest = total - sum((a for _, a in parts), Decimal(0))
            if rest > 0:
                parts.append(("", rest))
            rows.extend(
                Spend(
                    organization=organization,
                    month=start,
                    channel=channels[key],
                    campaign=name,
                    amount=amount,
                    by=owner.user,
                )
                for name, amount in parts
            )
    Spend.objects.bulk_create(rows)
    last_year = month_starts(today, 12)
    cash_rows = []
    for i, start in enumerate(last_year):
        progress = i / (len(last_year) - 1) if len(last_year) > 1 else 1.0
        costs = Decimal(round(FIXED_COSTS * (1 + 0.04 * progress) * rng.uniform(0.98, 1.02)))
        runway = RUNWAY_START + (RUNWAY_LATEST - RUNWAY_START) * progress
        cash = Decimal(round(float(costs) * runway * rng.uniform(0.97, 1.03)))
        cash_rows.append(
            CashPosition(
                organization=organization,
                month=start,
                cash_on_hand=cash,
                monthly_fixed_costs=costs,
                note="Ads budget under review." if start == last_year[-1] else "",
                by=owner.user,
            )
        )
    CashPosition.objects.bulk_create(cash_rows)
