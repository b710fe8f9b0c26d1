"""``keepscore person export|erase``: a person's data, found by their email — everything held
about them as JSON, or erased (each lead a tombstone; the anonymous history stays, so every
figure stays as it is)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from keepscore.cli.common import (
    EXIT_USAGE,
    django_setup,
    errors,
    fail,
    organization_resolve,
    say,
    stderr,
    validation_message,
)

app = typer.Typer(
    help="A person's data, found by their email: export everything held, or erase it.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EmailOption = Annotated[str, typer.Option("--email", help="The person's email (any case).")]
OrgOption = Annotated[str | None, typer.Option("--org", help="The organization's slug.")]


def _email(email: str) -> str:
    """The email, checked; a usage error naming the option when it is not one."""
    from django.core.exceptions import ValidationError

    from keepscore.privacy.selectors import email_clean

    try:
        return email_clean(email=email)
    except ValidationError as error:
        fail(f"--email {email!r}: {validation_message(error).removeprefix('email: ')}", EXIT_USAGE)


@app.command("export")
def export(
    email: EmailOption,
    org: OrgOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write; default: standard output."),
    ] = None,
) -> None:
    """Everything held about the person as JSON: every lead with this email, with its
    history, activities, objections, follow-ups, checklist and web form submissions."""
    with errors():
        django_setup()
        from keepscore.privacy.services import person_export

        organization = organization_resolve(org)
        data = person_export(organization=organization, email=_email(email))
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        found = len(data["leads"])
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            if not found:
                stderr().print(
                    f"No lead of {escape(organization.slug)} has the email "
                    f"{escape(data['email'])}: nothing is held (the JSON lists no lead)."
                )
            return
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as error:
            fail(f"cannot write {out}: {error.strerror or error}")
        what = f"{found} lead{'s' if found != 1 else ''}" if found else "no lead (nothing held)"
        say(
            f"Exported {what} with the email {escape(data['email'])} of "
            f"{escape(organization.slug)} to {escape(str(out))}."
        )


@app.command("erase")
def erase(
    email: EmailOption,
    org: OrgOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Erase without asking for confirmation.")
    ] = False,
) -> None:
    """Erase the person's data: every lead with this email becomes "Erased person", the
    free text of its history is blanked and its web form submissions deleted. The
    anonymous history stays and still counts in every figure. Cannot be undone."""
    with errors():
        django_setup()
        from keepscore.privacy.selectors import erasable, person_leads, total
        from keepscore.privacy.services import person_erase

        organization = organization_resolve(org)
        address = _email(email)
        leads = list(person_leads(organization=organization, email=address))
        where = f"{escape(address)} in {escape(organization.slug)}"
        if not leads:
            say(f"No lead has the email {where}: nothing to erase.")
            return
        planned = total(per_lead=erasable(leads=leads))
        say(f"To erase for {where}: {escape(', '.join(planned.words()))}.")
        if not yes:
            try:
                sure = typer.confirm("Erase this person's data for good?", default=False)
            except typer.Abort:  # no answer (end of input)
                sure = False
            if not sure:
                fail("not erased: not confirmed (add --yes to erase without being asked)")
        erasure = person_erase(organization=organization, email=address)
        say(
            f"Erased {where}: {escape(erasure.words())}. "
            "Their history still counts in every figure."
        )
