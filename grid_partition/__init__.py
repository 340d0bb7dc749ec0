"""grid_partition — draw base grids (基础网格) whose households and population both sit inside a band.

A pure library: GeoDataFrames and arrays in, labels, grid polygons and a report out.  No database, no web, and
nothing from the rest of gridwall is imported.

>>> from grid_partition import BandPartitioner, PartitionParams          # doctest: +SKIP
>>> part = BandPartitioner(units, adjacency, PartitionParams(), cells=cells).solve()   # doctest: +SKIP
>>> part.labels_, part.report_.to_dict(), part.grid_polygons()                          # doctest: +SKIP
"""
from .errors import PartitionInputError
from .geometry import adjacency_from_cells, cell_measures, dissolve_grids
from .params import Band, PartitionParams, ZoneProfile, default_profiles
from .partitioner import BandPartitioner, Progress
from .quality import PlanQuality, plan_quality, worse_than
from .report import GridRow, PartitionReport, UnitChange

__all__ = [
    "BandPartitioner",
    "Band",
    "ZoneProfile",
    "PartitionParams",
    "default_profiles",
    "PartitionReport",
    "GridRow",
    "UnitChange",
    "PartitionInputError",
    "Progress",
    "PlanQuality",
    "plan_quality",
    "worse_than",
    "adjacency_from_cells",
    "cell_measures",
    "dissolve_grids",
]
