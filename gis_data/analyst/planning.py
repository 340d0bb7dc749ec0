"""What-if planning in memory: change households, rebalance the grids, read the report — nothing is written.

The store's buildings come as partition units through :func:`layers.partitioning.units_from_store` (cells,
block codes, neighbours across streets and arterials, the current grid of each building), exactly what the
planner's proposal runs on; here the units are changed in a copy and
:meth:`grid_partition.BandPartitioner.rebalance` is run on them, so an analyst sees which grids a housing
change would push out of band and what the minimal re-draw would be, before anyone proposes it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from gis_data.analyst.store import Store, using
from grid_partition import BandPartitioner, PartitionParams
from layers.partitioning import PartitionInput, units_from_store

__all__ = ["partition_input", "change_households", "WhatIf", "what_if_rebalance"]

log = logging.getLogger(__name__)


def partition_input(*, engine: Store = None) -> PartitionInput:
    """The store's buildings as partition units (metric CRS), with cells, adjacency and current grids."""
    with using(engine) as conn:
        return units_from_store(conn)


def change_households(
    inp: PartitionInput,
    *,
    codes: Sequence[str] | None = None,
    grid_code: str | None = None,
    add: int = 0,
    factor: float = 1.0,
) -> gpd.GeoDataFrame:
    """A copy of the units with the households of some buildings changed, and their people with them.

    Parameters
    ----------
    codes
        Building codes to change.
    grid_code
        Or: every building of this current grid.
    add, factor
        New households = ``round(households × factor + add)``, never below zero.

    Returns
    -------
    GeoDataFrame
        The units; changed buildings' population moves by their own people per household (the district's
        mean for a building that had no households), so both bands feel the change.

    Raises
    ------
    ValueError
        Neither or both of ``codes`` and ``grid_code``, or codes that name no building.
    """
    units = inp.units.copy()
    if (codes is None) == (grid_code is None):
        raise ValueError("give either codes or grid_code")
    if grid_code is not None:
        mask = (inp.current.reindex(units["unit_id"]).to_numpy() == grid_code)
    else:
        mask = units["code"].isin(list(codes)).to_numpy()
        if unknown := sorted(set(codes) - set(units["code"])):
            raise ValueError(f"no building with code(s) {unknown[:5]}")
    if not mask.any():
        raise ValueError(f"grid {grid_code!r} holds no building")
    hh = units["households"].to_numpy(np.float64)
    pop = units["population"].to_numpy(np.float64)
    mean = pop.sum() / hh.sum() if hh.sum() > 0 else 2.5
    per_hh = np.where(hh > 0, pop / np.where(hh > 0, hh, 1.0), mean)
    new_hh = np.where(mask, np.maximum(np.round(hh * factor + add), 0.0), hh)
    new_pop = np.where(mask, np.maximum(np.round(pop + (new_hh - hh) * per_hh), 0.0), pop)
    units["households"] = new_hh.astype(np.int64)
    units["population"] = new_pop.astype(np.int64)
    log.info("what-if: %d buildings changed, households %+d, people %+d", int(mask.sum()),
             int((new_hh - hh).sum()), int((new_pop - pop).sum()))
    return units


@dataclass
class WhatIf:
    """A rebalance run in memory.

    Attributes
    ----------
    partitioner
        The :class:`~grid_partition.BandPartitioner` after :meth:`rebalance` (``labels_``, ``report_``).
    summary
        The report's district figures (grids in band, units changed …).
    grids
        One row per new grid: zone, households, people, band flags, status (kept / adjusted / redrawn / new),
        figures before.
    changes
        The buildings that change grid: ``unit_id``, ``households``, ``grid_before``, ``grid_after``.
    """

    partitioner: BandPartitioner
    summary: dict
    grids: pd.DataFrame
    changes: pd.DataFrame

    def grid_polygons(self) -> gpd.GeoDataFrame:
        """The new grids as polygons (EPSG:4326), for a map."""
        return self.partitioner.grid_polygons().to_crs("EPSG:4326")


def what_if_rebalance(inp: PartitionInput, units: gpd.GeoDataFrame | None = None, *,
                      params: PartitionParams | None = None) -> WhatIf:
    """Rebalance the current grids for ``units`` (changed or not) with minimal change; nothing is written.

    Parameters
    ----------
    inp
        From :func:`partition_input`.
    units
        Changed units (:func:`change_households`); ``inp.units`` by default.
    params
        Bands and search effort; a lower ``repair_effort`` answers faster with fewer grids repaired.
    """
    units = inp.units if units is None else units
    part = BandPartitioner(units, inp.adjacency, params, cells=inp.cells).rebalance(inp.current)
    report = part.report_
    grids = pd.DataFrame([g.model_dump() for g in report.grids])
    changes = pd.DataFrame([c.model_dump() for c in report.changes],
                           columns=["unit_id", "households", "grid_before", "grid_after"])
    return WhatIf(part, report.summary(), grids, changes)
