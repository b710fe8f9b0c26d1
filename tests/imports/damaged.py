"""Damaged files for the import's fuzz tests: a seeded generator, no hypothesis (thousands of
cases in a few seconds, the same ones every run).

Each case is ``(name, bytes)``: CSVs truncated, with flipped bytes, random bytes, in the
wrong encoding, with stray quotes and NULs; XLSX files truncated, with flipped bytes, with
parts missing, replaced or inflated (zip bombs-lite), with cells past the limits or made-up
references.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable, Iterator

from openpyxl import Workbook

ROWS = [
    ["name", "email", "source", "created", "stage", "company", "notes", "value"],
    ["Zoë Müller", "zoe@example.com", "Referral", "2024-01-05", "lead", "Café Olé", "ok", "10"],
    ["José García", "jose@example.es", "Email", "2024-02-11", "prospect", "Niña SL", "", "2,50"],
    ["李小龙", "lee@example.cn", "Walk-in", "2024-03-01", "suspect", "", 'say "hi"', ""],
    ["Ørsted, Ann", "ann@example.dk", "Ads", "05/04/2024", "", "Ångström AB", "multi\nline", "7"],
]
#: encodings a file may wrongly be in (each can write the sample, or most of it)
WRONG = [
    "gb18030",
    "cp437",
    "mac_roman",
    "cp1251",
    "shift_jis",
    "euc_kr",
    "big5",
    "koi8_r",
    "utf-16",
    "utf-16-le",
    "utf-32",
    "cp850",
    "latin-1",
    "cp1252",
]
CYRILLIC = [["имя", "почта", "источник"], ["Иван Петров", "ivan@example.ru", "Реклама"]]


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    import csv

    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


def xlsx_bytes(rows: list[list[object]], cells: dict[str, object] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for ref, value in (cells or {}).items():
        sheet[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _zip_edit(data: bytes, edit: Callable[[str, bytes], bytes | None]) -> bytes:
    """The zip with each part passed through ``edit`` (None drops the part)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            changed = edit(item.filename, source.read(item.filename))
            if changed is not None:
                target.writestr(item.filename, changed)
    return out.getvalue()


def _flip(rng: random.Random, data: bytes, flips: int) -> bytes:
    raw = bytearray(data)
    for _ in range(flips):
        i = rng.randrange(len(raw))
        raw[i] ^= rng.randrange(1, 256)
    return bytes(raw)


def csv_cases(rng: random.Random, count: int) -> Iterator[tuple[str, bytes]]:
    base_text = [csv_text(ROWS), csv_text(ROWS, ";"), csv_text(ROWS, "\t"), csv_text(CYRILLIC)]
    bases = [t.encode("utf-8") for t in base_text] + [
        csv_text(ROWS[:3]).encode("cp1252", errors="replace"),
        b"\xef\xbb\xbf" + base_text[0].encode(),
    ]
    for n in range(count):
        kind = n % 8
        base = rng.choice(bases)
        if kind == 0:  # truncated
            data = base[: rng.randrange(1, len(base))]
        elif kind == 1:  # flipped bytes
            data = _flip(rng, base, rng.randrange(1, 6))
        elif kind == 2:  # random bytes
            data = rng.randbytes(rng.randrange(1, 400))
        elif kind == 3:  # random bytes, no NUL, after a plausible header
            noise = bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 300)))
            data = b"name,source\n" + noise
        elif kind == 4:  # the wrong encoding
            encoding = rng.choice(WRONG)
            rows = CYRILLIC if encoding in ("cp1251", "koi8_r") else ROWS
            data = csv_text(rows).encode(encoding, errors="replace")
            if rng.random() < 0.3:
                data = data[: rng.randrange(1, len(data))]
        elif kind == 5:  # stray quotes, CRs and delimiters
            text = base.decode("utf-8", errors="replace")
            chars = list(text)
            for _ in range(rng.randrange(1, 8)):
                chars.insert(rng.randrange(len(chars) + 1), rng.choice(['"', "\r", ";", "\t", ","]))
            data = "".join(chars).encode()
        elif kind == 6:  # two encodings in one file
            data = base + csv_text(ROWS[1:3]).encode(rng.choice(WRONG[:8]), errors="replace")
        else:  # a valid file, or one with a long field or a NUL late in it
            data = base
            if rng.random() < 0.5:
                data += b"Ada," + b"x" * rng.randrange(100, 200_000) + b",Email\n"
            if rng.random() < 0.3:
                data = data + b"Bo,\x00,Email\n"
        yield f"fuzz{n}.csv", data


def xlsx_cases(rng: random.Random, count: int) -> Iterator[tuple[str, bytes]]:
    good = xlsx_bytes(ROWS)  # type: ignore[arg-type]
    shared = xlsx_bytes([["name", "source"], ["Ada", "Referral"], ["Ada", "Referral"]])
    sheet = "xl/worksheets/sheet1.xml"

    def replace_sheet(xml: bytes) -> Callable[[str, bytes], bytes | None]:
        return lambda name, data: xml if name == sheet else data

    def cell_xml(ref: str, value: str = "1") -> bytes:
        row = re.sub(r"[A-Z]+", "", ref) or "1"
        return (
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
            + f'<row r="{row}"><c r="{ref}"><v>{value}</v></c></row>'.encode()
            + b"</sheetData></worksheet>"
        )

    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
        b']><worksheet><sheetData><row><c t="inlineStr"><is><t>&lol4;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    edits: list[Callable[[], bytes]] = [
        lambda: _zip_edit(good, lambda name, data: None if name == sheet else data),
        lambda: _zip_edit(
            good,
            lambda name, data: (
                re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data)
                if name == "xl/workbook.xml"
                else data
            ),
        ),
        lambda: _zip_edit(good, replace_sheet(rng.randbytes(rng.randrange(1, 500)))),
        lambda: _zip_edit(good, replace_sheet(b"<worksheet><sheetData><row><c r=")),
        lambda: _zip_edit(good, replace_sheet(cell_xml(rng.choice(["XFE1", "ZZZZ1", "A0"])))),
        lambda: _zip_edit(good, replace_sheet(cell_xml(f"A{rng.randrange(2, 2_000_000)}"))),
        lambda: _zip_edit(good, replace_sheet(cell_xml(rng.choice(["SG2", "XFD2", "AAA3"])))),
        lambda: _zip_edit(good, replace_sheet(cell_xml("B2", "not-a-number"))),
        lambda: _zip_edit(good, replace_sheet(laughs)),
        lambda: _zip_edit(  # a shared string that is not there
            shared,
            lambda name, data: (
                re.sub(rb"<v>\d+</v>", b"<v>999</v>", data) if name == sheet else data
            ),
        ),
        lambda: _zip_edit(  # a zip bomb-lite: the sheet unpacks to 2 MB of spaces
            good,
            lambda name, data: (
                data.replace(b"<sheetData>", b"<sheetData>" + b" " * 2_000_000)
                if name == sheet
                else data
            ),
        ),
        lambda: _zip_edit(good, lambda name, data: data if name != "[Content_Types].xml" else None),
        lambda: xlsx_bytes([["name", "source"], ["Ada", "Referral"]], {"A1048576": "x"}),
        lambda: xlsx_bytes([["name", "source"], ["Ada", "Referral"]], {"XFD1": "x"}),
    ]
    for n in range(count):
        kind = n % 6
        if kind == 0:
            data = good[: rng.randrange(1, len(good))]
        elif kind == 1:
            data = _flip(rng, good, rng.randrange(1, 4))
        elif kind == 2:
            data = b"PK\x03\x04" + rng.randbytes(rng.randrange(0, 2000))
        elif kind == 3:
            data = _flip(rng, rng.choice(edits)(), rng.randrange(0, 2))
        else:
            data = edits[n // 6 % len(edits)]()
        yield f"fuzz{n}.xlsx", data
