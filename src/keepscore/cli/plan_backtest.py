"""``keepscore plan-backtest``: how the plan's range and its verdict did on the organization's
own history (docs/numbers.md, "The plan's backtest"). A command of its own, not a sub-command
of ``keepscore plan``, whose first argument is the year (``keepscore plan 2027``): a
sub-command there would make "backtest" a year."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from keepscore.cli.backtest import Format, _pct
from keepscore.cli.common import django_setup, errors, organization_resolve, say, stdout

#: the verdicts in words (the table shows no internal keys)
WORDS = {
    "on_plan": "on plan",
    "sales": "the gap is sales",
    "marketing": "the gap is marketing",
    "both": "sales and marketing",
    "watch": "under plan within chance",
    "early": "too early",
}


def plan_backtest(
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Backtest the plan: at every month end with a year of history, the plan measured as
    known then and run over the next 3 and 6 months on the leads that came: how often the
    customers fell in its 80% range, its median error, and the leads it would have said were
    needed against those that came; and how often its verdict at months 3 to 9 of a year was
    December's."""
    with errors():
        django_setup()
        from keepscore.plan.backtest import EARLY
        from keepscore.plan.backtest import plan_backtest as run

        organization = organization_resolve(org)
        result = run(organization)
        if fmt is Format.json:
            sys.stdout.write(json.dumps(result.as_dict(), indent=2) + "\n")
            sys.stdout.flush()
            return
        slug = escape(organization.slug)
        if not any(h.points for h in result.horizons) and not result.verdicts.years:
            say(f"{slug}: no month end with a year of history before it yet: nothing to backtest")
            return
        table = Table(
            title=f"{slug}: the plan's customers, measured at each month end, against the next "
            "months",
            title_justify="left",
        )
        heads = ("months ahead", "month ends", "in 80% range", "median error")
        for name in (*heads, "leads needed / came", "needed in its 80% range"):
            table.add_column(name, justify="right")
        for h in result.horizons:
            ratio = "—" if h.median_ratio is None else f"{h.median_ratio:.2f}"
            table.add_row(
                str(h.horizon),
                str(len(h.points)),
                _pct(h.coverage),
                _pct(h.median_error),
                ratio,
                _pct(h.needed_coverage),
            )
        console = stdout()
        console.print(table)
        verdicts = result.verdicts
        same, n = verdicts.agreement()
        if not n:
            say("No whole year with a year of history before it: the verdict is not backtested.")
            return
        kinds = Table(
            title=f"The verdict at months {EARLY[0]}-{EARLY[-1]} against December's: "
            f"{len(verdicts.years)} plans (last year's customers, +0% and +20%), "
            f"{same} of {n} the same",
            title_justify="left",
        )
        for name in ("verdict", "given", "December's too"):
            kinds.add_column(name, justify="left" if name == "verdict" else "right")
        for kind, (agree, given) in verdicts.by_kind().items():
            kinds.add_row(WORDS[kind], str(given), f"{agree} ({agree / given:.0%})")
        console.print(kinds)
        behind, _n = verdicts.behind_agreement()
        confirmed, early_behind = verdicts.behind_confirmed()
        changed, steps = verdicts.changes()
        say(
            f"Behind the plan or not, as December says: {behind} of {n}. Early 'behind' "
            f"verdicts still behind in December: {confirmed} of {early_behind}. "
            f"Month-to-month changes from March: {changed} of {steps}."
        )
