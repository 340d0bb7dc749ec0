"""First cut: regions between arterials, how many grids each holds, and recursive bisection into contiguous parts.

A *region* is a connected piece of the district that grids do not leave: the units between arterial roads, or
several such pieces merged when one is too small (or too awkward) to form grids of its own.  Each region gets the
number of grids ``k`` that puts its mean grid closest to the middle of its zone's band, and is cut into ``k``
contiguous parts by weighted recursive bisection along the principal axis (falling back to a sweep that grows
through the adjacency graph when a straight cut would leave a part in pieces).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .graph import EDGE_KINDS, UnitGraph, components

__all__ = ["Bands", "Region", "best_k", "plan_regions", "split_units"]

_ARTERIAL = EDGE_KINDS.index("arterial")


@dataclass(frozen=True)
class Bands:
    """Bands per zone code as arrays: ``lo_h[z]``, ``hi_h[z]``, ``lo_p[z]``, ``hi_p[z]``."""

    lo_h: np.ndarray
    hi_h: np.ndarray
    lo_p: np.ndarray
    hi_p: np.ndarray

    def over(self, hh: np.ndarray, pop: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Whether a single unit of zone ``zone`` exceeds its zone's upper band on its own."""
        return (hh > self.hi_h[zone]) | (pop > self.hi_p[zone])


@dataclass
class Region:
    """A set of units to be cut into ``k`` grids of zone ``zone``."""

    units: np.ndarray
    zone: int
    k: int
    households: float
    population: float
    feasible: bool
    isolated: bool = False
    reason: str | None = None
    extra: dict = field(default_factory=dict)


def best_k(hh: float, pop: float, bands: Bands, zone: int) -> tuple[int, float]:
    """Number of grids whose mean sits deepest inside the band, and that depth.

    The depth is the smallest distance of the mean grid (``hh/k``, ``pop/k``) to a band edge, as a share of the
    band width; it is negative when no ``k`` puts the mean inside both bands.

    >>> b = Bands(np.array([500.]), np.array([600.]), np.array([1000.]), np.array([1500.]))
    >>> best_k(1100, 2700, b, 0)[0]
    2
    """
    if hh <= 0 and pop <= 0:
        return 1, -1.0
    lo_h, hi_h, lo_p, hi_p = bands.lo_h[zone], bands.hi_h[zone], bands.lo_p[zone], bands.hi_p[zone]
    k_hi = int(np.ceil(max(hh / max(lo_h, 1e-9), pop / max(lo_p, 1e-9)))) + 1
    ks = np.arange(1, max(k_hi, 1) + 1, dtype=float)
    mh, mp = hh / ks, pop / ks
    wh, wp = max(hi_h - lo_h, 1e-9), max(hi_p - lo_p, 1e-9)
    depth = np.minimum.reduce([(mh - lo_h) / wh, (hi_h - mh) / wh, (mp - lo_p) / wp, (hi_p - mp) / wp])
    i = int(np.argmax(depth))
    return int(ks[i]), float(depth[i])


def plan_regions(graph: UnitGraph, hh: np.ndarray, pop: np.ndarray, zone: np.ndarray, bands: Bands,
                 excluded: np.ndarray, n_zones: int) -> tuple[list[Region], np.ndarray]:
    """Cut the district into regions between arterials and give each its number of grids.

    Pieces whose totals cannot form grids inside the band are merged with the neighbouring piece sharing the
    longest arterial border (one of the same zone first).  Pieces with no neighbour left are *isolated*: they become
    grids as they are and are reported as infeasible.

    Parameters
    ----------
    excluded
        Units that are not part of any region (towers, frozen grids).

    Returns
    -------
    regions, region_of
        ``region_of[i]`` is the index into ``regions`` of unit ``i``, ``-1`` for excluded units.
    """
    keep = ~excluded
    not_art = graph.kind != _ARTERIAL
    ns, sector = components(graph, not_art, keep)
    if ns == 0:
        return [], np.full(graph.n, -1, dtype=np.int64)
    s_ok = sector >= 0
    sh = np.bincount(sector[s_ok], hh[s_ok], ns)
    sp = np.bincount(sector[s_ok], pop[s_ok], ns)
    szh = np.zeros((ns, n_zones))
    np.add.at(szh, (sector[s_ok], zone[s_ok]), hh[s_ok] + 1e-6)
    # sector adjacency across arterials
    e = (~not_art) & keep[graph.u] & keep[graph.v]
    a, b = sector[graph.u[e]], sector[graph.v[e]]
    diff = a != b
    pair = csr_matrix((graph.border[e][diff], (a[diff], b[diff])), shape=(ns, ns))
    pair = (pair + pair.T).tocsr()
    parent = np.arange(ns)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    tot_h, tot_p, tot_z = sh.copy(), sp.copy(), szh.copy()
    changed = True
    while changed:
        changed = False
        roots = [r for r in range(ns) if find(r) == r]
        bad = []
        for r in roots:
            z = int(np.argmax(tot_z[r]))
            _, depth = best_k(tot_h[r], tot_p[r], bands, z)
            if depth < 0:
                bad.append((tot_h[r], r))
        for _, r in sorted(bad):
            r = find(r)
            z = int(np.argmax(tot_z[r]))
            if best_k(tot_h[r], tot_p[r], bands, z)[1] >= 0:
                continue
            members = np.flatnonzero([find(s) == r for s in range(ns)])
            sub = pair[members].tocoo()
            best: dict[int, float] = {}
            for c, w in zip(sub.col, sub.data):
                rc = find(int(c))
                if rc != r:
                    best[rc] = best.get(rc, 0.0) + float(w)
            if not best:
                continue
            same = {rc: int(np.argmax(tot_z[rc])) == z for rc in best}
            target = max(best, key=lambda rc: (same[rc], best[rc]))
            parent[r] = target
            tot_h[target] += tot_h[r]
            tot_p[target] += tot_p[r]
            tot_z[target] += tot_z[r]
            changed = True
    root = np.array([find(s) for s in range(ns)])
    _, rid_of_sector = np.unique(root, return_inverse=True)
    region_of = np.full(graph.n, -1, dtype=np.int64)
    region_of[s_ok] = rid_of_sector[sector[s_ok]]
    order = np.argsort(region_of[s_ok], kind="stable")
    idx_all = np.flatnonzero(s_ok)[order]
    bounds = np.searchsorted(region_of[idx_all], np.arange(int(rid_of_sector.max()) + 2))
    regions = []
    for r in range(len(bounds) - 1):
        units = idx_all[bounds[r]:bounds[r + 1]]
        h, p = float(hh[units].sum()), float(pop[units].sum())
        zc = np.bincount(zone[units], hh[units] + 1e-6, n_zones)
        z = int(np.argmax(zc))
        k, depth = best_k(h, p, bands, z)
        regions.append(Region(units=units, zone=z, k=k, households=h, population=p, feasible=depth >= 0,
                              isolated=depth < 0))
    return regions, region_of


def _principal_order(xy: np.ndarray, angle: float) -> np.ndarray:
    """Projection of the points on their principal axis turned by ``angle``."""
    c = xy - xy.mean(axis=0)
    sxx, syy, sxy = float(c[:, 0] @ c[:, 0]), float(c[:, 1] @ c[:, 1]), float(c[:, 0] @ c[:, 1])
    th = 0.5 * np.arctan2(2 * sxy, sxx - syy) + angle
    return c @ np.array([np.cos(th), np.sin(th)])


class _Local:
    """The adjacency inside one unit set, to test many of its subsets for connectedness quickly."""

    def __init__(self, adj: csr_matrix, cur: np.ndarray) -> None:
        starts = adj.indptr[cur]
        lens = adj.indptr[cur + 1] - starts
        tot = int(lens.sum())
        ent = np.arange(tot) + np.repeat(starts - np.r_[0, np.cumsum(lens)[:-1]], lens) if tot else \
            np.zeros(0, np.int64)
        nb = adj.indices[ent]
        srt = np.argsort(cur)
        cs = cur[srt]
        k = np.minimum(np.searchsorted(cs, nb), len(cs) - 1)
        ok = cs[k] == nb
        self.n = len(cur)
        self.i = np.repeat(np.arange(len(cur)), lens)[ok]
        self.j = srt[k[ok]]
        self._lists: list[list[int]] | None = None

    def pieces(self, members: np.ndarray) -> tuple[int, np.ndarray]:
        """Connected pieces of the given members (local positions): their number and a label per member."""
        if len(members) <= 1:
            return 1, np.zeros(len(members), dtype=np.int64)
        mask = np.zeros(self.n, bool)
        mask[members] = True
        e = mask[self.i] & mask[self.j]
        g = csr_matrix((np.ones(int(e.sum()), np.int8), (self.i[e], self.j[e])), shape=(self.n, self.n))
        _, lab = connected_components(g, directed=False)
        _, out = np.unique(lab[members], return_inverse=True)
        return int(out.max()) + 1, out

    def connected(self, mask: np.ndarray) -> bool:
        """Whether the members in ``mask`` (a boolean mask over the base set) form one connected piece."""
        m = int(mask.sum())
        if m <= 1:
            return True
        if m > 400:
            e = mask[self.i] & mask[self.j]
            g = csr_matrix((np.ones(int(e.sum()), np.int8), (self.i[e], self.j[e])), shape=(self.n, self.n))
            _, lab = connected_components(g, directed=False)
            return len(np.unique(lab[mask])) == 1
        if self._lists is None:
            order = np.argsort(self.i, kind="stable")
            cuts = np.searchsorted(self.i[order], np.arange(self.n + 1)).tolist()
            jj = self.j[order].tolist()
            self._lists = [jj[cuts[a]:cuts[a + 1]] for a in range(self.n)]
        lists = self._lists
        members = np.flatnonzero(mask).tolist()
        inside = set(members)
        start = members[0]
        seen = {start}
        stack = [start]
        while stack:
            x = stack.pop()
            for y in lists[x]:
                if y in inside and y not in seen:
                    seen.add(y)
                    stack.append(y)
        return len(seen) == m


def _grow(adj: csr_matrix, idx: np.ndarray, proj: np.ndarray, weight: np.ndarray, target: float) -> np.ndarray:
    """Grow one side from the lowest projection through the adjacency, lowest projection first."""
    local = {int(g): i for i, g in enumerate(idx)}
    seen = np.zeros(len(idx), bool)
    start = int(np.argmin(proj))
    heap = [(proj[start], start)]
    seen[start] = True
    taken: list[int] = []
    acc = 0.0
    indptr, indices = adj.indptr, adj.indices
    while heap and acc < target:
        _, i = heapq.heappop(heap)
        w = weight[i]
        if taken and acc + w - target > target - acc:
            break
        taken.append(i)
        acc += w
        g = idx[i]
        for nb in indices[indptr[g]:indptr[g + 1]]:
            j = local.get(int(nb))
            if j is not None and not seen[j]:
                seen[j] = True
                heapq.heappush(heap, (proj[j], j))
    side = np.zeros(len(idx), bool)
    side[taken] = True
    return side


def _depth_arr(h: np.ndarray, p: np.ndarray, band: tuple[float, float, float, float]) -> np.ndarray:
    lo_h, hi_h, lo_p, hi_p = band
    wh, wp = max(hi_h - lo_h, 1e-9), max(hi_p - lo_p, 1e-9)
    return np.minimum(np.minimum((h - lo_h) / wh, (hi_h - h) / wh), np.minimum((p - lo_p) / wp, (hi_p - p) / wp))


def split_units(idx: np.ndarray, k: int, hh: np.ndarray, pop: np.ndarray, xy: np.ndarray, adj: csr_matrix,
                band: tuple[float, float, float, float], angle: float = 0.0, n_angles: int = 12,
                fine_k: int = 16) -> list[np.ndarray]:
    """Cut the connected unit set ``idx`` into ``k`` contiguous parts that each fit the band.

    Recursive bisection: a set meant for ``k`` grids is cut by a straight line into sets for ``k // 2`` and
    ``k - k // 2`` grids.  Where few grids are left (``k <= fine_k``) the cut is searched over ``n_angles``
    directions and every position along each, and the one whose two sides' mean grids sit deepest inside the band
    wins (ties go to the cut nearest the proportional split and to the principal axis); higher up only the
    principal axis is used.  A cut that would leave a side in pieces is passed over; if all do, one side is grown
    through the adjacency instead.

    Parameters
    ----------
    idx
        Unit positions; they must be connected in ``adj``.
    hh, pop
        Households and population of every unit (indexed by position).
    adj
        Symmetric adjacency matrix over all units; only edges inside ``idx`` are used.
    band
        ``(low_hh, high_hh, low_pop, high_pop)`` of one grid.
    angle
        Rotation (radians) of every cut away from the principal axis, to draw alternatives.

    Returns
    -------
    list of arrays
        ``min(k, len(idx))`` non-empty contiguous parts.
    """
    lo_h, hi_h, lo_p, hi_p = band
    weight = hh / max((lo_h + hi_h) / 2, 1e-9) + pop / max((lo_p + hi_p) / 2, 1e-9) + 1e-6
    idx = np.asarray(idx)
    base = _Local(adj, idx)
    where = {int(u): i for i, u in enumerate(idx.tolist())}
    out: list[np.ndarray] = []
    stack = [(idx, int(k))]
    while stack:
        cur, kk = stack.pop()
        kk = min(kk, len(cur))
        if kk <= 1:
            out.append(cur)
            continue
        k1 = kk // 2
        loc = np.fromiter((where[int(u)] for u in cur.tolist()), np.int64, len(cur))
        side = _best_cut(cur, loc, base, kk, k1, hh, pop, weight, xy, band, angle,
                         n_angles if kk <= fine_k else 1)
        if side is None:
            proj = _principal_order(xy[cur], angle)
            w = weight[cur]
            side = _grow(adj, cur, proj, w, w.sum() * k1 / kk)
            if side.all() or not side.any():
                side = np.zeros(len(cur), bool)
                side[np.argsort(proj, kind="stable")[:max(1, int(len(cur) * k1 / kk))]] = True
            nr, lab = base.pieces(loc[~side])
            if nr > 1:  # pieces of the far side cut off by the grown side join it
                main = np.argmax(np.bincount(lab, w[~side]))
                rest = np.flatnonzero(~side)
                side[rest[lab != main]] = True
            nl, lab = base.pieces(loc[side])
            if nl > 1:
                main = np.argmax(np.bincount(lab, w[side]))
                sel = np.flatnonzero(side)
                side[sel[lab != main]] = False
        stack.append((cur[~side], kk - k1))
        stack.append((cur[side], k1))
    return out


def _best_cut(cur: np.ndarray, loc: np.ndarray, base: _Local, kk: int, k1: int, hh: np.ndarray, pop: np.ndarray,
              weight: np.ndarray, xy: np.ndarray, band, angle: float, n_angles: int,
              max_checks: int = 6) -> np.ndarray | None:
    """Best straight cut of ``cur`` into sets for ``k1`` and ``kk - k1`` grids, all directions at once."""
    k2 = kk - k1
    h, p, w = hh[cur], pop[cur], weight[cur]
    Ht, Pt, Wt = h.sum(), p.sum(), w.sum()
    c = xy[cur] - xy[cur].mean(axis=0)
    sxx, syy, sxy = float(c[:, 0] @ c[:, 0]), float(c[:, 1] @ c[:, 1]), float(c[:, 0] @ c[:, 1])
    th = 0.5 * np.arctan2(2 * sxy, sxx - syy) + angle + np.arange(n_angles) * np.pi / n_angles  # principal axis first
    dirs = np.stack([np.cos(th), np.sin(th)])
    order = np.argsort(c @ dirs, axis=0, kind="stable")  # (n, A)
    hl = np.cumsum(h[order], axis=0)[:-1]
    pl = np.cumsum(p[order], axis=0)[:-1]
    wl = np.cumsum(w[order], axis=0)[:-1]
    dep = np.minimum(_depth_arr(hl / k1, pl / k1, band), _depth_arr((Ht - hl) / k2, (Pt - pl) / k2, band))
    a = np.arange(n_angles)
    off = np.minimum(a, n_angles - a) / max(n_angles / 2, 1)
    score = (np.minimum(dep, 0.25) - 0.3 * np.abs(wl / Wt - k1 / kk) - 0.03 * off).ravel()
    m = min(max_checks, len(score))
    top = np.argpartition(-score, m - 1)[:m]
    top = top[np.argsort(-score[top], kind="stable")]
    full = np.zeros(base.n, bool)
    for t in top:
        i, col = divmod(int(t), n_angles)
        side = np.zeros(len(cur), bool)
        side[order[:i + 1, col]] = True
        full[:] = False
        full[loc[side]] = True
        if not base.connected(full):
            continue
        full[:] = False
        full[loc[~side]] = True
        if base.connected(full):
            return side
    return None
