"""The scorecard's own data as the pages, the API and the command line read it: a manual
metric, the manual values, targets and goals of some months or a year, a month's review
entries, and the metric catalogue with the inactive manual metrics (for listings). The
writes are ``scorecard.services``; the figures themselves ``scorecard.compute``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from keepscore.accounts.models import Organization
from keepscore.common.months import month_parse, year_check
from keepscore.scorecard import types
from keepscore.scorecard.catalogue import MetricDef, metric_catalogue
from keepscore.scorecard.models import Goal, ManualMetric, ManualValue, ReviewEntry, Target


def manual_metric_get(
    *, organization: Organization, key: str, field: str = "metric"
) -> ManualMetric:
    metric = ManualMetric.objects.for_org(organization).filter(key=key).first()
    if metric is None:
        raise ValidationError({field: f"There is no manual metric “{key}” in this organization."})
    return metric


def _by_metric_and_month(
    rows: QuerySet[Any], key: str, months: Iterable[date]
) -> dict[tuple[str, date], Decimal]:
    firsts = sorted({month_parse(m) for m in months})
    found = rows.filter(month__in=firsts).values_list(key, "month", "value")
    return {(metric, month): value for metric, month, value in found}


def manual_values(
    *, organization: Organization, months: Iterable[date]
) -> dict[tuple[str, date], Decimal]:
    """The manual values of the months: ``{(metric key, month): value}``."""
    return _by_metric_and_month(ManualValue.objects.for_org(organization), "metric__key", months)


def targets_for(
    *, organization: Organization, months: Iterable[date]
) -> dict[tuple[str, date], Decimal]:
    """The targets of the months: ``{(metric key, month): value}``."""
    return _by_metric_and_month(Target.objects.for_org(organization), "metric_key", months)


def goals_for(*, organization: Organization, year: int) -> dict[str, Decimal]:
    """The annual goals of the year: ``{metric key: value}``."""
    rows = Goal.objects.for_org(organization).filter(year=year_check(year))
    return dict(rows.values_list("metric_key", "value"))


def reviews_for(*, organization: Organization, month: str | date) -> list[types.ReviewEntry]:
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


def metric_catalogue_with_manual(*, organization: Organization) -> list[MetricDef]:
    """The catalogue and the inactive manual metrics too (for listings)."""
    active = metric_catalogue(organization)
    inactive = [
        m.definition() for m in ManualMetric.objects.for_org(organization).filter(active=False)
    ]
    return [*active, *inactive]
