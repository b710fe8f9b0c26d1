"""Scorecard pages: the month's scorecard (and its exports), manual metrics, their monthly
values, targets and goals, and the monthly review. Anyone in the organization reads them;
owners and marketing members edit.

Views stay thin: forms parse, ``scorecard.services`` decides. A plain POST that fails
validation re-renders its page with status 422; an htmx POST gets the refreshed fragment
with status 200 (htmx swaps only 2xx responses).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseClientRedirect

from keepscore.accounts.models import Organization
from keepscore.accounts.permissions import MARKETING
from keepscore.audit import services as audit
from keepscore.common.forms import add_service_errors
from keepscore.common.views import may, org_view
from keepscore.focus.services import kept_for as focus_kept
from keepscore.reports import presenter
from keepscore.reports.charts import RateRow, rate_tooltip, sparkline
from keepscore.reports.pdf import PdfUnavailable
from keepscore.reports.scorecard import (
    scorecard_csv,
    scorecard_filename,
    scorecard_xlsx,
)
from keepscore.scorecard import compute, kept, pdf_jobs, review_mail, services
from keepscore.scorecard.catalogue import SPEND_RATIOS, MetricDef, metric_catalogue
from keepscore.scorecard.forms import (
    ManualMetricAddForm,
    ManualMetricForm,
    ReviewForm,
    ReviewMeetingForm,
)
from keepscore.scorecard.models import ManualMetric
from keepscore.scorecard.types import MetricRow

INVALID = 422
GET_POST = require_http_methods(["GET", "HEAD", "POST"])


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _page(
    request: HttpRequest, template: str, sub: str, status: int = 200, **context: Any
) -> HttpResponse:
    context = {"nav": "targets", "sub": sub, "can_edit": may(request, MARKETING), **context}
    return render(request, template, context, status=status)


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if _is_htmx(request):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _year(request: HttpRequest) -> tuple[int, str]:
    """The ``?year=`` asked for (this year when absent), and why it was not taken."""
    text = request.GET.get("year", "")
    if not text.strip():
        return timezone.localdate().year, ""
    try:
        return services.year_check(text), ""
    except ValidationError as error:
        return timezone.localdate().year, " ".join(error.messages)


def _url(name: str, organization: Organization, year: int | None = None, **kw: Any) -> str:
    url = reverse(name, kwargs={"org": organization.slug, **kw})
    return f"{url}?year={year}" if year is not None else url


# --- manual metrics ------------------------------------------------------------------------


@org_view
@GET_POST
def metrics(request: HttpRequest, organization: Organization) -> HttpResponse:
    form = ManualMetricAddForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            metric = services.manual_metric_save(organization=organization, **form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Metric “{metric.name}” added.")
            return _redirect(request, _url("scorecard_metrics", organization))
    return _page(
        request,
        "scorecard/metrics.html",
        "metrics",
        status=INVALID if request.method == "POST" else 200,
        rows=ManualMetric.objects.for_org(organization),
        computed=[m for m in metric_catalogue(organization) if not m.manual],
        form=form,
    )


@org_view
@GET_POST
def metric_edit(request: HttpRequest, organization: Organization, metric_pk: int) -> HttpResponse:
    metric = get_object_or_404(ManualMetric.objects.for_org(organization), pk=metric_pk)
    title = metric.name
    initial = {name: getattr(metric, name) for name in ManualMetricForm.base_fields}
    form = ManualMetricForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.manual_metric_save(
                organization=organization, metric=metric, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Metric “{saved.name}” saved.")
            return _redirect(request, _url("scorecard_metrics", organization))
    return _page(
        request,
        "scorecard/metric_form.html",
        "metrics",
        status=INVALID if request.method == "POST" else 200,
        form=form,
        metric=metric,
        title=title,
    )


# --- the grids: manual values, and targets with goals ------------------------------------------


# --- targets and goals: one grid of metrics x months, one Save -----------------------------


class Cell:
    """One input of the targets grid: its name, what it shows, its error."""

    def __init__(self, metric: MetricDef, column: str, year: int, value: Any, error: str) -> None:
        self.name = services.cell_name(metric.key, column)
        self.id = f"c-{self.name}"
        self.column = column
        self.value = "" if value is None else value
        self.error = error
        label = services.column_label(column)
        self.label = (
            f"{metric.name}, {label} {year}"
            if column != "goal"
            else f"{metric.name}, {label.lower()} {year}"
        )


class GridRow:
    def __init__(self, metric: MetricDef, cells: list[Cell], unit: str) -> None:
        self.metric = metric
        self.cells = cells
        self.unit = unit
        self.id = f"row-{metric.key}"
        # a sum (count, money) is spread over the months; a rate's goal fills each month
        self.spreads = metric.unit in ("count", "money") and metric.key not in SPEND_RATIOS

    @property
    def months(self) -> list[Cell]:
        return self.cells[:12]

    @property
    def goal(self) -> Cell:
        return self.cells[12]


def unit_words(metric: MetricDef, currency: str) -> str:
    """How a metric's values are written, for its row: ``in €``, ``in %`` (typed as points)."""
    if metric.unit == "money":
        return f"in {currency}"
    if metric.unit == "percent":
        return "in %"
    if metric.unit == "days":
        return "in days"
    return ""


Groups = list[tuple[str, list[MetricDef]]]


def _stored_cells(
    organization: Organization, year: int, groups: Groups
) -> dict[str, dict[str, Any]]:
    targets = services.targets_for(organization, services.months_of(year))
    goals = services.goals_for(organization, year)
    out: dict[str, dict[str, Any]] = {}
    for _group, metrics in groups:
        for m in metrics:
            cells = {
                column: services.plain(targets.get((m.key, first)))
                for column, first in zip(
                    services.MONTH_COLUMNS, services.months_of(year), strict=True
                )
            }
            out[m.key] = {**cells, "goal": services.plain(goals.get(m.key))}
    return out


def _posted_cells(
    request: HttpRequest, groups: Groups, columns: tuple[str, ...] = services.GRID_COLUMNS
) -> dict[str, dict[str, str]]:
    """The grid as typed: every cell of every metric of the page that the form sent."""
    rows: dict[str, dict[str, str]] = {}
    for _group, metrics in groups:
        for m in metrics:
            cells = {
                column: request.POST[services.cell_name(m.key, column)]
                for column in columns
                if services.cell_name(m.key, column) in request.POST
            }
            if cells:
                rows[m.key] = cells
    return rows


def _grid_rows(
    organization: Organization,
    year: int,
    groups: Groups,
    values: dict[str, dict[str, Any]],
    errors: dict[str, str],
    columns: tuple[str, ...] = services.GRID_COLUMNS,
) -> list[tuple[str, list[GridRow]]]:
    from keepscore.common.money import currency_symbol

    currency = currency_symbol(organization)
    out = []
    for group, metrics in groups:
        rows = []
        for m in metrics:
            typed = values.get(m.key, {})
            cells = [
                Cell(
                    m,
                    column,
                    year,
                    typed.get(column),
                    errors.get(services.cell_name(m.key, column), ""),
                )
                for column in columns
            ]
            rows.append(GridRow(m, cells, unit_words(m, currency)))
        out.append((group, rows))
    return out


def _targets_page(
    request: HttpRequest,
    organization: Organization,
    year: int,
    year_problem: str = "",
    *,
    values: dict[str, dict[str, Any]] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    groups = services.grid_metrics(organization)
    stored = _stored_cells(organization, year, groups)
    if values is not None:  # what was typed wins over what is stored
        stored = {key: {**cells, **values.get(key, {})} for key, cells in stored.items()}
    errors = errors or {}
    has_plan = _has_plan(organization, year)
    return _page(
        request,
        "scorecard/targets.html",
        "targets",
        status=status,
        year=year,
        year_problem=year_problem,
        groups=_grid_rows(organization, year, groups, stored, errors),
        errors=list(errors.values()),
        error_cells=[(f"c-{name}", text) for name, text in errors.items()],
        months=services.MONTH_NAMES,
        with_goal=True,
        has_plan=has_plan,
        action=_url("scorecard_targets", organization, year),
        csv_url=reverse("scorecard_targets_csv", kwargs={"org": organization.slug, "year": year}),
        upload_url=_url("scorecard_targets_upload", organization, year),
        plan_url=reverse("plan", kwargs={"org": organization.slug}) + f"?year={year}",
        previous_url=_url("scorecard_targets", organization, year - 1) if year > 1900 else "",
        next_url=_url("scorecard_targets", organization, year + 1) if year < 2999 else "",
        **context,
    )


def _has_plan(organization: Organization, year: int) -> bool:
    from keepscore.plan.models import YearPlan

    return YearPlan.objects.for_org(organization).filter(year=year).exists()


def _spread(
    organization: Organization, year: int, key: str, typed: dict[str, dict[str, str]]
) -> tuple[dict[str, dict[str, Any]], dict[str, str], str]:
    """The grid as typed with one metric's months filled from its typed goal (not saved)."""
    from keepscore.plan.services import goal_spread
    from keepscore.scorecard.catalogue import metric_get

    try:
        metric = metric_get(organization, key)
    except ValidationError:
        return (
            typed,
            {services.cell_name(key[:60], "goal"): "There is no such metric: reload the page."},
            "",
        )
    goal_cell = services.cell_name(metric.key, "goal")
    goal_text = typed.get(metric.key, {}).get("goal", "")
    try:
        goal = services.cell_parse(metric, goal_text, "goal")
    except ValidationError as error:
        return typed, {goal_cell: f"{metric.name}, annual goal: {' '.join(error.messages)}"}, ""
    if goal is None:
        return typed, {goal_cell: f"{metric.name}: type the annual goal first, then spread it."}, ""
    spread = goal_spread(organization, year, metric.key, goal)
    months = {
        f"m{first.month:02d}": services.plain(value) for first, value in spread.months.items()
    }
    filled: dict[str, dict[str, Any]] = {
        **typed,
        metric.key: {**typed.get(metric.key, {}), **months},
    }
    done = "spread over the months " if spread.summed else "set in every month: "
    note = (
        f"{metric.name}: the goal of {services.plain(goal)} is {done}{spread.how}. "
        "Not saved yet: check the months and Save."
    )
    return filled, {}, note


@org_view
@GET_POST
def targets(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The year's targets and goals: one grid of metrics x months, saved at once."""
    year, year_problem = _year(request)
    if request.method != "POST":
        return _targets_page(request, organization, year, year_problem)
    if year_problem:
        # a forged year (the page never sends one): nothing is saved
        return HttpResponse(year_problem, status=400, content_type="text/plain; charset=utf-8")
    typed = _posted_cells(request, services.grid_metrics(organization))
    action = request.POST.get("action", "")
    if action.startswith("spread:"):
        spread_key = action.removeprefix("spread:")
        values, errors, note = _spread(organization, year, spread_key, typed)
        return _targets_page(
            request, organization, year, values=values, errors=errors,
            status=INVALID if errors else 200, spread_note=note,
        )  # fmt: skip
    try:
        saved = services.targets_grid_set(organization=organization, year=year, rows=typed)
    except ValidationError as error:
        errors = {name: " ".join(texts) for name, texts in error.message_dict.items()}
        return _targets_page(
            request, organization, year, values=typed, errors=errors, status=INVALID
        )
    messages.success(request, f"Saved the targets and goals of {year}: {saved}.")
    return HttpResponseRedirect(_url("scorecard_targets", organization, year))


@org_view
@require_safe
def targets_csv(request: HttpRequest, organization: Organization, year: int) -> HttpResponse:
    """The year's targets and goals as CSV: the file the upload reads back."""
    try:
        services.year_check(year)
    except ValidationError:
        raise Http404("No such year") from None
    body, rows = services.targets_csv(organization, year)
    audit.exported(organization, "targets", "csv", rows)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    filename = f"{organization.slug}-targets-{year}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@org_view
@GET_POST
def targets_upload(request: HttpRequest, organization: Organization) -> HttpResponse:
    """A targets file (as downloaded) read into the year's grid: all or nothing."""
    year, year_problem = _year(request)
    if request.method != "POST":
        return HttpResponseRedirect(_url("scorecard_targets", organization, year))
    if year_problem:
        return HttpResponse(year_problem, status=400, content_type="text/plain; charset=utf-8")
    upload = request.FILES.get("file")
    if upload is None:  # 400: a file field cannot show again what was sent
        return _targets_page(
            request, organization, year, status=400,
            upload_lines=["Choose the CSV file to upload."],
        )  # fmt: skip
    result = services.targets_csv_read(organization, year, upload, name=upload.name or "")
    if result.failed:
        return _targets_page(
            request, organization, year, status=INVALID, upload_lines=result.lines(),
            upload_name=result.file,
        )  # fmt: skip
    messages.success(
        request, f"Read {result.rows} rows of {result.file} into {year}: {result.saved}."
    )
    return HttpResponseRedirect(_url("scorecard_targets", organization, year))


# --- manual values: one grid of manual metrics x months, one Save ----------------------------


def _values_page(
    request: HttpRequest,
    organization: Organization,
    year: int,
    year_problem: str = "",
    *,
    values: dict[str, dict[str, Any]] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    groups = _manual_groups(organization)
    stored_values = services.manual_values(organization, services.months_of(year))
    stored: dict[str, dict[str, Any]] = {
        m.key: {
            column: services.plain(stored_values.get((m.key, first)))
            for column, first in zip(services.MONTH_COLUMNS, services.months_of(year), strict=True)
        }
        for _group, metrics in groups
        for m in metrics
    }
    if values is not None:  # what was typed wins over what is stored
        stored = {key: {**cells, **values.get(key, {})} for key, cells in stored.items()}
    errors = errors or {}
    rows = _grid_rows(organization, year, groups, stored, errors, services.MONTH_COLUMNS)
    return _page(
        request,
        "scorecard/values.html",
        "values",
        status=status,
        year=year,
        year_problem=year_problem,
        groups=rows,
        has_rows=any(r for _g, r in rows),
        errors=list(errors.values()),
        error_cells=[(f"c-{name}", text) for name, text in errors.items()],
        months=services.MONTH_NAMES,
        with_goal=False,
        action=_url("scorecard_values", organization, year),
        previous_url=_url("scorecard_values", organization, year - 1) if year > 1900 else "",
        next_url=_url("scorecard_values", organization, year + 1) if year < 2999 else "",
    )


def _manual_groups(organization: Organization) -> Groups:
    from keepscore.scorecard.catalogue import manual_metric_defs
    from keepscore.scorecard.types import by_group

    return by_group(manual_metric_defs(organization))


@org_view
@GET_POST
def values(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The year's values of the manual metrics: one grid, saved at once."""
    year, year_problem = _year(request)
    if request.method != "POST":
        return _values_page(request, organization, year, year_problem)
    if year_problem:
        # a forged year (the page never sends one): nothing is saved
        return HttpResponse(year_problem, status=400, content_type="text/plain; charset=utf-8")
    typed = _posted_cells(request, _manual_groups(organization), services.MONTH_COLUMNS)
    try:
        saved = services.manual_values_grid_set(
            organization=organization,
            year=year,
            rows=typed,
            by=request.membership,  # type: ignore[attr-defined]
        )
    except ValidationError as error:
        errors = {name: " ".join(texts) for name, texts in error.message_dict.items()}
        return _values_page(
            request, organization, year, values=typed, errors=errors, status=INVALID
        )
    messages.success(request, f"Saved the manual values of {year}: {saved}.")
    return HttpResponseRedirect(_url("scorecard_values", organization, year))


# --- the monthly review ------------------------------------------------------------------------


def _month(year: int, month: int) -> date:
    try:
        return services.month_parse(f"{year:04d}-{month:02d}")
    except ValidationError:
        raise Http404("No such month") from None


@org_view
@GET_POST
def review(request: HttpRequest, organization: Organization, year: int, month: int) -> HttpResponse:
    """A month's review: its notes and decisions, and the form to add one (append-only)."""
    first = _month(year, month)
    form = ReviewForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_add(
                organization=organization,
                month=first,
                by=request.membership,  # type: ignore[attr-defined]
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if not _is_htmx(request):
                messages.success(request, "Added to the review.")
                return HttpResponseRedirect(review_url(organization, first))
            form = ReviewForm()
    context = {
        "reviews": services.reviews_for(organization, first),
        "kept": focus_kept(organization, first),
        "month": first,
        "review_form": form,
        "can_edit": may(request, MARKETING),
        "meeting": _meeting_shown(organization),
    }
    if _is_htmx(request):
        return render(request, "scorecard/_review.html", context)
    status = INVALID if request.method == "POST" else 200
    return _page(request, "scorecard/review.html", "review", status=status, **context)


def _meeting_shown(organization: Organization) -> dict[str, Any] | None:
    meeting = review_mail.meeting_of(organization)
    if meeting is None:
        return None
    return {
        "words": review_mail.meeting_words(meeting),
        "active": meeting.active,
        "next": str(review_mail.next_meeting(meeting)),
    }


@org_view
@GET_POST
def review_meeting(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The monthly review meeting: its day, time, attendees and when the mail goes (owners)."""
    from keepscore.accounts.models import Membership

    memberships = Membership.objects.filter(organization=organization).select_related("user")
    members = [
        (str(m.pk), m.user.get_full_name() or m.user.email)
        for m in memberships.order_by("user__first_name", "user__email")
    ]
    meeting = review_mail.meeting_of(organization)
    initial: dict[str, Any] = {}
    if meeting is not None:
        initial = {
            "which": meeting.which,
            "weekday": meeting.weekday,
            "at": meeting.at,
            "days_before": meeting.days_before,
            "active": meeting.active,
            "attendees": [str(pk) for pk in meeting.attendees.values_list("pk", flat=True)],
        }
    data = request.POST if request.method == "POST" else None
    form = ReviewMeetingForm(data, members=members, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = {str(pk) for pk in form.cleaned_data.pop("attendees")}
        try:
            review_mail.meeting_set(
                organization,
                attendees=[m for m in memberships if str(m.pk) in chosen],
                **form.cleaned_data,
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, "Saved the review meeting.")
            return HttpResponseRedirect(
                reverse("scorecard_review_meeting", kwargs={"org": organization.slug})
            )
    status = INVALID if request.method == "POST" else 200
    return _page(
        request,
        "scorecard/review_meeting.html",
        "review",
        status=status,
        form=form,
        meeting=_meeting_shown(organization),
    )


def review_url(organization: Organization, month: date) -> str:
    return reverse(
        "scorecard_review",
        kwargs={"org": organization.slug, "year": f"{month:%Y}", "month": f"{month:%m}"},
    )


# --- the scorecard of a month ---------------------------------------------------------------

#: the dashboard's scorecard summary, in this order
DASHBOARD_METRICS = ("new_leads", "sales_conversations", "customers", "revenue", "close_rate")
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


class Shown:
    """A scorecard row as the page shows it: the presenter's texts (``presenter.row_text``,
    the same as the PDF's and the command line's), its hover text and sparkline."""

    def __init__(self, row: MetricRow, labels: list[str]) -> None:
        self.row = row
        self.text = text = presenter.row_text(row)
        self.nodata = text.state == "nodata"
        self.title = ""
        rate = row.rate
        if rate is not None:
            self.title = rate_tooltip(
                RateRow(row.name, rate.k, rate.n, rate.rate, rate.ci_low, rate.ci_high, rate.enough)
            )
        trend = list(row.trend)
        self.spark = sparkline(
            trend, unit=row.unit, labels=labels[-len(trend) :], title=f"{row.name}, last 12 months"
        )


def trend_labels(month: date) -> list[str]:
    return [f"{compute.month_add(month, -i):%b %Y}" for i in range(11, -1, -1)]


def scorecard_url(organization: Organization, month: date) -> str:
    return reverse(
        "scorecard_month",
        kwargs={"org": organization.slug, "year": f"{month:%Y}", "month": f"{month:%m}"},
    )


def _scorecard_page(request: HttpRequest, organization: Organization, month: date) -> HttpResponse:
    card = kept.scorecard_kept(organization, month)

    def shown() -> list[tuple[str, list[Shown]]]:
        labels = trend_labels(month)
        return [(group, [Shown(r, labels) for r in rows]) for group, rows in card.grouped()]

    # the rows' texts and sparklines, drawn once per scorecard kept
    groups = kept.remembered(organization, "scorecard-rows", kept.month_parts(month), shown)
    previous, following = compute.month_add(month, -1), compute.month_add(month, 1)
    exports = {
        ext: reverse(
            "scorecard_export",
            kwargs={
                "org": organization.slug,
                "year": f"{month:%Y}",
                "month": f"{month:%m}",
                "ext": ext,
            },
        )
        for ext in EXPORT_TYPES
        if ext != "pdf"  # the page asks the worker for it (scorecard_pdf)
    }
    context = {
        "nav": "scorecard",
        "sub": "scorecard",
        "can_edit": may(request, MARKETING),
        "card": card,
        "compared_with": presenter.compared_with(card),
        "month_to_date": presenter.month_to_date(card),
        "month": month,
        "groups": groups,
        "charts": kept.charts_kept(organization, month),
        "previous_url": scorecard_url(organization, previous) if previous.year >= 1900 else "",
        "next_url": scorecard_url(organization, following) if following.year <= 2999 else "",
        "previous_month": previous,
        "next_month": following,
        "exports": exports,
        "pdf_url": reverse(
            "scorecard_pdf",
            kwargs={"org": organization.slug, "year": f"{month:%Y}", "month": f"{month:%m}"},
        ),
        "reviews": card.reviews,
        "kept": focus_kept(organization, month),
        "plan_check": _plan_check(organization, month),
    }
    return render(request, "scorecard/scorecard.html", context)


def _plan_check(organization: Organization, month: date) -> Any:
    from keepscore.plan.check import plan_check_of_month

    return plan_check_of_month(organization, month)


@org_view
@require_safe
def scorecard(request: HttpRequest, organization: Organization) -> HttpResponse:
    """This month's scorecard."""
    return _scorecard_page(request, organization, timezone.localdate().replace(day=1))


@org_view
@require_safe
def scorecard_month(
    request: HttpRequest, organization: Organization, year: int, month: int
) -> HttpResponse:
    """The scorecard of any month (``YYYY-MM``)."""
    return _scorecard_page(request, organization, _month(year, month))


@org_view
@require_safe
def scorecard_export(
    request: HttpRequest, organization: Organization, year: int, month: int, ext: str
) -> HttpResponse:
    """The month's scorecard as CSV, XLSX or PDF (with the funnel and channel charts)."""
    first = _month(year, month)
    if ext not in EXPORT_TYPES:
        raise Http404("No such export")
    body: bytes | str
    if ext == "pdf":
        try:
            body = kept.month_pdf_kept(organization, first)  # rendered once, then kept
        except PdfUnavailable as error:
            context = {"nav": "scorecard", "month": first, "message": str(error)}
            return render(request, "scorecard/pdf_unavailable.html", context, status=503)
        filename = kept.pdf_filename(organization, first)
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
    first = _month(year, month)
    url = reverse(
        "scorecard_pdf",
        kwargs={"org": organization.slug, "year": f"{first:%Y}", "month": f"{first:%m}"},
    )
    if request.method == "POST":
        token = pdf_jobs.pdf_request(organization, first)
        return _redirect(request, f"{url}?t={token}")
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
    template = "scorecard/pdf_status.html" if _is_htmx(request) else "scorecard/pdf.html"
    return render(request, template, context, status=404 if state == "missing" else 200)
