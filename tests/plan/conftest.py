from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from keepscore.accounts.models import Organization
from keepscore.demo.generator import demo_create, demo_delete


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The demo organization with 14 months of history, made once per test module."""
    with django_db_blocker.unblock():
        demo_create(slug="plan-demo", months=14, today=timezone.localdate(), plan=False)
        yield Organization.objects.get(slug="plan-demo")
        demo_delete(slug="plan-demo")  # its demo users too: later tests may expect none
