"""A lead's person, from the lead's page (owners): their data as a JSON file, or erased
after a confirmation that says what goes and what stays.

The person is every lead of the organization with the lead's email, or the lead alone when
it has none. The lead is looked up before the method is checked: another organization's
lead is a 404 whatever the method.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.common.views import org_view
from keepscore.leads.links import lead_get, lead_url
from keepscore.privacy.forms import EraseForm
from keepscore.privacy.selectors import erasable, person_of_lead, total
from keepscore.privacy.services import leads_erase, leads_export

INVALID = 422


@org_view
def person_export(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    """Everything held about the lead's person, downloaded as JSON."""
    lead = lead_get(organization, pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    leads = person_of_lead(lead=lead)
    data = leads_export(organization=organization, leads=leads, email=lead.email.strip())
    body = json.dumps(data, indent=2, ensure_ascii=False)
    response = HttpResponse(body + "\n", content_type="application/json; charset=utf-8")
    # no name nor email in the file name: it ends up in download folders and logs
    name = f"person-of-lead-{lead.pk}-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@org_view
def person_erase(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    """GET: what an erasure of the lead's person would remove, and the box to confirm it;
    POST (ticked): erase, back to the lead (now a tombstone)."""
    lead = lead_get(organization, pk)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    leads = person_of_lead(lead=lead)
    if request.method == "POST":
        form = EraseForm(request.POST)
        if form.is_valid():
            erasure = leads_erase(
                organization=organization,
                leads=leads,
                by=request.membership,  # type: ignore[attr-defined]
            )
            if not erasure.total.any:
                messages.info(request, "Nothing was left to erase.")
            else:
                messages.success(
                    request,
                    f"Erased: {erasure.words()}. Their history still counts in every figure.",
                )
            return redirect(lead_url(lead))
        status = INVALID
    else:
        form, status = EraseForm(), 200
    per_lead = erasable(leads=leads)
    context = {
        "nav": "leads",
        "lead": lead,
        "people": [(one, per_lead[one.pk]) for one in leads],
        "total": total(per_lead=per_lead),
        "form": form,
    }
    return render(request, "privacy/erase.html", context, status=status)
