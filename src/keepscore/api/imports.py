"""Import jobs: the organization's imports (web and command line), with counts and errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Path, Query, Router, Schema

from keepscore.api.auth import organization_of
from keepscore.api.schemas import ERRORS, MAX_ID, MAX_LIMIT, MAX_OFFSET
from keepscore.imports.models import ImportJob
from keepscore.imports.services import stages_in_order

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


class ImportJobDetail(ImportJobOut):
    problems: list[str]
    errors_total: int
    errors: list[ImportErrorOut]
    duplicate_rows: list[ImportDuplicateOut]
    #: rows that updated an existing lead (``update``; a dry run: would update)
    updated: int
    #: what the import creates (a dry run: would create): members ({name, email, roles}),
    #: channels, campaigns, lost_reasons, facts (names), stages (stage name → new leads)
    would_create: dict[str, Any]


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


@router.get(
    "/import-jobs/{job_id}", response={200: ImportJobDetail, **ERRORS}, summary="Read an import job"
)
def import_jobs_read(request: HttpRequest, job_id: int = JobId) -> Any:
    job = get_object_or_404(_jobs(request), pk=job_id)
    report = job.report or {}
    errors = [
        ImportErrorOut(line=int(e[0]), column=str(e[1]), reason=str(e[2]))
        for e in report.get("errors", [])[:FIRST_ERRORS]
    ]
    return ImportJobDetail(
        **ImportJobOut.fields_of(job),
        problems=[str(p) for p in report.get("problems", [])],
        errors_total=int(report.get("errors_total", len(errors))),
        errors=errors,
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
    )
