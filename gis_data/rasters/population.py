"""Population rasters (WorldPop and the like): read, add up, and total per zone.

Reading. WorldPop publishes one GeoTIFF per age group and sex (people per
pixel, EPSG:4326, 3″ ≈ 100 m); the whole population is their sum, so
:func:`read_population` adds every band of every file, after checking that the
files lie on one pixel grid (same CRS, transform and size — summing misaligned
rasters pixel by pixel would silently shift people). A pixel without data in
every input stays without data; a pixel missing in some inputs counts those as
zero. Only the window around the zones is read.

Zonal totals. :func:`zonal_sums` supports two weightings:

``"fraction"`` (the default)
    Each pixel counts with the share of its area inside the zone (people are
    taken as spread evenly over a pixel). Totals are conserved: zones that tile
    an area get exactly the raster's people in it, and a grid smaller than a
    pixel still gets its share. This matters here: a base grid is 200–400 m
    across, only a few 100 m pixels, so all-or-nothing pixels would move a third
    of a grid's people to its neighbours.
``"centre"``
    A pixel counts wholly for the zone whose interior holds its centre. Cheaper
    for coarse zones (streets, districts) on fine rasters, and conserving on a
    tessellation (but for a centre exactly on a shared border, which goes to
    neither zone), but granular: zones of a few pixels are off by up to half
    their boundary pixels, and a zone smaller than a pixel gets nobody. (GDAL's
    rasteriser, behind ``rasterio.features``, is not used: it burns a polygon
    smaller than a pixel into the pixel, which is not centre-in-polygon.)

Fractions are computed in the raster's own CRS (for EPSG:4326, degrees): over
one pixel the scale does not change measurably, so the share of a pixel's area
is the same in any local projection.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import shapely
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from gis_data.rasters.core import Raster, cell_centres, pixel_window, require_north_up, shifted
from layers.errors import LoadError

__all__ = ["read_population", "zonal_sums", "population_table", "disagreements", "ZONAL_METHODS"]

log = logging.getLogger(__name__)

ZONAL_METHODS = ("fraction", "centre")
_EARTH_RADIUS_KM = 6371.0088


def read_population(
    paths: str | Path | Sequence[str | Path],
    *,
    bands: Sequence[int] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    bounds_crs: str | None = None,
    per_km2: bool = False,
) -> Raster:
    """Read one or many population rasters on one pixel grid and add them up.

    Parameters
    ----------
    paths
        One GeoTIFF or several (e.g. WorldPop's age/sex files ``pop_30_f``, ``pop_30_m`` …).
    bands
        1-based bands to add from every file; all bands by default.
    bounds
        ``(minx, miny, maxx, maxy)``: read only the pixels overlapping this box (the whole raster by default).
    bounds_crs
        CRS of ``bounds`` when it is not the raster's (e.g. ``"EPSG:4326"`` for a projected raster).
    per_km2
        The values are densities (people per km², WorldPop's ``pd`` products) rather than counts per pixel
        (``ppp``): multiply by each pixel's area (spherical earth for geographic rasters).

    Returns
    -------
    Raster
        People per pixel (``float64``), ``NaN`` where no input has data; ``units="people"``.

    Raises
    ------
    LoadError
        No file given; a file without CRS, rotated, or off the first file's pixel grid; a band that does not
        exist; or ``bounds`` that miss the raster.

    Examples
    --------
    >>> pop = read_population(sorted(Path("wuhan_worldpop").glob("pop_*.tif")))   # doctest: +SKIP
    >>> round(pop.total())                                                          # doctest: +SKIP
    """
    files = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not files:
        raise LoadError("no population raster given")
    total = valid = None
    first = None
    for path in files:
        with rasterio.open(path) as src:
            if first is None:
                first = _grid_of(src, path)
                window = _window(src, path, bounds, bounds_crs)
                transform = shifted(src.transform, int(window.row_off), int(window.col_off))
            else:
                _check_aligned(src, path, first)
            wanted = list(bands) if bands is not None else list(range(1, src.count + 1))
            if bad := [b for b in wanted if not 1 <= b <= src.count]:
                raise LoadError(f"band {bad[0]} does not exist; the file has {src.count}", source=path.name)
            values = np.ma.filled(src.read(wanted, window=window, masked=True).astype(np.float64), np.nan)
        ok = np.isfinite(values)
        part = np.where(ok, values, 0.0).sum(axis=0)
        total = part if total is None else total + part
        valid = ok.any(axis=0) if valid is None else valid | ok.any(axis=0)
    data = np.where(valid, total, np.nan)
    crs = first[0]
    if per_km2:
        data = data * _pixel_area_km2(transform, data.shape, crs)[:, None]
    log.info("population raster: %d file(s), %d×%d pixels, %.0f people", len(files), *data.shape,
             float(np.nansum(data)))
    return Raster(data, transform, crs, units="people", tags={"sources": ",".join(p.name for p in files)})


def _grid_of(src, path: Path) -> tuple:
    if src.crs is None:
        raise LoadError("the raster has no CRS: georeference it first", source=path.name)
    require_north_up(src.transform, path.name)
    return (src.crs, src.transform, src.shape, path.name)


def _check_aligned(src, path: Path, first: tuple) -> None:
    crs, transform, shape, name = first
    if src.crs != crs or src.shape != shape or not src.transform.almost_equals(transform, precision=1e-9):
        raise LoadError(
            f"not on the pixel grid of {name} ({src.crs} {src.shape} vs {crs} {shape}, transforms "
            f"{tuple(src.transform)[:6]} vs {tuple(transform)[:6]}): resample it onto that grid before adding",
            source=path.name,
        )


def _window(src, path: Path, bounds, bounds_crs) -> Window:
    if bounds is None:
        return Window(0, 0, src.width, src.height)
    if bounds_crs is not None:
        bounds = transform_bounds(bounds_crs, src.crs, *bounds)
    row0, row1, col0, col1 = pixel_window(src.transform, src.shape, bounds)
    if row0 == row1 or col0 == col1:
        raise LoadError(f"the area {tuple(round(b, 5) for b in bounds)} lies outside this raster "
                        f"{tuple(round(b, 5) for b in src.bounds)}", source=path.name)
    return Window(col0, row0, col1 - col0, row1 - row0)


def _pixel_area_km2(transform, shape: tuple[int, int], crs) -> np.ndarray:
    """Area of a pixel in each row, km²: spherical zones for geographic CRS, ``|a·e|`` otherwise."""
    h = shape[0]
    if crs.is_geographic:
        top = transform.f + np.arange(h) * transform.e
        lat1, lat2 = np.radians(top), np.radians(top + transform.e)
        return _EARTH_RADIUS_KM ** 2 * math.radians(transform.a) * np.abs(np.sin(lat1) - np.sin(lat2))
    metres = crs.linear_units_factor[1]
    return np.full(h, abs(transform.a * transform.e) * metres ** 2 / 1e6)


def zonal_sums(raster: Raster, zones: gpd.GeoDataFrame, *, method: str = "fraction") -> pd.DataFrame:
    """People in each zone, and how much of the zone the raster has data for.

    Parameters
    ----------
    raster
        People per pixel (see :func:`read_population`).
    zones
        Polygons with a CRS; reprojected to the raster's CRS.
    method
        ``"fraction"`` (area-weighted, exact) or ``"centre"`` (centre-in-polygon); see the module notes.

    Returns
    -------
    DataFrame
        Indexed like ``zones``: ``raster_pop`` (people, float) and ``covered_share`` (share of the zone's area on
        pixels with data; 0 for a zone outside the raster, whose ``raster_pop`` is then 0 and means "unknown").

    Examples
    --------
    >>> zonal_sums(pop, grids)["raster_pop"].round()          # doctest: +SKIP
    """
    if method not in ZONAL_METHODS:
        raise ValueError(f"method must be one of {ZONAL_METHODS}, not {method!r}")
    if zones.crs is None:
        raise LoadError("the zones have no CRS")
    geoms = zones.geometry.to_crs(raster.crs).to_numpy() if not zones.crs.equals(raster.crs) \
        else zones.geometry.to_numpy()
    valid = np.isfinite(raster.data)
    values = np.where(valid, raster.data, 0.0)
    out = np.zeros((len(geoms), 2))
    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        row0, row1, col0, col1 = pixel_window(raster.transform, raster.shape, geom.bounds)
        if row0 == row1 or col0 == col1:
            continue
        if method == "fraction":
            weight = _fractions(raster.transform, geom, row0, row1, col0, col1)
        else:
            rows, cols = np.mgrid[row0:row1, col0:col1]
            weight = shapely.contains_xy(geom, *cell_centres(raster.transform, rows, cols)).astype(np.float64)
        window = (slice(row0, row1), slice(col0, col1))
        out[i, 0] = float((weight * values[window]).sum())
        out[i, 1] = float((weight * valid[window]).sum()) * raster.cell_area / geom.area
    return pd.DataFrame({"raster_pop": out[:, 0], "covered_share": np.minimum(out[:, 1], 1.0)}, index=zones.index)


def _fractions(transform, geom, row0: int, row1: int, col0: int, col1: int) -> np.ndarray:
    """Share of each pixel of the window inside ``geom``: 1 inside, 0 outside, exact area on the boundary."""
    rows, cols = np.mgrid[row0:row1, col0:col1]
    x0 = transform.c + cols * transform.a
    y0 = transform.f + rows * transform.e
    boxes = shapely.box(x0, y0 + transform.e, x0 + transform.a, y0)
    shapely.prepare(geom)
    frac = np.zeros(boxes.shape)
    inside = shapely.contains_properly(geom, boxes)
    frac[inside] = 1.0
    edge = ~inside & shapely.intersects(geom, boxes)
    if edge.any():
        frac[edge] = shapely.area(shapely.intersection(boxes[edge], geom)) / (transform.a * -transform.e)
    return np.minimum(frac, 1.0)


def population_table(
    zones: gpd.GeoDataFrame,
    raster: Raster,
    *,
    building_pop: str = "building_pop",
    n_buildings: str = "n_buildings",
    method: str = "fraction",
    min_coverage: float = 0.5,
) -> gpd.GeoDataFrame:
    """Raster and building population side by side, and the estimate to use per zone.

    Parameters
    ----------
    zones
        Grids or communities with columns ``building_pop`` (people registered in their buildings) and
        ``n_buildings``.
    raster
        People per pixel.
    min_coverage
        A zone without building data gets the raster's figure only when at least this share of it has raster
        data; otherwise its estimate stays empty.

    Returns
    -------
    GeoDataFrame
        ``zones`` plus ``raster_pop``, ``covered_share``, ``diff`` (raster − buildings, people), ``ratio``
        (raster ÷ buildings; NaN without buildings), ``share_diff_pp`` (the zone's share of the raster total
        minus its share of the building total, in percentage points: where the two *distributions* disagree,
        whatever their totals), ``estimate`` (whole people) and ``estimate_source`` (``buildings`` when the
        zone has buildings with people, else ``raster``, else ``none``).
    """
    sums = zonal_sums(raster, zones, method=method)
    out = zones.copy()
    out["raster_pop"] = sums["raster_pop"]
    out["covered_share"] = sums["covered_share"]
    bpop = out[building_pop].astype(float)
    out["diff"] = out["raster_pop"] - bpop
    out["ratio"] = np.where(bpop > 0, out["raster_pop"] / bpop.where(bpop > 0, 1.0), np.nan)
    rtot, btot = float(out["raster_pop"].sum()), float(bpop.sum())
    rshare = out["raster_pop"] / rtot if rtot > 0 else 0.0
    bshare = bpop / btot if btot > 0 else 0.0
    out["share_diff_pp"] = 100.0 * (rshare - bshare)
    has_buildings = (out[n_buildings] > 0) & (bpop > 0)
    from_raster = ~has_buildings & (out["covered_share"] >= min_coverage)
    out["estimate"] = pd.array(np.where(has_buildings, bpop, np.where(from_raster, out["raster_pop"], np.nan)),
                               dtype="Float64").round().astype("Int64")
    out["estimate_source"] = np.where(has_buildings, "buildings", np.where(from_raster, "raster", "none"))
    return out


def disagreements(table: pd.DataFrame, n: int = 10, *, by: str = "diff") -> pd.DataFrame:
    """The ``n`` zones where raster and buildings disagree most, by absolute ``diff`` or ``share_diff_pp``.

    Zones the raster does not cover (``covered_share`` 0) are left out: their zero is "unknown", not "nobody".
    """
    if by not in ("diff", "share_diff_pp", "ratio"):
        raise ValueError("by must be 'diff', 'share_diff_pp' or 'ratio'")
    known = table[table["covered_share"] > 0]
    key = np.abs(np.log(known["ratio"])) if by == "ratio" else known[by].abs()
    return known.assign(_key=key).sort_values("_key", ascending=False, na_position="last").head(n).drop(
        columns="_key")
