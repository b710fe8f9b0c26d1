"""API tokens in the app: any member manages their own; an owner, every one of the organization."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from keepscore.accounts.models import Organization
from keepscore.accounts.tokens import token_create, token_revoke, tokens_visible
from keepscore.common.forms import add_service_errors
from keepscore.common.views import org_view


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What the token is for, e.g. “website import script”."
    )


@org_view
def token_list(request: HttpRequest, organization: Organization) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    form = TokenCreateForm(request.POST if request.method == "POST" else None)
    raw = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, raw = token_create(membership=membership, name=form.cleaned_data["name"])
        except ValidationError as err:
            add_service_errors(form, err)
        else:
            form = TokenCreateForm()
    context = {
        "nav": "settings",
        "sub": "tokens",
        "layout": "settings/layout.html" if membership.is_owner else "accounts/tokens_plain.html",
        "form": form,
        "raw_token": raw,
        "tokens": tokens_visible(membership=membership),
    }
    return render(request, "accounts/tokens.html", context)


@org_view
@require_POST
def token_revoke_view(request: HttpRequest, organization: Organization, pk: int) -> HttpResponse:
    membership = request.membership  # type: ignore[attr-defined]
    token = tokens_visible(membership=membership).filter(pk=pk).first()
    if token is None:
        raise Http404("No such token")
    token_revoke(token=token)
    messages.success(request, f"Revoked the token {token.name} ({token.prefix}…).")
    return redirect("token_list", org=organization.slug)
