"""The Today page: a member's follow-ups due, open leads without a next step, and
late-stage leads stalling past the focus rule (``leads.late.STALL_DAYS``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.common.days import entered_before
from keepscore.followups.models import FollowUp
from keepscore.followups.selectors import followup_list, open_followup_exists
from keepscore.leads.models import Lead, Stage, StageKind

#: rows shown per list (the rest are a link to the lead list)
ROWS = 25


@dataclass(frozen=True)
class Today:
    member: Membership
    now: datetime
    due: list[tuple[FollowUp, bool]]  # each with whether it is overdue
    due_count: int
    overdue_count: int
    without_next_step: list[Lead]
    without_next_step_count: int
    stalled: list[Lead]
    stalled_count: int
    stall_days: int
    late_stages: list[Stage]

    @property
    def empty(self) -> bool:
        return not (self.due_count or self.without_next_step_count or self.stalled_count)


def _open_stages(organization: Organization) -> list[int]:
    """The ids of the open stages (a ladder has a few)."""
    return list(
        Stage.objects.for_org(organization).filter(kind=StageKind.OPEN).values_list("pk", flat=True)
    )


def _leads(
    organization: Organization, member: Membership, stages: list[int] | None = None
) -> QuerySet[Lead]:
    """The member's open leads (of these open stages). The stages are named by id, so that
    the (organization, owner, stage, stage_entered_at) index finds the member's leads of
    each in order of entry: the lists and their counts read the member's open leads only,
    not every lead of the organization."""
    return (
        Lead.objects.for_org(organization)
        .filter(owner=member, stage__in=_open_stages(organization) if stages is None else stages)
        .select_related("stage", "channel", "organization")
    )


def _first(leads: QuerySet[Lead], stages: list[int]) -> list[Lead]:
    """The first ``ROWS`` leads in order of stage entry (then id): each stage's first
    ``ROWS``, read in order from the index (not every lead sorted), merged."""
    found: list[Lead] = []
    for stage in stages:
        found.extend(leads.filter(stage=stage).order_by("stage_entered_at", "id")[:ROWS])
    found.sort(key=lambda lead: (lead.stage_entered_at, lead.pk))
    return found[:ROWS]


def today_for(organization: Organization, member: Membership, now: datetime | None = None) -> Today:
    from keepscore.leads.late import STALL_DAYS, late_stages

    now = timezone.localtime(now)
    due = followup_list(organization=organization, owner=member, due="today", now=now)
    overdue = followup_list(organization=organization, owner=member, due="overdue", now=now)
    stages = _open_stages(organization)
    without = _leads(organization, member, stages).filter(~open_followup_exists())
    late = late_stages(organization)
    late_open = [s.pk for s in late if s.pk in stages]
    stalled = _leads(organization, member, late_open).filter(
        stage_entered_at__lt=entered_before(STALL_DAYS, now.date())
    )
    return Today(
        member=member,
        now=now,
        due=[(f, f.overdue(now)) for f in due[:ROWS]],
        due_count=due.count(),
        overdue_count=overdue.count(),
        without_next_step=_first(without, stages),
        without_next_step_count=without.count(),
        stalled=_first(stalled, late_open),
        stalled_count=stalled.count(),
        stall_days=STALL_DAYS,
        late_stages=late,
    )
