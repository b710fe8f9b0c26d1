"""Import jobs: the organization's imports (web, API and command line), with counts and errors;
and an upload: ``POST /import-jobs`` (multipart) checks or imports a file as the app does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.datastructures import MultiValueDict
from ninja import File, Form, Path, Query, Router, Schema, Status, UploadedFile

from keepscore.api.auth import member_of, organization_of
from keepscore.api.schemas import ERRORS, MAX_ID, MAX_LIMIT, MAX_OFFSET
from keepscore.imports.forms import UploadForm
from keepscore.imports.headers import label
from keepscore.imports.mapping import job_start, report_columns, upload_store
from keepscore.imports.models import ImportJob
from keepscore.imports.options import (
    defaults_parse,
    match_parse,
    missing_dates_check,
    pairs_list_parse,
)
from keepscore.imports.report import stages_in_order
from keepscore.leads.models import Stage

router = Router(tags=["import jobs"])

JobId = Path(..., ge=1, le=MAX_ID)
Limit = Query(50, ge=1, le=MAX_LIMIT)
Offset = Query(0, ge=0, le=MAX_OFFSET)
#: errors a job's detail carries (the web page offers the whole report)
FIRST_ERRORS = 100


class ImportErrorOut(Schema):
    line: int
    column: str
    reason: str


class ImportJobOut(Schema):
    id: int
    kind: str
    file_name: str
    preset: str
    status: str
    dry_run: bool
    rows: int
    created: int
    duplicates: int
    rejected: int
    started_at: datetime
    finished_at: datetime | None
    created_by: str | None

    @staticmethod
    def fields_of(job: ImportJob) -> dict[str, Any]:
        return {
            "id": job.pk,
            "kind": job.kind,
            "file_name": job.file_name,
            "preset": job.preset,
            "status": job.status,
            "dry_run": job.status == ImportJob.Status.DRY_RUN
            or bool((job.options or {}).get("dry_run")),
            "rows": job.rows,
            "created": job.created,
            "duplicates": job.duplicates,
            "rejected": job.rejected,
            "started_at": job.started_at,
            "finished_at": job.finished_at,
            "created_by": job.created_by.email if job.created_by is not None else None,
        }


class ImportDuplicateOut(Schema):
    line: int
    #: what matched: external_id, email or phone
    key: str
    reason: str
    #: the existing lead matched; None: an earlier row of the same file
    matched_lead: int | None


class ImportColumnOut(Schema):
    column: str
    field: str
    label: str


class ImportJobDetail(ImportJobOut):
    problems: list[str]
    errors_total: int
    errors: list[ImportErrorOut]
    #: rows imported with something to know about them (e.g. no date of first contact)
    warnings_total: int
    warnings: list[ImportErrorOut]
    duplicate_rows: list[ImportDuplicateOut]
    #: rows that updated an existing lead (``update``; a dry run: would update)
    updated: int
    #: what the import creates (a dry run: would create): members ({name, email, roles}),
    #: channels, campaigns, lost_reasons, facts (names), stages (stage name → new leads)
    would_create: dict[str, Any]
    #: how the file's columns were mapped (for confirmation)
    columns: list[ImportColumnOut]
    date_formats: dict[str, str]


class ImportJobIn(Schema):
    """The upload's options, as form fields beside the file (``multipart/form-data``)."""

    kind: str = "leads"
    preset: str = "plain"
    #: ``COLUMN=FIELD``, repeated; FIELD as ``keepscore import leads --map`` takes it: several
    #: separated by commas (``Engage date=created,lead_at``), ``fact:NAME`` for a lead fact
    map: list[str] = []
    #: ``VALUE=STAGE``, repeated: a stage value of the file → a stage of the ladder
    stage_map: list[str] = []
    #: ``NAME=EMAIL``, repeated: an owner of the file → a member
    owner_map: list[str] = []
    date_format: str = ""
    encoding: str = ""
    dry_run: bool = False
    skip_invalid: bool = False
    new_members: bool = True
    #: ``FIELD=VALUE``, repeated: the value of the rows without one (``--default``)
    default: list[str] = []
    #: a row without a date of first contact: ``error``, or ``now`` (a warning)
    missing_dates: str = "error"
    #: what makes a row a duplicate: any of id, email, phone, comma-separated ("": all three)
    match: str = ""
    #: a row matching an existing lead updates it (fields, the stage forward) instead of
    #: being skipped
    update: bool = False


class ImportJobPage(Schema):
    items: list[ImportJobOut]
    count: int


def _jobs(request: HttpRequest) -> Any:
    return ImportJob.objects.for_org(organization_of(request)).select_related("created_by")


def _would_create(job: ImportJob) -> dict[str, Any]:
    would = dict((job.report or {}).get("would_create") or {})
    if would.get("stages"):
        would["stages"] = stages_in_order(job.organization, would["stages"])
    return would


@router.get("/import-jobs", response={200: ImportJobPage, **ERRORS}, summary="List import jobs")
def import_jobs_list(request: HttpRequest, limit: int = Limit, offset: int = Offset) -> Any:
    jobs = _jobs(request)
    return {
        "items": [ImportJobOut(**ImportJobOut.fields_of(j)) for j in jobs[offset : offset + limit]],
        "count": jobs.count(),
    }


def _detail(job: ImportJob) -> ImportJobDetail:
    report = job.report or {}
    errors = [
        ImportErrorOut(line=int(e[0]), column=str(e[1]), reason=str(e[2]))
        for e in report.get("errors", [])[:FIRST_ERRORS]
    ]
    stages = dict(Stage.objects.for_org(job.organization).values_list("key", "name"))
    return ImportJobDetail(
        **ImportJobOut.fields_of(job),
        problems=[str(p) for p in report.get("problems", [])],
        errors_total=int(report.get("errors_total", len(errors))),
        errors=errors,
        warnings_total=int(report.get("warnings_total", len(report.get("warnings", [])))),
        warnings=[
            ImportErrorOut(line=int(w[0]), column=str(w[1]), reason=str(w[2]))
            for w in report.get("warnings", [])[:FIRST_ERRORS]
        ],
        duplicate_rows=[
            ImportDuplicateOut(
                line=int(d[0]),
                key=str(d[1]),
                reason=str(d[2]),
                matched_lead=int(d[3]) if len(d) > 3 and d[3] is not None else None,
            )
            for d in report.get("duplicates", [])[:FIRST_ERRORS]
        ],
        updated=int(report.get("updated") or 0),
        would_create=_would_create(job),
        columns=[
            ImportColumnOut(
                column=column,
                field=field,
                # a column feeding several fields: "created,lead_at"
                label=", ".join(label(f, stages) for f in field.split(",")),
            )
            for column, field in report_columns(job)
        ],
        date_formats=report.get("date_formats") or {},
    )


@router.get(
    "/import-jobs/{job_id}", response={200: ImportJobDetail, **ERRORS}, summary="Read an import job"
)
def import_jobs_read(request: HttpRequest, job_id: int = JobId) -> Any:
    return _detail(get_object_or_404(_jobs(request), pk=job_id))


def _pairs(values: list[str], name: str, shape: str) -> dict[str, str]:
    try:
        return pairs_list_parse(values, shape)
    except ValueError as error:
        raise ValidationError({name: str(error)}) from error


def _match(text: str) -> list[str] | None:
    """The ``match`` field: None (all three keys) when empty; a 422 naming a wrong word."""
    if not text.strip():
        return None
    try:
        return list(match_parse(text))
    except ValueError as error:
        raise ValidationError({"match": str(error)}) from error


@router.post(
    "/import-jobs",
    response={201: ImportJobDetail, 202: ImportJobDetail, **ERRORS},
    summary="Upload a file to check or import",
)
def import_jobs_create(
    request: HttpRequest, file: File[UploadedFile], options: Form[ImportJobIn]
) -> Any:
    """Upload a CSV or XLSX file with the options of ``keepscore import leads`` and run it as
    the app's mapping page does: ``dry_run`` checks, else it imports (all or nothing unless
    ``skip_invalid``). A small file runs before the answer (201, the job's outcome in
    ``status``: imported, dry_run or failed, with its problems and row errors); a big one
    runs in the background (202, ``status`` running: read the job until it is done).
    Columns not in ``map`` are mapped by their headers' words, as in the app."""
    if options.kind != ImportJob.Kind.LEADS:
        # as in the app: closed deals are the Olist data set's, imported on the command line
        raise ValidationError(
            {"kind": ["only leads are uploaded; `keepscore import deals` reads closed deals"]}
        )
    form = UploadForm(
        {"preset": options.preset, "encoding": options.encoding},
        MultiValueDict({"file": [file]}),
    )
    if not form.is_valid():
        raise ValidationError(
            {field: [str(m) for m in messages] for field, messages in form.errors.items()}
        )
    run = {
        "encoding": form.cleaned_data["encoding"],
        "dry_run": options.dry_run,
        "date_format": options.date_format.strip(),
        "skip_invalid": options.skip_invalid,
        "new_members": options.new_members,
        "mapping": _pairs(options.map, "map", "COLUMN=FIELD"),
        "stage_map": _pairs(options.stage_map, "stage_map", "VALUE=STAGE"),
        "owner_map": _pairs(options.owner_map, "owner_map", "NAME=EMAIL"),
        "match": _match(options.match),
        "update": options.update,
    }
    organization = organization_of(request)
    try:
        run["missing_dates"] = missing_dates_check(options.missing_dates)
    except ValueError as error:
        raise ValidationError({"missing_dates": str(error)}) from None
    try:
        run["defaults"] = defaults_parse(
            organization, _pairs(options.default, "default", "FIELD=VALUE")
        )
    except ValueError as error:
        raise ValidationError({"default": str(error)}) from None
    by = member_of(request)
    job = upload_store(
        organization=organization,
        name=file.name or "upload",
        chunks=file.chunks(),
        kind=ImportJob.Kind.LEADS,
        preset=form.cleaned_data["preset"],
        by=by,
        encoding=run["encoding"],
    )
    queued = job_start(job, run, by)
    job.refresh_from_db()
    return Status(202 if queued else 201, _detail(job))
