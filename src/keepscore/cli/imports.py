"""``keepscore import leads|deals FILE``: CSV/XLSX imports, all-or-nothing, with a report."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from keepscore.cli.common import (
    EXIT_USAGE,
    django_setup,
    errors,
    fail,
    migrate_if_needed,
    organization_resolve,
    progress_bar,
    say,
)

if TYPE_CHECKING:
    from keepscore.imports.report import ImportResult

app = typer.Typer(
    help="Import leads (CSV or XLSX; presets plain, olist, hubspot, pipedrive, salesforce), "
    "closed deals (olist), or a whole organization from an `export all` zip.",
    no_args_is_help=True,
)

#: report lines printed; the whole report goes to FILE.report.csv
SHOWN = 20
#: files bigger than this get a progress bar
PROGRESS_FROM = 5 * 1024 * 1024

FileArg = Annotated[
    Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV or XLSX file.")
]
OrgOpt = Annotated[str | None, typer.Option("--org", help="Organization slug.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Check and report; write nothing.")]
SkipOpt = Annotated[
    bool,
    typer.Option(
        "--skip-invalid", help="Import the valid rows; write the others to FILE.rejected.csv."
    ),
]
DateOpt = Annotated[
    str | None,
    typer.Option("--date-format", help="e.g. DD/MM/YYYY when the dates are ambiguous."),
]
EncodingOpt = Annotated[
    str,
    typer.Option(
        "--encoding",
        help="A CSV's encoding when it is not UTF-8 or Windows-1252 (the import says which "
        "it looks like), e.g. gb18030, mac-roman, cp437.",
    ),
]


def _pairs(values: list[str], option: str, shape: str = "COLUMN=FIELD") -> dict[str, str]:
    from keepscore.imports.options import pairs_list_parse

    try:
        return pairs_list_parse(values, shape)
    except ValueError as error:
        fail(f"{option}: {error}", EXIT_USAGE)


def match_parse(text: str | None) -> tuple[str, ...] | None:
    """``--match id,email`` → ("external_id", "email"); None: the default (all three)."""
    from keepscore.imports import options

    if text is None:
        return None
    try:
        return options.match_parse(text)
    except ValueError as error:
        fail(f"--match: {error}", EXIT_USAGE)


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[str, float], None] | None]:
    if path.stat().st_size < PROGRESS_FROM:
        yield None
        return
    with progress_bar() as update:
        yield update


def _report(result: ImportResult, path: Path, stages: dict[str, str] | None = None) -> None:
    """The summary (with the columns' fields in plain words, to confirm), the first bad
    rows, and the whole report in FILE.report.csv. ``stages``: the ladder's key → name."""
    if result.problems and not result.file_format:
        return  # the file could not be opened: the problem says why
    verb = "Checked" if result.dry_run else "Read"
    say(f"{verb} {escape(result.file)} ({escape(result.file_format)}): {result.rows} rows.")
    if result.columns:
        from keepscore.imports.headers import label as field_label

        say("Columns (file → field):")
        for column, target in result.columns.items():
            say(f"  {escape(column)} → {escape(field_label(target, stages))}")
    for column, fmt in result.date_formats.items():
        say(f"  dates in {escape(column)}: {escape(fmt)}")
    if result.ignored_columns:
        say(f"  ignored columns: {escape(', '.join(result.ignored_columns))}")
    if result.errors_total or result.duplicate_rows or result.warnings:
        report = path.with_name(path.name + ".report.csv")
        with report.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["line", "column", "problem", "matched_lead"])
            for error in result.errors:
                writer.writerow([error.line, error.column, error.reason, ""])
            for dup in result.duplicate_rows:
                lead = "" if dup.lead is None else dup.lead
                writer.writerow([dup.line, dup.column, f"duplicate: {dup.reason}", lead])
            for warning in result.warnings:
                writer.writerow([warning.line, warning.column, f"warning: {warning.reason}", ""])
        for error in result.errors[:SHOWN]:
            column = f", column {error.column}" if error.column else ""
            say(f"line {error.line}{escape(column)}: {escape(error.reason)}")
        if result.errors_total > SHOWN:
            say(f"… and {result.errors_total - SHOWN} more problems.")
        say(f"Full report: {escape(str(report))}")
    for warning in result.warnings[:SHOWN]:
        say(
            f"line {warning.line}, column {escape(warning.column)}: warning: "
            f"{escape(warning.reason)}"
        )
    if result.warnings_total:
        say(
            f"{result.warnings_total} warnings (rows imported as they are, "
            "with something to know about them)."
        )
    if result.duplicates:
        say(f"{result.duplicates} duplicates (already there or repeated in the file): skipped.")
        for dup in result.duplicate_rows[:SHOWN]:
            say(f"  line {dup.line}: {escape(dup.reason)}")
        if result.duplicates > SHOWN:
            say(f"  … and {result.duplicates - SHOWN} more (in the full report).")


def would_create_text(would: dict[str, Any]) -> str:
    """``3 members (Ann <ann@x.com>, …), 2 channels (…), …; leads per stage: Lead 120, …``"""

    def listed(items: list[str], one: str, many: str) -> str:
        shown = ", ".join(items[:10]) + (", …" if len(items) > 10 else "")
        return f"{len(items)} {one if len(items) == 1 else many} ({shown})"

    members = [
        (f"{m['name']} <{m['email']}>" if m.get("name") else m["email"])
        + (f" as {' and '.join(m['roles'])}" if m.get("roles") else "")
        for m in would.get("members", [])
    ]
    parts = [
        listed(items, one, many)
        for items, one, many in (
            (members, "member", "members"),
            (would.get("channels", []), "channel", "channels"),
            (would.get("campaigns", []), "campaign", "campaigns"),
            (would.get("lost_reasons", []), "lost reason", "lost reasons"),
            (would.get("facts", []), "fact", "facts"),
        )
        if items
    ]
    text = ", ".join(parts) or "no members, channels, campaigns, lost reasons or facts"
    stages = would.get("stages", {})
    if stages:
        text += "; leads per stage: " + ", ".join(f"{name} {n}" for name, n in stages.items())
    return text


def _finish(
    result: ImportResult, path: Path, what: str, stages: dict[str, str] | None = None
) -> None:
    _report(result, path, stages)
    if result.problems:
        fail("nothing imported: " + "; ".join(result.problems))
    if result.failed:
        fail(
            f"nothing imported: {result.rejected} of {result.rows} rows have errors "
            "(fix them, or use --skip-invalid to import the others)"
        )
    if result.dry_run:
        if result.would_create:
            say(f"Would create: {escape(would_create_text(result.would_create))}.")
        if result.update:
            say(f"Would update {result.updated} existing leads (rows matching them).")
        new = result.rows - result.rejected - result.duplicates - result.updated
        say(
            f"Dry run: {new} {what} would be imported, {result.duplicates} duplicates, "
            f"{result.rejected} rejected. Nothing written."
        )
        return
    if result.would_create:
        say(f"Created: {escape(would_create_text(result.would_create))}.")
    if result.update:
        say(f"Updated {result.updated} leads.")
    say(
        f"[green]Imported {result.created} {what}[/] ({result.duplicates} duplicates, "
        f"{result.rejected} rejected)."
    )
    if result.rejected_path is not None:
        say(f"Rejected rows: {escape(str(result.rejected_path))}")


@app.command("leads")
def leads(
    file: FileArg,
    preset: Annotated[
        str, typer.Option("--preset", help="plain, olist, hubspot, pipedrive or salesforce.")
    ] = "plain",
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help='COLUMN=FIELD (repeatable): FIELD in plain words ("Date of first contact"), '
            'a header word ("E-mail") or a key (created); several fields separated by commas '
            "(COLUMN=created,lead_at); fact:NAME keeps the column as a lead fact; - ignores "
            "the column.",
        ),
    ] = None,
    date_format: DateOpt = None,
    stage_map: Annotated[
        str | None, typer.Option("--stage-map", help="'Engaging=lead,Won=customer'.")
    ] = None,
    owner_map: Annotated[
        str | None, typer.Option("--owner-map", help="'Ann=ann@example.com,…'.")
    ] = None,
    no_new_members: Annotated[
        bool, typer.Option("--no-new-members", help="Unknown owners are errors.")
    ] = False,
    default: Annotated[
        list[str] | None,
        typer.Option(
            "--default",
            help="FIELD=VALUE (repeatable): the value of the rows that have none, e.g. "
            "source='Sales team', lost_reason='Not recorded', owner=…, revenue=0, "
            "created=YYYY-MM-DD; overrides the preset's.",
        ),
    ] = None,
    missing_dates: Annotated[
        str,
        typer.Option(
            "--missing-dates",
            help="A row without a date of first contact: error (default) or now (the moment "
            "of the import, reported as a warning).",
        ),
    ] = "error",
    org: OrgOpt = None,
    dry_run: DryRunOpt = False,
    skip_invalid: SkipOpt = False,
    encoding: EncodingOpt = "",
    match: Annotated[
        str | None,
        typer.Option(
            "--match",
            help="What makes a row a duplicate: any of id, email, phone (comma-separated; "
            "default all three; id is the source system's id).",
        ),
    ] = None,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="A row matching an existing lead updates it (contact fields the file fills "
            "or changes, the stage forward only) instead of being skipped.",
        ),
    ] = False,
) -> None:
    """Import leads from a CSV or XLSX file: all or nothing, with a row-by-row report.

    --map COLUMN=FIELD sends a column to a field (its key, its plain name or a usual header),
    to several (COLUMN=created,lead_at), or keeps it as a lead fact (COLUMN=fact:NAME)."""
    with errors():
        django_setup()
        from keepscore.imports.options import defaults_parse, missing_dates_check, pairs_parse
        from keepscore.imports.services import import_leads

        try:
            stages = pairs_parse(stage_map, "--stage-map")
            owners = pairs_parse(owner_map, "--owner-map")
            missing = missing_dates_check(missing_dates)
        except ValueError as error:
            fail(str(error), EXIT_USAGE)
        mapping = _pairs(map_ or [], "--map")
        given = _pairs(default or [], "--default", "FIELD=VALUE")
        keys = match_parse(match)
        migrate_if_needed()
        organization = organization_resolve(org)
        try:
            defaults = defaults_parse(organization, given)
        except ValueError as error:
            fail(str(error), EXIT_USAGE)
        with _progress(file) as progress:
            result = import_leads(
                organization=organization,
                path=file,
                preset=preset,
                mapping=mapping,
                date_format=date_format,
                stage_map=stages,
                owner_map=owners,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                new_members=not no_new_members,
                progress=progress,
                encoding=encoding,
                defaults=defaults,
                missing_dates=missing,
                match=keys,
                update=update,
            )
        from keepscore.leads.models import Stage

        ladder = Stage.objects.for_org(organization)
        _finish(result, file, "leads", {s.key: s.name for s in ladder})


@app.command("deals")
def deals(
    file: FileArg,
    preset: Annotated[str, typer.Option("--preset", help="olist.")] = "olist",
    date_format: DateOpt = None,
    org: OrgOpt = None,
    dry_run: DryRunOpt = False,
    encoding: EncodingOpt = "",
) -> None:
    """Mark imported leads won from a closed-deals file (the Olist data set)."""
    with errors():
        django_setup()
        from keepscore.imports.deals import import_deals

        migrate_if_needed()
        organization = organization_resolve(org)
        result = import_deals(
            organization=organization,
            path=file,
            preset=preset,
            date_format=date_format,
            dry_run=dry_run,
            encoding=encoding,
        )
        _finish(result, file, "deals won")


@app.command("all")
def everything(
    file: Annotated[
        Path,
        typer.Argument(dir_okay=False, help="The zip `keepscore export all` wrote."),
    ],
    org: Annotated[
        str,
        typer.Option("--org", help="Slug of the organization to make (or an existing, empty one)."),
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="Its name; default: the exported one's.")
    ] = None,
) -> None:
    """Read an `export all` zip into a new, empty organization: the same leads (matched by
    their exported ids: leads sharing a phone number are not merged), their stage history,
    outcomes, activities, objections, follow-ups, and the settings the figures use. All or
    nothing: a bad archive leaves nothing behind and its error names the file, row and
    column. Members are matched by email; people without a user here get one without
    login (`keepscore setpassword` gives them one)."""
    with errors():
        django_setup()
        from keepscore.imports.archive import ArchiveError, import_archive

        migrate_if_needed()
        try:
            with progress_bar() as update:
                result = import_archive(path=file, slug=org, name=name, progress=update)
        except ArchiveError as error:
            fail(f"nothing imported: {error}")
        counts = result.counts
        main = ", ".join(
            f"{counts.get(table, 0):,} {label}"
            for table, label in (
                ("leads", "leads"),
                ("stage_changes", "stage changes"),
                ("outcomes", "outcomes"),
                ("activities", "activities"),
                ("objections", "objections"),
                ("follow_ups", "follow-ups"),
            )
        )
        rest = sum(
            n
            for table, n in counts.items()
            if table
            not in {"leads", "stage_changes", "outcomes", "activities", "objections", "follow_ups"}
        )
        say(
            f"[green]Imported {escape(file.name)} into {escape(result.organization.slug)}[/] "
            f"({escape(result.organization.name)}): {main}, and {rest:,} rows of settings, "
            f"money and scorecard; {result.seconds:.1f} s."
        )
        if result.new_users:
            shown = ", ".join(result.new_users[:10]) + (" …" if len(result.new_users) > 10 else "")
            say(
                f"{len(result.new_users)} new users without login: {escape(shown)} "
                "(`keepscore setpassword EMAIL` lets one log in)."
            )
        for note in result.notes:
            say(f"Note: {escape(note)}.")
