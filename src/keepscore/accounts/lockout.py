"""Sign-in throttling (django-axes for the login page, django-ratelimit for API tokens):
after ``AXES_FAILURE_LIMIT`` failures (settings: 10) for one account or from one address
within ``AXES_COOLOFF_TIME`` (15 minutes), further attempts are refused for that long.
Owners unlock a member (:func:`member_unlock`); every lock-out and unlock is in the audit
log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from keepscore.accounts.models import Membership

TOKEN_GROUP = "keepscore.api.token_failures"
USERNAME_FIELD = "username"  # the login form's (its value is the email)


def limit() -> int:
    return int(settings.AXES_FAILURE_LIMIT)


def cool_off() -> timedelta:
    return settings.AXES_COOLOFF_TIME


def username_of(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The account a sign-in names, as it is matched (emails are case-insensitive: ``Ann@``
    and ``ann@`` are one account, and one count of failures)."""
    name = (credentials or {}).get(USERNAME_FIELD)
    if name is None and request is not None:
        name = request.POST.get(USERNAME_FIELD, "")
    return str(name or "").strip().lower()


def locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """What a locked-out sign-in sees (429): why, for how long, and who can help."""
    minutes = int(cool_off().total_seconds() // 60)
    context = {"failure_limit": limit(), "minutes": minutes}
    return render(request, "accounts/locked_out.html", context, status=429)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins that come with a request (the login page). One
    without (a command at the machine, a test's ``Client.login``) is not throttled: it
    goes on to the next backend."""

    def authenticate(
        self, request: Any, username: Any = None, password: Any = None, **kw: Any
    ) -> Any:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kw)


@dataclass(frozen=True)
class Lock:
    failures: int
    until: datetime


def lock_of(membership: Membership) -> Lock | None:
    """The member's sign-in lock while it lasts (None: not locked)."""
    from axes.models import AccessAttempt

    since = timezone.now() - cool_off()
    found = AccessAttempt.objects.filter(
        username=membership.user.email.lower(), attempt_time__gte=since
    ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    failures = int(found["failures"] or 0)
    if failures < limit():
        return None
    return Lock(failures=failures, until=found["last"] + cool_off())


def member_unlock(*, membership: Membership) -> int:
    """Clear the member's failed sign-ins (an owner vouches for them); how many attempts'
    records were removed. Recorded in the audit log."""
    from axes.utils import reset

    from keepscore.audit import services as audit

    removed = reset(username=membership.user.email.lower())
    audit.record(
        action="unlocked",
        organization=membership.organization_id,
        object_type="accounts.User",
        object_id=membership.user_id,
    )
    return removed


def _address(group: str, request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


def token_failures_exceeded(request: HttpRequest, *, failed: bool) -> bool:
    """Whether the address of ``request`` is over the failed-token limit, the sign-in's
    (counting this attempt when ``failed``). The window is django-ratelimit's: fixed
    periods of the cooling-off time, not a sliding one."""
    from django_ratelimit.core import get_usage

    rate = f"{limit()}/{int(cool_off().total_seconds() // 60)}m"
    usage = get_usage(request, group=TOKEN_GROUP, key=_address, rate=rate, increment=failed)
    return usage is not None and usage["count"] >= limit()
