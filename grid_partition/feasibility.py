"""Proofs that a unit cannot sit in any grid inside the band.

A grid the search leaves out of band is *proven infeasible* when one of its units fits in no in-band grid at all:
every connected group of units containing it (each group scored with the band of its majority zone) is either
below the floor or over a cap.  The groups are enumerated exactly once each, growing from the unit and pruning as
soon as a cap of every zone is exceeded (totals only grow); high-rise neighbourhoods, where this matters, have few
small groups, so the proof is quick.  Where the enumeration would be too long the answer is "unknown".
"""
from __future__ import annotations

import numpy as np

from .graph import UnitGraph
from .seeding import Bands

__all__ = ["unit_fits_somewhere"]


def unit_fits_somewhere(graph: UnitGraph, hh: np.ndarray, pop: np.ndarray, zone: np.ndarray, bands: Bands,
                        u: int, blocked: np.ndarray, max_sets: int = 20_000) -> bool | None:
    """Whether some connected group of units containing ``u`` has totals inside its zone's band.

    Parameters
    ----------
    blocked
        Units that can never share a grid (towers).
    max_sets
        Give up after examining this many groups.

    Returns
    -------
    bool or None
        ``True`` (a group exists), ``False`` (proven: none exists) or ``None`` (gave up).
    """
    hmax = float(bands.hi_h.max())
    pmax = float(bands.hi_p.max())
    nz = len(bands.lo_h)
    indptr, indices = graph.indptr, graph.indices
    lo_h, hi_h, lo_p, hi_p = (b.tolist() for b in (bands.lo_h, bands.hi_h, bands.lo_p, bands.hi_p))

    def fits(h: float, p: float, zh: list[float], n_units_by_zone: list[int]) -> bool:
        z = max(range(nz), key=lambda k: (zh[k], -k)) if h > 0 else max(range(nz), key=lambda k: (n_units_by_zone[k], -k))
        return lo_h[z] <= h <= hi_h[z] and lo_p[z] <= p <= hi_p[z]

    count = 0

    def nbrs(x: int) -> list[int]:
        return [int(y) for y in indices[indptr[x]:indptr[x + 1]] if not blocked[y]]

    zh0 = [0.0] * nz
    zn0 = [0] * nz
    zh0[int(zone[u])] += float(hh[u])
    zn0[int(zone[u])] += 1
    if fits(float(hh[u]), float(pop[u]), zh0, zn0):
        return True
    # stack of (set, candidates, excluded, h, p, zone hh, zone counts)
    stack = [((u,), tuple(y for y in nbrs(u)), frozenset([u]), float(hh[u]), float(pop[u]), zh0, zn0)]
    while stack:
        S, cand, seen, h, p, zh, zn = stack.pop()
        cand = list(dict.fromkeys(cand))
        excluded: set[int] = set()
        for i, c in enumerate(cand):
            if c in seen or c in excluded:
                continue
            h2, p2 = h + float(hh[c]), p + float(pop[c])
            excluded.add(c)
            if h2 > hmax or p2 > pmax:
                continue
            count += 1
            if count > max_sets:
                return None
            zh2 = zh.copy()
            zn2 = zn.copy()
            zh2[int(zone[c])] += float(hh[c])
            zn2[int(zone[c])] += 1
            if fits(h2, p2, zh2, zn2):
                return True
            seen2 = seen | excluded
            new = [y for y in nbrs(c) if y not in seen2]
            rest = [y for y in cand[i + 1:] if y not in excluded]
            stack.append((S + (c,), tuple(rest + new), seen2 | {c}, h2, p2, zh2, zn2))
    return False
