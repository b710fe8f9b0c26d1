"""A person's data exported or erased, each recorded in the audit log per lead, with counts
only. Finding the person and reading what is held are ``privacy.selectors``.

Erasing makes each lead a tombstone and blanks the free text of its history, while the
anonymous history (stages, moments, who moved it, values, channels, campaigns, money, lost
reasons) stays and still counts: no figure changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.audit.models import Action
from keepscore.common.validation import check_same_org
from keepscore.followups.models import FollowUp
from keepscore.history import recorder
from keepscore.leads.models import (
    Lead,
)
from keepscore.privacy.selectors import (
    Held,
    email_clean,
    erasable,
    held,
    lead_export,
    person_leads,
    total,
)
from keepscore.webforms.models import WebFormSubmission

#: what a person export is, in the file itself
EXPORT_FORMAT = "keepscore person export, version 1"


# --- finding the person -----------------------------------------------------------------


# --- what is held: counts ---------------------------------------------------------------


# --- export -----------------------------------------------------------------------------


def leads_export(
    *, organization: Organization, leads: Sequence[Lead], email: str = ""
) -> dict[str, Any]:
    """Everything held about a person who is these leads of the organization, JSON-ready;
    each lead exported is recorded in the audit log (with counts)."""
    for lead in leads:
        check_same_org(organization, lead=lead)
    counts = held(leads=leads)
    out = {
        "format": EXPORT_FORMAT,
        "organization": organization.slug,
        "email": email,
        "exported_at": timezone.now().isoformat(),
        "leads": [lead_export(lead=lead) for lead in leads],
    }
    for lead in leads:
        audit.record(
            action=Action.PERSON_EXPORTED,
            organization=organization,
            object_type="leads.Lead",
            object_id=lead.pk,
            summary=counts[lead.pk].summary(),
        )
    if not leads:
        audit.record(
            action=Action.PERSON_EXPORTED, organization=organization, summary="no lead found"
        )
    return out


def person_export(*, organization: Organization, email: str) -> dict[str, Any]:
    """Everything held about the person with this email (no lead: ``leads`` is empty)."""
    leads = list(person_leads(organization=organization, email=email))
    return leads_export(organization=organization, leads=leads, email=email_clean(email=email))


# --- erasure ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: per lead and in all (leads: how many became tombstones)."""

    lead_ids: list[int] = field(default_factory=list)
    per_lead: dict[int, Held] = field(default_factory=dict)

    @property
    def total(self) -> Held:
        return total(per_lead=self.per_lead)

    @property
    def found(self) -> bool:
        return bool(self.lead_ids)

    def words(self) -> str:
        """ "2 leads, 5 activities, …" or what was found when nothing was."""
        if not self.found:
            return "no lead found: nothing erased"
        return ", ".join(self.total.words()) if self.total.any else "nothing left to erase"


@transaction.atomic
def leads_erase(
    *, organization: Organization, leads: Sequence[Lead], by: Membership | None = None
) -> Erasure:
    """Erase a person's data from these leads of the organization: every lead a tombstone,
    the free text of its history and its follow-ups blanked, its web form submissions
    deleted; each lead recorded in the audit log with its counts. All or nothing."""
    check_same_org(organization, by=by)
    for lead in leads:
        check_same_org(organization, lead=lead)
    ids = sorted({lead.pk for lead in leads})
    # under a lock: a move of one of them waits, and sees the tombstone
    locked = list(
        Lead.objects.select_for_update()
        .filter(organization=organization, pk__in=ids)
        .order_by("pk")
        .only("pk", "erased_at")
    )
    per_lead = erasable(leads=locked)
    recorder.person_erase(organization=organization, lead_ids=ids, at=timezone.now())
    FollowUp.objects.filter(organization=organization, lead_id__in=ids).exclude(note="").update(
        note=""
    )
    audit.delete(
        rows=WebFormSubmission.objects.filter(organization=organization, lead_id__in=ids),
        summary="erased with its lead",
    )
    for pk in ids:
        audit.record(
            action=Action.ERASED,
            organization=organization,
            object_type="leads.Lead",
            object_id=pk,
            summary=per_lead[pk].summary(),
        )
    for lead in leads:
        lead.refresh_from_db()
    return Erasure(lead_ids=ids, per_lead=per_lead)


def person_erase(
    *, organization: Organization, email: str, by: Membership | None = None
) -> Erasure:
    """Erase the person with this email (every lead of theirs). Their erased leads have no
    email left, so a second erasure finds nothing (``found`` is False)."""
    leads = list(person_leads(organization=organization, email=email))
    if not leads:
        return Erasure()
    return leads_erase(organization=organization, leads=leads, by=by)
