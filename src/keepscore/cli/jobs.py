"""``keepscore jobs`` (marketing and sales, two jobs: per member and month) and
``keepscore objections`` (the objections report), as a table, JSON or CSV.

``keepscore jobs --format json`` prints ``keepscore.funnel.jobs.JobsReport.as_dict()``::

    {"period": {"from": "2024-01-01", "to": "2024-03-31"},
     "qualified_stage": {"key": "qualified", "name": "Qualified"},
     "members": [{"member_id": 3, "label": "Mia Marketer", "roles": ["marketing"],
                  "marketing_share": 80, "sales_share": 20,
                  "months": [{"month": "2024-01-01", "leads_sourced": 1, "leads_qualified": 1,
                              "sales_conversations": 0, "proposals": 0, "won_deals": 0,
                              "revenue": "0.00", "margin": "0.00"}, ...],
                  "total": {...}}],
     "totals": {"months": [...], "total": {...}}}

``--format csv`` prints one row per member and month (``JOBS_CSV_COLUMNS``).

``keepscore objections --format json`` prints ``ObjectionsReport.as_dict()``; ``--format csv``
one row per tag with its count, share, trend slope, p-value and whether it is rising
(``OBJECTIONS_CSV_COLUMNS``).
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

COUNTS = (
    "leads_sourced",
    "leads_qualified",
    "sales_conversations",
    "proposals",
    "won_deals",
)
JOBS_CSV_COLUMNS = (
    "period_from",
    "period_to",
    "member_id",
    "member_label",
    "roles",
    "marketing_share",
    "month",
    *COUNTS,
    "revenue",
    "margin",
)
OBJECTIONS_CSV_COLUMNS = (
    "period_from",
    "period_to",
    "tag",
    "label",
    "count",
    "share",
    "trend_total",
    "slope_per_month",
    "p_value",
    "rising",
)
JOBS_HEADINGS = (
    "Split",
    "Sourced",
    "Qualified",
    "Sales conv.",
    "Prop.",
    "Won",
    "Revenue",
    "Margin",
)
JOBS_LEGEND = (
    "Split: % of time on marketing / sales. Marketing: Sourced (leads first touched, owned by "
    "the member), Qualified (the member's leads that first reached the qualified stage). Sales: "
    "Sales conv. (connects and meetings with a buyer), Prop. (proposals sent), Won (won deals "
    "of the member's leads) with revenue and margin."
)

FromOption = Annotated[
    str | None, typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD.")
]
ToOption = Annotated[str | None, typer.Option("--to", metavar="DATE", help="Last day, YYYY-MM-DD.")]
OrgOption = Annotated[str | None, typer.Option("--org", help="Organization slug.")]


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


def _period(from_: str | None, to: str | None, default: Period) -> Period:
    from keepscore.funnel.filters import PeriodProblem
    from keepscore.funnel.jobs import period_check

    period = period_options(from_, to, default)
    try:
        period_check(period)
    except PeriodProblem as problem:
        fail(f"--{problem.field}: {problem}", EXIT_USAGE)
    return period


def _write(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _split(member: dict[str, Any]) -> str:
    share = member["marketing_share"]
    return "—" if share is None else f"{share}/{member['sales_share']}"


# --- keepscore jobs ---------------------------------------------------------------------------


def jobs_csv(report: dict[str, Any], out: Any) -> None:
    from keepscore.exports.writers import escape_formula

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(JOBS_CSV_COLUMNS)
    for member in report["members"]:
        for month in member["months"]:
            writer.writerow(
                [
                    report["period"]["from"],
                    report["period"]["to"],
                    "" if member["member_id"] is None else member["member_id"],
                    escape_formula(member["label"]),
                    " ".join(member["roles"]),
                    "" if member["marketing_share"] is None else member["marketing_share"],
                    month["month"],
                    *("" if month[name] is None else month[name] for name in COUNTS),
                    month["revenue"],
                    month["margin"],
                ]
            )


def jobs_table(report: dict[str, Any]) -> None:

    from rich import box
    from rich.table import Table

    from keepscore.reports.charts import format_value

    console = stdout()
    period, stage = report["period"], report["qualified_stage"]
    console.print(
        f"[bold]Marketing & sales[/] {period['from']} to {period['to']}; qualified: "
        + (escape(stage["name"]) if stage else "no qualified stage")
    )

    def cells(counts: dict[str, Any]) -> list[str]:
        values = [
            "—" if counts[name] is None else format_value(counts[name], "count") for name in COUNTS
        ]
        money = [
            "n/r" if counts[k] is None else format_value(float(counts[k]), "money")
            for k in ("revenue", "margin")
        ]
        return [*values, *money]

    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, collapse_padding=True)
    table.add_column("Member / month", min_width=14, overflow="fold")
    for heading in JOBS_HEADINGS:
        table.add_column(heading, justify="right")
    for member in report["members"]:
        table.add_row(
            escape(member["label"]), _split(member), *cells(member["total"]), style="bold"
        )
        for month in member["months"]:
            table.add_row(f"  {month['month'][:7]}", "", *cells(month))
        table.add_section()
    table.add_row("Total", "", *cells(report["totals"]["total"]), style="bold")
    console.print(table)
    console.print(f"[dim]{escape(JOBS_LEGEND)}[/]")


def jobs(
    from_: FromOption = None,
    to: ToOption = None,
    org: OrgOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Marketing and sales, two jobs: per member and month, the time split beside leads
    sourced and qualified (marketing) and sales conversations, proposals and won deals with
    revenue and margin (sales). Default: this month and the five before."""
    with errors():
        django_setup()
        from keepscore.funnel.jobs import jobs_default_period, jobs_report

        period = _period(from_, to, jobs_default_period())
        organization = organization_resolve(org)
        report = jobs_report(organization, period).as_dict()
        if fmt is Format.json:
            _write(report)
        elif fmt is Format.csv:
            jobs_csv(report, sys.stdout)
        else:
            jobs_table(report)
        sys.stdout.flush()


# --- keepscore objections ---------------------------------------------------------------------


def objections_csv(report: dict[str, Any], out: Any) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OBJECTIONS_CSV_COLUMNS)
    trends = {t["tag"]: t for t in report["trends"]}
    for tag in report["tags"]:
        trend = trends[tag["tag"]]
        writer.writerow(
            [
                report["period"]["from"],
                report["period"]["to"],
                tag["tag"],
                tag["label"],
                tag["count"],
                repr(tag["share"]),
                trend["total"],
                repr(trend["slope_per_month"]),
                "" if trend["p_value"] is None else repr(trend["p_value"]),
                "yes" if trend["rising"] else "no",
            ]
        )


def objections_table(report: dict[str, Any]) -> None:
    from rich import box
    from rich.table import Table

    from keepscore.reports.charts import format_value

    console = stdout()
    period = report["period"]
    console.print(
        f"[bold]Objections[/] {period['from']} to {period['to']}: {report['total']} objection(s)"
    )
    trends = {t["tag"]: t for t in report["trends"]}

    def simple(title: str) -> Table:
        return Table(
            title=title,
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            padding=(0, 1),
            pad_edge=False,
            collapse_padding=True,
        )

    ranked = simple("Most common")
    for heading in ("Objection", "Count", "Share", "Trend/mo", "p", "Rising"):
        ranked.add_column(heading, justify="left" if heading == "Objection" else "right")
    for tag in report["tags"]:
        trend = trends[tag["tag"]]
        p = trend["p_value"]
        ranked.add_row(
            escape(tag["label"]),
            format_value(tag["count"], "count"),
            format_value(tag["share"], "percent"),
            format_value(trend["slope_per_month"], "number", signed=True),
            "—" if p is None else f"{p:.3f}",
            "yes" if trend["rising"] else ("not enough data" if not trend["enough"] else "no"),
        )
    console.print(ranked)
    order = [t["tag"] for t in report["tags"]]
    labels = {t["tag"]: t["label"] for t in report["tags"]}
    for key, title in (
        ("months", "By month"),
        ("stages", "By stage at the time"),
        ("channels", "By channel"),
    ):
        if not order:
            break
        table = simple(title)
        table.add_column("", overflow="fold")
        for tag in order:
            table.add_column(escape(labels[tag]), justify="right")
        table.add_column("Total", justify="right")
        for row in report[key]:
            table.add_row(
                escape(row["label"]), *(str(row["counts"][t]) for t in order), str(row["total"])
            )
        console.print(table)
    if not order:
        console.print("No objection logged in this period.")


def objections(
    from_: FromOption = None,
    to: ToOption = None,
    org: OrgOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The objections report: the most common objections with count and share, by month, by
    the stage the lead was at then, by channel, and each one's trend over the 12 months to
    the period's end (slope, p-value, rising). Default: the last 12 full months."""
    with errors():
        django_setup()
        from keepscore.funnel.objections import objections_default_period, objections_report

        period = _period(from_, to, objections_default_period())
        organization = organization_resolve(org)
        report = objections_report(organization, period).as_dict()
        if fmt is Format.json:
            _write(report)
        elif fmt is Format.csv:
            objections_csv(report, sys.stdout)
        else:
            objections_table(report)
        sys.stdout.flush()
