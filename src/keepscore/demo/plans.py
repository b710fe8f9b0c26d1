"""The demo's history as plain objects: a lead and its stage changes, outcomes, activities.

:func:`keepscore.demo.history.demo_plan` makes them (no database); ``demo_create`` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from keepscore.demo.business import Campaign


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
