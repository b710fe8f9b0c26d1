"""A person with a long, varied history, made by the real services: two leads under one
email (in two spellings), a won deal with products, a lost one with a note, a checklist
overridden with a reason, a move undone (a correction keeping a lost note), activities,
objections, follow-ups, checklist answers, later touches and a web form submission."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.activities.services import activity_log, objection_add
from keepscore.economics.products import LineIn
from keepscore.economics.services import product_save
from keepscore.followups.services import followup_add
from keepscore.leads.corrections import stage_change_undo
from keepscore.leads.models import Lead, LostReason, QualificationCriterion
from keepscore.leads.services import Outcome, lead_create, lead_move, qualification_set, touch_add
from keepscore.webforms.services import PageSource, webform_save, webform_submit
from tests.conftest import channel, stage
from tests.webforms.conftest import checked

#: every text a person typed or was said about them: none may be left after an erasure
SECRETS = (
    "Ada Lovelace",
    "Analytical Engines",
    "ada@example.com",
    "+44 20 7946 0000",
    "Met at the Royal Society",
    "crm-4711",
    "Mathematician",
    "https://ada.example/blog",
    "She asked about the difference engine",
    "Left a message with her butler",
    "Too dear for Babbage",
    "Call her husband first",
    "Overridden: Ada decides alone",
    "Babbage chose another supplier",
    "Wrong button, Ada is still keen",
    "Moved by mistake: Ada lost?",
    "Ada typed this on the form",
    "Ada Byron",
)


@dataclass
class Person:
    email: str
    leads: list[Lead] = field(default_factory=list)
    expected: dict[str, int] = field(default_factory=dict)  # records of each kind, by hand


def ago(days: float, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=days)


def ada_make(organization: Organization, owner: Membership) -> Person:
    """Ada, two leads (``ada@example.com`` and ``ADA@Example.com``), 150 days of history."""
    referral, ads = channel(organization), channel(organization, "ads")
    first = lead_create(
        organization=organization,
        name="Ada Lovelace",
        channel=referral,
        by=owner,
        first_touch_at=ago(150),
        company="Analytical Engines",
        email="ada@example.com",
        phone="+44 20 7946 0000",
        notes="Met at the Royal Society",
        value=Decimal("1800.00"),
        campaign="Spring",
        utm_source="newsletter",
        utm_medium="email",
        utm_campaign="spring-24",
        referrer="https://ada.example/blog",
        owner=owner,
    )
    # the import's id and facts (no service sets them outside an import)
    from keepscore.history import recorder

    first.external_id, first.facts = "crm-4711", {"job": "Mathematician", "segment": "science"}
    recorder.lead_save(lead=first, fields=["external_id", "facts"])
    touch_add(lead=first, channel=ads, at=ago(140), referrer="https://ada.example/blog")
    activity_log(
        lead=first,
        kind="connect",
        by=owner,
        at=ago(139),
        with_buyer=True,
        outcome="Left a message with her butler",
        notes="She asked about the difference engine",
    )
    lead_move(lead=first, to_stage=stage(organization, "prospect"), by=owner, at=ago(138))
    lead_move(lead=first, to_stage=stage(organization, "lead"), by=owner, at=ago(120))
    objection_add(lead=first, tag="price", by=owner, text="Too dear for Babbage")
    # the checklist overridden by the owner, with a reason
    lead_move(
        lead=first,
        to_stage=stage(organization, "qualified"),
        by=owner,
        at=ago(100),
        override_reason="Overridden: Ada decides alone",
        note="Call her husband first",
    )
    for criterion in QualificationCriterion.objects.for_org(organization):
        qualification_set(lead=first, criterion=criterion, met=True, by=owner)
    lead_move(lead=first, to_stage=stage(organization, "proposal"), by=owner, at=ago(60))
    activity_log(lead=first, kind="proposal", by=owner, at=ago(59), notes="Ada Byron")
    # a mistaken loss, undone: the correction keeps what the move said
    reason = LostReason.objects.for_org(organization).first()
    lead_move(
        lead=first,
        to_stage=stage(organization, "lost"),
        by=owner,
        at=ago(0.1),
        note="Moved by mistake: Ada lost?",
        outcome=Outcome(lost_reason=reason, lost_note="Moved by mistake: Ada lost?"),
    )
    change = first.stage_changes.order_by("at", "id").last()
    stage_change_undo(change=change, by=owner, reason="Wrong button, Ada is still keen")
    product = product_save(
        organization=organization, name="Engine day", price=Decimal("700.00"), cost=Decimal("300")
    )
    lead_move(
        lead=first,
        to_stage=stage(organization, "customer"),
        by=owner,
        at=ago(0.05),
        note="Ada Byron",
        outcome=Outcome(lines=[LineIn(product=product, quantity=Decimal("2"))]),
    )
    followup_add(
        lead=first,
        by=owner,
        kind="call",
        due_on=timezone.localdate() + timedelta(days=3),
        note="Call her husband first",
    )

    # her second lead, from the web form, lost
    form = webform_save(
        organization=organization,
        name="Contact",
        fields=["name", "email", "notes"],
        consent_text="I agree that we may contact me.",
    )
    submission = webform_submit(
        webform=form,
        data={
            "name": "Ada Byron",
            "email": "ADA@Example.com",
            "notes": "Ada typed this on the form",
            "consent": "yes",
        },
        source=PageSource(page_url="https://shop.example/contact?who=ada@example.com"),
        stamp=checked(form),
    )
    second = submission.lead
    objection_add(lead=second, tag="competitor", by=owner, text="Babbage chose another supplier")
    activity_log(lead=second, kind="email", by=owner, notes="Ada Byron")
    lead_move(
        lead=second,
        to_stage=stage(organization, "lost"),
        by=owner,
        outcome=Outcome(lost_reason=reason, lost_note="Babbage chose another supplier"),
    )
    return Person(
        email="ada@example.com",
        leads=[Lead.objects.get(pk=first.pk), Lead.objects.get(pk=second.pk)],
        expected={
            # by hand, from the story above
            "leads": 2,
            "touches": 1,
            "stage_changes": 6 + 2,  # first: open + 5 moves (the undone one gone); second
            "corrections": 1,
            "outcomes": 2,
            "activities": 3,
            "objections": 2,
            "followups": 1,
            "qualification": 4,  # the default checklist, every criterion met
            "submissions": 1,
        },
    )


@pytest.fixture
def ada(org_a: Organization, owner_a: Membership) -> Person:
    return ada_make(org_a, owner_a)


def text_of(value: Any) -> str:
    """Every string inside a JSON-like value, joined."""
    if isinstance(value, dict):
        return " ".join(text_of(v) for v in value.values())
    if isinstance(value, list | tuple):
        return " ".join(text_of(v) for v in value)
    return str(value) if value is not None else ""
