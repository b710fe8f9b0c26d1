"""The summaries' upkeep cursor: on PostgreSQL, the statements it runs again are prepared
on the server (planned once per connection, not at every write); on both databases, a
database error is raised as Django's, and a write naming tens of thousands of leads
stays within SQLite's limit on a statement's parameters."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from keepscore.accounts.models import Membership, Organization
from keepscore.funnel.summary import upkeep
from keepscore.funnel.summary.sql import PREPARE_AFTER, summary_cursor
from keepscore.history import recorder
from tests.funnel.conftest import at, move, new_lead

pytestmark = pytest.mark.django_db


def prepared() -> set[str]:
    """The statements prepared in this connection (PostgreSQL's own view of them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_the_upkeep_statements_are_prepared_once(org_a: Organization, owner_a: Membership) -> None:
    """PostgreSQL: the upkeep's statements are prepared once they ran ``PREPARE_AFTER``
    times, and used again after. SQLite (which keeps its own cache of prepared statements):
    Django's cursor."""
    if connection.vendor == "sqlite":
        with summary_cursor(prepared=True) as cursor, connection.cursor() as django:
            assert type(cursor) is type(django)
        return
    for n in range(PREPARE_AFTER + 1):
        move(new_lead(org_a, f"A{n}", at(2024, 1, 10 + n)), "lead", at(2024, 1, 20), owner_a)
    first = prepared()
    assert any("INSERT INTO ks_reach" in s for s in first), first
    assert any("funnel_entrycount" in s for s in first), first
    for n in range(3):
        move(new_lead(org_a, f"B{n}", at(2024, 2, 10 + n)), "lead", at(2024, 2, 20), owner_a)
    # the same statements again: none prepared anew
    assert {s for s in prepared() if "ks_reach" in s} == {s for s in first if "ks_reach" in s}
    assert recorder.verify(organization=org_a) == []


def test_a_database_error_is_djangos_and_the_connection_goes_on() -> None:
    with (
        pytest.raises(DatabaseError, match=r"no.such.table"),
        transaction.atomic(),
        summary_cursor(prepared=True) as cursor,
    ):
        cursor.execute("SELECT 1 FROM no_such_table WHERE 1 = %s", [1])
    with summary_cursor(prepared=True) as cursor:
        assert cursor.execute("SELECT %s + 1", [41]).fetchone()[0] == 42


def test_a_write_naming_seventy_thousand_leads_stays_within_the_parameter_limit(
    org_a: Organization, owner_a: Membership
) -> None:
    """The months' bounds of a list of leads are read :data:`upkeep.MOMENTS_CHUNK` leads per
    statement: 70,002 leads named in each of its four parts would be 280,012 parameters in
    one, over the most SQLite takes (``SQLITE_LIMIT_VARIABLE_NUMBER``: 250,000 in Debian's
    build, 32,766 by default). PostgreSQL: Django's cursor binds them in the client."""
    early = new_lead(org_a, "Early", at(2023, 1, 5))
    late = new_lead(org_a, "Late", at(2024, 3, 1))
    move(late, "lead", at(2024, 6, 30), owner_a)
    unknown = list(range(10**9, 10**9 + 70_000))  # no such leads: they add no moment
    leads = [early.pk, *unknown, late.pk]
    assert upkeep._moments_of(org_a, leads) == (at(2023, 1, 5), at(2024, 6, 30))
    assert upkeep._moments_of(org_a, unknown) == (None, None)
