"""Rows as real files have them (issue 13): a close date by the row's stage, one column to
several fields, lead facts from any column, defaults for the file, contradictions as errors,
and rows without a date of first contact. Through the engine and ``keepscore import leads``."""

from __future__ import annotations

import csv
import zoneinfo
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings

from keepscore.accounts.models import Membership, Organization
from keepscore.imports.models import ImportJob
from keepscore.imports.report import ImportResult
from keepscore.imports.services import import_leads
from keepscore.leads.models import DealOutcome, Lead, StageChange
from tests.imports.conftest import write_csv
from tests.imports.test_cli import invoke


def _at(text: str) -> datetime:
    day = datetime.fromisoformat(text)
    return day.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def run(org: Organization, path: Path, **options: Any) -> ImportResult:
    return import_leads(organization=org, path=path, **options)


def errors(result: ImportResult) -> list[tuple[int, str]]:
    return [(e.line, e.column) for e in result.errors]


def history(lead: Lead) -> list[tuple[str, datetime]]:
    changes = StageChange.objects.filter(lead=lead).order_by("at", "id").select_related("to_stage")
    return [(c.to_stage.key, c.at) for c in changes]


# --- the close date ----------------------------------------------------------------------

CLOSE = ["name", "source", "stage", "created", "Close date", "revenue", "lost_reason"]


def test_the_close_date_is_the_won_date_of_won_rows_and_the_lost_date_of_lost_rows(
    org_a: Organization, tmp_path: Path
) -> None:
    rows = [
        CLOSE,
        ["Won Co", "Email", "customer", "2024-01-02", "2024-02-03", "500", ""],
        ["Lost Co", "Email", "lost", "2024-01-04", "2024-02-05", "", "Price"],
        ["Open Co", "Email", "lead", "2024-01-06", "", "", ""],
    ]
    result = run(org_a, write_csv(tmp_path / "f.csv", rows))
    assert not result.failed, result.errors
    assert result.columns["Close date"] == "closed_at"  # found by its header's words
    assert (result.created, result.outcomes) == (3, 2)
    won = Lead.objects.get(organization=org_a, name="Won Co")
    lost = Lead.objects.get(organization=org_a, name="Lost Co")
    assert history(won) == [("suspect", _at("2024-01-02")), ("customer", _at("2024-02-03"))]
    assert history(lost) == [("suspect", _at("2024-01-04")), ("lost", _at("2024-02-05"))]
    outcomes = {o.lead_id: o for o in DealOutcome.objects.for_org(org_a)}
    assert (outcomes[won.pk].result, outcomes[won.pk].at) == ("won", _at("2024-02-03"))
    assert outcomes[won.pk].revenue == Decimal("500.00")
    assert (outcomes[lost.pk].result, outcomes[lost.pk].at) == ("lost", _at("2024-02-05"))
    # never a won outcome on a lost row (the 200 won outcomes for 167 wins)
    assert DealOutcome.objects.filter(lead=lost, result="won").count() == 0


def test_an_open_deal_with_a_close_date_is_an_error_naming_the_column(
    org_a: Organization, tmp_path: Path
) -> None:
    rows = [CLOSE, ["Open Co", "Email", "lead", "2024-01-06", "2024-02-01", "", ""]]
    result = run(org_a, write_csv(tmp_path / "f.csv", rows))
    assert result.failed and errors(result) == [(2, "Close date")]
    assert "an open deal has no close date" in result.errors[0].reason
    assert "Lead" in result.errors[0].reason  # the row's stage, by its name
    assert not Lead.objects.for_org(org_a).exists()


def test_the_cli_maps_the_close_date_by_its_label(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        ["who", "how", "state", "when", "ended", "amount"],
        ["Ada", "Email", "Won", "2024-01-02", "2024-01-09", "10"],
    ]
    path = write_csv(tmp_path / "f.csv", rows)
    result = invoke(
        "leads", str(path), "--org", "acme",
        "--map", "who=name", "--map", "how=source", "--map", "state=stage",
        "--map", "when=created", "--map", "ended=Close date", "--map", "amount=revenue",
        "--stage-map", "Won=customer",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    outcome = DealOutcome.objects.get(organization=org_a)
    assert (outcome.result, outcome.at, outcome.revenue) == (
        "won",
        _at("2024-01-09"),
        Decimal("10.00"),
    )


# --- one column, several fields ------------------------------------------------------------


def test_one_column_feeds_several_fields(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        ["name", "source", "Engage date", "stage"],
        ["Ada", "Email", "2024-03-01", "lead"],
        ["Bo", "Email", "2024-03-02", "qualified"],
    ]
    path = write_csv(tmp_path / "f.csv", rows)
    result = invoke("leads", str(path), "--org", "acme", "--map", "Engage date=created,lead_at")
    assert result.exit_code == 0, result.output
    ada = Lead.objects.get(organization=org_a, name="Ada")
    bo = Lead.objects.get(organization=org_a, name="Bo")
    # the engage date is both the first touch and the date of entering lead
    assert ada.first_touch_at == _at("2024-03-01")
    assert history(ada) == [("lead", _at("2024-03-01"))]
    assert history(bo) == [("lead", _at("2024-03-02")), ("qualified", _at("2024-03-02"))]
    # the engine's summary says where the column went
    done = run(org_a, path, mapping={"Engage date": "created, Date of entering Lead"})
    assert done.columns["Engage date"] == "created,lead_at"
    assert done.duplicates == 0 and done.created == 2  # no email: not duplicates


def test_a_bad_target_among_several_is_named(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["name", "source", "d"], ["Ada", "Email", "2024-01-01"]])
    result = invoke("leads", str(path), "--org", "acme", "--map", "d=created,nonsense")
    assert result.exit_code == 1
    assert "--map d: 'nonsense' is not a field" in result.stderr
    assert not Lead.objects.for_org(org_a).exists()


# --- lead facts ----------------------------------------------------------------------------


def test_any_column_can_be_kept_as_a_lead_fact(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        ["name", "source", "created", "Product", "Size"],
        ["Ada", "Email", "2024-01-01", "GTX Pro", "big"],
        ["Bo", "Email", "2024-01-02", "", "small"],
    ]
    path = write_csv(tmp_path / "f.csv", rows)
    result = invoke(
        "leads", str(path), "--org", "acme", "--map", "Product=fact:product",
        "--map", "Size=fact:size",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    facts = dict(Lead.objects.for_org(org_a).values_list("name", "facts"))
    assert facts == {"Ada": {"product": "GTX Pro", "size": "big"}, "Bo": {"size": "small"}}


def test_a_file_without_facts_keeps_none(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source", "created", "Product"], ["Ada", "Email", "2024-01-01", "GTX"]]
    result = run(org_a, write_csv(tmp_path / "f.csv", rows))
    assert result.created == 1 and "Product" in result.ignored_columns
    assert Lead.objects.get(organization=org_a).facts == {}


def test_facts_are_limited(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        ["name", "source", "created", "Product"],
        ["Ada", "Email", "2024-01-01", "x" * 201],
        ["Bo", "Email", "2024-01-01", "x" * 200],
    ]
    path = write_csv(tmp_path / "f.csv", rows)
    result = run(org_a, path, mapping={"Product": "fact:product"})
    assert result.failed and errors(result) == [(2, "Product")]
    assert "longer than 200 characters" in result.errors[0].reason
    long_name = run(org_a, path, mapping={"Product": "fact:" + "n" * 51})
    assert long_name.failed and "longer than 50 characters" in long_name.problems[0]
    empty = run(org_a, path, mapping={"Product": "fact:"})
    assert empty.failed and "'fact:' is not a field" in empty.problems[0]
    twice = run(org_a, path, mapping={"Product": "fact:p", "name": "name,fact:p"})
    assert twice.failed and "both kept as the fact 'p'" in twice.problems[0]
    assert not Lead.objects.for_org(org_a).exists()


# --- defaults ------------------------------------------------------------------------------


def test_defaults_fill_the_rows_without_a_value(
    org_a: Organization, owner_a: Membership, tmp_path: Path
) -> None:
    rows = [
        ["name", "created", "stage", "owner", "source"],
        ["Ada", "2024-01-01", "lost", "", ""],
        ["Bo", "2024-01-02", "lead", "owner@acme.test", "Referral"],
    ]
    path = write_csv(tmp_path / "f.csv", rows)
    refused = run(org_a, path)
    assert errors(refused) == [(2, "source"), (2, "Lost reason")]
    assert "--default" in refused.errors[0].reason or "--default" in refused.errors[1].reason
    result = invoke(
        "leads", str(path), "--org", "acme", "--default", "source=Sales team",
        "--default", "Lost reason=Not recorded", "--default", "owner=owner@acme.test",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ada = Lead.objects.select_related("channel").get(organization=org_a, name="Ada")
    bo = Lead.objects.select_related("channel").get(organization=org_a, name="Bo")
    assert ada.channel.name == "Sales team" and bo.channel.key == "referral"
    assert ada.owner == owner_a and bo.owner == owner_a
    outcome = DealOutcome.objects.select_related("lost_reason").get(lead=ada)
    assert outcome.lost_reason is not None and outcome.lost_reason.name == "Not recorded"


def test_a_default_source_stands_for_a_missing_column(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["name", "created"], ["Ada", "2024-01-01"]])
    refused = run(org_a, path)
    assert refused.problems == [
        "missing required column: Source (marketing channel) "
        "(or give every row one with --default source=…)"
    ]
    done = run(org_a, path, defaults={"Source": "Flyers"})
    assert done.created == 1 and done.new_channels == ["Flyers"]


def test_a_default_overrides_the_presets(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        ["Record ID", "First Name", "Lifecycle Stage", "Create Date"],
        ["1", "Ada", "customer", "2024-01-01"],
    ]
    path = write_csv(tmp_path / "hubspot.csv", rows)
    result = run(org_a, path, preset="hubspot", defaults={"revenue": "250", "source": "Fairs"})
    assert not result.failed, (result.problems, result.errors)
    outcome = DealOutcome.objects.select_related("lead__channel").get(organization=org_a)
    assert outcome.revenue == Decimal("250.00")  # not the preset's 0
    assert outcome.lead.channel.name == "Fairs"  # not the preset's "unknown"


def test_the_stage_company_and_created_defaults(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "company", "source", "stage", "created"], ["", "", "Email", "", ""]]
    path = write_csv(tmp_path / "f.csv", rows)
    defaults = {"company": "No account", "stage": "Qualified", "created": "2023-05-06"}
    result = run(org_a, path, defaults=defaults)
    assert result.created == 1, result.errors
    lead = Lead.objects.select_related("stage").get(organization=org_a)
    assert (lead.name, lead.company, lead.stage.key) == ("No account", "No account", "qualified")
    assert lead.first_touch_at == _at("2023-05-06") and not result.warnings


def test_bad_defaults_are_usage_errors(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["name", "source"], ["Ada", "Email"]])
    for option, words in [
        ("email=a@x.test", "'email' is not a field that takes a default"),
        ("nonsense=1", "'nonsense' is not a field that takes a default"),
        ("revenue=lots", "--default revenue (Revenue (won)): 'lots' is not an amount"),
        ("stage=heaven", "'heaven' is not a stage of the ladder"),
        ("created=31/12/2024", "is not a date in YYYY-MM-DD"),
        ("created=1850-01-01", "before 1900"),
        ("source=", "the value is empty"),
        ("source", "is not FIELD=VALUE"),
    ]:
        result = invoke("leads", str(path), "--org", "acme", "--default", option)
        assert result.exit_code == 2, (option, result.output)
        assert words in result.stderr, (option, result.stderr)
    assert not Lead.objects.for_org(org_a).exists()
    assert not ImportJob.objects.for_org(org_a).exists()  # refused before the import


# --- contradictions ------------------------------------------------------------------------


def test_contradictions_are_row_errors(org_a: Organization, tmp_path: Path) -> None:
    header = ["name", "source", "stage", "created", "won_at", "lost_at", "revenue", "lost_reason"]
    rows = [
        header,
        ["Lost with a won date", "Email", "lost", "2024-01-01", "2024-01-05", "", "", "Price"],
        ["Both", "Email", "", "2024-01-01", "2024-01-05", "2024-01-06", "9", "Price"],
        ["Won without a lost date", "Email", "customer", "2024-01-01", "", "2024-01-07", "9", ""],
        ["Before the first touch", "Email", "", "2024-01-10", "2024-01-05", "", "9", ""],
        ["Won without revenue", "Email", "customer", "2024-01-01", "2024-01-05", "", "", ""],
        ["Too old", "Email", "", "1899-12-31", "", "", "", ""],
        ["Fine", "Email", "customer", "2024-01-01", "2024-01-05", "", "9", ""],
    ]
    result = run(org_a, write_csv(tmp_path / "f.csv", rows))
    assert result.failed and result.rejected == 6
    by_line = {e.line: (e.column, e.reason) for e in result.errors}
    assert by_line[2] == ("won_at", "a lost deal has no won date (the row's stage is Lost)")
    assert by_line[3][0] == "lost_at" and by_line[3][1].startswith(
        "a deal is won or lost, not both"
    )
    assert by_line[4] == ("lost_at", "a won deal has no lost date (the row's stage is Customer)")
    assert by_line[5] == ("won_at", "is before the lead's first touch (Date of first contact)")
    assert by_line[6][0] == "revenue" and "the cell is empty" in by_line[6][1]
    assert by_line[7] == ("created", "'1899-12-31' is before 1900")
    assert 8 not in by_line
    assert not Lead.objects.for_org(org_a).exists()


def test_a_won_row_without_revenue_takes_the_given_default(
    org_a: Organization, tmp_path: Path
) -> None:
    rows = [
        ["name", "source", "stage", "created", "revenue", "value"],
        ["Ada", "Email", "customer", "2024-01-01", "", "70"],
    ]
    path = write_csv(tmp_path / "f.csv", rows)
    assert errors(run(org_a, path)) == [(2, "revenue")]  # not the value: revenue is mapped
    done = run(org_a, path, defaults={"revenue": "0"})
    assert done.created == 1
    assert DealOutcome.objects.get(organization=org_a).revenue == Decimal("0.00")


# --- rows without a date of first contact ------------------------------------------------


def test_a_row_without_a_date_is_an_error_by_default(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source", "created"], ["Ada", "Email", "2024-01-01"], ["Bo", "Email", ""]]
    path = write_csv(tmp_path / "f.csv", rows)
    result = invoke("leads", str(path), "--org", "acme")
    assert result.exit_code == 1
    assert (
        "line 3, column created: no date of first contact (created); choose --missing-dates "
        "now to use the moment of import"
    ) in result.stdout
    assert not Lead.objects.for_org(org_a).exists()


def test_missing_dates_now_is_the_moment_of_import_with_a_warning(
    org_a: Organization, tmp_path: Path
) -> None:
    rows = [["name", "source", "created"], ["Ada", "Email", "2024-01-01"], ["Bo", "Email", ""]]
    path = write_csv(tmp_path / "f.csv", rows)
    before = datetime.now(tz=zoneinfo.ZoneInfo("UTC"))
    result = invoke("leads", str(path), "--org", "acme", "--missing-dates", "now")
    assert result.exit_code == 0, result.output
    assert "1 warnings" in result.stdout
    bo = Lead.objects.get(organization=org_a, name="Bo")
    assert bo.first_touch_at >= before.replace(microsecond=0)
    assert Lead.objects.get(organization=org_a, name="Ada").first_touch_at == _at("2024-01-01")
    with (tmp_path / "f.csv.report.csv").open(newline="") as f:
        report = list(csv.reader(f))
    warning = "warning: no date of first contact (created): the moment of import is used"
    assert report == [["line", "column", "problem", "matched_lead"], ["3", "created", warning, ""]]
    job = ImportJob.objects.for_org(org_a).get()
    assert job.report["warnings_total"] == 1 and job.report["warnings"][0][:2] == [3, "created"]
    bad = invoke("leads", str(path), "--org", "acme", "--missing-dates", "later")
    assert bad.exit_code == 2 and "--missing-dates" in bad.stderr


def test_an_earliest_stage_date_is_the_first_touch(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        ["name", "source", "stage", "lead_at", "won_at", "revenue"],
        ["Ada", "Email", "customer", "2024-02-01", "2024-03-01", "5"],
    ]
    result = run(org_a, write_csv(tmp_path / "f.csv", rows))
    assert result.created == 1 and not result.warnings
    lead = Lead.objects.get(organization=org_a)
    assert lead.first_touch_at == _at("2024-02-01")
    assert history(lead) == [("lead", _at("2024-02-01")), ("customer", _at("2024-03-01"))]


def test_a_file_without_a_created_column(org_a: Organization, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "f.csv", [["name", "source"], ["Ada", "Email"], ["Bo", "Email"]])
    refused = run(org_a, path)
    assert errors(refused) == [(2, "created"), (3, "created")]
    done = run(org_a, path, missing_dates="now")
    assert done.created == 2 and done.warnings_total == 2


def test_the_cli_names_a_contradiction(org_a: Organization, tmp_path: Path) -> None:
    rows = [
        ["name", "source", "stage", "created", "Close date", "won_at", "lost_reason"],
        ["Ada", "Email", "Lost", "2024-01-01", "2024-02-01", "2024-02-01", "Price"],
    ]
    result = invoke("leads", str(write_csv(tmp_path / "f.csv", rows)), "--org", "acme")
    assert result.exit_code == 1
    assert "line 2, column won_at: a lost deal has no won date" in result.stdout
    assert not Lead.objects.for_org(org_a).exists()


# --- the fast path -------------------------------------------------------------------------


def _parser_name(org: Organization, path: Path, **options: Any) -> str:
    from keepscore.imports.presets import preset_get
    from keepscore.imports.readers import table_open
    from keepscore.imports.writing import LeadImport

    engine = LeadImport(
        organization=org,
        table=table_open(path),
        preset=preset_get("plain"),
        date_format=None,
        stage_map={},
        owner_map={},
        new_members=True,
        result=ImportResult(kind="leads", file=path.name, preset="plain"),
        **{"mapping": {}, **options},
    )
    engine.dates_detect()
    return engine.row_parser([], False).__name__


def test_plain_files_stay_on_the_fast_path(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source", "created", "Product"], ["Ada", "Email", "2024-01-01", "GTX"]]
    path = write_csv(tmp_path / "f.csv", rows)
    assert _parser_name(org_a, path) == "parse"
    assert _parser_name(org_a, path, defaults={"source": "x", "lost_reason": "y"}) == "parse"
    # what the fast path does not read: every row read by the complete one
    assert _parser_name(org_a, path, mapping={"Product": "fact:product"}) == "watch_only"
    assert _parser_name(org_a, path, defaults={"owner": "Ann"}) == "watch_only"
    assert _parser_name(org_a, path, mapping={"created": "created,lead_at"}) == "watch_only"
    dateless = write_csv(tmp_path / "g.csv", [["name", "source"], ["Ada", "Email"]])
    assert _parser_name(org_a, dateless, missing_dates="now") == "watch_only"


def test_a_skipped_duplicate_has_no_warning(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "email", "source"], ["Ada", "a@x.test", "Email"], ["Ada", "a@x.test", "Email"]]
    result = run(org_a, write_csv(tmp_path / "f.csv", rows), missing_dates="now")
    assert (result.created, result.duplicates) == (1, 1)
    assert [(w.line, w.column) for w in result.warnings] == [(2, "created")]
    assert result.warnings_total == 1
