"""The accounts pages: sign-in and sign-up, the organization, its members and their roles."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from keepscore import mail
from keepscore.accounts import invitations, lockout, services
from keepscore.accounts.forms import (
    InvitationForm,
    JoinForm,
    MemberAddForm,
    MemberRolesForm,
    PasswordResetForm,
)
from keepscore.accounts.models import Invitation, Membership, Organization, User
from keepscore.accounts.selectors import members_of, membership_get, organizations_of_user
from keepscore.audit import services as audit
from keepscore.audit.models import Action
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
        request,
        "accounts/members.html",
        members=members_of(organization=organization),
        invitations=[
            (invitation, invitations.expires_at(invitation), invitations.is_expired(invitation))
            for invitation in invitations.open_invitations(organization)
        ],
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


# --- invitations ------------------------------------------------------------------------


def _signed_in(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # org_view lets in only the signed in
    return user


def _invitation(organization: Organization, pk: int) -> Invitation:
    return get_object_or_404(Invitation.objects.for_org(organization), pk=pk)


def _sent_message(request: HttpRequest, sent: invitations.Sent) -> None:
    invitation = sent.invitation
    when = date_format(timezone.localtime(invitations.expires_at(invitation)), "j F Y")
    earlier = " The earlier link no longer works." if sent.resent else ""
    messages.success(
        request, f"Sent an invitation to {invitation.email}; its link works until {when}.{earlier}"
    )


@org_view
def member_invite(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = InvitationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            sent = invitations.invitation_send(
                organization=organization, by=_signed_in(request), **form.cleaned_data
            )
        except ValidationError as err:
            add_service_errors(form, err)
        except mail.MailNotSent as err:
            messages.error(request, f"The invitation is saved but was not sent: {err}.")
            return redirect("member_list", org=organization.slug)
        else:
            _sent_message(request, sent)
            return redirect("member_list", org=organization.slug)
    days = settings.INVITATION_MAX_AGE.days
    return _members_page(request, "accounts/members_invite.html", form=form, invitation_days=days)


@org_view
@require_POST
def invitation_resend(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    invitation = _invitation(organization, pk)
    try:
        sent = invitations.invitation_resend(invitation=invitation, by=_signed_in(request))
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
    except mail.MailNotSent as err:
        messages.error(request, f"The invitation was not sent: {err}.")
    else:
        _sent_message(request, sent)
    return redirect("member_list", org=organization.slug)


@org_view
@require_POST
def invitation_revoke(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    invitation = _invitation(organization, pk)
    try:
        invitations.invitation_revoke(invitation=invitation)
    except ValidationError as err:
        messages.error(request, " ".join(err.messages))
    else:
        messages.success(
            request, f"Revoked the invitation of {invitation.email}: its link no longer works."
        )
    return redirect("member_list", org=organization.slug)


def _invitation_invalid(request: HttpRequest, error: invitations.InvitationInvalid) -> HttpResponse:
    # 404: a link that names nothing; 410: one that did work and no longer does
    status = 404 if error.invitation is None else 410
    context = {"reason": error.reason, "invitation": error.invitation}
    return render(request, "accounts/invitation_invalid.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitee's page, from the mailed link: set a password (someone new), or join
    (signed in with the invited address), or sign in first."""
    try:
        invitation = invitations.invitation_from_token(token)
    except invitations.InvitationInvalid as error:
        return _invitation_invalid(request, error)
    user = request.user if isinstance(request.user, User) else None
    context: dict[str, Any] = {"invitation": invitation, "token": token}
    if user is not None and user.email.lower() != invitation.email.lower():
        return render(request, "accounts/invitation_accept.html", {**context, "other": user})
    needs_password = user is None and invitations.needs_password(invitation)
    if user is None and not needs_password:
        # a login exists for the address: sign in first, then come back here
        return render(request, "accounts/invitation_accept.html", {**context, "sign_in": True})
    form = JoinForm(request.POST or None) if needs_password else None
    if request.method == "POST" and (form is None or form.is_valid()):
        fields = form.cleaned_data if form is not None else {}
        try:
            membership = invitations.invitation_accept(
                invitation=invitation,
                user=user,
                password=fields.get("password"),
                first_name=fields.get("first_name", ""),
                last_name=fields.get("last_name", ""),
            )
        except invitations.InvitationInvalid as error:
            return _invitation_invalid(request, error)
        except ValidationError as err:
            if form is None:
                messages.error(request, " ".join(err.messages))
                return redirect("home")
            add_service_errors(form, err)
        else:
            if user is None:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            request.session["organization"] = membership.organization.slug
            messages.success(request, f"Welcome to {membership.organization.name}.")
            return redirect("home")
    return render(request, "accounts/invitation_accept.html", {**context, "form": form})


# --- password reset (Django's views, throttled) -----------------------------------------

#: requests for a reset link from one address; above it the page says to wait (for any
#: email, so it tells nothing about accounts)
RESET_RATE_ADDRESS = "10/h"
#: links mailed to one email address; above it the same page shows and no mail goes
RESET_RATE_EMAIL = "3/h"


def _email_key(group: str, request: HttpRequest) -> str:
    return str(request.POST.get("email", "")).strip().lower()


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    form_class = PasswordResetForm
    success_url = reverse_lazy("password_reset_done")

    email_limited = False

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        limited = is_ratelimited(
            request, group="keepscore.reset.address", key="ip", rate=RESET_RATE_ADDRESS,
            method="POST", increment=True,
        )  # fmt: skip
        if limited:
            return render(request, "accounts/password_reset_limited.html", status=429)
        self.email_limited = is_ratelimited(
            request, group="keepscore.reset.email", key=_email_key, rate=RESET_RATE_EMAIL,
            method="POST", increment=True,
        )  # fmt: skip
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        if self.email_limited:
            return redirect(self.get_success_url())  # the same answer, and no more mail
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        for organization in organizations_of_user(user=user):
            audit.record(
                action=Action.PASSWORD_RESET,
                organization=organization,
                object_type="accounts.User",
                object_id=user.pk,
            )
        return response
