"""``keepscore person export|erase`` (in-process, on the test database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keepscore.audit.models import AuditEvent
from keepscore.cli.main import app
from keepscore.leads.models import ERASED_NAME, Lead
from tests.cli.test_cli import error_line
from tests.privacy.conftest import SECRETS, Person, text_of

pytestmark = pytest.mark.django_db
runner = CliRunner()


def test_export_writes_the_json_to_standard_output(ada: Person, org_a, org_b):
    result = runner.invoke(app, ["person", "export", "--email", "ADA@example.com", "--org", "acme"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [one["id"] for one in data["leads"]] == [lead.pk for lead in ada.leads]
    assert all(s in text_of(data) for s in SECRETS)
    assert result.stderr == ""
    # recorded as done at the command line
    assert {"cli"} == set(
        AuditEvent.objects.filter(action="person_exported").values_list("via", flat=True)
    )


def test_export_to_a_file_says_how_many_leads(ada: Person, org_a, tmp_path: Path):
    out = tmp_path / "ada.json"
    result = runner.invoke(
        app, ["person", "export", "--email", "ada@example.com", "--org", "acme", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Exported 2 leads with the email ada@example.com of acme to" in result.stdout
    assert len(json.loads(out.read_text(encoding="utf-8"))["leads"]) == 2


def test_export_of_nobody_is_an_empty_list_and_a_note(org_a):
    result = runner.invoke(app, ["person", "export", "--email", "no@example.com"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["leads"] == []
    assert "No lead of acme has the email no@example.com" in result.stderr


@pytest.mark.parametrize(
    ("args", "says", "code"),
    [
        (["--email", "not-an-email"], "--email 'not-an-email': This is not an email address", 2),
        (["--email", ""], "Give the person's email address.", 2),
        (["--email", "a@example.com", "--org", "nope"], "no organization 'nope'", 1),
    ],
)
def test_bad_input_is_one_clear_line(org_a, args, says, code):
    for command in ("export", "erase"):
        yes = ["--yes"] if command == "erase" else []
        result = runner.invoke(app, ["person", command, *args, *yes])
        assert result.exit_code == code, result.output
        assert says in error_line(result)


def test_export_to_a_folder_that_does_not_exist_fails_cleanly(ada: Person, tmp_path: Path):
    out = tmp_path / "missing" / "ada.json"
    result = runner.invoke(app, ["person", "export", "--email", ada.email, "--out", str(out)])
    assert "cannot write" in error_line(result) and not out.exists()


def test_erase_asks_first_and_does_nothing_without_a_yes(ada: Person, org_a):
    for answer in ("n\n", "\n", ""):
        result = runner.invoke(
            app, ["person", "erase", "--email", ada.email, "--org", "acme"], input=answer
        )
        assert result.exit_code == 1, result.output
        assert "To erase for ada@example.com in acme: 2 leads, 1 later touch" in result.stdout
        assert "not erased: not confirmed" in result.stderr
    assert Lead.objects.filter(name=ERASED_NAME).count() == 0


def test_erase_confirmed_prints_the_counts_then_finds_nothing(ada: Person, org_a):
    result = runner.invoke(
        app, ["person", "erase", "--email", "Ada@Example.com", "--org", "acme"], input="y\n"
    )
    assert result.exit_code == 0, result.output
    assert (
        "Erased Ada@Example.com in acme: 2 leads, 1 later touch, 2 stage changes, 1 correction, "
        "1 deal outcome, 3 activities, 2 objections, 1 follow-up, 1 web form submission. "
        "Their history still counts in every figure."
    ) in result.stdout
    assert Lead.objects.filter(name=ERASED_NAME).count() == 2
    assert set(AuditEvent.objects.filter(action="erased").values_list("via", flat=True)) == {"cli"}
    again = runner.invoke(app, ["person", "erase", "--email", ada.email, "--yes"])
    assert again.exit_code == 0
    assert "No lead has the email ada@example.com in acme: nothing to erase." in again.stdout
    assert AuditEvent.objects.filter(action="erased").count() == 2


def test_the_command_is_listed(db):
    result = runner.invoke(app, ["person", "--help"])
    assert result.exit_code == 0 and "export" in result.stdout and "erase" in result.stdout
