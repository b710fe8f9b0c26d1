"""The lead list of a scorecard count: the leads a metric counts over a range of days, for
the metrics that count leads (new leads, customers, entries into a stage); "" for the
others (activities, money, rates, manual metrics), which are not a list of leads."""

from __future__ import annotations

from datetime import date

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add
from keepscore.common.periods import Period
from keepscore.leads.links import counted, leads_url
from keepscore.leads.models import Stage
from keepscore.scorecard.types import MetricRow

#: the lead list's (from, to) filters of the metrics that count leads by a day
LEAD_COUNTS = {
    "new_leads": ("created_from", "created_to"),  # first touch in the days
    "customers": ("closed_won_from", "closed_won_to"),  # the last outcome in them is a win
    "lost": ("closed_lost_from", "closed_lost_to"),  # the last outcome in them is a loss
}
#: ``entered_<stage key>``: the leads moved into the stage in the days
ENTERED = "entered_"


def stage_ids(organization: Organization) -> dict[str, int]:
    return dict(Stage.objects.for_org(organization).values_list("key", "pk"))


def metric_leads_url(
    organization: Organization, key: str, start: date, end: date, stages: dict[str, int]
) -> str:
    """The lead list of the leads metric ``key`` counts from ``start`` to ``end`` (both
    included); ``stages``: the organization's stage ids by key (:func:`stage_ids`)."""
    if key in LEAD_COUNTS:
        first, last = LEAD_COUNTS[key]
        return leads_url(organization, **{first: start, last: end})
    stage = stages.get(key[len(ENTERED) :]) if key.startswith(ENTERED) else None
    if stage is None:
        return ""
    return leads_url(organization, entered=stage, entered_from=start, entered_to=end)


#: a row's columns that count leads, and the figure each shows
COLUMNS = {
    "value": "value",
    "previous_same_days": "previous_same_days",
    "previous": "previous",
    "last_year": "same_month_last_year",
}


def row_links(
    organization: Organization,
    row: MetricRow,
    month: date,
    days: int | None,
    stages: dict[str, int],
) -> dict[str, str]:
    """A scorecard row's lead lists, by column: ``value`` (the month), ``previous_same_days``
    (the first ``days`` days of last month, while the month runs), ``previous`` (last month)
    and ``last_year`` (the same month last year); none for a count of 0, none at all for a
    metric that is not a count of leads."""

    def url(period: Period) -> str:
        return metric_leads_url(organization, row.key, period.start, period.end, stages)

    if not url(Period.month(month)):
        return {}
    before = month_add(month, -1)
    urls = {
        "value": url(Period.month(month)),
        "previous_same_days": url(Period.first_days(before, days)) if days else "",
        "previous": url(Period.month(before)),
        "last_year": url(Period.month(month_add(month, -12))),
    }
    return counted(urls, lambda column: getattr(row, COLUMNS[column]))
