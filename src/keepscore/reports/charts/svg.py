"""SVG drawing primitives and scales: the palette, escaped text, elements, marks, axis ticks.

What every chart of :mod:`keepscore.reports.charts` draws with (and ``benchmarks/chart.py``
too): :func:`element` writes one SVG element, :func:`label_at` a text, :func:`mark` a
group with its tooltip, :func:`svg_chart` the ``<svg>`` around them; :func:`nice_ticks`
chooses an axis's ticks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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
TRACK = "#f2f4f7"

FONT = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'Liberation Sans', 'DejaVu Sans', sans-serif"
)
ELLIPSIS = "\u2026"

# Characters XML 1.0 forbids (an SVG must still parse when a label holds one).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def svg_text(value: object) -> str:
    """User text made safe for SVG/XML content and attribute values."""
    return str(escape(_XML_ILLEGAL.sub("", str(value))))


def clip(label: str, chars: int) -> str:
    """``label`` cut to ``chars`` characters, with an ellipsis where it was cut."""
    return label if len(label) <= chars else label[: max(chars - 1, 1)].rstrip() + ELLIPSIS


def coord(x: float) -> str:
    """A coordinate: two decimals at most, no trailing zeros."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _attrs(attrs: Mapping[str, object]) -> str:
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        shown = coord(value) if isinstance(value, float) else value
        parts.append(f' {name}="{svg_text(shown)}"')
    return "".join(parts)


def element(tag: str, content: str = "", **attrs: object) -> str:
    """One SVG element; keywords are its attributes (``font_size``: ``font-size``; None: none)."""
    if content:
        return f"<{tag}{_attrs(attrs)}>{content}</{tag}>"
    return f"<{tag}{_attrs(attrs)}/>"


def label_at(x: float, y: float, text: str, *, size: float = 12, **attrs: object) -> str:
    """A ``<text>`` at ``x``, ``y`` (escaped), in ink unless ``fill`` says otherwise."""
    attrs.setdefault("fill", INK)
    return element("text", svg_text(text), x=float(x), y=float(y), font_size=size, **attrs)


def mark(tooltip: str, *children: str, cls: str = "mark") -> str:
    """One mark: a group whose ``<title>`` is the tooltip for all it draws."""
    return f'<g class="{cls}"><title>{svg_text(tooltip)}</title>{"".join(children)}</g>'


def svg_chart(
    width: float, height: float, title: str, desc: str, body: Iterable[str], *, cls: str
) -> SafeString:
    """The ``<svg>`` around ``body``: its size, title (``aria-label``) and ``<desc>``."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="ks-chart {cls}" '
        f'viewBox="0 0 {coord(width)} {coord(height)}" '
        f'width="{coord(width)}" height="{coord(height)}" '
        f'role="img" aria-label="{svg_text(title)}" font-family="{svg_text(FONT)}" '
        f'preserveAspectRatio="xMidYMid meet">'
    )
    return mark_safe(head + f"<desc>{svg_text(desc)}</desc>" + "".join(body) + "</svg>")


def heading(width: float, title: str) -> str:
    """The chart's title at its top left, clipped to its width."""
    return label_at(0, 16, clip(title, int(width / 8)), size=14, font_weight="bold")


def empty_chart(width: float, title: str, cls: str, message: str = "No data yet") -> SafeString:
    """A chart with nothing to draw: its title over a box saying ``message``."""
    body = [
        heading(width, title),
        element("rect", x=0.0, y=28.0, width=float(width), height=60.0, fill=TRACK, rx=6.0),
        label_at(width / 2, 63, message, fill=MUTED, text_anchor="middle"),
    ]
    return svg_chart(width, 96, title, f"{title}: {message.lower()}.", body, cls=cls)


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
