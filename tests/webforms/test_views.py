"""The public form (spam defences, framing, errors) and the settings pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from keepscore.accounts.services import member_add
from keepscore.leads.models import Lead
from keepscore.webforms.models import WebForm, WebFormSubmission, consent_version
from tests.conftest import make_user
from tests.webforms.conftest import CONSENT, stamp


def url(webform: WebForm) -> str:
    return reverse("webform_public", kwargs={"key": webform.key})


def good(webform: WebForm, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "website": "",
        "ts": stamp(webform),
        "utm_source": "news",
        "utm_medium": "email",
        "utm_campaign": "spring",
        "referrer": "https://www.google.com/",
        "page_url": "https://acme.test/landing",
        "consent": "on",
        "consent_version": consent_version(CONSENT),
        **extra,
    }


def test_the_page_carries_the_source_from_its_query_string(client, webform):
    query = {"utm_source": "news", "utm_campaign": "<b>spring</b>", "referrer": "https://g.co/"}
    page = client.get(url(webform), query)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="utm_source" value="news"' in html
    assert "&lt;b&gt;spring&lt;/b&gt;" in html and "<b>" not in html
    assert 'value="https://g.co/"' in html
    assert CONSENT in html and 'name="website"' in html and 'name="ts"' in html
    assert "<script" not in html  # a strict CSP holds on this page too


def test_a_good_submission_makes_a_lead(client, webform):
    response = client.post(url(webform), good(webform))
    assert response.status_code == 302
    assert response["Location"] == reverse("webform_thanks", kwargs={"key": webform.key})
    assert client.get(response["Location"]).status_code == 200
    lead = Lead.objects.get()
    assert lead.organization == webform.organization
    assert lead.channel.key == "website-form"
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("news", "email", "spring")
    assert lead.referrer == "https://www.google.com/"
    submission = WebFormSubmission.objects.get()
    assert submission.lead == lead and submission.consent_text == CONSENT
    assert submission.page_url == "https://acme.test/landing"


def test_it_goes_to_the_thank_you_page_when_there_is_one(client, webform):
    webform.thank_you_url = "https://acme.test/thanks"
    webform.save()
    response = client.post(url(webform), good(webform))
    assert response.status_code == 302 and response["Location"] == "https://acme.test/thanks"


@pytest.mark.parametrize(
    "spoil",
    [
        {"website": "http://spam.example"},  # the honeypot
        {"ts": "FRESH"},  # too fast
    ],
    ids=["honeypot", "too-fast"],
)
def test_spam_gets_a_neutral_page_and_no_lead(client, webform, spoil):
    data = good(webform, **spoil)
    if data["ts"] == "FRESH":
        data["ts"] = stamp(webform, age=0)
    response = client.post(url(webform), data)
    assert response.status_code == 200
    assert "Thank you" in response.content.decode()
    assert not Lead.objects.exists()


@pytest.mark.parametrize("bad", ["", "garbage", "x:y:z", "OLD", "OTHER"])
def test_a_bad_or_old_stamp_is_refused(client, webform, org_a, bad):
    other = WebForm.objects.create(organization=org_a, name="Other", fields=["name"])
    value = {"OLD": stamp(webform, age=2 * 86400), "OTHER": stamp(other)}.get(bad, bad)
    response = client.post(url(webform), good(webform, ts=value))
    assert response.status_code == 400
    assert "send it again" in response.content.decode()
    assert not Lead.objects.exists()


def test_the_rate_limit_per_address(client, webform):
    for _ in range(5):
        assert client.post(url(webform), good(webform)).status_code == 302
    response = client.post(url(webform), good(webform, name="Sixth"))
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many submissions" in html and 'value="Sixth"' in html
    assert Lead.objects.count() == 5
    # another address is not limited
    assert client.post(url(webform), good(webform), REMOTE_ADDR="198.51.100.7").status_code == 302


def test_invalid_input_is_shown_with_its_errors(client, webform):
    response = client.post(url(webform), good(webform, email="not-an-email", name=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter a valid email address." in html and "This field is required." in html
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x" * 10_000},
        {"name": "\x00"},
        {"utm_source": "\x00" * 5, "referrer": "y" * 10_000},
        {"notes": ["a", "b"], "ts": ["1", "2"]},
        {"phone": "1" * 100},
    ],
)
def test_hostile_input_is_never_a_500(client, webform, data):
    response = client.post(url(webform), good(webform, **data))
    assert response.status_code in (302, 400)


def test_unknown_or_inactive_forms_are_404(client, webform):
    assert client.get("/f/no-such-key/").status_code == 404
    assert client.post("/f/no-such-key/", good(webform)).status_code == 404
    assert client.get(f"/f/{webform.pk}/").status_code == 404  # never by pk
    webform.active = False
    webform.save()
    assert client.get(url(webform)).status_code == 404
    assert client.post(url(webform), good(webform)).status_code == 404
    assert not Lead.objects.exists()


def test_the_public_page_can_be_framed_and_the_app_cannot(client_a, webform):
    public = client_a.get(url(webform))
    assert "X-Frame-Options" not in public
    assert "X-Frame-Options" not in client_a.get(
        reverse("webform_thanks", kwargs={"key": webform.key})
    )
    app = client_a.get(reverse("webform_list", kwargs={"org": "acme"}))
    assert app["X-Frame-Options"] == "DENY"


# --- settings -----------------------------------------------------------------------------


def test_an_owner_adds_a_form_and_gets_its_embed_snippet(client_a, org_a):
    add = reverse("webform_add", kwargs={"org": "acme"})
    assert client_a.get(add).status_code == 200
    response = client_a.post(
        add,
        {
            "name": "Contact",
            "ask": ["name", "email"],
            "consent_text": "OK to call",
            "thank_you_url": "",
            "active": "on",
        },
    )
    form = WebForm.objects.for_org(org_a).get()
    assert response.status_code == 302
    page = client_a.get(response["Location"]).content.decode()
    assert f"http://testserver/f/{form.key}/" in page
    assert f'data-keepscore-form="{form.key}"' in page
    assert "http://testserver/static/keepscore/embed.js" in page
    assert "&lt;iframe src=" in page
    listing = client_a.get(reverse("webform_list", kwargs={"org": "acme"})).content.decode()
    assert "Contact" in listing


def test_a_form_without_name_or_company_is_refused(client_a, org_a):
    add = reverse("webform_add", kwargs={"org": "acme"})
    response = client_a.post(add, {"name": "Bad", "ask": ["email"], "active": "on"})
    assert response.status_code == 200
    assert "name or the company" in response.content.decode()
    assert not WebForm.objects.exists()


def test_an_owner_edits_a_form(client_a, webform):
    edit = reverse("webform_edit", kwargs={"org": "acme", "form_pk": webform.pk})
    response = client_a.post(edit, {"name": "Renamed", "ask": ["company"], "consent_text": ""})
    assert response.status_code == 302
    webform.refresh_from_db()
    assert (webform.name, webform.fields, webform.active) == ("Renamed", ["company"], False)


def test_settings_are_for_owners(client, org_a, webform):
    member = member_add(organization=org_a, user=make_user("sales@acme.test"), is_sales=True)
    client.force_login(member.user)
    for name, kwargs in [
        ("webform_list", {}),
        ("webform_add", {}),
        ("webform_edit", {"form_pk": webform.pk}),
    ]:
        assert client.get(reverse(name, kwargs={"org": "acme", **kwargs})).status_code == 403
