"""Terrain for flood season (防汛): a synthetic DEM for the demo, DEM sampling, and the lowest covers per street.

In flood season the command hall watches every manhole cover and rain grate
of each street (锦州); the ones that flood first are those lying lowest. So a
point layer is sampled on a DEM and, street by street, the lowest share of it
is listed — lowest in absolute height, with the local relief (height minus
the mean of the surrounding ground) beside it, because a grate at the bottom
of a hollow floods before a slightly lower one on an even slope.

Sampling takes the pixel a point falls in (nearest neighbour): a DEM pixel is
metres across, finer than the placement of the covers themselves, and the
answer is a height that really occurs in the DEM.

The demo district has no survey, so :func:`synthetic_dem` makes a deterministic
one: a gentle slope up from the river, smooth noise, and a few hollows.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from rasterio.crs import CRS
from scipy.ndimage import gaussian_filter, map_coordinates, uniform_filter

from gis_data.rasters.core import Raster, cell_centres

__all__ = ["synthetic_dem", "sample_raster", "local_relief", "lowest_per_group", "flood_watchlist"]

log = logging.getLogger(__name__)


def synthetic_dem(
    outline: shapely.Geometry,
    *,
    crs: str | int | CRS,
    river: shapely.Geometry | None = None,
    cell_m: float = 10.0,
    seed: int = 7,
    base_m: float = 30.0,
    slope_m_per_km: float = 3.0,
    noise_m: float = 0.35,
    hollows: int = 6,
    hollow_depth_m: tuple[float, float] = (1.5, 3.5),
    hollow_radius_m: tuple[float, float] = (60.0, 150.0),
) -> Raster:
    """A deterministic DEM over ``outline``: slope up from the river, smooth noise, a few hollows.

    Parameters
    ----------
    outline
        The district in the metric ``crs``; the DEM covers its bounding box plus two cells.
    river
        Water polygon(s) in ``crs``: height rises with the distance from them. Without a river the ground
        rises to the east.
    seed
        The same seed gives the same heights, cell for cell.
    hollows
        Number of bowl-shaped depressions (Gaussian, depth and radius drawn from the ranges), centred inside
        the outline: the places that flood first.

    Returns
    -------
    Raster
        Heights in metres (``units="m"``), tag ``hollows`` listing the bowls' centres as ``x y depth`` triples.
    """
    crs = CRS.from_user_input(crs)
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = outline.bounds
    west = math.floor(minx / cell_m) * cell_m - 2 * cell_m
    north = math.ceil(maxy / cell_m) * cell_m + 2 * cell_m
    width = math.ceil((maxx + 2 * cell_m - west) / cell_m)
    height = math.ceil((north - (miny - 2 * cell_m)) / cell_m)
    transform = Affine(cell_m, 0.0, west, 0.0, -cell_m, north)
    rows, cols = np.mgrid[0:height, 0:width]
    x, y = cell_centres(transform, rows, cols)
    rise_km = _distance_km(river, transform, (height, width)) if river is not None else (x - west) / 1000.0
    z = base_m + slope_m_per_km * rise_km
    noise = gaussian_filter(rng.standard_normal((height, width)), sigma=max(1.0, 80.0 / cell_m))
    z += noise_m * noise / max(float(noise.std()), 1e-12)
    centres = _points_inside(rng, outline, hollows)
    depth = rng.uniform(*hollow_depth_m, size=len(centres))
    radius = rng.uniform(*hollow_radius_m, size=len(centres))
    for (cx, cy), d, r in zip(centres, depth, radius):
        z -= d * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2.0 * (r / 2.0) ** 2))
    tag = ";".join(f"{cx:.1f} {cy:.1f} {d:.2f}" for (cx, cy), d in zip(centres, depth))
    log.info("synthetic DEM: %d×%d cells of %g m, %.1f–%.1f m", height, width, cell_m, z.min(), z.max())
    return Raster(z, transform, crs, units="m", tags={"hollows": tag, "seed": seed})


def _distance_km(river: shapely.Geometry, transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """Distance of every cell centre to the river, km: exact on a coarse grid, interpolated onto the cells.

    The distance field is 1-Lipschitz, so linear interpolation from 100 m nodes is off by centimetres, and a
    district-sized DEM needs some thousand shapely distance calls instead of a million.
    """
    h, w = shape
    step = max(1, round(100.0 / transform.a))
    rows = np.arange(0, h + step, step)
    cols = np.arange(0, w + step, step)
    rr, cc = np.meshgrid(rows, cols, indexing="ij")
    x, y = cell_centres(transform, rr, cc)
    coarse = shapely.distance(river, shapely.points(x, y)) / 1000.0
    fr, fc = np.mgrid[0:h, 0:w]
    return map_coordinates(coarse, [fr / step, fc / step], order=1, mode="nearest")


def _points_inside(rng: np.random.Generator, outline: shapely.Geometry, n: int) -> list[tuple[float, float]]:
    minx, miny, maxx, maxy = outline.bounds
    shapely.prepare(outline)
    found: list[tuple[float, float]] = []
    for _ in range(100):
        if len(found) >= n:
            break
        x = rng.uniform(minx, maxx, size=4 * n)
        y = rng.uniform(miny, maxy, size=4 * n)
        ok = shapely.contains_xy(outline, x, y)
        found.extend(zip(x[ok].tolist(), y[ok].tolist()))
    return found[:n]


def sample_raster(raster: Raster | str | Path, points: gpd.GeoDataFrame) -> np.ndarray:
    """Value of the pixel each point falls in; ``NaN`` off the raster, on nodata, or without geometry.

    Parameters
    ----------
    raster
        A :class:`Raster` or the path of a GeoTIFF.
    points
        Points with a CRS; reprojected to the raster's.
    """
    if not isinstance(raster, Raster):
        raster = Raster.read(raster)
    out = np.full(len(points), np.nan)
    has = (points.geometry.notna() & ~points.geometry.is_empty).to_numpy()
    if not has.any():
        return out
    xy = shapely.get_coordinates(points.geometry[has].to_crs(raster.crs).to_numpy())
    t = raster.transform
    col = np.floor((xy[:, 0] - t.c) / t.a).astype(np.int64)
    row = np.floor((xy[:, 1] - t.f) / t.e).astype(np.int64)
    h, w = raster.shape
    on = (row >= 0) & (row < h) & (col >= 0) & (col < w)
    vals = np.full(len(xy), np.nan)
    vals[on] = raster.data[row[on], col[on]]
    out[has] = vals
    return out


def local_relief(dem: Raster, radius_m: float = 100.0) -> Raster:
    """Height minus the mean height of the square of side ``2·radius_m`` around each cell (nodata ignored).

    Negative in hollows: water runs there.
    """
    size = 2 * max(1, round(radius_m / dem.cell_size[0])) + 1
    valid = np.isfinite(dem.data)
    filled = np.where(valid, dem.data, 0.0)
    total = uniform_filter(filled, size=size, mode="constant", cval=0.0)
    count = uniform_filter(valid.astype(np.float64), size=size, mode="constant", cval=0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.where(count > 0, count, 1.0), np.nan)
    return Raster(np.where(valid, dem.data - mean, np.nan), dem.transform, dem.crs, units="m")


def lowest_per_group(frame: pd.DataFrame, value: str, group: str, *, share: float = 0.1,
                     at_least: int = 1) -> pd.DataFrame:
    """Per group, the rows with the lowest ``value``: the lowest ``ceil(share·n)`` (at least ``at_least``).

    Rows tied with the last one picked are kept too, so the answer never depends on row order. Rows with a
    missing value or group are left out.

    Returns
    -------
    DataFrame
        The picked rows, sorted by group then value, with ``rank`` (1 = lowest in its group; ties share a
        rank) and ``n_in_group``.
    """
    if not 0 < share <= 1:
        raise ValueError("share must be in (0, 1]")
    known = frame[frame[value].notna() & frame[group].notna()]
    n = known.groupby(group)[value].transform("size")
    rank = known.groupby(group)[value].rank(method="min")
    keep = rank <= np.maximum(np.ceil(share * n), at_least)
    picked = known[keep].assign(rank=rank[keep].astype(int), n_in_group=n[keep].astype(int))
    return picked.sort_values([group, value, "rank"], kind="stable")


def flood_watchlist(
    points: gpd.GeoDataFrame,
    dem: Raster | str | Path,
    *,
    group: str = "street_code",
    share: float = 0.1,
    at_least: int = 1,
    relief_radius_m: float = 100.0,
) -> gpd.GeoDataFrame:
    """The lowest-lying points (manhole covers, rain grates) of each street, from a DEM.

    Parameters
    ----------
    points
        Points with a CRS and a ``group`` column (the street).
    dem
        Heights in metres (:class:`Raster` or GeoTIFF path).
    share, at_least
        Per street, the lowest ``ceil(share·n)`` points, at least ``at_least`` (ties kept).
    relief_radius_m
        Half-side of the square the local relief is measured against.

    Returns
    -------
    GeoDataFrame
        The picked points with ``elevation_m``, ``relief_m``, ``street_median_m`` (median height of all the
        street's points), ``below_median_m``, ``rank`` and ``n_in_group``; points off the DEM are left out.
    """
    if not isinstance(dem, Raster):
        dem = Raster.read(dem)
    sampled = points.assign(elevation_m=sample_raster(dem, points),
                            relief_m=sample_raster(local_relief(dem, relief_radius_m), points))
    off = int(sampled["elevation_m"].isna().sum())
    if off:
        log.info("flood watchlist: %d of %d points have no height (off the DEM or unlocated)", off, len(points))
    median = sampled.groupby(group)["elevation_m"].transform("median")
    sampled = sampled.assign(street_median_m=median, below_median_m=median - sampled["elevation_m"])
    return lowest_per_group(sampled, "elevation_m", group, share=share, at_least=at_least)
