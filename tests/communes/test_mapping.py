"""The offline map's projection: north up, east right, inside the box, shape kept."""

import pytest

from communes.mapping import layout


def points(places, **kwargs):
    result = layout([(lat, lon, name) for name, lat, lon in places], **kwargs)
    return result, {p.item: (p.x, p.y) for p in result.points}


def test_north_is_up_and_east_is_right():
    _, xy = points(
        [("north", 17.7, 106.4), ("south", 17.4, 106.4), ("east", 17.55, 106.6), ("west", 17.55, 106.2)]
    )
    assert xy["north"][1] < xy["south"][1]
    assert xy["west"][0] < xy["east"][0]


@pytest.mark.parametrize(
    "places",
    [
        [("a", 17.5, 106.4)],  # one office: the middle of the box
        [("a", 17.5, 106.2), ("b", 17.5, 106.6)],  # on one parallel
        [("a", 17.3, 106.4), ("b", 17.8, 106.4)],  # on one meridian
        [("a", 17.59, 106.53), ("b", 17.61, 106.30), ("c", 17.73, 106.43), ("d", 17.50, 106.58)],
    ],
)
def test_every_point_is_inside_the_box(places):
    box, xy = points(places, width=640, padding=24, label_space=100)
    for x, y in xy.values():
        assert 24 <= x <= 640 - 24 - 100
        assert 24 <= y <= box.height - 24


def test_a_degree_of_longitude_is_shorter_than_a_degree_of_latitude():
    _, xy = points([("o", 17.5, 106.4), ("n", 17.6, 106.4), ("e", 17.5, 106.5)], width=1000, padding=0)
    north = abs(xy["n"][1] - xy["o"][1])
    east = abs(xy["e"][0] - xy["o"][0])
    assert east / north == pytest.approx(0.954, abs=0.01)  # cos(17.5°)


def test_no_points_gives_an_empty_box():
    box = layout([])
    assert box.points == [] and box.height > 0
