from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from keepscore.accounts.selectors import organizations_of_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send a member to their last organization, or let them choose one."""
    organizations = list(organizations_of_user(user=request.user))
    last = request.session.get("organization")
    for org in organizations:
        if org.slug == last:
            return redirect("dashboard", org=org.slug)
    if len(organizations) == 1:
        return redirect("dashboard", org=organizations[0].slug)
    return render(request, "accounts/choose_organization.html", {"organizations": organizations})
