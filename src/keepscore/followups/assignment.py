"""Who a new lead goes to, its first contact, and the notice the assignee gets.

A web form (or the API) assigns its new leads to nobody, a named member, or the sales
members in turn (round-robin). The turn is kept on a locked row (the web form's, or the
organization's for the API) as the id of the member assigned last, so concurrent
submissions each take the next member, and a member removed or no longer in sales is
skipped; with no sales member left the lead stays unassigned (never an error).

The assignee gets a follow-up "First contact" (a call) due within a set number of hours,
in the organization's zone, and an email (``mail.send_later``: sent by the worker once the
lead's transaction commits) unless they turned that notice off or assigned it themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from keepscore import mail
from keepscore.accounts.models import Membership, Organization
from keepscore.followups.models import FollowUp, FollowUpKind
from keepscore.followups.services import followup_add
from keepscore.leads.models import Lead

FIRST_CONTACT = "First contact"
DEFAULT_FIRST_CONTACT_HOURS = 24


def sales_members(organization: Organization) -> models.QuerySet[Membership]:
    """The organization's sales members, in the order of the turn (oldest member first)."""
    return Membership.objects.filter(organization=organization, is_sales=True).order_by("pk")


def next_in_turn(organization: Organization, last: int | None) -> Membership | None:
    """The sales member after the one with id ``last`` (the first after the end); None
    when the organization has no sales member."""
    members = sales_members(organization).select_related("user")
    if last is not None:
        after = members.filter(pk__gt=last).first()
        if after is not None:
            return after
    return members.first()


@transaction.atomic
def round_robin_take(model: type[models.Model], pk: int, field: str) -> Membership | None:
    """Lock the row holding the turn (``model`` ``pk``, its ``field``: the id assigned last),
    take the next sales member and write them as the last. The row's organization is the
    members'."""
    holder: Any = model._default_manager.select_for_update().get(pk=pk)
    organization = holder if isinstance(holder, Organization) else holder.organization
    member = next_in_turn(organization, getattr(holder, field))
    if member is not None:
        setattr(holder, field, member.pk)
        holder.save(update_fields=[field])
    return member


def first_contact_due(hours: int, now: datetime | None = None) -> datetime:
    """``hours`` from ``now`` in the organization's zone, to the minute."""
    due = timezone.localtime(now) + timedelta(hours=hours)
    return due.replace(second=0, microsecond=0)


@transaction.atomic
def first_contact_add(
    *,
    lead: Lead,
    assignee: Membership,
    hours: int,
    by: Membership | None = None,
    now: datetime | None = None,
) -> FollowUp:
    """The assignee's call "First contact", due ``hours`` after ``now`` (local time)."""
    due = first_contact_due(hours, now)
    return followup_add(
        lead=lead,
        by=by,
        kind=FollowUpKind.CALL,
        due_on=due.date(),
        due_time=due.time(),
        owner=assignee,
        note=FIRST_CONTACT,
    )


def lead_source(lead: Lead) -> str:
    """Where the lead came from, in words: its channel, the web form, the campaign."""
    parts = [lead.channel.name]
    submission = getattr(lead, "web_form_submission", None) if lead.pk else None
    if submission is not None:
        parts.append(f"form “{submission.form.name}”")
    campaign = lead.utm_campaign or lead.campaign
    if campaign:
        parts.append(f"campaign {campaign}")
    if lead.utm_source:
        parts.append(f"from {lead.utm_source}")
    return ", ".join(parts)


def lead_assigned_notify(
    *,
    lead: Lead,
    assignee: Membership,
    by: Membership | None = None,
    followup: FollowUp | None = None,
    source: str | None = None,
) -> bool:
    """Email ``assignee`` that ``lead`` is theirs (after commit); False when not sent: they
    assigned it themselves, or turned this notice off."""
    if by is not None and by.pk == assignee.pk:
        return False
    if not assignee.notify_lead_assigned:
        return False
    organization = lead.organization
    link = mail.app_url(reverse("lead_detail", args=[organization.slug, lead.pk]))
    due = None
    if followup is not None:
        due = datetime.combine(followup.due_on, followup.due_time or datetime.min.time())
    mail.send_later(
        to=assignee.user.email,
        subject=f"New lead for you: {lead.name} ({organization.name})",
        template="mail/lead_assigned",
        context={
            "organization": organization,
            "lead": lead,
            "source": source or lead_source(lead),
            "by": by.user if by is not None else None,
            "due": due,
            "link": link,
            "notices": mail.app_url(reverse("notices", args=[organization.slug])),
        },
    )
    return True


def lead_assigned(
    *,
    lead: Lead,
    assignee: Membership | None,
    hours: int = DEFAULT_FIRST_CONTACT_HOURS,
    by: Membership | None = None,
    now: datetime | None = None,
) -> FollowUp | None:
    """A new lead was assigned by rule (a web form, the API): the assignee's first contact
    (due ``hours`` after ``now``) and their notice. Nothing when nobody was assigned."""
    if assignee is None:
        return None
    followup = first_contact_add(lead=lead, assignee=assignee, hours=hours, by=by, now=now)
    lead_assigned_notify(lead=lead, assignee=assignee, by=by, followup=followup)
    return followup


def owner_set(*, lead: Lead, before: int | None, by: Membership | None) -> bool:
    """A member created or edited ``lead`` in the app: when its owner is now someone else
    than before (and not ``by``), that owner gets the notice. True when one was sent."""
    if lead.owner_id is None or lead.owner_id == before:
        return False
    assignee = Membership.objects.select_related("user").get(pk=lead.owner_id)
    return lead_assigned_notify(lead=lead, assignee=assignee, by=by)
