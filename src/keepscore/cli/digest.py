"""``keepscore digest send``: the morning digests due now, by hand (the worker sends them
every hour on its own)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from keepscore.cli.common import django_setup, errors, organization_resolve, say, stdout

app = typer.Typer(help="The morning digest of follow-ups due.", no_args_is_help=True)


@app.command("send")
def send(
    org: Annotated[
        str | None, typer.Option("--org", help="Only this organization (slug); all if left out.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say who would get one; send and record nothing.")
    ] = False,
) -> None:
    """Send the digests due now: to each member who chose it and has follow-ups due today or
    overdue, once a day, at or after DIGEST_HOUR (7) local time."""
    with errors():
        django_setup()
        from keepscore.followups.digest import digest_hour, digest_send, digests_due

        organization = organization_resolve(org) if org else None
        digests = digests_due(organization)
        if not digests:
            say(
                f"No digest to send now (each goes once a day, from {digest_hour():02d}:00, "
                "to members who chose it and have something due)."
            )
            return
        table = Table("Member", "Organization", "Due today", "Overdue", "Sent")
        sent = 0
        for digest in digests:
            member = digest.membership
            if dry_run:
                done = "would be"
            else:
                ok = digest_send(digest)
                sent += ok
                done = "yes" if ok else "already"
            table.add_row(
                escape(member.user.email),
                escape(member.organization.name),
                str(len(digest.due_today)),
                str(len(digest.overdue)),
                done,
            )
        stdout().print(table)
        if dry_run:
            say(f"Dry run: {len(digests)} digest(s) would be sent; nothing sent or recorded.")
        else:
            say(f"{sent} digest(s) handed to the worker to send.")
