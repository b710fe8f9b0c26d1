"""``GET /api/v1/people/export`` and ``POST /api/v1/people/erase`` (owners)."""

from __future__ import annotations

import pytest

from keepscore.accounts.services import member_add
from keepscore.audit.models import AuditEvent
from keepscore.leads.models import ERASED_NAME, Lead
from tests.api.conftest import api_for, fields_of
from tests.conftest import make_user
from tests.privacy.conftest import SECRETS, Person, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(owner_a):
    return api_for(owner_a)


def test_an_owner_exports_a_person(api, ada: Person):
    response = api.get("/people/export", email=" ada@EXAMPLE.com")
    assert response.status_code == 200
    data = response.json()
    assert [one["id"] for one in data["leads"]] == [lead.pk for lead in ada.leads]
    assert all(s in text_of(data) for s in SECRETS)
    assert set(
        AuditEvent.objects.filter(action="person_exported").values_list("via", flat=True)
    ) == {"api"}


def test_nobody_is_an_empty_export(api, org_a):
    response = api.get("/people/export", email="nobody@example.com")
    assert response.status_code == 200 and response.json()["leads"] == []


@pytest.mark.parametrize("email", ["", "not-an-email", "a\x00b@example.com", "x" * 400])
def test_a_bad_email_is_a_422_naming_the_field(api, org_a, email):
    response = api.get("/people/export", email=email)
    assert response.status_code == 422, response.content
    assert fields_of(response) == ["email"]
    response = api.post("/people/erase", {"email": email, "confirm": True})
    assert response.status_code == 422 and fields_of(response) == ["email"]


def test_the_email_is_required(api, org_a):
    assert fields_of(api.get("/people/export")) == ["email"]
    assert fields_of(api.post("/people/erase", {"confirm": True})) == ["email"]


def test_an_erasure_needs_confirm_true(api, ada: Person):
    for body in ({"email": ada.email}, {"email": ada.email, "confirm": False}):
        response = api.post("/people/erase", body)
        assert response.status_code == 422
        assert fields_of(response) == ["confirm"]
        assert "Set confirm to true" in response.json()["detail"]
    assert not Lead.objects.filter(name=ERASED_NAME).exists()


def test_an_owner_erases_a_person_then_finds_nothing(api, ada: Person):
    response = api.post("/people/erase", {"email": "ADA@example.com", "confirm": True})
    assert response.status_code == 200
    body = response.json()
    assert body["found"] is True and body["lead_ids"] == [lead.pk for lead in ada.leads]
    assert body["counts"] == {
        "leads": 2,
        "touches": 1,
        "stage_changes": 2,
        "corrections": 1,
        "outcomes": 1,
        "activities": 3,
        "objections": 2,
        "followups": 1,
        "qualification": 0,
        "submissions": 1,
    }
    assert Lead.objects.filter(name=ERASED_NAME).count() == 2
    again = api.post("/people/erase", {"email": ada.email, "confirm": True}).json()
    assert again == {
        "found": False,
        "lead_ids": [],
        "counts": dict.fromkeys(again["counts"], 0),
        "message": "no lead found: nothing erased",
    }
    assert set(AuditEvent.objects.filter(action="erased").values_list("via", flat=True)) == {"api"}


def test_other_members_are_refused(org_a, ada: Person):
    for roles in ({"is_sales": True}, {"is_marketing": True}):
        member = member_add(
            organization=org_a, user=make_user(f"{next(iter(roles))}@acme.test"), **roles
        )
        api = api_for(member)
        refused = api.get("/people/export", email=ada.email)
        assert refused.status_code == 403 and refused.json()["detail"].startswith("Only owners")
        refused = api.post("/people/erase", {"email": ada.email, "confirm": True})
        assert refused.status_code == 403
    assert not Lead.objects.filter(name=ERASED_NAME).exists()
