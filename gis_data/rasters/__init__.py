"""Rasters for the district: population, event density, terrain. Pure functions, no database.

- :mod:`~gis_data.rasters.core` — :class:`Raster` (one band, CRS, transform) and GeoTIFF I/O.
- :mod:`~gis_data.rasters.population` — read and add WorldPop-style files, zonal totals per grid and
  community (exact pixel fractions), the raster-vs-buildings table.
- :mod:`~gis_data.rasters.density` — kernel density of events whose integral is the event count, hotspots,
  and the heat overlay for the wall.
- :mod:`~gis_data.rasters.terrain` — a synthetic DEM for the demo, DEM sampling, the lowest manhole covers
  and rain grates per street (防汛).

Store access (which events, grids, components) lives in :mod:`gis_data.analyst`.
"""

from gis_data.rasters.core import Raster
from gis_data.rasters.density import (
    HEAT_RAMP,
    Overlay,
    hotspots,
    kernel_density,
    overlay_image,
    png_bytes,
    quartic_kernel,
)
from gis_data.rasters.population import (
    ZONAL_METHODS,
    disagreements,
    population_table,
    read_population,
    zonal_sums,
)
from gis_data.rasters.terrain import flood_watchlist, local_relief, lowest_per_group, sample_raster, synthetic_dem

__all__ = [
    "Raster",
    "read_population",
    "zonal_sums",
    "population_table",
    "disagreements",
    "ZONAL_METHODS",
    "kernel_density",
    "quartic_kernel",
    "hotspots",
    "Overlay",
    "overlay_image",
    "png_bytes",
    "HEAT_RAMP",
    "synthetic_dem",
    "sample_raster",
    "local_relief",
    "lowest_per_group",
    "flood_watchlist",
]
