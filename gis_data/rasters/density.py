"""Kernel density of events on a metric grid, hotspots, and a picture of it for the wall.

The estimate. Events are counted into square cells of a metric CRS (the
district's Gauss–Krüger zone) and spread with a quartic (biweight) kernel
``(1 − d²/h²)²`` of radius ``h`` — the kernel crime and incident mapping
commonly uses, with finite support so that nothing leaks past ``h``. The
kernel is discretised on the cells and normalised to sum to one, and the grid
is padded by the kernel radius around the events, so **the integral equals
the event count exactly**: ``data.sum() × cell area (km²) == n_events`` (to
float rounding). Values are events per km².

An event is placed at the centre of its cell, so positions move by up to half
a cell — keep ``cell_m`` well under ``bandwidth_m`` (the defaults are 25 m and
200 m).

Hotspots are the density's local maxima at least one bandwidth apart, highest
first, each with the events within a bandwidth of it and, when grids are
given, the grid it lies in.

For the wall, :func:`overlay_image` warps the density to Web Mercator (what a
Leaflet image overlay stretches linearly between its corners) and colours it
into an RGBA array with a transparent background; :func:`png_bytes` encodes it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio.crs import CRS
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, reproject, transform_bounds
from scipy.ndimage import convolve, maximum_filter
from scipy.spatial import cKDTree

from gis_data.rasters.core import Raster, cell_centres

__all__ = ["kernel_density", "quartic_kernel", "hotspots", "Overlay", "overlay_image", "png_bytes", "HEAT_RAMP"]

log = logging.getLogger(__name__)

#: Colour ramp of the heat overlay: (share of the top value, R, G, B, alpha) — yellow to dark red, see-through
#: where there is little, so the map stays readable under it.
HEAT_RAMP = (
    (0.00, 255, 255, 178, 0),
    (0.15, 254, 217, 118, 110),
    (0.40, 254, 178, 76, 160),
    (0.65, 253, 141, 60, 190),
    (0.85, 240, 59, 32, 215),
    (1.00, 189, 0, 38, 235),
)


def quartic_kernel(bandwidth_m: float, cell_m: float) -> np.ndarray:
    """The quartic kernel of radius ``bandwidth_m`` on square cells of ``cell_m``, summing to one.

    Returns
    -------
    ndarray
        ``(2r+1, 2r+1)`` weights, ``r = ceil(bandwidth_m / cell_m)``; the centre cell is the event's own.
    """
    if bandwidth_m <= 0 or cell_m <= 0:
        raise ValueError("bandwidth_m and cell_m must be positive")
    r = math.ceil(bandwidth_m / cell_m)
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    d2 = (dx * dx + dy * dy) * (cell_m / bandwidth_m) ** 2
    k = np.where(d2 < 1.0, (1.0 - d2) ** 2, 0.0)
    return k / k.sum()


def kernel_density(
    points: gpd.GeoDataFrame,
    *,
    crs: str | int | CRS,
    cell_m: float = 25.0,
    bandwidth_m: float = 200.0,
    bounds: tuple[float, float, float, float] | None = None,
    weights: str | None = None,
) -> Raster:
    """Kernel density of points, in events per km², on a grid of the metric ``crs``.

    Parameters
    ----------
    points
        Points with a CRS (events); rows without geometry are skipped (events located only to a community or
        street have none).
    crs
        Metric CRS of the grid (the district's ``metric_srid``).
    cell_m, bandwidth_m
        Cell size and kernel radius in metres.
    bounds
        ``(minx, miny, maxx, maxy)`` in ``crs`` that the grid must cover (the district), padded by the kernel
        radius; points outside it are left out (and counted in the log). Default: the points' own extent.
    weights
        Optional column weighting each point (e.g. priority); the integral is then the weights' sum.

    Returns
    -------
    Raster
        ``units="events/km²"``; ``data.sum() * cell_m**2 / 1e6`` equals the number (or weight) of the points
        used; tags ``n_points``, ``cell_m``, ``bandwidth_m``, ``kernel``. The origin lies on a multiple of
        ``cell_m``, so rasters of two time windows line up cell for cell.

    Examples
    --------
    >>> d = kernel_density(events, crs=4547, cell_m=25, bandwidth_m=200)      # doctest: +SKIP
    >>> d.write("events_2026-10.tif")                                         # doctest: +SKIP
    """
    crs = CRS.from_user_input(crs)
    if not crs.is_projected:
        raise ValueError(f"kernel density needs a metric CRS, not {crs}")
    if points.crs is None:
        raise ValueError("the points have no CRS")
    geoms = points.geometry
    has = geoms.notna().to_numpy() & ~geoms.is_empty.to_numpy()
    xy = shapely.get_coordinates(geoms[has].to_crs(crs).to_numpy())
    w = points.loc[has, weights].to_numpy(np.float64) if weights else np.ones(len(xy))
    if bounds is None:
        if len(xy) == 0:
            raise ValueError("no points with a location and no bounds: nothing to place the grid on")
        bounds = (*xy.min(axis=0), *xy.max(axis=0))
    minx, miny, maxx, maxy = bounds
    inside = (xy[:, 0] >= minx) & (xy[:, 0] <= maxx) & (xy[:, 1] >= miny) & (xy[:, 1] <= maxy)
    if (~inside).any():
        log.info("kernel density: %d of %d points lie outside the bounds and are left out",
                 int((~inside).sum()), len(xy))
    xy, w = xy[inside], w[inside]
    kernel = quartic_kernel(bandwidth_m, cell_m)
    r = kernel.shape[0] // 2
    west = (math.floor(minx / cell_m) - r) * cell_m
    south = (math.floor(miny / cell_m) - r) * cell_m
    east = (math.floor(maxx / cell_m) + 1 + r) * cell_m
    north = (math.floor(maxy / cell_m) + 1 + r) * cell_m
    width, height = round((east - west) / cell_m), round((north - south) / cell_m)
    col = np.clip(np.floor((xy[:, 0] - west) / cell_m).astype(np.int64), 0, width - 1)
    row = np.clip(np.floor((north - xy[:, 1]) / cell_m).astype(np.int64), 0, height - 1)
    counts = np.zeros((height, width))
    np.add.at(counts, (row, col), w)
    spread = convolve(counts, kernel, mode="constant", cval=0.0)
    data = spread / (cell_m * cell_m / 1e6)
    transform = Affine(cell_m, 0.0, west, 0.0, -cell_m, north)
    log.info("kernel density: %d points on %d×%d cells of %g m, bandwidth %g m", len(xy), height, width, cell_m,
             bandwidth_m)
    return Raster(data, transform, crs, units="events/km²",
                  tags={"n_points": len(xy), "cell_m": cell_m, "bandwidth_m": bandwidth_m, "kernel": "quartic"})


def hotspots(
    density: Raster,
    points: gpd.GeoDataFrame | None = None,
    *,
    n: int = 10,
    radius_m: float | None = None,
    zones: gpd.GeoDataFrame | None = None,
    zone_columns: tuple[str, ...] = ("code",),
) -> gpd.GeoDataFrame:
    """The ``n`` highest local maxima of a density raster, at least ``radius_m`` apart.

    Parameters
    ----------
    density
        From :func:`kernel_density` (metric CRS).
    points
        The points the density was made from; each hotspot then counts ``events_within`` ``radius_m``.
    radius_m
        Minimum distance between two hotspots and the counting radius; the density's bandwidth by default.
    zones
        Polygons (grids) to name each hotspot by: their ``zone_columns`` are copied onto the hotspot inside them.

    Returns
    -------
    GeoDataFrame
        ``rank`` (1 = hottest), ``density`` (events/km²), ``events_within`` (when ``points`` are given), the
        zone columns, and the hotspot's point in EPSG:4326.
    """
    radius_m = float(radius_m if radius_m is not None else density.tags.get("bandwidth_m", 200.0))
    cell = density.cell_size[0]
    r = max(1, math.ceil(radius_m / cell))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    footprint = dx * dx + dy * dy <= r * r
    data = np.nan_to_num(density.data, nan=0.0)
    peak = (data == maximum_filter(data, footprint=footprint, mode="constant", cval=0.0)) & (data > 0)
    rows, cols = np.nonzero(peak)
    order = np.lexsort((cols, rows, -data[rows, cols]))  # highest first; ties in reading order
    xs, ys = cell_centres(density.transform, rows[order], cols[order])
    chosen: list[int] = []
    for i in range(len(order)):  # a plateau gives several equal maxima: keep the first, drop those near it
        if all((xs[i] - xs[j]) ** 2 + (ys[i] - ys[j]) ** 2 >= radius_m ** 2 for j in chosen):
            chosen.append(i)
            if len(chosen) == n:
                break
    sel = np.asarray(chosen, dtype=np.int64)
    out = gpd.GeoDataFrame(
        {"rank": np.arange(1, len(sel) + 1), "density": data[rows[order][sel], cols[order][sel]]},
        geometry=gpd.points_from_xy(xs[sel], ys[sel]), crs=density.crs,
    )
    if points is not None:
        has = points.geometry.notna() & ~points.geometry.is_empty
        pxy = shapely.get_coordinates(points.geometry[has].to_crs(density.crs).to_numpy())
        tree = cKDTree(pxy) if len(pxy) else None
        out["events_within"] = [len(tree.query_ball_point((x, y), radius_m)) if tree is not None else 0
                                for x, y in zip(xs[sel], ys[sel])]
    out = out.to_crs("EPSG:4326")
    if zones is not None:
        named = gpd.sjoin(out, zones[[*zone_columns, zones.geometry.name]].to_crs("EPSG:4326"), how="left",
                          predicate="within")
        named = named[~named.index.duplicated()]
        for c in zone_columns:
            out[c] = named[c].to_numpy()
    return out[[c for c in out.columns if c != "geometry"] + ["geometry"]]


@dataclass(frozen=True)
class Overlay:
    """A heat overlay ready for a web map.

    Attributes
    ----------
    rgba
        ``(rows, cols, 4)`` ``uint8`` image, Web Mercator pixels, north up.
    bounds
        ``((south, west), (north, east))`` in degrees — Leaflet's ``ImageOverlay`` bounds.
    vmax
        Density (events/km²) shown at the top of the ramp.
    """

    rgba: np.ndarray
    bounds: tuple[tuple[float, float], tuple[float, float]]
    vmax: float


def overlay_image(density: Raster, *, max_size: int = 1024, vmax: float | None = None,
                  ramp: tuple = HEAT_RAMP) -> Overlay:
    """Warp a density raster to Web Mercator and colour it for the wall and console.

    Parameters
    ----------
    max_size
        Longest side of the image in pixels (a district at 25 m cells is about 400 px: no shrinking).
    vmax
        Value at the top of the ramp; by default the 99.5th percentile of the non-zero cells, so that one
        extreme cell does not wash the rest out.

    Notes
    -----
    The warp resamples bilinearly: it is for display only and does not keep the total.
    """
    src = np.nan_to_num(density.data, nan=0.0)
    h, w = src.shape
    dst_crs = CRS.from_epsg(3857)
    x0, y0, x1, y1 = transform_bounds(density.crs, dst_crs, *density.bounds, densify_pts=21)
    res = max((x1 - x0) / w, (y1 - y0) / h, max(x1 - x0, y1 - y0) / max_size)
    width, height = max(1, math.ceil((x1 - x0) / res)), max(1, math.ceil((y1 - y0) / res))
    transform = Affine(res, 0.0, x0, 0.0, -res, y1)  # built by hand: rasterio's helpers use affine's deprecated *
    warped = np.zeros((height, width))
    reproject(src, warped, src_transform=density.transform, src_crs=density.crs, dst_transform=transform,
              dst_crs=dst_crs, resampling=Resampling.bilinear, src_nodata=None, dst_nodata=None)
    positive = src[src > 0]
    top = float(vmax) if vmax is not None else (float(np.percentile(positive, 99.5)) if len(positive) else 1.0)
    top = top if top > 0 else 1.0
    t = np.clip(warped / top, 0.0, 1.0)
    stops = np.asarray(ramp, dtype=np.float64)
    rgba = np.stack([np.interp(t, stops[:, 0], stops[:, k]) for k in range(1, 5)], axis=-1)
    rgba[t <= 0, 3] = 0
    west, south, east, north = transform_bounds(dst_crs, "EPSG:4326", transform.c, transform.f + height * transform.e,
                                                transform.c + width * transform.a, transform.f)
    return Overlay(np.round(rgba).astype(np.uint8), ((south, west), (north, east)), top)


def png_bytes(overlay: Overlay) -> bytes:
    """The overlay as a PNG (RGBA), georeferenced in its side-car metadata, for an ``<img>`` or a data URL."""
    h, w, _ = overlay.rgba.shape
    (south, west), (north, east) = overlay.bounds
    x0, y0, x1, y1 = transform_bounds("EPSG:4326", "EPSG:3857", west, south, east, north)
    transform = Affine((x1 - x0) / w, 0.0, x0, 0.0, -(y1 - y0) / h, y1)
    with MemoryFile() as mem:
        with mem.open(driver="PNG", height=h, width=w, count=4, dtype="uint8", crs="EPSG:3857",
                      transform=transform) as dst:
            dst.write(np.moveaxis(overlay.rgba, -1, 0))
        return mem.read()
