"""Figures per grid, community and street that need the store and a raster or another module.

- :func:`population_by_area` — a WorldPop-style raster summed per grid and community beside the buildings'
  population (estimates for grids without building data, and where the two disagree most).
- :func:`demo_dem`, :func:`flood_points`, :func:`flood_watchlist` — flood season (防汛): the lowest-lying
  manhole covers (井盖) and rain grates (雨水篦子) of each street on a DEM.
- :func:`camera_blind_spots` — street length no online camera sees, per grid (from :mod:`command.coverage`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.crs import CRS
from sqlalchemy import func, select

from gis_data.analyst.store import Store, metric_crs, read_layer, using
from gis_data.rasters import Raster, disagreements, population_table, read_population, synthetic_dem
from gis_data.rasters import flood_watchlist as _flood_watchlist
from layers import models as m

__all__ = [
    "PopulationEstimate",
    "population_by_area",
    "demo_population_raster",
    "FLOOD_CLASSES",
    "flood_points",
    "demo_dem",
    "flood_watchlist",
    "camera_blind_spots",
    "blind_stretches",
]

log = logging.getLogger(__name__)

#: Component class names watched in flood season, as a regular expression: every manhole cover (井盖: water,
#: sewage, rain, gas, power, telecom — a cover lifted by flood water is a hole in the street) and rain grates
#: (雨水篦子, also written 箅子). Matched on ``class_name`` so that a district's own class codes work too.
FLOOD_CLASSES = r"井盖|雨水[篦箅]子?"


@dataclass(frozen=True)
class PopulationEstimate:
    """Raster and building population per grid and per community.

    ``grids`` and ``communities`` are GeoDataFrames with ``building_pop``, ``n_buildings`` and the columns of
    :func:`gis_data.rasters.population_table` (``raster_pop``, ``covered_share``, ``diff``, ``ratio``,
    ``share_diff_pp``, ``estimate``, ``estimate_source``).
    """

    grids: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    raster: Raster

    def disagreements(self, level: str = "grids", n: int = 10, *, by: str = "diff") -> pd.DataFrame:
        """The ``n`` grids (or communities) where the raster and the buildings disagree most."""
        table = {"grids": self.grids, "communities": self.communities}[level]
        return disagreements(table, n, by=by)


def population_by_area(
    paths: str | Path | Sequence[str | Path],
    *,
    engine: Store = None,
    method: str = "fraction",
    min_coverage: float = 0.5,
    bands: Sequence[int] | None = None,
    per_km2: bool = False,
) -> PopulationEstimate:
    """Sum a population raster (one file or several, e.g. WorldPop's age/sex files) per current grid and community.

    Only the raster window around the district is read. Grids whose buildings hold nobody (no building data)
    get the raster's figure as their ``estimate``.

    Parameters
    ----------
    paths
        GeoTIFF(s) on one pixel grid; their bands are added (see :func:`gis_data.rasters.read_population`).
    method
        ``"fraction"`` (exact pixel fractions, the default) or ``"centre"``.
    min_coverage
        Share of a grid the raster must cover for its figure to be used as an estimate.

    Examples
    --------
    >>> est = population_by_area(sorted(Path("worldpop").glob("*.tif")))        # doctest: +SKIP
    >>> est.disagreements("grids", 10)[["code", "building_pop", "raster_pop", "diff"]]   # doctest: +SKIP
    """
    b = m.Building.__table__
    with using(engine) as conn:
        grids = read_layer("grids", engine=conn)
        communities = read_layer("admin_areas", engine=conn, where={"level": "community"})
        per_grid = pd.DataFrame(conn.execute(
            select(b.c.grid_id, func.count().label("n_buildings"), func.sum(b.c.population).label("building_pop"))
            .group_by(b.c.grid_id)).all(), columns=["grid_id", "n_buildings", "building_pop"])
        per_comm = pd.DataFrame(conn.execute(
            select(b.c.community_id, func.count().label("n_buildings"),
                   func.sum(b.c.population).label("building_pop"))
            .group_by(b.c.community_id)).all(), columns=["community_id", "n_buildings", "building_pop"])
    grids = _with_buildings(grids, per_grid, "grid_id")
    communities = _with_buildings(communities, per_comm, "community_id")
    bounds = tuple(pd.concat([grids.geometry, communities.geometry]).total_bounds)
    raster = read_population(paths, bands=bands, bounds=bounds, bounds_crs="EPSG:4326", per_km2=per_km2)
    grids = population_table(grids, raster, method=method, min_coverage=min_coverage)
    communities = population_table(communities, raster, method=method, min_coverage=min_coverage)
    log.info("population raster: %.0f people in the grids, %.0f registered in buildings",
             grids["raster_pop"].sum(), grids["building_pop"].sum())
    return PopulationEstimate(grids, communities, raster)


def _with_buildings(zones: gpd.GeoDataFrame, sums: pd.DataFrame, key: str) -> gpd.GeoDataFrame:
    sums = sums.dropna(subset=[key]).astype({key: "int64"}).set_index(key)
    out = zones.copy()
    out["n_buildings"] = sums["n_buildings"].reindex(out["id"]).fillna(0).astype("int64").to_numpy()
    out["building_pop"] = sums["building_pop"].reindex(out["id"]).fillna(0).astype("int64").to_numpy()
    return out


def demo_population_raster(path: str | Path, *, engine: Store = None, seed: int = 7, noise: float = 0.3,
                           unregistered: int = 1500) -> Path:
    """Write a WorldPop-like population GeoTIFF of the store's district, for demos and notebooks.

    The demo district lies where no real raster is shipped, so one is made from its buildings: every
    building's people in the 3″ pixel (WorldPop's global grid, EPSG:4326) it stands in, each pixel scaled by
    a log-normal factor (``noise``: a model's error), plus ``unregistered`` people (a construction camp, the
    floating population) spread over a few pixels of one grid — the kind of place where raster and building
    figures disagree. Same store and seed, same file.
    """
    res = 1.0 / 1200.0
    rng = np.random.default_rng(seed)
    with using(engine) as conn:
        buildings = read_layer("buildings", engine=conn)
        outline = read_layer("admin_areas", engine=conn, where={"level": "district"})
    west, south, east, north = outline.total_bounds
    col0, row0 = int(np.floor((west + 180.0) / res)), int(np.floor((90.0 - north) / res))
    width = int(np.ceil((east + 180.0) / res)) - col0
    height = int(np.ceil((90.0 - south) / res)) - row0
    transform = Affine(res, 0.0, -180.0 + col0 * res, 0.0, -res, 90.0 - row0 * res)
    spots = shapely.get_coordinates(buildings.geometry.representative_point().to_numpy())
    cols = np.clip(((spots[:, 0] - transform.c) / res).astype(np.int64), 0, width - 1)
    rows = np.clip(((transform.f - spots[:, 1]) / res).astype(np.int64), 0, height - 1)
    data = np.zeros((height, width))
    np.add.at(data, (rows, cols), buildings["population"].to_numpy(np.float64))
    data *= rng.lognormal(0.0, noise, size=data.shape)
    camp = rng.choice(len(rows))
    for dr, dc in ((0, 0), (0, 1), (1, 0)):
        data[min(rows[camp] + dr, height - 1), min(cols[camp] + dc, width - 1)] += unregistered / 3.0
    inside = shapely.contains_xy(shapely.union_all(outline.geometry.to_numpy()),
                                 *np.meshgrid(transform.c + (np.arange(width) + 0.5) * res,
                                              transform.f - (np.arange(height) + 0.5) * res))
    data[~inside & (data == 0)] = np.nan  # WorldPop leaves pixels outside its mask without data
    return Raster(data, transform, CRS.from_epsg(4326), units="people").write(path, dtype="float32")


def flood_points(*, engine: Store = None, classes: str = FLOOD_CLASSES) -> gpd.GeoDataFrame:
    """Manhole covers and rain grates with the street (街道) they stand in.

    Parameters
    ----------
    classes
        Regular expression on ``class_name``; :data:`FLOOD_CLASSES` by default.

    Returns
    -------
    GeoDataFrame
        The components' columns plus ``street_code`` and ``street_name`` (a point on the line between two
        streets goes to the first by code).
    """
    with using(engine) as conn:
        comps = read_layer("components", engine=conn)
        streets = read_layer("admin_areas", engine=conn, where={"level": "street"})
    picked = comps[comps["class_name"].str.contains(classes, regex=True, na=False)]
    streets = streets[["code", "name", "geom"]].rename(columns={"code": "street_code", "name": "street_name"})
    joined = gpd.sjoin(picked, streets.sort_values("street_code"), how="left", predicate="intersects")
    joined = joined[~joined.index.duplicated(keep="first")].drop(columns="index_right")
    return joined


def demo_dem(path: str | Path, *, engine: Store = None, cell_m: float = 10.0, seed: int = 7) -> Path:
    """Write a synthetic DEM of the store's district (slope up from the river, noise, hollows) as a GeoTIFF.

    The demo district has no survey; this stands in for one in the flood notebook and tests. Same store and
    seed, same file contents. See :func:`gis_data.rasters.synthetic_dem`.
    """
    with using(engine) as conn:
        crs = metric_crs(conn)
        outline = read_layer("admin_areas", engine=conn, where={"level": "district"}).to_crs(crs)
        water = read_layer("water", engine=conn).to_crs(crs)
    river = shapely.union_all(water.geometry.to_numpy()) if len(water) else None
    dem = synthetic_dem(shapely.union_all(outline.geometry.to_numpy()), crs=crs, river=river, cell_m=cell_m,
                        seed=seed)
    return dem.write(path, dtype="float32")


def flood_watchlist(
    dem: Raster | str | Path,
    *,
    engine: Store = None,
    share: float = 0.1,
    at_least: int = 1,
    classes: str = FLOOD_CLASSES,
    relief_radius_m: float = 100.0,
) -> gpd.GeoDataFrame:
    """Per street, the lowest-lying manhole covers and rain grates on ``dem`` (what to watch first in a storm).

    Returns
    -------
    GeoDataFrame
        See :func:`gis_data.rasters.flood_watchlist`: per street the lowest ``ceil(share·n)`` points (at least
        ``at_least``), with ``elevation_m``, ``relief_m``, ``below_median_m``, ``rank``, and the cover's code,
        class and grid.
    """
    points = flood_points(engine=engine, classes=classes)
    return _flood_watchlist(points, dem, group="street_code", share=share, at_least=at_least,
                            relief_radius_m=relief_radius_m)


def camera_blind_spots(*, engine: Store = None) -> gpd.GeoDataFrame:
    """Per current grid: street length, the part no online camera sees, and its share (blindest first).

    Computed by :func:`command.coverage.blind_spots` (cameras' view sectors in the metric CRS): patrols need
    only cover what it reports (路长只需巡查摄像头盲区).
    """
    from command.coverage import blind_spots

    with using(engine) as conn:
        rows = blind_spots(conn)
        grids = read_layer("grids", engine=conn)
    table = pd.DataFrame([{**r.model_dump(), "blind_share": r.blind_share} for r in rows],
                         columns=["grid_id", "grid_code", "street_m", "blind_m", "blind_share"])
    out = grids[["id", "code", "zone", "community_name", "geom"]].merge(table, left_on="id", right_on="grid_id")
    return out.drop(columns=["grid_id", "grid_code"]).sort_values(["blind_m", "code"], ascending=[False, True])


def blind_stretches(*, engine: Store = None) -> gpd.GeoDataFrame:
    """The blind street stretches themselves (lines, EPSG:4326), one feature per grid, for a map."""
    from command.coverage import blind_spot_features

    with using(engine) as conn:
        features = blind_spot_features(conn)
    if not features["features"]:
        return gpd.GeoDataFrame({"grid_code": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"))
    return gpd.GeoDataFrame.from_features(features["features"], crs="EPSG:4326")
