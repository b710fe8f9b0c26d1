"""The monthly review pages: a month's notes and decisions, and the review meeting.

A month's review is append-only and shows the focus kept for it; the meeting is its day, time,
attendees and the mail before it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from keepscore.accounts.models import Organization
from keepscore.accounts.permissions import MARKETING
from keepscore.common.forms import add_service_errors
from keepscore.common.views import may, org_view
from keepscore.focus.selectors import kept_for as focus_kept
from keepscore.scorecard import review_meeting as meetings
from keepscore.scorecard import selectors, services
from keepscore.scorecard.forms import ReviewForm, ReviewMeetingForm
from keepscore.scorecard.views import (
    GET_POST,
    INVALID,
    is_htmx,
    month_or_404,
    render_page,
)


@org_view
@GET_POST
def review(request: HttpRequest, organization: Organization, year: int, month: int) -> HttpResponse:
    """A month's review: its notes and decisions, and the form to add one (append-only)."""
    first = month_or_404(year, month)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_add(
                organization=organization,
                month=first,
                by=request.membership,  # type: ignore[attr-defined]
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not is_htmx(request):
                messages.success(request, "Added to the review.")
                return HttpResponseRedirect(review_url(organization, first))
            form = ReviewForm()
    context = {
        "reviews": selectors.reviews_for(organization=organization, month=first),
        "kept": focus_kept(organization=organization, month=first),
        "month": first,
        "review_form": form,
        "can_edit": may(request, MARKETING),
        "meeting": _meeting_shown(organization),
    }
    if is_htmx(request):
        return render(request, "scorecard/_review.html", context)
    status = INVALID if request.method == "POST" else 200
    return render_page(request, "scorecard/review.html", "review", status=status, **context)


def _meeting_shown(organization: Organization) -> dict[str, Any] | None:
    meeting = meetings.meeting_of(organization)
    if meeting is None:
        return None
    return {
        "words": meetings.meeting_words(meeting),
        "active": meeting.active,
        "next": str(meetings.next_meeting(meeting)),
    }


@org_view
@GET_POST
def review_meeting(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The monthly review meeting: its day, time, attendees and when the mail goes (owners)."""
    from keepscore.accounts.models import Membership

    memberships = Membership.objects.filter(organization=organization).select_related("user")
    members = [
        (str(m.pk), m.user.get_full_name() or m.user.email)
        for m in memberships.order_by("user__first_name", "user__email")
    ]
    meeting = meetings.meeting_of(organization)
    initial: dict[str, Any] = {}
    if meeting is not None:
        initial = {
            "which": meeting.which,
            "weekday": meeting.weekday,
            "at": meeting.at,
            "days_before": meeting.days_before,
            "active": meeting.active,
            "attendees": [str(pk) for pk in meeting.attendees.values_list("pk", flat=True)],
        }
    data = request.POST if request.method == "POST" else None
    form = ReviewMeetingForm(data, members=members, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = {str(pk) for pk in form.cleaned_data.pop("attendees")}
        try:
            meetings.meeting_set(
                organization,
                attendees=[m for m in memberships if str(m.pk) in chosen],
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved the review meeting.")
            return HttpResponseRedirect(
                reverse("scorecard_review_meeting", kwargs={"org": organization.slug})
            )
    status = INVALID if request.method == "POST" else 200
    return render_page(
        request,
        "scorecard/review_meeting.html",
        "review",
        status=status,
        form=form,
        meeting=_meeting_shown(organization),
    )


def review_url(organization: Organization, month: date) -> str:
    return reverse(
        "scorecard_review",
        kwargs={"org": organization.slug, "year": f"{month:%Y}", "month": f"{month:%m}"},
    )
