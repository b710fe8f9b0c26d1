from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.activities import bulk
from keepscore.activities.bulk import activities_bulk_add
from keepscore.activities.models import Activity
from keepscore.leads.services import lead_create
from tests.conftest import channel

pytestmark = pytest.mark.django_db


def test_rows_are_written_with_their_fields(lead_a, sales_a):
    at = lead_a.first_touch_at
    n = activities_bulk_add(
        lead_a.organization,
        [
            (lead_a.pk, "connect", at, sales_a.pk, True),
            (lead_a.pk, "call_attempt", at + timedelta(seconds=1), None, False),
        ],
    )

    assert n == 2
    talk, call = Activity.objects.for_org(lead_a.organization).order_by("at")
    assert (talk.lead_id, talk.kind, talk.at, talk.by_id, talk.with_buyer) == (
        lead_a.pk,
        "connect",
        at,
        sales_a.pk,
        True,
    )
    assert talk.is_sales_conversation
    assert (call.kind, call.by_id, call.with_buyer, call.outcome, call.notes) == (
        "call_attempt",
        None,
        False,
        "",
        "",
    )
    assert talk.organization_id == lead_a.organization_id
    assert talk.created_at is not None


def test_many_rows_in_several_batches_from_a_generator(lead_a, owner_a, monkeypatch):
    monkeypatch.setattr(bulk, "BATCH", 7)
    other = lead_create(
        organization=lead_a.organization, name="Other", channel=channel(lead_a.organization)
    )
    at = max(lead_a.first_touch_at, other.first_touch_at)
    rows = (
        ((lead_a if i % 2 else other).pk, "meeting", at, owner_a.pk, i % 3 == 0) for i in range(30)
    )

    assert activities_bulk_add(lead_a.organization, rows) == 30
    qs = Activity.objects.for_org(lead_a.organization)
    assert qs.count() == 30
    assert qs.filter(lead=other).count() == 15
    assert qs.filter(with_buyer=True).count() == 10
    assert len(set(qs.values_list("pk", flat=True))) == 30


def test_nothing_is_an_empty_write(org_a):
    assert activities_bulk_add(org_a, []) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "smoke-signal"}, "kind"),
        ({"lead": "other org"}, "lead"),
        ({"lead": 10**9}, "lead"),
        ({"by": "other org"}, "by"),
        ({"at": "future"}, "at"),
        ({"at": "before first touch"}, "at"),
        ({"at": "naive"}, "at"),
        ({"with_buyer": 1}, "with_buyer"),
    ],
)
def test_one_bad_row_writes_nothing(lead_a, lead_b, sales_a, owner_b, monkeypatch, change, field):
    monkeypatch.setattr(bulk, "BATCH", 2)  # the bad row is in the second batch
    at = lead_a.first_touch_at
    good = (lead_a.pk, "call_attempt", at, sales_a.pk, False)
    bad = {"lead": lead_a.pk, "kind": "connect", "at": at, "by": sales_a.pk, "with_buyer": False}
    value = next(iter(change.values()))
    key = next(iter(change))
    bad[key] = {
        "other org": lead_b.pk if key == "lead" else owner_b.pk,
        "future": timezone.now() + timedelta(days=1),
        "before first touch": at - timedelta(minutes=1),
        "naive": timezone.make_naive(at),
    }.get(value, value)
    rows = [good, good, good, tuple(bad.values())]

    with pytest.raises(ValidationError) as err:
        activities_bulk_add(lead_a.organization, rows)

    assert field in err.value.message_dict
    assert "row 4" in err.value.message_dict[field][0]
    assert Activity.objects.count() == 0


def test_rows_belong_to_the_organization_written_for(lead_a, lead_b):
    row = (lead_b.pk, "note", lead_b.first_touch_at, None, False)

    assert activities_bulk_add(lead_b.organization, [row]) == 1
    assert Activity.objects.for_org(lead_b.organization).count() == 1
    assert Activity.objects.for_org(lead_a.organization).count() == 0
