"""``keepscore init``, ``createuser`` and ``setpassword``: organizations, owners, members."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from keepscore.cli.common import (
    EXIT_USAGE,
    django_setup,
    errors,
    fail,
    login_url,
    migrate_if_needed,
    organization_resolve,
    password_read,
    say,
)

if TYPE_CHECKING:
    from keepscore.accounts.models import User


PasswordFile = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help="Read the password from the first line of this file ('-' for stdin). "
        "Without it a password is generated and printed.",
    ),
]
NoInput = Annotated[bool, typer.Option("--no-input", help="Never prompt; for scripts.")]


class RoleName(StrEnum):
    owner = "owner"
    marketing = "marketing"
    sales = "sales"


def _password_show(email: str, password: str) -> None:
    say(f"Password for {escape(email)}: [bold]{escape(password)}[/]")
    say("[dim]It is shown only this once: keep it somewhere safe.[/]")


def _password_check(password: str, email: str) -> None:
    """Django's password rules, reported against the ``password`` field."""
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from keepscore.accounts.models import User

    try:
        validate_password(password, User(email=email, username=email))
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None


def _password_ask(email: str) -> str | None:
    """Ask twice; an empty answer means: generate one."""
    from django.core.exceptions import ValidationError

    while True:
        first = typer.prompt(
            f"Password for {email} (leave empty to generate one)",
            default="",
            hide_input=True,
            show_default=False,
        )
        if not first:
            return None
        second = typer.prompt("Repeat the password", hide_input=True, default="")
        if first != second:
            say("[red]The two passwords differ; try again.[/]")
            continue
        try:
            _password_check(str(first), email)
        except ValidationError as error:
            say(f"[red]{escape(' '.join(error.messages))} Try again.[/]")
            continue
        return str(first)


def _email_check(email: str) -> None:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(email.strip())
    except ValidationError as error:
        raise ValidationError({"email": error.messages}) from None


def _existing_user(email: str) -> User | None:
    from keepscore.accounts.models import User

    return User.objects.filter(email__iexact=email.strip()).first()


def _new_password(email: str, password_file: Path | None, no_input: bool) -> tuple[str, bool]:
    """The password from the file, or asked for, or generated: (password, generated)."""
    from keepscore.accounts.services import password_generate

    password: str | None = None
    if password_file is not None:
        password = password_read(password_file)
        _password_check(password, email)
    elif not no_input:
        password = _password_ask(email)
    if password is None:
        return password_generate(), True
    return password, False


def init(
    org: Annotated[
        str | None, typer.Option("--org", help="Short name used in URLs, e.g. acme.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="The owner's email; they log in with it.")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The organization's name (default: from the slug).")
    ] = None,
    password_file: PasswordFile = None,
    no_input: NoInput = False,
) -> None:
    """Create an organization and its owner (runs the database migrations first if needed)."""
    with errors():
        django_setup()
        migrate_if_needed()

        from django.db import transaction
        from django.utils.text import slugify

        from keepscore.accounts.models import Organization
        from keepscore.accounts.services import (
            organization_create,
            user_create,
        )

        if no_input:
            if not org or not owner:
                fail("with --no-input give both --org SLUG and --owner EMAIL", EXIT_USAGE)
        else:
            if not name:
                name = typer.prompt("Organization name", default=(org or "").title() or None)
            if not org:
                org = typer.prompt("Short name for URLs (slug)", default=slugify(name or ""))
            if not owner:
                owner = typer.prompt("Owner's email")
        assert org is not None and owner is not None
        slug = org.strip().lower()
        name = (name or slug.replace("-", " ").title()).strip()
        if Organization.objects.filter(slug=slug).exists():
            fail(f"an organization with the slug {slug!r} already exists")
        # check what was typed before asking for a password
        Organization(name=name, slug=slug).full_clean()
        _email_check(owner)

        user = _existing_user(owner)
        password: str | None = None
        generated = False
        if user is not None:
            if password_file is not None:
                fail(
                    f"{owner} already has an account: leave out --password-file to make them "
                    "the owner with their current password"
                )
        else:
            password, generated = _new_password(owner, password_file, no_input)

        with transaction.atomic():
            if user is None:
                user = user_create(email=owner, password=password)
            organization = organization_create(name=name, slug=slug, owner=user)

        say(
            f"Created organization [bold]{escape(organization.name)}[/] "
            f"({escape(organization.slug)}) with owner {escape(user.email)}."
        )
        if password is None:
            say(f"{escape(user.email)} already had an account; their password is unchanged.")
        elif generated:
            _password_show(user.email, password)
        say(f"Start the server with `keepscore serve` and log in at {login_url()}")


def createuser(
    email: Annotated[str, typer.Option("--email", help="The user's email; they log in with it.")],
    org: Annotated[
        str | None,
        typer.Option("--org", help="Organization to add them to (optional when there is one)."),
    ] = None,
    role: Annotated[
        list[RoleName] | None,
        typer.Option("--role", help="A role in the organization; repeat for several."),
    ] = None,
    marketing_share: Annotated[
        int | None,
        typer.Option(
            "--marketing-share", min=0, max=100, help="Share of their time on marketing (%)."
        ),
    ] = None,
    first_name: Annotated[str, typer.Option("--first-name")] = "",
    last_name: Annotated[str, typer.Option("--last-name")] = "",
    password_file: PasswordFile = None,
    no_login: Annotated[
        bool,
        typer.Option("--no-login", help="A member who cannot log in (no password)."),
    ] = False,
    no_input: NoInput = False,
) -> None:
    """Create a user and make them a member of an organization with roles.

    An existing user (same email) is added to the organization as they are.
    """
    with errors():
        django_setup()
        migrate_if_needed()

        from django.db import transaction

        from keepscore.accounts.services import member_add, user_create

        organization = organization_resolve(org)
        roles = {r.value for r in role or []}
        if not roles:
            if no_input:
                fail("give at least one --role (owner, marketing or sales)", EXIT_USAGE)
            answer = typer.prompt("Roles (owner, marketing, sales; comma-separated)", "sales")
            roles = {part.strip().lower() for part in str(answer).split(",") if part.strip()}
            unknown = roles - {r.value for r in RoleName}
            if unknown or not roles:
                fail(f"unknown role {', '.join(sorted(unknown))}: use owner, marketing or sales")
        if no_login and password_file is not None:
            fail("--no-login and --password-file do not go together", EXIT_USAGE)

        _email_check(email)
        user = _existing_user(email)
        password: str | None = None
        generated = False
        if user is not None:
            if password_file is not None:
                fail(
                    f"{email} already has an account: leave out --password-file to add them "
                    "with their current password"
                )
        elif not no_login:
            password, generated = _new_password(email, password_file, no_input)

        existed = user is not None
        with transaction.atomic():
            if user is None:
                user = user_create(
                    email=email,
                    password=password,
                    first_name=first_name.strip(),
                    last_name=last_name.strip(),
                    can_login=not no_login,
                )
            membership = member_add(
                organization=organization,
                user=user,
                is_owner="owner" in roles,
                is_marketing="marketing" in roles,
                is_sales="sales" in roles,
                marketing_share=marketing_share,
            )

        verb = "Added existing user" if existed else "Created"
        say(
            f"{verb} {escape(user.email)}: member of {escape(organization.name)} "
            f"({escape(organization.slug)}) as {', '.join(membership.roles)}."
        )
        if no_login and not existed:
            say("They cannot log in (no password); give them one with `keepscore setpassword`.")
        elif generated and password:
            _password_show(user.email, password)


def setpassword(
    email: Annotated[str, typer.Option("--email", help="Whose password to set.")],
    password_file: PasswordFile = None,
    no_input: NoInput = False,
) -> None:
    """Set (or reset) a user's password: for a forgotten one, or a member without login."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.accounts.services import user_set_password

        user = _existing_user(email)
        if user is None:
            fail(f"there is no user with the email {email.strip()!r}")
        password, generated = _new_password(user.email, password_file, no_input)
        user_set_password(user=user, password=password)
        say(f"Password set for {escape(user.email)}.")
        if generated:
            _password_show(user.email, password)


def invite(
    email: Annotated[str, typer.Argument(help="The person's email; the invitation goes there.")],
    org: Annotated[
        str | None,
        typer.Option("--org", help="Organization to invite them to (optional when there is one)."),
    ] = None,
    role: Annotated[
        list[RoleName] | None,
        typer.Option("--role", help="A role in the organization; repeat for several."),
    ] = None,
    show_link: Annotated[
        bool,
        typer.Option("--show-link", help="Print the link too (to hand it over another way)."),
    ] = False,
) -> None:
    """Invite someone by email to join an organization with roles.

    They get a link, working once for INVITATION_DAYS days (7), to choose a password or,
    with a login already, to sign in and join. Inviting an address again sends a new link
    (the earlier one stops working).
    """
    with errors():
        django_setup()
        migrate_if_needed()
        from django.conf import settings

        from keepscore.accounts.invitations import expires_at, invitation_send
        from keepscore.mail import MailNotSent

        organization = organization_resolve(org)
        roles = {r.value for r in role or []}
        if not roles:
            fail("give at least one --role (owner, marketing or sales)", EXIT_USAGE)
        try:
            sent = invitation_send(
                organization=organization,
                email=email,
                is_owner="owner" in roles,
                is_marketing="marketing" in roles,
                is_sales="sales" in roles,
            )
        except MailNotSent as error:
            fail(f"the invitation is saved but was not sent: {error}")
        invitation = sent.invitation
        until = expires_at(invitation).strftime("%Y-%m-%d %H:%M %Z")
        verb = "Sent a new invitation" if sent.resent else "Sent an invitation"
        say(
            f"{verb} to {escape(invitation.email)} for {escape(organization.name)} "
            f"({escape(organization.slug)}) as {', '.join(invitation.roles)}; "
            f"the link works once, until {until}."
        )
        if sent.resent:
            say("The earlier link no longer works.")
        if str(settings.EMAIL_BACKEND).endswith("filebased.EmailBackend"):
            say(
                f"[dim]No mail server is set (EMAIL_URL): the mail is a file in "
                f"{escape(str(getattr(settings, 'EMAIL_FILE_PATH', '')))}[/]"
            )
        if show_link:
            say(escape(sent.link))
