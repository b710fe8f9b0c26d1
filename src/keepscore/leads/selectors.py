"""Reads for leads: the filtered list, the board and a lead's timeline."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Trim

from keepscore.accounts.models import Organization
from keepscore.activities.models import Activity, Objection
from keepscore.common.days import day_start, entered_before
from keepscore.leads.models import (
    DealOutcome,
    Lead,
    QualificationAnswer,
    QualificationCriterion,
    Stage,
    StageChange,
    StageCorrection,
    Touch,
)

#: filters of the lead list whose rule another app owns, by ``LeadFilters`` field: the
#: queryset (``leads=``) and the field's value (named as the field) in, the filtered queryset
#: out; registered by that app when Django starts (the follow-ups: ``next_step``)
LIST_FILTERS: dict[str, Callable[..., QuerySet[Lead]]] = {}
#: the text fields of a lead's original source the list filters by (the funnel's groupings)
SOURCE_TEXT = ("campaign", "utm_source", "utm_medium", "utm_campaign")


@dataclass(frozen=True)
class LeadFilters:
    q: str = ""
    stage: Stage | None = None
    channel: Any = None
    owner: Any = None
    created_from: date | None = None
    created_to: date | None = None
    #: leads with a stage change into this stage dated in [entered_from, entered_to] (the
    #: dashboard's "entered this month" counts and the funnel's "entered" link here)
    entered: Stage | None = None
    entered_from: date | None = None
    entered_to: date | None = None
    #: leads first won in [won_from, won_to]: their earliest won outcome is dated in it (the
    #: economics' customers link here)
    won_from: date | None = None
    won_to: date | None = None
    #: leads won in [closed_won_from, closed_won_to]: their last outcome dated in it (by time,
    #: then id) is a win (the scorecard's and the dashboard's customers link here)
    closed_won_from: date | None = None
    closed_won_to: date | None = None
    #: leads lost in [closed_lost_from, closed_lost_to]: their last outcome dated in it is a
    #: loss (the scorecard's "Lost" links here)
    closed_lost_from: date | None = None
    closed_lost_to: date | None = None
    #: the member who brought the lead in (``Lead.sourced_by``; marketing & sales links here)
    sourced_by: Any = None
    #: the original source's text fields (``SOURCE_TEXT``), each matched whole, its spaces
    #: around left out (as the funnel groups leads by them)
    campaign: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    #: leads whose reach of this stage (entering it or a later stage that is not lost, as
    #: the funnel counts it) is first dated in [reached_from, reached_to]
    reached: Stage | None = None
    reached_from: date | None = None
    reached_to: date | None = None
    #: "open", "won" or "lost": the kind of the lead's stage now
    status: str = ""
    #: "none" (open leads without a next step), "any" (with one) or "overdue"
    next_step: str = ""
    #: at its current stage for at least this many days
    min_days: int | None = None
    #: at a late stage (focus: where a lead waiting three weeks is stalled)
    late: bool = False
    #: the leads one import created: (first id, last id, their created_at)
    created_in: tuple[int, int, datetime] | None = None


def _dated_in(rows: QuerySet[Any], start: date | None, end: date | None) -> QuerySet[Any]:
    """The rows dated in [start, end], local days (either end open when None)."""
    if start:
        rows = rows.filter(at__gte=day_start(start))
    if end and end < date.max:
        rows = rows.filter(at__lt=day_start(end + timedelta(days=1)))
    return rows


def first_dated_in(
    *, organization: Organization, rows: QuerySet[Any], start: date | None, end: date | None
) -> Q:
    """The leads (``pk``) whose earliest of ``rows`` (rows with ``organization``, ``lead_id``
    and ``at``, not yet narrowed to the organization) is dated in [start, end], local days
    (either end open when None): the leads of the organization's rows dated in the days,
    each of them (once, not once per row) asked for a row before the days through its own
    index: never every lead's history."""
    dated = _dated_in(rows.filter(organization=organization), start, end)
    first = Q(pk__in=dated.values("lead_id"))
    if not start:
        return first
    return first & Q(~Exists(rows.filter(lead_id=OuterRef("pk"), at__lt=day_start(start))))


def last_outcome_in(
    *, organization: Organization, result: str, start: date | None, end: date | None
) -> Q:
    """The leads (``pk``) whose last outcome dated in [start, end] (local days; by time, then
    id) has ``result``: the close rate's won (the scorecard's customers) or lost leads. Read
    from the organization's outcomes in the days, each asked for a later one of its lead."""
    later = _dated_in(DealOutcome.objects.filter(lead_id=OuterRef("lead_id")), start, end).filter(
        Q(at__gt=OuterRef("at")) | Q(at=OuterRef("at"), pk__gt=OuterRef("pk"))
    )
    dated = _dated_in(DealOutcome.objects.for_org(organization), start, end)
    last = dated.filter(result=result).filter(~Exists(later))
    return Q(pk__in=last.values("lead_id"))


def _by_dated_rows(f: LeadFilters) -> bool:
    """Whether a filter names the leads by their rows dated in some days (stage changes,
    outcomes): a subquery over the organization's rows of those days."""
    return bool(
        f.entered
        or f.reached
        or f.won_from
        or f.won_to
        or f.closed_won_from
        or f.closed_won_to
        or f.closed_lost_from
        or f.closed_lost_to
    )


def _leads_of(organization: Organization, f: LeadFilters) -> QuerySet[Lead]:
    """The organization's leads, to be filtered by ``f``.

    When ``f`` names the leads by their dated rows, SQLite is kept from the organization's
    index (the organization is still checked on every lead, as ``organization_id + 0``:
    SQLite's documented way to disqualify a term from an index). SQLite plans without
    statistics and takes an equality on an indexed column as selective: it would scan all
    the organization's leads and look each up in the subquery's list, where reading the
    listed leads by id is the short way. At 1,000,000 leads the count of a month's "won"
    list took 257 ms, then 50 ms. PostgreSQL has its statistics and needs none of this."""
    if connection.vendor != "sqlite" or not _by_dated_rows(f):
        return Lead.objects.for_org(organization)
    return Lead.objects.alias(org_unindexed=F("organization_id") + 0).filter(
        org_unindexed=organization.pk
    )


def lead_list(*, organization: Organization, filters: LeadFilters | None = None) -> QuerySet[Lead]:
    f = filters or LeadFilters()
    qs = _leads_of(organization, f).select_related(
        "stage", "channel", "owner__user", "sourced_by__user"
    )
    if f.q:
        qs = qs.filter(
            Q(name__icontains=f.q)
            | Q(company__icontains=f.q)
            | Q(email__icontains=f.q)
            | Q(phone__icontains=f.q)
        )
    if f.stage is not None:
        qs = qs.filter(stage=f.stage)
    if f.channel is not None:
        qs = qs.filter(channel=f.channel)
    if f.owner is not None:
        qs = qs.filter(owner=f.owner)
    if f.sourced_by is not None:
        qs = qs.filter(sourced_by=f.sourced_by)
    for name in SOURCE_TEXT:
        if getattr(f, name):
            qs = qs.alias(**{f"{name}_trimmed": Trim(name)}).filter(
                **{f"{name}_trimmed": getattr(f, name).strip()}
            )
    if f.created_from:
        qs = qs.filter(first_touch_at__gte=day_start(f.created_from))
    if f.created_to and f.created_to < date.max:  # up to date.max: no upper bound
        qs = qs.filter(first_touch_at__lt=day_start(f.created_to + timedelta(days=1)))
    if f.entered is not None:
        changes = StageChange.objects.for_org(organization).filter(to_stage=f.entered)
        changes = _dated_in(changes, f.entered_from, f.entered_to)
        qs = qs.filter(pk__in=changes.values("lead_id"))
    if f.won_from or f.won_to:
        won = DealOutcome.objects.filter(result=DealOutcome.Result.WON)
        qs = qs.filter(
            first_dated_in(organization=organization, rows=won, start=f.won_from, end=f.won_to)
        )
    for result, start, end in (
        (DealOutcome.Result.WON, f.closed_won_from, f.closed_won_to),
        (DealOutcome.Result.LOST, f.closed_lost_from, f.closed_lost_to),
    ):
        if start or end:
            qs = qs.filter(
                last_outcome_in(organization=organization, result=result, start=start, end=end)
            )
    if f.reached is not None:
        qs = LIST_FILTERS["reached"](
            leads=qs, reached=f.reached, start=f.reached_from, end=f.reached_to
        )
    if f.status:
        qs = qs.filter(stage__kind=f.status)
    if f.next_step:
        qs = LIST_FILTERS["next_step"](leads=qs, next_step=f.next_step)
    if f.min_days is not None:
        qs = qs.filter(stage_entered_at__lt=entered_before(f.min_days))
    if f.created_in is not None:
        first, last, at = f.created_in
        qs = qs.filter(pk__gte=first, pk__lte=last, created_at=at)
    if f.late:
        from keepscore.leads.late import late_stages

        qs = qs.filter(stage__in=late_stages(organization))
    return qs


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "stage_change" | "activity" | "objection" | "touch"
    item: Any


def lead_timeline(*, lead: Lead) -> list[TimelineEntry]:
    """Stage changes, activities, objections, later touches and undone moves of a lead,
    newest first."""
    entries = [
        TimelineEntry(sc.at, "stage_change", sc)
        for sc in StageChange.objects.filter(lead=lead)
        .select_related("from_stage", "to_stage", "by", "outcome", "outcome__lost_reason")
        .prefetch_related("outcome__lines__product")
    ]
    entries += [
        TimelineEntry(a.at, "activity", a)
        for a in Activity.objects.filter(lead=lead).select_related("by__user")
    ]
    entries += [
        TimelineEntry(o.at, "objection", o)
        for o in Objection.objects.filter(lead=lead).select_related("by__user")
    ]
    entries += [
        TimelineEntry(t.at, "touch", t)
        for t in Touch.objects.filter(lead=lead).select_related("channel")
    ]
    for c in StageCorrection.objects.filter(lead=lead).select_related(
        "change_from", "change_to", "change_by", "by"
    ):  # the undone move where it was, and its undoing
        entries += [TimelineEntry(c.change_at, "undone", c), TimelineEntry(c.at, "correction", c)]
    order = {
        "correction": 0,
        "stage_change": 1,
        "undone": 1,
        "activity": 2,
        "objection": 3,
        "touch": 4,
    }
    return sorted(entries, key=lambda e: (e.at, order[e.kind], e.item.pk), reverse=True)


@dataclass(frozen=True)
class ChecklistItem:
    criterion: QualificationCriterion
    met: bool


def qualification_checklist(*, lead: Lead) -> list[ChecklistItem]:
    """The organization's active qualification criteria, each with whether this lead meets it."""
    met = set(
        QualificationAnswer.objects.filter(lead=lead, met=True).values_list(
            "criterion_id", flat=True
        )
    )
    return [
        ChecklistItem(criterion=c, met=c.pk in met)
        for c in QualificationCriterion.objects.for_org(lead.organization).filter(active=True)
    ]
