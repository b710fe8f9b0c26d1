"""``keepscore plan``: the year's plan — from the goal back to the customers, proposals,
qualified leads, leads and spend each month needs, with each assumption and its source
(docs/numbers.md, "The plan"). ``--set`` tries an assumption (what-if) without saving;
``--save`` stores the goal and the assumptions set. ``--format json`` prints the body of
``GET /api/v1/plan/{year}``.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from keepscore.cli.common import django_setup, errors, fail, organization_resolve, stdout

if TYPE_CHECKING:
    from keepscore.plan.selectors import PlanReport


class Format(StrEnum):
    table = "table"
    json = "json"


def _overrides(pairs: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            fail(f"--set {pair!r}: write NAME=VALUE, e.g. --set to_customer=30%")
        out[name.strip()] = value.strip()
    return out


def _goal(revenue: float | None, margin: float | None, customers: float | None) -> Any:
    given = [
        (k, v)
        for k, v in (("revenue", revenue), ("margin", margin), ("customers", customers))
        if v is not None
    ]
    if len(given) > 1:
        fail("give one goal: --revenue, --margin or --customers")
    return given[0] if given else None


def table_print(report: PlanReport, money: Any) -> None:
    from rich import box
    from rich.table import Table

    from keepscore.plan.assumptions import FIELDS

    console = stdout()
    a = report.assumptions
    goal = report.goal
    title = f"[bold]Plan {report.year}[/]"
    if goal is None:
        console.print(f"{title}: no goal yet (give --revenue, --margin or --customers)")
    else:
        amount = money(goal.amount) if goal.kind != "customers" else f"{goal.amount:,.0f}"
        console.print(f"{title}: {goal.kind} {amount}")
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, title="Assumptions")
    for heading in ("Assumption", "Used", "Source"):
        table.add_column(heading, overflow="fold")
    sources = report.measured.sources
    for name, label in FIELDS.items():
        value = getattr(a, name)
        if name.startswith("to_"):
            used = "—" if value.value is None else f"{value.value:.1%}"
        elif name == "deal_value":
            used = "—" if value is None else money(value)
        elif name == "margin_pct":
            used = "—" if value is None else f"{value:.1%}"
        else:
            used = str(value)
        mark = " (set)" if name in report.overrides else ""
        table.add_row(label, used + mark, escape(sources[name]))
    console.print(table)
    if report.missing:
        console.print("[yellow]The plan needs:[/] " + escape("; ".join(report.missing)))
        console.print("Set them with --set NAME=VALUE (e.g. --set to_proposal=40%).")
        return
    plan = report.plan
    if plan is None or not plan.months:
        return
    months = Table(box=box.SIMPLE_HEAD, padding=(0, 1), pad_edge=False, title="Each month")
    for heading in ("Month", "Customers", "Proposals", "Qualified", "Leads", "80% range", "Spend"):
        months.add_column(heading, justify="right" if heading != "Month" else "left")
    r = report.range
    for i, m in enumerate(plan.months):
        span = ""
        if r is not None:
            low, high = r.leads_by_month[i].low, r.leads_by_month[i].high
            span = f"{low:,.0f}\u2013{high:,.0f}"
        months.add_row(
            f"{m.month:%b %Y}",
            f"{m.customers:,.1f}",
            f"{m.proposals:,.1f}",
            f"{m.qualified:,.1f}",
            f"{m.leads:,.0f}",
            span,
            money(m.spend),
        )
    console.print(months)
    total = f"Year: {plan.customers:,.0f} customers, {plan.leads:,.0f} leads"
    if r is not None:
        total += f" (80% range {r.leads.low:,.0f}\u2013{r.leads.high:,.0f})"
    total += f", spend {money(plan.spend)}"
    console.print(total)
    if plan.before_year:
        console.print(
            f"Customers of the first {a.cycle_months} month{'s' if a.cycle_months != 1 else ''} "
            f"need {plan.before_year:,.0f} leads "
            f"arriving before January {report.year}."
        )


def plan(
    year: Annotated[
        int | None, typer.Argument(help="The year (default: this one; from October, the next).")
    ] = None,
    revenue: Annotated[float | None, typer.Option(help="The goal: revenue of the year.")] = None,
    margin: Annotated[float | None, typer.Option(help="The goal: margin of the year.")] = None,
    customers: Annotated[
        float | None, typer.Option(help="The goal: customers of the year.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help="An assumption by hand: deal_value, margin_pct, to_qualified, to_proposal, "
            "to_customer (e.g. 30%), cycle_months, share:<channel>, cost_per_lead:<channel>.",
        ),
    ] = None,
    save: Annotated[bool, typer.Option("--save", help="Store the goal and assumptions.")] = False,
    accept: Annotated[
        bool,
        typer.Option("--accept", help="Write the stored plan's targets into the scorecard."),
    ] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="With --accept: replace targets typed by hand.")
    ] = False,
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """The year's plan from its goal: customers, proposals, qualified leads, leads and spend
    per month and channel, with the assumptions and their sources. Without --save nothing is
    stored (a what-if over the stored plan); --set adds to the stored assumptions, and
    NAME= (no value) measures one again."""
    with errors():
        django_setup()
        from keepscore.common.money import money_format
        from keepscore.plan.assumptions import default_year, goal_clean
        from keepscore.plan.engine import Goal
        from keepscore.plan.report_json import report_dict
        from keepscore.plan.selectors import overrides_stored, plan_report
        from keepscore.plan.services import plan_accept, plan_save

        organization = organization_resolve(org)
        chosen_year = year if year is not None else default_year()
        given = _goal(revenue, margin, customers)
        # what --set gives over what is stored (NAME= with no value: measured again)
        overrides = {
            **overrides_stored(organization=organization, year=chosen_year),
            **_overrides(set_ or []),
        }
        if save:
            if given is None:
                fail("--save needs the goal: --revenue, --margin or --customers")
            report = plan_save(
                organization=organization,
                year=chosen_year,
                goal_kind=given[0],
                goal_amount=given[1],
                overrides=overrides,
                by=None,
            )
        else:
            goal: Goal | None = goal_clean(kind=given[0], amount=given[1]) if given else None
            report = plan_report(
                organization=organization, year=chosen_year, goal=goal, overrides=overrides
            )
        if accept:
            done = plan_accept(
                organization=organization, year=chosen_year, by=None, replace=replace
            )
            stdout().print(f"Wrote {done.written} targets and goals of {chosen_year}.")
            for item in done.kept:
                stdout().print(f"  kept (typed by hand): {escape(item)}")
            return
        if fmt is Format.json:
            body = report_dict(report, organization.currency)
            sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
        else:
            table_print(report, lambda v: money_format(v, organization))
            if save:
                stdout().print(f"Saved the plan of {chosen_year}.")
        sys.stdout.flush()
