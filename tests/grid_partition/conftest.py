"""Tiny hand-checkable districts: square cells on a lattice, row by row."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from grid_partition import adjacency_from_cells

__all__: list[str] = []


def _lattice(rows: int, cols: int, hh, pop=None, zone="outer", blocks=None, size: float = 100.0):
    """Units on a ``rows`` x ``cols`` lattice of square cells (unit ``r * cols + c`` at row r, column c).

    Returns units (GeoDataFrame, geometry = the cell), cells (GeoSeries indexed by unit id) and adjacency.
    """
    n = rows * cols
    hh = np.asarray(hh, dtype=float)
    pop = hh * 2.5 if pop is None else np.asarray(pop, dtype=float)
    cells = gpd.GeoSeries([box(c * size, -r * size, (c + 1) * size, -(r - 1) * size)
                           for r in range(rows) for c in range(cols)], index=np.arange(n), crs="EPSG:4547")
    zones = [zone] * n if isinstance(zone, str) else list(zone)
    units = gpd.GeoDataFrame({"unit_id": np.arange(n), "households": hh, "population": pop, "zone": zones},
                             geometry=cells.values, crs="EPSG:4547")
    adj = adjacency_from_cells(cells, block_ids=np.zeros(n, int) if blocks is None else blocks)
    return units, cells, adj


def _groups(labels: pd.Series) -> set[frozenset]:
    """The partition as a set of unit-id sets (ignores grid names)."""
    return {frozenset(idx) for idx in labels.groupby(labels).groups.values()}


@pytest.fixture
def lattice():
    """Factory ``lattice(rows, cols, hh, pop=None, zone="outer", blocks=None)`` -> units, cells, adjacency."""
    return _lattice


@pytest.fixture
def groups():
    """``groups(labels)``: the partition as a set of unit-id sets."""
    return _groups


@pytest.fixture
def strip6():
    """Six outer units in a row, 180 households each: three grids of two fit the band."""
    return _lattice(1, 6, [180, 180, 180, 180, 180, 180])


@pytest.fixture
def lattice_unique():
    """A 2 x 3 lattice whose only in-band partition is {1}, {0, 3}, {2, 4, 5} (found by brute force)."""
    return _lattice(2, 3, [120, 300, 100, 250, 200, 60])
