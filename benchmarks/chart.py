"""The scale benchmark's curve: ``benchmarks/results.json`` as a chart and as the README's table.

    .venv/bin/python benchmarks/chart.py                 (writes docs/bench.svg)
    .venv/bin/python benchmarks/chart.py --table         (prints the markdown table)
    .venv/bin/python benchmarks/chart.py --results other.json --out other.svg

The chart: time in seconds (log scale) against the number of leads (log scale), one line
per operation of ``scale.OPERATIONS`` that has a target (the reference computation without
the summaries is left out), SQLite and PostgreSQL as two panels sharing both axes, a grey
dashed line at each target. Each line has its colour and dash (Okabe-Ito, as the app's
charts) and its name at the right, the slowest at the top; every point's value is its
tooltip. Drawn with the app's server-side SVG helpers (``keepscore.reports.charts.svg``), so it
needs no plotting library.

The table: per operation its target, then per database and size the seconds keepscore took
and, where DuckDB computes the same figures, DuckDB's (``keepscore / DuckDB``); a time over
its target in bold; and whether every figure agreed with DuckDB's at every size run; then
how busy the machine was (its load average) during each run that recorded it.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from scale import LABELS, OPERATIONS, RESULTS, TARGETS  # noqa: E402

from keepscore.reports.charts.svg import (  # noqa: E402
    BLUE,
    GREEN,
    GREY,
    GRID,
    INK,
    MUTED,
    ORANGE,
    PURPLE,
    SKY,
    VERMILLION,
    element,
    label_at,
    svg_chart,
    svg_text,
)

OUT = HERE.parent / "docs" / "bench.svg"
DATABASES = (("sqlite", "SQLite"), ("postgresql", "PostgreSQL"))
#: the operations drawn: those with a target
CHARTED = tuple(name for name in OPERATIONS if name in TARGETS)
COLOURS = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, INK)
DASHES = (None, "7 4")

WIDTH = 960.0
PLOT_LEFT, PLOT_WIDTH = 70.0, 540.0
PLOT_HEIGHT = 300.0
PANEL_HEIGHT = PLOT_HEIGHT + 90.0
LABEL_GAP = 13.0


def size_text(size: int) -> str:
    """10000 → ``10k``, 1000000 → ``1M``, 2500 → ``2.5k``."""
    for unit, name in ((1_000_000, "M"), (1_000, "k")):
        if size >= unit:
            return f"{size / unit:g}{name}"
    return str(size)


def seconds_text(seconds: float) -> str:
    """An axis label: ``1 ms``, ``10 ms``, ``100 ms``, ``1 s``, ``10 s``."""
    if seconds < 1:
        return f"{seconds * 1000:g} ms"
    return f"{seconds:g} s"


def style(name: str) -> tuple[str, str | None]:
    """The operation's colour and dash pattern (None: solid)."""
    i = CHARTED.index(name)
    return COLOURS[i % len(COLOURS)], DASHES[(i // len(COLOURS)) % len(DASHES)]


def series(results: dict[str, Any], database: str) -> dict[str, list[tuple[int, float]]]:
    """Per charted operation, ``(size, keepscore seconds)`` by size (sizes it has no time for
    left out), for one database; operations with no time at all left out."""
    by_size = sorted(results.get(database, {}).values(), key=lambda r: r["size"])
    out: dict[str, list[tuple[int, float]]] = {}
    for name in CHARTED:
        points = [
            (r["size"], r["operations"][name]["keepscore_s"])
            for r in by_size
            if r["operations"].get(name, {}).get("keepscore_s") is not None
        ]
        if points:
            out[name] = points
    return out


def _decades(values: list[float]) -> tuple[int, int]:
    low = math.floor(math.log10(min(values)))
    high = math.ceil(math.log10(max(values)))
    return low, max(high, low + 1)


def chart(results: dict[str, Any]) -> str:
    """The SVG: one panel per database with results, one path per operation in each."""
    panels = [(key, title, series(results, key)) for key, title in DATABASES]
    panels = [p for p in panels if p[2]]
    sizes = sorted({s for _k, _t, lines in panels for pts in lines.values() for s, _v in pts})
    values = [v for _k, _t, lines in panels for pts in lines.values() for _s, v in pts]
    title = "keepscore: seconds per page against the number of leads"
    if not panels:
        body = [label_at(0, 16, f"{title}: no results yet", size=14, font_weight="bold")]
        return str(svg_chart(WIDTH, 40, title, "No results yet.", body, cls="ks-bench"))
    drawn = {name for _k, _t, lines in panels for name in lines}
    low, high = _decades(values + [TARGETS[name] for name in drawn])

    def x_of(size: int) -> float:
        if len(sizes) == 1:
            return PLOT_LEFT + PLOT_WIDTH / 2
        span = math.log10(sizes[-1]) - math.log10(sizes[0])
        return PLOT_LEFT + 30 + (PLOT_WIDTH - 60) * (math.log10(size) - math.log10(sizes[0])) / span

    body: list[str] = [
        element(
            "rect", x=0.0, y=0.0, width=WIDTH, height=40 + PANEL_HEIGHT * len(panels), fill="#fff"
        ),
        label_at(12, 18, title, size=15, font_weight="bold"),
        label_at(
            12,
            34,
            "log scales; a flat line stays as fast whatever the size; grey dashes: the targets",
            size=11,
            fill=MUTED,
        ),
    ]
    desc: list[str] = []
    for p, (database, panel_title, lines) in enumerate(panels):
        top = 40 + PANEL_HEIGHT * p + 34

        def y_of(seconds: float, top: float = top) -> float:
            share = (math.log10(seconds) - low) / (high - low)
            return top + PLOT_HEIGHT * (1 - share)

        body.append(label_at(PLOT_LEFT, top - 12, panel_title, size=13, font_weight="bold"))
        for decade in range(low, high + 1):
            y = y_of(10.0**decade)
            body.append(
                element("line", x1=PLOT_LEFT, y1=y, x2=PLOT_LEFT + PLOT_WIDTH, y2=y, stroke=GRID)
            )
            body.append(
                label_at(
                    PLOT_LEFT - 6,
                    y + 4,
                    seconds_text(10.0**decade),
                    size=10,
                    fill=MUTED,
                    text_anchor="end",
                )
            )
        for target in sorted(set(TARGETS[n] for n in lines)):
            y = y_of(target)
            body.append(
                element(
                    "line",
                    class_="target",
                    x1=PLOT_LEFT,
                    y1=y,
                    x2=PLOT_LEFT + PLOT_WIDTH,
                    y2=y,
                    stroke=GREY,
                    stroke_dasharray="3 3",
                    data_target=target,
                )
            )
            body.append(
                label_at(
                    PLOT_LEFT + PLOT_WIDTH - 4,
                    y - 3,
                    f"target {target:g} s",
                    size=9,
                    fill=MUTED,
                    text_anchor="end",
                )
            )
        bottom = top + PLOT_HEIGHT
        body.append(
            element(
                "line", x1=PLOT_LEFT, y1=bottom, x2=PLOT_LEFT + PLOT_WIDTH, y2=bottom, stroke=GREY
            )
        )
        for size in sizes:
            body.append(
                label_at(
                    x_of(size),
                    bottom + 16,
                    size_text(size),
                    size=10,
                    fill=MUTED,
                    text_anchor="middle",
                )
            )
        body.append(
            label_at(
                PLOT_LEFT + PLOT_WIDTH / 2,
                bottom + 32,
                "leads",
                size=10,
                fill=MUTED,
                text_anchor="middle",
            )
        )
        # the names at the right, the slowest at the largest size first, spread apart
        order = sorted(lines, key=lambda n: (-lines[n][-1][1], CHARTED.index(n)))
        wanted = [y_of(lines[n][-1][1]) for n in order]
        placed = _spread(wanted, top, bottom + 40)
        for name, y_label in zip(order, placed, strict=True):
            colour, dash = style(name)
            points = lines[name]
            d = "M" + " L".join(f"{x_of(s):.1f} {y_of(v):.1f}" for s, v in points)
            body.append(
                element(
                    "path",
                    d=d,
                    fill="none",
                    stroke=colour,
                    stroke_width=2.0,
                    stroke_dasharray=dash,
                    stroke_linejoin="round",
                    data_op=name,
                    data_database=database,
                )
            )
            for s, v in points:
                tip = f"{LABELS[name]}, {panel_title}, {size_text(s)} leads: {v:.3f} s"
                body.append(
                    f'<g class="mark"><title>{svg_text(tip)}</title>'
                    + element("circle", cx=x_of(s), cy=y_of(v), r=3.0, fill=colour)
                    + "</g>"
                )
            desc.append(
                f"{panel_title}, {LABELS[name]}: "
                + ", ".join(f"{size_text(s)} {v:.3f} s" for s, v in points)
            )
            x0 = PLOT_LEFT + PLOT_WIDTH + 8
            last_x, last_y = x_of(points[-1][0]), y_of(points[-1][1])
            if points[-1][0] == sizes[-1]:
                body.append(
                    element("line", x1=last_x + 4, y1=last_y, x2=x0, y2=y_label, stroke=GRID)
                )
            body.append(
                element(
                    "line",
                    x1=x0,
                    y1=y_label,
                    x2=x0 + 22,
                    y2=y_label,
                    stroke=colour,
                    stroke_width=2.5,
                    stroke_dasharray=dash,
                )
            )
            text = f"{LABELS[name]} (target {TARGETS[name]:g} s)"
            body.append(label_at(x0 + 28, y_label + 4, text, size=10.5))
    height = 40 + PANEL_HEIGHT * len(panels)
    return str(svg_chart(WIDTH, height, title, "; ".join(desc) + ".", body, cls="ks-bench"))


def _spread(wanted: list[float], low: float, high: float) -> list[float]:
    """Label positions near ``wanted`` (sorted top to bottom), at least LABEL_GAP apart, within
    ``[low, high]`` where there is room."""
    placed: list[float] = []
    for y in wanted:
        y = max(y, low, placed[-1] + LABEL_GAP if placed else low)
        placed.append(y)
    overflow = placed[-1] - high if placed else 0
    if overflow > 0:  # push back up, keeping the gaps
        shifted = [y - overflow for y in placed]
        for i in range(len(shifted) - 2, -1, -1):
            shifted[i] = min(shifted[i], shifted[i + 1] - LABEL_GAP)
        placed = shifted
    return placed


# --- the README table ----------------------------------------------------------------------


def _cell(op: dict[str, Any] | None, target: float | None) -> str:
    if op is None or op.get("keepscore_s") is None:
        return ""
    ks = op["keepscore_s"]
    mine = f"{ks:.3f}"
    if target is not None and ks > target:
        mine = f"**{mine}**"
    if op.get("duckdb_s") is None:
        return mine
    return f"{mine} / {op['duckdb_s']:.3f}"


def _check(name: str, results: dict[str, Any]) -> str:
    agreed = [
        r["operations"][name]["agree"]
        for database, _title in DATABASES
        for r in results.get(database, {}).values()
        if r["operations"].get(name, {}).get("agree") is not None
    ]
    if not agreed:
        return "no counterpart"
    if all(agreed):
        return f"MATCH ({len(agreed)}/{len(agreed)})"
    return f"MISMATCH ({agreed.count(False)} of {len(agreed)})"


def table(results: dict[str, Any]) -> str:
    """The markdown table: one row per operation, one column per database and size run."""
    columns = [
        (database, title, size)
        for database, title in DATABASES
        for size in sorted(int(s) for s in results.get(database, {}))
    ]
    head = ["operation", "target s"]
    head += [f"{title} {size_text(size)}" for _d, title, size in columns]
    head.append("DuckDB")
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name in OPERATIONS:
        cells = [
            _cell(results[d][str(s)]["operations"].get(name), TARGETS.get(name))
            for d, _t, s in columns
        ]
        if not any(cells):
            continue
        target = TARGETS.get(name)
        row = [
            LABELS[name],
            "—" if target is None else f"{target:g}",
            *cells,
            _check(name, results),
        ]
        lines.append("| " + " | ".join(row) + " |")
    loads = [
        f"{title} {size_text(size)} {results[d][str(size)]['load_average'][0]:g}"
        for d, title, size in columns
        if results[d][str(size)].get("load_average")
    ]
    if loads:
        lines += [
            "",
            "Load average (1 minute, 2 cores) when the pages were timed: " + ", ".join(loads) + ".",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS, help="the scale results")
    parser.add_argument("--out", type=Path, default=OUT, help="the SVG to write")
    parser.add_argument(
        "--table", action="store_true", help="print the README's markdown table instead"
    )
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    if args.table:
        print(table(results))
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(chart(results) + "\n", encoding="utf-8")
    print(f"chart: {args.out}")


if __name__ == "__main__":
    main()
