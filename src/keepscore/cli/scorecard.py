"""``keepscore scorecard``: a month's sales & marketing scorecard in the terminal or a file."""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from keepscore.cli.common import (
    EXIT_USAGE,
    django_setup,
    errors,
    fail,
    migrate_if_needed,
    organization_resolve,
    say,
    stdout,
)

if TYPE_CHECKING:
    from keepscore.accounts.models import Organization
    from keepscore.scorecard.types import Scorecard


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"
    pdf = "pdf"


BINARY = (Format.xlsx, Format.pdf)

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _month(value: str | None) -> date:
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from keepscore.cli.common import validation_message
    from keepscore.common.months import month_parse

    if not value:
        return timezone.localdate().replace(day=1)
    try:
        return month_parse(value)
    except ValidationError as error:
        fail(f"--month: {validation_message(error)}", EXIT_USAGE)


def _table(card: Scorecard, plan: str = "") -> None:
    from keepscore.reports import presenter

    console = stdout()
    console.print(f"[bold]{escape(card.organization)}[/] · scorecard {card.month:%B %Y}")
    if card.days is not None:
        console.print(
            f"[yellow]{presenter.month_to_date(card)}[/]: changes are "
            f"{presenter.compared_with(card)} (the same days)"
        )
    tones = {"good": "green", "bad": "red"}
    pace_colour = {"ahead": "green", "on_track": "green", "at_risk": "yellow", "behind": "red"}
    for group, rows in card.grouped():
        if not rows:
            continue
        table = Table(title=group, title_justify="left", title_style="bold")
        for name, justify in (
            ("metric", "left"),
            ("this month", "right"),
            ("last month", "right"),
            ("change", "right"),
            ("last year", "right"),
            ("target", "right"),
            ("YTD", "right"),
            ("goal", "right"),
            ("pace", "left"),
        ):
            table.add_column(name, justify=justify)  # type: ignore[arg-type]
        for row in rows:
            text = presenter.row_text(row)
            value = escape(text.value)
            if text.state:
                value = f"[dim]{value}[/]"
            if text.counts:
                value += f" ({text.counts})"
            change = f"{text.arrow} {text.change}".strip() or "—"
            if text.tone in tones:
                change = f"[{tones[text.tone]}]{escape(change)}[/]"
            pace = ""
            if text.pace:
                colour = pace_colour.get(row.pace or "", "dim")
                pace = f"[{colour}]{escape(text.pace)}[/]: {escape(text.projection)}"
            table.add_row(
                escape(row.name),
                value,
                text.previous,
                change,
                text.last_year,
                text.target,
                text.ytd,
                text.goal,
                pace,
            )
        console.print(table)
    if plan:
        console.print(f"[bold]Against the plan:[/] {escape(plan)}")
    if card.reviews:
        console.print("[bold]Review[/]")
        for entry in card.reviews:
            console.print(f"- {entry.kind}: {escape(entry.text)} [dim]({escape(entry.by)})[/]")


def scorecard(
    month: Annotated[
        str | None, typer.Option("--month", "-m", help="YYYY-MM; default: this month.")
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="File to write (xlsx and pdf: default <org>-scorecard-<month>.*)."
        ),
    ] = None,
) -> None:
    """Show a month's scorecard: each metric's value, last month, change, same month last
    year, target, year to date, annual goal and pace, grouped SUSPECT to CUSTOMER."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.scorecard.compute import scorecard_json
        from keepscore.scorecard.kept import scorecard_kept

        organization = organization_resolve(org)
        first = _month(month)
        if fmt is Format.pdf:
            _pdf(organization, first, out)
            return
        card = scorecard_kept(organization, first)
        if fmt is Format.table and out is None:
            from keepscore.reports.month import plan_sentence

            _table(card, plan_sentence(organization, card))
            return
        data: bytes
        if fmt is Format.table:
            fail("--format table is for the terminal: use json, csv, xlsx or pdf with --out")
        if fmt is Format.json:
            from keepscore.reports.month import plan_json

            body = scorecard_json(card) | {"plan": plan_json(organization, card)}
            data = (json.dumps(body, indent=2) + "\n").encode()
        elif fmt is Format.csv:
            from keepscore.reports.scorecard import scorecard_csv

            data = scorecard_csv(card).encode()
        else:
            from keepscore.reports.scorecard import scorecard_xlsx

            data = scorecard_xlsx(card)
        if out is None and fmt in BINARY:
            from keepscore.reports.scorecard import scorecard_filename

            out = Path(scorecard_filename(card, fmt.value))
        if out is None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return
        _write(out, data, organization, first, fmt)


def _pdf(organization: Organization, first: date, out: Path | None) -> None:
    """The month's PDF: the one kept since its data last changed, or rendered now."""
    from keepscore.reports.month import month_pdf_kept, pdf_filename

    data = month_pdf_kept(organization, first)
    _write(out or Path(pdf_filename(organization, first)), data, organization, first, Format.pdf)


def _write(out: Path, data: bytes, organization: Organization, first: date, fmt: Format) -> None:
    try:
        out.write_bytes(data)
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror or error}")
    say(
        f"Wrote the {first:%Y-%m} scorecard of {escape(organization.slug)} "
        f"({fmt.value}) to {escape(str(out.resolve()))}."
    )


app.command()(scorecard)
