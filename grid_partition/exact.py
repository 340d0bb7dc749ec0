"""Exact re-draws of small clusters: enumerate every in-band connected group, then pick an exact cover.

Where units are large (high-rise towers of 100–400 households) a grid holds two to four units, and whether a
neighbourhood can be drawn entirely in band is a small combinatorial question that moves of one unit at a time
(and annealing) often miss.  For the cluster "out-of-band grid + ``r`` rings of neighbours" this module lists
every connected group of the cluster's units whose totals sit inside the band of its majority zone
(:func:`in_band_groups`), and solves the set-partitioning problem "cover every unit exactly once with such
groups" as a small integer programme (``scipy.optimize.milp``, HiGHS).  A unit may also stand alone out of band at
a large cost, so the programme always has an answer and minimises the number of grids left out of band first,
then band slack, boundary length and (in a rebalance) units leaving their grid.

Where units are small (village houses), groups are many; the enumeration stops at a budget and the cluster is
left to the other repairs.
"""
from __future__ import annotations

import logging

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csc_matrix

from .feasibility import can_still_fit, majority_zone
from .repair import _cluster, _match_ids, _ok_grids, _score, _worst, _zone_by_majority, neighbour_grids
from .seeding import Bands

__all__ = ["exact_clusters", "in_band_groups", "solve_cover", "zone_caps"]

log = logging.getLogger(__name__)


def zone_caps(bands: Bands) -> tuple[list[float], list[float], list[float], list[float]]:
    """The four band edges per zone as Python lists (fast scalar access)."""
    return bands.lo_h.tolist(), bands.hi_h.tolist(), bands.lo_p.tolist(), bands.hi_p.tolist()


def in_band_groups(nbrs: list[list[int]], hh: list[float], pop: list[float], zone: list[int], caps,
                   budget: int) -> list[tuple[int, ...]] | None:
    """Every connected group of local units inside the band of its majority zone.

    Parameters
    ----------
    nbrs
        Neighbour lists over local positions ``0..n-1``.
    hh, pop, zone
        Households, population and zone code of each local unit.
    caps
        ``(lo_h, hi_h, lo_p, hi_p)`` per zone (:func:`zone_caps`).
    budget
        Give up (return ``None``) after examining this many groups.

    Returns
    -------
    list of tuples, or None
        Each group once, as a tuple of local positions whose smallest member is its first.
    """
    lo_h, hi_h, lo_p, hi_p = caps
    nz = len(lo_h)
    n = len(hh)
    out: list[tuple[int, ...]] = []
    count = 0

    def fits(h: float, p: float, zh: list[float], zn: list[int]) -> bool:
        z = majority_zone(zh, zn)
        return lo_h[z] <= h <= hi_h[z] and lo_p[z] <= p <= hi_p[z]

    for root in range(n):
        zh0 = [0.0] * nz
        zn0 = [0] * nz
        zh0[zone[root]] += hh[root]
        zn0[zone[root]] += 1
        h0, p0 = hh[root], pop[root]
        if fits(h0, p0, zh0, zn0):
            out.append((root,))
        if not can_still_fit(h0, p0, zh0, hi_h, hi_p):
            continue
        stack = [((root,), tuple(y for y in nbrs[root] if y > root), frozenset([root]), h0, p0, zh0, zn0)]
        while stack:
            S, cand, seen, h, p, zh, zn = stack.pop()
            cand = list(dict.fromkeys(cand))
            excluded: set[int] = set()
            for i, c in enumerate(cand):
                if c in seen or c in excluded:
                    continue
                excluded.add(c)
                count += 1
                if count > budget:
                    return None
                h2, p2 = h + hh[c], p + pop[c]
                zh2 = zh.copy()
                zn2 = zn.copy()
                zh2[zone[c]] += hh[c]
                zn2[zone[c]] += 1
                S2 = S + (c,)
                if fits(h2, p2, zh2, zn2):
                    out.append(S2)
                if not can_still_fit(h2, p2, zh2, hi_h, hi_p):
                    continue
                seen2 = seen | excluded
                new = [y for y in nbrs[c] if y > root and y not in seen2]
                rest = [y for y in cand[i + 1:] if y not in excluded]
                stack.append((S2, tuple(rest + new), seen2 | {c}, h2, p2, zh2, zn2))
    return out


def solve_cover(n: int, groups: list[tuple[int, ...]], cost: np.ndarray, single_cost: np.ndarray,
                node_limit: int = 200, time_limit: float = 20.0) -> list[tuple[int, ...]] | None:
    """Cover ``0..n-1`` exactly once with ``groups`` (cost ``cost``) or lone out-of-band units (``single_cost``).

    The search is capped by a number of branch-and-bound nodes, not by time, so that runs are reproducible; the
    time limit is only a safety net.  Returns the chosen groups (lone units as 1-tuples), or ``None`` when the
    solver found no answer within the caps.
    """
    m = len(groups)
    rows = [i for g in groups for i in g] + list(range(n))
    cols = [j for j, g in enumerate(groups) for _ in g] + list(range(m, m + n))
    A = csc_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, m + n))
    c = np.r_[cost, single_cost]
    res = milp(c, constraints=LinearConstraint(A, 1, 1), integrality=np.ones(m + n), bounds=Bounds(0, 1),
               options={"node_limit": node_limit, "time_limit": time_limit, "disp": False})
    if res.x is None:
        return None
    x = res.x > 0.5
    chosen = [groups[j] for j in np.flatnonzero(x[:m])]
    chosen += [(i,) for i in np.flatnonzero(x[m:])]
    return chosen


def exact_clusters(R, movable: np.ndarray, skip: set[int], *, allow: np.ndarray | None = None,
                   strict: bool = False, rings: tuple[int, ...] = (1, 2), max_units: int = 90,
                   group_budget: int = 3_000, budget: int = 2_000_000, max_groups: int = 1_500,
                   thresholds: tuple[float, ...] = (0.0, 30.0, 80.0)) -> int:
    """Re-draw each out-of-band grid with ``r`` rings of neighbours as an exact cover by in-band groups.

    A re-draw is kept only when it leaves fewer grids of the cluster out of band.  Clusters of more than
    ``max_units`` units, or with more than ``group_budget`` candidate groups, are left alone; ``budget`` caps the
    groups examined over all clusters (so runs are reproducible).

    Returns
    -------
    int
        Number of accepted re-draws.
    """
    g_ = R.g
    caps = zone_caps(R.bands)
    accepted = spent = 0
    mdir = movable[g_.edge_of]
    for r in rings:
        tried: set[int] = set()
        while spent < budget:
            ok_grid = _ok_grids(R, skip, allow)
            bad = [int(x) for x in np.flatnonzero(~R.in_band() & (R.cnt > 0) & ok_grid) if int(x) not in tried]
            if not bad:
                break
            g = bad[int(np.argmax(R.cost(R.H[bad], R.P[bad], np.asarray(bad))))]
            tried.add(g)
            cluster, units = _cluster(R, g, r, movable, ok_grid)
            if len(units) > max_units or len(cluster) < 2:
                log.debug("exact: grid %d ring %d: %d units, too many", g, r, len(units))
                continue
            before, worst = _score(R, cluster, units, strict), _worst(R, cluster)
            pos = {int(u): i for i, u in enumerate(units.tolist())}
            nbrs: list[list[int]] = []
            ext_w = np.zeros(len(units))
            wl: list[dict[int, float]] = []
            for i, u in enumerate(units.tolist()):
                row, ws = [], {}
                for e in range(g_.indptr[u], g_.indptr[u + 1]):
                    v = int(g_.indices[e])
                    j = pos.get(v)
                    if j is None:
                        ext_w[i] += R.wdir[e]
                    elif mdir[e]:
                        row.append(j)
                        ws[j] = ws.get(j, 0.0) + float(R.wdir[e])
                    else:
                        ext_w[i] += R.wdir[e]
                nbrs.append(row)
                wl.append(ws)
            groups = atoms = None
            for thr in thresholds:
                atoms, a_nbrs, a_wl, a_ext = _atoms(R, units, nbrs, wl, ext_w, thr)
                hh = [float(R.hh[units[a]].sum()) for a in atoms]
                pop = [float(R.pop[units[a]].sum()) for a in atoms]
                zone = [_atom_zone(R, units[a]) for a in atoms]
                groups = in_band_groups(a_nbrs, hh, pop, zone, caps, min(group_budget, budget - spent))
                spent += group_budget if groups is None else max(len(groups), 1) * 4
                log.debug("exact: grid %d ring %d: %d units, %d atoms (under %d hh merged), %d grids, %s groups",
                          g, r, len(units), len(atoms), thr, len(cluster), None if groups is None else len(groups))
                if groups is not None or spent >= budget:
                    break
            if groups is None or not groups or len(groups) > max_groups:
                continue
            cost = _group_costs(R, groups, [units[a] for a in atoms], hh, pop, zone, a_wl, a_ext)
            single = np.full(len(atoms), 1000.0)
            chosen = solve_cover(len(atoms), groups, cost, single)
            if chosen is None:
                continue
            n_alone_out = sum(1 for s in chosen if len(s) == 1 and not _fits1(hh[s[0]], pop[s[0]], zone[s[0]], caps))
            log.debug("exact: grid %d ring %d: %d alone out of band (before %d)", g, r, n_alone_out, before[0])
            if n_alone_out >= before[0]:
                continue
            chosen = [np.concatenate([atoms[a] for a in s]) for s in chosen]
            snap = R.labels[units].copy()
            snap_zone = R.zone.copy()
            parts = [units[s] for s in chosen]
            z = int(R.zone[g])
            ids = _match_ids(parts, units, cluster, R, z)
            new = np.empty(len(units), np.int64)
            for s, gid in zip(chosen, ids):
                new[s] = gid
            R.set_labels(units, new)
            allg = np.unique(np.r_[cluster, ids])
            _zone_by_majority(R, allg, units)
            after = _score(R, allg, units, strict)
            if after[0] < before[0] and _worst(R, allg) <= worst + 1e-9:
                accepted += 1
                tried.difference_update(int(x) for x in allg)
                tried.difference_update(int(x) for x in neighbour_grids(R, allg, movable))
            else:
                R.set_labels(units, snap)
                R.zone[:len(snap_zone)] = snap_zone
    log.debug("exact: %d clusters re-drawn, %d groups examined", accepted, spent)
    return accepted


def _fits1(h: float, p: float, z: int, caps) -> bool:
    lo_h, hi_h, lo_p, hi_p = caps
    return lo_h[z] <= h <= hi_h[z] and lo_p[z] <= p <= hi_p[z]


def _group_costs(R, groups, atom_units, hh, pop, zone, wl, ext_w) -> np.ndarray:
    """Band slack, half the weighted boundary and (in a rebalance) the units that would leave their grid."""
    nz = len(R.bands.lo_h)
    m = len(groups)
    H = np.empty(m)
    P = np.empty(m)
    Z = np.empty(m, np.int64)
    B = np.empty(m)
    C = np.zeros(m)
    home = None if R.home is None or not R.w.change else R.home
    for j, s in enumerate(groups):
        zh = [0.0] * nz
        zn = [0] * nz
        h = p = b = 0.0
        ss = set(s)
        for i in s:
            h += hh[i]
            p += pop[i]
            zh[zone[i]] += hh[i]
            zn[zone[i]] += 1
            b += ext_w[i] + sum(w for k, w in wl[i].items() if k not in ss)
        H[j], P[j], B[j] = h, p, b
        Z[j] = majority_zone(zh, zn)
        if home is not None:
            hs = home[np.concatenate([atom_units[i] for i in s])]
            C[j] = len(hs) - np.bincount(hs - hs.min()).max()
    w = R.w
    mh, mp = w.margin_h[Z], w.margin_p[Z]
    b = R.bands
    dh = np.maximum(np.maximum(b.lo_h[Z] + mh - H, H - b.hi_h[Z] + mh), 0.0) / mh
    dp = np.maximum(np.maximum(b.lo_p[Z] + mp - P, P - b.hi_p[Z] + mp), 0.0) / mp
    return dh * dh + dp * dp + 0.5 * w.alpha * B + w.change * C


def _atom_zone(R, units: np.ndarray) -> int:
    z = R.unit_zone[units]
    return int(np.argmax(np.bincount(z, R.hh[units] + 1e-6)))


def _atoms(R, units: np.ndarray, nbrs, wl, ext_w, thr: float):
    """Contract the cluster's units into atoms: units without households or people (and, with ``thr > 0``, small
    units under ``thr`` households) join the neighbouring atom of the same current grid sharing most border.

    Returns the atoms (local unit positions), their neighbour lists, border weights to other atoms and the
    weight of their borders leaving the cluster.
    """
    n = len(units)
    hh = R.hh[units]
    pop = R.pop[units]
    lab = R.labels[units].tolist()
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    size_h = hh.astype(float).tolist()
    small = [(hh[i] <= thr and (thr > 0 or pop[i] == 0)) for i in range(n)]
    for i in sorted(range(n), key=lambda k: size_h[k]):
        if not small[i]:
            continue
        ri = find(i)
        if thr > 0 and size_h[ri] > thr:
            continue
        best, bw = -1, -1.0
        for j, w in wl[i].items():
            rj = find(j)
            if rj != ri and lab[j] == lab[i] and w > bw:
                best, bw = rj, w
        if best >= 0:
            parent[ri] = best
            size_h[best] += size_h[ri]
    roots = [find(i) for i in range(n)]
    uniq = sorted(set(roots))
    aid = {r: k for k, r in enumerate(uniq)}
    members: list[list[int]] = [[] for _ in uniq]
    for i, r in enumerate(roots):
        members[aid[r]].append(i)
    a_wl: list[dict[int, float]] = [{} for _ in uniq]
    a_ext = np.zeros(len(uniq))
    for i in range(n):
        a = aid[roots[i]]
        a_ext[a] += ext_w[i]
        for j, w in wl[i].items():
            b = aid[roots[j]]
            if b != a:
                a_wl[a][b] = a_wl[a].get(b, 0.0) + w
    a_nbrs = [sorted(d) for d in a_wl]
    return [np.array(m, np.int64) for m in members], a_nbrs, a_wl, a_ext
