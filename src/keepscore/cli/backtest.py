"""``keepscore backtest``: how the pace's year-end projection did on the organization's own
history: at the end of every month of every whole year, projected as known then, against
what the year came to (docs/numbers.md, "Pace")."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from keepscore.cli.common import django_setup, errors, organization_resolve, say, stdout


class Format(StrEnum):
    table = "table"
    json = "json"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def backtest(
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Backtest the pace: the median error of the projected year end (all month ends, and
    at the end of November) and how often the year's outcome fell inside its 95% interval,
    for customers, revenue and new leads."""
    with errors():
        django_setup()
        from keepscore.scorecard.backtest import backtest as run

        organization = organization_resolve(org)
        result = run(organization)
        if fmt is Format.json:
            sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
            sys.stdout.flush()
            return
        if not result.years:
            say(f"{escape(organization.slug)}: no whole year of history yet: nothing to backtest")
            return
        years = ", ".join(str(y) for y in result.years)
        table = Table(
            title=f"{organization.slug}: the pace's projection at each month end of {years}",
            title_justify="left",
        )
        for name in ("metric", "month ends", "median error", "at 11 months", "95% coverage"):
            table.add_column(name, justify="left" if name == "metric" else "right")
        for r in result.results:
            table.add_row(
                r.metric,
                str(len(r.points)),
                _pct(r.median_error),
                _pct(r.median_error_late),
                _pct(r.coverage),
            )
        stdout().print(table)
