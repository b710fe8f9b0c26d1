"""The two demos the demo's tests read (``test_demo.py``, ``test_demo_money.py``): built once
for the package (a demo takes seconds), deleted at its end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from keepscore.accounts.models import Organization, User
from keepscore.demo.generator import DemoSummary, demo_create, demo_delete
from keepscore.economics.models import Spend

TODAY = date(2025, 6, 30)
SLUGS = ("demo-a", "demo-b")


@pytest.fixture(scope="package")
def demos(django_db_setup: Any, django_db_blocker: Any) -> Iterator[tuple[DemoSummary, ...]]:
    """Two demos from the same seed and day (the tests only read them)."""
    with django_db_blocker.unblock():
        made = tuple(demo_create(seed=42, slug=slug, today=TODAY) for slug in SLUGS)
    yield made
    with django_db_blocker.unblock():
        for summary in made:
            demo_delete(slug=summary.organization)
        # deleted for good, and the deferred foreign-key checks passed at commit
        assert not Organization.objects.filter(slug__in=SLUGS).exists()
        assert not Spend.objects.filter(organization__slug__in=SLUGS).exists()
        assert not User.objects.filter(email__endswith=".keepscore.test").exists()
