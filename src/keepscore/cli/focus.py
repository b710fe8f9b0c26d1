"""``keepscore focus``: the diagnosis — focus on sales, marketing, margins or cash — with
each indicator's status, numbers and confidence (docs/focus.md).

``--format json`` prints ``keepscore.focus.selectors.diagnosis_json``::

    {"organization": "demo", "as_of": "2026-12-02", "recommendation": "sales",
     "confidence": "high", "sentence": "…", "missing": [], "scores": {"sales": 1, …},
     "indicators": [{"key": "cash_runway", "title": "…", "question": 1, "status": "ok",
                     "pushes": "cash", "value": 4.1, "unit": "months",
                     "confidence": "high", "evidence": {…}, "explanation": "…"}, …]}
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape
from rich.padding import Padding
from rich.text import Text

from keepscore.cli.common import (
    EXIT_USAGE,
    django_setup,
    errors,
    fail,
    organization_resolve,
    stdout,
)


class Format(StrEnum):
    text = "text"
    json = "json"


STATUS_STYLE = {"alert": "bold red", "watch": "yellow", "ok": "green", "info": "blue"}


def date_parse(text: str | None) -> date | None:
    if text is None:
        return None
    from django.utils import timezone

    from keepscore.focus.forms import EARLIEST

    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        fail(f"--date: {text!r} is not a date (YYYY-MM-DD)", EXIT_USAGE)
    if day < EARLIEST or day > timezone.localdate():
        fail(f"--date: choose a day from {EARLIEST} to today", EXIT_USAGE)
    return day


def focus(
    day: Annotated[
        str | None,
        typer.Option("--date", metavar="DATE", help="The diagnosis as of this day (today)."),
    ] = None,
    org: Annotated[str | None, typer.Option("--org", help="Organization slug.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.text,
) -> None:
    """Focus on sales or on marketing now? The five questions and the indicators, each with
    its evidence and confidence, and the recommendation: sales, marketing, margins, cash or
    balanced (or what data is missing)."""
    with errors():
        django_setup()
        from keepscore.focus.selectors import LABELS, diagnose, diagnosis_json

        as_of = date_parse(day)
        organization = organization_resolve(org)
        diagnosis = diagnose(organization, as_of)
        if fmt is Format.json:
            sys.stdout.write(json.dumps(diagnosis_json(diagnosis=diagnosis), indent=2) + "\n")
            sys.stdout.flush()
            return
        console = stdout()
        label = escape(LABELS[diagnosis.recommendation])
        console.print(
            f"[bold]{label}[/] — {escape(diagnosis.organization)}, as of "
            f"{diagnosis.as_of:%d %b %Y} (confidence {diagnosis.confidence})"
        )
        console.print(escape(diagnosis.sentence))
        for item in diagnosis.missing:
            console.print(f"  missing: {escape(item)}")
        console.print()
        for i in diagnosis.indicators:
            style = STATUS_STYLE.get(i.status, "dim")
            number = f"Q{i.question} " if i.question else ""
            pushes = f" → {i.pushes}" if i.pushes and i.status == "alert" else ""
            console.print(
                f"[{style}]{i.status.upper():7}[/] {number}{escape(i.title)}{pushes} "
                f"[dim](confidence {i.confidence})[/]"
            )
            console.print(Padding(Text(i.explanation), (0, 0, 0, 8)), soft_wrap=False)
        sys.stdout.flush()
