"""Plain SVG charts, laid out here and drawn by the templates: a line chart of counts over
list dates, and the map's colour classes. No script runs in the browser; every chart has a
table beside it with the same numbers and a text summary for screen readers.

Colours are the Okabe–Ito palette (distinguishable with the common colour-vision
deficiencies) for lines and a ColorBrewer sequential blue ramp for the map; every line is
also labelled at its end, so colour is never the only key.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

# Map classes: (lowest count, colour). 0 is grey so "none" never reads as "few".
MAP_CLASSES: tuple[tuple[int, str], ...] = (
    (0, "#eeeeee"),
    (1, "#c6dbef"),
    (5, "#9ecae1"),
    (10, "#6baed6"),
    (25, "#4292c6"),
    (50, "#2171b5"),
    (100, "#08306b"),
)


def map_colour(count: int) -> str:
    colour = MAP_CLASSES[0][1]
    for lowest, candidate in MAP_CLASSES:
        if count >= lowest:
            colour = candidate
    return colour


def map_legend() -> list[tuple[str, str]]:
    """[(label, colour)]: "0", "1–4", …, "100 or more"."""
    legend = []
    for i, (lowest, colour) in enumerate(MAP_CLASSES):
        if i + 1 < len(MAP_CLASSES):
            highest = MAP_CLASSES[i + 1][0] - 1
            label = str(lowest) if highest == lowest else f"{lowest}–{highest}"
        else:
            label = f"{lowest} or more"
        legend.append((label, colour))
    return legend


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    colour: str
    values: list[int]
    dashed: bool = False
    thick: bool = False


@dataclass(frozen=True)
class PlottedSeries:
    series: Series
    points: str  # "x,y x,y …" for <polyline>
    dots: list[tuple[float, float, str, int]]  # x, y, date label, value
    label_y: float  # where the end label sits (nudged so labels never overlap)
    last: int


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    lines: list[PlottedSeries]
    y_ticks: list[Tick]
    x_ticks: list[Tick]

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


def nice_ceiling(value: int) -> tuple[int, int]:
    """(axis maximum, tick step): 811 → (900, 100), 37 → (40, 10)."""
    if value <= 5:
        return 5, 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (magnitude / 5, magnitude / 2, magnitude):
        if value / step <= 10:
            step_int = max(1, int(step))
            return int(math.ceil(value / step_int) * step_int), step_int
    return int(math.ceil(value / magnitude) * magnitude), magnitude


def line_chart(
    days: Sequence[dt.date],
    series: Sequence[Series],
    *,
    width: int = 860,
    height: int = 340,
) -> LineChart:
    left, right, top, bottom = 48, 215, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    highest = max((v for s in series for v in s.values), default=0)
    y_max, y_step = nice_ceiling(max(highest, 1))
    first, last = (days[0], days[-1]) if days else (dt.date.today(), dt.date.today())
    span = max((last - first).days, 1)

    def x_of(day: dt.date) -> float:
        return round(left + plot_w * (day - first).days / span, 1)

    def y_of(value: int) -> float:
        return round(top + plot_h * (1 - value / y_max), 1)

    plotted = []
    for s in series:
        dots = [
            (x_of(day), y_of(value), day.isoformat(), value)
            for day, value in zip(days, s.values, strict=True)
        ]
        points = " ".join(f"{x},{y}" for x, y, _, _ in dots)
        end_y = dots[-1][1] if dots else float(top)
        plotted.append(PlottedSeries(s, points, dots, end_y, s.values[-1] if s.values else 0))
    plotted = _spread_labels(plotted, minimum_gap=14, top=top, bottom=height - bottom)
    y_ticks = [Tick(y_of(v), f"{v:,}") for v in range(0, y_max + 1, y_step)]
    x_ticks = [Tick(x_of(day), day.strftime("%-d %b")) for day in _month_starts(first, last)]
    return LineChart(width, height, left, right, top, bottom, plotted, y_ticks, x_ticks)


def _month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first list date and the 1st and 15th of each month after it."""
    ticks = [first]
    day = first.replace(day=1)
    while day <= last:
        for tick in (day, day.replace(day=15)):
            if first < tick <= last and (tick - ticks[-1]).days >= 7:
                ticks.append(tick)
        day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return ticks


def _spread_labels(
    lines: list[PlottedSeries], *, minimum_gap: float, top: float, bottom: float
) -> list[PlottedSeries]:
    """Move end labels apart vertically (keeping their order) so none overlap."""
    order = sorted(range(len(lines)), key=lambda i: lines[i].label_y)
    positions = [lines[i].label_y for i in order]
    for k in range(1, len(positions)):
        positions[k] = max(positions[k], positions[k - 1] + minimum_gap)
    overflow = positions[-1] - bottom if positions else 0
    if overflow > 0:
        positions = [p - overflow for p in positions]
        for k in range(len(positions) - 2, -1, -1):
            positions[k] = min(positions[k], positions[k + 1] - minimum_gap)
    placed = {i: max(top, p) for i, p in zip(order, positions, strict=True)}
    return [
        PlottedSeries(line.series, line.points, line.dots, round(placed[i] + 4, 1), line.last)
        for i, line in enumerate(lines)
    ]
