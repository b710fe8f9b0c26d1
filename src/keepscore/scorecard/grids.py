"""The year grids, targets and goals or manual values: every cell checked, then saved at once.

The targets page's grid (every metric's monthly targets and annual goal) and the manual values
page's (every active manual metric's months). A ValidationError names each bad cell, and then
nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.common.months import months_of, year_check
from keepscore.common.numbers import decimal_parse
from keepscore.common.validation import writer_user
from keepscore.scorecard import types
from keepscore.scorecard.catalogue import MetricDef, metric_catalogue
from keepscore.scorecard.checks import error_text, value_check
from keepscore.scorecard.models import Goal, ManualMetric, ManualValue, Target
from keepscore.scorecard.services import value_write

#: a grid row's cells: the twelve months (``m01``..``m12``) and the annual goal
MONTH_COLUMNS = tuple(f"m{n:02d}" for n in range(1, 13))
GRID_COLUMNS = (*MONTH_COLUMNS, "goal")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def column_label(column: str) -> str:
    """``m03`` → ``Mar``; ``goal`` → ``Annual goal``."""
    if column == "goal":
        return "Annual goal"
    return MONTH_NAMES[int(column[1:]) - 1]


def cell_name(key: str, column: str) -> str:
    """The name of a grid cell's input: ``new_leads-m03``, ``revenue-goal``."""
    return f"{key}-{column}"


def grid_metrics(organization: Organization) -> list[tuple[str, list[MetricDef]]]:
    """The metrics of the targets grid (and file) by scorecard group, in the ladder's order."""
    return types.by_group(metric_catalogue(organization))


def cell_parse(metric: MetricDef, value: Any, column: str = "value") -> Decimal | None:
    """A typed cell: empty clears (None); else a number as people type it (``1,234``,
    ``25%``, ``€ 12``) in the metric's unit (:func:`value_check`)."""
    if value is None:
        return None
    if isinstance(value, Decimal | int):
        number: Decimal | None = Decimal(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        number = decimal_parse(text)
        if number is None:
            raise ValidationError({column: f"{text[:40]!r} is not a number."})
    return value_check(metric=metric, value=number, field=column)


@dataclass
class GridSaved:
    """What a save of the grid (or a targets file) changed."""

    set: int = 0  # targets and goals written (new or changed)
    cleared: int = 0  # targets and goals removed
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.set} set, {self.cleared} cleared, {self.unchanged} unchanged"


Cells = Mapping[str, Mapping[str, Any]]


def targets_grid_check(
    organization: Organization, year: Any, rows: Cells
) -> tuple[dict[str, dict[str, Decimal | None]], dict[str, str]]:
    """Check a grid: ``rows`` is ``{metric key: {"m01".."m12" | "goal": typed value}}`` (a
    cell left out stays as it is; an empty one clears). The checked values, and the
    problems by cell name (:func:`cell_name`) in words naming the metric and the month."""
    number = year_check(year)
    catalogue = {m.key: m for m in metric_catalogue(organization)}
    checked: dict[str, dict[str, Decimal | None]] = {}
    problems: dict[str, str] = {}
    for key, cells in rows.items():
        metric = catalogue.get(key)
        if metric is None:
            problems[cell_name(str(key)[:60], "metric")] = (
                f"There is no metric “{str(key)[:60]}” in this organization."
            )
            continue
        mine = checked.setdefault(key, {})
        for column, value in cells.items():
            if column not in GRID_COLUMNS:
                problems[cell_name(key, str(column)[:20])] = (
                    f"{metric.name}: {str(column)[:20]!r} is not a month (m01 to m12) nor goal."
                )
                continue
            try:
                mine[column] = cell_parse(metric, value, column)
            except ValidationError as error:
                label = column_label(column)
                when = f"{label} {number}" if column != "goal" else label.lower()
                problems[cell_name(key, column)] = (
                    f"{metric.name}, {when}: {error_text(error=error)}"
                )
    return checked, problems


def _grid_write(
    organization: Organization, year: int, checked: Mapping[str, Mapping[str, Decimal | None]]
) -> GridSaved:
    saved = GridSaved()
    keys = list(checked)
    targets = {
        (t.metric_key, t.month): t
        for t in Target.objects.for_org(organization).filter(
            metric_key__in=keys, month__in=months_of(year)
        )
    }
    goals = {
        g.metric_key: g
        for g in Goal.objects.for_org(organization).filter(metric_key__in=keys, year=year)
    }
    for key, cells in checked.items():
        for column, value in cells.items():
            have: Target | Goal | None
            if column == "goal":
                have = goals.get(key)
            else:
                month = date(year, int(column[1:]), 1)
                have = targets.get((key, month))
            if value is None:
                if have is not None:
                    audit.delete(rows=type(have).objects.filter(pk=have.pk))
                    saved.cleared += 1
                continue
            if have is not None and have.value == value:
                saved.unchanged += 1
                continue
            if have is not None:
                have.value = value
                have.save(update_fields=["value", "updated_at"])
            elif column == "goal":
                Goal.objects.create(
                    organization=organization, metric_key=key, year=year, value=value
                )
            else:
                Target.objects.create(
                    organization=organization, metric_key=key, month=month, value=value
                )
            saved.set += 1
    return saved


@transaction.atomic
def targets_grid_set(*, organization: Organization, year: Any, rows: Cells) -> GridSaved:
    """Save the targets grid of a year (see :func:`targets_grid_check`): all or nothing. A
    ValidationError names every bad cell (by :func:`cell_name`) and nothing is written."""
    number = year_check(year)
    return grid_save(organization, number, rows, "changed", f"targets and goals of {number}")


def grid_save(
    organization: Organization, year: int, rows: Cells, action: str, what: str
) -> GridSaved:
    checked, problems = targets_grid_check(organization, year, rows)
    if problems:
        raise ValidationError({name: [text] for name, text in problems.items()})
    saved = _grid_write(organization, year, checked)
    if saved.set or saved.cleared:
        audit.record(
            action=action,
            organization=organization,
            object_type="scorecard.Target",
            summary=f"{what}: {saved}",
        )
    return saved


@transaction.atomic
def manual_values_grid_set(
    *,
    organization: Organization,
    year: Any,
    rows: Mapping[str, Mapping[str, Any]],
    by: Membership | None = None,
) -> GridSaved:
    """The manual values page: ``{metric key: {"m01".."m12": typed value}}`` of a year, for
    every active manual metric at once (a cell left out stays; an empty one clears). All or
    nothing: a ValidationError names every bad cell (by :func:`cell_name`, in words with the
    metric and the month) and nothing is written."""
    user = writer_user(organization, by)
    number = year_check(year)
    metrics = {m.key: m for m in ManualMetric.objects.for_org(organization).filter(active=True)}
    checked: dict[tuple[ManualMetric, date], Decimal | None] = {}
    problems: dict[str, str] = {}
    for key, cells in rows.items():
        metric = metrics.get(key)
        if metric is None:
            problems[cell_name(str(key)[:60], "metric")] = (
                f"There is no manual metric “{str(key)[:60]}” in this organization."
            )
            continue
        definition = metric.definition()
        for column, value in cells.items():
            if column not in MONTH_COLUMNS:
                problems[cell_name(key, str(column)[:20])] = (
                    f"{metric.name}: {str(column)[:20]!r} is not a month (m01 to m12)."
                )
                continue
            try:
                checked[(metric, date(number, int(column[1:]), 1))] = cell_parse(
                    definition, value, column
                )
            except ValidationError as error:
                label = column_label(column)
                problems[cell_name(key, column)] = (
                    f"{metric.name}, {label} {number}: {error_text(error=error)}"
                )
    if problems:
        raise ValidationError({name: [text] for name, text in problems.items()})
    existing = {
        (v.metric_id, v.month): v.value
        for v in ManualValue.objects.for_org(organization).filter(month__in=months_of(number))
    }
    saved = GridSaved()
    for (metric, month), value in checked.items():
        have = existing.get((metric.pk, month))
        if value is None:
            saved.cleared += have is not None
        elif have == value:
            saved.unchanged += 1
        else:
            saved.set += 1
        value_write(metric=metric, month=month, value=value, user=user)
    return saved
