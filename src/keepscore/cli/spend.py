"""``keepscore spend import|list|set`` and ``keepscore cash set|list``: marketing spend per
channel and campaign per month, and the cash position with its runway."""

from __future__ import annotations

import csv
import json
import sys
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from keepscore.cli.common import (
    django_setup,
    errors,
    fail,
    migrate_if_needed,
    organization_resolve,
    progress_bar,
    say,
)

if TYPE_CHECKING:
    from keepscore.imports.spend import SpendImportResult

HELP = {"help_option_names": ["-h", "--help"]}
spend_app = typer.Typer(
    help="Marketing spend per channel and campaign per month: import, list, set.",
    no_args_is_help=True,
    context_settings=HELP,
)
cash_app = typer.Typer(
    help="The cash position per month (cash on hand, fixed costs) and the runway: set, list.",
    no_args_is_help=True,
    context_settings=HELP,
)

OrgOption = Annotated[str | None, typer.Option("--org", help="The organization's slug.")]
#: report lines printed; the whole report goes to FILE.report.csv
SHOWN = 20


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


def money_format(amount: Decimal, *, decimals: int) -> str:
    """The amount in the organization's currency (``keepscore.common.money``, imported only
    when a command writes money: it loads the settings)."""
    from keepscore.common.money import money_format as format_money

    return format_money(amount, decimals=decimals)


def _report(result: SpendImportResult, path: Path) -> None:
    say(f"Read {escape(result.file)} ({escape(result.file_format)}): {result.rows} rows.")
    if result.ignored_columns:
        say(f"  ignored columns: {escape(', '.join(result.ignored_columns))}")
    if not result.errors_total:
        return
    report = path.with_name(path.name + ".report.csv")
    with report.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "column", "problem"])
        for error in result.errors:
            writer.writerow([error.line, error.column, error.reason])
    for line in result.report_lines()[:SHOWN]:
        say(escape(line))
    if result.errors_total > SHOWN:
        say(f"… and {result.errors_total - SHOWN} more problems.")
    say(f"Full report: {escape(str(report))}")


@spend_app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="CSV or XLSX: month,channel,amount (campaign, note optional).",
        ),
    ],
    org: OrgOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check; write nothing.")] = False,
) -> None:
    """Import spend (columns month,channel,amount and optional campaign,note): all or
    nothing; amounts are set, not added, so importing the same file again changes nothing."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.imports.spend import spend_import

        organization = organization_resolve(org)
        with progress_bar() as progress:
            result = spend_import(organization, file, None, dry_run, progress=progress)
        if not result.problems:
            _report(result, file)
        if result.problems:
            fail("nothing imported: " + "; ".join(result.problems))
        if result.errors_total:
            fail(f"nothing imported: {result.errors_total} problems in {result.rows} rows")
        if result.dry_run:
            total = money_format(result.total, decimals=2)
            say(f"Dry run: {result.rows} rows checked ({total}), nothing written.")
            return
        say(
            f"[green]Imported {result.rows} spend rows[/] ({result.created} new, "
            f"{result.updated} changed, {result.unchanged} unchanged)."
        )


def _print_rows(fmt: Format, header: list[str], rows: list[list[Any]], payload: Any) -> None:
    if fmt is Format.json:
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt is Format.csv:
        from keepscore.exports.writers import Table, csv_chunks

        sys.stdout.write("".join(csv_chunks(Table("rows", header, rows))))
        return
    from rich.table import Table as RichTable

    from keepscore.cli.common import stdout

    table = RichTable(*header, box=None, pad_edge=False)
    for row in rows:
        table.add_row(*[escape(str(v)) for v in row])
    stdout().print(table)


@spend_app.command("list")
def list_(
    org: OrgOption = None,
    from_: Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel.")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The spend, one row per month, channel and campaign, with the total (all months when
    --from and --to are left out). CSV output imports back unchanged."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.common.months import month_str
        from keepscore.economics.selectors import EXPORT_COLUMNS, spend_csv_rows, spend_for

        organization = organization_resolve(org)
        table = spend_for(
            organization=organization, first_month=from_, last_month=to, channel=channel
        )
        if fmt is Format.csv:
            _print_rows(fmt, EXPORT_COLUMNS, list(spend_csv_rows(table=table)), None)
            return
        payload = {
            "organization": organization.slug,
            "from": month_str(table.first) if table.first else None,
            "to": month_str(table.last) if table.last else None,
            "rows": [
                {
                    "id": r.id,
                    "month": month_str(r.month),
                    "channel": r.channel,
                    "campaign": r.campaign,
                    "amount": f"{r.amount:.2f}",
                    "note": r.note,
                }
                for r in table.rows
            ],
            "channel_totals": {k: f"{v:.2f}" for k, v in table.channel_totals.items()},
            "total": f"{table.total:.2f}",
        }

        # the table is read by a person: in the organization's currency; a CSV stays numbers
        def amount(x: Decimal) -> str:
            return money_format(x, decimals=2) if fmt is Format.table else f"{x:,.2f}"

        rows = [
            [month_str(r.month), r.channel, r.campaign, amount(r.amount), r.note]
            for r in table.rows
        ]
        if fmt is Format.table:
            rows.append(["total", "", "", amount(table.total), ""])
        _print_rows(fmt, EXPORT_COLUMNS, rows, payload)


@spend_app.command("set")
def set_(
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")],
    channel: Annotated[str, typer.Option("--channel", help="The channel's key or name.")],
    amount: Annotated[str, typer.Option("--amount", help="The spend, e.g. 1200.50.")],
    campaign: Annotated[str, typer.Option("--campaign", help="A campaign of the channel.")] = "",
    note: Annotated[str, typer.Option("--note", help="A note.")] = "",
    org: OrgOption = None,
) -> None:
    """Set the spend of a month, channel and campaign (it replaces what was there)."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.common.months import month_str
        from keepscore.economics.services import spend_set

        organization = organization_resolve(org)
        row = spend_set(
            organization=organization,
            month=month,
            channel=channel,
            amount=amount,
            campaign=campaign,
            note=note,
        )
        what = f" “{escape(row.campaign)}”" if row.campaign else ""
        shown = money_format(row.amount, decimals=2)
        say(f"Spend {month_str(row.month)} {escape(row.channel.key)}{what}: {shown}.")


@cash_app.command("set")
def cash_set(
    month: Annotated[str, typer.Option("--month", help="The month, YYYY-MM.")],
    cash: Annotated[str, typer.Option("--cash", help="Cash on hand (may be negative).")],
    fixed_costs: Annotated[str, typer.Option("--fixed-costs", help="Monthly fixed costs.")],
    note: Annotated[str, typer.Option("--note", help="A note.")] = "",
    org: OrgOption = None,
) -> None:
    """Set a month's cash on hand and monthly fixed costs; prints the runway."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.common.months import month_str
        from keepscore.economics import selectors, services

        organization = organization_resolve(org)
        row = services.cash_set(
            organization=organization,
            month=month,
            cash_on_hand=cash,
            monthly_fixed_costs=fixed_costs,
            note=note,
        )
        runway = selectors.runway_months(position=row)
        months = "no runway (no fixed costs)" if runway is None else f"runway {runway} months"
        say(
            f"Cash {month_str(row.month)}: {money_format(row.cash_on_hand, decimals=2)} on hand, "
            f"{money_format(row.monthly_fixed_costs, decimals=2)} fixed costs a month: {months}."
        )


@cash_app.command("list")
def cash_list(org: OrgOption = None, fmt: FormatOption = Format.table) -> None:
    """The cash positions, the latest month first, each with its runway (months)."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.economics.selectors import cash_history

        organization = organization_resolve(org)
        history = cash_history(organization=organization)
        header = ["month", "cash_on_hand", "monthly_fixed_costs", "runway_months", "note"]

        def amount(x: Decimal) -> str:
            return money_format(x, decimals=2) if fmt is Format.table else f"{x:.2f}"

        rows = [
            [
                r.month_text,
                amount(r.cash_on_hand),
                amount(r.monthly_fixed_costs),
                "" if r.runway is None else f"{r.runway}",
                r.note,
            ]
            for r in history
        ]
        payload: list[dict[str, str | None]] = [dict(zip(header, row, strict=True)) for row in rows]
        for item, r in zip(payload, history, strict=True):
            item["runway_months"] = None if r.runway is None else f"{r.runway}"
        _print_rows(fmt, header, rows, payload)
