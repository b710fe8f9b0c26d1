"""A person's data (``keepscore.privacy``): found by email, exported whole, erased to a
tombstone that keeps the anonymous history; recorded in the audit log with counts only.
Checked against the story in ``conftest.py``, counted by hand."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from keepscore.activities.models import Activity, Objection
from keepscore.activities.services import activity_log, objection_add
from keepscore.audit.models import AuditEvent
from keepscore.economics.models import DealLine
from keepscore.followups.models import FollowUp
from keepscore.history import recorder
from keepscore.leads.models import (
    ERASED_NAME,
    ERASED_TEXT,
    DealOutcome,
    Lead,
    QualificationAnswer,
    StageChange,
    StageCorrection,
    Touch,
)
from keepscore.leads.services import lead_create, lead_move
from keepscore.privacy import selectors, services
from keepscore.privacy.selectors import Held, email_clean, person_leads, person_of_lead
from keepscore.privacy.services import leads_erase, leads_export, person_erase, person_export
from keepscore.webforms.models import WebFormSubmission
from tests.conftest import channel, make_org, stage
from tests.privacy.conftest import SECRETS, Person, ada_make, text_of

pytestmark = pytest.mark.django_db


def every_row() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the project."""
    return {
        m._meta.label: sorted(m._default_manager.values_list(), key=repr)
        for m in apps.get_models()
        if m.__module__.startswith("keepscore.")
    }


def secrets_in_database(organization: Any) -> list[tuple[str, str]]:
    """(table, text) for every one of Ada's texts still somewhere in the organization's rows
    (and in the rows of the tables that belong to no organization)."""
    found = []
    for model in apps.get_models():
        if not model.__module__.startswith("keepscore."):
            continue
        rows = model._default_manager.all()
        if any(f.name == "organization" for f in model._meta.concrete_fields):
            rows = rows.filter(organization=organization)
        text = repr(list(rows.values_list()))
        label = model._meta.label
        found += [(label, s) for s in SECRETS if s in text or s.lower() in text.lower()]
    return found


def history_of(lead: Lead) -> dict[str, list[tuple[Any, ...]]]:
    """What the figures read of a lead's history (no free text)."""
    return {
        "lead": list(
            Lead.objects.filter(pk=lead.pk).values_list(
                "stage",
                "stage_entered_at",
                "value",
                "first_touch_at",
                "channel",
                "owner",
                "sourced_by",
                "campaign",
                "utm_source",
                "utm_medium",
                "utm_campaign",
            )
        ),
        "changes": list(
            StageChange.objects.filter(lead=lead)
            .order_by("id")
            .values_list("id", "from_stage", "to_stage", "at", "by", "qualification_override")
        ),
        "outcomes": list(
            DealOutcome.objects.filter(lead=lead)
            .order_by("id")
            .values_list("id", "result", "at", "revenue", "cost", "lost_reason", "stage_change")
        ),
        "lines": list(
            DealLine.objects.filter(outcome__lead=lead)
            .order_by("id")
            .values_list("product", "quantity", "unit_price", "unit_cost")
        ),
        "corrections": list(
            StageCorrection.objects.filter(lead=lead)
            .order_by("id")
            .values_list("change_id", "change_from", "change_to", "change_at", "at", "by")
        ),
        "activities": list(
            Activity.objects.filter(lead=lead)
            .order_by("id")
            .values_list("kind", "at", "by", "with_buyer")
        ),
        "objections": list(
            Objection.objects.filter(lead=lead).order_by("id").values_list("tag", "at", "by")
        ),
        "touches": list(
            Touch.objects.filter(lead=lead)
            .order_by("id")
            .values_list("at", "channel", "campaign", "utm_source", "utm_medium", "utm_campaign")
        ),
        "followups": list(
            FollowUp.objects.filter(lead=lead)
            .order_by("id")
            .values_list("kind", "due_on", "owner", "done_at")
        ),
        "qualification": list(
            QualificationAnswer.objects.filter(lead=lead)
            .order_by("id")
            .values_list("criterion", "met")
        ),
    }


@pytest.fixture
def bob(org_a, owner_a) -> Lead:
    """Someone else in the same organization, with notes of his own."""
    lead = lead_create(
        organization=org_a,
        name="Bob Marley",
        channel=channel(org_a),
        by=owner_a,
        email="bob@example.com",
        notes="Bob's own notes",
    )
    activity_log(lead=lead, kind="note", by=owner_a, notes="Bob called")
    return lead


@pytest.fixture
def ada_in_b(org_b, owner_b) -> Lead:
    """A lead with Ada's email in another organization: not this organization's to touch."""
    return lead_create(
        organization=org_b,
        name="Ada Lovelace",
        channel=channel(org_b),
        by=owner_b,
        email="ada@example.com",
        notes="B knows Ada too",
    )


# --- finding the person -----------------------------------------------------------------


def test_a_person_is_every_lead_with_the_email_trimmed_in_any_case(ada, bob, ada_in_b, org_a):
    for spelled in ("ada@example.com", "  ADA@example.COM\t", "Ada@Example.com"):
        assert list(person_leads(organization=org_a, email=spelled)) == ada.leads
    assert [lead.email for lead in ada.leads] == ["ada@example.com", "ADA@Example.com"]
    assert list(person_leads(organization=org_a, email="bob@example.com")) == [bob]
    assert list(person_leads(organization=org_a, email="nobody@example.com")) == []
    # a lead's person: every lead of its email; without an email, the lead alone
    assert person_of_lead(lead=ada.leads[1]) == ada.leads
    alone = lead_create(organization=org_a, name="No email", channel=channel(org_a))
    assert person_of_lead(lead=alone) == [alone]


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("", "Give the person's email address."),
        ("   ", "Give the person's email address."),
        (None, "Give the person's email address."),
        ("ada", "not an email address"),
        ("ada@", "not an email address"),
        ("a\x00da@example.com", "not an email address"),
        ("x" * 300 + "@example.com", "at most 254 characters"),
        ("ada@example.com, bob@example.com", "not an email address"),
    ],
)
def test_an_email_that_is_not_one_is_refused_with_its_field(org_a, email, says):
    with pytest.raises(ValidationError) as error:
        email_clean(email=email)
    assert says in " ".join(error.value.message_dict["email"])
    with pytest.raises(ValidationError):
        person_erase(organization=org_a, email=email)
    with pytest.raises(ValidationError):
        person_export(organization=org_a, email=email)


def test_a_like_pattern_in_the_email_matches_only_itself(org_a, owner_a):
    """``_`` and ``%`` are wildcards of LIKE: the lookup must not treat them so."""
    lead_create(
        organization=org_a, name="X", channel=channel(org_a), email="a_b@example.com", by=owner_a
    )
    lead_create(
        organization=org_a, name="Y", channel=channel(org_a), email="axb@example.com", by=owner_a
    )
    found = person_leads(organization=org_a, email="a_b@example.com")
    assert [lead.name for lead in found] == ["X"]
    assert list(person_leads(organization=org_a, email="%@example.com")) == []


# --- export -----------------------------------------------------------------------------


def test_the_export_holds_everything_recorded_about_the_person(ada: Person, org_a, bob, ada_in_b):
    # when
    data = person_export(organization=org_a, email=" ADA@example.com ")
    # then: JSON as it is, no encoder needed
    assert json.loads(json.dumps(data)) == data
    assert data["format"] == "keepscore person export, version 1"
    assert (data["organization"], data["email"]) == ("acme", "ADA@example.com")
    first, second = data["leads"]
    assert [first["id"], second["id"]] == [lead.pk for lead in ada.leads]
    counted = {
        kind: len(first[key]) + len(second[key])
        for kind, key in (
            ("touches", "touches"),
            ("stage_changes", "stage_changes"),
            ("corrections", "corrections"),
            ("outcomes", "outcomes"),
            ("activities", "activities"),
            ("objections", "objections"),
            ("followups", "followups"),
            ("qualification", "qualification"),
            ("submissions", "web_form_submissions"),
        )
    }
    assert counted == {k: v for k, v in ada.expected.items() if k != "leads"}
    # the lead's own fields
    assert {k: first[k] for k in ("name", "company", "email", "phone", "notes", "value")} == {
        "name": "Ada Lovelace",
        "company": "Analytical Engines",
        "email": "ada@example.com",
        "phone": "+44 20 7946 0000",
        "notes": "Met at the Royal Society",
        "value": "1800.00",
    }
    assert (first["stage"], first["channel"], first["owner"]) == (
        "Customer",
        "Referral",
        "owner@acme.test",
    )
    assert (first["campaign"], first["utm_source"], first["utm_medium"]) == (
        "Spring",
        "newsletter",
        "email",
    )
    assert (first["utm_campaign"], first["referrer"], first["external_id"]) == (
        "spring-24",
        "https://ada.example/blog",
        "crm-4711",
    )
    assert first["facts"] == {"job": "Mathematician", "segment": "science"}
    assert first["erased_at"] is None and first["first_touch_at"] < first["created_at"]
    # the history, oldest first
    moves = [(c["from"], c["to"]) for c in first["stage_changes"]]
    assert moves == [
        (None, "Suspect"),
        ("Suspect", "Prospect"),
        ("Prospect", "Lead"),
        ("Lead", "Qualified"),
        ("Qualified", "Proposal"),
        ("Proposal", "Customer"),
    ]
    override = first["stage_changes"][3]
    assert override["qualification_override"] is True
    assert override["override_reason"] == "Overridden: Ada decides alone"
    assert override["note"] == "Call her husband first" and override["by"] == "owner@acme.test"
    (correction,) = first["corrections"]
    assert correction["reason"] == "Wrong button, Ada is still keen"
    assert (correction["undone"]["from"], correction["undone"]["to"]) == ("Proposal", "Lost")
    assert correction["undone"]["outcome"]["lost_note"] == "Moved by mistake: Ada lost?"
    (won,) = first["outcomes"]
    # 2 days at 700.00, each costing 300.00: revenue 1,400, cost 600, margin 800
    assert (won["result"], won["revenue"], won["cost"], won["margin"]) == (
        "won",
        "1400.00",
        "600.00",
        "800.00",
    )
    assert won["lines"] == [
        {"product": "Engine day", "quantity": "2.00", "unit_price": "700.00", "unit_cost": "300.00"}
    ]
    (lost,) = second["outcomes"]
    assert (lost["result"], lost["lost_note"]) == ("lost", "Babbage chose another supplier")
    assert lost["lost_reason"] and lost["revenue"] is None
    assert [(a["kind"], a["with_buyer"]) for a in first["activities"]] == [
        ("connect", True),
        ("proposal", False),
    ]
    assert first["activities"][0]["outcome"] == "Left a message with her butler"
    assert first["activities"][0]["notes"] == "She asked about the difference engine"
    assert [(o["tag"], o["text"]) for o in first["objections"] + second["objections"]] == [
        ("price", "Too dear for Babbage"),
        ("competitor", "Babbage chose another supplier"),
    ]
    assert [(f["kind"], f["note"]) for f in first["followups"]] == [
        ("call", "Call her husband first")
    ]
    assert len(first["qualification"]) == 4 and all(a["met"] for a in first["qualification"])
    assert first["touches"] == [
        {
            "at": first["touches"][0]["at"],
            "channel": "Ads",
            "campaign": "",
            "utm_source": "",
            "utm_medium": "",
            "utm_campaign": "",
            "referrer": "https://ada.example/blog",
        }
    ]
    (submission,) = second["web_form_submissions"]
    consent = "I agree that we may contact me."
    assert submission["form"] == "Contact" and submission["consent_text"] == consent
    assert submission["consent_version"] == hashlib.sha256(consent.encode()).hexdigest()[:12]
    assert submission["consented_at"] == submission["submitted_at"]
    assert submission["page_url"] == "https://shop.example/contact?who=ada@example.com"
    assert (second["name"], second["notes"]) == ("Ada Byron", "Ada typed this on the form")
    # nothing of anyone else's
    text = text_of(data)
    assert "Bob" not in text and "B knows Ada" not in text
    assert all(s in text for s in SECRETS)


def test_each_lead_exported_is_in_the_audit_log_with_counts_only(ada: Person, org_a):
    person_export(organization=org_a, email="ada@example.com")
    events = AuditEvent.objects.filter(action="person_exported").order_by("id")
    assert [(e.object_type, e.object_id) for e in events] == [
        ("leads.Lead", str(lead.pk)) for lead in ada.leads
    ]
    assert events[0].organization_id == org_a.pk
    assert "stage_changes 6" in events[0].summary and "activities 2" in events[0].summary
    assert "submissions 1" in events[1].summary
    assert not [s for s in SECRETS if s.lower() in " ".join(e.summary for e in events).lower()]


def test_an_export_for_nobody_is_empty_and_recorded(org_a, ada_in_b):
    data = person_export(organization=org_a, email="ada@example.com")
    assert data["leads"] == [] and data["email"] == "ada@example.com"
    event = AuditEvent.objects.get(action="person_exported")
    assert (event.organization_id, event.object_id, event.summary) == (
        org_a.pk,
        "",
        "no lead found",
    )


def test_another_organizations_lead_is_refused(org_a, ada_in_b):
    with pytest.raises(ValidationError):
        leads_export(organization=org_a, leads=[ada_in_b])
    with pytest.raises(ValidationError):
        leads_erase(organization=org_a, leads=[ada_in_b])
    assert Lead.objects.get(pk=ada_in_b.pk).name == "Ada Lovelace"


# --- erasure ----------------------------------------------------------------------------


def test_an_erasure_leaves_a_tombstone_and_every_figure_s_history(
    ada: Person, org_a, owner_a, bob, ada_in_b
):
    # given
    kept = [history_of(lead) for lead in ada.leads]
    bob_row = Lead.objects.filter(pk=bob.pk).values().get()
    b_row = Lead.objects.filter(pk=ada_in_b.pk).values().get()
    assert len(secrets_in_database(org_a)) > len(SECRETS)
    # when
    erasure = person_erase(organization=org_a, email="Ada@Example.com", by=owner_a)
    # then: what it did, counted by hand from the story (records holding text)
    assert erasure.found and erasure.lead_ids == [lead.pk for lead in ada.leads]
    assert erasure.total == Held(
        leads=2,
        touches=1,  # its referrer
        stage_changes=2,  # the override (note, reason) and the win (note)
        corrections=1,
        outcomes=1,  # the lost note (the win has none)
        activities=3,
        objections=2,
        followups=1,
        qualification=0,  # no text
        submissions=1,  # deleted
    )
    assert erasure.words() == (
        "2 leads, 1 later touch, 2 stage changes, 1 correction, 1 deal outcome, "
        "3 activities, 2 objections, 1 follow-up, 1 web form submission"
    )
    # nothing of Ada's text is left anywhere in the database
    assert secrets_in_database(org_a) == []
    for lead in ada.leads:
        lead.refresh_from_db()
        assert lead.name == ERASED_NAME and lead.erased_at is not None
        assert (lead.company, lead.email, lead.phone, lead.notes) == ("", "", "", "")
        assert (lead.external_id, lead.referrer, lead.facts) == ("", "", {})
    assert not WebFormSubmission.objects.filter(lead__in=ada.leads).exists()
    override = StageChange.objects.get(lead=ada.leads[0], qualification_override=True)
    assert (override.note, override.override_reason) == ("", ERASED_TEXT)
    correction = StageCorrection.objects.get(lead=ada.leads[0])
    assert correction.outcome["lost_note"] == "" and correction.outcome["result"] == "lost"
    # what the figures read did not move
    assert [history_of(lead) for lead in ada.leads] == kept
    assert recorder.verify(organization=org_a) == []
    # nobody else's data changed
    assert Lead.objects.filter(pk=bob.pk).values().get() == bob_row
    assert Lead.objects.filter(pk=ada_in_b.pk).values().get() == b_row
    assert Activity.objects.get(lead=bob).notes == "Bob called"


def test_each_lead_erased_is_in_the_audit_log_with_counts_only(ada: Person, org_a, owner_a):
    person_erase(organization=org_a, email="ada@example.com", by=owner_a)
    events = AuditEvent.objects.filter(action="erased").order_by("object_id")
    assert sorted((e.object_type, int(e.object_id)) for e in events) == [
        ("leads.Lead", lead.pk) for lead in ada.leads
    ]
    assert {e.organization_id for e in events} == {org_a.pk}
    by_lead = {int(e.object_id): e.summary for e in events}
    assert by_lead[ada.leads[0].pk] == (
        "leads 1, touches 1, stage_changes 2, corrections 1, activities 2, objections 1, "
        "followups 1"
    )
    assert by_lead[ada.leads[1].pk] == (
        "leads 1, outcomes 1, activities 1, objections 1, submissions 1"
    )
    deleted = AuditEvent.objects.get(action="deleted", object_type="webforms.WebFormSubmission")
    assert deleted.summary == "erased with its lead"
    summaries = " ".join(AuditEvent.objects.values_list("summary", flat=True)).lower()
    assert not [s for s in SECRETS if s.lower() in summaries]


def test_a_second_erasure_finds_nothing_and_changes_nothing(ada: Person, org_a, owner_a):
    person_erase(organization=org_a, email="ada@example.com", by=owner_a)
    before = every_row()
    del before["audit.AuditEvent"]
    # when
    again = person_erase(organization=org_a, email="ada@example.com", by=owner_a)
    # then
    assert not again.found and again.total == Held()
    assert again.words() == "no lead found: nothing erased"
    after = every_row()
    del after["audit.AuditEvent"]
    assert after == before
    assert AuditEvent.objects.filter(action="erased").count() == 2
    # the tombstones, erased again by themselves: nothing left to erase
    tombstones = list(Lead.objects.filter(pk__in=[lead.pk for lead in ada.leads]))
    assert leads_erase(organization=org_a, leads=tombstones).words() == "nothing left to erase"


def test_an_erasure_is_all_or_nothing(ada: Person, org_a, owner_a, monkeypatch):
    before = every_row()

    def broken(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the disk is full")

    # the history is blanked first; this fails after it
    monkeypatch.setattr(services.audit, "delete", broken)
    with pytest.raises(RuntimeError, match="disk is full"):
        person_erase(organization=org_a, email="ada@example.com", by=owner_a)
    assert every_row() == before


def test_moves_and_logs_still_work_on_a_tombstone(ada: Person, org_a, owner_a):
    """The erased lead stays a lead of the funnel: it can still be worked on."""
    person_erase(organization=org_a, email="ada@example.com", by=owner_a)
    lead = Lead.objects.get(pk=ada.leads[1].pk)
    lead_move(lead=lead, to_stage=stage(org_a, "prospect"), by=owner_a)
    objection_add(lead=lead, tag="price", by=owner_a)
    assert Lead.objects.get(pk=lead.pk).stage.key == "prospect"
    assert recorder.verify(organization=org_a) == []


def test_the_erasure_s_queries_do_not_grow_with_the_history(org_a, owner_a):
    """Set-based: a lead with 5 activities and one with 60 take as many queries."""

    def person(email: str, activities: int) -> int:
        lead = lead_create(
            organization=org_a, name="P", channel=channel(org_a), by=owner_a, email=email
        )
        for i in range(activities):
            activity_log(lead=lead, kind="note", by=owner_a, notes=f"note {i}")
            objection_add(lead=lead, tag="price", by=owner_a, text=f"text {i}")
        lead_move(lead=lead, to_stage=stage(org_a, "prospect"), by=owner_a, note="moved")
        with CaptureQueriesContext(connection) as queries:
            erasure = person_erase(organization=org_a, email=email, by=owner_a)
        assert erasure.total.activities == activities and erasure.total.objections == activities
        return len(queries)

    assert person("short@example.com", 5) == person("long@example.com", 60)


def test_a_different_org_s_person_is_not_erased(org_a, owner_a, org_b, owner_b):
    mine = ada_make(org_b, owner_b)
    erasure = person_erase(organization=org_a, email="ada@example.com", by=owner_a)
    assert not erasure.found
    assert Lead.objects.get(pk=mine.leads[0].pk).notes == "Met at the Royal Society"
    _org, stranger = make_org("gamma", "owner@gamma.test")
    with pytest.raises(ValidationError):
        person_erase(organization=org_b, email="ada@example.com", by=stranger)
    assert Lead.objects.get(pk=mine.leads[0].pk).erased_at is None


def test_held_adds_up(ada: Person):
    per_lead = selectors.held(leads=ada.leads)
    assert selectors.total(per_lead=per_lead) == Held(**ada.expected)
    assert Held(activities=1, leads=1).words() == ["1 lead", "1 activity"]
    assert Held().summary() == "nothing" and Held().words() == []
