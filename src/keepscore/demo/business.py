"""The demo business: its stages and their pace, seasons, channels and campaigns, losses.

A small sign-making business (Brightside Signs, in dollars). Each channel's profile says how
many leads it brings, how they grow, convert, move and pay; the lost reasons each stage
loses leads for, and the objections a reason goes with.
"""

from __future__ import annotations

from dataclasses import dataclass

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
