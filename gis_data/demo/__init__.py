"""The demo district: a deterministic, realistic 开福区-like city, generated in code.

``generate_district(scale, seed, end)`` returns every layer the store holds — admin areas,
roads, water, blocks, buildings with their cells, the initial grids, city components,
cameras, emergency resources, grid workers, and a year of events with their state
histories — as frames in EPSG:4326, ready for the loader. Nothing is read from the
network or the database; the only data file is the event taxonomy.

Modules: :mod:`~gis_data.demo.scale` (profiles), :mod:`~gis_data.demo.city` (outline,
blocks, streets), :mod:`~gis_data.demo.buildings`, :mod:`~gis_data.demo.admin` (streets
offices, communities, grids), :mod:`~gis_data.demo.assets` (components, cameras,
resources, workers), :mod:`~gis_data.demo.events`, :mod:`~gis_data.demo.district`
(assembly and projection).
"""

from gis_data.demo.assets import COMPONENT_CLASSES
from gis_data.demo.district import CENTRE_LONLAT, METRIC_EPSG, DemoDistrict, generate_district
from gis_data.demo.events import (
    CHANNEL_SHARE,
    EVENT_STATES,
    EVENT_TRANSITIONS,
    PENDING_STATES,
    REFERENCE_TIME,
    TAXONOMY_PATH,
    WorkCalendar,
    add_working_hours,
    demo_end,
    load_taxonomy,
    sample_intakes,
    taxonomy_leaves,
)
from gis_data.demo.scale import SCALES, DemoScale, resolve_scale

__all__ = [
    "generate_district",
    "DemoDistrict",
    "DemoScale",
    "SCALES",
    "resolve_scale",
    "METRIC_EPSG",
    "CENTRE_LONLAT",
    "REFERENCE_TIME",
    "CHANNEL_SHARE",
    "EVENT_STATES",
    "PENDING_STATES",
    "EVENT_TRANSITIONS",
    "COMPONENT_CLASSES",
    "TAXONOMY_PATH",
    "load_taxonomy",
    "taxonomy_leaves",
    "add_working_hours",
    "WorkCalendar",
    "demo_end",
    "sample_intakes",
]
