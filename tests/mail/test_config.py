"""Where mail goes, read from the environment (keepscore.config.email): each form of
EMAIL_URL, the EMAIL_HOST variables, the default, and a setting that cannot be read."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from keepscore.config import email
from tests.cli.test_cli import KEEPSCORE, subprocess_env

HOME = Path("/srv/keepscore")


def test_nothing_set_writes_files_under_the_home() -> None:
    assert email.from_environment({}, home=HOME) == {
        "EMAIL_BACKEND": email.FILE,
        "EMAIL_FILE_PATH": "/srv/keepscore/mail",
    }


def test_an_smtp_url_with_a_percent_encoded_password() -> None:
    found = email.from_url(
        "smtp://ann%40acme.test:p%40ss%3Aw%2Frd@mail.acme.test:2525/?tls=1", home=HOME
    )
    assert found == {
        "EMAIL_BACKEND": email.SMTP,
        "EMAIL_HOST": "mail.acme.test",
        "EMAIL_PORT": 2525,
        "EMAIL_HOST_USER": "ann@acme.test",
        "EMAIL_HOST_PASSWORD": "p@ss:w/rd",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10,
    }


@pytest.mark.parametrize(
    ("url", "port", "tls", "ssl"),
    [
        ("smtp://mail.test", 25, False, False),
        ("smtp+tls://mail.test", 587, True, False),
        ("smtps://mail.test", 465, False, True),
        ("smtps://mail.test:1465", 1465, False, True),
        ("SMTP://mail.test/?ssl=yes&timeout=3", 25, False, True),
        ("smtp://[::1]:2525", 2525, False, False),
    ],
)
def test_smtp_schemes_and_their_ports(url: str, port: int, tls: bool, ssl: bool) -> None:
    found = email.from_url(url, home=HOME)
    assert (found["EMAIL_PORT"], found["EMAIL_USE_TLS"], found["EMAIL_USE_SSL"]) == (port, tls, ssl)
    assert found["EMAIL_HOST_USER"] == found["EMAIL_HOST_PASSWORD"] == ""


def test_file_console_and_memory_urls() -> None:
    assert email.from_url("file:///var/mail/ks", home=HOME) == {
        "EMAIL_BACKEND": email.FILE,
        "EMAIL_FILE_PATH": "/var/mail/ks",
    }
    assert email.from_url("console://", home=HOME) == {"EMAIL_BACKEND": email.CONSOLE}
    assert email.from_url("memory://", home=HOME) == {"EMAIL_BACKEND": email.MEMORY}


def test_the_usual_variables_without_a_url() -> None:
    found = email.from_environment(
        {
            "EMAIL_HOST": "smtp.example.test",
            "EMAIL_HOST_USER": "u",
            "EMAIL_HOST_PASSWORD": "pw",
            "EMAIL_USE_TLS": "1",
        },
        home=HOME,
    )
    assert found["EMAIL_BACKEND"] == email.SMTP
    assert (found["EMAIL_HOST"], found["EMAIL_PORT"]) == ("smtp.example.test", 587)
    assert (found["EMAIL_HOST_USER"], found["EMAIL_HOST_PASSWORD"]) == ("u", "pw")
    assert found["EMAIL_USE_TLS"] is True and found["EMAIL_USE_SSL"] is False
    port = email.from_environment({"EMAIL_HOST": "h", "EMAIL_PORT": "2525"}, home=HOME)
    assert port["EMAIL_PORT"] == 2525 and port["EMAIL_USE_TLS"] is False
    # EMAIL_URL wins over the variables
    both = email.from_environment({"EMAIL_URL": "console://", "EMAIL_HOST": "h"}, home=HOME)
    assert both == {"EMAIL_BACKEND": email.CONSOLE}


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        (
            {"EMAIL_URL": "smtp://u:secret@mail.test:abc"},
            "EMAIL_URL's port: 'abc' is not a whole number",
        ),
        (
            {"EMAIL_URL": "smtp://u:secret@mail.test:99999"},
            "EMAIL_URL's port: 99999 is above 65535",
        ),
        ({"EMAIL_URL": "pigeon://loft"}, "EMAIL_URL: unknown scheme pigeon://"),
        ({"EMAIL_URL": "mail.test:25"}, "EMAIL_URL: unknown scheme mail.test://"),
        ({"EMAIL_URL": "just words"}, "EMAIL_URL has no scheme"),
        ({"EMAIL_URL": "smtp://u:secret@/"}, "EMAIL_URL names no mail server"),
        ({"EMAIL_URL": "smtp://h/?tls=1&ssl=1"}, "choose tls (STARTTLS) or ssl, not both"),
        ({"EMAIL_URL": "smtp://h/?tls=maybe"}, "EMAIL_URL's tls: 'maybe' is not on or off"),
        ({"EMAIL_URL": "smtp://h/?starttls=1"}, "EMAIL_URL: unknown option starttls"),
        ({"EMAIL_URL": "file://folder/x"}, "file:///path/to/folder (three slashes)"),
        ({"EMAIL_HOST": "h", "EMAIL_PORT": "twenty"}, "EMAIL_PORT: 'twenty' is not a whole number"),
        ({"EMAIL_HOST": "h", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "choose one, not both"),
    ],
)
def test_a_setting_that_cannot_be_read_is_named(environ: dict[str, str], words: str) -> None:
    with pytest.raises(ValueError) as raised:
        email.from_environment(environ, home=HOME)
    assert words in str(raised.value)
    assert "secret" not in str(raised.value)
    assert "\n" not in str(raised.value)


def test_the_app_address_and_the_default_sender() -> None:
    assert email.app_url("https://crm.example.com/") == "https://crm.example.com"
    assert email.app_url(" http://127.0.0.1:8000 ") == "http://127.0.0.1:8000"
    for bad in ("crm.example.com", "ftp://x", "https://x/?a=1"):
        with pytest.raises(ValueError, match="KEEPSCORE_URL"):
            email.app_url(bad)
    assert (
        email.default_sender("https://crm.example.com") == "keepscore <keepscore@crm.example.com>"
    )
    assert email.default_sender("http://127.0.0.1:8000") == "keepscore <keepscore@localhost>"
    assert email.default_sender("http://intranet:8000") == "keepscore <keepscore@localhost>"


def test_a_bad_email_url_stops_the_start_with_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [*KEEPSCORE, "migrate"],
        env=subprocess_env(tmp_path, EMAIL_URL="smtp://ann:secret@mail.test:notaport/"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert "secret" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "EMAIL_URL's port: 'notaport' is not a whole number" in lines[0]
    assert lines[0].startswith("error: cannot load the settings")
