"""Reads for follow-ups: lists by owner and due day, and each lead's next step."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.followups.models import FollowUp
from keepscore.leads.models import Lead, StageKind

#: the due windows of ``keepscore tasks --due`` and the Today page
DUE_WINDOWS = ("today", "overdue", "week")


def _overdue_q(now: datetime) -> Q:
    """Open and past due (the day before ``now``'s, or today at a time already passed)."""
    today = now.date()
    return Q(due_on__lt=today) | Q(due_on=today, due_time__lt=now.time())


def followup_list(
    *,
    organization: Organization,
    owner: Membership | None = None,
    lead: Lead | None = None,
    done: bool | None = None,
    due_before: date | None = None,
    due: str | None = None,
    now: datetime | None = None,
) -> QuerySet[FollowUp]:
    """The organization's follow-ups, soonest due first.

    ``due_before``: due on or before that day. ``due``: "overdue" (open, past due), "today"
    (open, due today or overdue: what is to do today) or "week" (open, due within 7 days,
    overdue included).
    """
    now = timezone.localtime(now)
    qs = FollowUp.objects.for_org(organization).select_related(
        "lead__stage", "lead__organization", "owner__user"
    )
    if owner is not None:
        qs = qs.filter(owner=owner)
    if lead is not None:
        qs = qs.filter(lead=lead)
    if done is not None:
        qs = qs.filter(done_at__isnull=not done)
    if due_before is not None:
        qs = qs.filter(due_on__lte=due_before)
    if due is not None:
        if due not in DUE_WINDOWS:
            raise ValueError(f"due is one of {', '.join(DUE_WINDOWS)}")
        qs = qs.filter(done_at__isnull=True)
        if due == "overdue":
            qs = qs.filter(_overdue_q(now))
        else:
            days = 0 if due == "today" else 6
            qs = qs.filter(due_on__lte=now.date() + timedelta(days=days))
    return qs.order_by("due_on", "due_time", "id")


@dataclass(frozen=True)
class NextStep:
    followup: FollowUp
    overdue: bool
    #: open follow-ups of the lead in all (the next one among them)
    open_count: int


def next_steps(*, leads: Iterable[Lead], now: datetime | None = None) -> dict[int, NextStep]:
    """Each lead's next step (its soonest open follow-up): one query for a page of leads."""
    now = timezone.localtime(now)
    ids = [lead.pk for lead in leads]
    steps: dict[int, NextStep] = {}
    counts: dict[int, int] = {}
    for followup in (
        FollowUp.objects.filter(lead_id__in=ids, done_at__isnull=True)
        .select_related("owner__user")
        .order_by("due_on", "due_time", "id")
    ):
        counts[followup.lead_id] = counts.get(followup.lead_id, 0) + 1
        if followup.lead_id not in steps:
            steps[followup.lead_id] = NextStep(followup, followup.overdue(now), 0)
    return {pk: NextStep(s.followup, s.overdue, counts[pk]) for pk, s in steps.items()}


def attach_next_steps(*, leads: list[Lead], now: datetime | None = None) -> list[Lead]:
    """Set ``lead.next_step`` (a NextStep or None) on each lead of a page; returns them."""
    steps = next_steps(leads=leads, now=now)
    for lead in leads:
        lead.next_step = steps.get(lead.pk)  # type: ignore[attr-defined]
    return leads


def open_followup_exists() -> Exists:
    return Exists(FollowUp.objects.filter(lead=OuterRef("pk"), done_at__isnull=True))


def overdue_followup_exists(*, now: datetime | None = None) -> Exists:
    now = timezone.localtime(now)
    return Exists(
        FollowUp.objects.filter(lead=OuterRef("pk"), done_at__isnull=True).filter(_overdue_q(now))
    )


def next_step_filter(*, leads: QuerySet[Lead], next_step: str) -> QuerySet[Lead]:
    """The lead list's "next step" filter (``LeadFilters.next_step``): "none" (open leads
    without an open follow-up), "any" (with one) or "overdue" (with one past due)."""
    if next_step == "none":
        return leads.filter(~open_followup_exists(), stage__kind=StageKind.OPEN)
    if next_step == "any":
        return leads.filter(open_followup_exists())
    return leads.filter(overdue_followup_exists())
