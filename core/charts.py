"""Server-drawn charts for console pages: the geometry of a bar or line chart in an SVG viewBox,
which `templates/_charts.html` turns into inline SVG. No JavaScript: the SVG scales to its box
(width 100%), so the same chart reads on a desktop and on a 390px phone."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

# A viewBox about as wide as a phone's card, so that 12-unit text stays readable at 390px.
WIDTH, HEIGHT = 400, 180
LEFT, RIGHT, TOP, BOTTOM = 40, 18, 10, 24  # room for the y ticks and the x labels
TICKS = 4


@dataclass
class Chart:
    width: int
    height: int
    ticks: list[tuple[float, str]]  # (y, label) of the horizontal grid lines
    labels: list[tuple[float, str]]  # (x, label) under the plot, thinned to fit
    bars: list[dict] = field(default_factory=list)  # x, y, w, h, label, value
    lines: list[dict] = field(default_factory=list)  # name, css class, path, points [(x, y, label, value)]
    empty: bool = False


def nice_max(value: float) -> float:
    """A round top for the axis whose quarter is a round step (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8
    times a power of ten), so every grid line reads as a round number."""
    if value <= 0:
        return float(TICKS)
    raw = value / TICKS
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if raw <= m * power * (1 + 1e-9))
    return step * TICKS


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"


def _frame(labels: list[str], top: float, max_labels: int) -> tuple[list, list, float, float]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    ticks = [(TOP + plot_h - plot_h * i / TICKS, _fmt(top * i / TICKS)) for i in range(TICKS + 1)]
    step = max(1, math.ceil(len(labels) / max_labels))
    slot = plot_w / max(len(labels), 1)
    shown = [(LEFT + slot * (i + 0.5), text) for i, text in enumerate(labels) if i % step == 0 or i == len(labels) - 1]
    if len(shown) > 1 and shown[-1][0] - shown[-2][0] < slot * step * 0.8:
        shown.pop(-2)  # the last label always shows; drop its crowded neighbour
    return ticks, shown, plot_w, plot_h


def bar_chart(labels: list[str], values: list[float], *, max_labels: int = 5) -> Chart:
    """One bar per label (e.g. bindings per day)."""
    top = nice_max(max(values, default=0))
    ticks, shown, plot_w, plot_h = _frame(labels, top, max_labels)
    slot = plot_w / max(len(values), 1)
    bars = []
    for i, (label, value) in enumerate(zip(labels, values)):
        h = plot_h * value / top
        bars.append({"x": round(LEFT + slot * i + slot * 0.15, 2), "y": round(TOP + plot_h - h, 2),
                     "w": round(slot * 0.7, 2), "h": round(h, 2), "label": label, "value": value})
    return Chart(WIDTH, HEIGHT, ticks, shown, bars=bars, empty=not any(values))


def line_chart(labels: list[str], series: list[tuple[str, str, list[float]]], *, max_labels: int = 4) -> Chart:
    """Lines over the labels (e.g. months): series are (name, css class, values)."""
    top = nice_max(max((v for _, _, values in series for v in values), default=0))
    ticks, shown, plot_w, plot_h = _frame(labels, top, max_labels)
    slot = plot_w / max(len(labels), 1)
    lines = []
    for name, css, values in series:
        points = [(round(LEFT + slot * (i + 0.5), 2), round(TOP + plot_h - plot_h * v / top, 2), labels[i], v)
                  for i, v in enumerate(values)]
        path = " ".join(f"{'M' if i == 0 else 'L'}{x},{y}" for i, (x, y, _, _) in enumerate(points))
        lines.append({"name": name, "css": css, "path": path, "points": points})
    return Chart(WIDTH, HEIGHT, ticks, shown, lines=lines,
                 empty=not any(v for _, _, values in series for v in values))
