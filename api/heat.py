"""The heat map of events the wall and the console show: :mod:`gis_data.rasters.density`, fed from the store.

Why here and not in the app: there is one heat implementation, the kernel
density of :mod:`gis_data.rasters.density` (its integral is the event count),
and the app is a client of the API. This module reads the events a key sees
with one bound query (``api/sql/heat_events.sql``, already in the district's
metric CRS), spreads them over a grid that covers the district's outline, and
shapes what a web map needs: a Web Mercator PNG with a transparent background
and its corners, and the top hotspots, each named by the grid and the street
it lies in (``heat_places.sql``).

Why the sizes are bounded: the spreading is a direct convolution, whose cost
is the cells times the kernel's cells. So the grid is kept to at most
:data:`MAX_SIDE` cells a side (on a district larger than ``MAX_SIDE × cell_m``
the cells grow), the kernel to at most :data:`MAX_CELLS_PER_BANDWIDTH` cells
of radius (a wide bandwidth gets coarser cells) and at least
:data:`MIN_CELLS_PER_BANDWIDTH` (below which the quartic kernel is a square).
The answer says which sizes were used.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
from sqlalchemy import Connection

from api.access import condition_params
from api.security import Principal
from api.store import sql
from command.network import metric_srid
from gis_data.rasters import Overlay, Raster, hotspots, kernel_density, overlay_image, png_bytes

__all__ = ["Hotspot", "HeatMap", "heat_map", "MAX_SIDE", "MIN_CELLS_PER_BANDWIDTH",
           "MAX_CELLS_PER_BANDWIDTH", "CELL_M", "BANDWIDTH_M"]

log = logging.getLogger(__name__)

#: most cells along the longer side of the grid (a district of 12 km at 25 m cells is 480)
MAX_SIDE = 600
#: the kernel's radius is kept between these many cells
MIN_CELLS_PER_BANDWIDTH = 3
MAX_CELLS_PER_BANDWIDTH = 12
#: default cell size and kernel radius, metres (density.py's defaults)
CELL_M = 25.0
BANDWIDTH_M = 200.0


@dataclass(frozen=True)
class Hotspot:
    """One of the top hotspots: where (WGS 84), how hot (events/km²), how many events within a bandwidth, and the
    grid and street it lies in (``None`` outside them)."""

    lon: float
    lat: float
    density: float
    events: int
    grid_id: int | None
    grid_code: str | None
    street: str | None


@dataclass(frozen=True)
class HeatMap:
    """The density (``None`` when there is neither a district nor an event to place a grid on), its picture, the
    hotspots and the number of events used."""

    density: Raster | None
    overlay: Overlay | None
    hotspots: list[Hotspot]
    events: int
    cell_m: float
    bandwidth_m: float

    @property
    def data_url(self) -> str | None:
        """The picture as a ``data:image/png;base64,…`` URL for an ``<img>`` or a Leaflet image overlay."""
        if self.overlay is None:
            return None
        return "data:image/png;base64," + base64.b64encode(png_bytes(self.overlay)).decode("ascii")

    @property
    def peak(self) -> float:
        """The highest density, events/km² (0 without events)."""
        return float(np.nanmax(self.density.data)) if self.density is not None and self.density.data.size else 0.0


def _sizes(bounds: tuple[float, float, float, float] | None, cell_m: float, bandwidth_m: float) -> tuple[float, float]:
    cell_m = max(cell_m, bandwidth_m / MAX_CELLS_PER_BANDWIDTH)
    if bounds is not None:
        longest = max(bounds[2] - bounds[0], bounds[3] - bounds[1])
        cell_m = max(cell_m, longest / MAX_SIDE)
    return cell_m, max(bandwidth_m, MIN_CELLS_PER_BANDWIDTH * cell_m)


def _places(conn: Connection, spots: gpd.GeoDataFrame) -> list[dict]:
    if spots.empty:
        return []
    lons, lats = spots.geometry.x.tolist(), spots.geometry.y.tolist()
    return [dict(r) for r in conn.execute(sql("heat_places"), {"lons": lons, "lats": lats}).mappings()]


def heat_map(conn: Connection, principal: Principal, *, since: datetime | None = None, until: datetime | None = None,
             states: tuple[str, ...] | None = None, cell_m: float = CELL_M, bandwidth_m: float = BANDWIDTH_M,
             top: int = 10) -> HeatMap:
    """Kernel density of the events ``principal`` sees, reported in ``[since, until)`` and in ``states``.

    Parameters
    ----------
    since, until
        The window on the reported time; either end open when ``None``.
    states
        Only events in these states (``None``: every state).
    cell_m, bandwidth_m
        Cell size and kernel radius, metres; grown as the module docstring says on a large district.
    top
        Most hotspots, at least one bandwidth apart, hottest first.
    """
    srid = metric_srid(conn)
    box = conn.execute(sql("heat_district"), {"srid": srid}).one()
    bounds = None if box.minx is None else (box.minx, box.miny, box.maxx, box.maxy)
    rows = conn.execute(sql("heat_events"), {"srid": srid, "since": since, "until": until,
                                             "states": list(states) if states is not None else None,
                                             **condition_params(principal, "events")}).all()
    xy = np.asarray(rows, dtype=np.float64).reshape(-1, 2)
    cell_m, bandwidth_m = _sizes(bounds, cell_m, bandwidth_m)
    if bounds is None and len(xy) == 0:
        return HeatMap(None, None, [], 0, cell_m, bandwidth_m)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=srid)
    density = kernel_density(points, crs=srid, cell_m=cell_m, bandwidth_m=bandwidth_m, bounds=bounds)
    spots = hotspots(density, points, n=top)
    named = _places(conn, spots)
    found = [Hotspot(lon=round(float(p.x), 6), lat=round(float(p.y), 6), density=round(float(d), 3), events=int(n),
                     grid_id=place["grid_id"], grid_code=place["grid_code"], street=place["street"])
             for p, d, n, place in zip(spots.geometry, spots["density"], spots["events_within"], named)]
    log.info("heat map: %d events on %s cells of %g m, %d hotspots", density.tags["n_points"], density.shape,
             cell_m, len(found))
    return HeatMap(density, overlay_image(density), found, int(density.tags["n_points"]), cell_m, bandwidth_m)
