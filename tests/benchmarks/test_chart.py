"""benchmarks/chart.py: the scale results as an SVG curve and as the README's markdown table,
checked on a small results dict whose coordinates and cells are worked out by hand."""

from __future__ import annotations

import importlib.util
import math
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
SVG = "{http://www.w3.org/2000/svg}"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def chart() -> ModuleType:
    return _load("chart")


def _op(ks: float, duck: float | None = None, agree: bool | None = None) -> dict[str, Any]:
    return {"keepscore_s": ks, "duckdb_s": duck, "agree": agree}


#: SQLite at 10k and 100k, PostgreSQL at 10k; the board everywhere (over its 0.15 s target at
#: 100k; disagreeing with DuckDB on PostgreSQL), the dashboard at 10k on SQLite only, the
#: focus page (no DuckDB counterpart) at 10k on SQLite only; month_figures (no target) too
RESULTS = {
    "sqlite": {
        "10000": {
            "size": 10000,
            "operations": {
                "board": _op(0.1, 0.05, True),
                "dashboard": _op(0.14, 0.06, True),
                "focus_page": _op(0.3),
                "month_figures": _op(0.2, 0.1, True),
            },
        },
        "100000": {
            "size": 100000,
            "operations": {"board": _op(0.2, 0.07, True), "month_figures": _op(2.0, 0.3, True)},
        },
    },
    "postgresql": {
        "10000": {"size": 10000, "operations": {"board": _op(0.12, 0.04, False)}},
    },
}


def _paths(svg: str) -> dict[tuple[str, str], list[tuple[float, ...]]]:
    root = ET.fromstring(svg)  # well-formed XML, or this raises
    out: dict[tuple[str, str], list[tuple[float, ...]]] = {}
    for path in root.iter(f"{SVG}path"):
        if "data-op" in path.attrib:
            points = path.attrib["d"].lstrip("M").split(" L")
            key = (path.attrib["data-database"], path.attrib["data-op"])
            assert key not in out, f"two paths for {key}"
            out[key] = [tuple(float(c) for c in p.split()) for p in points]
    return out


def test_one_path_per_operation_and_database_with_a_point_per_size(chart: ModuleType) -> None:
    paths = _paths(chart.chart(RESULTS))
    # month_figures has no target: not drawn
    assert {key: len(points) for key, points in paths.items()} == {
        ("sqlite", "board"): 2,
        ("sqlite", "dashboard"): 1,
        ("sqlite", "focus_page"): 1,
        ("postgresql", "board"): 1,
    }


def test_the_axes_are_logarithmic(chart: ModuleType) -> None:
    paths = _paths(chart.chart(RESULTS))
    (x10k, y01), (x100k, y02) = paths[("sqlite", "board")]
    # x: 10k at the plot's left + 30, the largest size (100k) at its right - 30
    assert x10k == chart.PLOT_LEFT + 30 == 100.0
    assert x100k == chart.PLOT_LEFT + chart.PLOT_WIDTH - 30
    # y: the values and targets span 0.1 s .. 0.5 s, so one decade, 0.1 s .. 1 s, fills the
    # plot's 300 px: 0.1 s at its bottom, 0.2 s log10(2) of the way up
    assert chart.PLOT_HEIGHT == 300
    assert y01 - y02 == pytest.approx(300 * math.log10(2), abs=0.11)  # 90.3 px
    (_x, y_focus), *_ = paths[("sqlite", "focus_page")]
    assert y01 - y_focus == pytest.approx(300 * math.log10(3), abs=0.11)  # 143.1 px
    # both panels share the axis: the same 0.1 s bottom, one panel lower
    (_x, y012), *_ = paths[("postgresql", "board")]
    assert y012 - y01 == pytest.approx(chart.PANEL_HEIGHT - 300 * math.log10(1.2), abs=0.11)


def test_a_dashed_line_per_target_in_each_panel(chart: ModuleType) -> None:
    root = ET.fromstring(chart.chart(RESULTS))
    targets = sorted(
        float(line.attrib["data-target"])
        for line in root.iter(f"{SVG}line")
        if line.attrib.get("class") == "target"
    )
    # SQLite: the board's and the dashboard's 0.15 s and the focus page's 0.5 s; PostgreSQL:
    # the board's 0.15 s
    assert targets == [0.15, 0.15, 0.5]


def test_no_results_is_a_chart_saying_so(chart: ModuleType) -> None:
    root = ET.fromstring(chart.chart({}))
    assert "no results yet" in "".join(root.itertext())
    assert not _paths(chart.chart({}))


def test_the_markdown_table(chart: ModuleType) -> None:
    assert chart.table(RESULTS).splitlines() == [
        "| operation | target s | SQLite 10k | SQLite 100k | PostgreSQL 10k | DuckDB |",
        "| --- | --- | --- | --- | --- | --- |",
        "| Month's figures without the summaries (reference) | — | 0.200 / 0.100 "
        "| 2.000 / 0.300 |  | MATCH (2/2) |",
        "| Focus diagnosis, today | 0.5 | 0.300 |  |  | no counterpart |",
        "| Dashboard | 0.15 | 0.140 / 0.060 |  |  | MATCH (1/1) |",
        "| Board | 0.15 | 0.100 / 0.050 | **0.200** / 0.070 | 0.120 / 0.040 | MISMATCH (1 of 3) |",
    ]


def test_the_table_says_how_busy_the_machine_was(chart: ModuleType) -> None:
    busy = {
        "sqlite": {
            "10000": {**RESULTS["sqlite"]["10000"], "load_average": [6.6, 5.68, 4.19]},
            "100000": RESULTS["sqlite"]["100000"],  # an older run: none recorded
        },
        "postgresql": {"10000": {**RESULTS["postgresql"]["10000"], "load_average": [8.2, 7, 5]}},
    }
    lines = chart.table(busy).splitlines()
    assert lines[-2:] == [
        "",
        "Load average (1 minute, 2 cores) when the pages were timed: SQLite 10k 6.6, "
        "PostgreSQL 10k 8.2.",
    ]
    assert lines[:-2] == chart.table(RESULTS).splitlines()


def test_sizes_are_written_short(chart: ModuleType) -> None:
    assert [chart.size_text(n) for n in (2000, 2500, 10_000, 100_000, 1_000_000)] == [
        "2k",
        "2.5k",
        "10k",
        "100k",
        "1M",
    ]


def test_month_bounds_of_a_period_in_a_time_zone() -> None:
    duck = _load("scale_duck")
    months = duck.months_of(date(2025, 11, 15), date(2026, 1, 10), "Europe/Berlin")
    text = [(m, str(since), str(until)) for m, since, until in months]
    # local midnight in UTC: Berlin is UTC+1 in winter; the first and last months clipped
    assert text == [
        ("2025-11-01", "2025-11-14 23:00:00", "2025-11-30 23:00:00"),
        ("2025-12-01", "2025-11-30 23:00:00", "2025-12-31 23:00:00"),
        ("2026-01-01", "2025-12-31 23:00:00", "2026-01-10 23:00:00"),
    ]
