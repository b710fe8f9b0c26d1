"""``keepscore demo``: a demo organization with two years of history, to try keepscore."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from keepscore.cli.common import (
    EXIT_USAGE,
    django_setup,
    errors,
    fail,
    login_url,
    migrate_if_needed,
    say,
    stdout,
)


def _login_show(slug: str) -> None:
    from keepscore.demo.generator import DEMO_PASSWORD, demo_email, demo_other_logins

    say(f"Log in at {login_url()} (start the server with `keepscore serve`):")
    say(f"  email     [bold]{escape(demo_email(slug))}[/]")
    say(f"  password  [bold]{escape(DEMO_PASSWORD)}[/]")
    others = ", ".join(f"{email} ({roles})" for email, roles in demo_other_logins(slug))
    say(f"[dim]Other members, same password: {escape(others)}. This is demo data only.[/]")


def _today(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        fail(f"--today must be a date like 2025-06-30, not {value!r}", EXIT_USAGE)


def _review_mail(organization: Any, day: date | None) -> None:
    """Send the last month's review mail once, by hand, so the demo shows it (by default a
    file under KEEPSCORE_HOME/mail/). A mail that cannot go is said, not a failure."""
    from django.conf import settings
    from django.utils import timezone

    from keepscore.mail import MailNotSent
    from keepscore.reports.review_mail import review_mail_send

    now = timezone.now()
    day = day or timezone.localdate()
    last = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    if day != timezone.localdate():
        now = datetime.combine(day, clock(12, 0), tzinfo=timezone.get_default_timezone())
    try:
        to = review_mail_send(organization, last, now=now)
    except MailNotSent as error:
        say(f"[yellow]The review mail of {last:%B %Y} was not sent: {escape(str(error))}[/]")
        return
    where = str(getattr(settings, "EMAIL_FILE_PATH", "") or "")
    folder = (
        f" (written to {escape(where)})" if where and "filebased" in settings.EMAIL_BACKEND else ""
    )
    say(f"Sent the review mail of {last:%B %Y} to {escape(', '.join(to))}{folder}.")


def demo(
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same data.")] = 42,
    org: Annotated[str, typer.Option("--org", help="Slug of the demo organization.")] = "demo",
    months: Annotated[int, typer.Option("--months", help="Months of history, 1 to 120.")] = 24,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the demo organization and make it again.")
    ] = False,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Pretend it is this day (YYYY-MM-DD); default: today."),
    ] = None,
) -> None:
    """Create a demo organization with synthetic history (leads, deals, activities)."""
    with errors():
        day = _today(today)
        django_setup()
        migrate_if_needed()

        from keepscore.accounts.models import Organization
        from keepscore.demo.generator import demo_create, demo_delete, demo_exists, months_check

        months_check(months)
        slug = org.strip().lower()
        if Organization.objects.filter(slug=slug).exists():
            if not demo_exists(slug):
                fail(f"{slug!r} is a real organization, not a demo: choose another --org")
            if not reset:
                say(
                    f"The demo organization [bold]{escape(slug)}[/] exists already "
                    "(--reset deletes and makes it again)."
                )
                _login_show(slug)
                return
            demo_delete(slug=slug)
            say(f"Deleted the demo organization {escape(slug)}.")

        span = f"{months} month{'s' if months != 1 else ''}"
        say(f"Creating the demo organization [bold]{escape(slug)}[/] ({span})…")
        started = time.monotonic()
        summary = demo_create(seed=seed, slug=slug, months=months, today=day)
        seconds = time.monotonic() - started
        made = Organization.objects.get(slug=slug)  # its currency
        from keepscore.common.money import money_format

        table = Table(title=f"{summary.name}: {summary.first_day} to {summary.last_day}")
        table.add_column("what")
        table.add_column("how many", justify="right")
        for label, value in (
            ("members", summary.members),
            ("leads", summary.leads),
            ("  won", summary.won),
            ("  lost", summary.lost),
            ("  open", summary.open),
            ("stage changes", summary.stage_changes),
            ("activities", summary.activities),
            ("objections", summary.objections),
            ("follow-ups", summary.followups),
            ("later touches", summary.touches),
            ("revenue won", money_format(summary.revenue, made, decimals=0)),
        ):
            table.add_row(label, str(value))
        stdout().print(table)
        say(f"Done in {seconds:.1f} s.")
        _review_mail(made, day)
        _login_show(slug)
