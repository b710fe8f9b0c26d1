"""Follow-ups ("tasks" in the API): the next steps with leads, what is due and by whom."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Path, Query, Router, Schema, Status

from keepscore.accounts.models import Membership
from keepscore.api.auth import member_of, organization_of
from keepscore.api.leads import LeadId, Limit, Offset, lead_get, member_by_email, page
from keepscore.api.schemas import ERRORS, MAX_ID, Clock, Day, EmailQuery, Text, email_of
from keepscore.followups.models import FollowUp, FollowUpKind
from keepscore.followups.selectors import followup_list
from keepscore.followups.services import followup_add, followup_done, followup_update

router = Router(tags=["tasks"])

TaskId = Path(..., ge=1, le=MAX_ID)
OwnerQuery = Query(None, description="A member's email, or 'me'.")
DueBefore = Query(None, description="Due on or before this day.")
DueWindow = Query(None, description="Open ones: overdue, due today (or overdue), within a week.")
LeadQuery = Query(None, ge=1, le=MAX_ID, description="Only this lead's.")


class TaskOut(Schema):
    id: int
    lead: int
    lead_name: str
    kind: str = Field(description="call, email, meeting, proposal or other.")
    due_on: date
    due_time: time | None
    owner: str | None = Field(description="The member who does it (email).")
    note: str
    done: bool
    done_at: datetime | None
    overdue: bool = Field(description="Open and past its day (or today's time).")
    activity: int | None = Field(description="The activity logged when it was done.")

    @staticmethod
    def of(followup: FollowUp, now: datetime) -> TaskOut:
        return TaskOut(
            id=followup.pk,
            lead=followup.lead_id,
            lead_name=followup.lead.name,
            kind=followup.kind,
            due_on=followup.due_on,
            due_time=followup.due_time,
            owner=email_of(followup.owner),
            note=followup.note,
            done=followup.done,
            done_at=followup.done_at,
            overdue=followup.overdue(now),
            activity=followup.activity_id,
        )


class TaskPage(Schema):
    items: list[TaskOut]
    count: int


class TaskIn(Schema):
    kind: FollowUpKind
    due_on: Day
    due_time: Clock | None = None
    owner: Text | None = Field(None, description="A member's email; the lead's owner if left out.")
    note: Text = ""


class TaskPatch(Schema):
    """Only what is sent changes. ``done: true`` marks it done and logs the activity it was
    (a call: ``reached`` says whether it was a connect or a call attempt)."""

    kind: FollowUpKind | None = None
    due_on: Day | None = None
    due_time: Clock | None = None
    owner: Text | None = Field(None, description="A member's email.")
    note: Text | None = None
    done: bool | None = None
    reached: bool = Field(False, description="With done: a call that reached them.")


def _task(request: HttpRequest, task_id: int) -> FollowUp:
    followups = FollowUp.objects.for_org(organization_of(request)).select_related(
        "lead", "owner__user"
    )
    return get_object_or_404(followups, pk=task_id)


def _owner(request: HttpRequest, owner: str | None) -> Membership | None:
    if owner is not None and owner.strip().lower() == "me":
        return member_of(request)
    return member_by_email(organization_of(request), owner)


@router.get("/tasks", response={200: TaskPage, **ERRORS}, summary="List follow-ups")
def tasks_list(
    request: HttpRequest,
    owner: EmailQuery | None = OwnerQuery,
    due_before: Day | None = DueBefore,
    due: Literal["today", "overdue", "week"] | None = DueWindow,
    done: bool | None = None,
    lead: int | None = LeadQuery,
    limit: int = Limit,
    offset: int = Offset,
) -> Any:
    organization = organization_of(request)
    the_lead = lead_get(request, lead) if lead is not None else None
    qs = followup_list(
        organization=organization,
        owner=_owner(request, owner),
        lead=the_lead,
        done=done,
        due_before=due_before,
        due=due,
    )
    count, items = page(qs, limit, offset)
    now = timezone.localtime()
    return {"items": [TaskOut.of(f, now) for f in items], "count": count}


@router.post("/leads/{lead_id}/tasks", response={201: TaskOut, **ERRORS}, summary="Add a follow-up")
def lead_task_add(request: HttpRequest, payload: TaskIn, lead_id: int = LeadId) -> Any:
    lead = lead_get(request, lead_id)
    followup = followup_add(
        lead=lead,
        by=member_of(request),
        kind=payload.kind,
        due_on=payload.due_on,
        due_time=payload.due_time,
        owner=_owner(request, payload.owner),
        note=payload.note,
    )
    return Status(201, TaskOut.of(followup, timezone.localtime()))


@router.patch("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, summary="Change a follow-up")
def task_update(request: HttpRequest, payload: TaskPatch, task_id: int = TaskId) -> Any:
    followup = _task(request, task_id)
    by = member_of(request)
    fields = payload.model_dump(exclude_unset=True)
    reached = fields.pop("reached", False)
    done = fields.pop("done", None)
    if "owner" in fields:
        fields["owner"] = _owner(request, fields["owner"])
    if fields.get("note", "") is None:
        fields["note"] = ""
    with transaction.atomic():  # all of it or nothing
        if fields:
            followup = followup_update(followup=followup, by=by, **fields)
        if done is True and not followup.done:
            followup = followup_done(followup=followup, by=by, reached=reached)
        elif done is False:
            followup = followup_update(followup=followup, by=by, done=False)
    return TaskOut.of(_task(request, followup.pk), timezone.localtime())
