"""``keepscore tasks``: the follow-ups to do, by owner and due day, as a table or JSON.

``--format json`` prints the same items as ``GET /api/v1/tasks``::

    {"items": [{"id": 7, "lead": 12, "lead_name": "Ann Archer", "kind": "call",
                "due_on": "2026-12-02", "due_time": null, "owner": "sam@example.com",
                "note": "", "done": false, "done_at": null, "overdue": true,
                "activity": null}], "count": 1}
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from keepscore.cli.common import django_setup, errors, fail, organization_resolve, say, stdout


class Format(StrEnum):
    table = "table"
    json = "json"


class Due(StrEnum):
    today = "today"
    overdue = "overdue"
    week = "week"


def tasks(
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only this member's (email).")
    ] = None,
    due: Annotated[
        Due | None,
        typer.Option("--due", help="overdue; today (due today or overdue); week (within 7 days)."),
    ] = None,
    done: Annotated[
        bool, typer.Option("--done/--open", help="Done ones instead of the open ones.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """The follow-ups (next steps with leads), soonest due first: open ones unless --done."""
    with errors():
        django_setup()
        from django.core.exceptions import ValidationError
        from django.utils import timezone

        from keepscore.api.leads import member_by_email
        from keepscore.api.tasks import TaskOut
        from keepscore.followups.selectors import followup_list

        organization = organization_resolve(org)
        try:
            member = member_by_email(organization, owner, "--owner")
        except ValidationError as error:
            fail(" ".join(error.messages))
        if done and due is not None:
            fail("--due picks open follow-ups: leave it out with --done", 2)
        items = list(
            followup_list(
                organization=organization, owner=member, done=done, due=due.value if due else None
            )
        )
        now = timezone.localtime()
        rows = [TaskOut.of(f, now) for f in items]
        if fmt is Format.json:
            payload = {"items": [r.model_dump(mode="json") for r in rows], "count": len(rows)}
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
            sys.stdout.flush()
            return
        if not rows:
            say(f"{escape(organization.slug)}: no follow-ups{_which(owner, due, done)}")
            return
        table = Table(
            title=f"{organization.slug}: follow-ups{_which(owner, due, done)}",
            title_justify="left",
        )
        for name in ("due", "what", "lead", "owner", "note"):
            table.add_column(name)
        for r in rows:
            when = f"{r.due_on:%Y-%m-%d}" + (f" {r.due_time:%H:%M}" if r.due_time else "")
            if r.overdue:
                when = f"[red]{when} overdue[/]"
            table.add_row(
                when,
                r.kind,
                escape(f"{r.lead_name} (#{r.lead})"),
                escape(r.owner or "nobody"),
                escape(r.note),
            )
        stdout().print(table)


def _which(owner: str | None, due: Due | None, done: bool) -> str:
    parts = ["done" if done else "open"]
    if due is not None:
        parts.append({"today": "due today", "overdue": "overdue", "week": "due this week"}[due])
    if owner:
        parts.append(f"of {owner}")
    return " (" + ", ".join(escape(p) for p in parts) + ")"
