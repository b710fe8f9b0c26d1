"""Horizontal bars: the funnel's stages, spend against margin by channel, a goal's progress."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.safestring import SafeString

from keepscore.common.formats import NO_VALUE, format_value, percent_of
from keepscore.reports.charts.svg import (
    BLUE,
    GREEN,
    GREY,
    GRID,
    INK,
    MUTED,
    ORANGE,
    TRACK,
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

# ---------------------------------------------------------------- funnel


def funnel_chart(stages: Sequence[tuple[str, int]], *, title: str) -> SafeString:
    """Horizontal bars, one per stage, with the count and the % of the first and previous.

    Bars are left-aligned and as long as ``count / max(count)`` of the bar area.
    """
    width = 680.0
    if not stages:
        return empty_chart(width, title, "ks-funnel")
    label_w, bar_x, bar_w, text_x = 150.0, 160.0, 300.0, 472.0
    top, row_h, gap = 30.0, 34.0, 8.0
    first = stages[0][1]
    biggest = max((c for _, c in stages), default=0)
    body = [heading(width, title)]
    lines = []
    for i, (stage, count) in enumerate(stages):
        y = top + i * (row_h + gap)
        length = bar_w * count / biggest if biggest > 0 else 0.0
        prev = stages[i - 1][1] if i else None
        of_first = percent_of(count, first)
        of_prev = percent_of(count, prev) if prev is not None else None
        shown = format_value(count, "count")
        tip = f"{stage}: {shown}"
        if i == 1:
            tip += f" ({of_first} of {stages[0][0]})"
        elif i:
            tip += f" ({of_first} of {stages[0][0]}, {of_prev} of {stages[i - 1][0]})"
        lines.append(tip)
        detail = f"{of_first} of first · {of_prev} of previous" if i else "100% · first stage"
        if i and not first:
            detail = f"{of_prev} of previous"
        body.append(
            mark(
                tip,
                element("rect", x=bar_x, y=y, width=bar_w, height=row_h, fill=TRACK, rx=3.0),
                element(
                    "rect",
                    class_="bar",
                    x=bar_x,
                    y=y,
                    width=float(length),
                    height=row_h,
                    fill=BLUE,
                    rx=3.0,
                    data_value=count,
                ),
                label_at(
                    label_w,
                    y + row_h / 2 + 4,
                    clip(stage, 20),
                    text_anchor="end",
                ),
                label_at(text_x, y + 14, shown, size=13, font_weight="bold"),
                label_at(text_x, y + 29, detail, size=11, fill=MUTED),
            )
        )
    height = top + len(stages) * (row_h + gap)
    return svg_chart(
        width, height, title, f"{title}. " + "; ".join(lines) + ".", body, cls="ks-funnel"
    )


# ---------------------------------------------------------------- spend against margin


@dataclass(frozen=True)
class SpendMarginRow:
    """One channel of a spend-against-margin chart (money as floats; None: not recorded,
    no bar). ``return_text``: its return on spend as the table shows it (a percentage, "not
    enough data", "not recorded" or "—"), so chart and table never disagree."""

    label: str
    spend: float | None
    margin: float | None
    return_text: str = NO_VALUE


def spend_margin_chart(rows: Sequence[SpendMarginRow], *, title: str) -> SafeString:
    """Two horizontal bars per channel on one money axis: its spend and the margin of its
    deals won (a negative margin runs left of zero). The hover text of a channel gives both
    and its return on spend."""
    width = 680.0
    if not rows:
        return empty_chart(width, title, "ks-spend-margin")
    label_w, x0, plot_w, text_x = 150.0, 160.0, 330.0, 500.0
    top, bar_h, row_h = 52.0, 11.0, 34.0
    values = [v for r in rows for v in (r.spend, r.margin) if v is not None]
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values, 1.0), 5)
    low, high = ticks[0], ticks[-1]

    def x_of(v: float) -> float:
        return x0 + plot_w * (v - low) / (high - low)

    bottom = top + len(rows) * row_h
    body = [heading(width, title)]
    legend = ((ORANGE, "Spend"), (BLUE, "Margin"))
    for j, (colour, name) in enumerate(legend):
        x = x0 + j * 90
        body.append(element("rect", x=x, y=26.0, width=12.0, height=10.0, fill=colour, rx=2.0))
        body.append(label_at(x + 16, 35, name, size=11, fill=MUTED))
    for t in ticks:
        x = x_of(t)
        body.append(
            element("line", x1=x, y1=top - 6, x2=x, y2=bottom, stroke=GREY if t == 0 else GRID)
        )
        body.append(
            label_at(
                x,
                bottom + 14,
                format_value(t, "money", short=True),
                size=10,
                fill=MUTED,
                text_anchor="middle",
            )
        )
    zero = x_of(0.0)
    lines = []
    for i, row in enumerate(rows):
        y = top + i * row_h
        ros = row.return_text
        spend = "not recorded" if row.spend is None else format_value(row.spend, "money")
        margin = "not recorded" if row.margin is None else format_value(row.margin, "money")
        tip = f"{row.label}: spend {spend}, margin {margin}, return on spend {ros}"
        lines.append(tip)
        parts = [
            element(
                "rect", x=0.0, y=y, width=width, height=row_h, fill="none", pointer_events="all"
            ),
            label_at(label_w, y + row_h / 2 + 2, clip(row.label, 20), text_anchor="end"),
        ]
        for k, (value, colour, cls) in enumerate(
            ((row.spend, ORANGE, "bar spend"), (row.margin, BLUE, "bar margin"))
        ):
            if value is None:
                continue
            x = min(zero, x_of(value))
            parts.append(
                element(
                    "rect",
                    class_=cls,
                    x=x,
                    y=y + 4 + k * (bar_h + 2),
                    width=float(abs(x_of(value) - zero)),
                    height=bar_h,
                    fill=colour,
                    rx=2.0,
                    data_value=value,
                )
            )
        parts.append(label_at(text_x, y + 14, f"margin {margin}", size=12))
        parts.append(label_at(text_x, y + 28, f"return on spend {ros}", size=10, fill=MUTED))
        body.append(mark(tip, *parts))
    height = bottom + 24
    desc = f"{title}. " + "; ".join(lines) + "."
    return svg_chart(width, height, title, desc, body, cls="ks-spend-margin")


# ---------------------------------------------------------------- a goal's progress


@dataclass(frozen=True)
class GoalBar:
    """A year's progress toward an annual goal (floats in the metric's unit)."""

    label: str
    unit: str
    ytd: float
    goal: float
    pro_rata: float  # where the year should be by now, at the goal's pace
    projected: float | None = None  # the projected year end
    low: float | None = None  # its 95% interval
    high: float | None = None
    pace: str = ""  # "ahead", "on_track", "at_risk", "behind" or "not_enough_data"
    summary: str = ""  # the sentence a screen reader and the hover give


PACE_COLOURS = {"ahead": GREEN, "on_track": GREEN, "at_risk": ORANGE, "behind": VERMILLION}


def goal_bar(bar: GoalBar) -> SafeString:
    """The year to date as a bar against the goal: a tick where the year should be today
    (pro rata), the projected year end with its 95% interval, the goal at its line."""
    width, height = 420.0, 58.0
    x0, plot_w, top, bar_h = 4.0, 412.0, 22.0, 14.0
    values = [bar.goal, bar.ytd, bar.pro_rata, *(v for v in (bar.high, bar.projected) if v)]
    scale = max([*values, 1.0]) * 1.04

    def x_of(value: float) -> float:
        return x0 + plot_w * max(0.0, min(value, scale)) / scale

    colour = PACE_COLOURS.get(bar.pace, BLUE)
    body = [
        element("rect", x=x0, y=top, width=plot_w, height=bar_h, fill=TRACK, rx=3.0),
        element(
            "rect",
            class_="ytd",
            x=x0,
            y=top,
            width=x_of(bar.ytd) - x0,
            height=bar_h,
            fill=colour,
            rx=3.0,
            data_value=bar.ytd,
        ),
    ]
    if bar.low is not None and bar.high is not None:
        body.append(
            element(
                "rect",
                class_="interval",
                x=x_of(bar.low),
                y=top + bar_h / 2 - 2,
                width=max(x_of(bar.high) - x_of(bar.low), 1.0),
                height=4.0,
                fill=INK,
                opacity=0.35,
            )
        )
    if bar.projected is not None:
        x = x_of(bar.projected)
        body.append(
            element("circle", class_="projected", cx=x, cy=top + bar_h / 2, r=4.0, fill=INK)
        )
    rate_x = x_of(bar.pro_rata)
    body.append(
        element(
            "line",
            class_="pro-rata",
            x1=rate_x,
            y1=top - 4,
            x2=rate_x,
            y2=top + bar_h + 4,
            stroke=MUTED,
            stroke_dasharray="3 2",
        )
    )
    goal_x = x_of(bar.goal)
    body.append(
        element(
            "line",
            class_="goal",
            x1=goal_x,
            y1=top - 6,
            x2=goal_x,
            y2=top + bar_h + 6,
            stroke=INK,
            stroke_width=2.0,
        )
    )
    anchor = "end" if goal_x > width * 0.7 else "start"
    body.append(
        label_at(
            goal_x, 14, f"goal {format_value(bar.goal, bar.unit)}", size=11, text_anchor=anchor
        )
    )
    body.append(
        label_at(
            x0,
            top + bar_h + 16,
            f"{format_value(bar.ytd, bar.unit)} so far · by today at the goal's pace "
            f"{format_value(bar.pro_rata, bar.unit)}",
            size=11,
            fill=MUTED,
        )
    )
    desc = bar.summary or f"{bar.label}: {format_value(bar.ytd, bar.unit)} of {bar.goal}"
    return svg_chart(width, height, bar.label, desc, [mark(desc, *body)], cls="ks-goal")
