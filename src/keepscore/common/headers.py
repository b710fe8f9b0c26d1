"""Per-view changes to the Content-Security-Policy set in settings (django-csp).

The policy itself is ``CONTENT_SECURITY_POLICY`` in ``keepscore.config.settings``; the few
views that need more say so here, in one place, each with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, cast
from urllib.parse import urlsplit

from csp.decorators import csp_replace, csp_update
from django.http import HttpRequest, HttpResponse

_FRAMED = csp_replace({"frame-ancestors": ["*"]})


def framed_by_any_site(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view's pages may be framed by any website (``frame-ancestors *``).

    For the public web form and its thank-you page, which the business's website embeds in
    an iframe (any site: keepscore does not know them in advance). Every other page keeps
    ``frame-ancestors 'none'``; the two views are also exempt from X-Frame-Options: DENY.
    """
    return cast(Callable[..., HttpResponse], _FRAMED(view))


# a CSP source is space- and semicolon-separated: only a plain scheme://host[:port] goes in
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


def url_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, as a CSP source; None for anything else."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        return None
    origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
    return origin if _ORIGIN.match(origin) else None


def csp_update_response(
    request: HttpRequest, response: HttpResponse, config: dict[str, Any]
) -> HttpResponse:
    """django-csp's ``csp_update`` applied to one response, for a change known only once the
    view has run (its decorators take a fixed one)."""
    return csp_update(config)(lambda _request: response)(request)  # type: ignore[return-value]


def form_action_also(request: HttpRequest, response: HttpResponse, url: str) -> HttpResponse:
    """Let the page's form lead to ``url``'s origin too (``form-action``), besides 'self'.

    Browsers apply ``form-action`` to the redirects after a submission as well: the public
    form, posted to itself, is redirected to the business's own thank-you page.
    """
    origin = url_origin(url)
    if origin is None:
        return response
    return csp_update_response(request, response, {"form-action": [origin]})
