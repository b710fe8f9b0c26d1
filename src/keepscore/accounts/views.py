from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from keepscore.accounts import lockout, services
from keepscore.accounts.forms import MemberAddForm, MemberRolesForm
from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.selectors import members_of, membership_get, organizations_of_user
from keepscore.common.forms import add_service_errors
from keepscore.common.views import org_view


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send a member to their last organization, or let them choose one: the Today page for
    a member who sells (their follow-ups), the dashboard for the others."""
    organizations = list(organizations_of_user(user=request.user))
    last = request.session.get("organization")
    chosen = next((o for o in organizations if o.slug == last), None)
    if chosen is None and len(organizations) == 1:
        chosen = organizations[0]
    if chosen is not None:
        membership = membership_get(user=request.user, organization_slug=chosen.slug)
        first = "today" if membership.is_sales and not membership.is_owner else "dashboard"
        return redirect(first, org=chosen.slug)
    return render(request, "accounts/choose_organization.html", {"organizations": organizations})


# --- members (owners only) --------------------------------------------------------------


def _members_page(request: HttpRequest, template: str, **context: Any) -> HttpResponse:
    return render(request, template, {"nav": "settings", "sub": "members", **context})


def _member(organization: Organization, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.filter(organization=organization).select_related("user"), pk=pk
    )


@org_view
def member_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _members_page(
        request, "accounts/members.html", members=members_of(organization=organization)
    )


@org_view
def member_add(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = MemberAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.member_create(organization=organization, **form.service_kwargs())
        except ValidationError as err:
            add_service_errors(form, err)
        else:
            user = created.membership.user
            if created.password:
                messages.success(
                    request,
                    f"Added {user.email}. Their password is {created.password} — it is shown "
                    "only this once: give it to them now.",
                )
            elif created.user_existed:
                messages.success(request, f"Added {user.email}, who already had a login.")
            else:
                messages.success(request, f"Added {user.email}, without a login.")
            return redirect("member_list", org=organization.slug)
    return _members_page(request, "accounts/members_add.html", form=form)


@org_view
def member_edit(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    membership = _member(organization, pk)
    initial = {name: getattr(membership, name) for name in MemberRolesForm.base_fields}
    form = MemberRolesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(membership=membership, **form.cleaned_data)
        except ValidationError as err:
            add_service_errors(form, err)
        else:
            messages.success(request, f"Saved the roles of {membership.user}.")
            if membership.user_id == request.user.pk and not membership.is_owner:
                return redirect("home")  # no longer an owner: the members page is closed
            return redirect("member_list", org=organization.slug)
    return _members_page(
        request,
        "accounts/members_edit.html",
        form=form,
        member=membership,
        lock=lockout.lock_of(membership),
    )


@org_view
@require_POST
def member_unlock(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    membership = _member(organization, pk)
    lockout.member_unlock(membership=membership)
    messages.success(request, f"{membership.user} can sign in again.")
    return redirect("member_edit", org=organization.slug, pk=membership.pk)


@org_view
@require_POST
def member_remove(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    membership = _member(organization, pk)
    name, is_self = str(membership.user), membership.user_id == request.user.pk
    try:
        services.member_remove(membership=membership)
    except ValidationError as err:
        messages.error(request, f"{name} was not removed. {' '.join(err.messages)}")
        return redirect("member_list", org=organization.slug)
    messages.success(request, f"Removed {name} from {organization.name}.")
    return redirect("home") if is_self else redirect("member_list", org=organization.slug)
