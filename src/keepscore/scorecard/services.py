"""Manual metrics and values, targets, goals, reviews, one at a time; values checked.

The writes of the scorecard's own data: manual metrics and their values, targets, annual
goals and the monthly review (append-only); and the values they take (months and years are
:mod:`keepscore.common.months`'). Their reads are :mod:`keepscore.scorecard.selectors`.
Every write is atomic and validates first; a refused write raises a ``ValidationError``
naming the field and changes nothing. Months are normalised to the first day of the month.
The year grids saved at once are in :mod:`keepscore.scorecard.grids`, the targets file in
:mod:`keepscore.imports.targets`, the manual values import in
:mod:`keepscore.imports.manual_values`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from keepscore.accounts.models import Membership, Organization
from keepscore.audit import services as audit
from keepscore.common.months import month_parse, month_str, year_check
from keepscore.common.validation import check_same_org, name_free, writer_user
from keepscore.scorecard.catalogue import (
    FIXED_KEYS,
    LADDER_PREFIXES,
    MetricDef,
    computed_metrics,
    metric_get,
)
from keepscore.scorecard.checks import value_check
from keepscore.scorecard.models import (
    GROUP_CHOICES,
    UNIT_CHOICES,
    Goal,
    ManualMetric,
    ManualValue,
    ReviewEntry,
    ReviewKind,
    Target,
)

# --- values ------------------------------------------------------------------------------

MAX_REVIEW = 10_000


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
    name_free(model=ManualMetric, organization=organization, name=name, what="metric", other=metric)
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


# --- manual values ----------------------------------------------------------------------


def value_write(
    *, metric: ManualMetric, month: date, value: Decimal | None, user: Any
) -> ManualValue | None:
    if value is None:
        audit.delete(rows=ManualValue.objects.filter(metric=metric, month=month))
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
    checked = None if value is None else value_check(metric=metric.definition(), value=value)
    return value_write(metric=metric, month=first, value=checked, user=user)


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
        checked[first] = (
            None if value is None else value_check(metric=definition, value=value, field=name)
        )
    for first, number in checked.items():
        value_write(metric=metric, month=first, value=number, user=user)


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
    number = value_check(metric=metric, value=value)
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
    audit.delete(rows=rows)
    return True


@transaction.atomic
def goal_set(*, organization: Organization, metric_key: str, year: Any, value: Any) -> Goal:
    """Set a metric's annual goal."""
    metric = _metric_for(organization, metric_key)
    number = year_check(year)
    checked = value_check(metric=metric, value=value)
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
    audit.delete(rows=rows)
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
        checked[first] = (
            None if value is None else value_check(metric=metric, value=value, field=name)
        )
    goal_value = None if goal is None else value_check(metric=metric, value=goal, field="goal")
    mine = Target.objects.for_org(organization).filter(metric_key=metric.key)
    for first, value in checked.items():
        if value is None:
            audit.delete(rows=mine.filter(month=first))
        else:
            Target.objects.update_or_create(
                organization=organization,
                metric_key=metric.key,
                month=first,
                defaults={"value": value},
            )
    if goal_value is None:
        audit.delete(
            rows=Goal.objects.for_org(organization).filter(metric_key=metric.key, year=number)
        )
    else:
        Goal.objects.update_or_create(
            organization=organization,
            metric_key=metric.key,
            year=number,
            defaults={"value": goal_value},
        )


# --- the monthly review (append-only) -------------------------------------------------------


#: what a new review entry keeps with its month besides itself, each called as
#: ``keep(organization=..., month=..., by=user)`` in the entry's transaction; registered when
#: Django starts by the apps built on the scorecard (the focus: the month's diagnosis)
REVIEW_KEEPERS: list[Callable[..., object]] = []


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
    for keep in REVIEW_KEEPERS:
        keep(organization=organization, month=first, by=user)
    return entry
