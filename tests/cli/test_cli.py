"""The ``keepscore`` command line: in-process with CliRunner (the test database) and, where a
real process matters (serving, an unreachable database), as a subprocess."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import authenticate
from typer.testing import CliRunner, Result

from keepscore.accounts.models import Membership, Organization, User
from keepscore.cli.common import CliError, mask_url, organization_resolve
from keepscore.cli.main import app
from keepscore.leads.models import Lead

runner = CliRunner()
PASSWORD_LINE = re.compile(r"Password for (\S+): (\S+)")


def invoke(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, list(args), input=input)


def error_line(result: Result) -> str:
    """The error a failed command printed: exactly one line on stderr, no traceback."""
    assert result.exit_code in (1, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def printed_password(result: Result) -> tuple[str, str]:
    match = PASSWORD_LINE.search(result.stdout)
    assert match, result.stdout
    return match.group(1), match.group(2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def subprocess_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY")}
    env.update(
        KEEPSCORE_HOME=str(home),
        DJANGO_SETTINGS_MODULE="keepscore.config.settings",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


KEEPSCORE = [sys.executable, "-m", "keepscore.cli.main"]


# --- help -------------------------------------------------------------------------------


def test_help_lists_every_command() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("init", "migrate", "serve", "demo", "createuser", "setpassword"):
        assert command in result.stdout
    for command in ("init", "migrate", "serve", "demo", "createuser", "setpassword"):
        sub = invoke(command, "--help")
        assert sub.exit_code == 0, sub.output
        assert "--help" in sub.stdout


def test_no_arguments_shows_help() -> None:
    result = invoke()
    assert "init" in result.output
    assert "Traceback" not in result.output


def test_usage_errors_are_one_line_in_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run(
        [*KEEPSCORE, "serve", "--port", "not-a-number"],
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "--port" in lines[0] and "keepscore serve --help" in lines[0]


# --- init -------------------------------------------------------------------------------


def test_init_no_input_creates_organization_and_owner_with_a_working_password(db: Any) -> None:
    result = invoke("init", "--org", "acme", "--owner", "Boss@Acme.test", "--no-input")
    assert result.exit_code == 0, result.output
    email, password = printed_password(result)
    organization = Organization.objects.get(slug="acme")
    assert organization.name == "Acme"
    membership = Membership.objects.get(organization=organization)
    assert membership.is_owner and membership.is_marketing and membership.is_sales
    assert authenticate(None, username=membership.user.email, password=password) is not None
    assert email == membership.user.email
    assert "login" in result.stdout


def test_init_reads_the_password_file_and_prints_no_password(db: Any, tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("a-long-enough-passphrase-7\n")
    result = invoke(
        "init", "--org", "bakery", "--owner", "ann@bakery.test", "--name", "Ann's Bakery",
        "--password-file", str(secret), "--no-input",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert PASSWORD_LINE.search(result.stdout) is None
    assert Organization.objects.get(slug="bakery").name == "Ann's Bakery"
    user = authenticate(None, username="ann@bakery.test", password="a-long-enough-passphrase-7")
    assert user is not None


def test_init_interactive_asks_for_everything(db: Any) -> None:
    answers = "Corner Cafe\n\ncafe@corner.test\nlong-secret-pass-42\nlong-secret-pass-42\n"
    result = invoke("init", input=answers)
    assert result.exit_code == 0, result.output
    organization = Organization.objects.get(slug="corner-cafe")
    assert organization.name == "Corner Cafe"
    assert authenticate(None, username="cafe@corner.test", password="long-secret-pass-42")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--org", "Bad Slug!", "--owner", "x@y.test"], "slug"),
        (["--org", "-acme", "--owner", "x@y.test"], "slug"),
        (["--org", "okslug", "--owner", "not-an-email"], "email"),
    ],
)
def test_init_refuses_bad_input_and_creates_nothing(
    db: Any, args: list[str], expected: str
) -> None:
    result = invoke("init", *args, "--no-input")
    assert result.exit_code != 0
    assert expected in error_line(result)
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def test_init_refuses_a_duplicate_organization(org_a: Organization) -> None:
    users = User.objects.count()
    result = invoke("init", "--org", "acme", "--owner", "new@acme.test", "--no-input")
    assert result.exit_code == 1
    assert "acme" in error_line(result) and "exists" in error_line(result)
    assert Organization.objects.count() == 1
    assert User.objects.count() == users


def test_init_refuses_a_weak_password_and_creates_nothing(db: Any, tmp_path: Path) -> None:
    weak = tmp_path / "pw"
    weak.write_text("123\n")
    result = invoke(
        "init", "--org", "acme", "--owner", "x@acme.test", "--password-file", str(weak),
        "--no-input",
    )  # fmt: skip
    assert result.exit_code == 1
    assert error_line(result).startswith("error: password:")
    assert not Organization.objects.exists() and not User.objects.exists()


def test_init_no_input_needs_org_and_owner(db: Any) -> None:
    result = invoke("init", "--org", "acme", "--no-input")
    assert result.exit_code == 2
    assert "--owner" in error_line(result)


def test_init_makes_an_existing_user_the_owner_of_a_second_organization(
    org_a: Organization,
) -> None:
    result = invoke("init", "--org", "second", "--owner", "owner@acme.test", "--no-input")
    assert result.exit_code == 0, result.output
    assert PASSWORD_LINE.search(result.stdout) is None
    assert Membership.objects.get(organization__slug="second").user.email == "owner@acme.test"


# --- createuser -------------------------------------------------------------------------


def test_createuser_with_roles_in_the_only_organization(org_a: Organization) -> None:
    result = invoke(
        "createuser", "--email", "sam@acme.test", "--role", "sales", "--role", "marketing",
        "--marketing-share", "30", "--no-input",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    membership = Membership.objects.get(organization=org_a, user__email="sam@acme.test")
    assert (membership.is_owner, membership.is_marketing, membership.is_sales) == (
        False,
        True,
        True,
    )
    assert membership.marketing_share == 30
    _, password = printed_password(result)
    assert authenticate(None, username="sam@acme.test", password=password) is not None


def test_createuser_no_login_makes_a_member_without_password(org_a: Organization) -> None:
    result = invoke(
        "createuser", "--email", "rep@acme.test", "--role", "sales", "--no-login", "--no-input"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD_LINE.search(result.stdout) is None
    assert not User.objects.get(email="rep@acme.test").has_usable_password()


def test_setpassword_lets_a_member_without_login_log_in(
    org_a: Organization, tmp_path: Path
) -> None:
    from django.contrib.auth import authenticate

    invoke("createuser", "--email", "rep@acme.test", "--role", "sales", "--no-login", "--no-input")
    result = invoke("setpassword", "--email", "REP@acme.test", "--no-input")
    assert result.exit_code == 0, result.output
    email, password = printed_password(result)
    assert email == "rep@acme.test"
    assert authenticate(email="rep@acme.test", password=password) is not None

    weak = tmp_path / "weak"
    weak.write_text("123\n")
    result = invoke("setpassword", "--email", "rep@acme.test", "--password-file", str(weak))
    assert result.exit_code != 0 and "password" in error_line(result)
    assert authenticate(email="rep@acme.test", password=password) is not None

    result = invoke("setpassword", "--email", "nobody@acme.test", "--no-input")
    assert result.exit_code != 0 and "nobody@acme.test" in error_line(result)


def test_createuser_needs_org_when_there_are_two(org_a: Organization, org_b: Organization) -> None:
    result = invoke("createuser", "--email", "x@acme.test", "--role", "sales", "--no-input")
    line = error_line(result)
    assert result.exit_code == 2
    assert "--org" in line and "acme" in line and "bravo" in line
    assert not User.objects.filter(email="x@acme.test").exists()

    result = invoke(
        "createuser", "--email", "x@acme.test", "--org", "bravo", "--role", "owner", "--no-input"
    )
    assert result.exit_code == 0, result.output
    assert Membership.objects.get(user__email="x@acme.test").organization == org_b


def test_createuser_unknown_org_lists_the_known_ones(org_a: Organization) -> None:
    result = invoke("createuser", "--email", "x@a.test", "--org", "nope", "--role", "sales")
    line = error_line(result)
    assert "nope" in line and "acme" in line


def test_createuser_needs_a_role_without_input(org_a: Organization) -> None:
    result = invoke("createuser", "--email", "x@acme.test", "--no-input")
    assert result.exit_code == 2
    assert "--role" in error_line(result)


def test_createuser_refuses_an_existing_member(org_a: Organization) -> None:
    result = invoke("createuser", "--email", "owner@acme.test", "--role", "sales", "--no-input")
    assert "already a member" in error_line(result)


def test_createuser_adds_an_existing_user_to_another_organization(
    org_a: Organization, org_b: Organization
) -> None:
    result = invoke(
        "createuser", "--email", "owner@acme.test", "--org", "bravo", "--role", "sales",
        "--no-input",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert PASSWORD_LINE.search(result.stdout) is None
    assert Membership.objects.filter(user__email="owner@acme.test").count() == 2


def test_createuser_interactive_asks_again_for_a_weak_password(org_a: Organization) -> None:
    answers = "short\nshort\nanother-long-secret-8\nanother-long-secret-8\n"
    result = invoke("createuser", "--email", "kim@acme.test", "--role", "sales", input=answers)
    assert result.exit_code == 0, result.output
    assert "Try again" in result.stdout
    assert PASSWORD_LINE.search(result.stdout) is None
    assert authenticate(None, username="kim@acme.test", password="another-long-secret-8")


def test_createuser_without_any_organization(db: Any) -> None:
    result = invoke("createuser", "--email", "x@a.test", "--role", "sales", "--no-input")
    assert "keepscore init" in error_line(result)


# --- the organization helper ------------------------------------------------------------


def test_organization_resolve(org_a: Organization, org_b: Organization) -> None:
    assert organization_resolve("bravo") == org_b
    assert organization_resolve(" ACME ") == org_a
    with pytest.raises(CliError) as error:
        organization_resolve(None)
    assert error.value.code == 2
    assert "acme, bravo" in error.value.message


def test_mask_url_hides_the_password() -> None:
    assert mask_url("postgres://u:secret@db.example:5432/x") == "postgres://u:***@db.example:5432/x"
    assert mask_url("sqlite:////tmp/x.sqlite3") == "sqlite:////tmp/x.sqlite3"


# --- migrate ----------------------------------------------------------------------------


def test_migrate_says_the_database_is_up_to_date(db: Any) -> None:
    result = invoke("migrate")
    assert result.exit_code == 0, result.output
    assert "up to date" in result.stdout


# --- serve ------------------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_serve_on_a_port_in_use_exits_with_one_line(busy_port: int) -> None:
    result = invoke("serve", "--port", str(busy_port))
    assert result.exit_code == 1
    line = error_line(result)
    assert f"port {busy_port}" in line and "in use" in line and "--port" in line


def test_serve_on_a_port_in_use_as_a_process(busy_port: int, tmp_path: Path) -> None:
    done = subprocess.run(
        [*KEEPSCORE, "serve", "--port", str(busy_port)],
        env=subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().count("\n") == 0
    assert "in use" in done.stderr


def test_serve_with_an_unreachable_database_hides_the_password(tmp_path: Path) -> None:
    done = subprocess.run(
        [*KEEPSCORE, "serve", "--port", str(free_port())],
        env=subprocess_env(tmp_path, DATABASE_URL="postgres://u:secret@127.0.0.1:1/x"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "Traceback" not in output
    assert "secret" not in output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "cannot reach the database" in lines[0]
    assert "postgres://u:***@127.0.0.1:1/x" in lines[0]


def test_serve_runs_gunicorn_and_answers(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*KEEPSCORE, "serve", "--port", str(port), "--workers", "1", "--no-access-log"],
        env=subprocess_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        status = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as r:
                    status = r.status
                break
            except urllib.error.HTTPError as error:
                status = error.code
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200, (status, process.poll())
        assert (tmp_path / "keepscore.sqlite3").exists()  # migrated on the way
        assert (tmp_path / "static").is_dir()  # static files collected
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out
    assert "Traceback" not in out + err


# --- demo -------------------------------------------------------------------------------


def test_demo_prints_the_login_and_keeps_an_existing_demo(db: Any) -> None:
    args = ["demo", "--org", "demo-cli", "--months", "4", "--today", "2025-06-30"]
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "owner@demo-cli.keepscore.test" in result.stdout
    assert "demo-owner-2024" in result.stdout
    assert "/login/" in result.stdout
    organization = Organization.objects.get(slug="demo-cli")
    assert authenticate(None, username="owner@demo-cli.keepscore.test", password="demo-owner-2024")

    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert "exists already" in again.stdout
    assert "demo-owner-2024" in again.stdout
    assert Organization.objects.get(slug="demo-cli").pk == organization.pk

    reset = invoke(*args, "--reset")
    assert reset.exit_code == 0, reset.output
    assert Organization.objects.get(slug="demo-cli").pk != organization.pk
    assert "demo-owner-2024" in reset.stdout

    # the months are checked (by the service's rule) before a demo asked for again is deleted
    made = Organization.objects.get(slug="demo-cli").pk
    for months in ("0", "121"):
        bad = invoke("demo", "--org", "demo-cli", "--months", months, "--reset")
        assert bad.exit_code != 0
        assert "months: Give between 1 and 120 months of history." in error_line(bad)
        assert Organization.objects.get(slug="demo-cli").pk == made


def test_demo_of_a_single_month(db: Any) -> None:
    result = invoke("demo", "--org", "demo-one", "--months", "1", "--today", "2025-06-30")
    assert result.exit_code == 0, result.output
    assert "(1 month)" in result.stdout
    days = Lead.objects.filter(organization__slug="demo-one").values_list(
        "first_touch_at", flat=True
    )
    assert days and {d.date().replace(day=1) for d in days} <= {date(2025, 6, 1)}


def test_demo_never_resets_a_real_organization(org_a: Organization) -> None:
    result = invoke("demo", "--org", "acme", "--reset")
    assert "not a demo" in error_line(result)
    assert Organization.objects.filter(pk=org_a.pk).exists()


def test_demo_rejects_a_bad_date(db: Any) -> None:
    result = invoke("demo", "--today", "30/06/2025")
    assert result.exit_code == 2
    assert "--today" in error_line(result)
