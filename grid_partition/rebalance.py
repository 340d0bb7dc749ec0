"""Rebalance: bring an existing plan back into band while changing as few units as possible.

Stages (each logged with the grids still out of band):

1. Units without a current grid join the neighbouring grid they share most border with; a tower sharing a grid
   becomes a grid of its own, and so does each connected group of units proven to fit in no in-band grid; a grid in
   pieces keeps its largest piece and gives the others to neighbours.
2. Grids in band are frozen.  An out-of-band grid holding enough for two or more grids is cut into that many
   with the band-aware bisection (its largest part keeps its id).
3. The local search moves units among the unfrozen grids only, with a penalty on every unit leaving its grid.
4. Clusters of out-of-band grids are re-cut and annealed among themselves, kept only when fewer grids stay out
   of band (the try moving the fewest units wins).
5. Up to ``neighbour_rings`` times: the in-band neighbours of grids still out of band are unfrozen, and the local
   search and the re-draws run again, so only as many neighbours as needed are touched.
6. Every moved unit whose return to its old grid (the new grid matched to it, as the scorer matches them) keeps
   every grid as in band as before goes back.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from .graph import components
from .repair import fix_contiguity, neighbour_grids
from .report import grid_zones, match_grids
from .seeding import Region, best_k, plan_regions, split_units

if TYPE_CHECKING:  # pragma: no cover
    from .partitioner import BandPartitioner, _Problem

__all__ = ["rebalance_labels", "moved_share"]

log = logging.getLogger(__name__)


def moved_share(labels: np.ndarray, prev: np.ndarray) -> float:
    """Share of units whose grid is not the one matched to their old grid (one to one, most overlap)."""
    match = match_grids(labels, prev)
    return float((match[labels] != prev).mean())


def _stage(what: str, n_bad: int, labels: np.ndarray, start: np.ndarray) -> None:
    """Log a stage with the grids still out of band and the share of units moved so far."""
    if log.isEnabledFor(logging.INFO):
        log.info("rebalance: %s: %d grids out of band, %.1f%% of units moved", what, n_bad,
                 100 * moved_share(labels, start))


def rebalance_labels(bp: "BandPartitioner", pb: "_Problem", prev: np.ndarray
                     ) -> tuple[np.ndarray, list[Region], np.ndarray, int]:
    """Run the rebalance stages on ``prev`` (grid code of every unit, ``-1`` = none).

    Returns
    -------
    labels, regions, region_of, n_open
        New grid codes (``0..G-1``), the regions used to explain isolated pockets, and how many grids are still
        out of band that the rebalance could have re-drawn (towers, units fitting no in-band grid and isolated
        pockets aside).
    """
    p = bp.params
    g, t = pb.g, pb.t
    dead = bp._dead_units(pb)
    towers = pb.towers | dead
    movable = ~towers[g.u] & ~towers[g.v] & (t.zone[g.u] == t.zone[g.v])
    labels = bp._attach_missing(g, prev.copy(), movable)
    orig = labels.copy()
    cnt = np.bincount(labels)
    lone = pb.towers & (cnt[labels] > 1)
    labels[lone] = labels.max() + 1 + np.arange(int(lone.sum()))
    if dead.any():  # units that fit in no in-band grid: each connected group of them becomes one grid
        _, comp = components(g, node_mask=dead)
        for c in np.unique(comp[dead]):
            members = np.flatnonzero(comp == c)
            if (labels == labels[members[0]]).sum() != len(members) or len(set(labels[members].tolist())) > 1:
                labels[members] = labels.max() + 1
    labels = fix_contiguity(g, labels, movable, towers)
    pb = replace(pb, towers=towers)
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
        # the next ring out: frozen grids next to the bad grids or to the unfrozen grids around them
        near = bad
        nb = np.zeros(0, np.int64)
        for _ in range(6):
            nb = neighbour_grids(R, near, movable)
            nb = nb[~pad(tower_grid)[nb]]
            fz = nb[R.frozen[nb]]
            if len(fz):
                nb = fz
                break
            near = np.r_[near, nb]
        else:
            nb = nb[R.frozen[nb]]
        if len(nb) == 0:
            break
        R.frozen[nb] = False
        bp._tick(0.5 + 0.2 * ring, f"drawing in ring {ring + 1}: {len(nb)} neighbour grids")
        R.run(max_rounds=p.max_rounds)
        bp._repair(R, pb, movable, adj, skip, allow=~R.frozen, strict=True)
        _stage(f"ring {ring + 1} ({len(nb)} grids drawn in)", len(bad_grids()), R.labels, labels)
    wider = 0
    for attempt in range(p.wider_redraws if g.n <= p.restart_max_units else 0):
        # a small district can afford more: the grids still out of band and rings around them are re-drawn with
        # the repairs of a fresh partition, without the change penalty; moved units then go back where they can,
        # and the re-draw is kept only if fewer grids are out of band and few enough units moved.  A re-draw that
        # is dropped is tried again one ring wider (a tight neighbourhood, where every grid sits near a cap, needs
        # room from grids further out)
        bad = np.array([b for b in bad_grids() if int(b) not in skip], dtype=np.int64)
        if len(bad) == 0:
            break
        near = bad
        for _ in range(p.neighbour_rings + 1 + wider):
            near = np.r_[near, neighbour_grids(R, near, movable)]
        near = near[~pad(tower_grid)[near]]
        R.frozen[near] = False
        n_before = len(bad_grids())
        snap, zsnap, home = R.labels.copy(), R.zone.copy(), R.home
        R.home = None
        bp._repair(R, pb, movable, adj, skip, allow=~R.frozen, strict=False)
        R.home = home
        _revert(R, movable, orig)
        n_after, moved = len(bad_grids()), moved_share(R.labels, orig)
        kept = n_after < n_before and moved <= p.max_moved_share
        log.info("rebalance: wider re-draw %d: %d -> %d grids out of band, %.1f%% of units moved", attempt + 1,
                 n_before, n_after, 100 * moved)
        if not kept:
            R.set_labels(np.arange(g.n), snap)
            R.zone[:len(zsnap)] = zsnap
        _stage(f"wider re-draw {attempt + 1} ({'kept' if kept else 'dropped'})", len(bad_grids()), R.labels,
               labels)
        if not kept:
            if moved > p.max_moved_share:
                break  # a wider re-draw would move more units, not fewer
            wider += 1
    n_back = _revert(R, movable, orig)
    _stage(f"{n_back} units went back to their grid", len(bad_grids()), R.labels, labels)
    n_open = sum(1 for b in bad_grids() if int(b) not in skip)
    return fix_contiguity(g, R.labels, movable, towers), regions, region_of, n_open


def _revert(R, movable: np.ndarray, start: np.ndarray, max_passes: int = 10) -> int:
    """Send moved units back to the grid that now stands for their old grid, wherever no grid leaves the band by
    it, the out-of-band count does not grow and both grids stay contiguous.

    "Their old grid" is judged as the scorer does: every grid is matched to the old grid it overlaps most (one to
    one), and a unit has changed when its grid's match is not its old grid.
    """
    g = R.g
    nbl = R.nbl
    back = 0
    fixed = R.fixed
    for _ in range(max_passes):
        match = match_grids(R.labels, start)
        inv = np.full(int(start.max()) + 1, -1, np.int64)
        ok_m = match >= 0
        inv[match[ok_m]] = np.flatnonzero(ok_m)
        moved = np.flatnonzero((match[R.labels] != start) & ~fixed)
        made = 0
        for u in moved.tolist():
            a, h = int(R.labels[u]), int(inv[start[u]])
            if h < 0 or h == a or R.cnt[a] <= 1 or not any(
                    R.labels[v] == h and movable[g.edge_of[e]]
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
                made += 1
        back += made
        if made == 0:
            break
    return back
