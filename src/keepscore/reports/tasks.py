"""Tasks of the background worker (django-q2) for the reports."""

from __future__ import annotations

from datetime import date

from keepscore.reports import pdf_jobs


def pdf_render(organization_pk: int, month: str, token: str) -> str:
    """Render a month's scorecard PDF asked for on the page (:mod:`.pdf_jobs`)."""
    return pdf_jobs.pdf_render(organization_pk, date.fromisoformat(month), token)
