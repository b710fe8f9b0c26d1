"""Tasks of the background worker (django-q2) for imports; enqueued by
:func:`keepscore.imports.mapping.job_start`."""

from __future__ import annotations

from keepscore.imports.mapping import job_run_queued


def import_run(job_pk: int, by_pk: int | None) -> str:
    """Run a queued web import (its outcome goes to its job)."""
    return job_run_queued(job_pk, by_pk)
