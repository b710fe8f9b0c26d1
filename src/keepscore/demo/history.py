"""The demo's leads and their histories, planned in plain Python and checked against the rules.

Everything comes from one ``random.Random(seed)``: the same seed and ``today`` always give
the same leads, stage changes, outcomes, activities and objections. Nothing is dated on or
after ``today``.

The history follows the rules the services enforce — stage changes in time order, won with
revenue, lost with a reason, the qualification checklist met (or overridden by an owner,
with a reason) before a lead reaches a gated stage, every date after the first touch.

What the data shows, on purpose:

* channels differ clearly: referrals are few, convert well and close fast; ads and search
  bring many leads that rarely buy (and ads convert worse as their volume grows); trade
  shows come in two bursts a year; the website form is steady;
* lead volume grows over the period, with a summer and December dip;
* proposals take longest; a few leads skip stages, a few move backward;
* margins vary by channel and a few deals are won at a loss (mostly from ads);
* price objections become more frequent over time.
"""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from keepscore.common.months import month_start
from keepscore.demo.business import (
    CHANNELS,
    GATED,
    LOST_AT,
    LOST_REASONS_BY_STAGE,
    LOST_STAGE,
    OBJECTION_TEXT,
    OPEN_STAGES,
    REASON_OBJECTION,
    STAGE_DAYS,
    STALL_AT,
    WON_STAGE,
    ChannelProfile,
)
from keepscore.demo.draws import month_starts, pick, poisson, utc_moment
from keepscore.demo.people import (
    COMPANY_FIRST,
    COMPANY_LAST,
    FIRST_NAMES,
    LAST_NAMES,
    LEAD_OWNERS,
    MARKETING_CHANNELS,
)
from keepscore.demo.plans import (
    ActivityPlan,
    ChangePlan,
    LeadPlan,
    ObjectionPlan,
    OutcomePlan,
    TouchPlan,
)


class _Planner:
    """Plans the whole history; every random draw goes through ``self.rng`` in one order."""

    def __init__(self, rng: random.Random, today: date, months: int) -> None:
        self.rng = rng
        self.today = today
        self.horizon = utc_moment(today, 0, 0)  # everything happens before today
        self.month_starts = month_starts(today, months)
        self.start = utc_moment(self.month_starts[0], 0, 0)
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
            at = utc_moment(target.date(), rng.randint(8, 17), rng.randrange(0, 60, 5))
        return at if at > prev else prev + timedelta(minutes=rng.randint(15, 120))

    def moment_between(self, start: datetime, end: datetime) -> datetime:
        """A moment in [start, end), in working hours when there is room for it."""
        rng = self.rng
        span = (end - start).total_seconds()
        if span <= 60:
            return start
        at = start + timedelta(seconds=rng.random() * span)
        if not 8 <= at.hour < 18:
            moved = utc_moment(at.date(), rng.randint(8, 17), rng.randrange(0, 60, 5))
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
            end = min(month_start(first, back=-1), self.today)
            days = (end - first).days
            if days <= 0:
                continue
            share = days / (month_start(first, back=-1) - first).days
            for profile in CHANNELS:
                lam = (
                    profile.per_month
                    * (1 + profile.growth * growth_at)
                    * profile.season[first.month - 1]
                    * share
                )
                for _ in range(poisson(self.rng, lam)):
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
        return utc_moment(day, rng.randint(8, 18), rng.randrange(0, 60))

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
            owner=pick(rng, LEAD_OWNERS),
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
            target = pick(rng, [(j, weights[j]) for j in range(i, len(OPEN_STAGES))])
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
        start = pick(rng, profile.start)
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
                reason = pick(rng, LOST_REASONS_BY_STAGE[current])
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
        return str(pick(self.rng, weights))

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
