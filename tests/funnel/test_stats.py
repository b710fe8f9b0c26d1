"""The Wilson interval and quantiles, against values worked out by hand."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keepscore.funnel.stats import median, quantile, wilson
from tests.conftest import examples

Z = 1.959964


def test_wilson_three_of_five() -> None:
    # p = 0.6, z^2 = 3.841459, 1 + z^2/n = 1.768292
    # centre = (0.6 + 3.841459/10) / 1.768292 = 0.556552
    # half   = 1.959964 / 1.768292 * sqrt(0.6*0.4/5 + 3.841459/100) = 0.325827
    # -> (0.230724, 0.882379)
    low, high = wilson(3, 5)  # type: ignore[misc]
    assert low == pytest.approx(0.230724, abs=1e-6)
    assert high == pytest.approx(0.882379, abs=1e-6)


def test_wilson_edges_are_exact() -> None:
    # k = 0 of 4: low is 0; high = z^2/n / (1 + z^2/n) = 0.960365 / 1.960365 = 0.489891
    assert wilson(0, 4) == (0.0, pytest.approx(0.489891, abs=1e-6))
    # k = n = 4: the mirror image
    assert wilson(4, 4) == (pytest.approx(0.510109, abs=1e-6), 1.0)
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(3, 2)


@settings(max_examples=examples(30))
@given(
    st.integers(min_value=1, max_value=5000).flatmap(
        lambda n: st.tuples(st.integers(0, n), st.just(n))
    )
)
def test_wilson_holds_the_rate_and_matches_the_formula(kn: tuple[int, int]) -> None:
    k, n = kn
    low, high = wilson(k, n)  # type: ignore[misc]
    p = k / n
    assert 0 <= low <= p <= high <= 1
    # the formula, written out
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    assert low == pytest.approx(max(0.0, centre - half), abs=1e-12)
    assert high == pytest.approx(min(1.0, centre + half), abs=1e-12)


def test_quantile_interpolates_linearly() -> None:
    values = [2.0, 10.0, 20.0, 40.0]
    # virtual index (n-1)q: 0.5 -> 1.5 -> 10 + 0.5*(20-10) = 15
    assert median(values) == 15.0
    # 0.8 -> 2.4 -> 20 + 0.4*(40-20) = 28
    assert quantile(values, 0.8) == pytest.approx(28.0)
    assert quantile(values, 0) == 2.0 and quantile(values, 1) == 40.0
    # odd count: the middle value; one value: itself; none: None
    assert median([1.0, 3.0, 7.0]) == 3.0
    assert quantile([5.0], 0.8) == 5.0
    assert quantile([], 0.5) is None
    with pytest.raises(ValueError):
        quantile(values, 1.5)
