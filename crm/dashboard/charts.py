"""Charts drawn on the server as SVG: horizontal bars and weekly columns, each element a link,
mirrored for right-to-left languages. The templates draw what these functions lay out."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

WIDTH = 640


@dataclass
class Bar:
    """One bar: its label, its value, the value as shown, the cases behind it."""

    label: str
    value: float
    text: str
    href: str | None = None
    title: str = ""


@dataclass
class Part:
    """One segment of a column (bottom up): ``kind`` picks its fill (``main``, ``good``, ``late``)."""

    value: float
    href: str | None
    title: str
    kind: str = "main"


@dataclass
class Column:
    label: str
    parts: list[Part] = field(default_factory=list)
    text: str = ""


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def bars(items: list[Bar], *, rtl: bool, label_width: int = 240) -> dict:
    """Horizontal bars, one row each: the label at the start, the bar, its value at its end."""
    row, gap, top = 22, 6, 4
    plot = WIDTH - label_width - 80
    largest = max((bar.value for bar in items), default=0) or 1
    rows = []
    for index, bar in enumerate(items):
        y = top + index * (row + gap)
        length = 0.0 if bar.value <= 0 else max(2.0, plot * bar.value / largest)
        label_x, rect_x, value_x = label_width - 8, float(label_width), label_width + length + 6
        if rtl:
            label_x, rect_x, value_x = WIDTH - label_x, WIDTH - label_width - length, WIDTH - value_x
        rows.append({"bar": bar, "label": _short(bar.label, 32), "y": y, "height": row,
                     "text_y": y + 15, "label_x": label_x, "rect_x": round(rect_x, 1),
                     "width": round(length, 1), "value_x": round(value_x, 1)})
    return {"width": WIDTH, "height": top + len(items) * (row + gap), "rows": rows,
            "direction": "rtl" if rtl else "ltr"}


def columns(items: list[Column], *, rtl: bool) -> dict:
    """Columns over time (oldest first, from the start side), segments stacked bottom up, the
    total above each, a label under every column (every other one when they are many)."""
    plot_top, plot_height, bottom = 22, 170, 30
    count = max(1, len(items))
    slot = WIDTH / count
    width = min(40.0, slot * 0.7)
    largest = max((sum(p.value for p in column.parts) for column in items), default=0) or 1
    # a label under every column, or every other one (…) when they would run into each other
    widest = max((len(column.label) for column in items), default=0) * 6.5
    every = max(1, math.ceil(widest / (slot * 0.9)))
    out = []
    for index, column in enumerate(items):
        center = slot * index + slot / 2
        if rtl:
            center = WIDTH - center
        base = plot_top + plot_height
        parts = []
        for part in column.parts:
            height = 0.0 if part.value <= 0 else max(1.5, plot_height * part.value / largest)
            base -= height
            parts.append({"part": part, "y": round(base, 1), "height": round(height, 1)})
        out.append({"column": column, "x": round(center - width / 2, 1), "center": round(center, 1),
                    "width": round(width, 1), "parts": parts, "text_y": round(base - 5, 1),
                    "show_label": index % every == 0 or index == count - 1})
    return {"width": WIDTH, "height": plot_top + plot_height + bottom, "columns": out,
            "axis_y": plot_top + plot_height, "label_y": plot_top + plot_height + 18,
            "direction": "rtl" if rtl else "ltr"}
