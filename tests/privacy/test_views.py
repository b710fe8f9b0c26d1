"""The lead page's "this person's data" (owners): the JSON download and the erasure with
its confirmation."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from keepscore.accounts.services import member_add
from keepscore.leads.models import ERASED_NAME, Lead
from keepscore.leads.services import lead_create
from tests.conftest import channel, make_user
from tests.privacy.conftest import SECRETS, Person, text_of

pytestmark = pytest.mark.django_db


def url(name: str, lead: Lead) -> str:
    return reverse(name, kwargs={"org": lead.organization.slug, "pk": lead.pk})


def test_owners_see_the_person_s_data_on_the_lead_page_and_others_do_not(ada: Person, org_a):
    owner, sales = Client(), Client()
    owner.force_login(org_a.memberships.get(is_owner=True).user)
    sales.force_login(
        member_add(organization=org_a, user=make_user("s@acme.test"), is_sales=True).user
    )
    lead = ada.leads[0]
    page = owner.get(url("lead_detail", lead)).content.decode()
    assert "Export this person's data" in page and "Erase this person" in page
    assert url("lead_person_export", lead) in page and url("lead_person_erase", lead) in page
    page = sales.get(url("lead_detail", lead)).content.decode()
    assert "Erase this person" not in page and url("lead_person_export", lead) not in page
    for name in ("lead_person_export", "lead_person_erase"):
        assert sales.get(url(name, lead)).status_code == 403
        assert sales.post(url(name, lead), {"confirm": "on"}).status_code == 403
    assert Lead.objects.get(pk=lead.pk).name == "Ada Lovelace"


def test_the_export_downloads_every_lead_of_the_email(client_a, ada: Person):
    response = client_a.get(url("lead_person_export", ada.leads[1]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="person-of-lead-')
    assert "ada" not in disposition.lower()  # no personal data in the file name
    data = json.loads(response.content)
    assert [one["id"] for one in data["leads"]] == [lead.pk for lead in ada.leads]
    assert data["email"] == "ADA@Example.com"  # the lead's own spelling
    assert all(s in text_of(data) for s in SECRETS)
    assert client_a.post(url("lead_person_export", ada.leads[1])).status_code == 405


def test_a_lead_without_email_is_exported_alone(client_a, org_a, ada: Person):
    alone = lead_create(organization=org_a, name="Walk-in", channel=channel(org_a))
    data = client_a.get(url("lead_person_export", alone)).json()
    assert [one["id"] for one in data["leads"]] == [alone.pk] and data["email"] == ""


def test_the_confirmation_says_what_goes_and_needs_a_tick(client_a, ada: Person):
    lead = ada.leads[0]
    page = client_a.get(url("lead_person_erase", lead))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Every lead with the email <strong>ada@example.com</strong>" in html
    assert "Ada Lovelace" in html and "Ada Byron" in html  # both leads, by name
    assert "2 leads, 1 later touch, 2 stage changes, 1 correction, 1 deal outcome" in html
    assert 'name="confirm"' in html and "checked" not in html.split('name="confirm"')[1][:40]
    # not ticked (or a value a box does not send): refused, nothing erased
    for data in ({}, {"confirm": ""}, {"confirm": "no"}, {"confirm": "0"}):
        response = client_a.post(url("lead_person_erase", lead), data)
        assert response.status_code == 422
        assert "Tick the box to confirm the erasure." in response.content.decode()
    assert [Lead.objects.get(pk=one.pk).erased_at for one in ada.leads] == [None, None]


def test_confirmed_the_person_is_erased_and_the_lead_is_a_tombstone(client_a, ada: Person):
    lead = ada.leads[1]
    response = client_a.post(url("lead_person_erase", lead), {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == url("lead_detail", lead)
    notices = [str(m) for m in get_messages(response.wsgi_request)]
    assert notices == [
        "Erased: 2 leads, 1 later touch, 2 stage changes, 1 correction, 1 deal outcome, "
        "3 activities, 2 objections, 1 follow-up, 1 web form submission. "
        "Their history still counts in every figure."
    ]
    page = client_a.get(url("lead_detail", lead)).content.decode()
    assert ERASED_NAME in page and "This person's data was erased on" in page
    assert not [s for s in SECRETS if s in page]
    for one in ada.leads:
        assert Lead.objects.get(pk=one.pk).name == ERASED_NAME
    # again: nothing is left, the page says so and offers no button
    again = client_a.get(url("lead_person_erase", lead)).content.decode()
    assert "Nothing is left to erase" in again and 'name="confirm"' not in again
    response = client_a.post(url("lead_person_erase", lead), {"confirm": "on"})
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Nothing was left to erase."]
