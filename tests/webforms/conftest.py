"""A web form of organization A, stamps as the page would carry them, a clean rate limit."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django_ratelimit import core

from keepscore.accounts.models import Organization
from keepscore.webforms.forms import rendered_stamp
from keepscore.webforms.models import WebForm
from keepscore.webforms.services import webform_save
from keepscore.webforms.stamps import Stamp, stamp_check

CONSENT = "I agree that Acme may contact me about my enquiry."


@pytest.fixture(autouse=True)
def fresh_rate_limit(db: Any, monkeypatch: Any) -> None:
    cache.clear()
    # one fixed window, so a run that straddles a minute boundary still counts to six
    monkeypatch.setattr(core, "_get_window", lambda value, period: 4_000_000_000)


@pytest.fixture
def webform(org_a: Organization) -> WebForm:
    return webform_save(
        organization=org_a,
        name="Contact",
        fields=["name", "email", "phone", "company", "notes"],
        consent_text=CONSENT,
    )


def stamp(webform: WebForm, age: float = 10) -> str:
    """The signed render time of a form shown ``age`` seconds ago."""
    with mock.patch("django.core.signing.time.time", return_value=time.time() - age):
        return rendered_stamp(webform)


def checked(webform: WebForm, age: float = 10) -> Stamp:
    """A stamp as the public form's check passes it to the service."""
    return stamp_check(stamp(webform, age), form_key=webform.key)
