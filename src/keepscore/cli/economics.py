"""``keepscore economics``: channel economics for any period — spend, new leads, qualified
leads, customers, conversion, revenue, cost, margin, cost per lead, cost per customer,
return on spend and payback per channel, and the total (docs/numbers.md, "Channel
economics") — as a table, JSON or CSV.

``--format json`` prints ``ChannelEconomics.as_dict()`` (the body of ``GET /economics``)::

    {"period": {"from": "2025-01-01", "to": "2025-12-31"}, "months": 12.0,
     "qualified_stage": "qualified", "min_leads": 20, "min_customers": 5,
     "channels": [{"key": "referral", "name": "Referral", "spend": 1200.0, "leads": 40,
                   "qualified": 18, "customers": 9,
                   "conversion": {"k": 9, "n": 40, "rate": 0.225, "ci_low": 0.12,
                                  "ci_high": 0.38, "enough": true},
                   "revenue": 9000.0, "cost": 3000.0, "costed_deals": 9, "margin": 6000.0,
                   "margin_pct": 0.667,
                   "cost_per_lead": 30.0, "cost_per_customer": 133.33,
                   "return_on_spend": 4.0, "payback_months": 2.4,
                   "too_small": false, "too_small_reason": ""}],
     "total": {"key": "total", "name": "All channels", ...}}

``--format csv`` prints a row per channel and the total (``channels.CSV_COLUMNS``).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from keepscore.cli.common import django_setup, errors, organization_resolve, stdout
from keepscore.cli.funnel import period_options

if TYPE_CHECKING:
    from keepscore.economics.channels import ChannelEconomics, ChannelRow

#: the table's short headings (it has to fit a terminal), with the full names in the legend
HEADINGS = (
    "Spend",
    "Leads",
    "Qual.",
    "Cust.",
    "Conv.",
    "Margin",
    "Mrg %",
    "CPL",
    "CPC",
    "ROS",
    "Payb.",
)
LEGEND = (
    "Leads: new leads (first touch in the period); Qual.: reached the qualified stage; Cust.: "
    "won for the first time (whenever they came in); Conv.: of the period's new leads, those "
    "won since (k/n, a cohort: not the same leads as Cust.); Margin: of the deals won with a "
    "recorded cost; Mrg %: their margin / revenue; CPL: cost per lead; CPC: cost per customer; "
    "ROS: return on spend, (margin - spend) / spend; Payb.: months of margin to earn the spend "
    "back. '\u2014': undefined; 'n/r': not recorded (no spend, or no deal cost, entered); "
    "'n/e': not enough data (fewer than 5 customers)"
)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _cells(row: ChannelRow) -> list[str]:
    from keepscore.reports.charts import format_value
    from keepscore.reports.presenter import NOT_ENOUGH, NOT_RECORDED, channel_text

    short = {NOT_ENOUGH: "n/e", NOT_RECORDED: "n/r"}
    text = channel_text(row)
    conv = row.conversion
    conversion = f"{conv.k}/{conv.n}"
    if conv.rate is not None and conv.enough:
        conversion = f"{format_value(conv.rate, 'percent')} {conversion}"
    cells = (
        text.spend,
        text.leads,
        text.qualified,
        text.customers,
        conversion,
        text.margin,
        text.margin_pct,
        text.cost_per_lead,
        text.cost_per_customer,
        text.return_on_spend,
        text.payback,
    )
    return [short.get(cell, cell) for cell in cells]


def table_print(result: ChannelEconomics) -> None:
    from rich import box
    from rich.table import Table

    console = stdout()
    period = result.period
    qualified = result.qualified_stage or "(no qualified stage)"
    console.print(
        f"[bold]Channel economics[/] {period.start} to {period.end} "
        f"({result.months:g} months); qualified: {escape(qualified)}"
    )
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True)
    table.add_column("Channel", min_width=12, overflow="fold")
    for heading in HEADINGS:
        table.add_column(heading, justify="right", no_wrap=True)
    for row in result.rows:
        table.add_row(escape(row.name), *_cells(row))
    table.add_section()
    table.add_row(escape(result.total.name), *_cells(result.total), style="bold")
    console.print(table)
    console.print(f"[dim]{escape(LEGEND)}[/]")


def economics(
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD (12 months ago)."),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", help="Last day, YYYY-MM-DD (end of last month)."),
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Channel economics: per channel (the lead's original source) the spend, new leads,
    qualified leads, customers, conversion, margin, cost per lead, cost per customer, return
    on spend and payback, and the total. Default: the last 12 full months."""
    with errors():
        django_setup()
        from keepscore.economics.channels import channel_economics
        from keepscore.funnel.filters import default_period
        from keepscore.reports.channels import channels_csv

        period = period_options(from_, to, default_period())
        organization = organization_resolve(org)
        result = channel_economics(organization, period)
        if fmt is Format.json:
            sys.stdout.write(json.dumps(result.as_dict(), indent=2, ensure_ascii=False) + "\n")
        elif fmt is Format.csv:
            sys.stdout.write(channels_csv(result))
        else:
            table_print(result)
        sys.stdout.flush()
