"""Sets the audit actor of each web request (after authentication)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from keepscore.audit.context import Actor, acting, address_of
from keepscore.audit.models import Via


class AuditActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        with acting(Actor(via=Via.WEB, user_id=user_id, address=address_of(request))):
            return self.get_response(request)
