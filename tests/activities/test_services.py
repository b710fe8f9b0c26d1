from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.activities.models import Activity, Objection
from keepscore.activities.services import activity_log, objection_add
from keepscore.leads.services import lead_create
from tests.conftest import channel

pytestmark = pytest.mark.django_db


def test_a_connect_with_a_buyer_is_a_sales_conversation(lead_a, sales_a):
    talk = activity_log(
        lead=lead_a, kind="connect", by=sales_a, with_buyer=True, outcome="demo booked"
    )
    note = activity_log(lead=lead_a, kind="note", by=sales_a, with_buyer=True)
    gatekeeper = activity_log(lead=lead_a, kind="meeting", by=sales_a, with_buyer=False)

    assert talk.is_sales_conversation
    assert not note.is_sales_conversation
    assert not gatekeeper.is_sales_conversation
    assert Activity.objects.for_org(lead_a.organization).count() == 3


def test_activity_validation(lead_a, sales_a, owner_b):
    with pytest.raises(ValidationError) as err:
        activity_log(lead=lead_a, kind="smoke-signal", by=sales_a)
    assert "kind" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        activity_log(lead=lead_a, kind="call_attempt", by=owner_b)
    assert "by" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        activity_log(
            lead=lead_a, kind="call_attempt", by=sales_a, at=timezone.now() + timedelta(days=1)
        )
    assert "at" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        activity_log(
            lead=lead_a,
            kind="call_attempt",
            by=sales_a,
            at=lead_a.first_touch_at - timedelta(days=1),
        )
    assert "at" in err.value.message_dict
    assert Activity.objects.count() == 0


def test_objection_on_lead_or_activity(lead_a, sales_a, owner_a):
    call = activity_log(lead=lead_a, kind="connect", by=sales_a, with_buyer=True)
    objection = objection_add(lead=lead_a, tag="price", by=sales_a, text="Too dear", activity=call)
    assert objection.activity == call and objection.organization == lead_a.organization

    other = lead_create(
        organization=lead_a.organization, name="Other", channel=channel(lead_a.organization)
    )
    with pytest.raises(ValidationError) as err:
        objection_add(lead=other, tag="price", by=sales_a, activity=call)
    assert "activity" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        objection_add(lead=lead_a, tag="astrology", by=sales_a)
    assert "tag" in err.value.message_dict
    assert Objection.objects.count() == 1
