"""Assemble the demo district: run the stages, build the frames, project to WGS 84.

The stages work in a local metric frame (EPSG:4547 shifted so that the district
centre is the origin, which keeps GEOS away from seven-digit coordinates); this
module places that frame at 112.98°E 28.25°N and returns every frame in EPSG:4326.
Each stage draws from its own random stream, spawned from the seed, so a change in
one stage does not reshuffle the others.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, fields

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from gis_data.demo.admin import Admin, build_admin
from gis_data.demo.assets import (
    make_cameras,
    make_components,
    make_resources,
    make_workers,
    place_names,
    street_graph,
)
from gis_data.demo.buildings import Buildings, addresses, place_buildings
from gis_data.demo.city import City, build_city
from gis_data.demo.events import EventPlaces, demo_end, load_taxonomy, make_events
from gis_data.demo.geom import as_multipolygon, polygon_parts
from gis_data.demo.names import DISTRICT_CODE, DISTRICT_NAME
from gis_data.demo.scale import DemoScale, resolve_scale

__all__ = ["CENTRE_LONLAT", "METRIC_EPSG", "DemoDistrict", "generate_district"]

log = logging.getLogger(__name__)

#: Where the demo district lies (开福区, Changsha), longitude and latitude.
CENTRE_LONLAT = (112.98, 28.25)
#: CGCS2000 / 3-degree Gauss–Krüger CM 114°E: the metric CRS the district is built in.
METRIC_EPSG = 4547
_WGS84 = "EPSG:4326"
_STAGES = ("city", "buildings", "admin", "names", "components", "cameras", "resources", "workers", "events")


@dataclass
class DemoDistrict:
    """A generated district: every layer as a frame in EPSG:4326.

    ``metric_epsg`` is the CRS to measure in (``frame.to_crs(district.metric_epsg)``);
    ``end`` the moment its events end (UTC).
    ``event_history`` is a plain DataFrame; every other frame is a GeoDataFrame.
    """

    metric_epsg: int
    seed: int
    scale: DemoScale
    admin: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    blocks: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    components: gpd.GeoDataFrame
    cameras: gpd.GeoDataFrame
    resources: gpd.GeoDataFrame
    workers: gpd.GeoDataFrame
    events: gpd.GeoDataFrame
    event_history: pd.DataFrame
    end: pd.Timestamp | None = None

    def frames(self) -> dict[str, pd.DataFrame]:
        """The frames by name, in an order a loader can write them (parents first)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), pd.DataFrame)}


class _Projector:
    """Local metric frame → EPSG:4326."""

    def __init__(self) -> None:
        to_metric = Transformer.from_crs(_WGS84, f"EPSG:{METRIC_EPSG}", always_xy=True)
        self.ox, self.oy = to_metric.transform(*CENTRE_LONLAT)
        self._to_wgs = Transformer.from_crs(f"EPSG:{METRIC_EPSG}", _WGS84, always_xy=True)

    def coords(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._to_wgs.transform(np.asarray(x) + self.ox, np.asarray(y) + self.oy)

    def geoms(self, geoms: np.ndarray) -> np.ndarray:
        def move(c: np.ndarray) -> np.ndarray:
            lon, lat = self.coords(c[:, 0], c[:, 1])
            return np.c_[lon, lat]

        return shapely.transform(np.asarray(geoms, dtype=object), move)

    def points(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        ok = ~np.isnan(x)
        out = np.full(len(x), None, dtype=object)
        lon, lat = self.coords(x[ok], y[ok])
        out[ok] = shapely.points(lon, lat)
        return out


def _gdf(data: dict | pd.DataFrame, geometry: np.ndarray) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(data).reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs=_WGS84), crs=_WGS84)


def generate_district(scale: DemoScale | str = "default", seed: int = 7,
                      end: pd.Timestamp | str | None = None) -> DemoDistrict:
    """Generate a deterministic, realistic demo district around 112.98°E 28.25°N.

    The same ``(scale, seed, end)`` gives byte-identical frames: all randomness flows
    from ``seed``, and the events end at ``end`` — by default a fixed reference time
    (2026-10-31 23:59 Beijing time), not "now"; the command line passes the moment
    of loading.

    Parameters
    ----------
    scale
        ``"small"`` (tests: ~1,600 buildings, ~40 grids), ``"default"`` (开福区-like:
        ~33,000 buildings, ~510 grids, ~100,000 events) or ``"city"`` (the same
        district with 30,000 cameras, 5,000 workers and 1,000,000 events), or a
        :class:`DemoScale` of one's own.
    seed
        Seed of every random draw.
    end
        When the year of events ends (aware; :data:`~gis_data.demo.REFERENCE_TIME`
        when ``None``): cameras' last signals and workers' last fixes end there too.

    Returns
    -------
    DemoDistrict
        Frames in EPSG:4326 and ``metric_epsg=4547``.

    Examples
    --------
    >>> d = generate_district("small")
    >>> d.grids.to_crs(d.metric_epsg).area.sum() > 0
    True
    """
    sc = resolve_scale(scale)
    end = demo_end(end)
    started = time.perf_counter()
    rngs = dict(zip(_STAGES, (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(_STAGES)))))
    city = build_city(rngs["city"], sc)
    bld = place_buildings(rngs["buildings"], city, sc)
    adm = build_admin(rngs["admin"], city, bld, sc)
    log.info("demo %s: layout done in %.1f s", sc.name, time.perf_counter() - started)
    proj = _Projector()
    addr, road_of = addresses(city, bld.x, bld.y)
    st = street_graph(city)
    places = place_names(rngs["names"], bld)

    comm_of_bld = adm.block_comm[bld.block]
    street_of_comm = adm.comm_street
    comm_code = np.asarray(adm.comm_code, dtype=object)
    comm_name = np.asarray(adm.comm_name, dtype=object)
    street_code = np.asarray(adm.street_code, dtype=object)
    street_name = np.asarray(adm.street_name, dtype=object)
    grid_code = np.asarray(adm.grid_code, dtype=object)

    components = make_components(rngs["components"], city, st, sc.n_components)
    cameras = make_cameras(rngs["cameras"], city, st, bld, places, addr, sc.n_cameras, end)
    resources = make_resources(rngs["resources"], bld, places, comm_name[comm_of_bld],
                               street_name[street_of_comm[comm_of_bld]], sc.n_resources)
    workers, worker_of_grid = make_workers(rngs["workers"], bld, adm.bld_grid, len(grid_code), sc.n_workers,
                                           end)
    worker_codes = workers["code"].to_numpy()
    grid_worker = np.where(worker_of_grid >= 0, worker_codes[np.maximum(worker_of_grid, 0)], None)
    ev_places = EventPlaces(
        bld=bld, address=addr, road_name=city.road_name[road_of], grid_code=grid_code[adm.bld_grid],
        comm_code=comm_code[comm_of_bld], street_code=street_code[street_of_comm[comm_of_bld]],
        comm_name=comm_name[comm_of_bld], worker_code=grid_worker[adm.bld_grid],
    )
    events, history = make_events(rngs["events"], ev_places, sc.n_events, load_taxonomy(), end)
    log.info("demo %s: points and events done in %.1f s", sc.name, time.perf_counter() - started)

    district = DemoDistrict(
        metric_epsg=METRIC_EPSG, seed=seed, scale=sc,
        admin=_admin_frame(proj, city, adm),
        roads=_gdf({"code": [f"RD{i + 1:05d}" for i in range(len(city.road_line))], "name": city.road_name,
                    "kind": city.road_kind}, proj.geoms(city.road_line)),
        water=_gdf({"code": ["WA001"], "name": ["湘江"]}, proj.geoms(np.asarray([city.river], dtype=object))),
        blocks=_gdf({"code": _block_codes(city), "zone": np.where(city.inner, "inner", "outer"),
                     "btype": bld.block_type, "community_code": comm_code[adm.block_comm]},
                    proj.geoms(city.cells)),
        buildings=_buildings_frame(proj, city, bld, adm, addr, comm_code),
        grids=_grids_frame(proj, bld, adm, comm_code, grid_worker),
        components=_gdf(components.drop(columns=["x", "y"]), proj.points(components["x"].to_numpy(),
                                                                          components["y"].to_numpy())),
        cameras=_gdf(cameras.drop(columns=["x", "y"]), proj.points(cameras["x"].to_numpy(), cameras["y"].to_numpy())),
        resources=_gdf(resources.drop(columns=["x", "y"]), proj.points(resources["x"].to_numpy(),
                                                                        resources["y"].to_numpy())),
        workers=_gdf({"code": worker_codes, "name": workers["name"].to_numpy(),
                      "home_grid_code": np.where(workers["home"].to_numpy() >= 0,
                                                 grid_code[np.maximum(workers["home"].to_numpy(), 0)], None),
                      "status": workers["status"].to_numpy(), "updated_at": workers["updated_at"].to_numpy()},
                     proj.points(workers["x"].to_numpy(), workers["y"].to_numpy())),
        events=_gdf(events.drop(columns=["x", "y"]), proj.points(events["x"].to_numpy(), events["y"].to_numpy())),
        event_history=history, end=end,
    )
    log.info("demo %s (seed %d): %d buildings, %d grids, %d events in %.1f s", sc.name, seed,
             len(district.buildings), len(district.grids), len(district.events), time.perf_counter() - started)
    return district


def _block_codes(city: City) -> list[str]:
    return [f"BK{i + 1:05d}" for i in range(len(city.cells))]


def _admin_frame(proj: _Projector, city: City, adm: Admin) -> gpd.GeoDataFrame:
    comm_geom = np.empty(len(adm.comm_code), dtype=object)
    for c in range(len(adm.comm_code)):
        comm_geom[c] = shapely.coverage_union_all(city.cells[adm.block_comm == c])
    street_geom = np.empty(len(adm.street_code), dtype=object)
    for s in range(len(adm.street_code)):
        street_geom[s] = shapely.coverage_union_all(comm_geom[adm.comm_street == s])
    codes = [DISTRICT_CODE, *adm.street_code, *adm.comm_code]
    names = [DISTRICT_NAME, *adm.street_name, *adm.comm_name]
    level = ["district"] + ["street"] * len(adm.street_code) + ["community"] * len(adm.comm_code)
    parent = [None] + [DISTRICT_CODE] * len(adm.street_code) + [adm.street_code[s] for s in adm.comm_street]
    geoms = np.r_[np.asarray([city.outline], dtype=object), street_geom, comm_geom]
    return _gdf({"code": codes, "name": names, "level": level, "parent_code": parent},
                proj.geoms(as_multipolygon(geoms)))


def _buildings_frame(proj: _Projector, city: City, bld: Buildings, adm: Admin, addr: np.ndarray,
                     comm_code: np.ndarray) -> gpd.GeoDataFrame:
    block_codes = np.asarray(_block_codes(city), dtype=object)
    seq = pd.Series(bld.block).groupby(bld.block).cumcount().to_numpy() + 1
    code = block_codes[bld.block] + "-" + pd.Series(seq).map("{:03d}".format).to_numpy()
    frame = _gdf({
        "code": code, "block_code": block_codes[bld.block], "btype": bld.btype, "floors": bld.floors,
        "households": bld.households, "population": bld.population,
        "zone": np.where(city.inner[bld.block], "inner", "outer"), "address": addr,
        "community_code": comm_code[adm.block_comm[bld.block]],
        "grid_code": np.asarray(adm.grid_code, dtype=object)[adm.bld_grid],
    }, proj.geoms(bld.footprint))
    frame["cell"] = gpd.GeoSeries(proj.geoms(bld.cell), crs=_WGS84)
    return frame


def _grids_frame(proj: _Projector, bld: Buildings, adm: Admin, comm_code: np.ndarray,
                 grid_worker: np.ndarray) -> gpd.GeoDataFrame:
    n = len(adm.grid_code)
    order = np.argsort(adm.bld_grid, kind="stable")
    bounds = np.searchsorted(adm.bld_grid[order], np.arange(n + 1))
    geom = np.empty(n, dtype=object)
    for g in range(n):
        geom[g] = _clean(shapely.coverage_union_all(bld.cell[order[bounds[g]:bounds[g + 1]]]))
    hh = np.bincount(adm.bld_grid, weights=bld.households, minlength=n).astype(np.int64)
    pop = np.bincount(adm.bld_grid, weights=bld.population, minlength=n).astype(np.int64)
    out = proj.geoms(as_multipolygon(geom))
    bad = ~shapely.is_valid(out)
    if bad.any():  # a micrometre spike can cross itself once projected: mend it in place
        out[bad] = as_multipolygon(shapely.make_valid(out[bad]))
    return _gdf({"code": adm.grid_code, "zone": np.where(adm.grid_inner, "inner", "outer"), "households": hh,
                 "population": pop, "community_code": comm_code[adm.grid_comm], "worker_code": grid_worker}, out)


def _clean(area) -> shapely.MultiPolygon:
    """A grid's area without specks: holes and parts under 1 m² are dropped.

    Vertices within 10 µm of a straight line go too (the cells' corners along a
    block's edge), which keeps the projected polygon from crossing itself.
    """
    area = shapely.simplify(area, 1e-5)
    parts = []
    for p in polygon_parts(area):
        if p.area < 1.0:
            continue
        holes = [r for r in p.interiors if shapely.Polygon(r).area >= 1.0]
        parts.append(shapely.Polygon(p.exterior, holes))
    return shapely.MultiPolygon(parts)
