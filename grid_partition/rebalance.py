"""Rebalance: bring an existing plan back into band while changing as few units as possible.

Stages (each logged with the grids still out of band):

1. Units without a current grid join the neighbouring grid they share most border with; a tower sharing a grid
   becomes a grid of its own; a grid in pieces keeps its largest piece and gives the others to neighbours.
2. Grids in band are frozen.  An out-of-band grid holding enough for two or more grids is cut into that many
   with the band-aware bisection (its largest part keeps its id).
3. The local search moves units among the unfrozen grids only, with a penalty on every unit leaving its grid.
4. Clusters of out-of-band grids are re-cut and annealed among themselves, kept only when fewer grids stay out
   of band (the try moving the fewest units wins).
5. Up to ``neighbour_rings`` times: the in-band neighbours of grids still out of band are unfrozen, and the local
   search and the re-draws run again, so only as many neighbours as needed are touched.
6. Every moved unit whose return to its grid keeps every grid as in band as before goes back.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from .repair import fix_contiguity, neighbour_grids
from .report import grid_zones, match_grids
from .seeding import Region, best_k, plan_regions, split_units

if TYPE_CHECKING:  # pragma: no cover
    from .partitioner import BandPartitioner, _Problem

__all__ = ["rebalance_labels"]

log = logging.getLogger(__name__)


def _changed(labels: np.ndarray, prev: np.ndarray) -> float:
    match = match_grids(labels, prev)
    return float((match[labels] != prev).mean())


def _stage(what: str, n_bad: int, labels: np.ndarray, start: np.ndarray) -> None:
    """Log a stage with the grids still out of band and the share of units moved so far."""
    if log.isEnabledFor(logging.INFO):
        log.info("rebalance: %s: %d grids out of band, %.1f%% of units moved", what, n_bad,
                 100 * _changed(labels, start))


def rebalance_labels(bp: "BandPartitioner", pb: "_Problem", prev: np.ndarray
                     ) -> tuple[np.ndarray, list[Region], np.ndarray]:
    """Run the rebalance stages on ``prev`` (grid code of every unit, ``-1`` = none).

    Returns
    -------
    labels, regions, region_of
        New grid codes (``0..G-1``) and the regions used to explain isolated pockets.
    """
    p = bp.params
    g, t, towers = pb.g, pb.t, pb.towers
    movable = ~towers[g.u] & ~towers[g.v] & (t.zone[g.u] == t.zone[g.v])
    labels = bp._attach_missing(g, prev.copy(), movable)
    cnt = np.bincount(labels)
    lone = towers & (cnt[labels] > 1)
    labels[lone] = labels.max() + 1 + np.arange(int(lone.sum()))
    labels = fix_contiguity(g, labels, movable, towers)
    G = int(labels.max()) + 1
    gz = grid_zones(labels, t.households, t.zone, G, len(t.zone_names))
    R = bp._refiner(pb, labels, gz, movable, home=None)
    tower_grid = np.zeros(R.n_grids, bool)
    tower_grid[R.labels[towers]] = True
    inb = R.in_band()
    live = R.cnt > 0
    log.info("rebalance: %d of %d grids in band at the start", int((inb & live).sum()), int(live.sum()))
    bp._tick(0.2, f"{int((inb & live).sum())} of {int(live.sum())} grids already in band")

    adj = g.matrix(movable)
    n_split = 0
    for gi in np.flatnonzero(~inb & (R.cnt > 1) & ~tower_grid):
        z = int(R.zone[gi])
        if R.H[gi] <= pb.bands.hi_h[z] and R.P[gi] <= pb.bands.hi_p[z]:
            continue
        k, _ = best_k(R.H[gi], R.P[gi], pb.bands, z)
        if k < 2:
            continue
        parts = split_units(np.flatnonzero(R.labels == gi), k, t.households, t.population, t.xy, adj,
                            bp._band(pb, z))
        parts.sort(key=lambda q: -t.households[q].sum())
        new = R.add_grids(np.full(len(parts) - 1, z))
        for part, gid in zip(parts[1:], new):
            R.assign(part, int(gid))
        n_split += 1
    R.home = R.labels.copy()

    def pad(x: np.ndarray) -> np.ndarray:
        return np.r_[x, np.zeros(R.n_grids - len(x), bool)]

    def bad_grids() -> np.ndarray:
        return np.flatnonzero(~R.in_band() & (R.cnt > 0) & ~pad(tower_grid))

    R.frozen = pad(inb | tower_grid)
    _stage(f"split {n_split} over-full grids", len(bad_grids()), R.labels, labels)
    bp._tick(0.3, "moving units between out-of-band grids")
    R.run(max_rounds=p.max_rounds)
    _stage("local search among out-of-band grids", len(bad_grids()), R.labels, labels)
    regions, region_of = plan_regions(g, t.households, t.population, t.zone, pb.bands, towers,
                                      len(t.zone_names))
    skip = bp._skip_grids(R, pb, regions, region_of)
    bp._tick(0.4, "re-drawing out-of-band grids among themselves")
    bp._repair(R, pb, movable, adj, skip, allow=~R.frozen, strict=True)
    _stage("re-draws among out-of-band grids", len(bad_grids()), R.labels, labels)
    for ring in range(p.neighbour_rings):
        bad = np.array([b for b in bad_grids() if int(b) not in skip], dtype=np.int64)
        if len(bad) == 0:
            break
        nb = neighbour_grids(R, bad, movable)
        nb = nb[~pad(tower_grid)[nb] & R.frozen[nb]]
        if len(nb) == 0:
            break
        R.frozen[nb] = False
        bp._tick(0.5 + 0.2 * ring, f"drawing in ring {ring + 1}: {len(nb)} neighbour grids")
        R.run(max_rounds=p.max_rounds)
        bp._repair(R, pb, movable, adj, skip, allow=~R.frozen, strict=True)
        _stage(f"ring {ring + 1} ({len(nb)} grids drawn in)", len(bad_grids()), R.labels, labels)
    n_back = _revert(R, movable)
    _stage(f"{n_back} units went back to their grid", len(bad_grids()), R.labels, labels)
    return fix_contiguity(g, R.labels, movable, towers), regions, region_of


def _revert(R, movable: np.ndarray) -> int:
    """Send moved units back to their grid wherever no grid leaves the band by it and both stay contiguous."""
    g = R.g
    nbl = R.nbl
    mov = movable
    back = 0
    changed = True
    while changed:
        changed = False
        for u in np.flatnonzero(R.labels != R.home).tolist():
            a, h = int(R.labels[u]), int(R.home[u])
            if R.cnt[a] <= 1 or R.frozen[h] or not any(
                    R.labels[v] == h and mov[g.edge_of[e]]
                    for e, v in zip(range(g.indptr[u], g.indptr[u + 1]), nbl[u])):
                continue
            hu, pu = R.hh[u], R.pop[u]
            ina_before, inh_before = R.in_band(np.array([a, h]))
            R.H[a] -= hu
            R.P[a] -= pu
            R.H[h] += hu
            R.P[h] += pu
            ina, inh = R.in_band(np.array([a, h]))
            ok = (ina or not ina_before) and (inh or not inh_before) and (ina + inh >= ina_before + inh_before)
            R.H[a] += hu
            R.P[a] += pu
            R.H[h] -= hu
            R.P[h] -= pu
            if ok and R.can_remove(u, a):
                R.set_labels(np.array([u]), np.array([h]))
                back += 1
                changed = True
    return back
