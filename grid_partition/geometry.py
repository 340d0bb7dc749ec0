"""Geometry around the partition: neighbours from a tessellation, cell measures, grid polygons.

Grid polygons are dissolved from a tessellation of the units (for example Voronoi cells of buildings clipped to
blocks or to the district), never from hulls, so the grids of a district tile it with no gap and no overlap.
"""
from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import PartitionInputError
from .graph import UnitGraph, _show

__all__ = ["adjacency_from_cells", "cell_measures", "dissolve_grids"]

log = logging.getLogger(__name__)


def _geoms(cells: gpd.GeoSeries | gpd.GeoDataFrame, what: str) -> np.ndarray:
    geoms = np.asarray(cells.geometry.values if isinstance(cells, gpd.GeoDataFrame) else cells.values)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if bad.any():
        raise PartitionInputError(f"{what}: cell at position {int(np.flatnonzero(bad)[0])} "
                                  f"(index {_show(cells.index[int(np.flatnonzero(bad)[0])])}) is empty")
    kinds = shapely.get_type_id(geoms)
    if not np.isin(kinds, (3, 6)).all():  # Polygon, MultiPolygon
        i = int(np.flatnonzero(~np.isin(kinds, (3, 6)))[0])
        raise PartitionInputError(f"{what}: cell at position {i} (index {_show(cells.index[i])}) is a "
                                  f"{shapely.get_type_id(geoms[i])} geometry, not a polygon")
    return geoms


def adjacency_from_cells(cells: gpd.GeoSeries, block_ids=None, arterials: gpd.GeoSeries | None = None, *,
                         min_border_m: float = 0.01) -> pd.DataFrame:
    """Derive unit neighbours from a tessellation of the units.

    Two cells are neighbours when their boundaries share a line at least ``min_border_m`` long (corners do not
    count).  The kind says what the shared border crosses: ``'block'`` when both cells lie in the same block,
    otherwise ``'arterial'`` when the segment joining the two cells' inner points crosses an arterial line, and
    ``'street'`` for any other border between blocks.

    Parameters
    ----------
    cells
        One polygon per unit; its index holds the unit ids written to ``u`` and ``v``.
    block_ids
        Block code of every cell (same order), or ``None`` when blocks are unknown (every border is then a
        ``'street'`` unless it crosses an arterial).
    arterials
        Arterial centre lines, or ``None``.

    Returns
    -------
    DataFrame
        Columns ``u``, ``v`` (unit ids, ``u`` before ``v`` in the cells' order), ``kind`` and ``border_m`` (length
        of the shared border in CRS units).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = gpd.GeoSeries([box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], index=[10, 11, 12])
    >>> adjacency_from_cells(cells, block_ids=[1, 1, 2])[["u", "v", "kind"]].values.tolist()
    [[10, 11, 'block'], [11, 12, 'street']]
    """
    geoms = _geoms(cells, "cells")
    n = len(geoms)
    if block_ids is not None:
        block_ids = np.asarray(block_ids)
        if len(block_ids) != n:
            raise PartitionInputError(f"block_ids has {len(block_ids)} values for {n} cells")
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="intersects")
    m = i < j
    i, j = i[m], j[m]
    bnd = shapely.boundary(geoms)
    shared = shapely.intersection(bnd[i], bnd[j])
    length = shapely.length(shared)
    keep = length >= min_border_m
    i, j, length = i[keep], j[keep], length[keep]
    kind = np.full(len(i), "street", dtype=object)
    if block_ids is not None:
        kind[block_ids[i] == block_ids[j]] = "block"
    if arterials is not None and len(arterials) and len(i):
        art = shapely.union_all(np.asarray(arterials.values))
        shapely.prepare(art)
        cand = np.flatnonzero(kind != "block")
        pts = shapely.point_on_surface(geoms)
        segs = shapely.linestrings(np.stack([shapely.get_coordinates(pts[i[cand]]),
                                             shapely.get_coordinates(pts[j[cand]])], axis=1))
        kind[cand[shapely.intersects(segs, art)]] = "arterial"
    idx = np.asarray(cells.index)
    return pd.DataFrame({"u": idx[i], "v": idx[j], "kind": kind.astype(str), "border_m": length})


def cell_measures(cells: gpd.GeoSeries, graph: UnitGraph) -> tuple[np.ndarray, np.ndarray]:
    """Area of every cell and the length of its boundary that no neighbour shares (the district outline).

    Together with the shared border lengths of the adjacency they give every grid's area and perimeter, hence
    its Polsby–Popper compactness, without dissolving polygons.
    """
    geoms = _geoms(cells, "cells")
    if len(geoms) != graph.n:
        raise PartitionInputError(f"cells has {len(geoms)} polygons for {graph.n} units")
    area = shapely.area(geoms)
    per = shapely.length(geoms)
    inc = np.bincount(graph.u, graph.border, graph.n) + np.bincount(graph.v, graph.border, graph.n)
    ext = np.maximum(per - inc, 0.0)
    ext[ext < 0.05] = 0.0
    return area, ext


def dissolve_grids(cells: gpd.GeoSeries, labels) -> gpd.GeoDataFrame:
    """Dissolve unit cells into one polygon per grid.

    Uses shapely's coverage union (fast, exact on a tessellation whose neighbours share vertices) and falls back
    to a plain union for a grid whose coverage union does not keep the cells' area.

    Parameters
    ----------
    cells
        One polygon per unit, in the same order as ``labels``.
    labels
        Grid id of every unit.

    Returns
    -------
    GeoDataFrame
        ``grid_id`` and ``geometry``, one row per grid, in the CRS of ``cells``.
    """
    geoms = _geoms(cells, "cells")
    labels = np.asarray(labels)
    if len(labels) != len(geoms):
        raise PartitionInputError(f"labels has {len(labels)} values for {len(geoms)} cells")
    codes, inv = np.unique(labels, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    cuts = np.searchsorted(inv[order], np.arange(len(codes) + 1))
    area = shapely.area(geoms)
    out = np.empty(len(codes), dtype=object)
    fallback = 0
    for k in range(len(codes)):
        part = geoms[order[cuts[k]:cuts[k + 1]]]
        try:  # fast where the cells form a clean coverage; cells that overlap (shared or drawn) go the slow way
            g = shapely.coverage_union_all(part)
        except shapely.errors.GEOSException:
            g = None
        want = area[order[cuts[k]:cuts[k + 1]]].sum()
        if g is None or not g.is_valid or abs(g.area - want) > 1e-6 * max(want, 1.0):
            g = shapely.union_all(part)
            fallback += 1
        out[k] = g
    if fallback:
        log.debug("dissolve: plain union for %d of %d grids", fallback, len(codes))
    return gpd.GeoDataFrame({"grid_id": codes}, geometry=list(out), crs=getattr(cells, "crs", None))
