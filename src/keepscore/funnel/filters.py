"""The funnel filters as the page, the CLI and the API read them, and a rate as text."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

from keepscore.common.formats import DASH, format_value
from keepscore.common.months import month_start
from keepscore.common.periods import Period
from keepscore.funnel.groupings import FACT_PREFIX, grouping_check
from keepscore.funnel.stats import RateFigure

#: the longest conversion window a filter takes (ten years); more is a typo
MAX_WITHIN_DAYS = 3650
#: ``by`` that asks for no grouping: one group, "All leads"
UNGROUPED = "all"
DEFAULT_BY = "channel"
BY_LABELS = {
    "channel": "Channel",
    "campaign": "Campaign",
    "owner": "Owner",
    "utm_source": "UTM source",
    "utm_medium": "UTM medium",
    "utm_campaign": "UTM campaign",
    UNGROUPED: "No grouping (all leads)",
}


def default_period(today: date | None = None) -> Period:
    """The last 12 full calendar months before the month of ``today`` (local date)."""
    today = today or timezone.localdate()
    end = today.replace(day=1) - timedelta(days=1)
    return Period(month_start(end, back=11), end)


def recent_months(today: date | None = None) -> Period:
    """This month and the two before, whole months (the dashboard's funnel: the
    pre-counted summaries answer whole months at once)."""
    today = today or timezone.localdate()
    return Period(month_start(today, back=2), Period.month(today).end)


def by_parse(value: str | None) -> str | None:
    """A grouping as the selectors take it: None for "all"; ValueError when unknown."""
    text = (value or "").strip()
    if not text:
        return DEFAULT_BY
    if text == UNGROUPED:
        return None
    if text.startswith(FACT_PREFIX):
        text = FACT_PREFIX + text[len(FACT_PREFIX) :].strip()
    grouping_check(text)
    return text


def rate_text(figure: RateFigure) -> str:
    """``56% (28 of 50), 95% CI 42-69%`` (an en dash), or ``not enough data (3 of 8)``."""
    counts = f"{format_value(figure.k, 'count')} of {format_value(figure.n, 'count')}"
    if not figure.enough or figure.rate is None:
        return f"not enough data ({counts})"
    text = f"{format_value(figure.rate, 'percent')} ({counts})"
    if figure.ci_low is not None and figure.ci_high is not None:
        low = format_value(figure.ci_low, "percent").rstrip("%")
        text += f", 95% CI {low}{DASH}{format_value(figure.ci_high, 'percent')}"
    return text


class PeriodProblem(ValueError):
    """A period the filters cannot give; ``field`` is "from" or "to"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def period_resolve(start: date | None, end: date | None, default: Period) -> Period:
    """The period ``from``/``to`` ask for, each defaulting to ``default``'s; the end may not
    come before the start (the message is for the field the user gave)."""
    first, last = start or default.start, end or default.end
    if first > last:
        field = "to" if end else "from"
        raise PeriodProblem(field, f"The end date ({last}) is before the start date ({first}).")
    return Period(first, last)
