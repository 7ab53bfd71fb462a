"""US state shapes as SVG paths, from the vendored us-atlas TopoJSON (Census cartographic
boundaries, already projected with d3.geoAlbersUsa to a 975×610 viewport; MANIFEST.json in
vendor/us-atlas/ lists its source and checksum).

TopoJSON stores each border once, as a delta-encoded, quantized "arc"; a state's ring is a
list of arc indexes (a negative index ~i is arc i reversed). Arcs are decoded, simplified
once each (Douglas–Peucker, so the two states sharing a border keep the same line and no
gaps open), rounded to 0.1 px and written as relative path commands: about 39 KB for all 51
shapes, drawn once per page and reused by `<use>` in the small multiples.

Computed once per process (about 50 ms) and cached; no request ever leaves the server.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

ATLAS = Path(__file__).with_name("vendor") / "us-atlas"
TOPOLOGY = ATLAS / "states-albers-10m.json"
WIDTH, HEIGHT = 975, 610
TOLERANCE = 0.5  # px in the 975×610 viewport: finer than a screen shows at page width
QUANTUM = 10  # coordinates are written in tenths of a pixel

Point = tuple[float, float]


def _decode(topology: dict[str, Any]) -> list[list[Point]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas–Peucker, iterative; the end points are always kept (they are where arcs
    meet, so simplified neighbours still share them)."""
    if len(points) < 3:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        dx, dy = x2 - x1, y2 - y1
        length = (dx * dx + dy * dy) ** 0.5
        worst, worst_at = -1.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if length:
                distance = abs(dy * (px - x1) - dx * (py - y1)) / length
            else:  # a closed arc: distance from its end point
                distance = ((px - x1) ** 2 + (py - y1) ** 2) ** 0.5
            if distance > worst:
                worst, worst_at = distance, i
        if worst > tolerance:
            keep[worst_at] = True
            stack += [(first, worst_at), (worst_at, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def _number(tenths: int) -> str:
    """Tenths of a pixel as the shortest SVG number: 12, 1.5, .5, -.5."""
    whole, tenth = divmod(abs(tenths), QUANTUM)
    text = str(whole) if not tenth else f"{whole}.{tenth}".removeprefix("0")
    return f"-{text}" if tenths < 0 else text


def _ring(arcs: list[list[Point]], indexes: list[int]) -> str:
    points: list[Point] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    grid = [(round(x * QUANTUM), round(y * QUANTUM)) for x, y in points]
    steps: list[str] = []
    previous = grid[0]
    for point in grid[1:]:
        if point == previous:
            continue
        dx, dy = _number(point[0] - previous[0]), _number(point[1] - previous[1])
        steps.append(dx + ("" if dy.startswith("-") else " ") + dy)
        previous = point
    if len(steps) < 2:
        return ""  # an islet smaller than the rounding: nothing to draw
    start = f"M{_number(grid[0][0])} {_number(grid[0][1])}"
    return f"{start}l{' '.join(steps)}z"


@cache
def state_paths() -> dict[str, str]:
    """{state FIPS code: SVG path data} for the 50 states and DC."""
    topology = json.loads(TOPOLOGY.read_text())
    arcs = [simplify(arc, TOLERANCE) for arc in _decode(topology)]
    paths: dict[str, str] = {}
    for geometry in topology["objects"]["states"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        paths[geometry["id"]] = "".join(
            _ring(arcs, ring) for polygon in polygons for ring in polygon
        )
    return paths
