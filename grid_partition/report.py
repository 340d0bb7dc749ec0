"""The partition report: per-grid rows, district figures and, for a rebalance, the before/after diff.

Field names follow gridbench's ``evaluate.py`` (``share_grids_within_bounds``, ``all_contiguous``,
``mean_polsby_popper``, ``changed_units_share`` …) so the two can be compared one to one, and they are computed
the same way: a grid's zone is the zone holding most of its households (most of its units when it has none, the
first profile on a tie); compactness is Polsby–Popper of the dissolved cells, from cell areas, outline lengths and
shared borders; the change against a previous plan matches every new grid to at most one old grid so that the
overlap is largest, and counts the units whose grid is not their old grid's match.
"""
from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .graph import EDGE_KINDS, UnitGraph
from .seeding import Bands

__all__ = ["GridRow", "UnitChange", "PartitionReport", "grid_zones", "grid_components", "match_grids",
           "polsby_popper", "band_flags", "band_violation", "miss_reason", "cut_inside_blocks", "changed_shares"]


class GridRow(BaseModel):
    """One grid of the result."""

    model_config = ConfigDict(extra="forbid")

    grid_id: str
    zone: str
    n_units: int
    households: float
    population: float
    households_ok: bool
    population_ok: bool
    in_band: bool
    infeasible: bool = False
    reason: str | None = None
    contiguous: bool = True
    polsby_popper: float | None = None
    crosses_arterial: bool = False
    status: str | None = None  # rebalance: kept / adjusted / redrawn / new
    households_before: float | None = None
    population_before: float | None = None
    in_band_before: bool | None = None
    units_gained: int | None = None
    units_lost: int | None = None


class UnitChange(BaseModel):
    """A unit that changed grid in a rebalance."""

    model_config = ConfigDict(extra="forbid")

    unit_id: int | str
    households: float
    grid_before: str
    grid_after: str


class PartitionReport(BaseModel):
    """What the partitioner produced and how good it is.

    ``to_dict()`` gives a JSON-ready dictionary.  ``share_out_of_band_explained`` is the share of out-of-band grids
    that carry a proven cause (``infeasible``), each an exact argument (:mod:`grid_partition.feasibility`): a unit
    over the band on its own; an isolated pocket whose totals no whole number of grids can hold; a unit that fits
    in no in-band group of its neighbours; or a unit whose every in-band group would leave a neighbour in none,
    where this grid is the only one out of band among those concerned.  The others are listed with
    ``infeasible = False`` (counted in ``n_unresolved``) and the band they miss in ``reason``.

    For a rebalance, ``changed_units_share`` and ``changed_households_share`` are computed exactly as gridbench's
    scorer does; ``changes`` lists every unit whose grid name changed, and each grid row carries its totals before
    and after.  Where several one-to-one matchings of new to old grids tie, the list may differ from the scorer's
    choice by households, never by the number of units.
    """

    model_config = ConfigDict(extra="forbid")

    mode: str
    n_units: int
    n_grids: int
    n_grids_by_zone: dict[str, int]
    share_grids_within_bounds: float
    share_grids_hh_ok: float
    share_grids_pop_ok: float
    share_households_in_ok_grids: float
    n_out_of_band: int
    n_infeasible: int
    n_unresolved: int
    share_out_of_band_explained: float
    all_contiguous: bool
    n_noncontiguous_grids: int
    mean_polsby_popper: float | None
    median_polsby_popper: float | None
    p10_polsby_popper: float | None
    share_cut_border_inside_blocks: float
    n_grids_crossing_arterial: int
    runtime_seconds: float
    changed_units_share: float | None = None
    changed_households_share: float | None = None
    n_changed_units: int | None = None
    n_changed_households: float | None = None
    n_grids_before: int | None = None
    n_grids_kept: int | None = None
    n_grids_redrawn: int | None = None
    grids: list[GridRow]
    changes: list[UnitChange] = []

    def to_dict(self) -> dict:
        """JSON-ready dictionary of the whole report."""
        return self.model_dump(mode="json")

    def summary(self) -> dict:
        """The district figures only (no per-grid rows, no unit changes)."""
        return self.model_dump(mode="json", exclude={"grids", "changes"})


def grid_zones(labels: np.ndarray, hh: np.ndarray, zone: np.ndarray, n_grids: int, n_zones: int) -> np.ndarray:
    """Zone of every grid: the zone with most households, most units when it has none; ties go to the first."""
    zh = np.zeros((n_grids, n_zones))
    zn = np.zeros((n_grids, n_zones))
    np.add.at(zh, (labels, zone), hh)
    np.add.at(zn, (labels, zone), 1.0)
    has = zh.sum(axis=1) > 0
    return np.where(has, np.argmax(zh, axis=1), np.argmax(zn, axis=1))


def grid_components(graph: UnitGraph, labels: np.ndarray, n_grids: int) -> np.ndarray:
    """Number of connected pieces of every grid."""
    same = labels[graph.u] == labels[graph.v]
    g = coo_matrix((np.ones(same.sum()), (graph.u[same], graph.v[same])), shape=(graph.n, graph.n))
    _, comp = connected_components(g, directed=False)
    pairs = np.unique(np.c_[labels, comp], axis=0)
    return np.bincount(pairs[:, 0], minlength=n_grids)


def polsby_popper(graph: UnitGraph, labels: np.ndarray, n_grids: int, area: np.ndarray | None,
                  ext: np.ndarray | None) -> np.ndarray:
    """Polsby–Popper ``4πA/P²`` of every grid from cell areas, outline lengths and the cut shared borders."""
    if area is None or ext is None:
        return np.full(n_grids, np.nan)
    cut = labels[graph.u] != labels[graph.v]
    a = np.bincount(labels, area, n_grids)
    per = (np.bincount(labels, ext, n_grids) + np.bincount(labels[graph.u[cut]], graph.border[cut], n_grids)
           + np.bincount(labels[graph.v[cut]], graph.border[cut], n_grids))
    return np.where(per > 0, 4 * math.pi * a / np.maximum(per, 1e-9) ** 2, 0.0)


def match_grids(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Match every new grid to at most one old grid so that the total overlap (in units) is largest.

    Solved exactly on each connected piece of the overlap graph, which is small for a rebalance.

    Returns
    -------
    ndarray
        ``match[new_grid]`` = old grid code, or ``-1``.
    """
    nn, no = int(new.max()) + 1, int(old.max()) + 1
    ov = coo_matrix((np.ones(len(new)), (new, old)), shape=(nn, no)).tocsr()
    ov.sum_duplicates()
    coo = ov.tocoo()
    bip = coo_matrix((np.ones(len(coo.data)), (coo.row, coo.col + nn)), shape=(nn + no, nn + no))
    ncomp, comp = connected_components(bip, directed=False)
    match = np.full(nn, -1, dtype=np.int64)
    order = np.argsort(comp, kind="stable")
    cuts = np.searchsorted(comp[order], np.arange(ncomp + 1))
    for c in range(ncomp):
        nodes = order[cuts[c]:cuts[c + 1]]
        rows, cols = nodes[nodes < nn], nodes[nodes >= nn] - nn
        if len(rows) == 0 or len(cols) == 0:
            continue
        if len(rows) == 1 and len(cols) == 1:
            match[rows[0]] = cols[0]
            continue
        dense = ov[rows][:, cols].toarray()
        r, k = linear_sum_assignment(dense, maximize=True)
        match[rows[r]] = cols[k]
    return match


def changed_shares(new_names: np.ndarray, old_names: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Share of units and of ``weights`` whose grid changed, computed exactly as gridbench's scorer does.

    Grids are matched one to one on the overlap matrix whose rows and columns are the sorted grid names (a dense
    assignment up to 3e7 cells, a sparse one beyond), so that where several matchings tie the same one is picked
    and the household share agrees to the last digit.
    """
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    nl, ni = np.unique(new_names.astype(str), return_inverse=True)
    ol, oi = np.unique(old_names.astype(str), return_inverse=True)
    ov = coo_matrix((np.ones(len(ni)), (ni, oi)), shape=(len(nl), len(ol))).tocsr()
    ov.sum_duplicates()
    if len(nl) * len(ol) <= 3e7:
        r, c = linear_sum_assignment(ov.toarray(), maximize=True)
    else:
        big = ov.max() + 1.0
        cost = ov.copy()
        cost.data = big - cost.data
        try:
            r, c = min_weight_full_bipartite_matching(cost)
        except ValueError:  # no full matching: greedy by overlap, as the scorer does
            coo = ov.tocoo()
            ur, uc, rr, cc = set(), set(), [], []
            for k in np.argsort(-coo.data):
                if coo.row[k] not in ur and coo.col[k] not in uc:
                    ur.add(coo.row[k])
                    uc.add(coo.col[k])
                    rr.append(coo.row[k])
                    cc.append(coo.col[k])
            r, c = np.array(rr), np.array(cc)
    match = np.full(len(nl), -1)
    match[r] = c
    changed = match[ni] != oi
    return float(changed.mean()), float((weights * changed).sum() / max(weights.sum(), 1))


def band_flags(H: np.ndarray, P: np.ndarray, z: np.ndarray, bands: Bands) -> tuple[np.ndarray, np.ndarray]:
    """Households-in-band and population-in-band flags for grids of zones ``z``."""
    hok = (H >= bands.lo_h[z]) & (H <= bands.hi_h[z])
    pok = (P >= bands.lo_p[z]) & (P <= bands.hi_p[z])
    return hok, pok


def band_violation(H: np.ndarray, P: np.ndarray, z: np.ndarray, bands: Bands) -> np.ndarray:
    """How far grids of zones ``z`` with totals ``H``, ``P`` lie outside their bands, as a share of the band edge
    they miss (0 inside; 1.0 is a grid twice its cap, or an empty one), the worse of households and population."""
    vh = np.maximum((bands.lo_h[z] - H) / np.maximum(bands.lo_h[z], 1e-9), (H - bands.hi_h[z]) / bands.hi_h[z])
    vp = np.maximum((bands.lo_p[z] - P) / np.maximum(bands.lo_p[z], 1e-9), (P - bands.hi_p[z]) / bands.hi_p[z])
    return np.maximum(np.maximum(vh, vp), 0.0)


def miss_reason(H: float, P: float, zname: str, lo_h: float, hi_h: float, lo_p: float, hi_p: float) -> str:
    """Say which band a grid misses and by how much."""
    parts = []
    if H < lo_h:
        parts.append(f"{H:.0f} households below the {zname} floor of {lo_h:.0f}")
    elif H > hi_h:
        parts.append(f"{H:.0f} households above the {zname} cap of {hi_h:.0f}")
    if P < lo_p:
        parts.append(f"{P:.0f} people below the {zname} floor of {lo_p:.0f}")
    elif P > hi_p:
        parts.append(f"{P:.0f} people above the {zname} cap of {hi_p:.0f}")
    return "; ".join(parts)


def cut_inside_blocks(graph: UnitGraph, labels: np.ndarray) -> float:
    """Share of the grid boundary length (inside the district) that cuts through blocks instead of streets."""
    cut = labels[graph.u] != labels[graph.v]
    total = float(graph.border[cut].sum())
    inside = float(graph.border[cut & (graph.kind == EDGE_KINDS.index("block"))].sum())
    return inside / total if total > 0 else 0.0
