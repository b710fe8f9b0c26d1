"""Figures kept until their data changes (``keepscore.scorecard.kept.remembered``): the
scorecard of a month, its rows and charts, and the saved plan the plan check reads are
computed once, then read back until the organization's data revision (or, for a month
that runs, the day) changes. What is read back equals what is computed; a change of the
data is seen at once; another organization never reads them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.scorecard import compute, kept
from keepscore.scorecard.services import target_set
from tests.funnel.conftest import move, new_lead

pytestmark = pytest.mark.django_db

MONTH = date(2025, 3, 1)


def at(day: int) -> datetime:
    return timezone.make_aware(datetime(2025, 3, day, 10, 0))


@pytest.fixture
def computed(monkeypatch: Any) -> list[date]:
    """The months ``scorecard_for`` computed (it still runs)."""
    months: list[date] = []
    real = compute.scorecard_for

    def counted(organization: Organization, month: date, *args: Any, **kwargs: Any) -> Any:
        months.append(month)
        return real(organization, month, *args, **kwargs)

    monkeypatch.setattr(compute, "scorecard_for", counted)
    return months


def figure(card: Any, key: str) -> Any:
    [row] = [r for r in card.rows if r.key == key]
    return row.value


def page_text(client: Any, org: Organization) -> str:
    response = client.get(f"/o/{org.slug}/scorecard/{MONTH:%Y-%m}/")
    assert response.status_code == 200
    return response.content.decode()


def test_computed_once_then_read_back_equal(
    org_a: Organization, owner_a: Membership, computed: list[date]
) -> None:
    move(new_lead(org_a, "Won", at(3)), "customer", at(4), owner_a, revenue="1200")
    first = kept.scorecard_kept(org_a, MONTH)
    second = kept.scorecard_kept(org_a, MONTH)
    assert computed == [MONTH]  # the second came from the cache
    fresh = compute.scorecard_for(org_a, MONTH)
    for card in (first, second):
        assert [(r.key, r.value, r.target, r.previous) for r in card.rows] == [
            (r.key, r.value, r.target, r.previous) for r in fresh.rows
        ]
    assert figure(second, "revenue") == 1200


def test_a_stage_change_is_seen_at_once(
    client_a: Any, org_a: Organization, owner_a: Membership, computed: list[date]
) -> None:
    move(new_lead(org_a, "Won", at(3)), "customer", at(4), owner_a, revenue="1200")
    assert figure(kept.scorecard_kept(org_a, MONTH), "new_leads") == 1
    assert "98,765" not in page_text(client_a, org_a)
    move(new_lead(org_a, "Second", at(10)), "customer", at(12), owner_a, revenue="98765")
    card = kept.scorecard_kept(org_a, MONTH)
    assert figure(card, "new_leads") == 2
    assert figure(card, "revenue") == 99965
    assert "99,965" in page_text(client_a, org_a)
    # computed again after the move, then read back (page and function share it)
    assert len(computed) == 2


def test_a_target_is_seen_at_once(client_a: Any, org_a: Organization) -> None:
    assert "43,210" not in page_text(client_a, org_a)
    target_set(organization=org_a, metric_key="revenue", month=MONTH, value="43210")
    assert "43,210" in page_text(client_a, org_a)
    [row] = [r for r in kept.scorecard_kept(org_a, MONTH).rows if r.key == "revenue"]
    assert row.target == 43210


def test_a_running_month_is_computed_again_the_next_day(
    org_a: Organization, computed: list[date], monkeypatch: Any
) -> None:
    today = date(2025, 3, 10)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: today)
    kept.scorecard_kept(org_a, MONTH)
    kept.scorecard_kept(org_a, MONTH)
    assert len(computed) == 1
    today = date(2025, 3, 11)
    kept.scorecard_kept(org_a, MONTH)
    assert len(computed) == 2
    # a month that is over does not depend on the day
    kept.scorecard_kept(org_a, date(2025, 1, 1))
    today = date(2025, 3, 12)
    kept.scorecard_kept(org_a, date(2025, 1, 1))
    assert computed.count(date(2025, 1, 1)) == 1


def test_another_organization_never_reads_it(
    org_a: Organization, owner_a: Membership, org_b: Organization, computed: list[date]
) -> None:
    move(new_lead(org_a, "Won", at(3)), "customer", at(4), owner_a, revenue="1200")
    assert figure(kept.scorecard_kept(org_a, MONTH), "revenue") == 1200
    card_b = kept.scorecard_kept(org_b, MONTH)
    assert len(computed) == 2
    assert card_b.slug == org_b.slug
    assert figure(card_b, "revenue") in (None, 0)
    assert figure(card_b, "new_leads") in (None, 0)


def test_remembered_keys_on_the_parts(org_a: Organization) -> None:
    calls: list[int] = []

    def make(n: int) -> Any:
        def value() -> int:
            calls.append(n)
            return n

        return value

    assert kept.remembered(org_a, "x", [1], make(1)) == 1
    assert kept.remembered(org_a, "x", [1], make(99)) == 1  # kept
    assert kept.remembered(org_a, "x", [2], make(2)) == 2  # other parts
    assert kept.remembered(org_a, "y", [1], make(3)) == 3  # other name
    kept.data_changed(org_a.pk)
    assert kept.remembered(org_a, "x", [1], make(4)) == 4  # the data changed
    assert calls == [1, 2, 3, 4]


def test_the_data_parts_are_read_once_per_instance_until_a_write(org_a: Organization) -> None:
    """A page that shows several kept figures reads the revision and the summaries' state
    once; a write (here or by any writer of this process) makes them read again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from keepscore.scorecard.models import DataRevision

    table = DataRevision._meta.db_table
    org = Organization.objects.get(pk=org_a.pk)  # a fresh instance, as a request has

    def revision_reads(names: list[str], made: str = "") -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            got = [kept.remembered(org, name, [], lambda n=name: made or n) for name in names]
        reads = [q for q in queries.captured_queries if table in q["sql"] and "SELECT" in q["sql"]]
        return len(reads), got

    assert revision_reads(["a", "b", "c"]) == (1, ["a", "b", "c"])
    assert revision_reads(["a", "b"], made="not computed") == (0, ["a", "b"])
    kept.data_changed(org_a.pk)
    # the revision raised by the write is read: the value is computed again
    assert revision_reads(["a", "b"], made="again") == (1, ["again", "again"])
