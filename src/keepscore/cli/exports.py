"""``keepscore export``: one organization's records as CSV, XLSX, JSON lines or a zip."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from keepscore.cli.common import EXIT_USAGE, django_setup, errors, fail, organization_resolve, say


class Kind(StrEnum):
    leads = "leads"
    stage_changes = "stage-changes"
    activities = "activities"
    outcomes = "outcomes"
    all = "all"


class Format(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    jsonl = "jsonl"


def export(
    kind: Annotated[Kind, typer.Argument(help="What to export; `all` is a zip of every table.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="File format.")] = Format.csv,
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write; default: standard output."),
    ] = None,
) -> None:
    """Export an organization's records.

    `all` writes one zip: a CSV per table (every record, spend and settings included, members
    without passwords) + manifest; `keepscore import all` reads it back into a new
    organization.

    Text a spreadsheet would run as a formula gets a leading ' in CSV and XLSX (in the `all`
    zip, text starting with ' gets one more, so taking one away gives it back exactly).
    """
    with errors():
        binary = kind is Kind.all or fmt is Format.xlsx
        if out is None and binary and sys.stdout.isatty():
            fail("a zip or XLSX file is not for the terminal: give --out FILE", EXIT_USAGE)
        django_setup()
        from keepscore.exports.services import export_write

        organization = organization_resolve(org)
        if out is None:
            export_write(
                organization=organization, kind=kind.value, fmt=fmt.value, out=sys.stdout.buffer
            )
            sys.stdout.flush()
            return
        try:
            with out.open("wb") as fh:
                rows = export_write(
                    organization=organization, kind=kind.value, fmt=fmt.value, out=fh
                )
        except OSError as error:
            fail(f"cannot write {out}: {error.strerror or error}")
        what = "everything (zip)" if rows is None else f"{rows} rows of {kind.value}"
        say(f"Exported {escape(what)} of {escape(organization.slug)} to {escape(str(out))}.")
