"""``keepscore funnel``: the funnel of a period, per group of leads, as a table, JSON or CSV.

``--format json`` prints ``FunnelReport.as_dict()`` (docs/numbers.md, "The funnel report"):

    {"period": {"from": "2024-03-01", "to": "2024-03-31"}, "by": "channel", "within_days": 30,
     "groups": [{"key": "referral", "label": "Referral",
                 "stages": [{"key": "suspect", "name": "Suspect", "reached": 4, "entered": 1,
                             "skipped": 3}],
                 "conversions": [{"from": "suspect", "to": "prospect", "overall": false,
                                  "k": 1, "n": 1, "rate": 1.0, "ci_low": 0.21,
                                  "ci_high": 1.0, "enough": false}]}]}

``--format csv`` prints one row per group and step, with the columns of ``CSV_COLUMNS``.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date
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

if TYPE_CHECKING:
    from keepscore.common.periods import Period
    from keepscore.funnel.funnel_report import FunnelReport

CSV_COLUMNS = (
    "period_from",
    "period_to",
    "by",
    "within_days",
    "group_key",
    "group_label",
    "from",
    "to",
    "k",
    "n",
    "rate",
    "ci_low",
    "ci_high",
    "enough",
)
BY_HELP = (
    "Group leads by channel, campaign, owner, utm_source, utm_medium, utm_campaign or "
    "fact:<name>; 'all' for one group of every lead."
)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def date_option(value: str | None, option: str) -> date | None:
    from keepscore.common.days import DATE_RANGE_MESSAGE, EARLIEST_DATE, LATEST_DATE

    if value is None or not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        fail(f"{option}: {value[:40]!r} is not a date: use YYYY-MM-DD", EXIT_USAGE)
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        fail(f"{option}: {DATE_RANGE_MESSAGE}", EXIT_USAGE)
    return day


def period_options(from_: str | None, to: str | None, default: Period) -> Period:
    """The period ``--from``/``--to`` ask for (each defaults to ``default``'s), or a one-line
    usage error."""
    from keepscore.funnel.filters import PeriodProblem, period_resolve

    try:
        return period_resolve(date_option(from_, "--from"), date_option(to, "--to"), default)
    except PeriodProblem as problem:
        fail(f"--{problem.field}: {problem}", EXIT_USAGE)


def _within(value: str | None) -> int | None:
    from keepscore.funnel.filters import MAX_WITHIN_DAYS

    if value is None or not value.strip():
        return None
    text = value.strip()
    if not text.lstrip("-").isdigit():
        fail(f"--within: {value[:40]!r} is not a whole number of days", EXIT_USAGE)
    days = int(text[:12])
    if not 0 <= days <= MAX_WITHIN_DAYS:
        fail(f"--within: give a number of days from 0 to {MAX_WITHIN_DAYS}, not {text}", EXIT_USAGE)
    return days


def options_parse(
    from_: str | None, to: str | None, by: str, within: str | None
) -> tuple[Period, str | None, int | None]:
    """The period, grouping and window the options ask for, or a one-line usage error."""
    from keepscore.funnel.filters import by_parse, default_period

    period = period_options(from_, to, default_period())
    try:
        grouping = by_parse(by)
    except ValueError as error:
        fail(f"--by: {error}", EXIT_USAGE)
    return period, grouping, _within(within)


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def csv_write(report: FunnelReport, out: Any) -> None:
    from keepscore.exports.writers import escape_formula

    data = report.as_dict()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for group in data["groups"]:
        for c in group["conversions"]:
            writer.writerow(
                [
                    data["period"]["from"],
                    data["period"]["to"],
                    data["by"] or "",
                    "" if data["within_days"] is None else data["within_days"],
                    escape_formula(group["key"]),
                    escape_formula(group["label"]),
                    c["from"],
                    c["to"],
                    c["k"],
                    c["n"],
                    _number(c["rate"]),
                    _number(c["ci_low"]),
                    _number(c["ci_high"]),
                    "true" if c["enough"] else "false",
                ]
            )


def table_print(report: FunnelReport) -> None:
    from rich.table import Table

    from keepscore.funnel.filters import BY_LABELS, UNGROUPED, rate_text
    from keepscore.funnel.presenters import step_name

    console = stdout()
    by = BY_LABELS.get(report.by or UNGROUPED, report.by or "")
    days = report.within_days
    window = "" if days is None else f", conversions within {days} days"
    console.print(
        f"[bold]Funnel[/] {report.period.start} to {report.period.end}, "
        f"grouped by {escape(by.lower())}{escape(window)}"
    )
    if not report.groups:
        console.print("No lead moved in this period.")
        return
    for group in report.groups:
        names = {s.key: s.name for s in group.stages}
        stages = Table(title=escape(group.label), title_justify="left", title_style="bold")
        stages.add_column("Stage")
        stages.add_column("Reached", justify="right")
        stages.add_column("Entered", justify="right")
        for s in group.stages:
            stages.add_row(escape(s.name), str(s.reached), str(s.entered))
        steps = Table(show_header=True)
        steps.add_column("Step")
        steps.add_column("Conversion (k of n, 95% CI)")
        for c in group.conversions:
            name = step_name(step=c, names=names, arrow="->")
            steps.add_row(escape(name), escape(rate_text(c.rate)))
        console.print(stages)
        console.print(steps)


def funnel(
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="First day, YYYY-MM-DD (12 months ago)."),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", help="Last day, YYYY-MM-DD (end of last month)."),
    ] = None,
    by: Annotated[str, typer.Option("--by", help=BY_HELP)] = "channel",
    within: Annotated[
        str | None,
        typer.Option("--within", metavar="DAYS", help="Count conversions only within DAYS."),
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """The funnel per group: each stage's reached / entered, each step's conversion (k of n,
    95% interval). Defaults: the last 12 full months, by channel, no window."""
    with errors():
        django_setup()
        from keepscore.funnel import selectors

        period, grouping, days = options_parse(from_, to, by, within)
        organization = organization_resolve(org)
        report = selectors.funnel(
            organization=organization, period=period, by=grouping, within_days=days
        )
        if fmt is Format.json:
            sys.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
        elif fmt is Format.csv:
            csv_write(report, sys.stdout)
        else:
            table_print(report)
        sys.stdout.flush()
