"""keepscore.mail: a message goes through a real SMTP server with a plain-text part, an
HTML part and the link back to the app; a server that is not there is one clear error; by
default messages are written as files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.template import TemplateDoesNotExist

from keepscore import mail
from tests.smtp import free_port

CONTEXT = {"email": "ann@acme.test", "link": "https://crm.example.test/reset/x/y/", "hours": 24}


def test_a_message_arrives_with_both_parts_and_the_link_back(smtp: Any) -> None:
    pdf = mail.Attachment("march.pdf", b"%PDF-1.4 not really", "application/pdf")
    mail.send(
        to="ann@acme.test",
        subject="Reset your\nkeepscore password",
        template="mail/password_reset",
        context=CONTEXT,
        attachments=[pdf],
    )
    [received] = smtp.received
    assert received.rcpt_tos == ["ann@acme.test"]
    assert received.mail_from == "keepscore@example.test"
    message = received.message
    assert message["Subject"] == "Reset your keepscore password"  # one line
    assert message["To"] == "ann@acme.test"
    assert message["Auto-Submitted"] == "auto-generated"
    text = smtp.part(message, "text/plain")
    html = smtp.part(message, "text/html")
    assert "reset the keepscore password of ann@acme.test" in text
    assert "for 24 hours" in text and "for 24 hours" in html
    assert smtp.links(message, "/reset/") == {"https://crm.example.test/reset/x/y/"}
    # the footer's link back to the app, in both parts
    assert "https://crm.example.test/" in text
    assert 'href="https://crm.example.test/"' in html
    assert "<" not in text.replace("<keepscore", "")  # plain text, not HTML
    [attached] = [p for p in message.iter_attachments()]
    assert attached.get_filename() == "march.pdf"
    assert attached.get_content() == b"%PDF-1.4 not really"


def test_the_text_part_is_not_escaped_and_the_html_part_is(smtp: Any) -> None:
    mail.send(
        to="x@acme.test",
        subject="s",
        template="mail/password_reset",
        context={**CONTEXT, "email": "o'neil&co@acme.test"},
    )
    [message] = smtp.messages
    assert "o'neil&co@acme.test" in smtp.part(message, "text/plain")
    assert "o&#x27;neil&amp;co@acme.test" in smtp.part(message, "text/html")


def test_a_server_that_is_not_there_is_one_clear_error(smtp: Any, settings: Any) -> None:
    settings.EMAIL_PORT = free_port()  # nothing listens there
    with pytest.raises(mail.MailNotSent) as raised:
        mail.send(to="ann@acme.test", subject="s", template="mail/password_reset", context=CONTEXT)
    words = str(raised.value)
    assert words.startswith("the mail to ann@acme.test could not be sent through the mail server")
    assert f"127.0.0.1:{settings.EMAIL_PORT}" in words
    assert "\n" not in words
    assert smtp.messages == []


def test_both_templates_are_needed(smtp: Any) -> None:
    with pytest.raises(TemplateDoesNotExist):
        mail.send(to="a@acme.test", subject="s", template="mail/base_missing", context={})
    assert smtp.messages == []


def test_by_default_messages_are_files_in_the_folder(settings: Any, tmp_path: Path) -> None:
    from keepscore.config.email import from_environment

    for name, value in from_environment({}, home=tmp_path).items():
        setattr(settings, name, value)
    settings.KEEPSCORE_URL = "http://127.0.0.1:8000"
    mail.send(to="ann@acme.test", subject="Hello", template="mail/password_reset", context=CONTEXT)
    [written] = list((tmp_path / "mail").iterdir())
    body = written.read_text()
    assert "Subject: Hello" in body
    assert "Content-Type: text/plain" in body and "Content-Type: text/html" in body
    assert "http://127.0.0.1:8000/" in body


def test_app_url_joins_paths() -> None:
    from django.test import override_settings

    with override_settings(KEEPSCORE_URL="https://crm.example.test"):
        assert mail.app_url() == "https://crm.example.test/"
        assert mail.app_url("/o/acme/") == "https://crm.example.test/o/acme/"
        assert mail.app_url("o/acme/") == "https://crm.example.test/o/acme/"
