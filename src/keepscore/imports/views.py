"""The web import: upload, map and check, import with progress; owners and marketing only.

Flow: the upload page stores the file (see :mod:`keepscore.imports.mapping`) and opens the
job's mapping page; "Check" runs a dry run and "Import" the import, both shown on the same
page, which polls the progress partial with htmx while a big file runs in the background
worker (``keepscore worker``; the page says so when no worker seems to take it).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
)
from django.shortcuts import get_object_or_404, redirect, render

from keepscore.accounts.models import Organization
from keepscore.common.views import org_view
from keepscore.imports.forms import EncodingForm, MappingForm, UploadForm
from keepscore.imports.mapping import (
    QUEUED,
    SHOWN_ERRORS,
    columns_shown,
    job_encoding,
    job_encoding_set,
    job_start,
    jobs_interrupted_close,
    preview,
    progress_of,
    report_file,
    upload_store,
    waiting_for_worker,
)
from keepscore.imports.models import ImportJob
from keepscore.imports.options import KEY_WORDS
from keepscore.imports.readers import FileProblem
from keepscore.imports.report import stages_in_order
from keepscore.leads.models import Stage

RECENT = 20


def _job(request: HttpRequest, organization: Organization, job_pk: int) -> ImportJob:
    jobs_interrupted_close(organization)
    return get_object_or_404(
        ImportJob.objects.for_org(organization).select_related("organization", "created_by"),
        pk=job_pk,
    )


@org_view
def import_index(request: HttpRequest, organization: Organization) -> HttpResponse:
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            job = upload_store(
                organization=organization,
                name=upload.name,
                chunks=upload.chunks(),
                kind=ImportJob.Kind.LEADS,
                preset=form.cleaned_data["preset"],
                by=request.membership,  # type: ignore[attr-defined]
                encoding=form.cleaned_data["encoding"],
            )
            return redirect("import_job", org=organization.slug, job_pk=job.pk)
        status = 400
    elif request.method in ("GET", "HEAD"):
        form = UploadForm()
        status = 200
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    jobs_interrupted_close(organization)
    jobs = ImportJob.objects.for_org(organization).select_related("created_by")[:RECENT]
    return render(
        request,
        "imports/index.html",
        {"nav": "import", "form": form, "jobs": jobs},
        status=status,
    )


@org_view
def import_job(request: HttpRequest, organization: Organization, job_pk: int) -> HttpResponse:
    job = _job(request, organization, job_pk)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    problem = ""
    form = None
    status = 200
    busy = job.status == ImportJob.Status.RUNNING
    encoding_form = EncodingForm(initial={"encoding": job_encoding(job)})
    if request.method == "POST" and request.POST.get("action") == "encoding":
        encoding_form = EncodingForm(request.POST)
        if busy:
            encoding_form.add_error(None, "This file is being imported; wait for it to finish.")
            status = 409
        elif encoding_form.is_valid():
            job_encoding_set(job, encoding_form.cleaned_data["encoding"])
            return redirect("import_job", org=organization.slug, job_pk=job.pk)
        else:
            status = 400
    try:
        shown = preview(job)
    except (FileProblem, ValueError) as error:
        problem = str(error)
        shown = None
    if shown is not None and status == 200:
        data = request.POST if request.method == "POST" else None
        form = MappingForm(data, job=job, preview=shown, organization=organization)
        if request.method == "POST":
            if job.status == ImportJob.Status.RUNNING:
                form.add_error(None, "This file is being imported; wait for it to finish.")
                status = 409
            elif form.is_valid():
                dry_run = request.POST.get("action") != "import"
                job_start(job, form.options(dry_run=dry_run), request.membership)  # type: ignore[attr-defined]
                return redirect("import_job", org=organization.slug, job_pk=job.pk)
            else:
                status = 400
    elif shown is not None:
        form = MappingForm(job=job, preview=shown, organization=organization)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "imports/job.html",
        {
            "nav": "import",
            "job": job,
            "preview": shown,
            "form": form,
            "problem": problem,
            # a CSV's encoding can be chosen, and chosen again, until it is imported
            "encoding_form": encoding_form
            if encoding_form.is_bound
            or (
                not busy
                and job.status != ImportJob.Status.IMPORTED
                and (shown is None or not shown.describe.startswith("XLSX"))
            )
            else None,
            **_result(job),
        },
        status=status,
    )


def _result(job: ImportJob) -> dict[str, object]:
    report = job.report or {}
    errors = report.get("errors", [])[:SHOWN_ERRORS]
    phase, percent = progress_of(job)
    updated = int(report.get("updated") or 0)
    return {
        "running": job.status == ImportJob.Status.RUNNING,
        "queued": job.status == ImportJob.Status.RUNNING and job.phase == QUEUED,
        "no_worker": waiting_for_worker(job),
        "phase": phase,
        "percent": percent,
        "errors": errors,
        "errors_total": report.get("errors_total", len(errors)),
        "problems": report.get("problems", []),
        "would_import": max(0, job.rows - job.rejected - job.duplicates - updated),
        "has_report": bool(
            report.get("errors")
            or report.get("problems")
            or report.get("duplicates")
            or report.get("warnings")
        ),
        "warnings_total": report.get("warnings_total", len(report.get("warnings", []))),
        "columns": columns_shown(job) if job.status != ImportJob.Status.RUNNING else [],
        "would_create": _would_create_shown(report.get("would_create") or {}),
        "stages_shown": _stages_shown(job, (report.get("would_create") or {}).get("stages") or {}),
        # an import's leads, for the lead list's filter (jobs from before: no such filter)
        "leads_filter": f"imported={job.pk}" if report.get("created_leads") else "",
        "update": bool(report.get("update")),
        "updated": updated,
        "duplicates_shown": [
            {
                "line": d[0],
                "key": KEY_WORDS.get(d[1], d[1]),
                "reason": d[2],
                "lead": d[3] if len(d) > 3 else None,
            }
            for d in report.get("duplicates", [])[:SHOWN_ERRORS]
        ],
    }


def _stages_shown(job: ImportJob, stages: dict[str, int]) -> list[tuple[str, int, int | None]]:
    """(stage name, new leads, the stage's id) in ladder order."""
    ids = dict(Stage.objects.for_org(job.organization).values_list("name", "pk"))
    ordered = stages_in_order(job.organization, stages)
    return [(name, n, ids.get(name)) for name, n in ordered.items()]


def _would_create_shown(would: dict[str, Any]) -> list[tuple[str, int, list[str]]]:
    """(what, how many, names) of what an import creates, the kinds it creates only."""
    members = [
        (f"{m['name']} <{m['email']}>" if m.get("name") else m["email"])
        + (f" ({', '.join(m['roles'])})" if m.get("roles") else "")
        for m in would.get("members", [])
    ]
    kinds = (
        ("Members", members),
        ("Channels", would.get("channels", [])),
        ("Campaigns", would.get("campaigns", [])),
        ("Lost reasons", would.get("lost_reasons", [])),
        ("Facts", would.get("facts", [])),
    )
    return [(what, len(names), names) for what, names in kinds if names]


@org_view
def import_progress(request: HttpRequest, organization: Organization, job_pk: int) -> HttpResponse:
    job = _job(request, organization, job_pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return render(request, "imports/progress.html", {"job": job, **_result(job)})


@org_view
def import_report(
    request: HttpRequest, organization: Organization, job_pk: int
) -> HttpResponse | FileResponse:
    job = _job(request, organization, job_pk)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    name = f"{job.file_name}.report.csv"
    path = report_file(job)
    if path is not None and path.is_file():
        return FileResponse(path.open("rb"), as_attachment=True, filename=name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "column", "problem", "matched_lead"])
    report = job.report or {}
    for problem in report.get("problems", []):
        writer.writerow(["", "", problem, ""])
    for row in report.get("errors", []):
        writer.writerow([*row[:3], ""])
    for row in report.get("duplicates", []):
        lead = row[3] if len(row) > 3 and row[3] is not None else ""
        writer.writerow([row[0], row[1], f"duplicate: {row[2]}", lead])
    for line, column, reason in report.get("warnings", []):
        writer.writerow([line, column, f"warning: {reason}", ""])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{job.pk}.report.csv"'
    return response
