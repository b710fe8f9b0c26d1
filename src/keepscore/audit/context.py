"""Who is acting: set once per web request (the middleware, then ``org_view`` and the API's
token check fill in the member), per CLI run, and read by every audit record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # no Django at import: the command line enters this before setting it up
    from django.http import HttpRequest


@dataclass(frozen=True)
class Actor:
    via: str = "system"  # web, api, cli or system (``models.Via``)
    user_id: int | None = None
    membership_id: int | None = None
    address: str = ""


_actor: ContextVar[Actor | None] = ContextVar("keepscore_audit_actor", default=None)
_SYSTEM = Actor()


def current() -> Actor:
    """The actor of the running request or command (``system`` outside of both)."""
    return _actor.get() or _SYSTEM


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


def update(**fields: object) -> None:
    """Fill in what became known during the request (the member, the API's token). Outside
    a request or a command (a sign-in made by a test client, a script) there is nothing to
    fill in: setting it there would stay set and name that user in whatever is recorded
    next in the thread."""
    actor = _actor.get()
    if actor is not None:
        _actor.set(replace(actor, **fields))  # type: ignore[arg-type]


def address_of(request: HttpRequest) -> str:
    """The client's address as a keyed hash (16 bytes, hex): the same address gives the same
    value, and the address cannot be read back without the secret key."""
    from django.utils.crypto import salted_hmac

    raw = request.META.get("REMOTE_ADDR", "") or ""
    return salted_hmac("keepscore.audit.address", raw).hexdigest()[:32] if raw else ""
