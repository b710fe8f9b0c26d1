"""The lead list of a scorecard count: the leads a metric counts over a range of days, for
the metrics that count leads (new leads, customers, entries into a stage); "" for the
others (activities, money, rates, manual metrics), which are not a list of leads."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from keepscore.accounts.models import Organization
from keepscore.common.months import month_add
from keepscore.common.periods import Period
from keepscore.leads.links import leads_url
from keepscore.leads.models import Stage

#: the lead list's (from, to) filters of the metrics that count leads by a day
LEAD_COUNTS = {
    "new_leads": ("created_from", "created_to"),  # first touch in the days
    "customers": ("closed_won_from", "closed_won_to"),  # the last outcome in them is a win
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


def same_days_before(month: date, days: int) -> tuple[date, date]:
    """The first ``days`` days of the month before ``month`` (its whole length at most): the
    window of ``scorecard.compute.same_days``."""
    before = Period.month(month_add(month, -1))
    return before.start, min(before.start + timedelta(days=days - 1), before.end)


def row_links(
    organization: Organization, key: str, month: date, days: int | None, stages: dict[str, int]
) -> dict[str, Any]:
    """A scorecard row's lead lists, by column: ``value`` (the month), ``previous_same_days``
    (the first ``days`` days of last month, while the month runs), ``previous`` (last month)
    and ``last_year`` (the same month last year); empty for a metric that is not a count of
    leads."""

    def url(start: date, end: date) -> str:
        return metric_leads_url(organization, key, start, end, stages)

    this = Period.month(month)
    if not url(this.start, this.end):
        return {}
    before, last_year = Period.month(month_add(month, -1)), Period.month(month_add(month, -12))
    return {
        "value": url(this.start, this.end),
        "previous_same_days": url(*same_days_before(month, days)) if days else "",
        "previous": url(before.start, before.end),
        "last_year": url(last_year.start, last_year.end),
    }
