"""``keepscore summaries verify|rebuild``: the figures kept from the history (the funnel
summaries), checked against the history and its reference computations, or computed again.

Without ``--org`` each command works on every organization. ``verify`` exits 1 when any
difference is found (and lists them), 0 when there is none."""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from keepscore.cli.common import django_setup, errors, organization_resolve, say, stdout

if TYPE_CHECKING:
    from keepscore.accounts.models import Organization

summaries_app = typer.Typer(
    help="The summaries kept from the history: verify them against it, or rebuild them.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

OrgOption = Annotated[
    str | None, typer.Option("--org", help="The organization's slug (default: every one).")
]


class Format(StrEnum):
    text = "text"
    json = "json"


def _organizations(slug: str | None) -> list[Organization]:
    from keepscore.accounts.models import Organization

    if slug:
        return [organization_resolve(slug)]
    return list(Organization.objects.order_by("slug"))


@summaries_app.command("verify")
def verify(
    org: OrgOption = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """Compare the summaries with the history: every stored count with the counts rebuilt
    from it, and every figure read from them with the reference computation over the stored
    rows. Lists the differences; exits 1 when there is any."""
    with errors():
        django_setup()
        from keepscore.history import recorder

        report: list[dict[str, Any]] = []
        for organization in _organizations(org):
            started = time.perf_counter()
            found = recorder.verify(organization=organization)
            seconds = time.perf_counter() - started
            report.append(
                {
                    "organization": organization.slug,
                    "differences": [
                        {
                            "projection": d.projection,
                            "where": d.where,
                            "stored": _plain(d.stored),
                            "expected": _plain(d.expected),
                        }
                        for d in found
                    ],
                    "seconds": round(seconds, 3),
                }
            )
        if fmt is Format.json:
            sys.stdout.write(json.dumps(report, indent=2) + "\n")
        else:
            for row in report:
                n = len(row["differences"])
                mark = "[green]0 differences[/]" if not n else f"[bold red]{n} differences[/]"
                say(f"{escape(row['organization'])}: {mark} ({row['seconds']:.2f} s)")
                for d in row["differences"]:
                    stdout().print(
                        f"  {escape(d['where'])}: stored {escape(repr(d['stored']))}, "
                        f"expected {escape(repr(d['expected']))}",
                        soft_wrap=True,
                    )
            if any(row["differences"] for row in report):
                say("Rebuild them with `keepscore summaries rebuild --org SLUG`.")
        sys.stdout.flush()
        if any(row["differences"] for row in report):
            raise typer.Exit(1)


def _plain(value: Any) -> Any:
    """A difference's value as JSON can hold it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


@summaries_app.command("rebuild")
def rebuild(org: OrgOption = None) -> None:
    """Compute the summaries again from the history (one transaction per organization)."""
    with errors():
        django_setup()
        from keepscore.history import recorder

        for organization in _organizations(org):
            started = time.perf_counter()
            recorder.rebuild(organization=organization)
            seconds = time.perf_counter() - started
            say(f"{escape(organization.slug)}: rebuilt in {seconds:.2f} s")
