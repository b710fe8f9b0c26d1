"""Files the import cannot read: each one clear line naming what is wrong and what to do,
the same from the command line, the web upload and the API's import jobs; nothing imported.

Encodings other than UTF-8 and Windows-1252 are named (charset-normalizer) and can be chosen;
an XLSX without a sheet, past the row or column limit or over the unpacked-size budget stops
at once.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from typer.testing import CliRunner

from keepscore.accounts.models import Membership, Organization
from keepscore.cli.main import app
from keepscore.imports.models import ImportJob
from keepscore.imports.readers import FileProblem, rows_with_retry, table_open
from keepscore.imports.services import import_leads
from keepscore.leads.models import Lead
from tests.api.conftest import api_for
from tests.conftest import PASSWORD
from tests.imports.damaged import csv_text, xlsx_bytes
from tests.imports.test_views import form_data

#: what a person should never be shown: a Python exception's name or a traceback
INTERNAL = re.compile(r"\b[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*\b|Error\b|Exception\b|Traceback")


def assert_clear(message: str) -> None:
    """One line, not empty, without an internal exception name."""
    assert message and message == message.strip(), repr(message)
    assert "\n" not in message and len(message) < 700, message
    assert not INTERNAL.search(message.replace("LibreOffice", "")), message


def failed(org: Organization, path: Path, **options: Any) -> str:
    """The one problem of an import that must fail, checked to be clear; nothing imported."""
    result = import_leads(organization=org, path=path, **options)
    assert result.failed and not result.imported
    assert not Lead.objects.for_org(org).exists()
    assert len(result.problems) == 1, result.problems
    assert_clear(result.problems[0])
    return result.problems[0]


PEOPLE = {
    "gb18030": ["张伟", "王芳", "北京市朝阳区"],
    "cp437": ["Jürgen Müß", "Öl ½ ░▒▓", "Straße"],
    "mac_roman": ["Renée Ørsted", "Café – “quoted”", "≠ ∆ •"],  # noqa: RUF001
    "cp1251": ["Иван Петров", "Мария Сидорова", "Москва"],
    "shift_jis": ["山田太郎", "鈴木花子", "東京都"],
}


def people_csv(path: Path, encoding: str, rows: int = 30) -> tuple[Path, list[str]]:
    names = PEOPLE[encoding]
    table = [["name", "source", "notes"]]
    table += [[f"{names[i % 2]} {i}", "Referral", names[2]] for i in range(rows)]
    path.write_bytes(csv_text(table).encode(encoding))
    return path, [row[0] for row in table[1:]]


# --- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "named", "choice"),
    [
        ("gb18030", "GB18030 (Simplified Chinese)", "gb18030"),
        ("cp437", "DOS code page", ("cp437", "cp852")),  # they share the letters used
        ("mac_roman", "Mac Roman", "mac-roman"),
        ("cp1251", "Windows-1251 (Cyrillic)", "cp1251"),
        ("shift_jis", "Shift JIS (Japanese)", "shift_jis"),
    ],
)
def test_another_encoding_is_named_with_the_ways_out_and_can_be_chosen(
    org_a: Organization, tmp_path: Path, encoding: str, named: str, choice: str
) -> None:
    path, names = people_csv(tmp_path / f"{encoding}.csv", encoding)
    problem = failed(org_a, path)
    assert problem.startswith(f"{path.name} is not UTF-8 or Windows-1252 text (line 2 ")
    assert f"it looks like {named}" in problem
    assert "choose the encoding" in problem and "--encoding" in problem
    assert "Text encoding" in problem and "save the file as CSV UTF-8" in problem
    chosen = re.search(r"choose the encoding (\S+) for the import", problem)
    assert chosen and chosen.group(1).startswith(choice)
    # told the encoding the problem names, the import reads the names as they were written
    codec = "cp437" if encoding == "cp437" else chosen.group(1)
    done = import_leads(organization=org_a, path=path, encoding=codec, missing_dates="now")
    assert done.created == 30, done.problems
    assert sorted(Lead.objects.for_org(org_a).values_list("name", flat=True)) == sorted(names)
    assert done.file_format.startswith(f"CSV, {codec}")


def test_windows_1252_is_still_read_without_being_told(org_a: Organization, tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    rows = [["name", "source", "notes"], ["O’Brien – Café", "Email", "€ 5, “quoted”"]]  # noqa: RUF001
    path.write_bytes(csv_text(rows).encode("cp1252"))
    result = import_leads(organization=org_a, path=path, missing_dates="now")
    assert result.created == 1 and result.file_format == "CSV, cp1252, comma"
    lead = Lead.objects.get(organization=org_a)
    assert (lead.name, lead.notes) == (rows[1][0], rows[1][2])


def test_the_five_bytes_windows_1252_leaves_out(org_a: Organization, tmp_path: Path) -> None:
    """Undefined in Windows-1252: not taken for it unless chosen, then read as Latin-1
    reads them (as Excel shows them)."""
    path = tmp_path / "w.csv"
    path.write_bytes(b"name,source\nZo\xeb \x81\x8d,Email\nCaf\xe9,Email\n")
    assert "is not UTF-8 or Windows-1252 text (line 2 " in failed(org_a, path)
    result = import_leads(organization=org_a, path=path, encoding="cp1252", missing_dates="now")
    assert result.created == 2, result.problems
    assert Lead.objects.filter(organization=org_a, name="Zoë \x81\x8d").exists()


def test_a_damaged_line_in_a_utf8_file_is_named(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source"]] + [[f"Zoë Müller {i}", "Email"] for i in range(40)]
    data = bytearray(csv_text(rows).encode())
    at = data.index("Zoë Müller 17".encode()) + 2  # the second byte of ë
    data[at] = 0x20
    path = tmp_path / "damaged.csv"
    path.write_bytes(bytes(data))
    problem = failed(org_a, path)
    assert problem.startswith("damaged.csv is UTF-8 text except at line 19, where bytes are not")
    assert "correct those lines" in problem


def test_a_chosen_encoding_that_does_not_fit_is_named(org_a: Organization, tmp_path: Path) -> None:
    path, _names = people_csv(tmp_path / "gb.csv", "gb18030")
    problem = failed(org_a, path, encoding="utf-8")
    assert problem.startswith("gb.csv cannot be read as UTF-8 (line 2 has bytes that are not)")
    assert "GB18030" in problem
    assert "is an unknown" not in failed(org_a, path, encoding="utf-16")
    unknown = failed(org_a, path, encoding="klingon")
    assert unknown.startswith("unknown encoding 'klingon': use one of utf-8, cp1252, mac-roman")


def test_utf16_is_named_and_can_be_chosen(org_a: Organization, tmp_path: Path) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(csv_text([["name", "source"], ["Zoë", "Email"]]).encode("utf-16"))
    problem = failed(org_a, path)
    assert "it looks like UTF-16" in problem and "choose the encoding utf-16" in problem
    done = import_leads(organization=org_a, path=path, encoding="utf-16", missing_dates="now")
    assert done.created == 1


def test_binary_and_old_excel_files_are_named(org_a: Organization, tmp_path: Path) -> None:
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    assert "is not a text file (it has NUL bytes)" in failed(org_a, binary)
    xls = tmp_path / "old.xlsx"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert "is an old Excel (.xls)" in failed(org_a, xls)


def test_the_spend_import_names_the_encoding_without_offering_a_choice(
    org_a: Organization, owner_a: Membership, tmp_path: Path
) -> None:
    from keepscore.imports.spend import spend_import

    path = tmp_path / "spend.csv"
    path.write_bytes("month,channel,amount,note\n2024-01,Ads,10,张伟 北京\n".encode("gb18030"))
    result = spend_import(org_a, path, owner_a)
    assert len(result.problems) == 1
    assert_clear(result.problems[0])
    assert "GB18030" in result.problems[0] and "--encoding" not in result.problems[0]
    assert "save the file as CSV UTF-8" in result.problems[0]


# --- XLSX ---------------------------------------------------------------------------------


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def no_sheet() -> bytes:
    good = xlsx_bytes([["name", "source"], ["Ada", "Referral"]])
    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data)
            target.writestr(item, data)
    return out.getvalue()


def test_an_xlsx_without_a_worksheet(org_a: Organization, tmp_path: Path) -> None:
    problem = failed(org_a, write(tmp_path / "charts.xlsx", no_sheet()))
    assert problem.startswith("charts.xlsx has no worksheet")


def test_an_xlsx_with_cells_at_xfd1_and_a1048576_stops_at_once(
    org_a: Organization, tmp_path: Path
) -> None:
    """It kept the importer busy for over 60 s (killed after 150 s): now under a second."""
    rows = [["name", "email", "source"], ["Ada", "ada@x.com", "Referral"]]
    path = write(tmp_path / "corners.xlsx", xlsx_bytes(rows, {"A1048576": "x", "XFD1": "far"}))
    started = time.monotonic()
    problem = failed(org_a, path)
    assert time.monotonic() - started < 5
    assert "has cells at row 1 up to column XFD" in problem
    assert "at most 500 columns of an XLSX (up to column SF)" in problem


def test_an_xlsx_with_rows_past_the_limit(org_a: Organization, tmp_path: Path) -> None:
    rows = [["name", "source"], ["Ada", "Referral"]]
    path = write(tmp_path / "long.xlsx", xlsx_bytes(rows, {"A1048576": "x"}))
    started = time.monotonic()
    problem = failed(org_a, path)
    assert time.monotonic() - started < 10
    assert "has cells below row 1,000,000" in problem
    assert "reads at most 1,000,000 rows of an XLSX" in problem


def test_the_limits_are_settings(org_a: Organization, tmp_path: Path, settings: Any) -> None:
    settings.IMPORTS_XLSX_MAX_COLUMNS = 3
    settings.IMPORTS_XLSX_MAX_ROWS = 4
    wide = [["name", "source", "email", "notes"], ["Ada", "Referral", "", ""]]
    problem = failed(org_a, write(tmp_path / "wide.xlsx", xlsx_bytes(wide)))
    assert "up to column D" in problem and "at most 3 columns" in problem
    long = [["name", "source"]] + [[f"L{i}", "Referral"] for i in range(4)]
    problem = failed(org_a, write(tmp_path / "long.xlsx", xlsx_bytes(long)))
    assert "below row 4" in problem and "at most 4 rows" in problem
    fits = [["name", "source", "email"]] + [[f"L{i}", "Referral", ""] for i in range(3)]
    done = import_leads(
        organization=org_a, path=write(tmp_path / "ok.xlsx", xlsx_bytes(fits)), missing_dates="now"
    )
    assert done.created == 3


def bomb(megabytes: int) -> bytes:
    """A valid workbook whose sheet unpacks to ``megabytes`` of spaces (deflated: kilobytes)."""
    good = xlsx_bytes([["name", "source"], ["Ada", "Referral"]])
    source = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (megabytes << 20))
            target.writestr(item.filename, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_from_its_list_of_parts(org_a: Organization, tmp_path: Path) -> None:
    data = bomb(300)
    assert len(data) < 2 << 20  # 300 MB of XML in under 2 MB
    started = time.monotonic()
    problem = failed(org_a, write(tmp_path / "bomb.xlsx", data))
    assert time.monotonic() - started < 5
    assert problem.startswith("bomb.xlsx unpacks to 300 MB of XML")
    assert "at most 256 MB unpacked" in problem


def test_a_damaged_xlsx_is_named(org_a: Organization, tmp_path: Path) -> None:
    good = xlsx_bytes([["name", "source"], ["Ada", "Referral"]])
    problem = failed(org_a, write(tmp_path / "cut.xlsx", good[: len(good) // 2]))
    assert problem.startswith("cut.xlsx is not a readable XLSX file")
    assert "save it again" in problem


def test_a_good_xlsx_reads_only_its_cells(tmp_path: Path) -> None:
    """A declared size of A1:XFD1048576 is not believed: rows are as long as their cells."""
    path = write(tmp_path / "ok.xlsx", xlsx_bytes([["name", "source"], ["Ada", "Referral", 3]]))
    table = table_open(path)
    assert table.header == ["name", "source"]
    assert rows_with_retry(table, list) == [(2, ["Ada", "Referral", "3"])]


# --- the same from every entry point ------------------------------------------------------

runner = CliRunner()


def cli_problem(path: Path, *options: str) -> str:
    result = runner.invoke(app, ["import", "leads", str(path), "--org", "acme", *options])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: nothing imported: ")
    assert "Traceback" not in result.output
    return lines[0].removeprefix("error: nothing imported: ")


def web_problem(client: Client, name: str, data: bytes) -> tuple[str, str]:
    """The problem the job page shows for an upload, and the page's address."""
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    sent = client.post("/o/acme/import/", {"file": upload, "kind": "leads", "preset": "plain"})
    assert sent.status_code == 302
    page = client.get(sent["Location"])
    assert page.status_code == 200
    shown = re.search(r'<div class="errors" role="alert"><p>(.*?)</p></div>', page.content.decode())
    assert shown, page.content.decode()
    return shown.group(1), sent["Location"]


def unescape(html: str) -> str:
    import html as module

    return module.unescape(html)


CASES: list[tuple[str, Any]] = [
    ("gb18030.csv", lambda tmp: people_csv(tmp / "gb18030.csv", "gb18030")[0].read_bytes()),
    ("charts.xlsx", lambda tmp: no_sheet()),
    (
        "corners.xlsx",
        lambda tmp: xlsx_bytes([["name", "source"]], {"A1048576": "x", "XFD1": "far"}),
    ),
    ("bomb.xlsx", lambda tmp: bomb(260)),
]


@pytest.mark.parametrize(("name", "make"), CASES, ids=[c[0] for c in CASES])
def test_the_command_line_the_web_and_the_api_give_the_same_error(
    org_a: Organization, owner_a: Membership, tmp_path: Path, client: Client, name: str, make: Any
) -> None:
    path = write(tmp_path / name, make(tmp_path))
    direct = failed(org_a, path)
    # the command line
    assert cli_problem(path) == direct
    # the web upload: the job page shows it (status 200, no 5xx) with the way to choose
    assert client.login(username="owner@acme.test", password=PASSWORD)
    shown, page_url = web_problem(client, name, path.read_bytes())
    assert unescape(shown) == direct
    # checking it anyway runs the engine: the same problem again, on the job's record
    job = ImportJob.objects.for_org(org_a).exclude(upload="").get()
    assert client.post(page_url, {"action": "check"}).status_code in (200, 400)
    # the API's import jobs: the command line's run and the upload carry it
    api = api_for(owner_a)
    for listed in api.get("/import-jobs").json()["items"]:
        detail = api.get(f"/import-jobs/{listed['id']}").json()
        if listed["id"] == job.pk and detail["status"] == "uploaded":
            continue  # the upload was never run: it has no problems yet
        assert detail["problems"] == [direct], detail
    assert not Lead.objects.for_org(org_a).exists()


def test_the_web_import_offers_the_encoding_and_reads_the_file_in_it(
    org_a: Organization, tmp_path: Path, client: Client
) -> None:
    path, names = people_csv(tmp_path / "gb18030.csv", "gb18030", rows=5)
    assert client.login(username="owner@acme.test", password=PASSWORD)
    shown, page_url = web_problem(client, "gb18030.csv", path.read_bytes())
    assert "it looks like GB18030" in unescape(shown)
    page = client.get(page_url).content.decode()
    assert 'name="encoding"' in page and '<option value="gb18030">' in page
    # a bad choice is refused on the page, never a 500
    assert client.post(page_url, {"action": "encoding", "encoding": "nope"}).status_code == 400
    assert client.post(page_url, {"action": "encoding", "encoding": "gb18030"}).status_code == 302
    page = client.get(page_url).content.decode()
    assert "CSV, gb18030, comma" in page and names[0] in page
    assert '<option value="gb18030" selected>' in page
    sent = client.post(page_url, form_data(page, action="import", missing_dates="now"))
    assert sent.status_code == 302
    job = ImportJob.objects.for_org(org_a).get()
    assert job.status == "imported", job.report
    assert job.options["encoding"] == "gb18030"
    assert sorted(Lead.objects.for_org(org_a).values_list("name", flat=True)) == sorted(names)


def test_the_encoding_can_be_chosen_at_the_upload(
    org_a: Organization, tmp_path: Path, client: Client
) -> None:
    path, names = people_csv(tmp_path / "mac.csv", "mac_roman", rows=3)
    assert client.login(username="owner@acme.test", password=PASSWORD)
    upload = SimpleUploadedFile("mac.csv", path.read_bytes(), content_type="text/csv")
    sent = client.post(
        "/o/acme/import/",
        {"file": upload, "kind": "leads", "preset": "plain", "encoding": "mac-roman"},
    )
    page = client.get(sent["Location"]).content.decode()
    assert "CSV, mac-roman, comma" in page and names[0] in page


def test_the_command_line_reads_a_chosen_encoding(org_a: Organization, tmp_path: Path) -> None:
    path, names = people_csv(tmp_path / "ru.csv", "cp1251", rows=4)
    result = runner.invoke(
        app,
        [
            "import",
            "leads",
            str(path),
            "--org",
            "acme",
            "--encoding",
            "cp1251",
            "--missing-dates",
            "now",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "(CSV, cp1251, comma)" in result.stdout
    assert sorted(Lead.objects.for_org(org_a).values_list("name", flat=True)) == sorted(names)


def test_reading_a_table_never_raises_anything_but_file_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "x.xlsx", b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(FileProblem):
        table_open(path)
