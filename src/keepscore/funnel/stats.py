"""Small statistics helpers for the funnel figures: a rate with its interval (``RateFigure``,
:func:`rate`), the Wilson interval and quantiles.

Pure functions of numbers (no database; :func:`min_n` reads the settings); see
``docs/numbers.md`` for the formulas.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

#: the normal quantile for a two-sided 95% interval
Z95 = 1.959964
#: below this many customers, what their margin returns on spend (return on spend, payback)
#: is "not enough data" (the scorecard and channel economics alike)
MIN_CUSTOMERS = 5
#: below this many values, a quantile (the sales cycle's median, its 80th percentile) is
#: "not enough data"
MIN_QUANTILE_N = 5


@dataclass(frozen=True)
class RateFigure:
    """A rate with its counts: k of n, and the 95% Wilson interval (None when n is 0)."""

    k: int
    n: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    enough: bool  # n reached the minimum (settings.KEEPSCORE_MIN_N, default 20)


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for k successes out of n trials; None when n is 0.

    With p = k/n::

        centre = (p + z²/(2n)) / (1 + z²/n)
        half   = z / (1 + z²/n) * sqrt(p(1 - p)/n + z²/(4n²))
        (low, high) = (centre - half, centre + half)

    The ends are exact at the edges: low is 0 when k is 0, high is 1 when k is n.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"wilson needs 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return None
    p = k / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    low = 0.0 if k == 0 else max(0.0, min(p, centre - half))
    high = 1.0 if k == n else min(1.0, max(p, centre + half))
    return low, high


def min_n() -> int:
    return int(getattr(settings, "KEEPSCORE_MIN_N", 20))


def rate(k: int, n: int) -> RateFigure:
    """k of n with its 95% Wilson interval; ``enough`` once n reaches the minimum."""
    if not 0 <= k <= n:
        raise ValueError(f"a rate needs 0 <= k <= n, got k={k}, n={n}")
    interval = wilson(k, n)
    low, high = interval if interval is not None else (None, None)
    return RateFigure(
        k=k,
        n=n,
        rate=k / n if n else None,
        ci_low=low,
        ci_high=high,
        enough=n >= min_n(),
    )


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-quantile of already sorted values by linear interpolation; None when empty.

    The same method as pandas' default ``Series.quantile`` (numpy's "linear"): the value at
    the virtual index ``(n - 1)*q``, interpolated between its two neighbours. The
    interpolation is written as numpy writes it, so results match it to the last bit.
    """
    n = len(sorted_values)
    if n == 0:
        _check(q)
        return None
    below, above, t = quantile_neighbours(n, q)
    return interpolate(float(sorted_values[below]), float(sorted_values[above]), t)


def _check(q: float) -> None:
    if not 0 <= q <= 1:
        raise ValueError(f"a quantile is between 0 and 1, got {q}")


def quantile_neighbours(n: int, q: float) -> tuple[int, int, float]:
    """``(below, above, t)``: the q-quantile of ``n`` sorted values lies between the values
    at indexes ``below`` and ``above``, a fraction ``t`` of the way (:func:`quantile`'s
    rule, for values read from a database two at a time)."""
    _check(q)
    position = (n - 1) * q
    below = math.floor(position)
    return below, min(below + 1, n - 1), position - below


def interpolate(a: float, b: float, t: float) -> float:
    """The value a fraction ``t`` of the way from ``a`` to ``b``, as numpy writes it."""
    diff = b - a
    if t >= 0.5:
        return b - diff * (1 - t)
    return a + diff * t


def median(sorted_values: Sequence[float]) -> float | None:
    """The median: the 0.5 quantile (the mean of the two middle values for an even count)."""
    return quantile(sorted_values, 0.5)
