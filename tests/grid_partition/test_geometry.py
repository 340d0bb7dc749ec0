"""Neighbours from a tessellation, and grid polygons that tile the district."""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, box

from grid_partition import BandPartitioner, PartitionInputError, adjacency_from_cells, dissolve_grids


def test_adjacency_kinds_and_borders():
    cells = gpd.GeoSeries([box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10), box(0, 10, 10, 20)],
                          index=[101, 102, 103, 104])
    arterial = gpd.GeoSeries([LineString([(20, -5), (20, 15)])])
    adj = adjacency_from_cells(cells, block_ids=[1, 1, 2, 3], arterials=arterial)
    rows = {(r.u, r.v): (r.kind, r.border_m) for r in adj.itertuples()}
    assert rows == {(101, 102): ("block", 10.0), (102, 103): ("arterial", 10.0), (101, 104): ("street", 10.0)}


def test_corner_contact_is_not_a_neighbour(lattice):
    units, cells, adj = lattice(2, 2, [1, 1, 1, 1])
    assert sorted(zip(adj["u"], adj["v"])) == [(0, 1), (0, 2), (1, 3), (2, 3)]


def test_adjacency_rejects_non_polygons():
    cells = gpd.GeoSeries([box(0, 0, 1, 1), LineString([(0, 0), (1, 1)])])
    with pytest.raises(PartitionInputError, match="position 1"):
        adjacency_from_cells(cells)


def test_dissolved_grids_tile_the_district(lattice):
    rng = np.random.default_rng(5)
    hh = rng.integers(5, 60, 12 * 12)
    units, cells, adj = lattice(12, 12, hh)
    part = BandPartitioner(units, adj, cells=cells).solve()
    polys = part.grid_polygons()
    assert len(polys) == part.report_.n_grids
    assert set(polys["grid_id"]) == set(part.labels_)
    geoms = np.asarray(polys.geometry.values)
    district = shapely.union_all(np.asarray(cells.values))
    assert all(shapely.is_valid(geoms))
    assert all(g.geom_type == "Polygon" for g in geoms)  # contiguous grids dissolve to one polygon each
    assert shapely.area(geoms).sum() == pytest.approx(district.area)  # no overlap ...
    assert shapely.union_all(geoms).area == pytest.approx(district.area)  # ... and no gap
    for i in range(len(geoms)):
        for j in range(i + 1, len(geoms)):
            assert shapely.intersection(geoms[i], geoms[j]).area == pytest.approx(0.0, abs=1e-6)


def test_polsby_popper_of_a_square_grid(lattice):
    units, cells, adj = lattice(2, 2, [90, 90, 90, 90])  # one outer grid of 360 households
    rep = BandPartitioner(units, adj).solve().report_
    assert rep.n_grids == 1
    assert rep.grids[0].polsby_popper == pytest.approx(math.pi / 4, abs=1e-4)


def test_dissolve_checks_lengths():
    cells = gpd.GeoSeries([box(0, 0, 1, 1)])
    with pytest.raises(PartitionInputError, match="2 values for 1 cells"):
        dissolve_grids(cells, ["a", "b"])


def test_polygons_need_a_solution_first(lattice):
    units, cells, adj = lattice(1, 2, [180, 180])
    with pytest.raises(RuntimeError, match="solve"):
        BandPartitioner(units, adj).grid_polygons()


def test_overlapping_cells_still_dissolve():
    # two buildings whose points coincide share one cell (GEOS' coverage union refuses that), and two that overlap
    cells = gpd.GeoSeries([box(0, 0, 1, 1), box(0, 0, 1, 1), box(1, 0, 3, 1), box(2, 0, 4, 1)], crs="EPSG:4547")
    out = dissolve_grids(cells, np.array([7, 7, 7, 8]))
    assert list(out["grid_id"]) == [7, 8]
    assert out.geometry.iloc[0].area == pytest.approx(3.0) and out.geometry.iloc[0].is_valid
