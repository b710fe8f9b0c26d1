"""The focus indicators' common shape (Indicator), statuses and sides, and the words they share.

Each indicator is one function of the organization and the :class:`~keepscore.focus.reads.Reads`
returning an :class:`Indicator`: its status (``alert``: it pushes toward its side; ``watch``:
worth a look, it does not push; ``ok``; ``info``: an answer that pushes nowhere;
``missing``: the data to judge is not there), its numbers (``evidence``), a confidence and
one plain sentence. The rules and thresholds are in docs/focus.md; the trend tests in
:mod:`keepscore.focus.trends`. The indicators, by what they ask about:

- ``money``: the sales cycle against the cash runway (question 1), the margins (question 4);
- ``sales``: the sales conversations (question 2), the conversion's trend, qualified leads
  against revenue, objections;
- ``stall``: late-stage leads stalling;
- ``channels``: where the customers come from (question 3);
- ``goal``: the open pipeline against the year's goal (question 5), new leads against it,
  and the gap to the saved plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keepscore.funnel.stats import min_n

#: the indicator statuses
STATUSES = ("alert", "watch", "ok", "info", "missing")
#: the sides an alert can push toward
SIDES = ("sales", "marketing", "margins", "cash")
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Indicator:
    key: str
    title: str
    question: int | None  # 1…5: which of the five questions it answers; None: an indicator
    status: str  # one of STATUSES
    pushes: str | None  # the side an alert pushes toward (one of SIDES), None: none
    value: float | None  # the headline number (unit below)
    unit: str  # "count", "percent" (a fraction), "days", "months", "money", "ratio"
    confidence: str  # "high", "medium", "low", "none"
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "question": self.question,
            "status": self.status,
            "pushes": self.pushes,
            "value": self.value,
            "unit": self.unit,
            "confidence": self.confidence,
            "evidence": self.evidence,
            "explanation": self.explanation,
        }


def confidence_of(n: int) -> str:
    """How sure a finding is from the size of its sample."""
    if n >= 4 * min_n():
        return "high"
    if n >= min_n():
        return "medium"
    if n > 0:
        return "low"
    return "none"


def percent(x: float | None) -> str:
    return "—" if x is None else f"{x * 100:.0f}%"


def p_text(p: float | None) -> str:
    if p is None:
        return "p not testable"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def share_change(recent: float, before: float) -> float | None:
    return (recent - before) / before if before else None
