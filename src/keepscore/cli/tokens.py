"""``keepscore token create|revoke|list``: a member's API tokens."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from keepscore.cli.common import (
    django_setup,
    errors,
    fail,
    migrate_if_needed,
    organization_resolve,
    say,
)

app = typer.Typer(
    help="API tokens: create (shown once), revoke, list.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

OrgOption = Annotated[str | None, typer.Option("--org", help="The organization's slug.")]


@app.command("create")
def create(
    email: Annotated[str, typer.Option("--email", help="The member the token acts as.")],
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    org: OrgOption = None,
) -> None:
    """Create a token for a member; it is printed this once."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.accounts.models import Membership
        from keepscore.accounts.tokens import token_create

        organization = organization_resolve(org)
        membership = Membership.objects.filter(
            organization=organization, user__email__iexact=email.strip()
        ).first()
        if membership is None:
            fail(f"no member {email!r} in {organization.slug}")
        token, raw = token_create(membership=membership, name=name)
        say(raw)
        say(
            f"[dim]Token {escape(token.prefix)}… ({escape(token.name)}) for "
            f"{escape(membership.user.email)} — shown only this once: keep it somewhere safe.[/]"
        )


@app.command("revoke")
def revoke(
    ref: Annotated[str, typer.Argument(help="The token's id or its prefix (ks_…).")],
    org: OrgOption = None,
) -> None:
    """Revoke a token: it stops working at once."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.accounts.tokens import token_find, token_revoke

        organization = organization_resolve(org)
        token = token_find(organization=organization, ref=ref)
        if token is None:
            fail(f"no token {ref!r} in {organization.slug}")
        token_revoke(token=token)
        say(f"Revoked {escape(token.prefix)}… ({escape(token.name)}).")


@app.command("list")
def list_(org: OrgOption = None) -> None:
    """The organization's tokens (never the secret part)."""
    with errors():
        django_setup()
        migrate_if_needed()
        from keepscore.accounts.tokens import tokens_of

        organization = organization_resolve(org)
        tokens = list(tokens_of(organization=organization))
        if not tokens:
            say("No tokens.")
        for t in tokens:
            used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
            state = "active" if t.is_active else f"revoked {t.revoked_at:%Y-%m-%d}"
            say(
                f"{t.pk}\t{escape(t.prefix)}…\t{escape(t.name)}\t"
                f"{escape(t.membership.user.email)}\t{used}\t{state}"
            )
