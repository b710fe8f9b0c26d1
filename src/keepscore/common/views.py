"""Tenancy for views: every organization page goes through ``org_view``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from keepscore.accounts import permissions
from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.selectors import membership_get
from keepscore.audit import context as audit_context
from keepscore.audit import services as audit
from keepscore.common.money import money_override

#: the status of a form sent back with its errors
INVALID = 422


class OrgRequest(HttpRequest):
    """What ``org_view`` and the htmx middleware put on the request."""

    htmx: HtmxDetails
    organization: Organization
    membership: Membership


def org_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Resolve ``<slug:org>`` from the URL to the user's membership, or 404; then check the
    role the page needs (``keepscore.accounts.permissions.WEB``): 403 without it.

    Sets ``request.organization`` and ``request.membership``; the view receives the
    organization as its first argument after the request.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, org: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            login = redirect_to_login(request.get_full_path())
            if getattr(request, "htmx", False):
                # the session ran out: reload the whole page at the login, not in a panel
                return HttpResponseClientRedirect(login["Location"])
            return login
        try:
            membership = membership_get(user=request.user, organization_slug=org)
        except Http404:
            audit.outsider(slug=org, what=f"{request.method} {_view_name(request)}")
            raise
        request.organization = membership.organization  # type: ignore[attr-defined]
        request.membership = membership  # type: ignore[attr-defined]
        audit_context.update(membership_id=membership.pk)
        name = _view_name(request)
        need = permissions.web_need(name, request.method or "GET")
        if not permissions.allows(membership, need):
            audit.refused(
                organization=membership.organization, what=f"{request.method} {name}", need=need
            )
            raise PermissionDenied(permissions.refusal(need, membership))
        if request.session.get("organization") != org:
            request.session["organization"] = org  # the home page opens it next time
        with money_override(membership.organization):  # its currency on the page
            return view(request, membership.organization, *args, **kwargs)

    return wrapper


def _view_name(request: HttpRequest) -> str:
    match = request.resolver_match
    return match.view_name if match is not None else ""


def may(request: HttpRequest, need: permissions.Need) -> bool:
    """Whether the member behind an ``org_view`` request has what ``need`` asks (to show or
    hide what they could not do; ``org_view`` refuses the request itself)."""
    return permissions.allows(request.membership, need)  # type: ignore[attr-defined]


def page_of(paginator: Paginator, asked: str | None) -> tuple[Page, str]:
    """The page ``?page=`` asks for, and why it is not the one shown ("" when it is): text
    that is not a number shows the first page, a number past the end the last."""
    text = (asked or "").strip()
    if not text:
        return paginator.page(1), ""
    try:
        number = int(text)
    except ValueError:
        return paginator.page(1), f"“{text[:20]}” is not a page number: showing page 1."
    if number < 1:
        return paginator.page(1), f"There is no page {number}: showing page 1."
    if number > paginator.num_pages:
        last = paginator.num_pages
        return paginator.page(last), f"There is no page {number}: showing page {last}, the last."
    return paginator.page(number), ""
