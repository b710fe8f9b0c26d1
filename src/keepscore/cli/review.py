"""``keepscore review send``: the month's review mail, sent by hand to the meeting's attendees."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from keepscore.cli.common import (
    EXIT_USAGE,
    django_setup,
    errors,
    fail,
    migrate_if_needed,
    organization_resolve,
    say,
)

app = typer.Typer(
    help="The monthly review: send its mail by hand.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.command("send")
def send(
    month: Annotated[str, typer.Option("--month", "-m", help="The month reviewed, YYYY-MM.")],
    org: Annotated[str | None, typer.Option("--org", help="The organization's slug.")] = None,
) -> None:
    """Send the scorecard of a month to the review meeting's attendees now (regardless of
    whether the worker sent it already; not recorded, so the scheduled mail still goes)."""
    with errors():
        django_setup()
        migrate_if_needed()
        from django.core.exceptions import ValidationError

        from keepscore.cli.common import validation_message
        from keepscore.common.months import month_parse
        from keepscore.reports.review_mail import review_mail_send

        try:
            first = month_parse(month)
        except ValidationError as error:
            fail(f"--month: {validation_message(error)}", EXIT_USAGE)
        organization = organization_resolve(org)
        from keepscore.mail import MailNotSent

        try:
            to = review_mail_send(organization, first)
        except MailNotSent as error:
            fail(str(error))
        say(
            f"Sent the review mail of {first:%B %Y} for {escape(organization.slug)} to "
            f"{escape(', '.join(to))}."
        )
