"""The stamp a public form carries: signed, timestamped, unique, and accepted once.

A stamp is put in the form when the page is shown. It says which form it is for and when
it was shown (so a bot that posts at once is known, and an old page is refused), and it
carries a random nonce so no two pages share one. When a submission is accepted, the
stamp's digest is written in the same transaction as the lead (``UsedStamp``, unique), so
the same stamp posted again makes nothing, across workers and on both databases.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

#: how long a shown form may be sent (settings ``WEBFORM_STAMP_MAX_AGE``, in seconds)
STAMP_MAX_AGE = 2 * 60 * 60
_SALT = "keepscore.webforms.rendered"


def stamp_max_age() -> int:
    return int(getattr(settings, "WEBFORM_STAMP_MAX_AGE", STAMP_MAX_AGE))


class _Signer(signing.TimestampSigner):
    """A timestamp signer whose clock can start ``head_start`` seconds early."""

    def __init__(self, head_start: int = 0) -> None:
        super().__init__(salt=_SALT)
        self.head_start = head_start

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - self.head_start)


def stamp_sign(form_key: str, *, head_start: int = 0) -> str:
    """A new stamp for the form with this key, shown now (or ``head_start`` seconds ago)."""
    return _Signer(head_start).sign(f"{form_key}.{secrets.token_urlsafe(9)}")


class StampRefused(Exception):
    """The stamp is not one this form gave out, or it is too old: the visitor sends again."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class Stamp:
    value: str
    age: float

    @property
    def digest(self) -> str:
        """What is kept of a used stamp: its SHA-256, a fixed 64 characters."""
        return hashlib.sha256(self.value.encode()).hexdigest()


def stamp_check(value: str, *, form_key: str) -> Stamp:
    """The stamp, if this form gave it out within the stamp's validity; else StampRefused."""
    signer = _Signer()
    max_age = stamp_max_age()
    try:
        signed = signer.unsign(value, max_age=max_age)
    except signing.SignatureExpired:
        hours = max_age / 3600
        span = f"{hours:g} hours" if hours >= 1 else f"{max_age // 60} minutes"
        raise StampRefused(
            f"This form was open for more than {span}: please send it again.", expired=True
        ) from None
    except signing.BadSignature:
        raise StampRefused("This form was changed: please send it again.") from None
    # "key.nonce"; a stamp from before the nonce was added is the key alone
    if signed.split(".", 1)[0] != form_key:
        raise StampRefused("This form was changed: please send it again.")
    shown_at = signing.b62_decode(value.rsplit(signer.sep, 2)[-2])
    return Stamp(value=value, age=time.time() - shown_at)
