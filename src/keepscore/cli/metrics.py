"""``keepscore metrics import|list``, ``keepscore target set|clear``, ``keepscore goal set|clear``:
the scorecard's manual values, targets and annual goals."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

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
    from keepscore.imports.manual_values import MetricImportResult

HELP = {"help_option_names": ["-h", "--help"]}
metrics_app = typer.Typer(
    help="Scorecard metrics: list the catalogue, import manual values (CSV or XLSX).",
    no_args_is_help=True,
    context_settings=HELP,
)
target_app = typer.Typer(
    help="Monthly targets per metric: set, clear.", no_args_is_help=True, context_settings=HELP
)
goal_app = typer.Typer(
    help="Annual goals per metric: set, clear.", no_args_is_help=True, context_settings=HELP
)

OrgOption = Annotated[str | None, typer.Option("--org", help="The organization's slug.")]
MetricArg = Annotated[str, typer.Argument(help="The metric's key (see `keepscore metrics list`).")]
MonthArg = Annotated[str, typer.Argument(help="The month, YYYY-MM.")]
YearArg = Annotated[str, typer.Argument(help="The year, e.g. 2026.")]
ValueArg = Annotated[str, typer.Argument(help="The value, in the metric's unit (25 for 25%).")]
#: report lines printed; the whole report goes to FILE.report.csv
SHOWN = 20


def _report(result: MetricImportResult, path: Path) -> None:
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
    for error in result.errors[:SHOWN]:
        column = f", column {error.column}" if error.column else ""
        say(f"line {error.line}{escape(column)}: {escape(error.reason)}")
    if result.errors_total > SHOWN:
        say(f"… and {result.errors_total - SHOWN} more problems.")
    say(f"Full report: {escape(str(report))}")


@metrics_app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="CSV or XLSX: metric,month,value."
        ),
    ],
    org: OrgOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check; write nothing.")] = False,
) -> None:
    """Import manual metric values (columns metric,month,value): all or nothing; importing
    the same file again changes nothing."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.imports.manual_values import metrics_import

        organization = organization_resolve(org)
        with progress_bar() as progress:
            result = metrics_import(organization, file, None, dry_run=dry_run, progress=progress)
        if not result.problems:
            _report(result, file)
        if result.problems:
            fail("nothing imported: " + "; ".join(result.problems))
        if result.errors_total:
            fail(f"nothing imported: {result.errors_total} problems in {result.rows} rows")
        if result.dry_run:
            say(f"Dry run: {result.rows} values checked, nothing written.")
            return
        say(
            f"[green]Imported {result.rows} values[/] ({result.created} new, "
            f"{result.updated} changed, {result.unchanged} unchanged)."
        )


@metrics_app.command("list")
def list_(org: OrgOption = None) -> None:
    """The organization's metrics: key, group, unit, computed or manual, and name."""
    with errors():
        django_setup()
        migrate_if_needed()
        from rich.table import Table

        from keepscore.cli.common import stdout
        from keepscore.scorecard.selectors import metric_catalogue_with_manual

        organization = organization_resolve(org)
        table = Table("key", "group", "unit", "kind", "name", box=None, pad_edge=False)
        for m in metric_catalogue_with_manual(organization=organization):
            table.add_row(
                escape(m.key),
                m.group,
                m.unit,
                "manual" if m.manual else "computed",
                escape(m.name),
            )
        stdout().print(table)


@target_app.command("set")
def target_set(metric: MetricArg, month: MonthArg, value: ValueArg, org: OrgOption = None) -> None:
    """Set a metric's target for a month."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.common.months import month_str
        from keepscore.scorecard import checks, services

        organization = organization_resolve(org)
        target = services.target_set(
            organization=organization, metric_key=metric, month=month, value=value
        )
        say(
            f"Target {escape(metric)} {month_str(target.month)}: "
            f"{escape(checks.plain(value=target.value) or '')}."
        )


@target_app.command("clear")
def target_clear(metric: MetricArg, month: MonthArg, org: OrgOption = None) -> None:
    """Remove a metric's target for a month."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.common.months import month_parse, month_str
        from keepscore.scorecard import services

        organization = organization_resolve(org)
        first = month_parse(month)
        had = services.target_clear(organization=organization, metric_key=metric, month=first)
        when = month_str(first)
        say(f"Cleared the target {escape(metric)} {when}." if had else f"No target {when}.")


@goal_app.command("set")
def goal_set(metric: MetricArg, year: YearArg, value: ValueArg, org: OrgOption = None) -> None:
    """Set a metric's annual goal."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.scorecard import checks, services

        organization = organization_resolve(org)
        goal = services.goal_set(
            organization=organization, metric_key=metric, year=year, value=value
        )
        say(f"Goal {escape(metric)} {goal.year}: {escape(checks.plain(value=goal.value) or '')}.")


@goal_app.command("clear")
def goal_clear(metric: MetricArg, year: YearArg, org: OrgOption = None) -> None:
    """Remove a metric's annual goal."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.common.months import year_check
        from keepscore.scorecard import services

        organization = organization_resolve(org)
        number = year_check(year)
        had = services.goal_clear(organization=organization, metric_key=metric, year=number)
        say(f"Cleared the goal {escape(metric)} {number}." if had else f"No goal {number}.")
