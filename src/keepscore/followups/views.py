"""Follow-up pages: Today, and the one-click actions on a follow-up (add, done, move).

The actions answer htmx with the fragment they came from (``panel``: the lead page's next
steps card, or a row of the Today page) and a plain POST with a redirect back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.selectors import members_of
from keepscore.common.forms import add_service_errors
from keepscore.common.views import INVALID, OrgRequest, org_view
from keepscore.followups import services
from keepscore.followups.forms import DoneForm, FollowUpForm, MemberPickForm, RescheduleForm
from keepscore.followups.models import FollowUp
from keepscore.followups.selectors import followup_list
from keepscore.followups.today import today_for
from keepscore.leads.links import lead_get, lead_url
from keepscore.leads.models import Lead


def today_lead_row(request: OrgRequest, lead: Lead, notice: str, ok: bool = True) -> HttpResponse:
    """A lead's row of the Today page, after an action on it."""
    context = {
        "lead": lead,
        "notice": notice,
        "ok": ok,
        "prefix": request.POST.get("prefix", "lead"),
        "tomorrow": timezone.localdate() + timedelta(days=1),
    }
    return render(request, "followups/_today_lead_row.html", context)


def next_steps_context(lead: Lead, form: FollowUpForm | None = None) -> dict[str, Any]:
    """The lead page's next steps card: open follow-ups, done ones of late, the add form."""
    now = timezone.localtime()
    followups = list(followup_list(organization=lead.organization, lead=lead, done=False, now=now))
    return {
        "lead": lead,
        "followups": [(f, f.overdue(now)) for f in followups],
        "followup_form": form or FollowUpForm(organization=lead.organization, today=now.date()),
        "followup_open": bool(form and form.errors) or not followups,
    }


def _errors(form: Any) -> str:
    return "; ".join(str(e) for errors in form.errors.values() for e in errors)


def _followup(organization: Organization, pk: int) -> FollowUp:
    return get_object_or_404(
        FollowUp.objects.for_org(organization).select_related(
            "lead__organization", "lead__stage", "owner__user"
        ),
        pk=pk,
    )


def _answer(request: OrgRequest, followup: FollowUp, notice: str, ok: bool = True) -> HttpResponse:
    panel = request.POST.get("panel", "lead")
    if not request.htmx:
        (messages.success if ok else messages.error)(request, notice)
        if panel.startswith("today"):
            return redirect(reverse("today", kwargs={"org": request.organization.slug}))
        return redirect(lead_url(followup.lead, "next-steps"))
    if panel == "today_lead":
        return today_lead_row(request, followup.lead, notice, ok)
    if panel == "card":  # a board card's next step
        return render(request, "followups/_card_step.html", {"f": followup, "ok": ok})
    # the follow-up's row only (Today's, or the lead page's): the other rows, and on the lead
    # page the add form, stay as they are on the page
    row = "followups/_today_row.html" if panel == "today" else "followups/_next_step_row.html"
    overdue = followup.overdue(timezone.localtime())
    return render(request, row, {"f": followup, "overdue": overdue, "notice": notice, "ok": ok})


@org_view
@require_POST
def followup_add(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    lead = lead_get(organization, pk)
    form = FollowUpForm(request.POST, organization=organization, today=timezone.localdate())
    if form.is_valid():
        try:
            followup = services.followup_add(lead=lead, by=request.membership, **form.cleaned_data)
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            notice = f"Next step: {followup.get_kind_display()} on {followup.due_on:%a %d %b}."
            if request.htmx and request.POST.get("panel", "lead") == "lead":  # a new row: the card
                context = {**next_steps_context(lead), "followup_notice": notice}
                return render(request, "followups/_next_steps.html", context)
            return _answer(request, followup, notice)
    if request.htmx and request.POST.get("panel") == "today_lead":
        return today_lead_row(request, lead, _errors(form), ok=False)
    if request.htmx and request.POST.get("panel") == "card":
        return render(request, "followups/_card_step.html", {"ok": False, "error": _errors(form)})
    if request.htmx:
        return render(request, "followups/_next_steps.html", next_steps_context(lead, form))
    messages.error(request, _errors(form))
    return redirect(lead_url(lead, "next-steps"))


@org_view
@require_POST
def followup_done(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    followup = _followup(organization, pk)
    form = DoneForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Say reached=1 or reached=0.", status=INVALID)
    try:
        followup = services.followup_done(
            followup=followup,
            by=request.membership,
            reached=form.cleaned_data["reached"],
            notes=form.cleaned_data["notes"],
        )
    except ValidationError as e:
        return _answer(request, followup, " ".join(e.messages), ok=False)
    logged = f" {followup.activity.get_kind_display()} logged." if followup.activity else ""
    return _answer(request, followup, f"Done: {followup.get_kind_display()}.{logged}")


@org_view
@require_POST
def followup_reschedule(request: OrgRequest, organization: Organization, pk: int) -> HttpResponse:
    followup = _followup(organization, pk)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return _answer(request, followup, _errors(form), ok=False)
    day = form.day(timezone.localdate())
    try:
        followup = services.followup_update(followup=followup, by=request.membership, due_on=day)
    except ValidationError as e:
        return _answer(request, followup, " ".join(e.messages), ok=False)
    return _answer(request, followup, f"Moved to {day:%a %d %b}.")


@org_view
@require_safe
def today(request: OrgRequest, organization: Organization) -> HttpResponse:
    """My day: follow-ups due (overdue first), open leads without a next step, stalling
    late-stage leads. An owner can look at another member's day (``?member=``)."""
    member: Membership = request.membership
    member_problem = ""
    if request.membership.is_owner:
        pick = MemberPickForm(request.GET, organization=organization)
        if pick.is_valid():
            member = pick.cleaned_data["member"] or member
        else:
            member_problem = "There is no such member here: showing your own day."
    context = {
        "nav": "today",
        "member_problem": member_problem,
        "day": today_for(organization, member),
        "tomorrow": timezone.localdate() + timedelta(days=1),
        "members": members_of(organization=organization) if request.membership.is_owner else [],
    }
    return render(request, "followups/today.html", context, status=400 if member_problem else 200)
