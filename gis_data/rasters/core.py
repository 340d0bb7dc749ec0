"""A single-band raster in memory, and how it goes to and from a GeoTIFF.

Why a small class of our own rather than passing open datasets around: the
raster functions are pure (arrays, GeoDataFrames and paths in, arrays and
frames out), so a result must outlive the file it came from, and every
GeoTIFF we write must carry its CRS and transform (an ungeoreferenced file is
useless on a map, and rasterio warns about it — warnings are errors in our
tests). Only north-up rasters are handled: WorldPop, DEMs and our own
density grids all are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS

from layers.errors import LoadError

__all__ = ["Raster", "pixel_window", "shifted", "cell_centres", "require_north_up"]


def require_north_up(transform: Affine, source: str) -> None:
    """Refuse rotated or south-up rasters: pixel boxes are then not axis-aligned.

    Raises
    ------
    LoadError
        Naming the file and the offending transform.
    """
    if transform.b != 0 or transform.d != 0 or transform.a <= 0 or transform.e >= 0:
        raise LoadError(f"only north-up rasters are supported; this one has transform {tuple(transform)[:6]}",
                        source=source)


def pixel_window(transform: Affine, shape: tuple[int, int], bounds: tuple[float, float, float, float]
                 ) -> tuple[int, int, int, int]:
    """Rows and columns ``(row0, row1, col0, col1)`` of the pixels that overlap ``bounds``, clipped to the raster.

    Half-open ranges; empty (``row0 == row1`` or ``col0 == col1``) when the bounds miss the raster.
    """
    minx, miny, maxx, maxy = bounds
    a, c, e, f = transform.a, transform.c, transform.e, transform.f
    col0 = math.floor((minx - c) / a)
    col1 = math.ceil((maxx - c) / a)
    row0 = math.floor((maxy - f) / e)
    row1 = math.ceil((miny - f) / e)
    h, w = shape
    row0, row1 = min(max(row0, 0), h), min(max(row1, 0), h)
    col0, col1 = min(max(col0, 0), w), min(max(col1, 0), w)
    return row0, row1, col0, col1


def shifted(transform: Affine, row0: int, col0: int) -> Affine:
    """The transform of a window starting at pixel ``(row0, col0)``.

    Built from the coefficients rather than with ``transform * Affine.translation(...)``: affine 3 deprecates
    the ``*`` operator (a warning, an error in our tests) and affine 2 lacks ``@``.
    """
    return Affine(transform.a, transform.b, transform.c + col0 * transform.a + row0 * transform.b,
                  transform.d, transform.e, transform.f + col0 * transform.d + row0 * transform.e)


def cell_centres(transform: Affine, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CRS coordinates of the centres of pixels ``(rows, cols)`` (north-up transform)."""
    x = transform.c + (np.asarray(cols) + 0.5) * transform.a
    y = transform.f + (np.asarray(rows) + 0.5) * transform.e
    return x, y


@dataclass(frozen=True)
class Raster:
    """One band of values with its place on the earth.

    Attributes
    ----------
    data
        2-D ``float64`` array; ``NaN`` where there is no data.
    transform
        North-up affine transform (pixel → CRS coordinates of the upper-left corner).
    crs
        Coordinate reference system of ``transform``.
    units
        What a value means (``"people"``, ``"events/km²"``, ``"m"``), written to the GeoTIFF's tags.
    """

    data: np.ndarray
    transform: Affine
    crs: CRS
    units: str = ""
    tags: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.data.ndim != 2:
            raise ValueError(f"a Raster holds one band: got an array of shape {self.data.shape}")
        require_north_up(self.transform, "raster")

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, columns)``."""
        return self.data.shape  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in the raster's CRS."""
        h, w = self.shape
        t = self.transform
        return (t.c, t.f + h * t.e, t.c + w * t.a, t.f)

    @property
    def cell_size(self) -> tuple[float, float]:
        """Pixel width and height in CRS units (both positive)."""
        return (self.transform.a, -self.transform.e)

    @property
    def cell_area(self) -> float:
        """Area of one pixel in CRS units squared (square metres in a metric CRS)."""
        return self.transform.a * -self.transform.e

    def total(self) -> float:
        """Sum of all values with data."""
        return float(np.nansum(self.data))

    def write(self, path: str | Path, *, dtype: str = "float64") -> Path:
        """Write a tiled, deflate-compressed GeoTIFF with CRS, transform, ``NaN`` nodata and the units tag.

        ``float64`` by default so that a density raster read back still sums to its event count to ~1e-12;
        pass ``"float32"`` to halve the file where that does not matter (a DEM).
        """
        path = Path(path)
        h, w = self.shape
        profile = {
            "driver": "GTiff", "height": h, "width": w, "count": 1, "dtype": dtype, "crs": self.crs,
            "transform": self.transform, "nodata": float("nan"), "compress": "deflate", "predictor": 3,
        }
        if h >= 256 and w >= 256:
            profile.update(tiled=True, blockxsize=256, blockysize=256)
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(self.data.astype(dtype, copy=False), 1)
            dst.update_tags(units=self.units, **{k: str(v) for k, v in self.tags.items()})
        return path

    @classmethod
    def read(cls, path: str | Path, band: int = 1) -> "Raster":
        """Read one band of a georeferenced raster; its nodata becomes ``NaN``.

        Raises
        ------
        LoadError
            When the file has no CRS or is not north-up.
        """
        path = Path(path)
        with rasterio.open(path) as src:
            if src.crs is None:
                raise LoadError("the raster has no CRS: georeference it first", source=path.name)
            require_north_up(src.transform, path.name)
            values = src.read(band, masked=True).astype(np.float64)
            units = src.tags().get("units", "")
            return cls(np.ma.filled(values, np.nan), src.transform, src.crs, units)
