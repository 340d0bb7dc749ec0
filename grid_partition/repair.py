"""Repairs after the local search: local re-draws of stubborn grids, and a contiguity safety net.

The local search moves one unit at a time; where units are large (towers of 100–400 households) a grid often
needs a different *combination* of units, or its neighbourhood one grid more or fewer.  Two repairs start from
the worst grid still out of band:

* :func:`resplit_clusters` cuts the grid and one or two rings of neighbours afresh with the band-aware bisection
  (as many, one more or one fewer grids, or hands the grid's units to its neighbours) and polishes each try with
  the local search;
* :func:`anneal_clusters` anneals the grid and two rings of neighbours (:mod:`grid_partition.anneal`).

Either keeps its result only when fewer grids are out of band (or, in a fresh partition, as many at a lower cost).
:func:`fix_contiguity` is the last safety net: no grid leaves the partitioner in pieces.
"""
from __future__ import annotations

import logging
import time

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .anneal import anneal_cluster
from .graph import UnitGraph
from .refine import Refiner

__all__ = ["neighbour_grids", "resplit_clusters", "anneal_clusters", "fix_contiguity"]

log = logging.getLogger(__name__)


def _entries(graph: UnitGraph, units: np.ndarray) -> np.ndarray:
    starts, ends = graph.indptr[units], graph.indptr[units + 1]
    lens = ends - starts
    if lens.sum() == 0:
        return np.zeros(0, np.int64)
    offs = np.repeat(starts - np.r_[0, np.cumsum(lens)[:-1]], lens)
    return np.arange(lens.sum()) + offs


def neighbour_grids(R: Refiner, grids: np.ndarray, movable: np.ndarray) -> np.ndarray:
    """Grids that share a movable edge with any of ``grids`` (not including them)."""
    mask = np.zeros(R.n_grids, bool)
    mask[grids] = True
    units = np.flatnonzero(mask[R.labels])
    ent = _entries(R.g, units)
    ent = ent[movable[R.g.edge_of[ent]]]
    nb = np.unique(R.labels[R.g.indices[ent]])
    return nb[~mask[nb]]


def anneal_clusters(R: Refiner, movable: np.ndarray, skip: set[int], rng: np.random.Generator, *,
                    allow: np.ndarray | None = None, budget: int = 3_000_000,
                    passes: tuple[int, ...] = (20, 60), t_start: float = 5.0, strict: bool = False,
                    rings: int = 2) -> int:
    """Anneal each out-of-band grid together with two rings of neighbours; keep what leaves fewer out of band.

    Passes run with a growing number of proposed moves per unit of the cluster; a grid whose cluster did not
    improve is tried again only in the next pass or after a neighbouring cluster changed.

    Parameters
    ----------
    skip
        Grids never re-drawn (towers, isolated pockets).
    allow
        Grids that may take part (``None`` = all).
    budget
        Stop starting new clusters once this many moves have been proposed in all (keeps runs reproducible).
    strict
        Keep a result only when it leaves fewer grids out of band.

    Returns
    -------
    int
        Number of accepted re-draws.
    """
    t0 = time.perf_counter()
    accepted = spent = 0
    mdir = movable[R.g.edge_of]
    for per_unit in passes:
        tried: set[int] = set()
        while spent < budget:
            ok_grid = _ok_grids(R, skip, allow)
            bad = [int(g) for g in np.flatnonzero(~R.in_band() & (R.cnt > 0) & ok_grid) if int(g) not in tried]
            if not bad:
                break
            g = bad[int(np.argmax(R.cost(R.H[bad], R.P[bad], np.asarray(bad))))]
            tried.add(g)
            cluster, units = _cluster(R, g, rings, movable, ok_grid)
            before, worst = _score(R, cluster, units), _worst(R, cluster)
            iters = per_unit * len(units)
            spent += iters
            score, lab = anneal_cluster(R, units, cluster, mdir, rng, iters, t_start=t_start)
            if (score[0] < before[0]) if strict else (score < (before[0], before[1] - 1e-9)):
                snap = R.labels[units].copy()
                R.set_labels(units, lab)
                if _worst(R, cluster) > worst + 1e-9:
                    R.set_labels(units, snap)
                    continue
                accepted += 1
                tried.difference_update(int(x) for x in cluster)
                tried.difference_update(int(x) for x in neighbour_grids(R, cluster, movable))
    log.debug("anneal: %d clusters improved, %d moves proposed, %.1f s", accepted, spent,
              time.perf_counter() - t0)
    return accepted


def _ok_grids(R: Refiner, skip: set[int], allow: np.ndarray | None) -> np.ndarray:
    ok = np.ones(R.n_grids, bool)
    if skip:
        ok[list(skip)] = False
    if allow is not None:
        ok[:len(allow)] &= allow[:R.n_grids]
    return ok


def _cluster(R: Refiner, g: int, rings: int, movable: np.ndarray, ok_grid: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    cluster = np.array([g], dtype=np.int64)
    for _ in range(rings):
        nb = neighbour_grids(R, cluster, movable)
        cluster = np.r_[cluster, nb[ok_grid[nb]]]
    in_c = np.zeros(R.n_grids, bool)
    in_c[cluster] = True
    return cluster, np.flatnonzero(in_c[R.labels])


#: how far outside its band (a share of the band edge) a re-draw may leave a grid where none was as far out before
WORST_SLACK = 0.25


def _worst(R: Refiner, grids: np.ndarray) -> float:
    """The largest band violation among the live ``grids`` (:meth:`Refiner.violation`), or :data:`WORST_SLACK`
    when all are closer to their bands.

    Every re-draw is held to it: a try that leaves a grid further out of band than that is never kept, however
    many grids it brings in.  A count of grids out of band alone is fooled by folding an out-of-band grid into a
    neighbour: one grid fewer out of band, and a neighbour over its cap that the next fold grows, until a handful
    of grids hold the district.  The slack lets two grids a little out become one a little further out.
    """
    live = grids[R.cnt[grids] > 0]
    return max(float(R.violation(live).max()) if len(live) else 0.0, WORST_SLACK)


def _score(R: Refiner, grids: np.ndarray, units: np.ndarray, strict: bool = False) -> tuple:
    """(grids out of band, [units away from home,] band cost + change penalties) over ``grids``.

    Empty grids do not count.  ``strict`` (a rebalance) ranks fewer changed units before a lower cost.
    """
    live = grids[R.cnt[grids] > 0]
    cost = float(R.cost(R.H[live], R.P[live], live).sum())
    bad = int((~R.in_band(live)).sum())
    if R.home is not None and R.w.change:
        moved = int((R.labels[units] != R.home[units]).sum())
        cost += R.w.change * moved
        if strict:
            return bad, moved, cost
    return bad, cost


def _dissolve(R: Refiner, g: int, units: np.ndarray, movable: np.ndarray) -> np.ndarray | None:
    """Labels for ``units`` with grid ``g`` handed out to its neighbours, layer by layer, by longest border."""
    lab = R.labels[units].copy()
    pos = {int(u): i for i, u in enumerate(units)}
    pending = [int(u) for u in units[lab == g]]
    gr = R.g
    while pending:
        rest = []
        for u in pending:
            best, bw = -1, -1.0
            acc: dict[int, float] = {}
            for e in range(gr.indptr[u], gr.indptr[u + 1]):
                v = int(gr.indices[e])
                i = pos.get(v)
                if i is None or lab[i] == g or not movable[gr.edge_of[e]]:
                    continue
                acc[int(lab[i])] = acc.get(int(lab[i]), 0.0) + float(gr.border[gr.edge_of[e]]) + 1e-9
            for k, w in acc.items():
                if w > bw:
                    best, bw = k, w
            if best < 0:
                rest.append(u)
            else:
                lab[pos[u]] = best
        if len(rest) == len(pending):
            return None
        pending = rest
    return lab


def resplit_clusters(R: Refiner, movable: np.ndarray, skip: set[int], rng: np.random.Generator, split, *,
                     allow: np.ndarray | None = None, budget: int = 3_000_000, rings: tuple[int, ...] = (1, 2),
                     n_angles: int = 3, max_rounds: int = 40, strict: bool = False, max_tries: int = 2) -> int:
    """Cut each out-of-band grid and its neighbours afresh into as many, one more or one fewer grids.

    For the worst grid still out of band, the cluster "grid + ``r`` rings of neighbours" (``m`` grids) is cut
    again with the band-aware bisection into ``m``, ``m + 1`` and ``m - 1`` grids, in ``n_angles`` directions
    each, every try polished by the local search inside the cluster.  The best try is kept when it leaves fewer
    grids out of band, or as many at a lower cost.  One ring first for every grid, then two for those left.

    Parameters
    ----------
    split
        ``split(units, k, zone, angle) -> list of unit arrays``: the band-aware cut.
    skip, allow
        Grids never re-drawn, and grids that may take part (``None`` = all).
    budget
        Work cap: units cut, summed over all tries (keeps runs reproducible).
    strict
        Keep a re-cut only when it leaves fewer grids out of band (a rebalance does not re-cut for polish).
    max_tries
        How often one grid may start a re-cut in one pass (it is tried again when a neighbouring re-cut changed
        its surroundings, up to this many times).

    Returns
    -------
    int
        Number of accepted re-draws.
    """
    t0 = time.perf_counter()
    accepted = spent = 0
    for r in rings:
        tried: set[int] = set()
        n_tries: dict[int, int] = {}
        while spent < budget:
            ok_grid = _ok_grids(R, skip, allow)
            bad = [int(g) for g in np.flatnonzero(~R.in_band() & (R.cnt > 0) & ok_grid)
                   if int(g) not in tried and n_tries.get(int(g), 0) < max_tries]
            if not bad:
                break
            g = bad[int(np.argmax(R.cost(R.H[bad], R.P[bad], np.asarray(bad))))]
            tried.add(g)
            n_tries[g] = n_tries.get(g, 0) + 1
            cluster, units = _cluster(R, g, r, movable, ok_grid)
            m = len(cluster)
            z = int(R.zone[g])
            before, worst = _score(R, cluster, units, strict), _worst(R, cluster)
            snap = R.labels[units].copy()
            frozen = R.frozen
            best = None

            def attempt(new: np.ndarray | None, ids: np.ndarray) -> None:
                nonlocal best
                if new is None:
                    return
                R.set_labels(units, new)
                _zone_by_majority(R, ids, units)
                R.frozen = np.ones(R.n_grids, bool)
                R.frozen[ids] = False
                R.run(units=units, max_rounds=max_rounds)
                sc = _score(R, ids, units, strict)
                if (best is None or sc < best[0]) and _worst(R, ids) <= worst + 1e-9:
                    best = (sc, R.labels[units].copy(), R.zone[ids].copy(), ids)
                R.set_labels(units, snap)
                R.frozen = frozen

            if m > 1:  # give the grid's units to its neighbours
                spent += len(units)
                attempt(_dissolve(R, g, units, movable), cluster[cluster != g])
            pos = {int(u): i for i, u in enumerate(units.tolist())}
            Hc, Pc = float(R.H[cluster].sum()), float(R.P[cluster].sum())
            d_m = _depth(Hc / m, Pc / m, R, z)
            ks = [k for k in (m, m + 1, m - 1) if k >= 1 and (k == m or _depth(Hc / k, Pc / k, R, z) > d_m - 0.1)]
            tries = [(k, a) for a in range(n_angles) for k in ks]
            for k, a in tries:
                if best is not None and best[0][0] == 0:
                    break  # every grid of the cluster is in band
                angle = 0.0 if a == 0 else float(rng.uniform(0, np.pi))
                spent += len(units)
                parts = split(units, k, z, angle)
                if len(parts) != k:
                    continue
                ids = _match_ids(parts, units, cluster, R, z)
                new = np.empty(len(units), np.int64)
                for part, gid in zip(parts, ids):
                    new[[pos[u] for u in part.tolist()]] = gid
                attempt(new, ids)
            R.frozen = np.r_[frozen, np.zeros(R.n_grids - len(frozen), bool)]
            better = best is not None and (best[0][0] < before[0] if strict else
                                           best[0] < (before[0], before[1] - 1e-9))
            if better:
                R.set_labels(units, best[1])
                R.zone[best[3]] = best[2]
                accepted += 1
                now = np.unique(best[1])
                tried.difference_update(int(x) for x in now)
                tried.difference_update(int(x) for x in neighbour_grids(R, now, movable))
    log.debug("resplit: %d clusters re-drawn, %d units cut, %.1f s", accepted, spent, time.perf_counter() - t0)
    return accepted


def _match_ids(parts: list[np.ndarray], units: np.ndarray, cluster: np.ndarray, R: Refiner, z: int) -> np.ndarray:
    """Give each new part the id of the cluster grid it overlaps most (one id per part; new ids when short).

    Overlap is counted against the units' home grids in a rebalance, so a re-cut keeps as many units as it can
    in the grid they had.
    """
    ref = R.home if R.home is not None else R.labels
    srt = np.argsort(cluster)
    ov = np.zeros((len(parts), len(cluster)))
    for i, part in enumerate(parts):
        h = ref[part]
        k = np.minimum(np.searchsorted(cluster, h, sorter=srt), len(cluster) - 1)
        hit = cluster[srt[k]] == h
        ov[i] = np.bincount(srt[k[hit]], minlength=len(cluster))
    r, c = linear_sum_assignment(ov, maximize=True)
    ids = np.full(len(parts), -1, dtype=np.int64)
    ids[r] = cluster[c]
    missing = np.flatnonzero(ids < 0)
    if len(missing):
        ids[missing] = R.add_grids(np.full(len(missing), z))
    return ids


def _zone_by_majority(R: Refiner, ids: np.ndarray, units: np.ndarray) -> None:
    """Set each grid's zone to the zone holding most of its households (a re-cut may move the majority)."""
    lab = R.labels[units]
    zs = R.unit_zone[units]
    h = R.hh[units] + 1e-6
    for gid in ids:
        m = lab == gid
        if m.any():
            R.zone[gid] = int(np.argmax(np.bincount(zs[m], h[m])))


def _depth(h: float, p: float, R: Refiner, z: int) -> float:
    b = R.bands
    wh, wp = b.hi_h[z] - b.lo_h[z], b.hi_p[z] - b.lo_p[z]
    return float(min((h - b.lo_h[z]) / wh, (b.hi_h[z] - h) / wh, (p - b.lo_p[z]) / wp, (b.hi_p[z] - p) / wp))


def fix_contiguity(graph: UnitGraph, labels: np.ndarray, movable: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """Give every piece of a grid but its largest to the neighbouring grid it shares the longest border with.

    A piece with no movable neighbour becomes a grid of its own.  Returns new labels (``0..G-1`` compacted).
    """
    labels = labels.copy()
    n = graph.n
    for _ in range(20):
        same = labels[graph.u] == labels[graph.v]
        g = coo_matrix((np.ones(same.sum()), (graph.u[same], graph.v[same])), shape=(n, n))
        _, comp = connected_components(g, directed=False)
        size = np.bincount(comp)
        G = int(labels.max()) + 1
        main = np.full(G, -1)
        order = np.lexsort((-size[comp], labels))
        first = np.r_[True, labels[order][1:] != labels[order][:-1]]
        main[labels[order][first]] = comp[order][first]
        frag = comp != main[labels]
        if not frag.any():
            break
        cu, cv = graph.u, graph.v
        best: dict[int, tuple[float, int]] = {}
        for a, b in ((cu, cv), (cv, cu)):
            m = frag[a] & (comp[a] != comp[b]) & movable & ~fixed[b]
            for ca, lb, w in zip(comp[a[m]], labels[b[m]], graph.border[m]):
                key = (int(ca), int(lb))
                best[key] = (best.get(key, (0.0, 0))[0] + float(w), int(lb))
        target: dict[int, tuple[float, int]] = {}
        for (c, lb), (w, _) in best.items():
            if c not in target or w > target[c][0]:
                target[c] = (w, lb)
        nxt = G
        for c in np.unique(comp[frag]):
            sel = comp == c
            if int(c) in target:
                labels[sel] = target[int(c)][1]
            else:
                labels[sel] = nxt
                nxt += 1
    _, labels = np.unique(labels, return_inverse=True)
    return labels
