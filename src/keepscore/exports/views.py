"""Export pages: the export page (owners), its downloads, and the lead list's export.

CSV and JSON lines stream as they are read; XLSX and the zip are written to a temporary
file first (a workbook and an archive are finished only at their end), then streamed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from keepscore.accounts.models import Organization
from keepscore.audit import context as audit_context
from keepscore.audit import services as audit
from keepscore.common.money import xlsx_number_format
from keepscore.common.views import org_view
from keepscore.exports import services, tables
from keepscore.exports.forms import ExportForm, FormatForm
from keepscore.exports.writers import csv_chunks, jsonl_chunks, xlsx_write
from keepscore.leads.forms import LeadFilterForm
from keepscore.leads.selectors import LeadFilters

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def export_response(
    organization: Organization, kind: str, fmt: str, filters: LeadFilters | None = None
) -> HttpResponse | StreamingHttpResponse:
    """The download of one export (``kind`` ``all``: the zip archive)."""
    name = f"{organization.slug}-{kind}-{timezone.localtime():%Y%m%d-%H%M}"
    if kind == "all":
        archive = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
        manifest = services.export_all(organization=organization, out=archive)
        audit.exported(
            organization=organization, kind=kind, fmt="zip", rows=sum(manifest["counts"].values())
        )
        archive.seek(0)
        return FileResponse(archive, as_attachment=True, filename=f"{name}.zip")
    if kind == "leads":
        table = tables.export_leads(organization=organization, filters=filters)
    else:
        table = services.KINDS[kind](organization=organization)
    if fmt == "xlsx":
        book = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
        audit.exported(
            organization=organization,
            kind=kind,
            fmt=fmt,
            rows=xlsx_write(table, book, xlsx_number_format(organization)),
        )
        book.seek(0)
        return FileResponse(
            book, as_attachment=True, filename=f"{name}.xlsx", content_type=CONTENT_TYPES[fmt]
        )
    chunks = csv_chunks(table) if fmt == "csv" else jsonl_chunks(table)
    response = StreamingHttpResponse(
        _counted(organization, kind, fmt, chunks), content_type=CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _counted(
    organization: Organization, kind: str, fmt: str, chunks: Iterator[str]
) -> Iterator[bytes]:
    """The streamed rows, recorded in the audit log with their count once sent (or once the
    download stops: what was sent), by the request's actor (the stream outlives it)."""
    actor, sent = audit_context.current(), 0
    try:
        for chunk in chunks:
            sent += 1
            yield chunk.encode("utf-8")
    finally:
        rows = max(sent - 1, 0) if fmt == "csv" else sent  # CSV: the header is no row
        audit.exported(organization=organization, kind=kind, fmt=fmt, rows=rows, actor=actor)


def _index(request: HttpRequest, form: ExportForm, status: int = 200) -> HttpResponse:
    return render(
        request,
        "exports/index.html",
        {"nav": "settings", "sub": "export", "form": form},
        status=status,
    )


@org_view
@require_safe
def export_index(request: HttpRequest, organization: Organization) -> HttpResponse:
    return _index(request, ExportForm(initial={"kind": "all", "format": "csv"}))


@org_view
@require_safe
def export_download(
    request: HttpRequest, organization: Organization
) -> HttpResponse | StreamingHttpResponse:
    form = ExportForm(request.GET)
    if not form.is_valid():
        return _index(request, form, status=400)
    return export_response(organization, form.cleaned_data["kind"], form.cleaned_data["format"])


@org_view  # any member: the list's own leads
@require_safe
def export_leads(
    request: HttpRequest, organization: Organization
) -> HttpResponse | StreamingHttpResponse:
    """The lead list's export: the leads its filters show. A filter that is not valid is a 400
    that says which (a download of every lead instead would look like the filtered one)."""
    chosen = FormatForm(request.GET)
    if not chosen.is_valid():
        return render(
            request, "exports/bad_format.html", {"nav": "leads", "form": chosen}, status=400
        )
    filters = LeadFilterForm(request.GET, organization=organization)
    if not filters.is_valid():
        problems = [
            f"{filters[name].label if name in filters.fields else 'Filter'}: {message}"
            for name, messages in filters.errors.items()
            for message in messages
        ]
        context = {"nav": "leads", "form": chosen, "problems": problems}
        return render(request, "exports/bad_format.html", context, status=400)
    return export_response(organization, "leads", chosen.cleaned_data["format"], filters.filters())
