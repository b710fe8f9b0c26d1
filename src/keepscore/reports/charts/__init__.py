"""Charts as server-side SVG, the same markup in a web page and in the PDF: what others call.

Every function returns a ``SafeString`` holding one ``<svg>`` element, sized by its
``viewBox`` (it scales to its container; ``keepscore/charts.css`` makes it fluid), styled
only with SVG attributes (no stylesheet, no script, no id, nothing fetched), so a browser
and WeasyPrint draw it alike.

- Numbers on hover: each mark is a ``<g class="mark">`` whose first child is a ``<title>``
  (a browser shows it as a tooltip); visible value labels are drawn where there is room.
- Accessible: ``role="img"``, an ``aria-label`` (the chart's title) and a ``<desc>`` that
  reads the data as text.
- Every text is escaped (labels come from users) and stripped of characters XML forbids.
- Colours: the Okabe-Ito palette (colourblind-safe); markers also differ by dash pattern.

``format_value`` is the one place numbers become text, for charts, pages and exports.

The views, the PDF, the CLI and the other apps import from here:

- :func:`format_value`, ``UNITS``, ``DASH`` and ``NO_VALUE`` from
  :mod:`keepscore.common.formats` (numbers as text, shared with pages and files);
- :func:`funnel_chart`, :func:`spend_margin_chart` (:class:`SpendMarginRow`) and
  :func:`goal_bar` (:class:`GoalBar`) from :mod:`keepscore.reports.charts.bars`;
- :func:`rate_chart`, :func:`rate_tooltip` and :class:`RateRow` from
  :mod:`keepscore.reports.charts.rates`;
- :func:`trend_chart` and :func:`sparkline` from :mod:`keepscore.reports.charts.lines`;
- :func:`histogram` from :mod:`keepscore.reports.charts.histogram`.

The drawing primitives they share (palette, escaping, elements, the ``<svg>`` itself, axis
ticks) are in :mod:`keepscore.reports.charts.svg`.
"""

from __future__ import annotations

from keepscore.common.formats import DASH, NO_VALUE, UNITS, format_value
from keepscore.reports.charts.bars import (
    GoalBar,
    SpendMarginRow,
    funnel_chart,
    goal_bar,
    spend_margin_chart,
)
from keepscore.reports.charts.histogram import histogram
from keepscore.reports.charts.lines import sparkline, trend_chart
from keepscore.reports.charts.rates import RateRow, rate_chart, rate_tooltip

__all__ = [
    "DASH",
    "NO_VALUE",
    "UNITS",
    "GoalBar",
    "RateRow",
    "SpendMarginRow",
    "format_value",
    "funnel_chart",
    "goal_bar",
    "histogram",
    "rate_chart",
    "rate_tooltip",
    "sparkline",
    "spend_margin_chart",
    "trend_chart",
]
