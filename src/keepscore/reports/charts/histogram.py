"""A distribution: vertical bars per bin (e.g. the sales cycle's days), with dashed markers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

from django.utils.safestring import SafeString

from keepscore.common.formats import format_value, percent_of
from keepscore.reports.charts.svg import (
    BLUE,
    GREEN,
    GREY,
    GRID,
    MUTED,
    ORANGE,
    PURPLE,
    SKY,
    VERMILLION,
    clip,
    element,
    empty_chart,
    heading,
    label_at,
    mark,
    nice_ticks,
    svg_chart,
)

_LEADING_NUMBER = re.compile(r"\s*(-?\d+(?:\.\d+)?)")


def _edges_from_labels(labels: Sequence[str]) -> list[float] | None:
    """Bin edges read from labels such as ``0-7``, ``8-14``, ``90+`` (None if they aren't)."""
    starts = []
    for label in labels:
        match = _LEADING_NUMBER.match(label)
        if not match:
            return None
        starts.append(float(match[1]))
    if len(starts) < 2 or any(b <= a for a, b in itertools.pairwise(starts)):
        return None
    return [*starts, starts[-1] + (starts[-1] - starts[-2])]


def histogram(
    bins: Sequence[tuple[str, int]],
    *,
    title: str,
    unit: str = "days",
    markers: Mapping[str, float] | None = None,
    edges: Sequence[float] | None = None,
) -> SafeString:
    """Vertical bars, one per bin, with the count above each; optional dashed markers.

    ``markers`` (e.g. ``{"median": 34, "80th percentile": 71}``) are values in ``unit``,
    placed using ``edges`` (``len(bins) + 1`` bin boundaries) or, without them, the
    leading numbers of the bin labels (``"0-7"``, ``"8-14"`` …, ``"90+"``).
    """
    width = 680.0
    if not bins:
        return empty_chart(width, title, "ks-histogram")
    markers = dict(markers or {})
    left, right, top, plot_h = 40.0, 16.0, 44.0 + 16.0 * len(markers), 160.0
    plot_w = width - left - right
    step = plot_w / len(bins)
    ticks = nice_ticks(0.0, max(max(c for _, c in bins), 1), 4)
    y_max = ticks[-1]

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * v / y_max

    total = sum(c for _, c in bins)
    body = [heading(width, title)]
    for t in ticks:
        body.append(
            element(
                "line",
                x1=left,
                y1=y_of(t),
                x2=width - right,
                y2=y_of(t),
                stroke=GREY if t == 0 else GRID,
            )
        )
        body.append(
            label_at(
                left - 6,
                y_of(t) + 4,
                format_value(t, "count", short=True),
                size=10,
                fill=MUTED,
                text_anchor="end",
            )
        )
    lines = []
    for i, (name, count) in enumerate(bins):
        x = left + step * i
        h = plot_h * count / y_max
        share = percent_of(count, total)
        suffix = f" {unit}" if unit in ("days",) else ""
        tip = f"{name}{suffix}: {format_value(count, 'count')} ({share} of {total})"
        lines.append(tip)
        body.append(
            mark(
                tip,
                element(
                    "rect", x=x, y=top, width=step, height=plot_h, fill="none", pointer_events="all"
                ),
                element(
                    "rect",
                    class_="bar",
                    x=x + 2,
                    y=top + plot_h - h,
                    width=step - 4,
                    height=float(h),
                    fill=SKY,
                    stroke=BLUE,
                    stroke_width=1.0,
                    data_value=count,
                ),
                label_at(
                    x + step / 2,
                    top + plot_h - h - 4,
                    format_value(count, "count"),
                    size=10,
                    text_anchor="middle",
                )
                if count
                else "",
                label_at(
                    x + step / 2,
                    top + plot_h + 15,
                    clip(name, max(int(step / 6), 3)),
                    size=10,
                    fill=MUTED,
                    text_anchor="middle",
                ),
            )
        )
    body.append(
        label_at(
            width - right,
            top + plot_h + 30,
            unit if unit != "count" else "",
            size=10,
            fill=MUTED,
            text_anchor="end",
        )
    )
    bounds = list(edges) if edges is not None and len(edges) == len(bins) + 1 else None
    bounds = bounds or _edges_from_labels([b[0] for b in bins])
    styles = [(VERMILLION, "6 3"), (PURPLE, "2 3"), (GREEN, "9 3 2 3"), (ORANGE, "4 4")]
    for j, (name, value) in enumerate(markers.items()):
        colour, dash = styles[j % len(styles)]
        tip = f"{name}: {format_value(value, unit)}"
        lines.append(tip)
        if bounds is None:
            body.append(
                mark(
                    tip,
                    label_at(
                        left + 4,
                        34.0 + 16 * j,
                        f"{name}: {format_value(value, unit)}",
                        size=11,
                        fill=colour,
                    ),
                )
            )
            continue
        k = next((i for i in range(len(bins)) if value < bounds[i + 1]), len(bins) - 1)
        k = max(k, 0)
        lo, hi = bounds[k], bounds[k + 1]
        frac = min(max((value - lo) / (hi - lo), 0.0), 1.0) if hi > lo else 0.5
        x = left + step * (k + frac)
        label_y = 34.0 + 16 * j
        anchor = "end" if x > width - 160 else "start"
        body.append(
            mark(
                tip,
                element(
                    "line",
                    class_="marker",
                    x1=x,
                    y1=label_y + 4,
                    x2=x,
                    y2=top + plot_h,
                    stroke=colour,
                    stroke_width=2.0,
                    stroke_dasharray=dash,
                ),
                label_at(
                    x + (-4 if anchor == "end" else 4),
                    label_y,
                    f"{name} {format_value(value, unit)}",
                    size=11,
                    fill=colour,
                    font_weight="bold",
                    text_anchor=anchor,
                ),
            )
        )
    height = top + plot_h + 36
    desc = f"{title}. " + "; ".join(lines) + "."
    return svg_chart(width, height, title, desc, body, cls="ks-histogram")
