"""Distances along the street network, for re-ranking the nearest responders.

Why networkx and not pgRouting: pgRouting is one more Debian package
(``postgresql-15-pgrouting``) and one more extension in every store, whereas
the re-ranking only ever needs a few shortest paths between points a couple of
kilometres apart. So the ``road`` layer is read once, noded by PostGIS
(``ST_Node``: crossing centre-lines become junctions), projected to the
district's metric CRS (``admin_area.metric_srid``) and held as a networkx
graph weighted by metres. Points are snapped to the nearest junction or
vertex (a KD-tree), and each distance is one bidirectional Dijkstra search.

The graph is cached per database and road-table version (row count and
highest id, read on every call, which costs one index look-up); loading or
deleting roads builds it anew on the next call.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass

import networkx as nx
import numpy as np
import shapely
from pyproj import Transformer
from scipy.spatial import cKDTree
from sqlalchemy import Connection, text

from layers.errors import LoadError

__all__ = ["RoadNetwork", "road_network", "metric_srid"]

log = logging.getLogger(__name__)

_SNAP_DECIMALS = 2  # vertices closer than a centimetre are one junction


def metric_srid(conn: Connection) -> int:
    """The district's metric CRS; a CGCS2000 Gauss–Krüger zone from its centre when not recorded."""
    row = conn.execute(text(
        "SELECT metric_srid, ST_X(ST_Centroid(geom)) AS lon FROM admin_area WHERE level = 'district'"
        " ORDER BY id LIMIT 1"
    )).first()
    if row is None:
        return 4547  # CGCS2000 / 3-degree Gauss-Kruger CM 114E: central China
    if row.metric_srid:
        return int(row.metric_srid)
    meridian = min(max(round(row.lon / 3) * 3, 75), 135)
    return 4534 + (meridian - 75) // 3


@dataclass
class RoadNetwork:
    """The noded road graph in a metric CRS, with a KD-tree to snap points onto it."""

    graph: nx.Graph
    xy: np.ndarray
    srid: int
    _tree: cKDTree
    _to_metric: Transformer

    @classmethod
    def from_lines(cls, lines: list[shapely.LineString], srid: int) -> RoadNetwork:
        """Build the graph from noded centre-lines already in the metric CRS ``srid``."""
        graph = nx.Graph()
        coords, index = shapely.get_coordinates(np.asarray(lines, dtype=object), return_index=True)
        keys = np.round(coords, _SNAP_DECIMALS)
        uniq, node_of = np.unique(keys, axis=0, return_inverse=True)
        node_of = node_of.ravel()
        same_line = index[1:] == index[:-1]
        a, b = node_of[:-1][same_line], node_of[1:][same_line]
        lengths = np.hypot(*(coords[1:][same_line] - coords[:-1][same_line]).T)
        graph.add_nodes_from(range(len(uniq)))
        for u, v, w in zip(a.tolist(), b.tolist(), lengths.tolist()):
            if u == v:
                continue
            if not graph.has_edge(u, v) or graph[u][v]["length"] > w:
                graph.add_edge(u, v, length=w)
        to_metric = Transformer.from_crs(4326, srid, always_xy=True)
        return cls(graph, uniq, srid, cKDTree(uniq) if len(uniq) else cKDTree(np.zeros((1, 2))), to_metric)

    def snap(self, lon: float, lat: float) -> tuple[int, float]:
        """The nearest graph node to a WGS 84 point, and how far it is (metres).

        Raises
        ------
        LoadError
            For a point the district's metric CRS cannot hold (a Gauss–Krüger
            zone is a few degrees wide: a point half a world away projects to
            infinity), naming ``lon``.
        """
        x, y = self._to_metric.transform(lon, lat)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise LoadError("the point ({lon}, {lat}) is too far from the district to measure along its streets "
                            "(EPSG:{srid} cannot hold it)", lon=lon, lat=lat, srid=self.srid, field="lon")
        dist, node = self._tree.query((x, y))
        return int(node), float(dist)

    def distance(self, a: tuple[float, float], b: tuple[float, float]) -> float | None:
        """Metres from ``a`` to ``b`` (lon, lat) along the network, snapping included; ``None`` if unconnected."""
        if self.graph.number_of_nodes() == 0:
            return None
        (na, da), (nb, db) = self.snap(*a), self.snap(*b)
        if na == nb:
            return da + db
        try:
            length, _path = nx.bidirectional_dijkstra(self.graph, na, nb, weight="length")
        except nx.NetworkXNoPath:
            return None
        return da + float(length) + db


class _Cache:
    """Built networks by (database, srid, road count, highest road id): at most a few, shared by threads."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._items: dict[tuple, RoadNetwork] = {}
        self._lock = threading.Lock()

    def get_or_build(self, key: tuple, build) -> RoadNetwork:
        with self._lock:
            hit = self._items.get(key)
        if hit is not None:
            return hit
        built = build()
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = built
        return built


_NETWORKS = _Cache()


def road_network(conn: Connection) -> RoadNetwork:
    """The road graph of the store ``conn`` talks to, built on first use and when roads change."""
    srid = metric_srid(conn)
    stamp = conn.execute(text(
        "SELECT current_database() AS db, inet_server_addr()::text AS host, inet_server_port() AS port,"
        " (SELECT count(*) FROM road) AS n, (SELECT coalesce(max(id), 0) FROM road) AS top"
    )).one()
    key = (stamp.db, stamp.host, stamp.port, srid, stamp.n, stamp.top)

    def build() -> RoadNetwork:
        rows = conn.execute(text(
            "WITH parts AS (SELECT (ST_Dump(ST_Force2D(ST_Transform(geom, :srid)))).geom AS g FROM road),"
            " noded AS (SELECT ST_Node(ST_Collect(g)) AS g FROM parts WHERE GeometryType(g) = 'LINESTRING')"
            " SELECT ST_AsBinary((ST_Dump(g)).geom) FROM noded WHERE g IS NOT NULL"
        ), {"srid": srid}).scalars().all()
        lines = [shapely.from_wkb(bytes(w)) for w in rows if w is not None]
        network = RoadNetwork.from_lines(lines, srid)
        log.info("road network: %d nodes, %d edges (EPSG:%d)", network.graph.number_of_nodes(),
                 network.graph.number_of_edges(), srid)
        return network

    return _NETWORKS.get_or_build(key, build)
