"""Charts as server-side SVG: the same markup in a web page and in the PDF.

Every function returns a ``SafeString`` holding one ``<svg>`` element, sized by its
``viewBox`` (it scales to its container; ``keepscore/charts.css`` makes it fluid), styled
only with SVG attributes (no stylesheet, no script, no id, nothing fetched), so a browser
and WeasyPrint draw it alike.

- Numbers on hover: each mark is a ``<g class="mark">`` whose first child is a ``<title>``
  (a browser shows it as a tooltip); visible value labels are drawn where there is room.
- Accessible: ``role="img"``, an ``aria-label`` (the chart's title) and a ``<desc>`` that
  reads the data as text.
- Every text is escaped (labels come from users) and stripped of characters XML forbids.
- Colours: the Okabe-Ito palette (colourblind-safe); markers also differ by dash pattern.

``format_value`` is the one place numbers become text, for charts, pages and exports.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from keepscore.common.money import money_format

__all__ = [
    "UNITS",
    "RateRow",
    "format_value",
    "funnel_chart",
    "histogram",
    "rate_chart",
    "sparkline",
    "trend_chart",
]

UNITS = ("count", "money", "percent", "days", "number")

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
BLUE = "#0072B2"
SKY = "#56B4E9"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
GREEN = "#009E73"
PURPLE = "#CC79A7"
INK = "#1d2330"
MUTED = "#667085"
GRID = "#e3e6eb"
GREY = "#a3abb8"
GREY_LIGHT = "#d5d9e0"
TRACK = "#f2f4f7"

FONT = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'Liberation Sans', 'DejaVu Sans', sans-serif"
)
MINUS = "\u2212"
DASH = "\u2013"
ELLIPSIS = "\u2026"
NO_VALUE = "\u2014"

# Characters XML 1.0 forbids (an SVG must still parse when a label holds one).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# ---------------------------------------------------------------- numbers as text


def _group(number: float, decimals: int) -> str:
    """Thousands separators, ``decimals`` places, half rounded up (12.5 -> 13), a real minus."""
    exact = Decimal(repr(float(number))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    text = f"{abs(exact):,.{decimals}f}"
    return (MINUS if exact < 0 else "") + text


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def _compact(number: float) -> str:
    size = abs(number)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            scaled = number / limit
            return _trim(_group(scaled, 1 if abs(scaled) < 100 else 0)) + suffix
    return _trim(_group(number, 0 if size >= 100 or number == int(number) else 1))


def format_value(
    value: float | None, unit: str, *, signed: bool = False, short: bool = False
) -> str:
    """A number as people read it: ``1,234``, ``56%``, ``12.5 days``; ``—`` for None.

    Units: ``count`` (whole numbers), ``money`` (in the active organization's currency:
    ``keepscore.common.money``),
    ``percent`` (a fraction 0..1 shown as %; a signed change is in percentage points, ``pp``),
    ``days`` and ``number``. ``signed`` puts ``+`` before positive numbers (for changes);
    ``short`` makes compact axis labels (``12k``, ``40%``, ``30d``).
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return NO_VALUE
    number = float(value)
    if unit == "percent":
        pct = round(number * 100, 6)  # 0.56 * 100 is 56.00000000000001
        if short:
            text = _trim(_group(pct, 0 if abs(pct) >= 10 or pct == int(pct) else 1)) + "%"
        else:
            decimals = 0 if abs(pct) >= 10 or pct == int(pct) else 1
            text = _group(pct, decimals) + (" pp" if signed else "%")
    elif unit == "money":
        # the active organization's currency, as its locale writes it (keepscore.common.money)
        return money_format(value, signed=signed, short=short)
    elif short:
        text = _compact(number) + ("d" if unit == "days" else "")
    elif unit == "count":
        text = _group(round(number), 0)
    elif unit == "days":
        decimals = 0 if number == int(number) or abs(number) >= 100 else 1
        text = _group(number, decimals)
        text += " day" if text in ("1", MINUS + "1") else " days"
    else:  # number
        text = _trim(_group(number, 2)) if abs(number) < 1000 else _group(number, 0)
    if signed and number > 0 and not text.startswith(("0 ", "0%", "0d")) and text != "0":
        text = "+" + text
    return text


def _pct(part: float, whole: float) -> str:
    return format_value(part / whole, "percent") if whole else NO_VALUE


# ---------------------------------------------------------------- SVG helpers


def _text(value: object) -> str:
    """User text made safe for SVG/XML content and attribute values."""
    return str(escape(_XML_ILLEGAL.sub("", str(value))))


def _clip(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[: max(chars - 1, 1)].rstrip() + ELLIPSIS


def _n(x: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _attrs(attrs: Mapping[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        shown = _n(value) if isinstance(value, float) else value
        parts.append(f' {name}="{_text(shown)}"')
    return "".join(parts)


def _el(tag: str, content: str = "", **attrs: object) -> str:
    if content:
        return f"<{tag}{_attrs(attrs)}>{content}</{tag}>"
    return f"<{tag}{_attrs(attrs)}/>"


def _label(x: float, y: float, text: str, *, size: float = 12, **attrs: object) -> str:
    attrs.setdefault("fill", INK)
    return _el("text", _text(text), x=float(x), y=float(y), font_size=size, **attrs)


def _mark(tooltip: str, *children: str, cls: str = "mark") -> str:
    """One mark: a group whose ``<title>`` is the tooltip for all it draws."""
    return f'<g class="{cls}"><title>{_text(tooltip)}</title>{"".join(children)}</g>'


def _svg(
    width: float, height: float, title: str, desc: str, body: Iterable[str], *, cls: str
) -> SafeString:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ks-chart {cls}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
        f'role="img" aria-label="{_text(title)}" font-family="{_text(FONT)}" '
        f'preserveAspectRatio="xMidYMid meet">'
    )
    return mark_safe(head + f"<desc>{_text(desc)}</desc>" + "".join(body) + "</svg>")


def _heading(width: float, title: str) -> str:
    return _label(0, 16, _clip(title, int(width / 8)), size=14, font_weight="bold")


def _empty(width: float, title: str, cls: str, message: str = "No data yet") -> SafeString:
    body = [
        _heading(width, title),
        _el("rect", x=0.0, y=28.0, width=float(width), height=60.0, fill=TRACK, rx=6.0),
        _label(width / 2, 63, message, fill=MUTED, text_anchor="middle"),
    ]
    return _svg(width, 96, title, f"{title}: {message.lower()}.", body, cls=cls)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis ticks covering ``low``..``high`` (about ``count`` of them)."""
    if not math.isfinite(low) or not math.isfinite(high):
        return [0.0, 1.0]
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    tick = start
    while tick < high + step * 0.999:
        ticks.append(round(tick, 10))
        tick += step
    if ticks[-1] < high:
        ticks.append(round(tick, 10))
    return ticks


# ---------------------------------------------------------------- funnel


def funnel_chart(stages: Sequence[tuple[str, int]], *, title: str) -> SafeString:
    """Horizontal bars, one per stage, with the count and the % of the first and previous.

    Bars are left-aligned and as long as ``count / max(count)`` of the bar area.
    """
    width = 680.0
    if not stages:
        return _empty(width, title, "ks-funnel")
    label_w, bar_x, bar_w, text_x = 150.0, 160.0, 300.0, 472.0
    top, row_h, gap = 30.0, 34.0, 8.0
    first = stages[0][1]
    biggest = max((c for _, c in stages), default=0)
    body = [_heading(width, title)]
    lines = []
    for i, (stage, count) in enumerate(stages):
        y = top + i * (row_h + gap)
        length = bar_w * count / biggest if biggest > 0 else 0.0
        prev = stages[i - 1][1] if i else None
        of_first = _pct(count, first)
        of_prev = _pct(count, prev) if prev is not None else None
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
            _mark(
                tip,
                _el("rect", x=bar_x, y=y, width=bar_w, height=row_h, fill=TRACK, rx=3.0),
                _el(
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
                _label(
                    label_w,
                    y + row_h / 2 + 4,
                    _clip(stage, 20),
                    text_anchor="end",
                ),
                _label(text_x, y + 14, shown, size=13, font_weight="bold"),
                _label(text_x, y + 29, detail, size=11, fill=MUTED),
            )
        )
    height = top + len(stages) * (row_h + gap)
    return _svg(width, height, title, f"{title}. " + "; ".join(lines) + ".", body, cls="ks-funnel")


# ---------------------------------------------------------------- rates with intervals


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
        return _empty(width, title, "ks-rates")
    label_w, x0, plot_w, text_x = 150.0, 160.0, 330.0, 506.0
    top, row_h = 52.0, 30.0
    highest = max([v for r in rows for v in (r.rate, r.ci_high) if v is not None] or [0.0])
    ticks = nice_ticks(0.0, min(max(highest, 0.1), 1.0), 5)
    axis_max = ticks[-1]

    def x_of(v: float) -> float:
        return x0 + plot_w * min(max(v, 0.0), axis_max) / axis_max

    bottom = top + len(rows) * row_h
    body = [_heading(width, title)]
    for t in ticks:
        x = x_of(t)
        body.append(_el("line", x1=x, y1=top - 6, x2=x, y2=bottom, stroke=GRID))
        body.append(
            _label(
                x,
                top - 12,
                format_value(t, "percent", short=True),
                size=10,
                fill=MUTED,
                text_anchor="middle",
            )
        )
    body.append(_el("line", class_="axis", x1=x0, y1=top - 6, x2=x0, y2=bottom, stroke=GREY))
    lines = []
    for i, row in enumerate(rows):
        cy = top + i * row_h + row_h / 2
        tip = rate_tooltip(row)
        lines.append(tip)
        colour = BLUE if row.enough else GREY
        parts = [
            _el(
                "rect",
                x=0.0,
                y=cy - row_h / 2,
                width=width,
                height=row_h,
                fill="none",
                pointer_events="all",
            ),
            _label(
                label_w,
                cy + 4,
                _clip(row.label, 20),
                text_anchor="end",
                fill=INK if row.enough else MUTED,
            ),
        ]
        if row.ci_low is not None and row.ci_high is not None:
            lo, hi = x_of(row.ci_low), x_of(row.ci_high)
            parts += [
                _el(
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
                _el("line", x1=lo, y1=cy - 5, x2=lo, y2=cy + 5, stroke=colour, stroke_width=1.5),
                _el("line", x1=hi, y1=cy - 5, x2=hi, y2=cy + 5, stroke=colour, stroke_width=1.5),
            ]
        if row.rate is not None:
            parts.append(
                _el(
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
            parts.append(_label(text_x, cy + 4, f"not enough data {counts}", size=11, fill=MUTED))
        elif row.rate is None:
            parts.append(_label(text_x, cy + 4, f"no data {counts}", size=11, fill=MUTED))
        else:
            parts.append(
                _label(
                    text_x, cy + 4, format_value(row.rate, "percent"), size=13, font_weight="bold"
                )
            )
            parts.append(_label(text_x + 44, cy + 4, counts, size=11, fill=MUTED))
        body.append(_mark(tip, *parts))
    note = "Dots: the rate; lines: its 95% interval. Grey: too few leads to say."
    body.append(_label(x0, bottom + 18, note, size=10, fill=MUTED))
    height = bottom + 26
    return _svg(width, height, title, f"{title}. " + "; ".join(lines) + ".", body, cls="ks-rates")


# ---------------------------------------------------------------- trends


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
    return "M" + " L".join(f"{_n(x)} {_n(y)}" for x, y in run)


def trend_chart(
    points: Sequence[tuple[str, float | None]], *, title: str, unit: str = "count"
) -> SafeString:
    """A line over the months (oldest first); a month without a value breaks the line."""
    width = 680.0
    known = [v for _, v in points if v is not None]
    if not known:
        return _empty(width, title, "ks-trend")
    left, right, top, plot_h = 56.0, 16.0, 34.0, 170.0
    plot_w = width - left - right
    ticks = _y_range(known, unit)
    y_min, y_max = ticks[0], ticks[-1]
    step = plot_w / len(points)

    def x_of(i: int) -> float:
        return left + step * (i + 0.5)

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * (v - y_min) / (y_max - y_min)

    body = [_heading(width, title)]
    for t in ticks:
        y = y_of(t)
        body.append(
            _el("line", x1=left, y1=y, x2=width - right, y2=y, stroke=GREY if t == 0 else GRID)
        )
        body.append(
            _label(
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
                _label(
                    x_of(i),
                    top + plot_h + 16,
                    _clip(name, 9),
                    size=10,
                    fill=MUTED,
                    text_anchor="middle",
                )
            )
    coords = [(x_of(i), None if v is None else y_of(v)) for i, (_, v) in enumerate(points)]
    for run in _segments(coords):
        if len(run) > 1:
            body.append(
                _el(
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
            _el(
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
                _el(
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
                    _label(
                        x_of(i),
                        y - 8,
                        format_value(value, unit, short=True),
                        size=10,
                        fill=INK,
                        text_anchor="middle",
                        font_weight="bold" if last else None,
                    )
                )
        body.append(_mark(tip, *parts))
    height = top + plot_h + 24
    return _svg(width, height, title, f"{title}. " + "; ".join(lines) + ".", body, cls="ks-trend")


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
            _el(
                "line",
                x1=pad,
                y1=height / 2,
                x2=width - pad,
                y2=height / 2,
                stroke=GRID,
                stroke_dasharray="2 3",
            )
        ]
        return _svg(width, height, title, f"{title}: no values.", body, cls="ks-spark")
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
                _el(
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
            body.append(_el("circle", cx=run[0][0], cy=run[0][1], r=1.5, fill=BLUE))
    last = next((i for i in range(len(values) - 1, -1, -1) if values[i] is not None), None)
    if last is not None:
        body.append(_el("circle", cx=x_of(last), cy=y_of(known[-1]), r=2.5, fill=BLUE))
    lines = []
    for i, value in enumerate(values):
        tip = f"{names[i]}: {format_value(value, unit)}"
        lines.append(tip)
        if not hover:
            continue
        w = step if len(values) > 1 else width
        body.append(
            _mark(
                tip,
                _el(
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
    return _svg(width, height, title, f"{title}: " + "; ".join(lines) + ".", body, cls="ks-spark")


# ---------------------------------------------------------------- distribution


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
        return _empty(width, title, "ks-histogram")
    markers = dict(markers or {})
    left, right, top, plot_h = 40.0, 16.0, 44.0 + 16.0 * len(markers), 160.0
    plot_w = width - left - right
    step = plot_w / len(bins)
    ticks = nice_ticks(0.0, max(max(c for _, c in bins), 1), 4)
    y_max = ticks[-1]

    def y_of(v: float) -> float:
        return top + plot_h - plot_h * v / y_max

    total = sum(c for _, c in bins)
    body = [_heading(width, title)]
    for t in ticks:
        body.append(
            _el(
                "line",
                x1=left,
                y1=y_of(t),
                x2=width - right,
                y2=y_of(t),
                stroke=GREY if t == 0 else GRID,
            )
        )
        body.append(
            _label(
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
        share = _pct(count, total)
        suffix = f" {unit}" if unit in ("days",) else ""
        tip = f"{name}{suffix}: {format_value(count, 'count')} ({share} of {total})"
        lines.append(tip)
        body.append(
            _mark(
                tip,
                _el(
                    "rect", x=x, y=top, width=step, height=plot_h, fill="none", pointer_events="all"
                ),
                _el(
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
                _label(
                    x + step / 2,
                    top + plot_h - h - 4,
                    format_value(count, "count"),
                    size=10,
                    text_anchor="middle",
                )
                if count
                else "",
                _label(
                    x + step / 2,
                    top + plot_h + 15,
                    _clip(name, max(int(step / 6), 3)),
                    size=10,
                    fill=MUTED,
                    text_anchor="middle",
                ),
            )
        )
    body.append(
        _label(
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
                _mark(
                    tip,
                    _label(
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
            _mark(
                tip,
                _el(
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
                _label(
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
    return _svg(width, height, title, desc, body, cls="ks-histogram")


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
        return _empty(width, title, "ks-spend-margin")
    label_w, x0, plot_w, text_x = 150.0, 160.0, 330.0, 500.0
    top, bar_h, row_h = 52.0, 11.0, 34.0
    values = [v for r in rows for v in (r.spend, r.margin) if v is not None]
    ticks = nice_ticks(min(0.0, *values), max(0.0, *values, 1.0), 5)
    low, high = ticks[0], ticks[-1]

    def x_of(v: float) -> float:
        return x0 + plot_w * (v - low) / (high - low)

    bottom = top + len(rows) * row_h
    body = [_heading(width, title)]
    legend = ((ORANGE, "Spend"), (BLUE, "Margin"))
    for j, (colour, name) in enumerate(legend):
        x = x0 + j * 90
        body.append(_el("rect", x=x, y=26.0, width=12.0, height=10.0, fill=colour, rx=2.0))
        body.append(_label(x + 16, 35, name, size=11, fill=MUTED))
    for t in ticks:
        x = x_of(t)
        body.append(_el("line", x1=x, y1=top - 6, x2=x, y2=bottom, stroke=GREY if t == 0 else GRID))
        body.append(
            _label(
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
            _el("rect", x=0.0, y=y, width=width, height=row_h, fill="none", pointer_events="all"),
            _label(label_w, y + row_h / 2 + 2, _clip(row.label, 20), text_anchor="end"),
        ]
        for k, (value, colour, cls) in enumerate(
            ((row.spend, ORANGE, "bar spend"), (row.margin, BLUE, "bar margin"))
        ):
            if value is None:
                continue
            x = min(zero, x_of(value))
            parts.append(
                _el(
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
        parts.append(_label(text_x, y + 14, f"margin {margin}", size=12))
        parts.append(_label(text_x, y + 28, f"return on spend {ros}", size=10, fill=MUTED))
        body.append(_mark(tip, *parts))
    height = bottom + 24
    desc = f"{title}. " + "; ".join(lines) + "."
    return _svg(width, height, title, desc, body, cls="ks-spend-margin")


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
        _el("rect", x=x0, y=top, width=plot_w, height=bar_h, fill=TRACK, rx=3.0),
        _el(
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
            _el(
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
        body.append(_el("circle", class_="projected", cx=x, cy=top + bar_h / 2, r=4.0, fill=INK))
    rate_x = x_of(bar.pro_rata)
    body.append(
        _el(
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
        _el(
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
        _label(goal_x, 14, f"goal {format_value(bar.goal, bar.unit)}", size=11, text_anchor=anchor)
    )
    body.append(
        _label(
            x0,
            top + bar_h + 16,
            f"{format_value(bar.ytd, bar.unit)} so far · by today at the goal's pace "
            f"{format_value(bar.pro_rata, bar.unit)}",
            size=11,
            fill=MUTED,
        )
    )
    desc = bar.summary or f"{bar.label}: {format_value(bar.ytd, bar.unit)} of {bar.goal}"
    return _svg(width, height, bar.label, desc, [_mark(desc, *body)], cls="ks-goal")
