"""Tenancy for views: every organization page goes through ``org_view``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRedirect

from keepscore.accounts.selectors import membership_get


def org_view(view: Callable[..., HttpResponse] | None = None, *, owner_only: bool = False) -> Any:
    """Resolve ``<slug:org>`` from the URL to the user's membership, or 404.

    Sets ``request.organization`` and ``request.membership``; the view receives the
    organization as its first argument after the request. A member who is not an owner gets
    404 on owner-only pages.
    """

    def decorate(fn: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(fn)
        def wrapper(request: HttpRequest, org: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                login = redirect_to_login(request.get_full_path())
                if getattr(request, "htmx", False):
                    # the session ran out: reload the whole page at the login, not in a panel
                    return HttpResponseClientRedirect(login["Location"])
                return login
            membership = membership_get(user=request.user, organization_slug=org)
            if owner_only and not membership.is_owner:
                raise Http404("Only owners can see this page")
            request.organization = membership.organization  # type: ignore[attr-defined]
            request.membership = membership  # type: ignore[attr-defined]
            if request.session.get("organization") != org:
                request.session["organization"] = org  # the home page opens it next time
            return fn(request, membership.organization, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


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
