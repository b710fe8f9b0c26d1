"""The trend tests, against the formulas worked by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keepscore.focus import trends


def p_of(z: float) -> float:
    return math.erfc(abs(z) / math.sqrt(2))


def test_cochran_armitage_by_hand() -> None:
    # k = 1, 2, 3 of n = 10 each: N = 30, p = 0.2, scores 0, 1, 2
    # T = 0(1-2) + 1(2-2) + 2(3-2) = 2; Σnx² = 50, Σnx = 30: spread = 50 - 900/30 = 20
    # Var = 0.2 * 0.8 * 20 = 3.2; z = 2 / sqrt(3.2)
    t = trends.proportion_trend([1, 2, 3], [10, 10, 10])
    assert t.z == pytest.approx(2 / math.sqrt(3.2))
    assert t.p_value == pytest.approx(p_of(2 / math.sqrt(3.2)))
    assert t.direction == "flat"  # z = 1.12: not significant
    falling = trends.proportion_trend([30, 20, 10, 5], [100, 100, 100, 100])
    # p = 65/400; T = 0 + (20 - 16.25) + 2(10 - 16.25) + 3(5 - 16.25) = -42.5
    # spread = 100(0+1+4+9) - (100*6)²/400 = 1400 - 900 = 500
    z = -42.5 / math.sqrt(65 / 400 * (1 - 65 / 400) * 500)
    assert falling.z == pytest.approx(z)
    assert falling.falling and not falling.rising


def test_cochran_armitage_skips_empty_groups_and_needs_three() -> None:
    assert trends.proportion_trend([1, 2], [5, 5]).z is None
    assert trends.proportion_trend([0, 0, 0], [5, 5, 5]).z is None  # no variation: p = 0
    with_gap = trends.proportion_trend([1, 0, 2, 3], [10, 0, 10, 10])
    # scores 0, 2, 3 stay: p = 0.2; T = 0 + 2(2-2) + 3(3-2) = 3
    # Σnx² = 10(0+4+9) = 130; Σnx = 50; spread = 130 - 2500/30
    assert with_gap.z == pytest.approx(3 / math.sqrt(0.16 * (130 - 2500 / 30)))


def test_poisson_score_by_hand() -> None:
    # c = 2, 4, 6: mean 4, x̄ = 1, Σ(x-x̄)² = 2, Σx(c - 4) = 4: z = 4 / sqrt(4 * 2)
    t = trends.count_trend([2, 4, 6])
    assert t.z == pytest.approx(math.sqrt(2))
    rising = trends.count_trend([2, 5, 8, 11, 14, 17])
    # mean 9.5, x̄ = 2.5, Σ(x-x̄)² = 17.5, Σx(c - 9.5) = 52.5
    assert rising.z == pytest.approx(52.5 / math.sqrt(9.5 * 17.5))
    assert rising.rising
    assert trends.count_trend([0, 0, 0]).z is None
    assert trends.count_trend([5, 5, 5, 5]).z == 0


def test_mann_kendall_by_hand() -> None:
    # 1, 2, 3, 4: S = 6; Var = 4*3*13/18; z = (6 - 1)/sqrt(Var)
    t = trends.monotonic_trend([1, 2, 3, 4])
    assert t.z == pytest.approx(5 / math.sqrt(4 * 3 * 13 / 18))
    # ties: 1, 1, 2, 3: S = 5; Var = (156 - 2*1*9)/18
    tied = trends.monotonic_trend([1, 1, 2, 3])
    assert tied.z == pytest.approx(4 / math.sqrt((156 - 18) / 18))
    # None is a month without a value: left out
    assert trends.monotonic_trend([1, None, 2, 3, 4]).z == t.z
    assert trends.monotonic_trend([3, 3, 3, 3]).z is None
    assert trends.monotonic_trend([1, 2, 3]).z is None
    assert trends.monotonic_trend([10, 9, 8, 7, 6, 5, 4, 3]).falling


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=3, max_size=12))
def test_cochran_armitage_is_antisymmetric_in_time(pairs: list[tuple[int, int]]) -> None:
    """Reversing the months flips the sign of z and keeps the p-value."""
    ks = [min(a, b) for a, b in pairs]
    ns = [max(a, b) for a, b in pairs]
    forward = trends.proportion_trend(ks, ns)
    backward = trends.proportion_trend(ks[::-1], ns[::-1])
    if forward.z is None:
        assert backward.z is None
    else:
        assert backward.z == pytest.approx(-forward.z, abs=1e-9)
        assert 0 <= (forward.p_value or 0) <= 1
