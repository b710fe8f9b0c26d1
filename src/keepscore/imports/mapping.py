"""The web import: stored uploads, the preview with its detected mapping, and running a job.

An upload is kept under ``KEEPSCORE_HOME/imports/<organization id>/<uuid>.<ext>`` (never in
the static folder) and recorded as an :class:`ImportJob` in status ``uploaded``. Each run
(a check or an import) calls the engine (``import_leads`` / ``import_deals``), which records
a job of its own; its outcome is copied onto the upload's job and that record removed, so the
organization's job list shows one line per uploaded file.

Big files (:data:`INLINE_BELOW` and more) run in the background worker (django-q2, see
:mod:`keepscore.imports.tasks`): the job is saved "running" in the phase ``queued`` and a task
enqueued; the worker takes the job's run lock, runs it and saves its outcome. The page polls
the job's progress, which the worker writes to ``<upload>.progress`` (a small file: the write
pass runs in one transaction, whose updates other connections cannot see before it ends).

While a job runs, its process holds an exclusive ``flock`` on ``<upload>.lock``; the kernel
drops it when the process ends, however it ends. A job still "running" (and no longer
queued) whose lock anyone can take was stopped with its worker or server:
:func:`jobs_interrupted_close` marks it failed (its write was one transaction, so nothing of
it was kept); the next page view and the next start of the worker call it.
"""

from __future__ import annotations

import csv
import fcntl
import json
import logging
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from keepscore.accounts.models import Membership, Organization
from keepscore.imports.dates import CANDIDATES, ColumnDates
from keepscore.imports.headers import FACT_PREFIX, columns_guess, label
from keepscore.imports.models import ImportJob
from keepscore.imports.presets import FIELDS, IGNORE, preset_get
from keepscore.imports.readers import FileProblem, OverTimeBudget, table_open
from keepscore.leads.models import Stage

log = logging.getLogger(__name__)

#: the largest upload accepted (bytes); setting ``IMPORTS_MAX_UPLOAD``
MAX_UPLOAD = 200 * 1024 * 1024
#: the longest a web import may run, in seconds (setting ``IMPORTS_MAX_SECONDS``); below the
#: worker's ``WORKER_TIMEOUT``, so the import stops itself with a clear error first
MAX_SECONDS = 30 * 60
#: files smaller than this run inline even when background runs are on
INLINE_BELOW = 2 * 1024 * 1024
PREVIEW_ROWS = 10
#: rows read to list the stage and owner values and to look at the dates
SAMPLE_ROWS = 10_000
MAX_VALUES = 30
#: errors shown on the page (the report CSV has them all)
SHOWN_ERRORS = 100
EXTENSIONS = (".csv", ".txt", ".tsv", ".xlsx")

#: job id → (phase, percent) of the runs of this process
PROGRESS: dict[int, tuple[str, int]] = {}


def max_upload() -> int:
    return int(getattr(settings, "IMPORTS_MAX_UPLOAD", MAX_UPLOAD))


def upload_dir(organization: Organization) -> Path:
    return Path(settings.KEEPSCORE_HOME) / "imports" / str(organization.pk)


def upload_store(
    *,
    organization: Organization,
    name: str,
    chunks: Iterable[bytes],
    kind: str,
    preset: str,
    by: Membership | None,
    encoding: str = "",
) -> ImportJob:
    """Write the upload to disk chunk by chunk and record it as an ``uploaded`` job
    (``encoding``: the CSV's, as chosen; empty: detected)."""
    ext = Path(name).suffix.lower()
    if ext not in EXTENSIONS:
        ext = ".csv"
    folder = upload_dir(organization)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{uuid.uuid4().hex}{ext}"
    with target.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)
    return ImportJob.objects.create(
        organization=organization,
        kind=kind,
        file_name=Path(name).name[:255] or "upload",
        preset=preset,
        status=ImportJob.Status.UPLOADED,
        upload=str(target.relative_to(Path(settings.KEEPSCORE_HOME))),
        created_by=by.user if by is not None else None,
        started_at=timezone.now(),
        options={"encoding": encoding} if encoding else {},
    )


def job_encoding(job: ImportJob) -> str:
    """The CSV's encoding as chosen for this upload ("": detected)."""
    return str((job.options or {}).get("encoding") or "")


def job_encoding_set(job: ImportJob, encoding: str) -> None:
    """Read the upload in this encoding from now on ("": detect it)."""
    job.options = {**(job.options or {}), "encoding": encoding}
    job.save(update_fields=["options"])


def job_file(job: ImportJob) -> Path | None:
    """The stored upload of a web job, or None (a CLI job, or the file is gone)."""
    if not job.upload:
        return None
    path = Path(settings.KEEPSCORE_HOME) / job.upload
    return path if path.is_file() else None


def report_file(job: ImportJob) -> Path | None:
    path = job_file(job)
    return path.with_name(path.name + ".report.csv") if path is not None else None


def targets(organization: Organization) -> list[tuple[str, str]]:
    """The fields a column can go to, in plain words: the lead's, the date of entering each
    stage, or ignore."""
    ladder = Stage.objects.for_org(organization).order_by("position", "id")
    names = {s.key: s.name for s in ladder}
    stage_dates = [f"{k}_at" for k in names if f"{k}_at" not in FIELDS]
    return [(IGNORE, "— ignore —")] + [(f, label(f, names)) for f in (*FIELDS, *stage_dates)]


def columns_shown(job: ImportJob) -> list[tuple[str, str]]:
    """(file column, field in plain words) of the job's last run, as the engine mapped them."""
    pairs = report_columns(job)
    if not pairs:
        return []
    names = dict(Stage.objects.for_org(job.organization).values_list("key", "name"))
    return [(column, label(target, names)) for column, target in pairs]


def report_columns(job: ImportJob) -> list[tuple[str, str]]:
    """(file column, field key) of the job's last run, in the file's order (a report written
    before the pairs kept them as an object: its order as stored)."""
    columns = (job.report or {}).get("columns") or []
    pairs = columns.items() if isinstance(columns, dict) else columns
    return [(str(column), str(target)) for column, target in pairs]


@dataclass
class Preview:
    describe: str
    header: list[str]
    rows: list[list[str]]
    #: column index → field (or IGNORE), as the preset maps it
    detected: dict[int, str]
    stage_values: list[str] = field(default_factory=list)
    owner_values: list[str] = field(default_factory=list)
    date_message: str = ""
    date_guess: str = ""


def detected_mapping(header: list[str], preset: str, organization: Organization) -> dict[int, str]:
    """What the engine would map each column to without an explicit mapping."""
    keys = Stage.objects.for_org(organization).values_list("key", flat=True)
    guessed = columns_guess(header, preset_get(preset), keys)
    return {i: guessed.get(i, IGNORE) for i in range(len(header))}


def preview(job: ImportJob, mapping: dict[int, str] | None = None) -> Preview:
    """The file's format, first rows, detected mapping and the values to map.

    Raises :class:`FileProblem` when the file cannot be read.
    """
    path = job_file(job)
    if path is None:
        raise FileProblem("the uploaded file is no longer there; upload it again")
    table = table_open(path, encoding=job_encoding(job), offers_encoding=True, name=job.file_name)
    header = table.header
    detected = (
        detected_mapping(header, job.preset, job.organization)
        if job.kind == ImportJob.Kind.LEADS
        else {i: name for i, name in enumerate(header)}
    )
    saved = {k.lower(): v for k, v in (job.options.get("mapping") or {}).items()}
    if mapping is None and saved:
        mapping = {
            i: saved.get(name.lower(), detected.get(i, IGNORE)) for i, name in enumerate(header)
        }
    used = mapping if mapping is not None else detected
    stage_cols = [i for i, f in used.items() if f == "stage"]
    owner_cols = [i for i, f in used.items() if f == "owner"]
    date_cols = [
        i
        for i, f in used.items()
        if f in ("created", "won_date")
        or (f.endswith(("_at", "_date")) and not f.startswith(FACT_PREFIX))
    ]
    watchers = {i: ColumnDates(column=header[i]) for i in date_cols}
    rows: list[list[str]] = []
    stages: dict[str, str] = {}
    owners: dict[str, str] = {}
    data = table.rows()
    if table.kind == "csv":
        next(data, None)  # the header
    try:
        for n, (_line, values) in enumerate(data):
            if n >= SAMPLE_ROWS:
                break
            if len(rows) < PREVIEW_ROWS:
                rows.append([v[:200] for v in values])
            for cols, seen in ((stage_cols, stages), (owner_cols, owners)):
                for i in cols:
                    value = values[i].strip() if i < len(values) else ""
                    if value and len(seen) < MAX_VALUES:
                        seen.setdefault(value.lower(), value[:200])
            for i, watcher in watchers.items():
                value = values[i].strip() if i < len(values) else ""
                if value:
                    watcher.observe(value)
    except Exception as error:
        log.info("preview stopped early: %s", error)
    result = Preview(
        describe=table.describe(),
        header=header,
        rows=rows,
        detected=detected,
        stage_values=list(stages.values()),
        owner_values=list(owners.values()),
    )
    for watcher in watchers.values():
        settled = watcher.settle()
        if isinstance(settled, str) and "ambiguous" in settled:
            result.date_message = settled.replace("--date-format", "the date format below")
            result.date_guess = next((f.label for f in CANDIDATES if f.label in watcher.viable), "")
            break
    return result


# --- running a job ----------------------------------------------------------------------


#: the phase of a job waiting for the worker
QUEUED = "queued"


def _progress_path(job: ImportJob) -> Path | None:
    if not job.upload:
        return None
    path = Path(settings.KEEPSCORE_HOME) / job.upload
    return path.with_name(path.name + ".progress")


def _progress_of(job: ImportJob) -> Any:
    """The job's progress callback; it also keeps the job to its time budget: past
    ``IMPORTS_MAX_SECONDS`` it stops the import (whose transaction keeps nothing)."""
    job_pk = job.pk
    path = _progress_path(job)
    last: list[Any] = [None]
    budget = int(getattr(settings, "IMPORTS_MAX_SECONDS", MAX_SECONDS))
    deadline = time.monotonic() + budget

    def update(phase: str, fraction: float) -> None:
        if time.monotonic() > deadline:
            raise OverTimeBudget(
                f"the import ran past its time budget of {_duration(budget)} while "
                f"{phase} ({int(fraction * 100)}% done), so nothing of it was kept: split the "
                "file into smaller ones, or import it with `keepscore import leads FILE`, "
                "which has no time budget"
            )
        percent = max(0, min(100, int(fraction * 100)))
        PROGRESS[job_pk] = (phase, percent)
        if last[0] == (phase, percent):
            return
        last[0] = (phase, percent)
        if path is not None and path.parent.is_dir():
            # seen by the web process while the write transaction hides the job row's updates
            scratch = path.with_name(path.name + ".tmp")
            scratch.write_text(json.dumps([phase, percent]), encoding="utf-8")
            os.replace(scratch, path)
        if not connection.in_atomic_block:
            ImportJob.objects.filter(pk=job_pk).update(phase=phase, progress=percent)

    return update


def _duration(seconds: int) -> str:
    if seconds % 60:
        return f"{seconds:,} seconds"
    minutes = seconds // 60
    return f"{minutes:,} minute{'s' if minutes != 1 else ''}"


def progress_of(job: ImportJob) -> tuple[str, int]:
    """(phase, percent) of a running job: this process's, the worker's file, or the row's."""
    if job.pk in PROGRESS:
        return PROGRESS[job.pk]
    path = _progress_path(job)
    if job.status == ImportJob.Status.RUNNING and job.phase != QUEUED and path is not None:
        try:
            phase, percent = json.loads(path.read_text(encoding="utf-8"))
            return str(phase), int(percent)
        except (OSError, ValueError, TypeError):
            pass
    return job.phase, job.progress


def waiting_for_worker(job: ImportJob) -> bool:
    """Whether a queued job has waited longer than a running worker would let it."""
    if job.status != ImportJob.Status.RUNNING or job.phase != QUEUED or job.started_at is None:
        return False
    waited = (timezone.now() - job.started_at).total_seconds()
    return waited >= int(getattr(settings, "WORKER_WAIT_HINT", 10))


def _report_write(job: ImportJob, result: Any) -> None:
    target = report_file(job)
    if target is None:
        return
    with target.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", "column", "problem", "matched_lead"])
        for problem in result.problems:
            writer.writerow(["", "", problem, ""])
        for error in result.errors:
            writer.writerow([error.line, error.column, error.reason, ""])
        for dup in result.duplicate_rows:
            lead = "" if getattr(dup, "lead", None) is None else dup.lead
            writer.writerow([dup.line, dup.column, f"duplicate: {dup.reason}", lead])
        for warning in getattr(result, "warnings", ()):
            writer.writerow([warning.line, warning.column, f"warning: {warning.reason}", ""])


def _lock_path(job: ImportJob) -> Path | None:
    if not job.upload:
        return None
    path = Path(settings.KEEPSCORE_HOME) / job.upload
    return path.with_name(path.name + ".lock")


def _lock_take(job: ImportJob) -> int | None:
    """An open descriptor holding the job's run lock, or None (no upload, or held)."""
    path = _lock_path(job)
    if path is None or not path.parent.is_dir():
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _lock_release(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing the descriptor drops its flock


INTERRUPTED = (
    "the import was interrupted: the worker stopped while it ran. Nothing of it was kept; "
    "run it again."
)


def jobs_interrupted_close(organization: Organization | None) -> int:
    """Mark failed the jobs (of ``organization``, or all) left "running" by a process that
    stopped: their lock is free and they no longer wait in the worker's queue."""
    closed = 0
    jobs = (
        ImportJob.objects.all() if organization is None else ImportJob.objects.for_org(organization)
    )
    running = jobs.filter(status=ImportJob.Status.RUNNING).exclude(phase=QUEUED)
    for job in running.exclude(upload=""):  # a CLI run has no upload: its process reports
        fd = _lock_take(job)
        if fd is None:
            continue  # its runner is alive (or the upload folder is gone: nothing to say)
        _lock_release(fd)
        ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            status=ImportJob.Status.FAILED,
            phase="",
            progress=100,
            finished_at=timezone.now(),
            report={"problems": [INTERRUPTED], "errors": []},
        )
        closed += 1
    return closed


def job_run(job_pk: int, by_pk: int | None) -> None:
    """Run the job with its options (as saved by :func:`job_start`); never raises."""
    from keepscore.imports.deals import import_deals
    from keepscore.imports.services import import_leads

    job = ImportJob.objects.select_related("organization").get(pk=job_pk)
    by = Membership.objects.filter(pk=by_pk).select_related("user").first() if by_pk else None
    options = job.options
    path = job_file(job)
    try:
        if path is None:
            raise FileProblem("the uploaded file is no longer there; upload it again")
        common: dict[str, Any] = {
            "organization": job.organization,
            "path": path,
            "preset": job.preset,
            "date_format": options.get("date_format") or None,
            "dry_run": bool(options.get("dry_run")),
            "skip_invalid": bool(options.get("skip_invalid")),
            "by": by,
            "progress": _progress_of(job),
            "encoding": options.get("encoding") or "",
            "file_name": job.file_name,
        }
        if job.kind == ImportJob.Kind.DEALS:
            result = import_deals(**common)
        else:
            result = import_leads(
                **common,
                mapping=options.get("mapping") or {},
                stage_map=options.get("stage_map") or {},
                owner_map=options.get("owner_map") or {},
                new_members=bool(options.get("new_members", True)),
                defaults=options.get("defaults") or {},
                missing_dates=options.get("missing_dates") or "error",
                rejected_path=path.with_name(path.name + ".rejected.csv"),
                match=tuple(options["match"]) if options.get("match") is not None else None,
                update=bool(options.get("update")),
            )
        _report_write(job, result)
        engine_job = ImportJob.objects.get(pk=result.job_id)
        for name in ("status", "rows", "created", "duplicates", "rejected", "report"):
            setattr(job, name, getattr(engine_job, name))
        job.report["errors_shown"] = job.report.get("errors", [])[:SHOWN_ERRORS]
        job.finished_at = engine_job.finished_at
        engine_job.delete()
    except Exception as error:
        log.exception("import job %s failed", job_pk)
        job.status = ImportJob.Status.FAILED
        job.report = {"problems": [f"the import stopped: {error}"], "errors": []}
        job.finished_at = timezone.now()
    job.phase = ""
    job.progress = 100
    job.save()
    PROGRESS.pop(job_pk, None)
    progress_file = _progress_path(job)
    if progress_file is not None:
        progress_file.unlink(missing_ok=True)


def in_background(job: ImportJob) -> bool:
    """Whether the job goes to the worker: files of :data:`INLINE_BELOW` bytes and more
    (setting ``IMPORTS_INLINE_BELOW``), unless ``IMPORTS_IN_BACKGROUND`` is off."""
    path = job_file(job)
    limit = getattr(settings, "IMPORTS_INLINE_BELOW", None) or INLINE_BELOW
    return bool(getattr(settings, "IMPORTS_IN_BACKGROUND", True)) and (
        path is not None and path.stat().st_size >= limit
    )


def job_start(
    job: ImportJob, options: dict[str, Any], by: Membership | None, background: bool | None = None
) -> bool:
    """Save the run's options and run it: inline, or (big files) as a task of the background
    worker. True when it went to the worker (the job is then "running", phase ``queued``)."""
    if background is None:
        background = in_background(job)
    job.options = options
    job.status = ImportJob.Status.RUNNING
    job.phase = QUEUED if background else "starting"
    job.progress = 0
    job.started_at = timezone.now()
    job.finished_at = None
    job.save()
    by_pk = by.pk if by is not None else None
    if background:
        from django_q.tasks import async_task

        # enqueued once the job's row is committed (the worker reads it from another connection)
        transaction.on_commit(
            lambda: async_task(
                "keepscore.imports.tasks.import_run",
                job.pk,
                by_pk,
                task_name=f"import {job.pk}",
                group="imports",
            )
        )
        return True
    lock = _lock_take(job)
    try:
        job_run(job.pk, by_pk)
    finally:
        _lock_release(lock)
    return False


def job_run_queued(job_pk: int, by_pk: int | None) -> str:
    """The worker's side of :func:`job_start`: take the job's lock, claim it from the queue
    (once: a task handed out twice finds it claimed) and run it."""
    job = ImportJob.objects.filter(pk=job_pk).first()
    if job is None:
        return "no such job"
    lock = _lock_take(job)
    if lock is None:
        return "the job is running elsewhere"
    try:
        claimed = ImportJob.objects.filter(
            pk=job_pk, status=ImportJob.Status.RUNNING, phase=QUEUED
        ).update(phase="starting")
        if not claimed:
            return "the job is no longer queued"
        job_run(job_pk, by_pk)
    finally:
        _lock_release(lock)
    return "done"
