"""Rates with their 95% intervals: a dot and a whisker per row (RateRow) on a shared % axis."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString

from keepscore.common.formats import DASH, format_value
from keepscore.funnel.stats import RateFigure
from keepscore.reports.charts.svg import (
    BLUE,
    GREY,
    GRID,
    INK,
    MUTED,
    clip,
    element,
    empty_chart,
    heading,
    label_at,
    mark,
    nice_ticks,
    svg_chart,
)


@dataclass(frozen=True)
class RateRow:
    """One row of a rate chart: k of n, the rate and its 95% interval (None when unknown)."""

    label: str
    k: int
    n: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    enough: bool

    @classmethod
    def of(cls, label: str, figure: RateFigure) -> RateRow:
        """The row of a rate as the figures give it."""
        f = figure
        return cls(label, f.k, f.n, f.rate, f.ci_low, f.ci_high, f.enough)


def rate_tooltip(row: RateRow) -> str:
    """``Referral: 56% (28 of 50), 95% CI 42-69%`` (or ``not enough data (3 of 8)``)."""
    counts = f"{format_value(row.k, 'count')} of {format_value(row.n, 'count')}"
    interval = ""
    if row.ci_low is not None and row.ci_high is not None:
        low = format_value(row.ci_low, "percent").rstrip("%")
        interval = f", 95% CI {low}{DASH}{format_value(row.ci_high, 'percent')}"
    if row.rate is None:
        return f"{row.label}: no data ({counts})"
    if not row.enough:
        return f"{row.label}: not enough data ({counts}); {format_value(row.rate, 'percent')}" + (
            interval
        )
    return f"{row.label}: {format_value(row.rate, 'percent')} ({counts}){interval}"


def rate_chart(rows: Sequence[RateRow], *, title: str) -> SafeString:
    """A dot per row at the rate, a whisker over its 95% interval, on a shared % axis.

    Rows below the minimum n are grey and say "not enough data (k of n)".
    """
    width = 680.0
    if not rows:
        return empty_chart(width, title, "ks-rates")
    label_w, x0, plot_w, text_x = 150.0, 160.0, 330.0, 506.0
    top, row_h = 52.0, 30.0
    highest = max([v for r in rows for v in (r.rate, r.ci_high) if v is not None] or [0.0])
    ticks = nice_ticks(0.0, min(max(highest, 0.1), 1.0), 5)
    axis_max = ticks[-1]

    def x_of(v: float) -> float:
        return x0 + plot_w * min(max(v, 0.0), axis_max) / axis_max

    bottom = top + len(rows) * row_h
    body = [heading(width, title)]
    for t in ticks:
        x = x_of(t)
        body.append(element("line", x1=x, y1=top - 6, x2=x, y2=bottom, stroke=GRID))
        body.append(
            label_at(
                x,
                top - 12,
                format_value(t, "percent", short=True),
                size=10,
                fill=MUTED,
                text_anchor="middle",
            )
        )
    body.append(element("line", class_="axis", x1=x0, y1=top - 6, x2=x0, y2=bottom, stroke=GREY))
    lines = []
    for i, row in enumerate(rows):
        cy = top + i * row_h + row_h / 2
        tip = rate_tooltip(row)
        lines.append(tip)
        colour = BLUE if row.enough else GREY
        parts = [
            element(
                "rect",
                x=0.0,
                y=cy - row_h / 2,
                width=width,
                height=row_h,
                fill="none",
                pointer_events="all",
            ),
            label_at(
                label_w,
                cy + 4,
                clip(row.label, 20),
                text_anchor="end",
                fill=INK if row.enough else MUTED,
            ),
        ]
        if row.ci_low is not None and row.ci_high is not None:
            lo, hi = x_of(row.ci_low), x_of(row.ci_high)
            parts += [
                element(
                    "line",
                    class_="ci",
                    x1=lo,
                    y1=cy,
                    x2=hi,
                    y2=cy,
                    stroke=colour,
                    stroke_width=2.5,
                    stroke_linecap="round",
                ),
                element(
                    "line", x1=lo, y1=cy - 5, x2=lo, y2=cy + 5, stroke=colour, stroke_width=1.5
                ),
                element(
                    "line", x1=hi, y1=cy - 5, x2=hi, y2=cy + 5, stroke=colour, stroke_width=1.5
                ),
            ]
        if row.rate is not None:
            parts.append(
                element(
                    "circle",
                    class_="dot",
                    cx=x_of(row.rate),
                    cy=cy,
                    r=5.5,
                    fill=colour if row.enough else "#fff",
                    stroke=colour,
                    stroke_width=2.0,
                )
            )
        counts = f"({format_value(row.k, 'count')} of {format_value(row.n, 'count')})"
        if not row.enough:
            parts.append(label_at(text_x, cy + 4, f"not enough data {counts}", size=11, fill=MUTED))
        elif row.rate is None:
            parts.append(label_at(text_x, cy + 4, f"no data {counts}", size=11, fill=MUTED))
        else:
            parts.append(
                label_at(
                    text_x, cy + 4, format_value(row.rate, "percent"), size=13, font_weight="bold"
                )
            )
            parts.append(label_at(text_x + 44, cy + 4, counts, size=11, fill=MUTED))
        body.append(mark(tip, *parts))
    note = "Dots: the rate; lines: its 95% interval. Grey: too few leads to say."
    body.append(label_at(x0, bottom + 18, note, size=10, fill=MUTED))
    height = bottom + 26
    return svg_chart(
        width, height, title, f"{title}. " + "; ".join(lines) + ".", body, cls="ks-rates"
    )
