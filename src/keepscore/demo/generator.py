"""The demo organization: a small sign-making business with months of realistic history.

Everything comes from one ``random.Random(seed)``: the same seed and ``today`` always give
the same leads, stage changes, outcomes, activities and objections (only database ids and
``created_at`` differ). Nothing is dated on or after ``today``.

The history is planned in plain Python first (:func:`demo_plan`), following the rules the
services enforce — stage changes in time order, won with revenue, lost with a reason, the
qualification checklist met (or overridden by an owner, with a reason) before a lead
reaches a gated stage, every date after the first touch — and then written with
``bulk_create`` in one transaction, which is what makes a two-year history load in seconds.

What the data shows, on purpose:

* channels differ clearly: referrals are few, convert well and close fast; ads and search
  bring many leads that rarely buy (and ads convert worse as their volume grows); trade
  shows come in two bursts a year; the website form is steady;
* lead volume grows over the period, with a summer and December dip;
* proposals take longest; a few leads skip stages, a few move backward;
* margins vary by channel and a few deals are won at a loss (mostly from ads);
* price objections become more frequent over time.
* every paid channel has its spend each month: ads cost the most and return the least,
  referrals cost next to nothing and return the most; the cash of the last 12 months runs
  down to about four months of fixed costs (longer than the sales cycle).
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

DEMO_PASSWORD = "demo-owner-2024"
DEMO_DOMAIN = "keepscore.test"
DEMO_BUSINESS = "Brightside Signs"
DEMO_CURRENCY = "USD"
DEMO_LOCALE = "en_US"

OPEN_STAGES = ("suspect", "prospect", "lead", "qualified", "proposal")
WON_STAGE = "customer"
LOST_STAGE = "lost"
#: stages behind the qualification gate of the default ladder
GATED = frozenset({"qualified", "proposal"})
#: typical days a lead spends in each open stage before it moves on
STAGE_DAYS = {"suspect": 8.0, "prospect": 6.0, "lead": 9.0, "qualified": 7.0, "proposal": 18.0}
#: where lost leads drop out, and where open leads stall
LOST_AT = (0.34, 0.26, 0.18, 0.08, 0.14)
STALL_AT = (0.30, 0.25, 0.20, 0.12, 0.13)
#: Jan … Dec: busier in spring and autumn, quiet in summer and December
SEASON = (0.85, 0.95, 1.10, 1.10, 1.05, 0.95, 0.80, 0.75, 1.10, 1.15, 1.05, 0.70)

LOST_REASONS_BY_STAGE: dict[str, tuple[tuple[str, float], ...]] = {
    "suspect": (("No decision / went silent", 0.55), ("Not a fit", 0.35), ("No budget", 0.10)),
    "prospect": (("No decision / went silent", 0.55), ("Not a fit", 0.35), ("No budget", 0.10)),
    "lead": (
        ("No budget", 0.30),
        ("Bad timing", 0.25),
        ("No decision / went silent", 0.25),
        ("Not a fit", 0.20),
    ),
    "qualified": (
        ("Bad timing", 0.30),
        ("Chose a competitor", 0.25),
        ("Price too high", 0.25),
        ("No budget", 0.20),
    ),
    "proposal": (
        ("Price too high", 0.40),
        ("Chose a competitor", 0.35),
        ("No decision / went silent", 0.15),
        ("Bad timing", 0.10),
    ),
}
REASON_OBJECTION = {
    "Price too high": "price",
    "Chose a competitor": "competitor",
    "Bad timing": "timing",
    "No budget": "price",
    "Not a fit": "need",
}
OBJECTION_TEXT = {
    "price": ("Cheaper quote elsewhere", "Over their budget", "Asked for a discount"),
    "timing": ("Wants to wait until next quarter", "Busy season, decide later"),
    "competitor": ("Talking to another sign maker", "Existing supplier offered a deal"),
    "need": ("Not sure they need new signage", "Old signs are still fine"),
    "trust": ("Wants references first", "Worried about installation delays"),
    "authority": ("Partner has to approve", "Head office decides"),
    "other": ("Planning permission unclear",),
}


@dataclass(frozen=True)
class Campaign:
    name: str
    utm_source: str
    utm_medium: str
    utm_campaign: str
    share: float  # share of the channel's leads that came through it


@dataclass(frozen=True)
class ChannelProfile:
    """How a channel behaves: volume, growth, conversion, speed and margins."""

    key: str
    name: str
    per_month: float  # leads a month at the start (before season)
    growth: float  # relative change of volume over the whole period
    win: float  # chance a lead is won (before it runs into ``today``)
    win_trend: float  # relative change of that chance over the period
    speed: float  # multiplies the days spent in each stage
    deal: float  # typical revenue of a won deal
    margin: float  # typical margin share
    loss_share: float  # share of won deals sold at a loss
    start: tuple[tuple[str, float], ...]  # the stage a new lead enters
    season: tuple[float, ...] = SEASON
    show_days: tuple[int, int] | None = None  # leads only on these days of the month
    campaigns: tuple[Campaign, ...] = ()
    referrers: tuple[str, ...] = ()


# fmt: off
CHANNELS: tuple[ChannelProfile, ...] = (
    # key, name, per month, growth, win, win trend, speed, deal, margin, loss share, start
    ChannelProfile(
        "referral", "Referral", 4.5, 0.3, 0.55, 0.0, 0.6, 6500, 0.42, 0.0,
        (("prospect", 0.5), ("lead", 0.5)),
    ),
    ChannelProfile(
        "walk-in", "Walk-in", 4.0, 0.0, 0.35, 0.0, 0.35, 1800, 0.35, 0.02,
        (("lead", 0.7), ("prospect", 0.3)),
    ),
    ChannelProfile(
        "phone-enquiry", "Phone enquiry", 7.0, 0.1, 0.25, 0.0, 0.8, 3200, 0.33, 0.03,
        (("prospect", 0.6), ("lead", 0.4)),
    ),
    ChannelProfile(
        "website-form", "Website form", 13.0, 0.2, 0.15, 0.0, 1.0, 4200, 0.30, 0.03,
        (("prospect", 1.0),),
        season=(1.0,) * 12,
        referrers=(
            "https://www.google.com/",
            "https://www.bing.com/",
            "https://brightside-signs.example/shop-signs",
            "https://brightside-signs.example/vehicle-wraps",
        ),
    ),
    ChannelProfile(
        "search", "Search", 14.0, 0.5, 0.09, -0.1, 1.0, 3800, 0.25, 0.04,
        (("prospect", 0.7), ("suspect", 0.3)),
        campaigns=(Campaign("Search — brand terms", "google", "cpc", "brand-terms", 0.35),),
    ),
    ChannelProfile(
        "ads", "Ads", 16.0, 1.0, 0.075, -0.45, 1.1, 2600, 0.15, 0.15,
        (("suspect", 0.6), ("prospect", 0.4)),
        campaigns=(
            Campaign("Spring shopfront promo", "google", "display", "spring-shopfront", 0.45),
            Campaign("Vehicle wraps retargeting", "meta", "paid-social", "wrap-retarget", 0.35),
        ),
    ),
    ChannelProfile(
        "trade-show", "Trade show", 3.5, 0.2, 0.18, 0.0, 1.4, 9000, 0.32, 0.03,
        (("suspect", 0.6), ("prospect", 0.4)),
        season=(0, 0, 6.0, 0, 0, 0, 0, 0, 0, 6.0, 0, 0),
        show_days=(12, 3),
        campaigns=(Campaign("Regional business expo", "expo", "event", "business-expo", 1.0),),
    ),
    ChannelProfile(
        "telemarketing", "Telemarketing", 5.0, -0.3, 0.07, 0.0, 1.2, 4500, 0.22, 0.05,
        (("suspect", 1.0),),
    ),
    ChannelProfile(
        "email", "Email", 5.0, 0.2, 0.12, 0.0, 1.0, 3000, 0.30, 0.03,
        (("suspect", 0.7), ("prospect", 0.3)),
        campaigns=(Campaign("Monthly newsletter", "newsletter", "email", "monthly-news", 0.8),),
    ),
    ChannelProfile(
        "social", "Social", 7.0, 0.6, 0.06, -0.2, 1.0, 2400, 0.20, 0.10,
        (("suspect", 0.6), ("prospect", 0.4)),
        campaigns=(Campaign("Open day", "facebook", "social", "open-day", 0.4),),
    ),
)
# fmt: on

MEMBERS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    # key, first name, last name, roles
    ("owner", "Olivia", "Brandt", {"is_owner": True, "is_marketing": True, "is_sales": True}),
    ("marketing", "Marco", "Ruiz", {"is_marketing": True}),
    ("sales1", "Sam", "Patel", {"is_sales": True}),
    ("sales2", "Jade", "Okafor", {"is_sales": True}),
)
OWNER_SHARE = 40  # the owner's time on marketing (%); the rest is sales
LEAD_OWNERS = (("sales1", 0.45), ("sales2", 0.35), ("owner", 0.20))
#: channels whose leads marketing enters; the rest are entered by whoever took them
MARKETING_CHANNELS = frozenset({"ads", "social", "email", "search", "trade-show"})

FIRST_NAMES = (
    "Aisha",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Finn",
    "Grace",
    "Hugo",
    "Ines",
    "Jamal",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Xin",
    "Yara",
    "Zoe",
    "Adam",
    "Bea",
    "Chris",
    "Dana",
    "Emil",
    "Fatima",
    "Gus",
    "Hana",
    "Ivan",
    "Julia",
    "Kofi",
    "Lena",
    "Marek",
    "Nina",
)
LAST_NAMES = (
    "Adams",
    "Baker",
    "Costa",
    "Dubois",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Murphy",
    "Novak",
    "Okoro",
    "Park",
    "Quint",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Usman",
    "Vargas",
    "Wright",
    "Young",
    "Zimmer",
    "Berg",
    "Clarke",
    "Diaz",
    "Moreau",
    "Nakamura",
)
COMPANY_FIRST = (
    "Harbor",
    "Maple",
    "Summit",
    "Blue Fern",
    "Copper",
    "Riverside",
    "Northgate",
    "Oak & Iron",
    "Sunny Side",
    "Greenway",
    "Old Town",
    "Lakeshore",
    "Silver",
    "Redwood",
    "Corner",
)
COMPANY_LAST = (
    "Bakery",
    "Dental",
    "Fitness",
    "Motors",
    "Cafe",
    "Florist",
    "Pharmacy",
    "Books",
    "Hardware",
    "Law",
    "Realty",
    "Salon",
    "Vets",
    "Brewing",
    "Logistics",
    "Dental Care",
)


# --- the plan (plain Python, no database) ------------------------------------------------


@dataclass
class OutcomePlan:
    won: bool
    revenue: Decimal | None = None
    cost: Decimal | None = None
    lost_reason: str = ""
    lost_note: str = ""


@dataclass
class ChangePlan:
    to: str  # stage key
    at: datetime
    by: str | None  # member key
    override_reason: str = ""
    outcome: OutcomePlan | None = None


@dataclass
class ObjectionPlan:
    tag: str
    at: datetime
    by: str | None
    text: str


@dataclass
class ActivityPlan:
    kind: str
    at: datetime
    by: str | None
    with_buyer: bool = False
    outcome: str = ""
    objections: list[ObjectionPlan] = field(default_factory=list)


@dataclass
class TouchPlan:
    channel: str
    at: datetime
    campaign: Campaign | None


@dataclass
class LeadPlan:
    name: str
    company: str
    email: str
    phone: str
    channel: str
    campaign: Campaign | None
    referrer: str
    first_touch_at: datetime
    owner: str | None
    value: Decimal | None = None
    changes: list[ChangePlan] = field(default_factory=list)
    answers: list[tuple[int, bool]] = field(default_factory=list)  # criterion index, met
    activities: list[ActivityPlan] = field(default_factory=list)
    touches: list[TouchPlan] = field(default_factory=list)

    @property
    def stage(self) -> str:
        return self.changes[-1].to

    @property
    def last_at(self) -> datetime:
        return self.changes[-1].at


@dataclass(frozen=True)
class DemoSummary:
    """What ``demo_create`` made, and how to log in."""

    organization: str  # slug
    name: str
    login_email: str
    login_password: str
    other_logins: tuple[tuple[str, str], ...]  # (email, roles)
    first_day: date
    last_day: date
    months: int
    members: int
    leads: int
    stage_changes: int
    won: int
    lost: int
    open: int
    activities: int
    objections: int
    touches: int
    qualification_answers: int
    revenue: Decimal
    followups: int = 0


def demo_email(slug: str, member: str = "owner") -> str:
    return f"{member}@{slug}.{DEMO_DOMAIN}"


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for item, weight in weighted:
        x -= weight
        if x < 0:
            return item
    return weighted[-1][0]


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _month_starts(today: date, months: int) -> list[date]:
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _dt(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


class _Planner:
    """Plans the whole history; every random draw goes through ``self.rng`` in one order."""

    def __init__(self, rng: random.Random, today: date, months: int) -> None:
        self.rng = rng
        self.today = today
        self.horizon = _dt(today, 0, 0)  # everything happens before today
        self.month_starts = _month_starts(today, months)
        self.start = _dt(self.month_starts[0], 0, 0)
        self.span = (self.horizon - self.start).total_seconds() or 1.0

    def progress(self, at: datetime) -> float:
        """0 at the start of the history, 1 at ``today``."""
        return min(1.0, max(0.0, (at - self.start).total_seconds() / self.span))

    # --- time -----------------------------------------------------------------------

    def later(self, prev: datetime, days: float) -> datetime:
        """A working-hours moment ``days`` after ``prev``, always strictly later."""
        rng = self.rng
        target = prev + timedelta(days=days)
        if target.weekday() >= 5:
            target += timedelta(days=7 - target.weekday())
        if target.date() <= prev.date():
            at = prev + timedelta(minutes=rng.randint(15, 180))
        else:
            at = _dt(target.date(), rng.randint(8, 17), rng.randrange(0, 60, 5))
        return at if at > prev else prev + timedelta(minutes=rng.randint(15, 120))

    def moment_between(self, start: datetime, end: datetime) -> datetime:
        """A moment in [start, end), in working hours when there is room for it."""
        rng = self.rng
        span = (end - start).total_seconds()
        if span <= 60:
            return start
        at = start + timedelta(seconds=rng.random() * span)
        if not 8 <= at.hour < 18:
            moved = _dt(at.date(), rng.randint(8, 17), rng.randrange(0, 60, 5))
            if start <= moved < end:
                at = moved
        return min(at, end - timedelta(seconds=1))

    def stage_days(self, stage: str, profile: ChannelProfile, factor: float = 1.0) -> float:
        mean = STAGE_DAYS[stage] * profile.speed * factor
        return self.rng.gammavariate(2.0, mean / 2.0)

    # --- leads ----------------------------------------------------------------------

    def plan(self) -> list[LeadPlan]:
        leads: list[LeadPlan] = []
        n_months = len(self.month_starts)
        for i, first in enumerate(self.month_starts):
            growth_at = i / max(1, n_months - 1)
            end = min(_next_month(first), self.today)
            days = (end - first).days
            if days <= 0:
                continue
            share = days / (_next_month(first) - first).days
            for profile in CHANNELS:
                lam = (
                    profile.per_month
                    * (1 + profile.growth * growth_at)
                    * profile.season[first.month - 1]
                    * share
                )
                for _ in range(_poisson(self.rng, lam)):
                    leads.append(self.lead(profile, first, days))
        leads.sort(key=lambda lead: lead.first_touch_at)
        return leads

    def first_touch(self, profile: ChannelProfile, first: date, days: int) -> datetime:
        rng = self.rng
        if profile.show_days is not None:
            day0, length = profile.show_days
            day = first + timedelta(days=min(days - 1, day0 - 1 + rng.randrange(length)))
        else:
            day = first + timedelta(days=rng.randrange(days))
            weekend_ok = profile.key == "walk-in" and day.weekday() == 5
            if day.weekday() >= 5 and not weekend_ok and rng.random() < 0.85:
                day = first + timedelta(days=rng.randrange(days))  # mostly on weekdays
        return _dt(day, rng.randint(8, 18), rng.randrange(0, 60))

    def lead(self, profile: ChannelProfile, first: date, days: int) -> LeadPlan:
        rng = self.rng
        at = self.first_touch(profile, first, days)
        at = min(at, self.horizon - timedelta(hours=1))
        person = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        company = (
            f"{rng.choice(COMPANY_FIRST)} {rng.choice(COMPANY_LAST)}" if rng.random() < 0.75 else ""
        )
        domain = (company or person).lower().replace("&", "and").replace(" ", "") + ".example"
        email = f"{person.split()[0].lower()}@{domain}" if rng.random() < 0.85 else ""
        phone = f"+1 555 01{rng.randrange(100):02d}" if rng.random() < 0.7 else ""
        campaign = None
        for candidate in profile.campaigns:
            if rng.random() < candidate.share:
                campaign = candidate
                break
        referrer = rng.choice(profile.referrers) if profile.referrers else ""
        lead = LeadPlan(
            name=person,
            company=company,
            email=email,
            phone=phone,
            channel=profile.key,
            campaign=campaign,
            referrer=referrer,
            first_touch_at=at,
            owner=_pick(rng, LEAD_OWNERS),
        )
        self.history(lead, profile)
        return lead

    def fate(self, profile: ChannelProfile, at: datetime) -> str:
        win = profile.win * (1 + profile.win_trend * self.progress(at))
        x = self.rng.random()
        if x < win:
            return "won"
        if x < win + 0.06:
            return "open"
        return "lost"

    def path(self, profile: ChannelProfile, start: str, fate: str) -> list[str]:
        """The stages the lead will go through after ``start`` (before meeting ``today``)."""
        rng = self.rng
        i = OPEN_STAGES.index(start)
        if fate == "won":
            if profile.key == "walk-in" and start != "suspect" and rng.random() < 0.35:
                return [WON_STAGE]  # bought on the spot
            target = len(OPEN_STAGES) - 1
        else:
            weights = LOST_AT if fate == "lost" else STALL_AT
            target = _pick(rng, [(j, weights[j]) for j in range(i, len(OPEN_STAGES))])
        path: list[str] = []
        while i < target:
            step = 2 if i + 2 <= target and rng.random() < 0.10 else 1
            i += step
            path.append(OPEN_STAGES[i])
            if fate == "won" and OPEN_STAGES[i] == "proposal" and rng.random() < 0.06:
                path += ["qualified", "proposal"]  # sent back to re-scope, then re-proposed
        if fate == "lost" and OPEN_STAGES[i] in GATED and rng.random() < 0.08:
            path.append(OPEN_STAGES[i - 1])  # moved back: not qualified after all
        if fate == "won":
            path.append(WON_STAGE)
        elif fate == "lost":
            path.append(LOST_STAGE)
        return path

    def history(self, lead: LeadPlan, profile: ChannelProfile) -> None:
        rng = self.rng
        start = _pick(rng, profile.start)
        fate = self.fate(profile, lead.first_touch_at)
        path = self.path(profile, start, fate)
        override = any(s in GATED for s in path) and rng.random() < 0.02
        estimate = Decimal(round(profile.deal * rng.lognormvariate(0, 0.4), -1))
        if not path and start == "suspect" and rng.random() < 0.5:
            lead.owner = None  # nobody has picked it up yet
        entered_by: str | None = lead.owner
        if profile.key in MARKETING_CHANNELS:
            entered_by = "marketing"
        elif profile.key == "website-form":
            entered_by = None  # the web form made it
        lead.changes.append(ChangePlan(start, lead.first_touch_at, entered_by))

        current, at = start, lead.first_touch_at
        for step in path:
            if step == WON_STAGE and current != "proposal":
                days = rng.uniform(0.0, 0.1)  # a walk-in who buys on the spot
            elif step == LOST_STAGE:
                days = self.stage_days(current, profile, 1.5)
            elif step != WON_STAGE and OPEN_STAGES.index(step) < OPEN_STAGES.index(current):
                days = rng.uniform(0.5, 4.0)  # moved back soon after entering
            else:
                days = self.stage_days(current, profile)
            at = self.later(at, days)
            if at >= self.horizon:
                break
            change = ChangePlan(step, at, lead.owner or "owner")
            if step in GATED and override:
                change.by = "owner"
                change.override_reason = "Owner's call: a long-standing partner vouches for them."
            if step == WON_STAGE:
                change.outcome = self.won(profile, estimate)
            elif step == LOST_STAGE:
                reason = _pick(rng, LOST_REASONS_BY_STAGE[current])
                change.outcome = OutcomePlan(won=False, lost_reason=reason)
            lead.changes.append(change)
            current = step

        reached = {c.to for c in lead.changes}
        if reached & {"lead", "qualified", "proposal", WON_STAGE}:
            lead.value = estimate
        if reached & GATED:
            # the checklist was ticked before the gate (all but one when overridden)
            lead.answers = [(k, not (override and k == 3)) for k in range(4)]
        elif "lead" in reached and rng.random() < 0.4:
            lead.answers = [(k, rng.random() < 0.6) for k in range(4) if rng.random() < 0.75]
        self.activities(lead, profile)
        self.objections(lead)
        if rng.random() < 0.08:
            self.touch(lead)

    def won(self, profile: ChannelProfile, estimate: Decimal) -> OutcomePlan:
        rng = self.rng
        revenue = Decimal(round(float(estimate) * rng.lognormvariate(0, 0.15), -1))
        revenue = max(revenue, Decimal(100))
        if rng.random() < profile.loss_share:
            margin = -rng.uniform(0.03, 0.25)  # won at a loss
        else:
            margin = min(0.7, max(0.05, rng.gauss(profile.margin, 0.08)))
        cost = (revenue * Decimal(str(round(1 - margin, 4)))).quantize(Decimal("0.01"))
        return OutcomePlan(won=True, revenue=revenue.quantize(Decimal("0.01")), cost=cost)

    # --- what was done ----------------------------------------------------------------

    def activities(self, lead: LeadPlan, profile: ChannelProfile) -> None:
        rng = self.rng
        by = lead.owner or "marketing"
        changes = lead.changes
        for n, change in enumerate(changes):
            if change.to not in OPEN_STAGES:
                continue
            begin = change.at
            if n + 1 < len(changes):
                end = changes[n + 1].at
            else:
                stay = timedelta(days=3 * STAGE_DAYS[change.to] * profile.speed)
                end = min(self.horizon, begin + stay)
            kinds = self.kinds_for(change.to, profile, lead)
            for kind, with_buyer, outcome in kinds:
                at = self.moment_between(begin, end)
                who = "marketing" if kind == "email" and change.to == "suspect" else by
                lead.activities.append(ActivityPlan(kind, at, who, with_buyer, outcome))
        while len(lead.activities) < 3:  # a few tries before anyone gives up on a lead
            end = changes[1].at if len(changes) > 1 else self.horizon
            at = self.moment_between(changes[0].at, end)
            kind = rng.choice(("call_attempt", "email"))
            note = "No answer" if kind == "call_attempt" else "Sent our brochure"
            lead.activities.append(ActivityPlan(kind, at, by, False, note))
        last = changes[-1]
        if last.outcome is not None:
            if last.outcome.won and rng.random() < 0.7:
                lead.activities.append(ActivityPlan("note", last.at, by, False, "Order signed"))
            elif not last.outcome.won and rng.random() < 0.5:
                reason = last.outcome.lost_reason
                lead.activities.append(ActivityPlan("note", last.at, by, False, f"Lost: {reason}"))
        lead.activities.sort(key=lambda a: a.at)

    def kinds_for(
        self, stage: str, profile: ChannelProfile, lead: LeadPlan
    ) -> list[tuple[str, bool, str]]:
        rng = self.rng
        kinds: list[tuple[str, bool, str]] = []
        attempts = ("No answer", "Left a voicemail", "Line busy")
        if stage == "suspect":
            calls = rng.randint(2, 3) if profile.key == "telemarketing" else rng.randint(1, 2)
            kinds += [("call_attempt", False, rng.choice(attempts)) for _ in range(calls)]
            if rng.random() < 0.5:
                kinds.append(("email", False, "Sent our brochure"))
        elif stage == "prospect":
            kinds += [("call_attempt", False, rng.choice(attempts))] * rng.randint(1, 2)
            if rng.random() < 0.3:
                kinds.append(("connect", False, "Spoke to reception; call back next week"))
            if rng.random() < 0.7:
                kinds.append(("email", False, "Replied to their enquiry"))
        elif stage == "lead":
            kinds.append(("qualifying", True, "Talked through need, budget and timing"))
            if rng.random() < 0.5:
                kinds.append(("connect", rng.random() < 0.8, "Follow-up call"))
            if rng.random() < 0.4:
                kinds.append(("email", False, "Sent examples of similar work"))
        elif stage == "qualified":
            if rng.random() < 0.7:
                kinds.append(("meeting", True, "Site visit and measurements"))
            if rng.random() < 0.4:
                kinds.append(("presentation", True, "Showed design options"))
        elif stage == "proposal":
            if rng.random() < 0.6:
                kinds.append(("presentation", True, "Presented the design and quote"))
            value = f" ({lead.value:,.0f})" if lead.value is not None else ""
            kinds.append(("proposal", False, f"Proposal sent{value}"))
            if rng.random() < 0.5:
                kinds.append(("email", False, "Followed up on the proposal"))
            if rng.random() < 0.6:
                kinds.append(("connect", True, "Call about the proposal"))
        return kinds

    def objections(self, lead: LeadPlan) -> None:
        rng = self.rng
        reached = {c.to for c in lead.changes}
        if not reached & {"lead", "qualified", "proposal"}:
            return
        last = lead.changes[-1]
        reason = last.outcome.lost_reason if last.outcome and not last.outcome.won else ""
        tag_from_reason = REASON_OBJECTION.get(reason, "")
        late_loss = tag_from_reason and any(s in reached for s in ("qualified", "proposal"))
        if rng.random() >= (0.75 if late_loss else 0.30):
            return
        talks = [
            a
            for a in lead.activities
            if a.kind in ("qualifying", "meeting", "presentation")
            or (a.kind == "connect" and a.with_buyer)
        ]
        for n in range(1 if rng.random() < 0.8 else 2):
            activity = rng.choice(talks) if talks else None
            at = activity.at if activity else self.moment_between(last.at, self.horizon)
            from_reason = n == 0 and tag_from_reason and rng.random() < 0.7
            tag = tag_from_reason if from_reason else self.objection_tag(at)
            objection = ObjectionPlan(
                tag, at, lead.owner or "owner", rng.choice(OBJECTION_TEXT[tag])
            )
            if activity is not None:
                activity.objections.append(objection)
            else:
                lead.activities.append(
                    ActivityPlan("note", at, objection.by, False, "Objection", [objection])
                )

    def objection_tag(self, at: datetime) -> str:
        p = self.progress(at)
        weights = (
            ("price", 0.12 + 0.40 * p),  # price comes up more and more
            ("timing", 0.20),
            ("competitor", 0.12 + 0.08 * p),
            ("need", 0.14),
            ("trust", 0.12 - 0.06 * p),
            ("authority", 0.08),
            ("other", 0.04),
        )
        return str(_pick(self.rng, weights))

    def touch(self, lead: LeadPlan) -> None:
        rng = self.rng
        begin = lead.first_touch_at + timedelta(days=1)
        if begin >= self.horizon:
            return
        key = rng.choice(
            [k for k in ("email", "website-form", "social", "search") if k != lead.channel]
        )
        profile = next(p for p in CHANNELS if p.key == key)
        campaign = profile.campaigns[0] if profile.campaigns and rng.random() < 0.6 else None
        lead.touches.append(TouchPlan(key, self.moment_between(begin, self.horizon), campaign))


def demo_plan(*, seed: int = 42, months: int = 24, today: date) -> list[LeadPlan]:
    """The whole history as plain objects, in first-touch order; checked against the rules."""
    planner = _Planner(random.Random(seed), today, months)
    leads = planner.plan()
    for lead in leads:
        _plan_check(lead, planner.horizon)
    return leads


def _plan_check(lead: LeadPlan, horizon: datetime) -> None:
    """The rules the services enforce; a failure here is a bug in the generator."""
    changes = lead.changes
    problems = []
    if changes[0].at != lead.first_touch_at or changes[0].to not in OPEN_STAGES:
        problems.append("the first stage change is not the first touch at an open stage")
    for before, after in itertools.pairwise(changes):
        if after.at < before.at:
            problems.append("stage changes out of time order")
        if after.to == before.to:
            problems.append("a move to the stage the lead is at")
        if before.to not in OPEN_STAGES:
            problems.append("a move out of a closed stage")
        if after.to in GATED:
            met = all(ok for _, ok in lead.answers) and len(lead.answers) == 4
            if not met and not after.override_reason:
                problems.append("past the qualification gate without the checklist")
    for change in changes:
        outcome = change.outcome
        if (change.to in (WON_STAGE, LOST_STAGE)) != (outcome is not None):
            problems.append("a closing move without its outcome")
        if outcome is not None and outcome.won and outcome.revenue is None:
            problems.append("won without revenue")
        if outcome is not None and not outcome.won and not outcome.lost_reason:
            problems.append("lost without a reason")
    moments = [c.at for c in changes] + [a.at for a in lead.activities]
    moments += [t.at for t in lead.touches]
    moments += [o.at for a in lead.activities for o in a.objections]
    if any(m >= horizon or m < lead.first_touch_at for m in moments):
        problems.append("a date before the first touch or not before today")
    if problems:
        raise RuntimeError(f"demo generator broke a rule for {lead.name}: {problems[0]}")


# --- writing it ---------------------------------------------------------------------------


def _plan_setup(organization: Any, owner: Any, today: date) -> None:
    """This year's plan for the year's revenue goal, accepted (its targets replace the even
    ones :func:`_scorecard_setup` wrote), and next year's for 15% more, saved: the plan page,
    the scorecard's and the spend page's checks against it have something to show. Skipped
    when the history is too short to measure the plan's rates."""
    from django.core.exceptions import ValidationError

    from keepscore.plan.services import plan_accept, plan_save
    from keepscore.scorecard.models import Goal

    goal = Goal.objects.filter(organization=organization, metric_key="revenue", year=today.year)
    revenue = goal.values_list("value", flat=True).first()
    if revenue is None:
        return
    try:
        for year, amount in ((today.year, revenue), (today.year + 1, round(revenue * 115 / 100))):
            report = plan_save(
                organization, year, goal_kind="revenue", goal_amount=amount, overrides={}, by=owner
            )
            if report.plan is None or not report.plan.months:
                return
        plan_accept(organization, today.year, by=owner, replace=True)
    except ValidationError:
        return


def _scorecard_setup(
    organization: Any, owner: Any, plans: Sequence[LeadPlan], today: date, seed: int
) -> None:
    """This year's goals and monthly targets (last year plus some growth), a manual metric
    (website visitors) filled for every month, and last month's review: a scorecard worth
    reading. All derived from the plans and the seed, so the demo stays deterministic."""
    from keepscore.scorecard.services import (
        goal_set,
        manual_metric_save,
        manual_value_set,
        review_add,
        target_set,
    )

    year = today.year
    won = [(c.at, o) for p in plans for c in p.changes if (o := c.outcome) and o.won]
    last_year = [o for at, o in won if at.year == year - 1]
    new_last_year = sum(1 for p in plans if p.first_touch_at.year == year - 1)
    if last_year and new_last_year:
        customers = round(len(last_year) * 1.15)
        revenue = round(sum(o.revenue or Decimal(0) for o in last_year) * Decimal("1.15"), -3)
        new_leads = round(new_last_year * 1.1)
        goals = {"customers": customers, "revenue": revenue, "new_leads": new_leads}
        for key, value in goals.items():
            goal_set(organization=organization, metric_key=key, year=year, value=value)
        for month in range(1, 13):
            first = date(year, month, 1)
            target_set(
                organization=organization,
                metric_key="new_leads",
                month=first,
                value=round(new_leads / 12),
            )
            target_set(
                organization=organization,
                metric_key="customers",
                month=first,
                value=round(customers / 12),
            )
    rng = random.Random(seed + 1)
    visitors = manual_metric_save(
        organization=organization,
        name="Website visitors",
        group="SUSPECT",
        description="Visits to the website in the month (from its analytics).",
    )
    web_leads = Counter(
        p.first_touch_at.date().replace(day=1) for p in plans if p.channel == "website-form"
    )
    for start in sorted(web_leads):
        if start < today.replace(day=1):
            value = web_leads[start] * 45 + rng.randrange(0, 400)
            manual_value_set(metric=visitors, month=start, value=value, by=owner)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    for kind, text in (
        ("note", "Referrals still close best; ads bring many leads that stall before qualified."),
        ("decision", "Ask every new customer for an introduction; review the ads targeting."),
    ):
        review_add(organization=organization, month=last_month, kind=kind, text=text, by=owner)


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


def _products(
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
    from keepscore.economics.products import (
        LineIn,
        deal_amounts,
        default_margin_set,
        product_save,
    )
    from keepscore.leads.models import DealOutcome

    organization = block.organization
    default_margin_set(organization, DEMO_DEFAULT_MARGIN)
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


def _money_setup(
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
    for start in _month_starts(today, months):
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
    last_year = _month_starts(today, 12)
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


#: the share of open leads worked lately (an activity in the last FOLLOWUP_RECENT_DAYS) that
#: have a next step; their due days fall from FOLLOWUP_DUE[0] (overdue) to FOLLOWUP_DUE[1]
FOLLOWUP_SHARE = 0.75
FOLLOWUP_RECENT_DAYS = 45
FOLLOWUP_DUE = (-6, 10)


def _followups_setup(
    organization: Any,
    leads: Sequence[Any],
    plans: Sequence[LeadPlan],
    stages: dict[str, Any],
    today: date,
    seed: int,
) -> int:
    """Next steps for most open leads worked lately: some overdue, some due today, most
    ahead; calls and emails early in the funnel, meetings and proposals later."""
    from keepscore.followups.models import FollowUp

    rng = random.Random(seed * 7919 + 11)
    recent = _dt(today - timedelta(days=FOLLOWUP_RECENT_DAYS), 0, 0)
    rows = []
    for lead, plan in zip(leads, plans, strict=True):
        stage = stages[plan.stage]
        if stage.kind != "open" or lead.owner is None:
            continue
        last = max([plan.last_at, *(a.at for a in plan.activities)])
        if last < recent or rng.random() > FOLLOWUP_SHARE:
            continue
        late = stage.requires_qualification or stage.key in ("qualified", "proposal")
        kinds = (
            [("meeting", 0.4), ("proposal", 0.3), ("call", 0.3)]
            if late
            else [
                ("call", 0.6),
                ("email", 0.3),
                ("meeting", 0.1),
            ]
        )
        rows.append(
            FollowUp(
                organization=organization,
                lead=lead,
                kind=_pick(rng, kinds),
                due_on=today + timedelta(days=rng.randint(*FOLLOWUP_DUE)),
                owner=lead.owner,
                created_by=lead.owner,
            )
        )
    FollowUp.objects.bulk_create(rows, batch_size=500)
    return len(rows)


def demo_create(
    *,
    seed: int = 42,
    slug: str = "demo",
    months: int = 24,
    today: date | None = None,
    plan: bool = True,
) -> DemoSummary:
    """Create the demo organization ``slug`` with ``months`` of history up to ``today``
    (``plan``: with this year's plan, accepted, and next year's, saved: :func:`_plan_setup`).

    Raises ``ValidationError`` when the slug is taken or the arguments make no sense.
    """
    from django.core.exceptions import ValidationError
    from django.db import transaction
    from django.utils import timezone

    from keepscore.accounts.models import Organization, User
    from keepscore.accounts.services import (
        member_add,
        member_update,
        money_format_set,
        organization_create,
        user_create,
    )
    from keepscore.activities.models import Activity, Objection
    from keepscore.history.bulk import bulk
    from keepscore.leads.models import (
        Channel,
        DealOutcome,
        Lead,
        LostReason,
        QualificationAnswer,
        QualificationCriterion,
        Stage,
        StageChange,
        Touch,
    )
    from keepscore.leads.services import channel_save

    if not 1 <= months <= 120:
        raise ValidationError({"months": "Give between 1 and 120 months of history."})
    today = today or timezone.now().date()
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"The organization {slug!r} exists already."})

    plans = demo_plan(seed=seed, months=months, today=today)
    emails = [demo_email(slug, key) for key, *_ in MEMBERS]

    with transaction.atomic():
        # demo users left behind by an organization deleted some other way
        User.objects.filter(email__in=emails, memberships__isnull=True).delete()
        owner_user = user_create(
            email=demo_email(slug),
            password=DEMO_PASSWORD,
            first_name=MEMBERS[0][1],
            last_name=MEMBERS[0][2],
        )
        organization = organization_create(
            name=f"{DEMO_BUSINESS} ({slug})", slug=slug, owner=owner_user
        )
        # a US business (its phone numbers are +1): dollars, written as in the US
        money_format_set(organization, currency=DEMO_CURRENCY, number_locale=DEMO_LOCALE)
        members = {"owner": organization.memberships.get(user=owner_user)}
        member_update(
            membership=members["owner"],
            is_owner=True,
            is_marketing=True,
            is_sales=True,
            marketing_share=OWNER_SHARE,
        )
        for key, first, last, roles in MEMBERS[1:]:
            user = user_create(
                email=demo_email(slug, key),
                password=None,
                first_name=first,
                last_name=last,
                can_login=False,
            )
            # the same demo password, without hashing it once more
            User.objects.filter(pk=user.pk).update(password=owner_user.password)
            members[key] = member_add(organization=organization, user=user, **roles)
        users = {key: m.user for key, m in members.items()}
        # the monthly review: the first Tuesday, 09:00, the owner and a sales member
        from keepscore.scorecard.review_mail import meeting_set

        meeting_set(
            organization,
            which="first",
            weekday="Tuesday",
            at="09:00",
            attendees=[members["owner"], members["sales1"]],
        )

        stages = {s.key: s for s in Stage.objects.for_org(organization)}
        missing = {*OPEN_STAGES, WON_STAGE, LOST_STAGE} - set(stages)
        if missing:
            raise RuntimeError(f"the default ladder lacks {sorted(missing)}")
        channels = {c.key: c for c in Channel.objects.for_org(organization)}
        for profile in CHANNELS:
            if profile.key not in channels:
                channels[profile.key] = channel_save(organization=organization, name=profile.name)
        reasons = {r.name: r for r in LostReason.objects.for_org(organization)}
        criteria = list(QualificationCriterion.objects.for_org(organization).order_by("position"))

        def reason(name: str) -> Any:
            if name not in reasons:
                reasons[name] = LostReason.objects.create(organization=organization, name=name)
            return reasons[name]

        def member(key: str | None) -> Any:
            return members[key] if key else None

        def user_of(key: str | None) -> Any:
            return users[key] if key else None

        # the whole history through the recorder's bulk writer; the summaries are built
        # from it when the block ends
        with bulk(organization, rebuild=True) as block:
            leads = block.create(
                Lead(
                    organization=organization,
                    name=p.name,
                    company=p.company,
                    email=p.email,
                    phone=p.phone,
                    owner=member(p.owner),
                    # who entered it: marketing for its channels, the web form nobody
                    sourced_by=member(p.changes[0].by),
                    stage=stages[p.stage],
                    value=p.value,
                    first_touch_at=p.first_touch_at,
                    stage_entered_at=p.last_at,
                    channel=channels[p.channel],
                    campaign=p.campaign.name if p.campaign else "",
                    utm_source=p.campaign.utm_source if p.campaign else "",
                    utm_medium=p.campaign.utm_medium if p.campaign else "",
                    utm_campaign=p.campaign.utm_campaign if p.campaign else "",
                    referrer=p.referrer,
                )
                for p in plans
            )
            change_rows: list[StageChange] = []
            outcome_rows: list[tuple[StageChange, Lead, OutcomePlan]] = []
            for lead, p in zip(leads, plans, strict=True):
                previous = None
                for c in p.changes:
                    row = StageChange(
                        organization=organization,
                        lead=lead,
                        from_stage=previous,
                        to_stage=stages[c.to],
                        at=c.at,
                        by=user_of(c.by),
                        qualification_override=bool(c.override_reason),
                        override_reason=c.override_reason,
                    )
                    change_rows.append(row)
                    if c.outcome is not None:
                        outcome_rows.append((row, lead, c.outcome))
                    previous = stages[c.to]
            block.create(change_rows)
            outcome_rows = _products(block, seed, outcome_rows)
            block.create(
                DealOutcome(
                    organization=organization,
                    lead=lead,
                    stage_change=row,
                    result=DealOutcome.Result.WON if o.won else DealOutcome.Result.LOST,
                    at=row.at,
                    revenue=o.revenue if o.won else None,
                    cost=o.cost if o.won else None,
                    lost_reason=None if o.won else reason(o.lost_reason),
                    lost_note=o.lost_note,
                )
                for row, lead, o in outcome_rows
            )
            QualificationAnswer.objects.bulk_create(
                QualificationAnswer(
                    organization=organization,
                    lead=lead,
                    criterion=criteria[k],
                    met=met,
                    by=user_of(p.owner or "owner"),
                )
                for lead, p in zip(leads, plans, strict=True)
                for k, met in p.answers
                if k < len(criteria)
            )
            activity_rows: list[tuple[Activity, ActivityPlan]] = [
                (
                    Activity(
                        organization=organization,
                        lead=lead,
                        kind=a.kind,
                        at=a.at,
                        by=member(a.by),
                        with_buyer=a.with_buyer,
                        outcome=a.outcome,
                    ),
                    a,
                )
                for lead, p in zip(leads, plans, strict=True)
                for a in p.activities
            ]
            block.create([row for row, _ in activity_rows])
            objection_rows = [
                Objection(
                    organization=organization,
                    lead=row.lead,
                    activity=row,
                    tag=o.tag,
                    text=o.text,
                    at=o.at,
                    by=member(o.by),
                )
                for row, a in activity_rows
                for o in a.objections
            ]
            block.create(objection_rows)
            touch_rows = [
                Touch(
                    organization=organization,
                    lead=lead,
                    at=t.at,
                    channel=channels[t.channel],
                    campaign=t.campaign.name if t.campaign else "",
                    utm_source=t.campaign.utm_source if t.campaign else "",
                    utm_medium=t.campaign.utm_medium if t.campaign else "",
                    utm_campaign=t.campaign.utm_campaign if t.campaign else "",
                )
                for lead, p in zip(leads, plans, strict=True)
                for t in p.touches
            ]
            block.create(touch_rows)
        _scorecard_setup(organization, members["owner"], plans, today, seed)
        _money_setup(organization, channels, members["owner"], plans, today, months, seed)
        followups = _followups_setup(organization, leads, plans, stages, today, seed)
        if plan:
            _plan_setup(organization, members["owner"], today)

    results = Counter(
        "won" if o.won else "lost" for p in plans for c in p.changes if (o := c.outcome)
    )
    revenue = sum(
        (o.revenue or Decimal(0) for p in plans for c in p.changes if (o := c.outcome) and o.won),
        Decimal(0),
    )
    first_day = min((p.first_touch_at.date() for p in plans), default=today)
    return DemoSummary(
        organization=organization.slug,
        name=organization.name,
        login_email=owner_user.email,
        login_password=DEMO_PASSWORD,
        other_logins=demo_other_logins(slug),
        first_day=first_day,
        last_day=today - timedelta(days=1),
        months=months,
        members=len(members),
        leads=len(leads),
        stage_changes=len(change_rows),
        won=results["won"],
        lost=results["lost"],
        open=len(leads) - results["won"] - results["lost"],
        activities=len(activity_rows),
        objections=len(objection_rows),
        touches=len(touch_rows),
        qualification_answers=sum(len(p.answers) for p in plans),
        revenue=revenue,
        followups=followups,
    )


def demo_other_logins(slug: str) -> tuple[tuple[str, str], ...]:
    """The other demo members (same password) and their roles."""
    out = []
    for key, _, _, roles in MEMBERS[1:]:
        names = [name[3:] for name, on in roles.items() if on]
        out.append((demo_email(slug, key), ", ".join(names)))
    return tuple(out)


def demo_exists(slug: str) -> bool:
    """Whether ``slug`` is a demo organization (its demo owner is a member)."""
    from keepscore.accounts.models import Membership

    return Membership.objects.filter(
        organization__slug=slug, user__email__iexact=demo_email(slug), is_owner=True
    ).exists()


def demo_delete(*, slug: str) -> bool:
    """Delete the demo organization ``slug``, all its data and its demo users.

    Refuses (``ValidationError``) an organization that is not a demo. Returns whether there
    was one to delete.
    """
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from keepscore.accounts.models import Organization, User
    from keepscore.accounts.services import organization_delete

    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        return False
    if not demo_exists(slug):
        raise ValidationError(
            {"slug": f"{slug!r} is not a demo organization; it will not be deleted."}
        )
    emails = [demo_email(slug, key) for key, *_ in MEMBERS]
    with transaction.atomic():
        organization_delete(organization=organization)
        User.objects.filter(email__in=emails, memberships__isnull=True).delete()
    return True
