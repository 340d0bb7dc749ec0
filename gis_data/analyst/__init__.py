"""A Python API for analysts: the store as GeoDataFrames, in one call each.

>>> from gis_data import analyst                                   # doctest: +SKIP
>>> engine = analyst.connect()          # GRIDWALL_DATABASE_URL, or the embedded cluster
>>> grids = analyst.read_layer("grids", engine=engine)
>>> events = analyst.read_events("2026-07-01", "2026-10-01", category="02", engine=engine)
>>> analyst.write_layer(fixed_components, "components", engine=engine)   # validated like a file import

Modules: :mod:`~gis_data.analyst.store` (connect, read, write, sandbox), :mod:`~gis_data.analyst.events`
(monthly trend, on-time rate, channel mix, density and hotspots), :mod:`~gis_data.analyst.areas` (population
raster per grid, flood watch list, camera blind spots), :mod:`~gis_data.analyst.planning` (what-if rebalance).
Raster mathematics is in :mod:`gis_data.rasters`, free of the store.
"""

from gis_data.analyst.areas import (
    FLOOD_CLASSES,
    PopulationEstimate,
    blind_stretches,
    camera_blind_spots,
    demo_dem,
    demo_population_raster,
    flood_points,
    flood_watchlist,
    population_by_area,
)
from gis_data.analyst.events import EventDensity, channel_mix, event_density, monthly_counts, on_time_by_street
from gis_data.analyst.planning import WhatIf, change_households, partition_input, what_if_rebalance
from gis_data.analyst.store import (
    LOCAL_TZ,
    Store,
    connect,
    metric_crs,
    read_events,
    read_layer,
    sandbox,
    using,
    write_layer,
)

__all__ = [
    "connect",
    "read_layer",
    "read_events",
    "write_layer",
    "sandbox",
    "using",
    "metric_crs",
    "Store",
    "LOCAL_TZ",
    "monthly_counts",
    "on_time_by_street",
    "channel_mix",
    "EventDensity",
    "event_density",
    "PopulationEstimate",
    "population_by_area",
    "demo_population_raster",
    "FLOOD_CLASSES",
    "flood_points",
    "demo_dem",
    "flood_watchlist",
    "camera_blind_spots",
    "blind_stretches",
    "partition_input",
    "change_households",
    "WhatIf",
    "what_if_rebalance",
]
