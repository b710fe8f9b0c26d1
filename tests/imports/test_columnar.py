"""The columnar check of a dry run (imports.columnar) gives the row check's result, exactly.

Each file is checked twice, by the row check and over whole columns (the size threshold
set to 0), and the two results compared field by field: counts, every error and duplicate
with its line, column and words, warnings, what the import would create (in order) and the
date formats. The files are written to trip the columnar check: bad values of every kind,
whitespace Python strips and SQL would not, case folding outside ASCII, duplicates within
the file and against the organization's leads, new sources, owners and lost reasons first
named on bad rows, two-digit years, dates in the future. A hypothesis test throws random
rows from the same pool of cells. Files DuckDB would read otherwise than Python's csv
module (a quoted line break, a blank line, a short row) fall back to the row check.
"""

from __future__ import annotations

import csv
import dataclasses
import random
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from tempfile import mkdtemp

import duckdb
import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keepscore.accounts.services import organization_create
from keepscore.imports import columnar, columnar_rules
from keepscore.imports.services import import_leads
from keepscore.leads.models import Lead
from tests.conftest import examples

pytestmark = pytest.mark.django_db(transaction=False)

HEADER = ["Name", "Email", "Phone", "Company", "Source", "Created", "Stage", "Value", "Owner"]
HEADER += ["Lost reason", "Campaign", "Id", "Revenue"]
TODAY = date.today()

NAMES = ["Ada Lovelace", "  Bo  ", "\u00a0Cleo\u00a0", "", "Dan\u2003", "Émile Zola", "x" * 201]
EMAILS = [
    "ada@example.com",
    "ADA@EXAMPLE.COM",
    "bo@example.com ",
    "not-an-email",
    "",
    "\u212aelvin@example.com",  # the Kelvin sign folds to an ASCII k
    "kelvin@example.com",
    "İnci@example.com",  # İ folds to two characters in Python
    "émile@exämple.fr",
    "a b@example.com",
    "a\u00a0b@example.com",
]
PHONES = [
    "+1 555 0100",
    "555-0100",
    "(555) 0100",
    "12",
    "",
    "\u0665\u0665\u0665\u0660\u0661\u0660\u0660\u0661",
    "+1 555 0199",
]
SOURCES = ["Walk-in", "walk-in", "Referral", " Ads ", "", "Trade show", "ads", "S" * 101]
CREATED = [
    "2024-03-01",
    "2024-03-01 10:30",
    "2024-3-1",
    "2024-02-30",
    "2024-02-29 23:59:59",
    "2023-02-29",
    "",
    "yesterday",
    "2024-03-01T10:30",
    "2024-03-01 10:30+02:00",
    "2024-03-01 2:22 PM",
    " 2024-03-01 ",
    "1899-12-31",
    (TODAY + timedelta(days=30)).isoformat(),
    (TODAY - timedelta(days=1)).isoformat(),
]
STAGES = ["", "suspect", "Prospect", "lead", "won", "lost", "Won", "nowhere", " qualified "]
VALUES = ["", "10", "10.5", "10.555", "1,234.50", "-5", "abc", "\u0663"]
OWNERS = ["", "Sam Seller", "sam@example.com", "New Person", "bad@", "Zoë"]
REASONS = ["", "Price", "price", "Timing", "R" * 101]
CAMPAIGNS = ["", "Spring", "Summer", "spring", "Autumn"]
IDS = ["", "A1", "A2", "A1 ", "B7"]


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def random_rows(rng: random.Random, n: int) -> list[list[str]]:
    pools = [NAMES, EMAILS, PHONES, ["Acme", "", "Bolt"], SOURCES, CREATED, STAGES, VALUES]
    pools += [OWNERS, REASONS, CAMPAIGNS, IDS, VALUES]
    rows = []
    for i in range(n):
        # mostly good rows, as real files are, with every kind of bad cell among them
        good = rng.random() < 0.6
        row = [
            f"Lead {i}" if good else rng.choice(NAMES),
            f"lead{i}@example.com" if good else rng.choice(EMAILS),
            f"+1 555 {i:07d}" if good else rng.choice(PHONES),
            rng.choice(["Acme", "", "Bolt"]),
            rng.choice(SOURCES[:4]) if good else rng.choice(SOURCES),
            f"2024-0{1 + i % 9}-1{i % 10} 09:1{i % 10}" if good else rng.choice(CREATED),
            rng.choice(STAGES[:6]) if good else rng.choice(STAGES),
            rng.choice(VALUES[:3]) if good else rng.choice(VALUES),
            rng.choice(OWNERS[:3]) if good else rng.choice(OWNERS),
            rng.choice(REASONS[1:4]) if good else rng.choice(REASONS),
            rng.choice(CAMPAIGNS),
            f"X{i}" if good else rng.choice(IDS),
            rng.choice(VALUES[:3]) if good else rng.choice(VALUES),
        ]
        rows.append(row)
    return rows


def outcome(result) -> dict:
    found = dataclasses.asdict(result)
    for key in ("job_id", "columnar"):
        found.pop(key)
    return found


def both(org, path: Path, **options) -> tuple[dict, dict, bool]:
    """(the row check's result, the columnar check's, whether the columnar one ran)."""
    options.setdefault("missing_dates", "now")
    with override_settings(IMPORTS_COLUMNAR_MIN_BYTES=10**12):
        by_rows = import_leads(organization=org, path=path, dry_run=True, **options)
    assert not by_rows.columnar
    with override_settings(IMPORTS_COLUMNAR_MIN_BYTES=0):
        by_columns = import_leads(organization=org, path=path, dry_run=True, **options)
    return outcome(by_rows), outcome(by_columns), by_columns.columnar


@pytest.fixture
def org(db):
    org = organization_create(name="Columns", slug="columns")
    # leads the file's rows may repeat (by id, email, phone), and a known campaign
    rows = [
        ["Kept", "ada@example.com", "", "", "Referral", "2024-01-01", "", "", "", "", "Summer"],
        ["Phone", "", "555 0199", "", "Referral", "2024-01-01", "", "", "", "", ""],
    ]
    for row in rows:
        row += ["B7" if row[0] == "Kept" else "", ""]
    done = import_leads(organization=org, path=write(Path(mkdtemp()) / "leads.csv", rows))
    assert done.created == 2 and Lead.objects.for_org(org).count() == 2
    return org


def test_a_file_of_every_trap_gives_the_row_checks_result(org, tmp_path):
    path = write(tmp_path / "traps.csv", random_rows(random.Random(7), 3000))
    rows, columns, ran = both(org, path)
    assert ran, "the columnar check must have run on this file"
    assert rows["errors_total"] > 100 and rows["duplicates"] > 10  # the traps were hit
    assert rows["would_create"]["members"] and rows["would_create"]["campaigns"]
    assert columns == rows


@pytest.mark.parametrize(
    "options",
    [
        {"match": ("email",)},
        {"match": ("phone", "external_id")},
        {"match": ()},
        {"update": True},
        {"skip_invalid": True},
        {"new_members": False},
        {"defaults": {"source": "Walk-in", "lost_reason": "Other", "revenue": "5"}},
        {"missing_dates": "error"},
    ],
)
def test_options_give_the_same_result(org, tmp_path, options):
    path = write(tmp_path / "options.csv", random_rows(random.Random(11), 800))
    rows, columns, ran = both(org, path, **options)
    assert ran
    assert columns == rows


def test_two_digit_years_and_their_formats(org, tmp_path):
    rng = random.Random(3)
    rows = [
        [f"L{i}", "", "", "", "Ads", f"{1 + i % 28:02d}-{1 + i % 12:02d}-{i % 25:02d}", "", ""]
        for i in range(400)
    ]
    rows[50][5] = "31-12-99 23:59"
    rows[60][5] = rng.choice(["30-02-20", "1-1-21", "45-01-20"])
    path = write(tmp_path / "short.csv", rows, HEADER[:8])
    by_rows, by_columns, ran = both(org, path)
    assert ran and by_rows["date_formats"] == {"Created": "DD-MM-YY"}
    assert by_columns == by_rows


def test_ambiguous_dates_are_the_same_problem(org, tmp_path):
    # the sample settles DD/MM/YYYY; a later value is ambiguous with MM/DD: the whole column
    rows = [[f"L{i}", "", "", "", "Ads", "13/01/2024", "", ""] for i in range(3000)]
    rows += [[f"M{i}", "", "", "", "Ads", "03/04/2024", "", ""] for i in range(5)]
    rows = [[f"E{i}", "", "", "", "Ads", "01/02/2024", "", ""] for i in range(3)] + rows
    path = write(tmp_path / "ambiguous.csv", rows, HEADER[:8])
    by_rows, by_columns, _ran = both(org, path)
    assert by_columns == by_rows


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text.replace("Lead 5,", '"Lead\n5",', 1),  # a quoted line break
        lambda text: text.replace("\n", "\n\n", 3),  # blank lines
        lambda text: text + "short,row\n",  # a row narrower than the header
        lambda text: text.replace("\n", "\r", 2),  # lone carriage returns
        lambda text: text + 'x,"unterminated\n',
    ],
)
def test_files_duckdb_reads_otherwise_fall_back_to_the_row_check(org, tmp_path, damage):
    path = write(tmp_path / "good.csv", random_rows(random.Random(5), 300))
    path.write_text(damage(path.read_text(encoding="utf-8")), encoding="utf-8")
    by_rows, by_columns, ran = both(org, path)
    assert not ran
    assert by_columns == by_rows


def test_a_small_file_is_checked_row_by_row(org, tmp_path):
    path = write(tmp_path / "small.csv", random_rows(random.Random(1), 50))
    result = import_leads(organization=org, path=path, dry_run=True, missing_dates="now")
    assert not result.columnar  # under settings.IMPORTS_COLUMNAR_MIN_BYTES


def test_the_import_itself_is_not_columnar(org, tmp_path):
    rows = [[f"L{i}", f"l{i}@x.org", "", "", "Ads", "2024-01-02", "", ""] for i in range(30)]
    path = write(tmp_path / "real.csv", rows, HEADER[:8])
    with override_settings(IMPORTS_COLUMNAR_MIN_BYTES=0):
        checked = import_leads(organization=org, path=path, dry_run=True)
        done = import_leads(organization=org, path=path)
    assert checked.columnar and not done.columnar
    assert done.created == checked.rows - checked.rejected - checked.duplicates == 30


CELL = st.one_of(
    st.sampled_from(NAMES + EMAILS + PHONES + SOURCES + CREATED + STAGES + VALUES + OWNERS),
    st.text(
        alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00\r\n"), max_size=8
    ),
)


@settings(max_examples=examples(25), suppress_health_check=list(HealthCheck))
@given(st.lists(st.lists(CELL, min_size=len(HEADER), max_size=len(HEADER)), max_size=40))
def test_random_rows_give_the_same_result(org, tmp_path_factory, rows):
    path = write(tmp_path_factory.mktemp("random") / "random.csv", rows)
    by_rows, by_columns, _ran = both(org, path)
    assert by_columns == by_rows


def test_whitespace_is_pythons():
    every = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert every == columnar_rules.WHITESPACE


def test_duckdb_folds_case_as_python_but_for_one_character():
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    with duckdb.connect() as duck:
        folded = [
            r[0] for r in duck.execute("SELECT lower(x) FROM unnest(?) t(x)", [chars]).fetchall()
        ]
    differ = {c for c, low in zip(chars, folded, strict=True) if c.lower() != low}
    assert differ == set(columnar_rules.LOWER_DIFFERS)


# --- the doors: the command line, the API and the app say the same either way -----------


@pytest.fixture
def ran(monkeypatch) -> list[bool]:
    """Whether each dry run was checked over whole columns, in order."""
    found: list[bool] = []
    real = columnar.check

    def check(engine, progress):
        found.append(real(engine, progress))
        return found[-1]

    monkeypatch.setattr(columnar, "check", check)
    return found


def test_the_command_lines_dry_run_says_the_same(org_a, tmp_path, ran):
    from typer.testing import CliRunner

    from keepscore.cli.main import app

    path = write(tmp_path / "traps.csv", random_rows(random.Random(21), 400))
    args = ["import", "leads", str(path), "--org", "acme", "--dry-run", "--missing-dates", "now"]
    said = []
    for threshold in (10**12, 0):
        with override_settings(IMPORTS_COLUMNAR_MIN_BYTES=threshold):
            said.append(CliRunner().invoke(app, args))
    assert ran == [False, True]
    assert said[0].exit_code == said[1].exit_code == 1  # the file has bad rows
    assert "line " in said[0].stdout and said[1].stdout == said[0].stdout
    assert (tmp_path / "traps.csv.report.csv").exists()


def test_the_apis_dry_run_answers_the_same(owner_a, tmp_path, ran):
    from tests.api.conftest import api_for

    api_a = api_for(owner_a)
    body = write(tmp_path / "traps.csv", random_rows(random.Random(22), 400)).read_bytes()
    answers = []
    for threshold in (10**12, 0):
        with override_settings(IMPORTS_COLUMNAR_MIN_BYTES=threshold):
            response = api_a.upload(
                "/import-jobs", "traps.csv", body, dry_run="true", missing_dates="now"
            )
        assert response.status_code == 201, response.content
        job = response.json()
        answers.append({k: v for k, v in job.items() if k != "id" and not k.endswith("_at")})
    assert ran == [False, True]
    assert answers[0]["status"] == "failed" and answers[0]["errors"]
    assert answers[1] == answers[0]


def test_the_apps_check_shows_the_same(org_a, tmp_path, ran):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from tests.conftest import PASSWORD

    client = Client()
    assert client.login(username="owner@acme.test", password=PASSWORD)
    body = write(tmp_path / "traps.csv", random_rows(random.Random(23), 400)).read_bytes()
    shown = []
    for threshold in (10**12, 0):
        file = SimpleUploadedFile("traps.csv", body, content_type="text/csv")
        url = client.post("/o/acme/import/", {"file": file, "kind": "leads", "preset": "plain"})[
            "Location"
        ]
        page = client.get(url).content.decode()
        data = dict(
            re.findall(
                r'<select name="(\w+)"[^>]*>.*?<option value="([^"]*)"[^>]*selected', page, re.S
            )
        )
        data.update(new_members="on", missing_dates="now", action="check")
        with override_settings(IMPORTS_COLUMNAR_MIN_BYTES=threshold):
            client.post(url, data)
        page = client.get(url).content.decode()
        result = page[page.index('<div id="import-result"') :]
        result = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", result)
        shown.append(re.sub(r"/import/\d+/", "/import/N/", result))
    assert ran == [False, True]
    assert "import-errors" in shown[0] and "import-duplicates" in shown[0]
    assert shown[1] == shown[0]


def test_status_in_seven_languages(org, tmp_path):
    header = ["Name", "Source", "Created", "Status", "Revenue", "Lost reason"]
    words = ["Gewonnen", "gagné", "Ganado", "ganho", "Vinto", "Closed Won", "WON"]
    words += ["Verloren", "perdu", "Perdido", "perso", "Closed-Lost", "lost", "", "open"]
    rows = [[f"S{i}", "Ads", "2024-02-01", w, "100", "Price"] for i, w in enumerate(words)]
    path = write(tmp_path / "status.csv", rows, header)
    by_rows, by_columns, ran = both(org, path)
    assert ran and by_columns == by_rows
    assert by_rows["would_create"]["stages"] == {"Suspect": 2, "Customer": 7, "Lost": 6}
    done = import_leads(organization=org, path=path)
    stages = dict(
        Lead.objects.for_org(org).filter(name__startswith="S").values_list("name", "stage__key")
    )
    expected = ["customer"] * 7 + ["lost"] * 6 + ["suspect"] * 2
    assert [stages[f"S{i}"] for i in range(len(words))] == expected
    assert done.created == len(words)
