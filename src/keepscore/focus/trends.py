"""Trend tests for the focus diagnosis: is a series of months going up or down, beyond what
chance would give? Pure functions of numbers (no database); formulas in docs/focus.md.

Every test returns a :class:`Trend`: the statistic ``z`` (negative: falling), its two-sided
``p_value`` under "no trend", and the direction it points to at the 5% level.

- :func:`proportion_trend`: the Cochran-Armitage test for a trend in proportions k/n over
  ordered groups (months) — for conversion rates.
- :func:`count_trend`: the Poisson score test for a log-linear trend in counts over equally
  long periods — for new leads, qualified leads, objections, sales conversations.
- :func:`monotonic_trend`: the Mann-Kendall test (with the tie correction) — for money and
  percentages, which are neither counts nor proportions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: the significance level of "rising" / "falling"
ALPHA = 0.05


@dataclass(frozen=True)
class Trend:
    z: float | None  # None: the series cannot be tested (too short, or no variation)
    p_value: float | None
    test: str

    @property
    def falling(self) -> bool:
        return self.z is not None and self.z < 0 and (self.p_value or 1.0) < ALPHA

    @property
    def rising(self) -> bool:
        return self.z is not None and self.z > 0 and (self.p_value or 1.0) < ALPHA

    @property
    def direction(self) -> str:
        return "falling" if self.falling else "rising" if self.rising else "flat"

    def as_dict(self) -> dict[str, object]:
        return {
            "test": self.test,
            "z": self.z,
            "p_value": self.p_value,
            "direction": self.direction,
        }


def two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def _untestable(test: str) -> Trend:
    return Trend(None, None, test)


def proportion_trend(ks: Sequence[int], ns: Sequence[int]) -> Trend:
    """Cochran-Armitage: k successes of n in each ordered group (scores 0, 1, 2, …).

    With N = Σn, p = Σk / N and scores x::

        T   = Σ x (k - n p)
        Var = p (1 - p) (Σ n x² - (Σ n x)² / N)
        z   = T / sqrt(Var)

    Groups with n = 0 carry no information and are skipped (their score stays).
    """
    if len(ks) != len(ns):
        raise ValueError("ks and ns need the same length")
    rows = [(x, k, n) for x, (k, n) in enumerate(zip(ks, ns, strict=True)) if n > 0]
    if len(rows) < 3:
        return _untestable("cochran-armitage")
    total = sum(n for _x, _k, n in rows)
    p = sum(k for _x, k, _n in rows) / total
    t = sum(x * (k - n * p) for x, k, n in rows)
    spread = sum(n * x * x for x, _k, n in rows) - sum(n * x for x, _k, n in rows) ** 2 / total
    variance = p * (1 - p) * spread
    if variance <= 0:
        return _untestable("cochran-armitage")
    z = t / math.sqrt(variance)
    return Trend(z, two_sided_p(z), "cochran-armitage")


def count_trend(counts: Sequence[float]) -> Trend:
    """The Poisson score test of no trend against a log-linear one, for counts over equally
    long periods (scores 0, 1, 2, …)::

        z = Σ x (c - c̄) / sqrt(c̄ Σ (x - x̄)²)
    """
    if len(counts) < 3:
        return _untestable("poisson-score")
    mean = sum(counts) / len(counts)
    xs = range(len(counts))
    x_mean = sum(xs) / len(counts)
    spread = sum((x - x_mean) ** 2 for x in xs)
    if mean <= 0:
        return _untestable("poisson-score")
    z = sum(x * (c - mean) for x, c in zip(xs, counts, strict=True)) / math.sqrt(mean * spread)
    return Trend(z, two_sided_p(z), "poisson-score")


def monotonic_trend(values: Sequence[float | None]) -> Trend:
    """Mann-Kendall over the values that are known (None: a month without a value)::

    S   = Σ_{i<j} sign(v_j - v_i)
    Var = (n(n-1)(2n+5) - Σ_t t(t-1)(2t+5)) / 18     (t: sizes of groups of ties)
    z   = (S - sign(S)) / sqrt(Var)                  (continuity correction)
    """
    known = [float(v) for v in values if v is not None]
    n = len(known)
    if n < 4:
        return _untestable("mann-kendall")
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            diff = known[j] - known[i]
            s += (diff > 0) - (diff < 0)
    ties: dict[float, int] = {}
    for v in known:
        ties[v] = ties.get(v, 0) + 1
    variance = (
        n * (n - 1) * (2 * n + 5) - sum(t * (t - 1) * (2 * t + 5) for t in ties.values())
    ) / 18
    if variance <= 0:
        return _untestable("mann-kendall")
    if s == 0:
        return Trend(0.0, 1.0, "mann-kendall")
    z = (s - (1 if s > 0 else -1)) / math.sqrt(variance)
    return Trend(z, two_sided_p(z), "mann-kendall")
