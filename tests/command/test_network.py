"""Street-network distances: a river with one bridge makes the straight-line nearest the farther one."""

from __future__ import annotations

import pytest
import shapely
from pyproj import Transformer

from command.network import RoadNetwork
from layers.errors import LoadError

SRID = 4547  # CGCS2000 Gauss-Kruger, central meridian 114 E
TO_LONLAT = Transformer.from_crs(SRID, 4326, always_xy=True)
X0, Y0 = 500_000.0, 3_120_000.0


def _ll(x: float, y: float) -> tuple[float, float]:
    return TO_LONLAT.transform(X0 + x, Y0 + y)


def _network() -> RoadNetwork:
    def line(*pts):
        return shapely.LineString([(X0 + x, Y0 + y) for x, y in pts])

    return RoadNetwork.from_lines([
        line((0, 0), (0, 300)),          # our street, north-south
        line((0, 0), (1000, 0)),         # south bank, east to the bridge
        line((1000, 0), (1000, 100)),    # the bridge
        line((1000, 100), (100, 100)),   # north bank back west
        line((0, 300), (0, 400)),
    ], SRID)


def test_network_distance_follows_the_streets():
    net = _network()
    event = _ll(0, 0)
    across = _ll(100, 100)   # 141 m away in a straight line, 2 km by road
    along = _ll(0, 300)      # 300 m away, 300 m by road
    assert abs(net.distance(event, along) - 300) < 0.5
    assert abs(net.distance(event, across) - 2000) < 0.5


def test_snapping_adds_the_way_to_the_street():
    net = _network()
    assert abs(net.distance(_ll(-20, 0), _ll(0, 300)) - 320) < 0.5
    assert net.distance(_ll(0, 0), _ll(0, 0)) < 1e-6


def test_unconnected_parts_have_no_distance():
    net = RoadNetwork.from_lines([shapely.LineString([(X0, Y0), (X0 + 10, Y0)]),
                                  shapely.LineString([(X0 + 500, Y0), (X0 + 510, Y0)])], SRID)
    assert net.distance(_ll(0, 0), _ll(505, 0)) is None


def test_crossing_lines_noded_by_their_shared_vertex_are_one_junction():
    net = RoadNetwork.from_lines([shapely.LineString([(X0 - 50, Y0), (X0, Y0), (X0 + 50, Y0)]),
                                  shapely.LineString([(X0, Y0 - 50), (X0, Y0), (X0, Y0 + 50)])], SRID)
    assert net.graph.number_of_nodes() == 5
    assert abs(net.distance(_ll(-50, 0), _ll(0, 50)) - 100) < 0.5


def test_a_point_the_zone_cannot_hold_is_a_load_error_on_lon_not_a_kd_tree_crash():
    """Half a world from the zone's meridian the projection gives infinity (the measured 500 on /dispatch)."""
    with pytest.raises(LoadError) as caught:
        _network().distance((-147.88, 1.19e-07), _ll(0, 0))
    assert caught.value.field == "lon" and "too far from the district" in caught.value.message
