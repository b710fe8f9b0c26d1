"""Lines over the months: a trend chart, and the sparkline of a scorecard row."""

from __future__ import annotations

import math
from collections.abc import Sequence

from django.utils.safestring import SafeString

from keepscore.common.formats import format_value
from keepscore.reports.charts.svg import (
    BLUE,
    GREY,
    GRID,
    INK,
    MUTED,
    clip,
    coord,
    element,
    empty_chart,
    heading,
    label_at,
    mark,
    nice_ticks,
    svg_chart,
)


def _y_range(values: Sequence[float], unit: str) -> list[float]:
    low, high = min(values), max(values)
    if unit != "number" or low >= 0:
        low = min(low, 0.0)  # quantities start at zero: the line's height means something
    if unit == "percent":
        high = min(max(high, 0.1), 1.0) if high <= 1 else high
    return nice_ticks(low, high, 5)


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive known points: a None breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [r for r in runs if r]


def _path(run: Sequence[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{coord(x)} {coord(y)}" for x, y in run)


def trend_chart(
    points: Sequence[tuple[str, float | None]], *, title: str, unit: str = "count"
) -> SafeString:
    """A line over the months (oldest first); a month without a value breaks the line."""
    width = 680.0
    known = [v for _, v in points if v is not None]
    if not known:
        return empty_chart(width, title, "ks-trend")
    left, right, top, plot_h = 56.0, 16.0, 34.0, 170.0
    plot_w = width - left - right
    ticks = _y_range(known, unit)
    y_min, y_max = ticks[0], ticks[-1]
    step = plot_w / len(points)

    def x_of(i: int) -> float:
        return left + step * (i + 0.5)

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * (v - y_min) / (y_max - y_min)

    body = [heading(width, title)]
    for t in ticks:
        y = y_of(t)
        body.append(
            element("line", x1=left, y1=y, x2=width - right, y2=y, stroke=GREY if t == 0 else GRID)
        )
        body.append(
            label_at(
                left - 6,
                y + 4,
                format_value(t, unit, short=True),
                size=10,
                fill=MUTED,
                text_anchor="end",
            )
        )
    every = max(1, math.ceil(len(points) / 12))
    for i, (name, _) in enumerate(points):
        if i % every == 0 or i == len(points) - 1:
            body.append(
                label_at(
                    x_of(i),
                    top + plot_h + 16,
                    clip(name, 9),
                    size=10,
                    fill=MUTED,
                    text_anchor="middle",
                )
            )
    coords = [(x_of(i), None if v is None else y_of(v)) for i, (_, v) in enumerate(points)]
    for run in _segments(coords):
        if len(run) > 1:
            body.append(
                element(
                    "path",
                    class_="line",
                    d=_path(run),
                    fill="none",
                    stroke=BLUE,
                    stroke_width=2.5,
                    stroke_linejoin="round",
                    stroke_linecap="round",
                )
            )
    labelled = len(points) <= 12
    lines = []
    for i, (name, value) in enumerate(points):
        shown = format_value(value, unit)
        tip = f"{name}: {shown}" if value is not None else f"{name}: no value"
        lines.append(tip)
        parts = [
            element(
                "rect",
                x=x_of(i) - step / 2,
                y=top,
                width=step,
                height=plot_h,
                fill="none",
                pointer_events="all",
            )
        ]
        if value is not None:
            y = y_of(value)
            last = i == len(points) - 1
            parts.append(
                element(
                    "circle",
                    class_="dot",
                    cx=x_of(i),
                    cy=y,
                    r=4.0 if last else 3.0,
                    fill=BLUE,
                    stroke="#fff",
                    stroke_width=1.5,
                    data_value=value,
                )
            )
            if labelled or last:
                parts.append(
                    label_at(
                        x_of(i),
                        y - 8,
                        format_value(value, unit, short=True),
                        size=10,
                        fill=INK,
                        text_anchor="middle",
                        font_weight="bold" if last else None,
                    )
                )
        body.append(mark(tip, *parts))
    height = top + plot_h + 24
    return svg_chart(
        width, height, title, f"{title}. " + "; ".join(lines) + ".", body, cls="ks-trend"
    )


def sparkline(
    values: Sequence[float | None],
    *,
    unit: str = "count",
    labels: Sequence[str] | None = None,
    title: str = "Trend",
    hover: bool = True,
) -> SafeString:
    """A 100x24 line for a scorecard row; the last value is a dot; gaps for None.

    ``labels`` (one per value, e.g. month names) go into the hover text (and the
    description); ``hover=False`` leaves out the hover marks (paper has no pointer: the PDF
    draws a third of the shapes).
    """
    width, height, pad = 100.0, 24.0, 3.0
    known = [v for v in values if v is not None]
    names = (
        list(labels)
        if labels is not None and len(labels) == len(values)
        else [
            f"{i + 1 - len(values)} mo" if i + 1 < len(values) else "this month"
            for i in range(len(values))
        ]
    )
    if not known:
        body = [
            element(
                "line",
                x1=pad,
                y1=height / 2,
                x2=width - pad,
                y2=height / 2,
                stroke=GRID,
                stroke_dasharray="2 3",
            )
        ]
        return svg_chart(width, height, title, f"{title}: no values.", body, cls="ks-spark")
    low, high = min(known), max(known)
    span = high - low or abs(high) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)

    def x_of(i: int) -> float:
        return pad + step * i if len(values) > 1 else width / 2

    def y_of(v: float) -> float:
        return height - pad - (height - 2 * pad) * (v - low) / span

    coords = [(x_of(i), None if v is None else y_of(v)) for i, v in enumerate(values)]
    body = []
    for run in _segments(coords):
        if len(run) > 1:
            body.append(
                element(
                    "path",
                    class_="line",
                    d=_path(run),
                    fill="none",
                    stroke=BLUE,
                    stroke_width=1.5,
                    stroke_linejoin="round",
                )
            )
        else:
            body.append(element("circle", cx=run[0][0], cy=run[0][1], r=1.5, fill=BLUE))
    last = next((i for i in range(len(values) - 1, -1, -1) if values[i] is not None), None)
    if last is not None:
        body.append(element("circle", cx=x_of(last), cy=y_of(known[-1]), r=2.5, fill=BLUE))
    lines = []
    for i, value in enumerate(values):
        tip = f"{names[i]}: {format_value(value, unit)}"
        lines.append(tip)
        if not hover:
            continue
        w = step if len(values) > 1 else width
        body.append(
            mark(
                tip,
                element(
                    "rect",
                    x=max(x_of(i) - w / 2, 0.0),
                    y=0.0,
                    width=w,
                    height=height,
                    fill="none",
                    pointer_events="all",
                ),
            )
        )
    return svg_chart(
        width, height, title, f"{title}: " + "; ".join(lines) + ".", body, cls="ks-spark"
    )
