"""``keepscore activity``: activity counts per week, month or quarter (and per member), as a
table, JSON or CSV (docs/numbers.md, "Activity counts").

``--format json`` prints ``keepscore.funnel.activity_views.report_dict``::

    {"period": {"from": "2024-01-01", "to": "2024-03-31"}, "grain": "month", "by": "member",
     "rows": [{"bucket_start": "2024-01-01", "member_id": 3, "member_label": "Sam Sales",
               "call_attempts": 4, "connects": 2, "sales_conversations": 2, "qualifying": 1,
               "meetings": 1, "presentations": 0, "proposals": 0, "conversations_won": 1,
               "won_share": 0.5}],
     "totals": [{"bucket_start": "2024-01-01", "member_id": null,
                 "member_label": "All members", ...}]}

``--format csv`` prints the rows (not the totals), with the columns of ``CSV_COLUMNS``.
"""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from keepscore.cli.common import (
    EXIT_USAGE,
    django_setup,
    errors,
    fail,
    organization_resolve,
    stdout,
)
from keepscore.cli.funnel import period_options

if TYPE_CHECKING:
    from keepscore.common.periods import Period

COUNT_COLUMNS = (
    "call_attempts",
    "connects",
    "sales_conversations",
    "qualifying",
    "meetings",
    "presentations",
    "proposals",
    "conversations_won",
)
#: the table's short headings (it has to fit 80 columns), with the full names in the legend
HEADINGS = ("Calls", "Conn.", "Sales conv.", "Qual.", "Meet.", "Pres.", "Prop.", "Won", "Won %")
LEGEND = (
    "Calls: call attempts; Conn.: connects; Sales conv.: sales conversations (connects and "
    "meetings with a buyer); Qual.: qualifying; Meet.: meetings; Pres.: presentations; Prop.: "
    "proposals; Won: sales conversations whose lead was won then or later; Won %: their share."
)
CSV_COLUMNS = (
    "period_from",
    "period_to",
    "grain",
    "bucket_start",
    "member_id",
    "member_label",
    *COUNT_COLUMNS,
    "won_share",
)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def options_parse(
    from_: str | None, to: str | None, grain: str, by: str
) -> tuple[Period, str, bool]:
    """The period, grain and whether per member, or a one-line usage error."""
    from keepscore.funnel.activity import (
        activity_default_period,
        by_member_parse,
        grain_parse,
        span_check,
    )
    from keepscore.funnel.filters import PeriodProblem

    period = period_options(from_, to, activity_default_period())
    try:
        chosen = grain_parse(grain)
    except ValueError as error:
        fail(f"--grain: {error}", EXIT_USAGE)
    try:
        by_member = by_member_parse(by)
    except ValueError as error:
        fail(f"--by: {error}", EXIT_USAGE)
    try:
        span_check(period, chosen)
    except PeriodProblem as problem:
        fail(f"--{problem.field}: {problem}", EXIT_USAGE)
    return period, chosen, by_member


def csv_write(report: dict[str, Any], out: Any) -> None:
    from keepscore.exports.writers import escape_formula

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report["rows"]:
        share = row["won_share"]
        writer.writerow(
            [
                report["period"]["from"],
                report["period"]["to"],
                report["grain"],
                row["bucket_start"],
                "" if row["member_id"] is None else row["member_id"],
                escape_formula(row["member_label"]),
                *(row[name] for name in COUNT_COLUMNS),
                "" if share is None else repr(share),
            ]
        )


def table_print(report: dict[str, Any]) -> None:
    from datetime import date

    from rich import box
    from rich.table import Table

    from keepscore.funnel.activity import bucket_label
    from keepscore.reports.charts import format_value

    console = stdout()
    grain, per_member = report["grain"], report["by"] == "member"
    period = report["period"]
    console.print(
        f"[bold]Activity[/] {period['from']} to {period['to']}, per {grain}"
        + (", per member" if per_member else ", all members together")
    )

    def cells(row: dict[str, Any]) -> list[str]:
        counts = [format_value(row[name], "count") for name in COUNT_COLUMNS]
        return [*counts, format_value(row["won_share"], "percent")]

    for total in report["totals"]:
        label = bucket_label(date.fromisoformat(total["bucket_start"]), grain)
        table = Table(
            title=escape(label),
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            padding=(0, 1),
            pad_edge=False,
            collapse_padding=True,
        )
        table.add_column("Member", min_width=16, overflow="fold")
        for heading in HEADINGS:
            table.add_column(heading, justify="right")
        if per_member:
            for row in report["rows"]:
                if row["bucket_start"] == total["bucket_start"]:
                    table.add_row(escape(row["member_label"]), *cells(row))
            table.add_section()
            table.add_row("Total", *cells(total), style="bold")
        else:
            table.add_row(escape(total["member_label"]), *cells(total))
        console.print(table)
    if per_member and not report["rows"]:
        console.print("No activity logged in this period.")
    console.print(f"[dim]{escape(LEGEND)}[/]")


def activity(
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD (3 months ago)."),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", help="Last day, YYYY-MM-DD (end of last month)."),
    ] = None,
    grain: Annotated[
        str, typer.Option("--grain", help="Count per week, month or quarter.")
    ] = "month",
    by: Annotated[
        str, typer.Option("--by", help="member: a row per member; all: all members together.")
    ] = "member",
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Activity counts per week / month / quarter and member: call attempts, connects, sales
    conversations, qualifying, meetings, presentations, proposals, and the sales
    conversations that led to a won deal. Defaults: the last 3 full months, by month, by
    member."""
    with errors():
        django_setup()
        from keepscore.funnel.activity import report_dict

        period, chosen, by_member = options_parse(from_, to, grain, by)
        organization = organization_resolve(org)
        report = report_dict(organization, period, chosen, by_member)
        if fmt is Format.json:
            sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        elif fmt is Format.csv:
            csv_write(report, sys.stdout)
        else:
            table_print(report)
        sys.stdout.flush()
