"""New leads assigned by a web form's rule (a named member, sales members in turn) and by
the API: the owner set, a first-contact call due at the right local time, and the notice
that arrives through a real SMTP server (or not, for a member who turned it off)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.accounts.services import member_add, member_remove, notices_set
from keepscore.followups.models import FollowUp
from keepscore.leads.models import Lead
from keepscore.webforms.models import Assign, WebForm
from keepscore.webforms.services import PageSource, webform_save, webform_submit
from tests.api.conftest import api_for, fields_of
from tests.conftest import make_user
from tests.webforms.conftest import checked

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def owner_not_in_sales(owner_a: Membership) -> None:
    """The organization's owner is made with every role: here sales is for the others."""
    owner_a.is_sales = False
    owner_a.save()


def sales(org: Organization, *names: str) -> list[Membership]:
    return [
        member_add(organization=org, user=make_user(f"{n}@{org.slug}.test"), is_sales=True)
        for n in names
    ]


def form(org: Organization, **assign: Any) -> WebForm:
    return webform_save(
        organization=org, name="Contact", fields=["name", "email", "notes"], **assign
    )


def submit(webform: WebForm, name: str, notes: str = "") -> Lead:
    submission = webform_submit(
        webform=webform,
        data={"name": name, "email": f"{name.split()[0].lower()}@visitor.test", "notes": notes},
        source=PageSource(utm_source="newsletter", utm_campaign="winter"),
        stamp=checked(webform),
    )
    return Lead.objects.select_related("owner__user").get(pk=submission.lead_id)


def test_round_robin_takes_the_sales_members_in_turn_and_skips_a_removed_one(
    org_a, owner_a, smtp, django_capture_on_commit_callbacks
):
    ann, ben, cat = sales(org_a, "ann", "ben", "cat")
    member_add(organization=org_a, user=make_user("mia@acme.test"), is_marketing=True)
    webform = form(org_a, assign=Assign.ROUND_ROBIN)
    with django_capture_on_commit_callbacks(execute=True):
        owners = [submit(webform, f"Visitor {i}").owner for i in range(4)]
    assert owners == [ann, ben, cat, ann]  # the owner (not sales) and marketing never
    member_remove(membership=ben)
    cat.is_sales = False
    cat.save()
    dan = sales(org_a, "dan")[0]
    with django_capture_on_commit_callbacks(execute=True):
        owners = [submit(webform, f"Later {i}").owner for i in range(3)]
    assert owners == [dan, ann, dan]  # after ann: ben gone, cat no longer sales
    # each assignee got one notice per lead
    assert len(smtp.to("ann@acme.test")) == 3
    assert len(smtp.to("cat@acme.test")) == 1
    assert len(smtp.to("dan@acme.test")) == 2
    assert smtp.to("owner@acme.test") == []


def test_no_sales_member_left_leaves_the_lead_unassigned(org_a, smtp):
    webform = form(org_a, assign=Assign.ROUND_ROBIN)
    lead = submit(webform, "Nobody Home")
    assert lead.owner is None
    assert not FollowUp.objects.filter(lead=lead).exists()


def test_the_assignee_gets_the_notice_and_a_first_contact_due_in_local_time(
    org_a, settings, smtp, django_capture_on_commit_callbacks
):
    settings.TIME_ZONE = "America/New_York"
    [ann] = sales(org_a, "ann")
    webform = form(org_a, assign=Assign.MEMBER, assign_to=ann, first_contact_hours=5)
    with django_capture_on_commit_callbacks(execute=True):
        lead = submit(webform, "Grace Hopper", notes="We need 40 seats by March.\nCall after 3.")
    assert lead.owner == ann
    [call] = FollowUp.objects.filter(lead=lead)
    assert (call.kind, call.note, call.owner, call.done_at) == ("call", "First contact", ann, None)
    submitted = lead.web_form_submission.submitted_at
    due = (submitted.astimezone(ZoneInfo("America/New_York")) + timedelta(hours=5)).replace(
        second=0, microsecond=0
    )
    assert (call.due_on, call.due_time) == (due.date(), due.time())

    [message] = smtp.to("ann@acme.test")
    assert message["Subject"] == "New lead for you: Grace Hopper (Acme)"
    text = smtp.part(message, "text/plain").replace("\r\n", "\n")
    assert "Grace Hopper" in text
    assert "Source: Website form, form “Contact”, campaign winter, from newsletter" in text
    assert "We need 40 seats by March.\nCall after 3." in text
    assert f"due by {due:%A} {due.day} {due:%B %Y, %H:%M}" in text
    assert "grace@visitor.test" in text
    lead_link = f"https://crm.example.test/o/acme/leads/{lead.pk}/"
    assert smtp.links(message, "/leads/") == {lead_link}
    assert "We need 40 seats by March." in smtp.part(message, "text/html")


def test_a_member_who_turned_the_notice_off_gets_nothing_but_still_the_lead(
    org_a, smtp, django_capture_on_commit_callbacks
):
    [ann] = sales(org_a, "ann")
    notices_set(membership=ann, lead_assigned=False)
    webform = form(org_a, assign=Assign.MEMBER, assign_to=ann)
    with django_capture_on_commit_callbacks(execute=True):
        lead = submit(webform, "Quiet Lead")
    assert lead.owner == ann
    assert FollowUp.objects.filter(lead=lead, owner=ann).count() == 1
    assert smtp.received == []


def test_a_form_assigns_only_a_member_of_its_organization(org_a, org_b, owner_b):
    with pytest.raises(ValidationError) as refused:
        form(org_a, assign=Assign.MEMBER, assign_to=owner_b)
    assert "assign_to" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        form(org_a, assign=Assign.MEMBER)
    assert "assign_to" in refused.value.message_dict


def test_the_settings_page_sets_the_assignment(client_a, org_a, owner_b):
    [ann] = sales(org_a, "ann")
    base = {"name": "Contact", "ask": ["name", "email"], "active": "on"}
    post = {**base, "assign": "member", "assign_to": ann.pk, "first_contact_hours": 8}
    response = client_a.post("/o/acme/settings/forms/add/", post)
    assert response.status_code == 302
    webform = WebForm.objects.get(organization=org_a)
    assert (webform.assign, webform.assign_to, webform.first_contact_hours) == ("member", ann, 8)
    # another organization's member is not among the choices
    post = {**base, "assign": "member", "assign_to": owner_b.pk}
    response = client_a.post(f"/o/acme/settings/forms/{webform.pk}/", post)
    assert response.status_code == 200
    assert "assign_to" in response.context["form"].errors
    webform.refresh_from_db()
    assert webform.assign_to == ann


# --- the API -------------------------------------------------------------------------------


def test_the_api_assigns_round_robin_and_by_email(
    org_a, owner_a, smtp, django_capture_on_commit_callbacks
):
    _ann, ben = sales(org_a, "ann", "ben")
    api = api_for(owner_a)
    body = {"name": "Api Lead", "channel": "referral", "notes": "From the site chat."}
    with django_capture_on_commit_callbacks(execute=True):
        owners = [
            api.post("/leads", {**body, "assign": "round_robin"}).json()["owner"] for _ in range(3)
        ]
    assert owners == ["ann@acme.test", "ben@acme.test", "ann@acme.test"]
    with django_capture_on_commit_callbacks(execute=True):
        made = api.post("/leads", {**body, "owner": "BEN@acme.test", "first_contact_hours": 2})
    assert made.status_code == 201
    lead = Lead.objects.get(pk=made.json()["id"])
    [call] = FollowUp.objects.filter(lead=lead)
    assert call.owner == ben
    due = timezone.localtime(call.created_at) + timedelta(hours=2)
    assert abs(
        timezone.make_aware(timezone.datetime.combine(call.due_on, call.due_time)) - due
    ) < timedelta(minutes=1)
    assert len(smtp.to("ann@acme.test")) == 2
    assert len(smtp.to("ben@acme.test")) == 2
    assert "From the site chat." in smtp.part(smtp.to("ben@acme.test")[1], "text/plain")
    assert smtp.to("owner@acme.test") == []


def test_the_api_names_the_field_it_refuses(org_a, owner_a, owner_b):
    api = api_for(owner_a)
    body = {"name": "Api Lead", "channel": "referral"}
    before = Lead.objects.count()
    for wrong, field in [
        ({"owner": "nobody@acme.test"}, "owner"),
        ({"owner": "owner@bravo.test"}, "owner"),  # another organization's member
        ({"owner": "owner@acme.test", "assign": "round_robin"}, "assign"),
        ({"assign": "everyone"}, "assign"),
        ({"assign": "round_robin", "first_contact_hours": 0}, "first_contact_hours"),
    ]:
        response = api.post("/leads", {**body, **wrong})
        assert response.status_code == 422, (wrong, response.content)
        assert field in fields_of(response)[0], (wrong, response.json())
    assert Lead.objects.count() == before


def test_a_lead_the_caller_keeps_needs_no_notice(org_a, owner_a, smtp):
    api = api_for(owner_a)
    made = api.post("/leads", {"name": "Mine", "channel": "referral", "owner": "owner@acme.test"})
    assert made.status_code == 201
    assert not FollowUp.objects.filter(lead_id=made.json()["id"]).exists()
    assert smtp.received == []


# --- in the app ----------------------------------------------------------------------------


def test_a_member_reassigning_a_lead_in_the_app_notifies_the_new_owner_only(
    client_a, org_a, owner_a, lead_a, smtp, django_capture_on_commit_callbacks
):
    [ann] = sales(org_a, "ann")
    edit = {"name": lead_a.name, "company": "AE", "owner": ann.pk}
    with django_capture_on_commit_callbacks(execute=True):
        response = client_a.post(f"/o/acme/leads/{lead_a.pk}/edit/", edit)
    assert response.status_code == 302
    [message] = smtp.to("ann@acme.test")
    text = smtp.part(message, "text/plain")
    assert "assigned you a lead" in text and lead_a.name in text
    with django_capture_on_commit_callbacks(execute=True):
        client_a.post(f"/o/acme/leads/{lead_a.pk}/edit/", {**edit, "company": "AE Ltd"})
        client_a.post(f"/o/acme/leads/{lead_a.pk}/edit/", {**edit, "owner": owner_a.pk})
    assert len(smtp.received) == 1  # unchanged owner, and taking it oneself: no notice


def test_the_list_of_forms_says_where_new_leads_go(client_a, org_a):
    [ann] = sales(org_a, "ann")
    form(org_a, assign=Assign.MEMBER, assign_to=ann)
    webform_save(organization=org_a, name="Demo", fields=["name"], assign=Assign.ROUND_ROBIN)
    page = client_a.get("/o/acme/settings/forms/").content.decode()
    assert "ann@acme.test" in page and "Sales members in turn" in page
