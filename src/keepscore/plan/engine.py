"""The plan's arithmetic: from the year's goal back to the customers, proposals, qualified
leads, leads and spend each month needs, from stated assumptions. Pure: no database (the
measured assumptions are read by ``keepscore.plan.measure``); docs/numbers.md, "The plan".

The reverse funnel, for each month m of the year:

    customers(m)  = customers of the year x season(m)
    proposals(m)  = customers(m) / (proposal -> customer)
    qualified(m)  = proposals(m) / (qualified -> proposal)
    leads(m)      = customers(m + cycle) / (new lead -> qualified x qualified -> proposal
                                            x proposal -> customer)
    leads(m, c)   = leads(m) x share(c);   spend(m, c) = leads(m, c) x cost per lead(c)

(a channel without a cost per lead, no spend recorded for it, is planned at no cost: its
spend is None and the month's spend is the other channels')

where customers of the year are the goal / deal value (revenue), / (deal value x margin %)
(margin) or the goal itself (customers). Qualified leads and proposals are counted in the
month their customers close; the leads arrive ``cycle`` months earlier (the median sales
cycle, in whole months), so the leads of the year's last months are those of next year's
first months (the plan repeats), and the first months' customers need leads that arrive
before the year starts (:attr:`Plan.before_year`).

The three rates telescope: a customer reached proposal, which reached qualified, so their
product is the share of new leads that become customers. A rate measured on fewer than the
minimum leads (``KEEPSCORE_MIN_N``) is not used: the plan asks for an assumption instead.

The range: each measured rate is drawn from its Jeffreys posterior Beta(k + ½, n - k + ½),
the deal value from a normal around its mean with its standard error, ``draws`` times with
a fixed seed; then the luck of the draw: even at exactly those rates, the leads that win C
customers vary from year to year (and month to month), so each draw's leads needed for a
month's C customers are drawn as the trials to C wins at rate p (a gamma with the negative
binomial's mean C / p and variance C (1 - p) / p²). The range is the 10th to 90th
percentile of what each draw needs. Without that luck the range held the customers the next
3 months actually had 51% of the time on the demo (``keepscore.plan.backtest``).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

GoalKind = Literal["revenue", "margin", "customers"]
GOAL_KINDS: tuple[GoalKind, ...] = ("revenue", "margin", "customers")
#: the steps of the reverse funnel: (attribute, from, to) in words
STEPS = (
    ("to_qualified", "new lead", "qualified"),
    ("to_proposal", "qualified", "proposal"),
    ("to_customer", "proposal", "customer"),
)
#: the simulation's draws and seed (the same plan gives the same range every time)
DRAWS = 2000
SEED = 20270101
#: the range shown: the 10th to the 90th percentile (an 80% range)
RANGE = (0.10, 0.90)


@dataclass(frozen=True)
class Rate:
    """A step's conversion: measured (k of n) or the owner's ``override``."""

    k: int
    n: int
    override: float | None = None
    min_n: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.k <= self.n:
            raise ValueError(f"a rate needs 0 <= k <= n, got k={self.k}, n={self.n}")
        if self.override is not None and not 0 < self.override <= 1:
            raise ValueError(f"a rate must be above 0% and at most 100%, got {self.override}")

    @property
    def measured(self) -> float | None:
        return self.k / self.n if self.n else None

    @property
    def interval(self) -> tuple[float, float] | None:
        """The measure's 95% Wilson interval (None without leads)."""
        from keepscore.funnel.stats import wilson

        return wilson(self.k, self.n)

    @property
    def enough(self) -> bool:
        return self.n >= self.min_n and self.k > 0

    @property
    def value(self) -> float | None:
        """What the plan divides by: the override, else the measure when there is enough."""
        if self.override is not None:
            return self.override
        return self.measured if self.enough else None

    def draw(self, rng: random.Random) -> float:
        if self.override is not None:
            return self.override
        return rng.betavariate(self.k + 0.5, self.n - self.k + 0.5)


@dataclass(frozen=True)
class Channel:
    """A channel's part of the new leads, and what a lead from it costs (None: no spend
    recorded for it; the plan gives it no spend)."""

    key: str
    name: str
    share: float
    cost_per_lead: float | None


@dataclass(frozen=True)
class Assumptions:
    deal_value: float | None  # revenue per customer
    margin_pct: float | None  # margin as a share of revenue, 0..1
    to_qualified: Rate
    to_proposal: Rate
    to_customer: Rate
    cycle_months: int  # leads arrive this many months before their customers close
    season: tuple[float, ...] = (1 / 12,) * 12  # each calendar month's share of customers
    channels: tuple[Channel, ...] = ()
    deal_value_sd: float | None = None  # the deals' standard deviation (for the range)
    deals: int = 0  # the deals the deal value is measured on

    def __post_init__(self) -> None:
        if len(self.season) != 12 or abs(sum(self.season) - 1) > 1e-6:
            raise ValueError("the season needs 12 shares adding up to 1")
        if any(s < 0 for s in self.season):
            raise ValueError("a month's share of the customers cannot be negative")
        if self.cycle_months < 0:
            raise ValueError("the sales cycle cannot be negative")
        shares = sum(c.share for c in self.channels)
        if self.channels and abs(shares - 1) > 1e-6:
            raise ValueError(f"the channels' shares of the leads add up to {shares:.2%}, not 100%")

    @property
    def to_won(self) -> float | None:
        """The share of new leads that become customers (the three steps' product)."""
        values = [getattr(self, name).value for name, _a, _b in STEPS]
        if any(v is None for v in values):
            return None
        return math.prod(v for v in values if v is not None)


@dataclass(frozen=True)
class Goal:
    kind: GoalKind
    amount: float

    def __post_init__(self) -> None:
        if self.kind not in GOAL_KINDS:
            raise ValueError(f"a goal is one of {', '.join(GOAL_KINDS)}, not {self.kind!r}")
        if not self.amount > 0:
            raise ValueError("a goal must be above 0")


@dataclass(frozen=True)
class Month:
    month: date
    customers: float
    proposals: float
    qualified: float
    leads: float  # leads that must arrive in the month (for customers a cycle later)
    revenue: float | None
    spend: float  # of the channels with a cost per lead (the others are planned at no cost)
    by_channel: dict[str, tuple[float, float | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    year: int
    goal: Goal
    customers: float  # of the year
    months: list[Month]
    before_year: float  # leads that must arrive before January (for the first months)
    missing: list[str] = field(default_factory=list)  # assumptions the plan still needs

    @property
    def leads(self) -> float:
        return sum(m.leads for m in self.months)

    @property
    def spend(self) -> float:
        return sum(m.spend for m in self.months)

    def channel_totals(self) -> dict[str, tuple[float, float | None]]:
        """Each channel's leads and spend over the year (spend None: no cost per lead)."""
        out: dict[str, tuple[float, float | None]] = {}
        for m in self.months:
            for key, (leads, spend) in m.by_channel.items():
                before_leads, before_spend = out.get(key, (0.0, 0.0))
                out[key] = (
                    before_leads + leads,
                    None if spend is None or before_spend is None else before_spend + spend,
                )
        return out


def missing(goal: Goal, a: Assumptions) -> list[str]:
    """What the plan cannot compute without, in words (ask the owner for these)."""
    needs = []
    if goal.kind in ("revenue", "margin") and not a.deal_value:
        needs.append("the deal value (revenue per customer): no won deal with revenue yet")
    if goal.kind == "margin" and not a.margin_pct:
        needs.append("the margin %: no won deal with its cost recorded yet")
    for name, start, end in STEPS:
        r: Rate = getattr(a, name)
        if r.value is None:
            needs.append(
                f"{start} → {end}: measured on {r.n} lead{'s' if r.n != 1 else ''}, "
                f"fewer than the {r.min_n} a rate needs"
                if r.n < r.min_n
                else f"{start} → {end}: none of {r.n} went on"
            )
    return needs


def customers_needed(goal: Goal, deal_value: float | None, margin_pct: float | None) -> float:
    if goal.kind == "customers":
        return goal.amount
    assert deal_value
    if goal.kind == "revenue":
        return goal.amount / deal_value
    assert margin_pct
    return goal.amount / (deal_value * margin_pct)


def plan_compute(goal: Goal, a: Assumptions, year: int) -> Plan:
    """The year's plan; with assumptions missing (see :func:`missing`), no months."""
    needs = missing(goal, a)
    if needs:
        return Plan(year, goal, 0.0, [], 0.0, needs)
    customers = customers_needed(goal, a.deal_value, a.margin_pct)
    monthly = [customers * s for s in a.season]
    to_won = a.to_won
    assert to_won and a.to_customer.value and a.to_proposal.value
    months = []
    for i in range(12):
        closes = monthly[i]
        proposals = closes / a.to_customer.value
        qualified = proposals / a.to_proposal.value
        # the leads arriving now close cycle_months later (next year's months repeat this one's)
        leads = monthly[(i + a.cycle_months) % 12] / to_won
        by_channel = {
            c.key: (
                leads * c.share,
                None if c.cost_per_lead is None else leads * c.share * c.cost_per_lead,
            )
            for c in a.channels
        }
        months.append(
            Month(
                month=date(year, i + 1, 1),
                customers=closes,
                proposals=proposals,
                qualified=qualified,
                leads=leads,
                revenue=None if a.deal_value is None else closes * a.deal_value,
                spend=sum(spend for _leads, spend in by_channel.values() if spend is not None),
                by_channel=by_channel,
            )
        )
    before = sum(monthly[: a.cycle_months]) / to_won
    return Plan(year, goal, customers, months, before)


@dataclass(frozen=True)
class Range:
    low: float
    high: float


@dataclass(frozen=True)
class PlanRange:
    """The 80% ranges of what the plan needs, from :data:`DRAWS` seeded draws."""

    customers: Range  # of the year
    leads: Range  # of the year
    leads_by_month: list[Range]
    spend: Range


def _percentiles(values: list[float]) -> Range:
    ordered = sorted(values)
    n = len(ordered)

    def at(q: float) -> float:
        # linear between the closest ranks (as numpy's default)
        position = q * (n - 1)
        low = math.floor(position)
        high = min(low + 1, n - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return Range(at(RANGE[0]), at(RANGE[1]))


def _draws(a: Assumptions, draws: int, seed: int) -> list[tuple[float | None, float]]:
    """The simulation's draws: (deal value, new lead -> customer) each, the deal value from
    a normal around its mean with its standard error (at least 5% of the mean), each rate
    from its Jeffreys posterior; seeded, so the same assumptions give the same draws."""
    rng = random.Random(seed)
    deal_se = (
        a.deal_value_sd / math.sqrt(a.deals)
        if a.deal_value_sd is not None and a.deals > 1 and a.deal_value
        else None
    )
    out: list[tuple[float | None, float]] = []
    for _ in range(draws):
        deal_value = a.deal_value
        if deal_value is not None and deal_se:
            deal_value = max(deal_value * 0.05, rng.gauss(deal_value, deal_se))
        to_won = a.to_qualified.draw(rng) * a.to_proposal.draw(rng) * a.to_customer.draw(rng)
        out.append((deal_value, to_won))
    return out


def customers_forward(
    a: Assumptions, leads: int, draws: int = DRAWS, seed: int = SEED, luck: bool = True
) -> tuple[float, Range]:
    """The plan run forwards (the backtest's check): the customers ``leads`` new leads give
    at the plan's rates, point (leads x to_won) and 80% range over the same seeded draws of
    the rates as :func:`plan_range`, each with the luck of the draw: Binomial(leads, p)."""
    to_won = a.to_won
    if to_won is None:
        raise ValueError("the plan is missing a rate")
    rng = random.Random(seed + 1)
    wins = [
        float(_binomial(rng, leads, p)) if luck else leads * p for _d, p in _draws(a, draws, seed)
    ]
    return leads * to_won, _percentiles(wins)


def plan_range(
    goal: Goal,
    a: Assumptions,
    year: int,
    draws: int = DRAWS,
    seed: int = SEED,
    luck: bool = True,
) -> PlanRange | None:
    """The plan's 80% ranges, carrying the rates' (and the deal value's) uncertainty and
    (``luck``) the luck of the draw.

    Each draw is :func:`plan_compute`'s arithmetic with drawn rates, in closed form: a
    month's leads are its customers, customers x season(m + cycle), / to_won (the months
    repeat, so every customer is served by one month's leads), with luck the leads that
    win them drawn by :func:`_wait`; the year's leads are the months', and the spend the
    leads x the channels' mean cost per lead. ``luck=False``: the rates' uncertainty alone
    (the range of the leads the plan's rates need on average)."""
    if missing(goal, a):
        return None
    rng = random.Random(seed + 1)  # the luck's own stream: the rates' draws stay the page's
    season = [a.season[(i + a.cycle_months) % 12] for i in range(12)]
    customers, leads = [], []
    by_month: list[list[float]] = [[] for _ in range(12)]
    for deal_value, to_won in _draws(a, draws, seed):
        year_customers = customers_needed(goal, deal_value, a.margin_pct)
        customers.append(year_customers)
        if luck:
            months = [_wait(rng, year_customers * share, to_won) for share in season]
        else:
            months = [year_customers * share / to_won for share in season]
        for i, x in enumerate(months):
            by_month[i].append(x)
        leads.append(sum(months))
    mean_cost = sum(c.share * (c.cost_per_lead or 0.0) for c in a.channels)
    return PlanRange(
        customers=_percentiles(customers),
        leads=_percentiles(leads),
        leads_by_month=[_percentiles(x) for x in by_month],
        spend=_percentiles([x * mean_cost for x in leads]),
    )


def _wait(rng: random.Random, wins: float, p: float) -> float:
    """The leads it takes to win ``wins`` customers at rate ``p``: a gamma with the mean and
    variance of the negative binomial's trials to ``wins`` successes, wins / p and
    wins (1 - p) / p² (shape wins / (1 - p), scale (1 - p) / p)."""
    if wins <= 0:
        return 0.0
    if p >= 1:
        return wins
    return rng.gammavariate(wins / (1 - p), (1 - p) / p)


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """A Binomial(n, p) draw: exact (inverting its distribution) while n p (1 - p) < 25,
    else the normal approximation, rounded and kept within 0..n."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if p > 0.5:
        return n - _binomial(rng, n, 1 - p)
    variance = n * p * (1 - p)
    if variance >= 25:
        return min(n, max(0, round(rng.gauss(n * p, math.sqrt(variance)))))
    u = rng.random()
    k, term = 0, (1 - p) ** n
    total = term
    while total < u and k < n:
        term *= (n - k) / (k + 1) * p / (1 - p)
        k += 1
        total += term
    return k


def leads_equivalent(a: Assumptions, step: str, new_value: float, leads: float) -> float:
    """How many more of ``leads`` (at the measured rates) would win the customers that
    raising ``step`` to ``new_value`` adds to them: leads x (to_won' / to_won - 1)."""
    before = a.to_won
    changed = replace(a, **{step: replace(getattr(a, step), override=new_value)})
    after = changed.to_won
    if before is None or after is None:
        raise ValueError("the plan is missing a rate")
    return leads * (after / before - 1)
