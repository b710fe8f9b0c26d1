"""``keepscore audit``: the audit log of an organization, newest first, as a table, JSON
lines' array or CSV (the same columns as the owners' page and its CSV).

Without ``--org`` and with several organizations, ``--none`` lists the events that belong
to no organization (failed sign-ins of accounts that do not exist)."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from keepscore.cli.common import (
    EXIT_USAGE,
    django_setup,
    errors,
    fail,
    organization_resolve,
    stdout,
)
from keepscore.cli.funnel import date_option


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def audit(
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    from_: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD (inclusive).")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Last day, YYYY-MM-DD (inclusive).")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="Only this kind (e.g. login_failed).")
    ] = None,
    none: Annotated[
        bool, typer.Option("--none", help="The events of no organization instead.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many.")] = 200,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Who changed, imported, exported, signed in or was refused what, newest first."""
    with errors():
        django_setup()
        from keepscore.audit.models import Action
        from keepscore.audit.selectors import (
            COLUMNS,
            AuditFilters,
            event_rows,
            events_of,
            user_names,
        )

        if action and action not in Action.values:
            fail(f"--action: {action!r} is none of {', '.join(Action.values)}", EXIT_USAGE)
        since, until = date_option(from_, "--from"), date_option(to, "--to")
        if since and until and since > until:
            fail("--to is before --from", EXIT_USAGE)
        if none and org:
            fail("--none lists the events of no organization: leave --org out", EXIT_USAGE)
        organization = None if none else organization_resolve(org)
        filters = AuditFilters(since=since, until=until, action=action or "")
        events = list(events_of(organization=organization, filters=filters)[:limit])
        rows = list(event_rows(events=events, names=user_names(ids=(e.user_id for e in events))))
        if fmt is Format.json:
            items = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
            sys.stdout.write(json.dumps(items, indent=2) + "\n")
        elif fmt is Format.csv:
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(rows)
        else:
            title = "no organization" if organization is None else organization.slug
            table = Table(title=f"{escape(title)}: audit log", title_justify="left")
            for name in ("at", "who", "via", "action", "object", "summary"):
                table.add_column(name)
            for at, via, _uid, user, _mid, _addr, what, kind, pk, summary in rows:
                thing = f"{kind} #{pk}" if pk else kind
                table.add_row(at, escape(str(user or "-")), via, what, thing, escape(summary))
            stdout().print(table)
        sys.stdout.flush()
