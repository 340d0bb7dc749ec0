"""Read gridbench GeoPackages for the partitioner and write the assignment CSV its scorer reads.

gridbench (``make_city.py``) writes layers ``units`` (unit_id, hh, pop, inner 1/0, block_id, hh_prev, grid_prev,
…), ``cells`` (unit_id + Voronoi cell, tiling the district) and ``adjacency`` (u, v, kind, border_m).  A
GeoPackage with only a units layer also works: neighbours are then derived from the unit polygons.

``run_partition_file`` is what ``gridwall partition UNITS.gpkg --out assignment.csv [--rebalance]
[--report report.json]`` calls.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from grid_partition import (
    BandPartitioner,
    PartitionInputError,
    PartitionParams,
    PartitionReport,
    Progress,
    adjacency_from_cells,
)

__all__ = ["GridbenchDistrict", "read_gridbench", "write_assignment_csv", "run_partition_file"]

log = logging.getLogger(__name__)


@dataclass
class GridbenchDistrict:
    """A gridbench district in the partitioner's terms.

    ``units`` has ``unit_id``, ``households``, ``population``, ``zone`` ('inner'/'outer'), plus ``block_id``,
    ``hh_prev`` and ``grid_prev`` when the file has them; ``cells`` is aligned with ``units``.
    """

    units: gpd.GeoDataFrame
    cells: gpd.GeoSeries
    adjacency: pd.DataFrame


def read_gridbench(path: str | Path) -> GridbenchDistrict:
    """Read a gridbench GeoPackage (layers ``units``, ``cells``, ``adjacency``).

    Raises
    ------
    PartitionInputError
        When the units layer lacks ``unit_id``, ``hh``, ``pop`` or ``inner``, or a cell names an unknown unit.
    """
    path = str(path)
    layers = [name for name, _ in pyogrio.list_layers(path)]
    ulayer = "units" if "units" in layers else layers[0]
    raw = pyogrio.read_dataframe(path, layer=ulayer, use_arrow=True)
    missing = [c for c in ("unit_id", "hh", "pop", "inner") if c not in raw.columns]
    if missing:
        raise PartitionInputError(f"{path}: layer '{ulayer}' is missing column(s) {missing}")
    raw = raw.sort_values("unit_id").reset_index(drop=True)
    units = gpd.GeoDataFrame({
        "unit_id": raw["unit_id"].to_numpy(np.int64),
        "households": raw["hh"].to_numpy(float),
        "population": raw["pop"].to_numpy(float),
        "zone": np.where(raw["inner"].to_numpy() == 1, "inner", "outer"),
    }, geometry=raw.geometry.values, crs=raw.crs)
    for col in ("block_id", "hh_prev", "grid_prev"):
        if col in raw.columns:
            units[col] = raw[col].to_numpy()
    if "cells" in layers:
        c = pyogrio.read_dataframe(path, layer="cells", use_arrow=True)
        pos = pd.Index(units["unit_id"]).get_indexer(c["unit_id"].to_numpy())
        if (pos < 0).any() or len(c) != len(units):
            raise PartitionInputError(f"{path}: layer 'cells' does not hold exactly one cell per unit")
        geoms = np.empty(len(units), dtype=object)
        geoms[pos] = np.asarray(c.geometry.values)
        cells = gpd.GeoSeries(geoms, index=units.index, crs=c.crs)
    else:
        cells = units.geometry
    if "adjacency" in layers:
        adj = pyogrio.read_dataframe(path, layer="adjacency", read_geometry=False, use_arrow=True)
    else:
        log.info("%s has no adjacency layer: deriving neighbours from the cells", path)
        adj = adjacency_from_cells(gpd.GeoSeries(cells.values, index=units["unit_id"].to_numpy()),
                                   units["block_id"].to_numpy() if "block_id" in units else None)
    return GridbenchDistrict(units=units, cells=cells, adjacency=adj)


def write_assignment_csv(labels: pd.Series, path: str | Path) -> None:
    """Write ``unit_id,grid_id`` rows (``labels`` is indexed by unit id)."""
    pd.DataFrame({"unit_id": labels.index.to_numpy(), "grid_id": labels.to_numpy()}).to_csv(path, index=False)


def run_partition_file(units_path: str | Path, out_csv: str | Path, *, rebalance: bool = False,
                       report_path: str | Path | None = None, progress: Progress | None = None,
                       params: PartitionParams | None = None) -> PartitionReport:
    """Partition (or rebalance) a gridbench GeoPackage and write the assignment CSV and, optionally, the report.

    Parameters
    ----------
    units_path
        GeoPackage with a ``units`` layer (and ideally ``cells`` and ``adjacency``).
    out_csv
        Where to write ``unit_id,grid_id``.
    rebalance
        Start from the units' ``grid_prev`` column and change as little as possible.
    report_path
        Where to write the report as JSON.
    progress
        ``progress(fraction, message)`` callback.

    Returns
    -------
    PartitionReport
    """
    d = read_gridbench(units_path)
    part = BandPartitioner(d.units, d.adjacency, params, cells=d.cells, progress=progress)
    if rebalance:
        if "grid_prev" not in d.units:
            raise PartitionInputError(f"{units_path}: --rebalance needs a 'grid_prev' column in the units layer")
        part.rebalance(pd.Series(d.units["grid_prev"].to_numpy(), index=d.units["unit_id"].to_numpy()))
    else:
        part.solve()
    write_assignment_csv(part.labels_, out_csv)
    if report_path is not None:
        Path(report_path).write_text(json.dumps(part.report_.to_dict(), ensure_ascii=False))
    return part.report_
