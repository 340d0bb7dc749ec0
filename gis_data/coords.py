"""Chinese map datums: WGS-84 ↔ GCJ-02 ↔ BD-09.

Chinese map sources (Amap/Gaode, Tencent, Baidu, DataV boundaries) publish
longitude/latitude in an obfuscated datum rather than WGS-84:

* **GCJ-02** ("Mars coordinates", 国测局坐标) shifts WGS-84 by a smooth,
  non-linear offset of a few hundred metres. Amap, Tencent and DataV use it.
* **BD-09** (百度坐标) is a further rotation/offset of GCJ-02 used by Baidu.

Our store is EPSG:4326 (WGS-84), so an importer has to undo either shift. The
forward formula is public and exact; there is no closed-form inverse, so
:func:`gcj02_to_wgs84` and :func:`bd09_to_gcj02` solve the forward formula by
fixed-point iteration until it reproduces the input to better than 1e-9°
(≈0.1 mm), instead of the common one-step approximation, which is off by
up to a few metres.

Out of China
------------
GCJ-02 is only defined inside China. Like every public implementation we use
the usual rectangle test (longitude 72.004–137.8347, latitude 0.8293–55.8271);
points outside it pass through the WGS-84 ↔ GCJ-02 steps **unchanged**. The
rectangle is coarse: it also covers neighbouring countries, and a point within
a few hundred metres of its edge may be shifted one way and not the other. No
grid district lies near that edge. The BD-09 step is a plain rotation/offset
and is applied everywhere.

Every function takes scalars or numpy arrays (any shape, broadcast) and returns
the same: a ``(lon, lat)`` pair of floats for scalars, of arrays otherwise.
NaN inputs give NaN outputs.

Example
-------
An Amap (GCJ-02) point in Nanjing 建邺区, to WGS-84 and back:

>>> lon, lat = gcj02_to_wgs84(118.742963, 32.032082)
>>> round(lon, 6), round(lat, 6)
(118.737743, 32.034117)
>>> x, y = wgs84_to_gcj02(lon, lat)
>>> round(x, 9), round(y, 9)
(118.742963, 32.032082)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt
import shapely

__all__ = [
    "Datum",
    "DATUMS",
    "out_of_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "wgs84_to_bd09",
    "bd09_to_wgs84",
    "convert_geometries",
]

logger = logging.getLogger(__name__)

Datum = Literal["gcj02", "bd09"]
#: The Chinese datums :func:`convert_geometries` understands.
DATUMS: frozenset[str] = frozenset({"gcj02", "bd09"})

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as in the GCJ-02 formula
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0  # the BD-09 constant
_TOL_DEG = 1e-9  # inverse iteration stops when the forward formula is this close
_MAX_ITER = 30  # converges in ~4-6 steps; the cap only guards against bad input

ArrayLike = npt.ArrayLike
Pair = tuple[float, float] | tuple[np.ndarray, np.ndarray]
G = TypeVar("G")


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    scalar = x.ndim == 0 and y.ndim == 0
    x, y = np.broadcast_arrays(x, y)
    return x, y, scalar


def _out(x: np.ndarray, y: np.ndarray, scalar: bool) -> Pair:
    if scalar:
        return float(x), float(y)
    return x, y


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray | bool:
    """Whether points fall outside the rectangle where GCJ-02 is applied.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees.

    Returns
    -------
    bool or numpy.ndarray of bool
        True where the WGS-84 ↔ GCJ-02 functions leave the point unchanged.
        NaN coordinates count as outside (nothing to shift).
    """
    x, y, scalar = _as_arrays(lon, lat)
    with np.errstate(invalid="ignore"):
        inside = (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)
    return bool(~inside) if scalar else ~inside


def _gcj_delta(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (degrees) at WGS-84 point (x, y), without the China test."""
    dx, dy = x - 105.0, y - 35.0
    pi = np.pi
    s6 = 20.0 * np.sin(6.0 * dx * pi) + 20.0 * np.sin(2.0 * dx * pi)
    dlat = -100.0 + 2.0 * dx + 3.0 * dy + 0.2 * dy * dy + 0.1 * dx * dy + 0.2 * np.sqrt(np.abs(dx))
    dlat += s6 * 2.0 / 3.0
    dlat += (20.0 * np.sin(dy * pi) + 40.0 * np.sin(dy / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(dy / 12.0 * pi) + 320.0 * np.sin(dy * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + dx + 2.0 * dy + 0.1 * dx * dx + 0.1 * dx * dy + 0.1 * np.sqrt(np.abs(dx))
    dlon += s6 * 2.0 / 3.0
    dlon += (20.0 * np.sin(dx * pi) + 40.0 * np.sin(dx / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(dx / 12.0 * pi) + 300.0 * np.sin(dx / 30.0 * pi)) * 2.0 / 3.0
    radlat = y / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def _gcj_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_delta(x, y)
    return x + dlon, y + dlat


def _bd_forward(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(x, y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    tx: np.ndarray,
    ty: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(x, y) == (tx, ty)`` by fixed-point iteration.

    Both shifts are small and smooth (their Jacobian is within 1e-4 of the
    identity), so ``p <- p - (forward(p) - target)`` contracts fast: each step
    gains about four digits.
    """
    x, y = tx.copy(), ty.copy()
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x -= ex
        y -= ey
        with np.errstate(invalid="ignore"):
            err = np.fmax(np.abs(ex), np.abs(ey))
        # NaN inputs stay NaN; ignore them when deciding to stop.
        if not np.any(err > _TOL_DEG):
            break
    else:  # pragma: no cover - the shifts converge in a handful of steps
        logger.warning("datum inverse did not converge in %d steps", _MAX_ITER)
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Shift WGS-84 longitude/latitude into GCJ-02.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 degrees. Points outside China (see module notes) pass unchanged.

    Returns
    -------
    (lon, lat)
        GCJ-02 degrees, floats for scalar input, arrays otherwise.
    """
    x, y, scalar = _as_arrays(lon, lat)
    gx, gy = _gcj_forward(x, y)
    outside = out_of_china(x, y)
    return _out(np.where(outside, x, gx), np.where(outside, y, gy), scalar)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Undo the GCJ-02 shift exactly (to < 1e-7°, in practice ~1e-9°).

    The one-step inverse found in most snippets (subtract the offset computed
    at the GCJ-02 point) leaves errors of up to a few metres; grid boundaries
    are drawn to the metre, so we iterate instead.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 degrees. Points outside China pass unchanged.

    Returns
    -------
    (lon, lat)
        WGS-84 degrees.
    """
    x, y, scalar = _as_arrays(lon, lat)
    wx, wy = _invert(_gcj_forward, x, y)
    outside = out_of_china(x, y)
    return _out(np.where(outside, x, wx), np.where(outside, y, wy), scalar)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Shift GCJ-02 degrees into Baidu's BD-09 (applied everywhere).

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 degrees.

    Returns
    -------
    (lon, lat)
        BD-09 degrees.
    """
    x, y, scalar = _as_arrays(lon, lat)
    return _out(*_bd_forward(x, y), scalar)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """Undo the BD-09 shift exactly, by iterating its forward formula.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 degrees.

    Returns
    -------
    (lon, lat)
        GCJ-02 degrees.
    """
    x, y, scalar = _as_arrays(lon, lat)
    return _out(*_invert(_bd_forward, x, y), scalar)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """WGS-84 → GCJ-02 → BD-09 (see the two steps for the caveats)."""
    x, y, scalar = _as_arrays(lon, lat)
    gx, gy = wgs84_to_gcj02(x, y)
    return _out(*_bd_forward(np.asarray(gx), np.asarray(gy)), scalar)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Pair:
    """BD-09 → GCJ-02 → WGS-84, both steps exact inverses."""
    x, y, scalar = _as_arrays(lon, lat)
    gx, gy = _invert(_bd_forward, x, y)
    return _out(*gcj02_to_wgs84(gx, gy), scalar)


_TO_WGS84: dict[str, Callable[[ArrayLike, ArrayLike], Pair]] = {
    "gcj02": gcj02_to_wgs84,
    "bd09": bd09_to_wgs84,
}


def convert_geometries(geoms: G, source: Datum) -> G:
    """Convert every coordinate of shapely geometries from GCJ-02/BD-09 to WGS-84.

    All vertices of all geometries go through one vectorised call
    (:func:`shapely.transform`), so a 100k-feature layer converts in well
    under a second. Z values are kept untouched where a geometry has them.

    Parameters
    ----------
    geoms : geopandas.GeoSeries or array_like of shapely geometries
        Geometries whose x/y are longitude/latitude in ``source``. Any
        geometry type; None and empty geometries pass through.
    source : {"gcj02", "bd09"}
        The datum the numbers are in.

    Returns
    -------
    geopandas.GeoSeries or numpy.ndarray
        Same type and shape as the input. A GeoSeries keeps its index and
        name and is tagged EPSG:4326.

    Raises
    ------
    ValueError
        If ``source`` is not a datum named above.
    """
    try:
        to_wgs84 = _TO_WGS84[source]
    except KeyError:
        raise ValueError(f"source datum must be one of {sorted(DATUMS)}, not {source!r}") from None

    def _shift(x: np.ndarray, y: np.ndarray, *z: np.ndarray) -> tuple[np.ndarray, ...]:
        wx, wy = to_wgs84(x, y)
        return (wx, wy, *z)

    values = getattr(geoms, "values", geoms)
    arr = np.asarray(values, dtype=object)
    # include_z=None keeps each geometry's own dimensionality (2D stays 2D).
    out = shapely.transform(arr, _shift, include_z=None, interleaved=False)
    if hasattr(geoms, "set_crs"):  # a GeoSeries: rebuild it, keep index and name
        import geopandas  # local: the datum functions need no geopandas

        return geopandas.GeoSeries(out, index=geoms.index, name=geoms.name, crs="EPSG:4326")
    return out
