"""Charts: valid SVG, one tooltip per mark with the right numbers, geometry true to the data."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from django.utils.safestring import SafeString

from keepscore.reports.charts import (
    RateRow,
    format_value,
    funnel_chart,
    histogram,
    rate_chart,
    rate_tooltip,
    sparkline,
    trend_chart,
)
from keepscore.reports.charts.svg import nice_ticks

from .samples import EVIL

NS = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    assert isinstance(svg, SafeString)
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.find(f"{NS}desc") is not None
    assert root.find(f".//{NS}script") is None
    assert root.find(f".//{NS}foreignObject") is None
    return root


def marks(root: ET.Element) -> list[ET.Element]:
    found = [g for g in root.iter(f"{NS}g") if g.get("class") == "mark"]
    for g in found:
        titles = g.findall(f"{NS}title")
        assert len(titles) == 1, "one <title> per mark"
        assert g[0].tag == f"{NS}title", "the tooltip is the mark's first child"
    return found


def tips(root: ET.Element) -> list[str]:
    return [g.findtext(f"{NS}title") or "" for g in marks(root)]


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{NS}{tag}") if e.get("class") == cls]


def all_text(root: ET.Element) -> str:
    return " ".join("".join(t.itertext()) for t in root.iter(f"{NS}text"))


# ---------------------------------------------------------------- format_value


@pytest.mark.parametrize(
    ("value", "unit", "kw", "expected"),
    [
        (None, "count", {}, "\u2014"),
        (1234, "count", {}, "1,234"),
        (1234.6, "count", {}, "1,235"),
        (-3, "count", {"signed": True}, "\u22123"),
        (8, "count", {"signed": True}, "+8"),
        (0, "count", {"signed": True}, "0"),
        (118400.0, "money", {}, "€118,400"),  # none active: EUR, en_IE
        (41.5, "money", {}, "€41.50"),
        (0.56, "percent", {}, "56%"),
        (0.045, "percent", {}, "4.5%"),
        (1.0, "percent", {}, "100%"),
        (0.06, "percent", {"signed": True}, "+6 pp"),
        (-0.025, "percent", {"signed": True}, "\u22122.5 pp"),
        (34.5, "days", {}, "34.5 days"),
        (1, "days", {}, "1 day"),
        (2.345, "number", {}, "2.35"),
        (2.0, "number", {}, "2"),
        (1_350_000, "money", {"short": True}, "€1.4M"),
        (12_000, "count", {"short": True}, "12k"),
        (0.4, "percent", {"short": True}, "40%"),
        (30, "days", {"short": True}, "30d"),
        (float("nan"), "number", {}, "\u2014"),
    ],
)
def test_format_value(value: float | None, unit: str, kw: dict, expected: str) -> None:
    assert format_value(value, unit, **kw) == expected


def test_nice_ticks_cover_the_range() -> None:
    assert nice_ticks(0, 0.69) == [0, 0.2, 0.4, 0.6, 0.8]
    assert nice_ticks(0, 4210, 5) == [0, 2000, 4000, 6000]
    ticks = nice_ticks(-3.2, 17.5)
    assert ticks[0] <= -3.2 and ticks[-1] >= 17.5 and len(ticks) <= 7
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1
    ticks = nice_ticks(0, 0)
    assert ticks[0] == 0 and ticks[-1] > 0


# ---------------------------------------------------------------- funnel


STAGES = [("Suspect", 400), ("Prospect", 200), ("Lead", 50), ("Customer", 10)]


def test_funnel_one_mark_per_stage_with_counts_and_percentages() -> None:
    root = parse(funnel_chart(STAGES, title="Funnel, March 2025"))
    assert root.get("aria-label") == "Funnel, March 2025"
    assert tips(root) == [
        "Suspect: 400",
        "Prospect: 200 (50% of Suspect)",
        "Lead: 50 (13% of Suspect, 25% of Prospect)",
        "Customer: 10 (2.5% of Suspect, 20% of Lead)",
    ]
    text = all_text(root)
    assert "2.5% of first \u00b7 20% of previous" in text


def test_funnel_bar_lengths_are_proportional() -> None:
    root = parse(funnel_chart(STAGES, title="Funnel"))
    bars = by_class(root, "rect", "bar")
    assert len(bars) == 4
    widths = [float(b.get("width", "0")) for b in bars]
    for (_, count), width in zip(STAGES, widths, strict=True):
        assert width / widths[0] == pytest.approx(count / 400, abs=1e-3)
    assert [int(b.get("data-value", "-1")) for b in bars] == [400, 200, 50, 10]


def test_funnel_with_zero_first_stage_and_empty() -> None:
    root = parse(funnel_chart([("A", 0), ("B", 0)], title="Nothing"))
    assert [float(b.get("width", "1")) for b in by_class(root, "rect", "bar")] == [0, 0]
    empty = parse(funnel_chart([], title="Empty"))
    assert "No data yet" in all_text(empty)


def test_labels_are_escaped() -> None:
    svg = funnel_chart([(EVIL, 5), ("ok\x00\x1b", 3)], title=EVIL)
    assert "<script>" not in svg
    root = parse(svg)
    assert root.get("aria-label") == EVIL
    assert tips(root)[0] == f"{EVIL}: 5"
    assert "ok" in tips(root)[1]


# ---------------------------------------------------------------- rates


ROWS = [
    RateRow("Referral", 28, 50, 0.56, 0.4225, 0.6886, True),
    RateRow("Website form", 31, 120, 0.2583, 0.1892, 0.3423, True),
    RateRow("Trade show", 3, 8, 0.375, 0.1368, 0.6943, False),
    RateRow("Walk-in", 0, 0, None, None, None, False),
]


def test_rate_tooltip_text() -> None:
    assert rate_tooltip(ROWS[0]) == "Referral: 56% (28 of 50), 95% CI 42\u201369%"
    assert rate_tooltip(ROWS[2]) == (
        "Trade show: not enough data (3 of 8); 38%, 95% CI 14\u201369%"
    )
    assert rate_tooltip(ROWS[3]) == "Walk-in: no data (0 of 0)"


def test_rate_chart_dots_and_intervals_on_scale() -> None:
    root = parse(rate_chart(ROWS, title="Conversion by channel"))
    assert tips(root) == [rate_tooltip(r) for r in ROWS]
    x0 = float(by_class(root, "line", "axis")[0].get("x1", "nan"))
    dots = by_class(root, "circle", "dot")
    cis = by_class(root, "line", "ci")
    assert len(dots) == 3 and len(cis) == 3  # the row without data draws neither
    for row, dot, ci in zip(ROWS, dots, cis, strict=False):
        assert row.rate and row.ci_low and row.ci_high
        cx = float(dot.get("cx", "nan")) - x0
        lo = float(ci.get("x1", "nan")) - x0
        hi = float(ci.get("x2", "nan")) - x0
        assert lo / cx == pytest.approx(row.ci_low / row.rate, rel=1e-3)
        assert hi / cx == pytest.approx(row.ci_high / row.rate, rel=1e-3)
        assert lo < cx < hi
    # not enough data: grey, hollow, and said in words
    assert dots[2].get("fill") == "#fff"
    assert cis[2].get("stroke") != cis[0].get("stroke")
    assert "not enough data (3 of 8)" in all_text(root)
    assert "56%" in all_text(root) and "(28 of 50)" in all_text(root)


# ---------------------------------------------------------------- trends


def test_trend_chart_breaks_the_line_at_gaps() -> None:
    points = [("Jan", 10.0), ("Feb", 12.0), ("Mar", None), ("Apr", 9.0), ("May", 15.0)]
    root = parse(trend_chart(points, title="New leads", unit="count"))
    assert tips(root) == ["Jan: 10", "Feb: 12", "Mar: no value", "Apr: 9", "May: 15"]
    assert len(by_class(root, "path", "line")) == 2
    dots = by_class(root, "circle", "dot")
    assert len(dots) == 4
    ys = [float(d.get("cy", "nan")) for d in dots]
    assert ys[3] < ys[1] < ys[0] < ys[2]  # higher values sit higher (smaller y)


def test_trend_chart_percent_and_empty() -> None:
    root = parse(trend_chart([("Jan", 0.25), ("Feb", 0.5)], title="Close rate", unit="percent"))
    assert tips(root) == ["Jan: 25%", "Feb: 50%"]
    assert "No data yet" in all_text(parse(trend_chart([("Jan", None)], title="x")))


def test_sparkline_is_small_with_a_tooltip_per_value() -> None:
    values = [1.0, 2.0, None, 4.0]
    root = parse(sparkline(values, unit="money", labels=["Dec", "Jan", "Feb", "Mar"]))
    assert root.get("viewBox") == "0 0 100 24"
    assert tips(root) == ["Dec: €1", "Jan: €2", "Feb: \u2014", "Mar: €4"]
    assert len(by_class(root, "path", "line")) == 1  # 1-2; 4 alone is a dot
    assert marks(parse(sparkline([None, None]))) == []
    assert len(tips(parse(sparkline([5.0])))) == 1


# ---------------------------------------------------------------- histogram


BINS = [("0\u201314", 3), ("15\u201329", 9), ("30\u201344", 12), ("45\u201359", 6), ("60+", 2)]


def test_histogram_bars_and_markers() -> None:
    root = parse(
        histogram(BINS, title="Sales cycle", markers={"median": 34.5, "80th percentile": 58})
    )
    assert tips(root)[:5] == [
        "0\u201314 days: 3 (9.4% of 32)",
        "15\u201329 days: 9 (28% of 32)",
        "30\u201344 days: 12 (38% of 32)",
        "45\u201359 days: 6 (19% of 32)",
        "60+ days: 2 (6.3% of 32)",
    ]
    assert tips(root)[5:] == ["median: 34.5 days", "80th percentile: 58 days"]
    bars = by_class(root, "rect", "bar")
    heights = [float(b.get("height", "nan")) for b in bars]
    for (_, count), height in zip(BINS, heights, strict=True):
        assert height / heights[2] == pytest.approx(count / 12, abs=1e-3)
    # the median (34.5) sits inside the 30-44 bar, the p80 (58) inside 45-59
    median, p80 = by_class(root, "line", "marker")
    for marker, bar in ((median, bars[2]), (p80, bars[3])):
        x = float(marker.get("x1", "nan"))
        left = float(bar.get("x", "nan"))
        assert left <= x <= left + float(bar.get("width", "nan")) + 4


def test_histogram_without_numeric_labels_lists_markers() -> None:
    root = parse(histogram([("short", 2), ("long", 1)], title="t", markers={"median": 3}))
    assert by_class(root, "line", "marker") == []
    assert "median: 3 days" in all_text(root)
