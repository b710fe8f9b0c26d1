"""Saving web forms, and a submission becoming a lead."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from keepscore.leads.models import Lead, StageChange
from keepscore.webforms.models import WebForm, WebFormSubmission
from keepscore.webforms.services import PageSource, webform_save, webform_submit
from tests.webforms.conftest import CONSENT, checked


def test_a_form_asks_for_a_name_or_a_company(org_a):
    with pytest.raises(ValidationError) as err:
        webform_save(organization=org_a, name="Bad", fields=["email", "phone"])
    assert "fields" in err.value.message_dict
    with pytest.raises(ValidationError):
        webform_save(organization=org_a, name="Bad", fields=["name", "password"])
    form = webform_save(organization=org_a, name="Company only", fields=["email", "company"])
    assert form.fields == ["company", "email"]  # the usual order
    assert len(form.key) >= 20 and not WebForm.objects.exclude(pk=form.pk).filter(key=form.key)


def test_another_organizations_form_cannot_be_saved(org_a, org_b):
    form = webform_save(organization=org_b, name="B", fields=["name"])
    with pytest.raises(ValidationError):
        webform_save(organization=org_a, name="Hijack", fields=["name"], webform=form)
    assert WebForm.objects.get(pk=form.pk).name == "B"


def test_a_submission_is_a_lead_at_the_first_stage_with_its_source(org_a, webform):
    source = PageSource.of(
        {
            "utm_source": "news",
            "utm_medium": "email",
            "utm_campaign": "spring\x00",
            "referrer": "https://www.google.com/" + "x" * 600,
            "page_url": "https://acme.test/contact",
            "other": "ignored",
        }
    )
    submission = webform_submit(
        webform=webform,
        data={"name": " Ada ", "email": "ada@example.com", "notes": "Call me", "consent": "yes"},
        source=source,
        stamp=checked(webform),
        ip="203.0.113.9",
    )
    lead = submission.lead
    assert (lead.name, lead.email, lead.notes) == ("Ada", "ada@example.com", "Call me")
    assert lead.channel.key == "website-form" and lead.stage.key == "suspect"
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("news", "email", "spring")
    assert lead.referrer.startswith("https://www.google.com/") and len(lead.referrer) == 500
    assert submission.consent_text == CONSENT
    assert submission.page_url == "https://acme.test/contact"
    assert submission.ip_hash and "203.0.113.9" not in submission.ip_hash
    assert StageChange.objects.filter(lead=lead).count() == 1


def test_a_company_only_form_names_the_lead_after_the_company(org_a):
    form = webform_save(organization=org_a, name="B2B", fields=["company", "email"])
    submission = webform_submit(
        webform=form, data={"company": "Initech"}, source=PageSource(), stamp=checked(form)
    )
    assert (submission.lead.name, submission.lead.company) == ("Initech", "Initech")


def test_an_inactive_form_takes_nothing(org_a, webform):
    webform.active = False
    with pytest.raises(ValidationError):
        webform_submit(
            webform=webform, data={"name": "Ada"}, source=PageSource(), stamp=checked(webform)
        )
    assert not Lead.objects.exists() and not WebFormSubmission.objects.exists()
