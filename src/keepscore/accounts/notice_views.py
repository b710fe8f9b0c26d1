"""A member's notices: which emails they get in this organization (their own choice)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import notices_set
from keepscore.common.views import org_view


class NoticesForm(forms.Form):
    lead_assigned = forms.BooleanField(
        label=str(Membership._meta.get_field("notify_lead_assigned").verbose_name).capitalize(),
        required=False,
        help_text="An email with the lead, what they wrote and when the first contact is due.",
    )
    digest = forms.BooleanField(
        label=str(Membership._meta.get_field("notify_digest").verbose_name).capitalize(),
        required=False,
        help_text="One email in the morning with your follow-ups due today and the overdue "
        "ones; none on a day with nothing due.",
    )


@org_view
@require_http_methods(["GET", "HEAD", "POST"])
def notices(request: HttpRequest, organization: Organization) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    if request.method == "POST":
        form = NoticesForm(request.POST)
        if form.is_valid():
            notices_set(
                membership=membership,
                lead_assigned=form.cleaned_data["lead_assigned"],
                digest=form.cleaned_data["digest"],
            )
            messages.success(request, "Your notices are saved.")
            return redirect("notices", org=organization.slug)
    else:
        form = NoticesForm(
            initial={
                "lead_assigned": membership.notify_lead_assigned,
                "digest": membership.notify_digest,
            }
        )
    return render(request, "accounts/notices.html", {"form": form})
