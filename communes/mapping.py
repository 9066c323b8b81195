"""Offices on a plain SVG map: latitude/longitude scaled into a box, no tiles, works offline.

An equirectangular projection is exact enough for one province: a degree of longitude is
shortened by cos(latitude) so that distances look right.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    item: Any


@dataclass(frozen=True)
class MapLayout:
    width: int
    height: int
    points: list[MapPoint]


def layout(
    places: Iterable[tuple[float, float, Any]],
    *,
    width: int = 640,
    padding: int = 24,
    label_space: int = 0,
    min_height: int = 240,
    max_height: int = 640,
) -> MapLayout:
    """Place (latitude, longitude, item) triples in an SVG box ``width`` wide; north is up.

    ``label_space`` keeps room on the right of the easternmost point for a text label.
    """
    places = [(float(lat), float(lon), item) for lat, lon, item in places]
    if not places:
        return MapLayout(width=width, height=min_height, points=[])
    lats = [lat for lat, _, _ in places]
    lons = [lon for _, lon, _ in places]
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = (max(lons) - min(lons)) * shrink
    span_y = max(lats) - min(lats)
    inner_w = width - 2 * padding - label_space
    if span_x == 0 and span_y == 0:
        height = min_height
        scale = 0.0
    else:
        # Fit the wider side; the height follows the shape of the area, within bounds.
        scale = inner_w / span_x if span_x else (max_height - 2 * padding) / span_y
        height = round(min(max(span_y * scale + 2 * padding, min_height), max_height))
        scale = min(scale, (height - 2 * padding) / span_y) if span_y else scale
    offset_x = (inner_w - span_x * scale) / 2
    offset_y = (height - 2 * padding - span_y * scale) / 2
    points = [
        MapPoint(
            x=round(padding + offset_x + (lon - min(lons)) * shrink * scale, 1),
            y=round(padding + offset_y + (max(lats) - lat) * scale, 1),
            item=item,
        )
        for lat, lon, item in places
    ]
    return MapLayout(width=width, height=height, points=points)
