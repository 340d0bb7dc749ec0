"""Local search: move boundary units between neighbouring grids to bring grids into their bands.

Each grid pays a cost that is zero while its totals sit inside a *safe box* (the band shrunk by a safety margin),
grows with the square of the distance outside it, and jumps by a fixed step when the totals leave the band itself.
A move of unit ``u`` from grid ``A`` to a neighbouring grid ``B`` is taken when it lowers the sum of the two grids'
costs plus the weighted change in boundary length (borders along streets count less, borders along arterials
count negative, so grids avoid spanning them) plus, in a rebalance, a penalty for units leaving their current grid.
``A`` must stay contiguous: a move is refused when ``u`` is a cut vertex of ``A``.

Every round scores all candidate moves at once with numpy, then applies the best ones in order, re-checking each
against the totals as they change; a unit next to one that already moved waits for the next round.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .graph import UnitGraph
from .report import band_violation
from .seeding import Bands

__all__ = ["CostWeights", "Refiner"]

log = logging.getLogger(__name__)
_EPS = 1e-7


@dataclass(frozen=True)
class CostWeights:
    """Weights of the local-search objective (see the module docstring)."""

    margin_h: np.ndarray  # safety margin per zone, households
    margin_p: np.ndarray  # safety margin per zone, population
    out_of_band: float = 2.0
    alpha: float = 0.0  # per metre of weighted boundary
    change: float = 0.0  # per unit leaving its home grid


class Refiner:
    """Mutable partition state plus the local search over it.

    Parameters
    ----------
    graph
        Unit adjacency.
    hh, pop
        Households and population of every unit.
    labels
        Initial grid of every unit (``0..G-1``); modified in place through :attr:`labels`.
    grid_zone
        Zone code of every grid (its band).
    bands, weights
        Bands per zone and objective weights.
    cut_weight
        Weighted length of every undirected edge when it lies on a grid boundary.
    movable
        Undirected edges along which a unit may change grid (same region, no tower involved).
    fixed
        Units that never move (towers).
    unit_zone
        Zone code of every unit (a grid re-cut takes the zone of most of its households).
    home
        Grid each unit belongs to before a rebalance, for the change penalty, or ``None``.
    """

    def __init__(self, graph: UnitGraph, hh: np.ndarray, pop: np.ndarray, labels: np.ndarray,
                 grid_zone: np.ndarray, bands: Bands, weights: CostWeights, cut_weight: np.ndarray,
                 movable: np.ndarray, fixed: np.ndarray, unit_zone: np.ndarray, home: np.ndarray | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self.g = graph
        self.unit_zone = unit_zone
        self.hh, self.pop = hh.astype(float), pop.astype(float)
        self.labels = labels.astype(np.int64)
        self.bands, self.w = bands, weights
        self.fixed = fixed.astype(bool)
        self.home = home
        self.rng = rng or np.random.default_rng(0)
        self.src = graph.src
        self.dst = graph.indices
        self.wdir = cut_weight[graph.edge_of]
        self.mdir = movable[graph.edge_of]
        self.indptr, self.indices = graph.indptr, graph.indices
        self._nb = None
        cap = max(int(self.labels.max()) + 1, len(grid_zone)) if len(self.labels) else len(grid_zone)
        self.zone = np.zeros(cap, np.int64)
        self.zone[:len(grid_zone)] = grid_zone
        self.frozen = np.zeros(cap, bool)
        self.recount()
        self._zl = [(float(bands.lo_h[z]), float(bands.hi_h[z]), float(bands.lo_p[z]), float(bands.hi_p[z]),
                     float(weights.margin_h[z]), float(weights.margin_p[z])) for z in range(len(bands.lo_h))]

    # ------------------------------------------------------------------ state
    @property
    def n_grids(self) -> int:
        """Number of grid slots (some may be empty after merges)."""
        return len(self.zone)

    def recount(self) -> None:
        """Recompute grid totals from the labels."""
        G = len(self.zone)
        self.H = np.bincount(self.labels, self.hh, G)
        self.P = np.bincount(self.labels, self.pop, G)
        self.cnt = np.bincount(self.labels, minlength=G)

    def add_grids(self, zones: np.ndarray) -> np.ndarray:
        """Append empty grid slots of the given zones; returns their ids."""
        start = len(self.zone)
        zones = np.asarray(zones, np.int64)
        self.zone = np.r_[self.zone, zones]
        self.frozen = np.r_[self.frozen, np.zeros(len(zones), bool)]
        self.H = np.r_[self.H, np.zeros(len(zones))]
        self.P = np.r_[self.P, np.zeros(len(zones))]
        self.cnt = np.r_[self.cnt, np.zeros(len(zones), np.int64)]
        return np.arange(start, start + len(zones))

    def set_labels(self, units: np.ndarray, new: np.ndarray) -> None:
        """Give ``units`` the grids ``new`` (same length) and update the totals."""
        old = self.labels[units]
        h, p = self.hh[units], self.pop[units]
        np.subtract.at(self.H, old, h)
        np.subtract.at(self.P, old, p)
        np.subtract.at(self.cnt, old, 1)
        np.add.at(self.H, new, h)
        np.add.at(self.P, new, p)
        np.add.at(self.cnt, new, 1)
        self.labels[units] = new

    def assign(self, units: np.ndarray, grid: int) -> None:
        """Put ``units`` into ``grid`` and update the totals."""
        old = self.labels[units]
        np.subtract.at(self.H, old, self.hh[units])
        np.subtract.at(self.P, old, self.pop[units])
        np.subtract.at(self.cnt, old, 1)
        self.labels[units] = grid
        self.H[grid] += self.hh[units].sum()
        self.P[grid] += self.pop[units].sum()
        self.cnt[grid] += len(units)

    # ------------------------------------------------------------------ cost
    def cost(self, H: np.ndarray, P: np.ndarray, g: np.ndarray) -> np.ndarray:
        """Band cost of grids ``g`` if their totals were ``H``, ``P`` (vectorised)."""
        z = self.zone[g]
        b, w = self.bands, self.w
        lo_h, hi_h, lo_p, hi_p = b.lo_h[z], b.hi_h[z], b.lo_p[z], b.hi_p[z]
        mh, mp = w.margin_h[z], w.margin_p[z]
        dh = np.maximum(np.maximum(lo_h + mh - H, H - hi_h + mh), 0.0) / mh
        dp = np.maximum(np.maximum(lo_p + mp - P, P - hi_p + mp), 0.0) / mp
        out = (H < lo_h) | (H > hi_h) | (P < lo_p) | (P > hi_p)
        return dh * dh + dp * dp + w.out_of_band * out

    def _cost1(self, H: float, P: float, g: int) -> float:
        lo_h, hi_h, lo_p, hi_p, mh, mp = self._zl[self.zone[g]]
        dh = max(lo_h + mh - H, H - hi_h + mh, 0.0) / mh
        dp = max(lo_p + mp - P, P - hi_p + mp, 0.0) / mp
        c = dh * dh + dp * dp
        if H < lo_h or H > hi_h or P < lo_p or P > hi_p:
            c += self.w.out_of_band
        return c

    def in_band(self, g: np.ndarray | None = None) -> np.ndarray:
        """Whether grids ``g`` (default all) are inside both bands of their zone."""
        g = np.arange(len(self.zone)) if g is None else g
        z = self.zone[g]
        b = self.bands
        H, P = self.H[g], self.P[g]
        return (H >= b.lo_h[z]) & (H <= b.hi_h[z]) & (P >= b.lo_p[z]) & (P <= b.hi_p[z])

    def violation(self, g: np.ndarray) -> np.ndarray:
        """How far grids ``g`` lie outside their bands, as a share of the band edge they miss (0 inside; 1.0 is a
        grid twice its cap or empty), the worse of households and population (:func:`report.band_violation`)."""
        return band_violation(self.H[g], self.P[g], self.zone[g], self.bands)

    # ------------------------------------------------------------------ moves
    def _neighbours(self, u: int) -> np.ndarray:
        return self.indices[self.indptr[u]:self.indptr[u + 1]]

    @property
    def nbl(self) -> list[list[int]]:
        """Neighbour lists of every unit (built on first use)."""
        if self._nb is None:
            ind = self.indices.tolist()
            ptr = self.indptr.tolist()
            self._nb = [ind[ptr[i]:ptr[i + 1]] for i in range(self.g.n)]
        return self._nb

    def can_remove(self, u: int, a: int) -> bool:
        """Whether grid ``a`` stays connected without unit ``u``."""
        lab = self.labels
        nbl = self.nbl
        nbs = [x for x in nbl[u] if lab[x] == a]
        if len(nbs) <= 1:
            return True
        want = set(nbs)
        # quick test: the neighbours in A are connected among themselves
        seen = {nbs[0]}
        stack = [nbs[0]]
        while stack:
            x = stack.pop()
            for y in nbl[x]:
                if y in want and y not in seen:
                    seen.add(y)
                    stack.append(y)
        if len(seen) == len(want):
            return True
        # full search inside A without u
        seen = {nbs[0], u}
        stack = [nbs[0]]
        found = 1
        while stack:
            x = stack.pop()
            for y in nbl[x]:
                if y not in seen and lab[y] == a:
                    seen.add(y)
                    if y in want:
                        found += 1
                        if found == len(want):
                            return True
                    stack.append(y)
        return False

    def run(self, units: np.ndarray | None = None, max_rounds: int = 400) -> int:
        """Run rounds of improving moves until none is left or ``max_rounds`` is reached.

        Parameters
        ----------
        units
            Restrict the search to moves of these units (and moves into their grids).  ``None`` = all units.

        Returns
        -------
        int
            Number of moves made.
        """
        lab = self.labels
        n = self.g.n
        if units is None:
            ent = np.arange(len(self.src))
        else:
            starts = self.indptr[units]
            lens = self.indptr[units + 1] - starts
            ent = np.arange(int(lens.sum())) + np.repeat(starts - np.r_[0, np.cumsum(lens)[:-1]], lens)
        s_all, d_all = self.src[ent], self.dst[ent]
        w_all, m_all = self.wdir[ent], self.mdir[ent]
        keep = m_all & ~self.fixed[s_all]
        s_c, d_c, w_c = s_all[keep], d_all[keep], w_all[keep]
        touched = None
        moves = 0
        for rnd in range(max_rounds):
            G = len(self.zone)
            ls, ld = lab[s_c], lab[d_c]
            cm = (ls != ld) & ~self.frozen[ls] & ~self.frozen[ld]
            if touched is not None:
                cm &= touched[ls] | touched[ld]
            if not cm.any():
                break
            same = lab[s_all] == lab[d_all]
            internal = np.bincount(s_all[same], w_all[same], n)
            key = s_c[cm] * G + ld[cm]
            uk, inv = np.unique(key, return_inverse=True)
            conn = np.bincount(inv, w_c[cm])
            cu, cb = uk // G, uk % G
            ca = lab[cu]
            h, p = self.hh[cu], self.pop[cu]
            Ha, Pa, Hb, Pb = self.H[ca], self.P[ca], self.H[cb], self.P[cb]
            dband = (self.cost(Ha - h, Pa - p, ca) - self.cost(Ha, Pa, ca)
                     + self.cost(Hb + h, Pb + p, cb) - self.cost(Hb, Pb, cb))
            dcut = self.w.alpha * (internal[cu] - conn)
            if self.home is not None and self.w.change:
                hm = self.home[cu]
                dcut = dcut + self.w.change * ((cb != hm).astype(float) - (ca != hm))
            delta = dband + dcut
            good = np.flatnonzero((delta < -_EPS) & (self.cnt[ca] > 1))
            if len(good) == 0:
                break
            good = good[np.argsort(delta[good] + self.rng.uniform(0, 1e-9, len(good)), kind="stable")]
            dirty = np.zeros(n, bool)
            touched = np.zeros(G, bool)
            made = 0
            for i in good:
                u = int(cu[i])
                a, b = int(ca[i]), int(cb[i])
                if dirty[u]:
                    touched[a] = True  # scored on stale borders: score it again next round
                    continue
                if lab[u] != a or self.cnt[a] <= 1:
                    continue
                hu, pu = self.hh[u], self.pop[u]
                Ha, Pa, Hb, Pb = self.H[a], self.P[a], self.H[b], self.P[b]
                d = (self._cost1(Ha - hu, Pa - pu, a) - self._cost1(Ha, Pa, a)
                     + self._cost1(Hb + hu, Pb + pu, b) - self._cost1(Hb, Pb, b) + dcut[i])
                if d >= -_EPS or not self.can_remove(u, a):
                    continue
                lab[u] = b
                self.H[a] -= hu
                self.P[a] -= pu
                self.cnt[a] -= 1
                self.H[b] += hu
                self.P[b] += pu
                self.cnt[b] += 1
                dirty[u] = True
                dirty[self._neighbours(u)] = True
                touched[a] = touched[b] = True
                made += 1
            moves += made
            if made == 0:
                break
        log.debug("refine: %d moves", moves)
        return moves
