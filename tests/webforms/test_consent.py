"""Consent on the public form: a box to tick when the form has a consent text, unticked at
first and required; the submission keeps the text, its version and when it was ticked."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from keepscore.leads.models import Lead
from keepscore.webforms.forms import CONSENT_CHANGED
from keepscore.webforms.models import WebForm, WebFormSubmission, consent_version
from keepscore.webforms.services import CONSENT_NEEDED, PageSource, webform_save, webform_submit
from tests.webforms.conftest import CONSENT, checked, stamp


def url(webform: WebForm) -> str:
    return reverse("webform_public", kwargs={"key": webform.key})


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def post(webform: WebForm, **extra: str) -> dict[str, str]:
    return {"name": "Ada Lovelace", "email": "ada@example.com", "ts": stamp(webform), **extra}


def test_the_form_shows_the_consent_as_a_box_not_ticked(client, webform):
    html = client.get(url(webform)).content.decode()
    box = re.search(r'<input type="checkbox" name="consent"[^>]*>', html)
    assert box and "checked" not in box.group(0) and "required" in box.group(0)
    label = re.search(r'<label for="ks_consent">(.*?)</label>', html, re.S)
    assert label and CONSENT in label.group(1)
    assert f'name="consent_version" value="{sha(CONSENT)}"' in html


def test_not_ticked_is_refused_with_a_field_error_and_what_was_typed_kept(client, webform):
    response = client.post(url(webform), post(webform, consent_version=sha(CONSENT)))
    assert response.status_code == 400
    html = response.content.decode()
    assert CONSENT_NEEDED in html and 'id="ks_consent_error"' in html
    assert 'value="Ada Lovelace"' in html and 'value="ada@example.com"' in html
    assert not Lead.objects.exists() and not WebFormSubmission.objects.exists()
    for i, unticked in enumerate(("", "false", "0", "no", "off", "\x00", "nope")):
        data = post(webform, consent=unticked, consent_version=sha(CONSENT))
        address = f"198.51.100.{i + 1}"  # under the rate limit of each address
        assert client.post(url(webform), data, REMOTE_ADDR=address).status_code == 400
    assert not Lead.objects.exists()


def test_ticked_keeps_the_text_its_version_and_when(client, webform):
    before = timezone.now()
    response = client.post(url(webform), post(webform, consent="on", consent_version=sha(CONSENT)))
    assert response.status_code == 302
    submission = WebFormSubmission.objects.get()
    assert submission.consent_text == CONSENT
    assert submission.consent_version == sha(CONSENT) and len(submission.consent_version) == 12
    assert submission.consented_at is not None
    assert before <= submission.consented_at <= timezone.now()
    assert submission.consented_at == submission.submitted_at


def test_a_text_edited_since_the_form_was_shown_must_be_ticked_again(client, webform, org_a):
    shown = client.get(url(webform)).content.decode()
    assert f'value="{sha(CONSENT)}"' in shown
    edited = "I agree that Acme may call me, and may email me too."
    webform_save(
        organization=org_a,
        webform=webform,
        name=webform.name,
        fields=webform.fields,
        consent_text=edited,
    )
    # the visitor ticks what they were shown: refused, shown the new text to tick
    response = client.post(url(webform), post(webform, consent="on", consent_version=sha(CONSENT)))
    assert response.status_code == 400
    html = response.content.decode()
    assert CONSENT_CHANGED in html and edited in html
    assert f'name="consent_version" value="{sha(edited)}"' in html
    assert not Lead.objects.exists()
    # ticked again under the new text: kept with the new version
    response = client.post(url(webform), post(webform, consent="on", consent_version=sha(edited)))
    assert response.status_code == 302
    submission = WebFormSubmission.objects.get()
    assert (submission.consent_text, submission.consent_version) == (edited, sha(edited))


def test_a_form_without_consent_text_has_no_box(client, org_a):
    form = webform_save(organization=org_a, name="Plain", fields=["name"])
    html = client.get(url(form)).content.decode()
    assert 'name="consent"' not in html and 'name="consent_version"' not in html
    assert client.post(url(form), post(form)).status_code == 302
    submission = WebFormSubmission.objects.get()
    assert (submission.consent_text, submission.consent_version) == ("", "")
    assert submission.consented_at is None


def test_the_service_refuses_a_submission_without_consent(webform):
    with pytest.raises(ValidationError) as error:
        webform_submit(
            webform=webform, data={"name": "Ada"}, source=PageSource(), stamp=checked(webform)
        )
    assert error.value.message_dict == {"consent": [CONSENT_NEEDED]}
    assert not Lead.objects.exists()
    ticked = webform_submit(
        webform=webform,
        data={"name": "Ada", "consent": "yes"},
        source=PageSource(),
        stamp=checked(webform),
    )
    assert ticked.consent_version == sha(CONSENT)


def test_a_version_is_the_text_s_alone():
    assert consent_version(CONSENT) == sha(CONSENT) == consent_version(CONSENT)
    assert consent_version(CONSENT + ".") != consent_version(CONSENT)
    assert consent_version("") == ""
    # the same text is the same version in any form of any organization, at any time
    assert consent_version("Ok to call ✓") == sha("Ok to call ✓")


@pytest.mark.django_db(transaction=True)
def test_submissions_from_before_get_their_text_s_version_and_no_tick(org_a):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    form = webform_save(organization=org_a, name="Old", fields=["name"], consent_text=CONSENT)
    old = webform_submit(
        webform=form,
        data={"name": "Ada", "consent": "yes"},
        source=PageSource(),
        stamp=checked(form),
    )
    plain = webform_save(organization=org_a, name="Plain", fields=["name"])
    none = webform_submit(
        webform=plain, data={"name": "Bob"}, source=PageSource(), stamp=checked(plain)
    )
    # back to before consent was a box (its columns gone: webforms 0003), then forward again
    executor = MigrationExecutor(connection)
    executor.migrate([("webforms", "0002_used_stamp")])
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    old.refresh_from_db()
    none.refresh_from_db()
    assert (old.consent_text, old.consent_version, old.consented_at) == (
        CONSENT,
        sha(CONSENT),
        None,
    )
    assert (none.consent_version, none.consented_at) == ("", None)
