"""Pre-aggregated funnel summaries (docs/numbers.md, "Summaries"): the same answers as
``keepscore.funnel.selectors`` for whole-month periods, grouped by nothing, channel or
owner, with ``within_days`` in ``WINDOWS`` (or None).

- ``readers``: what the reports read (the funnel, each month's figures, the close rate and
  sales cycle over runs of months, the leads now at each stage);
- ``cycles``: the sales cycle's counts and quantiles, from the first wins by day;
- ``upkeep``: the tables kept from the history, set-based SQL, called only through the
  history recorder (``projection.SummaryProjection``, registered by the funnel app); the SQL
  of each contribution in ``lead_contributions`` and ``activity_contributions``;
- ``verify``: the tables and figures checked against the history and the reference;
- ``sql``: the SQL both databases share.

An organization whose summaries were never built is built on its first write; until then
(and whenever the ladder differs from the one the counts were made with) :func:`ready` is
False and callers use the reference selectors.
"""

from keepscore.funnel.summary.cycles import CycleDays, cycle_quantile, cycle_quantiles
from keepscore.funnel.summary.readers import (
    cycle_days,
    funnel,
    month_counts,
    objection_months,
    span_closed,
    stage_counts,
    supports,
)
from keepscore.funnel.summary.upkeep import SUMMARY_GROUPINGS, ready

__all__ = [
    "SUMMARY_GROUPINGS",
    "CycleDays",
    "cycle_days",
    "cycle_quantile",
    "cycle_quantiles",
    "funnel",
    "month_counts",
    "objection_months",
    "ready",
    "span_closed",
    "stage_counts",
    "supports",
]
