"""A person's data as it is read: their leads (found by email, trimmed, any case), what the
organization holds about each (counted, and what an erasure would blank), and one lead's
fields and everything recorded with it as JSON-ready data. Exporting (audited) and erasing
are ``privacy.services``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Count, QuerySet

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.models import Activity, Objection
from keepscore.followups.models import FollowUp
from keepscore.history import recorder
from keepscore.leads.models import (
    DealOutcome,
    Lead,
    QualificationAnswer,
    StageChange,
    StageCorrection,
    Touch,
)
from keepscore.webforms.models import WebFormSubmission

#: as long as a lead's email may be
EMAIL_MAX = Lead._meta.get_field("email").max_length or 254


def email_clean(*, email: str | None) -> str:
    """The email to look a person up by, trimmed; a field error when it is not one."""
    value = (email or "").strip()
    if not value:
        raise ValidationError({"email": "Give the person's email address."})
    if len(value) > EMAIL_MAX:
        raise ValidationError({"email": f"An email address has at most {EMAIL_MAX} characters."})
    try:
        validate_email(value)
    except ValidationError:
        raise ValidationError(
            {"email": "This is not an email address (like name@example.com)."}
        ) from None
    return value


def person_leads(*, organization: Organization, email: str) -> QuerySet[Lead]:
    """The organization's leads whose email is ``email`` (trimmed, any case), oldest first."""
    return (
        Lead.objects.for_org(organization)
        .filter(email__iexact=email_clean(email=email))
        .select_related("organization", "stage", "channel", "owner__user", "sourced_by__user")
        .order_by("first_touch_at", "id")
    )


def person_of_lead(*, lead: Lead) -> list[Lead]:
    """The person a lead is: every lead of the organization with its email, or the lead
    alone when it has none (or an erased one)."""
    if lead.email.strip():
        try:
            found = list(person_leads(organization=lead.organization, email=lead.email))
        except ValidationError:  # an email kept from before it was checked
            found = []
        if found:
            return found
    return [lead]


@dataclass(frozen=True)
class Held:
    """How many records of each kind (for a person, one lead, or what an erasure touched)."""

    leads: int = 0
    touches: int = 0
    stage_changes: int = 0
    corrections: int = 0
    outcomes: int = 0
    activities: int = 0
    objections: int = 0
    followups: int = 0
    qualification: int = 0
    submissions: int = 0

    LABELS = {
        "leads": ("lead", "leads"),
        "touches": ("later touch", "later touches"),
        "stage_changes": ("stage change", "stage changes"),
        "corrections": ("correction", "corrections"),
        "outcomes": ("deal outcome", "deal outcomes"),
        "activities": ("activity", "activities"),
        "objections": ("objection", "objections"),
        "followups": ("follow-up", "follow-ups"),
        "qualification": ("checklist answer", "checklist answers"),
        "submissions": ("web form submission", "web form submissions"),
    }

    def __add__(self, other: Held) -> Held:
        return Held(**{kind: n + getattr(other, kind) for kind, n in self.items()})

    @property
    def any(self) -> bool:
        """Whether any record is counted."""
        return any(n for _kind, n in self.items())

    def items(self) -> list[tuple[str, int]]:
        """(kind, count) of every kind."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    def words(self, skip_zero: bool = True) -> list[str]:
        """The counts in words: 2 activities, 1 objection, …"""
        return [
            f"{n:,} {self.LABELS[kind][0 if n == 1 else 1]}"
            for kind, n in self.items()
            if n or not skip_zero
        ]

    def summary(self) -> str:
        """For the audit log: kinds and counts, nothing else."""
        return ", ".join(f"{kind} {n}" for kind, n in self.items() if n) or "nothing"


def _by_lead(rows: QuerySet[Any]) -> dict[int, int]:
    counted = rows.order_by().values_list("lead_id").annotate(n=Count("id"))
    return dict(counted.values_list("lead_id", "n"))


def _held_by_lead(lead_ids: Sequence[int], counted: dict[str, QuerySet[Any]]) -> dict[int, Held]:
    per_kind = {kind: _by_lead(rows) for kind, rows in counted.items()}
    return {
        pk: Held(leads=1, **{kind: counts.get(pk, 0) for kind, counts in per_kind.items()})
        for pk in lead_ids
    }


def held(*, leads: Sequence[Lead]) -> dict[int, Held]:
    """Per lead: how many records of each kind it has."""
    ids = [lead.pk for lead in leads]
    return _held_by_lead(
        ids,
        {
            "touches": Touch.objects.filter(lead_id__in=ids),
            "stage_changes": StageChange.objects.filter(lead_id__in=ids),
            "corrections": StageCorrection.objects.filter(lead_id__in=ids),
            "outcomes": DealOutcome.objects.filter(lead_id__in=ids),
            "activities": Activity.objects.filter(lead_id__in=ids),
            "objections": Objection.objects.filter(lead_id__in=ids),
            "followups": FollowUp.objects.filter(lead_id__in=ids),
            "qualification": QualificationAnswer.objects.filter(lead_id__in=ids),
            "submissions": WebFormSubmission.objects.filter(lead_id__in=ids),
        },
    )


def erasable(*, leads: Sequence[Lead]) -> dict[int, Held]:
    """Per lead: what an erasure would change — the lead itself (unless already erased),
    the records holding free text to blank, and the web form submissions to delete."""
    ids = [lead.pk for lead in leads]
    rows: dict[str, QuerySet[Any]] = {
        **recorder.erasable_rows(lead_ids=ids),
        "followups": FollowUp.objects.filter(lead_id__in=ids).exclude(note=""),
        "submissions": WebFormSubmission.objects.filter(lead_id__in=ids),
    }
    found = _held_by_lead(ids, rows)
    erased = {lead.pk for lead in leads if lead.erased_at is not None}
    return {pk: Held(**{**vars(h), "leads": int(pk not in erased)}) for pk, h in found.items()}


def total(*, per_lead: dict[int, Held]) -> Held:
    out = Held()
    for one in per_lead.values():
        out += one
    return out


def _when(value: datetime | date | time | None) -> str | None:
    return None if value is None else value.isoformat()


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _member(membership: Membership | None) -> str | None:
    return None if membership is None else membership.user.email


def _user(user: Any) -> str | None:
    return None if user is None else str(user.email)


def _stage(stage: Any) -> str | None:
    return None if stage is None else str(stage.name)


def _lead_fields(lead: Lead) -> dict[str, Any]:
    return {
        "id": lead.pk,
        "name": lead.name,
        "company": lead.company,
        "email": lead.email,
        "phone": lead.phone,
        "notes": lead.notes,
        "value": _money(lead.value),
        "stage": lead.stage.name,
        "stage_entered_at": _when(lead.stage_entered_at),
        "channel": lead.channel.name,
        "owner": _member(lead.owner),
        "sourced_by": _member(lead.sourced_by),
        "first_touch_at": _when(lead.first_touch_at),
        "campaign": lead.campaign,
        "utm_source": lead.utm_source,
        "utm_medium": lead.utm_medium,
        "utm_campaign": lead.utm_campaign,
        "referrer": lead.referrer,
        "external_id": lead.external_id,
        "facts": lead.facts,
        "created_at": _when(lead.created_at),
        "updated_at": _when(lead.updated_at),
        "erased_at": _when(lead.erased_at),
    }


def _rows(rows: Iterable[Any], shape: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
    return [shape(row) for row in rows]


def _touch(t: Touch) -> dict[str, Any]:
    return {
        "at": _when(t.at),
        "channel": t.channel.name,
        "campaign": t.campaign,
        "utm_source": t.utm_source,
        "utm_medium": t.utm_medium,
        "utm_campaign": t.utm_campaign,
        "referrer": t.referrer,
    }


def _stage_change(c: StageChange) -> dict[str, Any]:
    return {
        "from": _stage(c.from_stage),
        "to": _stage(c.to_stage),
        "at": _when(c.at),
        "by": _user(c.by),
        "note": c.note,
        "qualification_override": c.qualification_override,
        "override_reason": c.override_reason,
    }


def _correction(c: StageCorrection) -> dict[str, Any]:
    return {
        "undone": {
            "from": _stage(c.change_from),
            "to": _stage(c.change_to),
            "at": _when(c.change_at),
            "by": _user(c.change_by),
            "note": c.change_note,
            "outcome": c.outcome,
        },
        "at": _when(c.at),
        "by": _user(c.by),
        "reason": c.reason,
    }


def _outcome(o: DealOutcome) -> dict[str, Any]:
    return {
        "result": o.result,
        "at": _when(o.at),
        "revenue": _money(o.revenue),
        "cost": _money(o.cost),
        "margin": _money(o.margin),
        "lost_reason": None if o.lost_reason is None else o.lost_reason.name,
        "lost_note": o.lost_note,
        "lines": [
            {
                "product": line.product.name,
                "quantity": _money(line.quantity),
                "unit_price": _money(line.unit_price),
                "unit_cost": _money(line.unit_cost),
            }
            for line in o.lines.all()
        ],
    }


def _activity(a: Activity) -> dict[str, Any]:
    return {
        "kind": a.kind,
        "at": _when(a.at),
        "by": _member(a.by),
        "with_buyer": a.with_buyer,
        "outcome": a.outcome,
        "notes": a.notes,
    }


def _objection(o: Objection) -> dict[str, Any]:
    return {"tag": o.tag, "text": o.text, "at": _when(o.at), "by": _member(o.by)}


def _followup(f: FollowUp) -> dict[str, Any]:
    return {
        "kind": f.kind,
        "due_on": _when(f.due_on),
        "due_time": _when(f.due_time),
        "owner": _member(f.owner),
        "note": f.note,
        "done_at": _when(f.done_at),
    }


def _answer(a: QualificationAnswer) -> dict[str, Any]:
    return {
        "criterion": a.criterion.text,
        "met": a.met,
        "by": _user(a.by),
        "updated_at": _when(a.updated_at),
    }


def _submission(s: WebFormSubmission) -> dict[str, Any]:
    return {
        "form": s.form.name,
        "submitted_at": _when(s.submitted_at),
        "consent_text": s.consent_text,
        "consent_version": s.consent_version,
        "consented_at": _when(s.consented_at),
        "page_url": s.page_url,
        "address_hash": s.ip_hash,
    }


def lead_export(*, lead: Lead) -> dict[str, Any]:
    """One lead: its fields and everything recorded with it, oldest first."""
    return {
        **_lead_fields(lead),
        "touches": _rows(Touch.objects.filter(lead=lead).select_related("channel"), _touch),
        "stage_changes": _rows(
            StageChange.objects.filter(lead=lead)
            .select_related("from_stage", "to_stage", "by")
            .order_by("at", "id"),
            _stage_change,
        ),
        "corrections": _rows(
            StageCorrection.objects.filter(lead=lead).select_related(
                "change_from", "change_to", "change_by", "by"
            ),
            _correction,
        ),
        "outcomes": _rows(
            DealOutcome.objects.filter(lead=lead)
            .select_related("lost_reason")
            .prefetch_related("lines__product")
            .order_by("at", "id"),
            _outcome,
        ),
        "activities": _rows(
            Activity.objects.filter(lead=lead).select_related("by__user").order_by("at", "id"),
            _activity,
        ),
        "objections": _rows(
            Objection.objects.filter(lead=lead).select_related("by__user").order_by("at", "id"),
            _objection,
        ),
        "followups": _rows(
            FollowUp.objects.filter(lead=lead).select_related("owner__user"), _followup
        ),
        "qualification": _rows(
            QualificationAnswer.objects.filter(lead=lead)
            .select_related("criterion", "by")
            .order_by("criterion__position", "criterion_id"),
            _answer,
        ),
        "web_form_submissions": _rows(
            WebFormSubmission.objects.filter(lead=lead).select_related("form"), _submission
        ),
    }
