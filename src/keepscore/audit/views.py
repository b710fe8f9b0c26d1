"""The audit log's page for owners (``settings/audit/``), and its CSV."""

from __future__ import annotations

from collections.abc import Iterator

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from keepscore.accounts.models import Organization
from keepscore.accounts.selectors import members_of
from keepscore.audit.forms import AuditFilterForm
from keepscore.audit.models import AuditEvent
from keepscore.audit.selectors import COLUMNS, event_rows, events_of, user_names
from keepscore.common.views import org_view
from keepscore.exports.writers import Table, csv_chunks

PER_PAGE = 50


def _form(request: HttpRequest, organization: Organization) -> AuditFilterForm:
    form = AuditFilterForm(request.GET or None, members=members_of(organization=organization))
    if request.GET:
        form.is_valid()
    return form


@org_view
@require_safe
def audit_log(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = _form(request, organization)
    events = events_of(organization=organization, filters=form.filters())
    page = Paginator(events, PER_PAGE).get_page(request.GET.get("page"))
    names = user_names(ids=(e.user_id for e in page))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {
            "nav": "settings",
            "sub": "audit",
            "form": form,
            "page_obj": page,
            "rows": [
                dict(zip(COLUMNS, row, strict=True)) for row in event_rows(events=page, names=names)
            ],
            "query": query.urlencode(),
        },
        status=400 if form.errors else 200,
    )


@org_view
@require_safe
def audit_csv(request: HttpRequest, organization: Organization) -> StreamingHttpResponse:
    form = _form(request, organization)
    events = events_of(organization=organization, filters=form.filters())

    def rows() -> Iterator[list[object]]:
        for chunk in _chunks(events):
            yield from event_rows(events=chunk, names=user_names(ids=(e.user_id for e in chunk)))

    response = StreamingHttpResponse(
        (c.encode("utf-8") for c in csv_chunks(Table("audit", COLUMNS, rows()))),
        content_type="text/csv; charset=utf-8",
    )
    name = f"audit-{organization.slug}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _chunks(events: QuerySet[AuditEvent], size: int = 2000) -> Iterator[list[AuditEvent]]:
    batch: list[AuditEvent] = []
    for event in events.iterator(chunk_size=size):
        batch.append(event)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
