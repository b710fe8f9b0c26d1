"""The month's scorecard as a file: the CSV, XLSX and PDF downloads, and the worker's PDF page."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from keepscore.accounts.models import Organization
from keepscore.common.views import org_view
from keepscore.reports import pdf_jobs
from keepscore.reports.month import month_pdf_kept, pdf_filename
from keepscore.reports.pdf import PdfUnavailable
from keepscore.reports.scorecard import (
    scorecard_csv,
    scorecard_filename,
    scorecard_xlsx,
)
from keepscore.scorecard import kept
from keepscore.scorecard.views import (
    EXPORT_TYPES,
    is_htmx,
    month_or_404,
    redirect_to,
    scorecard_url,
)


@org_view
@require_safe
def scorecard_export(
    request: HttpRequest, organization: Organization, year: int, month: int, ext: str
) -> HttpResponse:
    """The month's scorecard as CSV, XLSX or PDF (with the funnel and channel charts)."""
    first = month_or_404(year, month)
    if ext not in EXPORT_TYPES:
        raise Http404("No such export")
    body: bytes | str
    if ext == "pdf":
        try:
            body = month_pdf_kept(organization, first)  # rendered once, then kept
        except PdfUnavailable as error:
            context = {"nav": "scorecard", "month": first, "message": str(error)}
            return render(request, "scorecard/pdf_unavailable.html", context, status=503)
        filename = pdf_filename(organization, first)
    else:
        card = kept.scorecard_kept(organization, first)
        body = scorecard_csv(card) if ext == "csv" else scorecard_xlsx(card)
        filename = scorecard_filename(card, ext)
    response = HttpResponse(body, content_type=EXPORT_TYPES[ext])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@org_view
@require_http_methods(["GET", "HEAD", "POST"])
def scorecard_pdf_page(
    request: HttpRequest, organization: Organization, year: int, month: int
) -> HttpResponseBase:
    """The month's PDF made by the background worker: POST asks for it, then the page (with
    ``?t=<token>``) says "preparing…" and polls itself with htmx until it offers the file."""
    first = month_or_404(year, month)
    url = reverse(
        "scorecard_pdf",
        kwargs={"org": organization.slug, "year": f"{first:%Y}", "month": f"{first:%m}"},
    )
    if request.method == "POST":
        token = pdf_jobs.pdf_request(organization, first)
        return redirect_to(request, f"{url}?t={token}")
    token = request.GET.get("t", "")
    state, detail = pdf_jobs.pdf_state(organization, first, token) if token else ("ask", "")
    if state == "ready" and request.GET.get("download"):
        response = FileResponse(
            open(detail, "rb"),  # noqa: SIM115 - closed by the response
            as_attachment=True,
            filename=f"{organization.slug}-scorecard-{first:%Y-%m}.pdf",
            content_type=EXPORT_TYPES["pdf"],
        )
        return response
    context = {
        "nav": "scorecard",
        "month": first,
        "state": state,
        "message": detail if state == "failed" else "",
        "token": token,
        "url": url,
        "scorecard_url": scorecard_url(organization, first),
    }
    template = "scorecard/pdf_status.html" if is_htmx(request) else "scorecard/pdf.html"
    return render(request, template, context, status=404 if state == "missing" else 200)
