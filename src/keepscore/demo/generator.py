"""The demo's entry point: demo_create makes the demo organization, demo_delete removes it.

The demo organization is a small sign-making business with months of realistic history.
Its history is planned in plain Python first (:func:`keepscore.demo.history.demo_plan`, from
one ``random.Random(seed)``: the same seed and ``today`` always give the same data, only
database ids and ``created_at`` differ), then written with ``bulk_create`` in one
transaction, which is what makes a two-year history load in seconds.

- :mod:`keepscore.demo.business`: its stages, seasons, channels and lost reasons;
- :mod:`keepscore.demo.people`: its members and their logins (``DEMO_PASSWORD``,
  :func:`demo_email`, :func:`demo_other_logins`, which the CLI and tests import from here),
  and the names its leads get;
- :mod:`keepscore.demo.history` (with :mod:`keepscore.demo.plans` and
  :mod:`keepscore.demo.draws`): the leads and their histories;
- :mod:`keepscore.demo.money`: the products, the deals sold with them, the spend, the cash;
- :mod:`keepscore.demo.owner_setup`: the goals, targets, manual metric, review and plan;
- :mod:`keepscore.demo.followups`: the open leads' next steps;
- here: :func:`demo_create`, :class:`DemoSummary`, :func:`demo_exists`, :func:`demo_delete`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from keepscore.demo.business import (
    CHANNELS,
    DEMO_BUSINESS,
    DEMO_CURRENCY,
    DEMO_LOCALE,
    LOST_STAGE,
    OPEN_STAGES,
    WON_STAGE,
)
from keepscore.demo.followups import followups_setup
from keepscore.demo.history import demo_plan
from keepscore.demo.money import money_setup, products_setup
from keepscore.demo.owner_setup import plan_setup, scorecard_setup
from keepscore.demo.people import (
    DEMO_PASSWORD,
    MEMBERS,
    OWNER_SHARE,
    demo_email,
    demo_other_logins,
)
from keepscore.demo.plans import ActivityPlan, OutcomePlan

__all__ = [
    "DEMO_PASSWORD",
    "DemoSummary",
    "demo_create",
    "demo_delete",
    "demo_email",
    "demo_exists",
    "demo_other_logins",
]


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


#: the months of history a demo may hold
MONTHS_MIN, MONTHS_MAX = 1, 120


def months_check(months: int) -> None:
    """A ``ValidationError`` on ``months`` unless the demo can hold that many months (the
    command checks it before it deletes a demo it is asked to make again)."""
    if not MONTHS_MIN <= months <= MONTHS_MAX:
        raise ValidationError(
            {"months": f"Give between {MONTHS_MIN} and {MONTHS_MAX} months of history."}
        )


def demo_create(
    *,
    seed: int = 42,
    slug: str = "demo",
    months: int = 24,
    today: date | None = None,
    plan: bool = True,
) -> DemoSummary:
    """Create the demo organization ``slug`` with ``months`` of history up to ``today``
    (``plan``: with this year's plan, accepted, and next year's, saved:
    :func:`keepscore.demo.owner_setup.plan_setup`).

    Raises ``ValidationError`` when the slug is taken or the arguments make no sense.
    """
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
    from keepscore.leads.settings_services import channel_save

    months_check(months)
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
        money_format_set(
            organization=organization, currency=DEMO_CURRENCY, number_locale=DEMO_LOCALE
        )
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
        from keepscore.scorecard.review_meeting import meeting_set

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
            outcome_rows = products_setup(block, seed, outcome_rows)
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
        scorecard_setup(organization, members["owner"], plans, today, seed)
        money_setup(organization, channels, members["owner"], plans, today, months, seed)
        followups = followups_setup(organization, leads, plans, stages, today, seed)
        if plan:
            plan_setup(organization, members["owner"], today)

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
