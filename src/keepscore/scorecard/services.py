"""Writes and reads for the scorecard's own data: manual metrics and their values, targets,
annual goals and the monthly review (append-only).

Every write is atomic and validates first; a refused write raises a ``ValidationError`` naming
the field and changes nothing. Months are normalised to the first day of the month.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.common.days import EARLIEST_DATE, LATEST_DATE
from keepscore.common.numbers import decimal_parse
from keepscore.common.validation import check_same_org, writer_user
from keepscore.imports.readers import (
    MAX_FIELD,
    FileProblem,
    Table,
    path_of,
    rows_with_retry,
    table_open,
)
from keepscore.imports.report import RowError
from keepscore.scorecard import types
from keepscore.scorecard.catalogue import (
    FIXED_KEYS,
    LADDER_PREFIXES,
    MetricDef,
    computed_metrics,
    metric_catalogue,
    metric_get,
)
from keepscore.scorecard.models import (
    GROUP_CHOICES,
    UNIT_CHOICES,
    VALUE_DIGITS,
    VALUE_PLACES,
    Goal,
    ManualMetric,
    ManualValue,
    ReviewEntry,
    ReviewKind,
    Target,
)

# --- months, years and values ------------------------------------------------------------

_MONTH = re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?")
#: the largest value a value column holds (exclusive)
MAX_VALUE = Decimal(10) ** (VALUE_DIGITS - VALUE_PLACES)
MAX_REVIEW = 10_000


def month_parse(value: str | date, field: str = "month") -> date:
    """The first day of the month of ``value``: a date, ``YYYY-MM`` or ``YYYY-MM-DD``.

    ``2026-13`` (or any month outside 01-12 or a year outside 1900-2999) is a ValidationError
    on ``field``.
    """
    if isinstance(value, date):
        month = value.replace(day=1)
    else:
        text = str(value).strip()
        match = _MONTH.fullmatch(text)
        if match is None:
            raise ValidationError({field: f"{text[:40]!r} is not a month: use YYYY-MM."})
        year, number = int(match.group(1)), int(match.group(2))
        if not 1 <= number <= 12:
            raise ValidationError(
                {field: f"{text} is not a month: the month is 01 to 12 (YYYY-MM)."}
            )
        if match.group(3) is not None:
            try:
                date(year, number, int(match.group(3)))
            except ValueError:
                raise ValidationError({field: f"{text} is not a date."}) from None
        if not EARLIEST_DATE.year <= year <= LATEST_DATE.year:
            raise ValidationError({field: _year_message()})
        month = date(year, number, 1)
    if not EARLIEST_DATE <= month <= LATEST_DATE:
        raise ValidationError({field: _year_message()})
    return month


def _year_message() -> str:
    return f"Enter a year between {EARLIEST_DATE.year} and {LATEST_DATE.year}."


def plain(value: Decimal | None) -> str | None:
    """A stored value as typed: ``12`` not ``12.0000``."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def month_str(month: date) -> str:
    return f"{month:%Y-%m}"


def year_check(year: Any, field: str = "year") -> int:
    """A year between 1900 and 2999, or a ValidationError on ``field``."""
    try:
        number = int(str(year).strip())
    except (TypeError, ValueError):
        raise ValidationError({field: f"{str(year)[:40]!r} is not a year."}) from None
    if not EARLIEST_DATE.year <= number <= LATEST_DATE.year:
        raise ValidationError({field: _year_message()})
    return number


def months_of(year: int) -> list[date]:
    return [date(year, m, 1) for m in range(1, 13)]


def value_check(metric: MetricDef, value: Any, field: str = "value") -> Decimal:
    """A value in the metric's unit: finite, under 10^12, at most 4 decimals; counts are whole
    and not negative, days not negative, percentages between -100 and 100."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{str(value)[:40]!r} is not a number."}) from None
    if not number.is_finite():
        raise ValidationError({field: "Enter a number."})
    if abs(number) >= MAX_VALUE:
        raise ValidationError({field: f"The value must be less than {MAX_VALUE:,}."})
    if number != number.quantize(Decimal(1).scaleb(-VALUE_PLACES)):
        raise ValidationError({field: f"Use at most {VALUE_PLACES} decimals."})
    unit = metric.unit
    if unit in ("count", "days") and number < 0:
        raise ValidationError({field: f"{metric.name} cannot be negative."})
    if unit == "count" and number != number.to_integral_value():
        raise ValidationError({field: f"{metric.name} is a count: use a whole number."})
    if unit == "percent" and not -100 <= number <= 100:
        raise ValidationError({field: f"{metric.name} is a percentage: -100 to 100."})
    return number


# --- manual metrics -----------------------------------------------------------------------

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,49}")
_GROUPS = {g for g, _ in GROUP_CHOICES}
_UNITS = {u for u, _ in UNIT_CHOICES}


def _key_check(organization: Organization, key: str, metric: ManualMetric | None) -> None:
    if not _KEY.fullmatch(key):
        raise ValidationError(
            {"key": "Use 1-50 lower-case letters, digits, _ and -; start with a letter or digit."}
        )
    computed = {m.key for m in computed_metrics(organization)}
    if key in FIXED_KEYS or key in computed or key.startswith(LADDER_PREFIXES):
        raise ValidationError(
            {"key": f"“{key}” is (or may become) a computed metric's key: choose another."}
        )
    taken = ManualMetric.objects.for_org(organization).filter(key=key)
    if metric is not None:
        taken = taken.exclude(pk=metric.pk)
    if taken.exists():
        raise ValidationError({"key": f"There is already a metric with the key “{key}”."})


def _key_from(name: str) -> str:
    key = slugify(name).replace("-", "_")[:50].strip("_-")
    return key or "metric"


@transaction.atomic
def manual_metric_save(
    *,
    organization: Organization,
    name: str,
    group: str,
    unit: str = "count",
    higher_is_better: bool = True,
    description: str = "",
    active: bool = True,
    key: str = "",
    metric: ManualMetric | None = None,
) -> ManualMetric:
    """Add a manual metric (``metric`` None) or change one. The key is made from the name when
    not given, and never changes once made (targets and imports name the metric by it)."""
    if metric is not None:
        check_same_org(organization, metric=metric)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "A metric needs a name."})
    if group not in _GROUPS:
        raise ValidationError({"group": "Choose SUSPECT, PROSPECT, LEAD or CUSTOMER."})
    if unit not in _UNITS:
        raise ValidationError({"unit": "Choose count, money, percent, days or number."})
    key = (key or "").strip().lower()
    if metric is not None:
        if key and key != metric.key:
            raise ValidationError({"key": "A metric's key cannot change once made."})
        key = metric.key
    else:
        key = key or _key_from(name)
        _key_check(organization, key, None)
    same_name = ManualMetric.objects.for_org(organization).filter(name__iexact=name)
    if metric is not None:
        same_name = same_name.exclude(pk=metric.pk)
    if same_name.exists():
        raise ValidationError({"name": f"There is already a metric called {name}."})
    if metric is None:
        last = ManualMetric.objects.for_org(organization).aggregate(m=Max("position"))["m"] or 0
        metric = ManualMetric(organization=organization, key=key, position=last + 10)
    metric.name = name
    metric.group = group
    metric.unit = unit
    metric.higher_is_better = higher_is_better
    metric.description = description or ""
    metric.active = active
    metric.full_clean(exclude=["organization"])
    metric.save()
    return metric


def manual_metric_get(organization: Organization, key: str, field: str = "metric") -> ManualMetric:
    metric = ManualMetric.objects.for_org(organization).filter(key=key).first()
    if metric is None:
        raise ValidationError({field: f"There is no manual metric “{key}” in this organization."})
    return metric


# --- manual values ----------------------------------------------------------------------


def _value_write(
    metric: ManualMetric, month: date, value: Decimal | None, user: Any
) -> ManualValue | None:
    if value is None:
        audit.delete(ManualValue.objects.filter(metric=metric, month=month))
        return None
    row, created = ManualValue.objects.get_or_create(
        metric=metric,
        month=month,
        defaults={"organization_id": metric.organization_id, "value": value, "by": user},
    )
    if not created and (row.value != value or row.by != user):
        row.value = value
        row.by = user
        row.save(update_fields=["value", "by", "updated_at"])
    return row


@transaction.atomic
def manual_value_set(
    *,
    metric: ManualMetric,
    month: str | date,
    value: Any,
    by: Membership | None = None,
) -> ManualValue | None:
    """Set a manual metric's value for a month (``value`` None clears it)."""
    user = writer_user(metric.organization, by)
    first = month_parse(month)
    checked = None if value is None else value_check(metric.definition(), value)
    return _value_write(metric, first, checked, user)


@transaction.atomic
def manual_values_set(
    *,
    metric: ManualMetric,
    values: Mapping[date, Any],
    by: Membership | None = None,
) -> None:
    """Set several months of one metric at once (a row of the grid): all or none."""
    user = writer_user(metric.organization, by)
    definition = metric.definition()
    checked: dict[date, Decimal | None] = {}
    for month, value in values.items():
        first = month_parse(month)
        name = f"m{first:%m}"
        checked[first] = None if value is None else value_check(definition, value, field=name)
    for first, number in checked.items():
        _value_write(metric, first, number, user)


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
                    f"{metric.name}, {label} {number}: {_message(error)}"
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
        _value_write(metric, month, value, user)
    return saved


def manual_values(
    organization: Organization, months: Iterable[date]
) -> dict[tuple[str, date], Decimal]:
    """The manual values of the months: ``{(metric key, month): value}``."""
    firsts = sorted({month_parse(m) for m in months})
    rows = (
        ManualValue.objects.for_org(organization)
        .filter(month__in=firsts)
        .values_list("metric__key", "month", "value")
    )
    return {(key, month): value for key, month, value in rows}


# --- targets and goals ---------------------------------------------------------------------


def _metric_for(organization: Organization, metric_key: str) -> MetricDef:
    return metric_get(organization, (metric_key or "").strip(), field="metric")


@transaction.atomic
def target_set(
    *, organization: Organization, metric_key: str, month: str | date, value: Any
) -> Target:
    """Set a metric's target for a month (set again, never added to)."""
    metric = _metric_for(organization, metric_key)
    first = month_parse(month)
    number = value_check(metric, value)
    target, _created = Target.objects.update_or_create(
        organization=organization,
        metric_key=metric.key,
        month=first,
        defaults={"value": number},
    )
    return target


@transaction.atomic
def target_clear(*, organization: Organization, metric_key: str, month: str | date) -> bool:
    """Remove a metric's target for a month; whether there was one."""
    first = month_parse(month)
    rows = Target.objects.for_org(organization).filter(metric_key=metric_key, month=first)
    if not rows.exists():
        _metric_for(organization, metric_key)  # an unknown metric is an error, not a no-op
        return False
    audit.delete(rows)
    return True


@transaction.atomic
def goal_set(*, organization: Organization, metric_key: str, year: Any, value: Any) -> Goal:
    """Set a metric's annual goal."""
    metric = _metric_for(organization, metric_key)
    number = year_check(year)
    checked = value_check(metric, value)
    goal, _created = Goal.objects.update_or_create(
        organization=organization, metric_key=metric.key, year=number, defaults={"value": checked}
    )
    return goal


@transaction.atomic
def goal_clear(*, organization: Organization, metric_key: str, year: Any) -> bool:
    """Remove a metric's annual goal; whether there was one."""
    number = year_check(year)
    rows = Goal.objects.for_org(organization).filter(metric_key=metric_key, year=number)
    if not rows.exists():
        _metric_for(organization, metric_key)
        return False
    audit.delete(rows)
    return True


@transaction.atomic
def targets_year_set(
    *,
    organization: Organization,
    metric_key: str,
    year: Any,
    targets: Mapping[date, Any],
    goal: Any,
) -> None:
    """A row of the targets page: the monthly targets of a year and the annual goal (None
    clears), all or none."""
    metric = _metric_for(organization, metric_key)
    number = year_check(year)
    checked: dict[date, Decimal | None] = {}
    for month, value in targets.items():
        first = month_parse(month)
        if first.year != number:
            raise ValidationError({"month": f"{month_str(first)} is not in {number}."})
        name = f"m{first:%m}"
        checked[first] = None if value is None else value_check(metric, value, field=name)
    goal_value = None if goal is None else value_check(metric, goal, field="goal")
    mine = Target.objects.for_org(organization).filter(metric_key=metric.key)
    for first, value in checked.items():
        if value is None:
            audit.delete(mine.filter(month=first))
        else:
            Target.objects.update_or_create(
                organization=organization,
                metric_key=metric.key,
                month=first,
                defaults={"value": value},
            )
    if goal_value is None:
        audit.delete(Goal.objects.for_org(organization).filter(metric_key=metric.key, year=number))
    else:
        Goal.objects.update_or_create(
            organization=organization,
            metric_key=metric.key,
            year=number,
            defaults={"value": goal_value},
        )


def targets_for(
    organization: Organization, months: Iterable[date]
) -> dict[tuple[str, date], Decimal]:
    """The targets of the months: ``{(metric key, month): value}``."""
    firsts = sorted({month_parse(m) for m in months})
    rows = (
        Target.objects.for_org(organization)
        .filter(month__in=firsts)
        .values_list("metric_key", "month", "value")
    )
    return {(key, month): value for key, month, value in rows}


def goals_for(organization: Organization, year: int) -> dict[str, Decimal]:
    """The annual goals of the year: ``{metric key: value}``."""
    rows = Goal.objects.for_org(organization).filter(year=year_check(year))
    return dict(rows.values_list("metric_key", "value"))


# --- the targets grid: every metric's year at once, and the same as CSV -----------------------

#: a grid row's cells: the twelve months (``m01``..``m12``) and the annual goal
MONTH_COLUMNS = tuple(f"m{n:02d}" for n in range(1, 13))
GRID_COLUMNS = (*MONTH_COLUMNS, "goal")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: the targets file: the metric in words, its key (what the upload goes by), months, goal
CSV_HEADER = ("metric", "key", *MONTH_NAMES, "goal")
#: rows of a targets file at most (an organization has a few dozen metrics)
MAX_CSV_ROWS = 2_000
MAX_CSV_CELL = 1_000


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
    return value_check(metric, number, field=column)


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
                problems[cell_name(key, column)] = f"{metric.name}, {when}: {_message(error)}"
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
                    audit.delete(type(have).objects.filter(pk=have.pk))
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
    return _grid_save(organization, number, rows, "changed", f"targets and goals of {number}")


def _grid_save(
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


def targets_csv(organization: Organization, year: Any) -> tuple[str, int]:
    """The year's targets and goals as CSV (:data:`CSV_HEADER`), one row per metric of the
    grid, in its order; and how many rows. Percentages in points, money as plain numbers."""
    number = year_check(year)
    targets = targets_for(organization, months_of(number))
    goals = goals_for(organization, number)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    rows = 0
    for _group, metrics in grid_metrics(organization):
        for m in metrics:
            months = [plain(targets.get((m.key, first))) or "" for first in months_of(number)]
            writer.writerow([m.name, m.key, *months, plain(goals.get(m.key)) or ""])
            rows += 1
    return out.getvalue(), rows


@dataclass
class TargetsFileResult:
    """A targets file read: its errors by row and column (nothing written when any), or what
    it changed."""

    file: str
    rows: int = 0
    problems: list[str] = field(default_factory=list)  # the file as a whole
    errors: list[RowError] = field(default_factory=list)
    saved: GridSaved | None = None

    @property
    def failed(self) -> bool:
        return bool(self.problems or self.errors)

    def error(self, row: int, column: str, reason: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(row, column, reason))

    def lines(self) -> list[str]:
        """Every problem in words: ``row 4, column Mar: 'abc' is not a number.``"""
        rows = [
            f"row {e.line}, column {e.column}: {e.reason}"
            if e.column
            else f"row {e.line}: {e.reason}"
            for e in self.errors
        ]
        return [*self.problems, *rows]


_HEADER_WORDS = {
    "metric": "metric",
    "name": "metric",
    "key": "key",
    "goal": "goal",
    "annual goal": "goal",
    **{name.lower(): column for name, column in zip(MONTH_NAMES, MONTH_COLUMNS, strict=True)},
    **{
        date(2000, n, 1).strftime("%B").lower(): column
        for n, column in enumerate(MONTH_COLUMNS, start=1)
    },
}


def _text_lines(file: Any) -> Generator[str, None, None]:
    """The lines of an upload (bytes as UTF-8, a BOM dropped) or of a text file, read once."""
    source = getattr(file, "file", file)  # Django's UploadedFile wraps the real file
    if hasattr(source, "seek"):
        source.seek(0)
    first = source.read(0) if hasattr(source, "read") else ""
    if isinstance(first, bytes):
        text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
        try:
            for line in text:  # not ``yield from``: closing it would close the upload
                yield line
        finally:
            text.detach()  # the upload closes its own file
    else:
        for line in source:
            yield line.lstrip("\ufeff") if isinstance(line, str) else line


def _delimiter(header: str) -> str:
    """The header's separator: the commonest of , ; and tab (spreadsheets in many languages
    save with ;)."""
    counts = {d: header.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: (counts[d], d == ","))


def targets_csv_read(
    organization: Organization, year: Any, file: Any, *, name: str = "", dry_run: bool = False
) -> TargetsFileResult:
    """Read a targets file (as :func:`targets_csv` writes it: ``metric,key,Jan..Dec,goal``;
    ``;`` or tab separators too) and, when every cell is good, save it like the grid. The
    metric is found by its key, else its name; a month or goal column left out of the file
    stays as it is, an empty cell clears. All or nothing: any bad cell is reported by row
    (the header is row 1) and column, and nothing is written."""
    number = year_check(year)
    result = TargetsFileResult(file=name or getattr(file, "name", "") or "the file")
    lines = _text_lines(file)
    try:
        return _targets_read(organization, number, lines, result, dry_run)
    finally:
        lines.close()  # while the upload is still open


def _targets_read(
    organization: Organization,
    number: int,
    lines: Iterator[str],
    result: TargetsFileResult,
    dry_run: bool,
) -> TargetsFileResult:
    catalogue = metric_catalogue(organization)
    by_key = {m.key: m for m in catalogue}
    by_name = {m.name.strip().lower(): m for m in catalogue}
    rows: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    try:
        first = next(lines, "")
        if not first.strip():
            result.problems.append("The file is empty: it needs the header metric,key,Jan,…,goal.")
            return result
        reader = csv.reader(itertools.chain([first], lines), delimiter=_delimiter(first))
        header = [h.strip() for h in next(reader)]
        columns: dict[int, str] = {}
        for i, text in enumerate(header):
            if not text:
                continue
            column = _HEADER_WORDS.get(text.lower())
            if column is None:
                result.problems.append(
                    f"Column {i + 1} “{text[:40]}” is not one of metric, key, Jan to Dec, goal."
                )
            elif column in columns.values():
                result.problems.append(f"The column {text[:40]} is in the header twice.")
            else:
                columns[i] = column
        if not {"key", "metric"} & set(columns.values()):
            result.problems.append("The header needs a key or a metric column.")
        if result.problems:
            return result
        for index, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue
            result.rows += 1
            if result.rows > MAX_CSV_ROWS:
                result.problems.append(f"The file has more than {MAX_CSV_ROWS:,} rows.")
                return result
            cells = {columns[i]: v for i, v in enumerate(values) if i in columns}
            labels = {columns[i]: header[i] for i in columns}
            long = [c for c, v in cells.items() if len(v) > MAX_CSV_CELL]
            if long:
                for c in long:
                    result.error(index, labels[c], f"longer than {MAX_CSV_CELL:,} characters")
                continue
            key, metric_name = cells.get("key", "").strip(), cells.get("metric", "").strip()
            metric = by_key.get(key.lower()) if key else by_name.get(metric_name.lower())
            if metric is None:
                which, text = ("key", key) if key else ("metric", metric_name)
                result.error(
                    index,
                    labels.get(which, which),
                    f"{text[:60]!r} is not a metric of this organization"
                    if text
                    else "no metric on this row",
                )
                continue
            if metric.key in seen:
                result.error(index, "", f"{metric.name} is already on row {seen[metric.key]}")
                continue
            seen[metric.key] = index
            row: dict[str, Any] = {}
            for column, value in cells.items():
                if column in ("key", "metric"):
                    continue
                try:
                    row[column] = cell_parse(metric, value, column)
                except ValidationError as error:
                    result.error(index, labels[column], _message(error))
            rows[metric.key] = row
    except UnicodeDecodeError:
        result.problems.append("The file is not UTF-8 text: save it as “CSV UTF-8”.")
        return result
    except csv.Error as error:
        result.problems.append(f"The file is not readable CSV: {error}.")
        return result
    if result.failed or dry_run:
        return result
    with transaction.atomic():
        what = f"targets file of {number} ({result.rows} rows)"
        result.saved = _grid_save(organization, number, rows, "imported", what)
    return result


# --- the monthly review (append-only) -------------------------------------------------------


@transaction.atomic
def review_add(
    *,
    organization: Organization,
    month: str | date,
    kind: str,
    text: str,
    by: Membership | None = None,
) -> ReviewEntry:
    """Add a note or a decision to a month's review. Entries are never edited nor deleted:
    a correction is a new entry."""
    user = writer_user(organization, by)
    first = month_parse(month)
    if kind not in ReviewKind.values:
        raise ValidationError({"kind": "Choose note or decision."})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the note or decision."})
    if len(text) > MAX_REVIEW:
        raise ValidationError({"text": f"Keep it under {MAX_REVIEW:,} characters."})
    entry = ReviewEntry(
        organization=organization, month=first, kind=kind, text=text, by=user, at=timezone.now()
    )
    entry.full_clean(exclude=["organization", "by"])
    entry.save()
    from keepscore.focus.services import keep  # here: focus builds on the scorecard

    keep(organization, first, user)
    return entry


def reviews_for(organization: Organization, month: str | date) -> list[types.ReviewEntry]:
    """A month's review entries, oldest first, as plain data."""
    rows = (
        ReviewEntry.objects.for_org(organization)
        .filter(month=month_parse(month))
        .select_related("by")
        .order_by("at", "id")
    )
    return [
        types.ReviewEntry(
            kind=r.kind,
            text=r.text,
            by=str(r.by) if r.by is not None else "",
            at=r.at,
        )
        for r in rows
    ]


# --- import: metric,month,value from CSV or XLSX --------------------------------------------

COLUMNS = ("metric", "month", "value")
#: errors kept for the report (the count goes on beyond)
MAX_ERRORS = 10_000


@dataclass
class MetricImportResult:
    file: str
    file_format: str = ""
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    imported: bool = False
    dry_run: bool = False
    problems: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    errors_total: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.problems or self.errors_total)

    def error(self, line: int, column: str, reason: str) -> None:
        self.errors_total += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(RowError(line, column, reason))


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


class _Checker:
    """Reads and checks every row; keeps the valid ones (three small values each)."""

    def __init__(self, organization: Organization, table: Table, result: MetricImportResult):
        header = [h.strip().lower() for h in table.header]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise FileProblem(
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                "(the header must have metric, month, value)"
            )
        self.index = {c: header.index(c) for c in COLUMNS}
        result.ignored_columns = [h for h in table.header if h.strip().lower() not in COLUMNS]
        metrics = list(ManualMetric.objects.for_org(organization))
        self.by_key = {m.key: m for m in metrics}
        self.by_name = {m.name.strip().lower(): m for m in metrics}
        self.result = result
        self.rows: dict[tuple[int, date], tuple[int, Decimal]] = {}

    def cell(self, values: list[str], column: str) -> str:
        i = self.index[column]
        return values[i].strip() if i < len(values) else ""

    def check(self, line: int, values: list[str]) -> None:
        result = self.result
        result.rows += 1
        if any(len(v) > MAX_FIELD for v in values):
            result.error(line, "", f"a value is longer than {MAX_FIELD:,} characters")
            return
        name = self.cell(values, "metric")
        metric = self.by_key.get(name.lower()) or self.by_name.get(name.lower())
        ok = True
        if not name:
            result.error(line, "metric", "no metric")
            ok = False
        elif metric is None:
            result.error(line, "metric", f"{name[:60]!r} is not a manual metric's key or name")
            ok = False
        elif not metric.active:
            result.error(line, "metric", f"the metric {metric.name} is inactive")
            ok = False
        month = None
        try:
            month = month_parse(self.cell(values, "month"))
        except ValidationError as error:
            result.error(line, "month", _message(error))
            ok = False
        text = self.cell(values, "value")
        value = None
        if not text:
            result.error(line, "value", "no value")
            ok = False
        else:
            number = decimal_parse(text)
            if number is None:
                result.error(line, "value", f"{text[:40]!r} is not a number")
                ok = False
            elif metric is not None:
                try:
                    value = value_check(metric.definition(), number)
                except ValidationError as error:
                    result.error(line, "value", _message(error))
                    ok = False
        if not ok or metric is None or month is None or value is None:
            return
        seen = self.rows.get((metric.pk, month))
        if seen is not None:
            result.error(
                line,
                "metric",
                f"{metric.key} for {month_str(month)} is already on line {seen[0]}",
            )
            return
        self.rows[(metric.pk, month)] = (line, value)


def metrics_import(
    organization: Organization,
    path_or_file: Any,
    by: Membership | None = None,
    *,
    dry_run: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> MetricImportResult:
    """Import manual values from a CSV or XLSX file with the columns ``metric,month,value``.

    ``metric`` is a manual metric's key or name, ``month`` YYYY-MM. All or nothing: with any
    bad row (reported with its line, column and reason) nothing is written. Values are set,
    not added, so importing the same file again changes nothing.
    """
    user = writer_user(organization, by)
    path, temporary = path_of(path_or_file)
    result = MetricImportResult(file=getattr(path_or_file, "name", None) or path.name)
    result.dry_run = dry_run
    try:
        table = table_open(path)
        result.file_format = table.describe()
        checker = _Checker(organization, table, result)

        def consume(rows: Any) -> None:
            result.rows = result.errors_total = 0
            result.errors = []
            checker.rows = {}
            for n, (line, values) in enumerate(rows):
                checker.check(line, values)
                if progress is not None and n % 1000 == 0 and table.size:
                    progress("checking", min(table.position[0] / table.size, 1.0))

        rows_with_retry(table, consume)
    except FileProblem as problem:
        result.problems.append(str(problem))
        return result
    finally:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
    if result.failed or dry_run:
        return result
    if progress is not None:
        progress("writing", 1.0)
    metrics = {m.pk: m for m in ManualMetric.objects.for_org(organization)}
    with transaction.atomic():
        existing = {
            (row.metric_id, row.month): row
            for row in ManualValue.objects.for_org(organization).filter(
                month__in={month for _pk, month in checker.rows}
            )
        }
        for (pk, month), (_line, value) in checker.rows.items():
            row = existing.get((pk, month))
            if row is None:
                ManualValue.objects.create(
                    organization=organization, metric=metrics[pk], month=month, value=value, by=user
                )
                result.created += 1
            elif row.value != value:
                row.value = value
                row.by = user
                row.save(update_fields=["value", "by", "updated_at"])
                result.updated += 1
            else:
                result.unchanged += 1
    result.imported = True
    return result


def metric_catalogue_with_manual(organization: Organization) -> list[MetricDef]:
    """The catalogue and the inactive manual metrics too (for listings)."""
    active = metric_catalogue(organization)
    inactive = [
        m.definition() for m in ManualMetric.objects.for_org(organization).filter(active=False)
    ]
    return [*active, *inactive]
