"""Random draws (a weighted pick, a Poisson count) and the calendar steps of the demo."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from typing import Any


def pick(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    """An item of ``weighted`` (item, weight pairs), drawn in proportion to its weight."""
    total = sum(w for _, w in weighted)
    x = rng.random() * total
    for item, weight in weighted:
        x -= weight
        if x < 0:
            return item
    return weighted[-1][0]


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson count of mean ``lam`` (above 40, a rounded normal one)."""
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def month_starts(today: date, months: int) -> list[date]:
    """The first days of the ``months`` months up to ``today``'s, oldest first."""
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def utc_moment(day: date, hour: int, minute: int) -> datetime:
    """``day`` at ``hour``:``minute``, UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)
