"""The targets pages: the targets and goals grid and its CSV file, manual metrics and values.

The year's targets and goals (one grid, its file downloaded and uploaded), the manual
metrics, and the grid of their monthly values. Anyone in the organization reads them; owners
and marketing members edit. Views stay thin: forms parse, ``scorecard.services``,
``scorecard.grids`` and ``scorecard.targets_file`` decide. A plain POST that fails validation
re-renders its page with status 422.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_safe

from keepscore.accounts.models import Organization
from keepscore.audit import services as audit
from keepscore.common.forms import add_service_errors
from keepscore.common.months import months_of, year_check
from keepscore.common.views import org_view
from keepscore.imports import targets as targets_file
from keepscore.scorecard import checks, grids, selectors, services
from keepscore.scorecard.catalogue import SPEND_RATIOS, MetricDef, metric_catalogue
from keepscore.scorecard.forms import ManualMetricAddForm, ManualMetricForm
from keepscore.scorecard.models import ManualMetric
from keepscore.scorecard.views import (
    GET_POST,
    INVALID,
    page_url,
    redirect_to,
    render_page,
    year_asked,
)

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
            return redirect_to(request, page_url("scorecard_metrics", organization))
    return render_page(
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
            return redirect_to(request, page_url("scorecard_metrics", organization))
    return render_page(
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
        self.name = grids.cell_name(metric.key, column)
        self.id = f"c-{self.name}"
        self.column = column
        self.value = "" if value is None else value
        self.error = error
        label = grids.column_label(column)
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
    targets = selectors.targets_for(organization=organization, months=months_of(year))
    goals = selectors.goals_for(organization=organization, year=year)
    out: dict[str, dict[str, Any]] = {}
    for _group, metrics in groups:
        for m in metrics:
            cells = {
                column: checks.plain(value=targets.get((m.key, first)))
                for column, first in zip(grids.MONTH_COLUMNS, months_of(year), strict=True)
            }
            out[m.key] = {**cells, "goal": checks.plain(value=goals.get(m.key))}
    return out


def _posted_cells(
    request: HttpRequest, groups: Groups, columns: tuple[str, ...] = grids.GRID_COLUMNS
) -> dict[str, dict[str, str]]:
    """The grid as typed: every cell of every metric of the page that the form sent."""
    rows: dict[str, dict[str, str]] = {}
    for _group, metrics in groups:
        for m in metrics:
            cells = {
                column: request.POST[grids.cell_name(m.key, column)]
                for column in columns
                if grids.cell_name(m.key, column) in request.POST
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
    columns: tuple[str, ...] = grids.GRID_COLUMNS,
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
                    errors.get(grids.cell_name(m.key, column), ""),
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
    groups = grids.grid_metrics(organization)
    stored = _stored_cells(organization, year, groups)
    if values is not None:  # what was typed wins over what is stored
        stored = {key: {**cells, **values.get(key, {})} for key, cells in stored.items()}
    errors = errors or {}
    has_plan = _has_plan(organization, year)
    return render_page(
        request,
        "scorecard/targets.html",
        "targets",
        status=status,
        year=year,
        year_problem=year_problem,
        groups=_grid_rows(organization, year, groups, stored, errors),
        errors=list(errors.values()),
        error_cells=[(f"c-{name}", text) for name, text in errors.items()],
        months=grids.MONTH_NAMES,
        with_goal=True,
        has_plan=has_plan,
        action=page_url("scorecard_targets", organization, year),
        csv_url=reverse("scorecard_targets_csv", kwargs={"org": organization.slug, "year": year}),
        upload_url=page_url("scorecard_targets_upload", organization, year),
        plan_url=reverse("plan", kwargs={"org": organization.slug}) + f"?year={year}",
        previous_url=page_url("scorecard_targets", organization, year - 1) if year > 1900 else "",
        next_url=page_url("scorecard_targets", organization, year + 1) if year < 2999 else "",
        **context,
    )


def _has_plan(organization: Organization, year: int) -> bool:
    from keepscore.plan.models import YearPlan

    return YearPlan.objects.for_org(organization).filter(year=year).exists()


def _spread(
    organization: Organization, year: int, key: str, typed: dict[str, dict[str, str]]
) -> tuple[dict[str, dict[str, Any]], dict[str, str], str]:
    """The grid as typed with one metric's months filled from its typed goal (not saved)."""
    from keepscore.plan.selectors import goal_spread
    from keepscore.scorecard.catalogue import metric_get

    try:
        metric = metric_get(organization, key)
    except ValidationError:
        return (
            typed,
            {grids.cell_name(key[:60], "goal"): "There is no such metric: reload the page."},
            "",
        )
    goal_cell = grids.cell_name(metric.key, "goal")
    goal_text = typed.get(metric.key, {}).get("goal", "")
    try:
        goal = grids.cell_parse(metric, goal_text, "goal")
    except ValidationError as error:
        return typed, {goal_cell: f"{metric.name}, annual goal: {' '.join(error.messages)}"}, ""
    if goal is None:
        return typed, {goal_cell: f"{metric.name}: type the annual goal first, then spread it."}, ""
    spread = goal_spread(organization=organization, year=year, metric_key=metric.key, amount=goal)
    months = {
        f"m{first.month:02d}": checks.plain(value=value) for first, value in spread.months.items()
    }
    filled: dict[str, dict[str, Any]] = {
        **typed,
        metric.key: {**typed.get(metric.key, {}), **months},
    }
    done = "spread over the months " if spread.summed else "set in every month: "
    note = (
        f"{metric.name}: the goal of {checks.plain(value=goal)} is {done}{spread.how}. "
        "Not saved yet: check the months and Save."
    )
    return filled, {}, note


@org_view
@GET_POST
def targets(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The year's targets and goals: one grid of metrics x months, saved at once."""
    year, year_problem = year_asked(request)
    if request.method != "POST":
        return _targets_page(request, organization, year, year_problem)
    if year_problem:
        # a forged year (the page never sends one): nothing is saved
        return HttpResponse(year_problem, status=400, content_type="text/plain; charset=utf-8")
    typed = _posted_cells(request, grids.grid_metrics(organization))
    action = request.POST.get("action", "")
    if action.startswith("spread:"):
        spread_key = action.removeprefix("spread:")
        values, errors, note = _spread(organization, year, spread_key, typed)
        return _targets_page(
            request, organization, year, values=values, errors=errors,
            status=INVALID if errors else 200, spread_note=note,
        )  # fmt: skip
    try:
        saved = grids.targets_grid_set(organization=organization, year=year, rows=typed)
    except ValidationError as error:
        errors = {name: " ".join(texts) for name, texts in error.message_dict.items()}
        return _targets_page(
            request, organization, year, values=typed, errors=errors, status=INVALID
        )
    messages.success(request, f"Saved the targets and goals of {year}: {saved}.")
    return HttpResponseRedirect(page_url("scorecard_targets", organization, year))


@org_view
@require_safe
def targets_csv(request: HttpRequest, organization: Organization, year: int) -> HttpResponse:
    """The year's targets and goals as CSV: the file the upload reads back."""
    try:
        year_check(year)
    except ValidationError:
        raise Http404("No such year") from None
    body, rows = targets_file.targets_csv(organization, year)
    audit.exported(organization=organization, kind="targets", fmt="csv", rows=rows)
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    filename = f"{organization.slug}-targets-{year}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@org_view
@GET_POST
def targets_upload(request: HttpRequest, organization: Organization) -> HttpResponse:
    """A targets file (as downloaded) read into the year's grid: all or nothing."""
    year, year_problem = year_asked(request)
    if request.method != "POST":
        return HttpResponseRedirect(page_url("scorecard_targets", organization, year))
    if year_problem:
        return HttpResponse(year_problem, status=400, content_type="text/plain; charset=utf-8")
    upload = request.FILES.get("file")
    if upload is None:  # 400: a file field cannot show again what was sent
        return _targets_page(
            request, organization, year, status=400,
            upload_lines=["Choose the CSV file to upload."],
        )  # fmt: skip
    result = targets_file.targets_csv_read(organization, year, upload, name=upload.name or "")
    if result.failed:
        return _targets_page(
            request, organization, year, status=INVALID, upload_lines=result.lines(),
            upload_name=result.file,
        )  # fmt: skip
    messages.success(
        request, f"Read {result.rows} rows of {result.file} into {year}: {result.saved}."
    )
    return HttpResponseRedirect(page_url("scorecard_targets", organization, year))


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
    stored_values = selectors.manual_values(organization=organization, months=months_of(year))
    stored: dict[str, dict[str, Any]] = {
        m.key: {
            column: checks.plain(value=stored_values.get((m.key, first)))
            for column, first in zip(grids.MONTH_COLUMNS, months_of(year), strict=True)
        }
        for _group, metrics in groups
        for m in metrics
    }
    if values is not None:  # what was typed wins over what is stored
        stored = {key: {**cells, **values.get(key, {})} for key, cells in stored.items()}
    errors = errors or {}
    rows = _grid_rows(organization, year, groups, stored, errors, grids.MONTH_COLUMNS)
    return render_page(
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
        months=grids.MONTH_NAMES,
        with_goal=False,
        action=page_url("scorecard_values", organization, year),
        previous_url=page_url("scorecard_values", organization, year - 1) if year > 1900 else "",
        next_url=page_url("scorecard_values", organization, year + 1) if year < 2999 else "",
    )


def _manual_groups(organization: Organization) -> Groups:
    from keepscore.scorecard.catalogue import manual_metric_defs
    from keepscore.scorecard.types import by_group

    return by_group(manual_metric_defs(organization))


@org_view
@GET_POST
def values(request: HttpRequest, organization: Organization) -> HttpResponse:
    """The year's values of the manual metrics: one grid, saved at once."""
    year, year_problem = year_asked(request)
    if request.method != "POST":
        return _values_page(request, organization, year, year_problem)
    if year_problem:
        # a forged year (the page never sends one): nothing is saved
        return HttpResponse(year_problem, status=400, content_type="text/plain; charset=utf-8")
    typed = _posted_cells(request, _manual_groups(organization), grids.MONTH_COLUMNS)
    try:
        saved = grids.manual_values_grid_set(
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
    return HttpResponseRedirect(page_url("scorecard_values", organization, year))
