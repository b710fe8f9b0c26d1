"""Fixtures shared by the whole suite: organizations, members and leads made by services."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, models, transaction
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from keepscore.accounts.models import Membership, Organization, User
from keepscore.accounts.services import member_add, organization_create, user_create
from keepscore.history import recorder
from keepscore.leads.models import Channel, Stage
from keepscore.leads.services import lead_create

PASSWORD = "correct-horse-battery-9"

# Hypothesis profiles, chosen by HYPOTHESIS_PROFILE: "ci" (the default, `make test` and CI):
# every property test runs the number of examples it names (``examples(n)``); "dev" (for a
# quick run while working: `HYPOTHESIS_PROFILE=dev pytest ...`) runs a fifth of them, at
# least 3. Both: no deadline (the tests drive the database and views, on a shared machine),
# and function-scoped fixtures are fine (each example cleans up after itself: a savepoint,
# or data only added).
hypothesis_settings.register_profile(
    "ci",
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
hypothesis_settings.register_profile("dev", hypothesis_settings.get_profile("ci"), max_examples=20)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
hypothesis_settings.load_profile(HYPOTHESIS_PROFILE)


#: modules holding the suite's longest tests (10-60 s each, by `--junitxml` on both
#: databases): collected first, so that pytest-xdist hands them out while every worker is
#: busy and the run ends on short tests. In the collection order (the directories in
#: turn) the last minutes of a run had one worker finishing long tests while the other
#: waited.
LONGEST_FIRST = (
    "browser/test_content_security_policy.py",
    "funnel/test_summary.py",
    "focus/test_properties.py",
    "plan/test_backtest.py",
    "backup/test_backup.py",
    "imports/test_archive.py",
    "privacy/test_figures.py",
    "funnel/test_properties.py",
    "browser/test_phone.py",
    "followups/test_today.py",
    "common/test_permissions.py",
    "demo/test_demo.py",
    "worker/test_worker.py",
    "browser/test_accessibility.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The modules of ``LONGEST_FIRST`` first, in its order; the others after them, in
    their order (a module's tests stay together, for its module-scoped fixtures)."""
    tests = os.path.dirname(__file__)

    def rank(item: pytest.Item) -> int:
        path = os.path.relpath(str(item.path), tests)
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


def examples(ci: int) -> int:
    """The number of examples of a property test: ``ci`` under the ci profile, a fifth (at
    least 3) under dev."""
    return ci if HYPOTHESIS_PROFILE == "ci" else max(3, ci // 5)


@contextmanager
def built_once(django_db_blocker: Any) -> Iterator[None]:
    """For a module- or class-scoped fixture that builds a big world once (as Django's
    ``setUpTestData``): what it writes inside this block stays for the tests of its scope and
    is rolled back at the end. Each test (``db``, pytest-django's TestCase) runs in its own
    savepoint inside it, so a test's writes are rolled back before the next one starts.

    A fixture using it must hand each test fresh copies of the model instances it made
    (``copy.deepcopy``) and a fresh, logged-in client: what a test changes in memory must not
    reach the next. Not for ``transactional_db`` tests (they need no open transaction)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


def table_rows(model: type[models.Model]) -> list[tuple[Any, ...]]:
    """Every row of the model's table, all its columns (in the order of its concrete fields,
    as ``values_list()``) as the database returns them, by primary key: plain SQL, so that
    tests comparing whole tables before and after a request spend no time in the ORM."""
    quote = connection.ops.quote_name
    meta = model._meta
    columns = ", ".join(quote(f.column) for f in meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM {quote(meta.db_table)} ORDER BY {quote(meta.pk.column)}"
        )
        return [tuple(row) for row in cursor.fetchall()]


def query_plan(
    sql: str, params: Any = (), *, off: tuple[str, ...] = ("seqscan", "bitmapscan")
) -> str:
    """The database's plan of a query, one string (SQLite: EXPLAIN QUERY PLAN's details;
    PostgreSQL: EXPLAIN's lines). PostgreSQL chooses by its statistics, and a test's few
    rows make a scan of the table (or a sort) the cheaper plan, so it is asked with the
    plans ``off`` turned off (``enable_<plan>``): the indexes must answer all the same."""
    sqlite = connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        for name in () if sqlite else off:
            cursor.execute(f"SET LOCAL enable_{name} = off")
        cursor.execute(f"{'EXPLAIN QUERY PLAN' if sqlite else 'EXPLAIN'} {sql}", params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
        for name in () if sqlite else off:
            cursor.execute(f"RESET enable_{name}")
    return plan


def assert_index_alone(sql: str, index: str, table: str, params: Any = ()) -> None:
    """The query on ``table`` is answered from ``index`` alone, never from the table's rows.
    SQLite's plan names the covering index. PostgreSQL's choice among the table's indexes on
    a test's few rows depends on the statistics earlier tests left behind (the full run has
    chosen another index for a single row), so there it must read the table through an
    index, never scan it (``benchmarks/scale.py`` times the plan it chooses at scale)."""
    plan = query_plan(sql, params)
    if connection.vendor == "sqlite":
        assert f"COVERING INDEX {index}" in plan, plan
    else:
        assert f"Seq Scan on {table}" not in plan, plan
        assert f" on {table} " in plan and "Index" in plan, plan


def linked_leads(client: Any, cell: str) -> list[str] | None:
    """The names of the leads on the lead list a table cell's count links to (its first
    link; the list's first page), sorted; None when the cell has no link."""
    link = re.search(r'<a href="([^"]+)">', cell)
    if link is None:
        return None
    found = client.get(link.group(1).replace("&amp;", "&")).context["page_obj"]
    return sorted(lead.name for lead in found.object_list)


def make_user(email: str, **kw: Any) -> User:
    return user_create(email=email, password=PASSWORD, **kw)


def make_org(slug: str, owner_email: str) -> tuple[Organization, Membership]:
    owner = make_user(owner_email)
    org = organization_create(name=slug.title(), slug=slug, owner=owner)
    return org, Membership.objects.get(organization=org, user=owner)


def stage(org: Organization, key: str) -> Stage:
    return Stage.objects.get(organization=org, key=key)


def stage_edit(org: Organization, stage_key: str, **fields: Any) -> Stage:
    """Change fields of a stage as a ladder edit does (through the history recorder)."""
    found = stage(org, stage_key)
    for name, value in fields.items():
        setattr(found, name, value)
    recorder.stages_save(organization=org, stages=[found], fields=list(fields))
    return found


def gates(org: Organization, *keys: str) -> None:
    """Only these stages require qualification."""
    for s in Stage.objects.for_org(org):
        if s.requires_qualification != (s.key in keys):
            stage_edit(org, s.key, requires_qualification=s.key in keys)


def channel(org: Organization, key: str = "referral") -> Channel:
    return Channel.objects.get(organization=org, key=key)


@pytest.fixture
def org_a(db: Any) -> Organization:
    return make_org("acme", "owner@acme.test")[0]


@pytest.fixture
def owner_a(org_a: Organization) -> Membership:
    return Membership.objects.get(organization=org_a, is_owner=True)


@pytest.fixture
def sales_a(org_a: Organization) -> Membership:
    return member_add(organization=org_a, user=make_user("sales@acme.test"), is_sales=True)


@pytest.fixture
def org_b(db: Any) -> Organization:
    return make_org("bravo", "owner@bravo.test")[0]


@pytest.fixture
def owner_b(org_b: Organization) -> Membership:
    return Membership.objects.get(organization=org_b, is_owner=True)


@pytest.fixture
def lead_a(org_a: Organization, owner_a: Membership) -> Any:
    return lead_create(
        organization=org_a, name="Ada Lovelace", channel=channel(org_a), by=owner_a, company="AE"
    )


@pytest.fixture
def lead_b(org_b: Organization, owner_b: Membership) -> Any:
    return lead_create(
        organization=org_b, name="Bob Bravo", channel=channel(org_b), by=owner_b, company="BB"
    )


@pytest.fixture
def client_a(client: Any, owner_a: Membership) -> Any:
    """A test client logged in as organization A's owner."""
    client.force_login(owner_a.user)
    return client


@pytest.fixture
def smtp(settings: Any) -> Any:
    """A real SMTP server on 127.0.0.1 (tests/smtp.py), Django's SMTP backend sending to it;
    what arrived is in ``smtp.messages``."""
    from tests.smtp import serving

    with serving() as inbox:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = inbox.port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_TIMEOUT = 10
        settings.KEEPSCORE_URL = "https://crm.example.test"
        settings.DEFAULT_FROM_EMAIL = "keepscore <keepscore@example.test>"
        yield inbox
