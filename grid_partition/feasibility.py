"""Proofs that a unit, or a piece of the district, cannot sit in grids inside the band.

Three arguments, each exact (never a guess; where the work would be too long the answer is "unknown"):

* **A unit fits in no in-band grid** (:func:`unit_fits_somewhere`): every connected group of units containing it
  is, with the band of the zone holding most of its households, below a floor or over a cap.  Groups are
  enumerated exactly once each, growing from the unit and pruned as soon as no zone's band can be reached any
  more: totals only grow, so a zone is out of reach once the population is over its cap, or once the fewest
  households at which that zone could hold the majority (every other zone's households plus at least as many of
  its own) are over its household cap.  In high-rise neighbourhoods, where this matters, that leaves few groups.
* **A unit that can never share a grid** (:func:`never_in_band`): alone over the caps of its own zone, and too big
  to be the minority of a grid of any other zone (a grid of zone ``z`` holds at least as many households of ``z``
  as of any other zone, so at least twice the unit's households).
* **A piece that cannot be cut into in-band grids** (:func:`split_counts_exist`): a connected piece of the district
  that no grid can leave must be cut into whole grids; if no numbers ``k_z`` of grids per zone have
  ``Σ k_z·low ≤ total ≤ Σ k_z·high`` for households and for population at once, at least one of its grids is out of
  band, whatever the cut.
"""
from __future__ import annotations

import itertools

import numpy as np

from .graph import UnitGraph
from .seeding import Bands

__all__ = ["unit_fits_somewhere", "in_band_groups_with", "strands_a_neighbour", "never_in_band", "split_counts_exist",
           "can_still_fit", "majority_zone"]


def can_still_fit(h: float, p: float, zh: list[float], hi_h: list[float], hi_p: list[float]) -> bool:
    """Whether adding units to a group with totals ``h``, ``p`` (``zh`` households per zone) could bring it inside
    some zone's band.  A necessary condition: pruning by it loses no group.

    >>> can_still_fit(420, 1059, [0.0, 420.0], [600, 500], [1500, 1000])   # outer: people over; inner: 840 > 600
    False
    >>> can_still_fit(250, 700, [0.0, 250.0], [600, 500], [1500, 1000])
    True
    """
    nz = len(zh)
    for z in range(nz):
        if p > hi_p[z]:
            continue
        mx = max((zh[k] for k in range(nz) if k != z), default=0.0)
        if (h - zh[z]) + max(zh[z], mx) <= hi_h[z]:
            return True
    return False


def majority_zone(zh: list[float], zn: list[int]) -> int:
    """The scorer's zone of a group: most households, most units when it has none, the first zone on a tie."""
    key = zh if sum(zh) > 0 else zn
    best = 0
    for k in range(1, len(key)):
        if key[k] > key[best]:
            best = k
    return best


def never_in_band(hh: np.ndarray, pop: np.ndarray, zone: np.ndarray, bands: Bands) -> np.ndarray:
    """Units that no grid holding them can bring inside a band (see the module docstring).

    Such a unit is over its own zone's caps; as the minority of a grid of another zone ``z`` that grid would hold
    at least twice its households and at least its people, which must also be over ``z``'s caps.
    """
    over_own = (hh > bands.hi_h[zone]) | (pop > bands.hi_p[zone])
    dead = over_own.copy()
    for z in range(len(bands.lo_h)):
        other = zone != z
        ok_z = (2 * hh <= bands.hi_h[z]) & (pop <= bands.hi_p[z])
        dead &= ~(other & ok_z)
    return dead


def split_counts_exist(h: float, p: float, bands: Bands, max_grids: int = 10_000,
                       zones: np.ndarray | None = None) -> bool:
    """Whether some numbers of grids per zone could hold totals ``h`` households and ``p`` people in band.

    Necessary for a piece of the district to be cut into in-band grids only: ``Σ k_z·lo ≤ total ≤ Σ k_z·hi`` for
    both households and population.  ``False`` is therefore a proof that at least one grid is out of band.
    ``zones`` (booleans per zone) limits the grids to zones the piece has households of: a grid of zone ``z``
    holds at least as many households of ``z`` as of any other zone, so none without them (and its floor is
    above zero).

    >>> b = Bands(np.array([500.]), np.array([600.]), np.array([1000.]), np.array([1500.]))
    >>> split_counts_exist(1100, 2700, b), split_counts_exist(650, 1600, b)
    (True, False)
    """
    lo_h, hi_h, lo_p, hi_p = (x.astype(float) for x in (bands.lo_h, bands.hi_h, bands.lo_p, bands.hi_p))
    nz = len(lo_h)
    kmax = [int(min(max_grids, np.floor(min(h / lo_h[z] if lo_h[z] > 0 else np.inf,
                                             p / lo_p[z] if lo_p[z] > 0 else np.inf)))) for z in range(nz)]
    kmax = [k if np.isfinite(k) else max_grids for k in kmax]
    if zones is not None:
        kmax = [k if zones[z] or lo_h[z] <= 0 else 0 for z, k in enumerate(kmax)]
    if nz > 3 or np.prod([k + 1 for k in kmax]) > 5_000_000:
        return True  # too many combinations to check: no claim
    for ks in itertools.product(*(range(k + 1) for k in kmax)):
        if sum(ks) == 0:
            continue
        k = np.asarray(ks, float)
        if k @ lo_h <= h <= k @ hi_h and k @ lo_p <= p <= k @ hi_p:
            return True
    return False


def unit_fits_somewhere(graph: UnitGraph, hh: np.ndarray, pop: np.ndarray, zone: np.ndarray, bands: Bands,
                        u: int, blocked: np.ndarray, max_sets: int = 20_000) -> bool | None:
    """Whether some connected group of units containing ``u`` has totals inside its zone's band.

    Parameters
    ----------
    blocked
        Units that can never be in an in-band grid (:func:`never_in_band`): a group holding one is never in band,
        so groups do not grow through them.
    max_sets
        Give up after examining this many groups.

    Returns
    -------
    bool or None
        ``True`` (a group exists), ``False`` (proven: none exists) or ``None`` (gave up).
    """
    for found in _groups_with(graph, hh, pop, zone, bands, u, blocked, max_sets):
        return None if found is None else True
    return False


def in_band_groups_with(graph: UnitGraph, hh: np.ndarray, pop: np.ndarray, zone: np.ndarray, bands: Bands, u: int,
                        blocked: np.ndarray, max_sets: int = 20_000, max_groups: int = 200
                        ) -> list[frozenset[int]] | None:
    """Every connected in-band group of units containing ``u`` (none through ``blocked``), or ``None`` when there
    are more than ``max_groups`` or the enumeration passes ``max_sets``."""
    out = []
    for found in _groups_with(graph, hh, pop, zone, bands, u, blocked, max_sets):
        if found is None or len(out) >= max_groups:
            return None
        out.append(found)
    return out


def _groups_with(graph: UnitGraph, hh: np.ndarray, pop: np.ndarray, zone: np.ndarray, bands: Bands, u: int,
                 blocked: np.ndarray, max_sets: int):
    """Yield each connected in-band group containing ``u`` once; yield ``None`` and stop past ``max_sets``."""
    nz = len(bands.lo_h)
    indptr, indices = graph.indptr, graph.indices
    lo_h, hi_h, lo_p, hi_p = (b.tolist() for b in (bands.lo_h, bands.hi_h, bands.lo_p, bands.hi_p))
    if blocked[u]:
        return

    def fits(h: float, p: float, zh: list[float], zn: list[int]) -> bool:
        z = majority_zone(zh, zn)
        return lo_h[z] <= h <= hi_h[z] and lo_p[z] <= p <= hi_p[z]

    def nbrs(x: int) -> list[int]:
        return [int(y) for y in indices[indptr[x]:indptr[x + 1]] if not blocked[y]]

    count = 0
    zh0 = [0.0] * nz
    zn0 = [0] * nz
    zh0[int(zone[u])] += float(hh[u])
    zn0[int(zone[u])] += 1
    h0, p0 = float(hh[u]), float(pop[u])
    if fits(h0, p0, zh0, zn0):
        yield frozenset([u])
    if not can_still_fit(h0, p0, zh0, hi_h, hi_p):
        return
    # stack of (members, candidates, excluded, h, p, zone hh, zone counts)
    stack = [((u,), tuple(nbrs(u)), frozenset([u]), h0, p0, zh0, zn0)]
    while stack:
        S, cand, seen, h, p, zh, zn = stack.pop()
        cand = list(dict.fromkeys(cand))
        excluded: set[int] = set()
        for i, c in enumerate(cand):
            if c in seen or c in excluded:
                continue
            excluded.add(c)
            count += 1
            if count > max_sets:
                yield None
                return
            h2, p2 = h + float(hh[c]), p + float(pop[c])
            zh2 = zh.copy()
            zn2 = zn.copy()
            zh2[int(zone[c])] += float(hh[c])
            zn2[int(zone[c])] += 1
            if fits(h2, p2, zh2, zn2):
                yield frozenset(S + (c,))
            if not can_still_fit(h2, p2, zh2, hi_h, hi_p):
                continue
            seen2 = seen | excluded
            new = [y for y in nbrs(c) if y not in seen2]
            rest = [y for y in cand[i + 1:] if y not in excluded]
            stack.append((S + (c,), tuple(rest + new), seen2 | {c}, h2, p2, zh2, zn2))


def strands_a_neighbour(graph: UnitGraph, hh: np.ndarray, pop: np.ndarray, zone: np.ndarray, bands: Bands,
                        u: int, blocked: np.ndarray, max_sets: int = 2_000, max_groups: int = 60
                        ) -> tuple[list[frozenset[int]], list[int]] | None:
    """Whether every in-band group ``S`` holding ``u`` leaves some neighbour ``w`` of ``S`` with no in-band group.

    If so, in any partition either the grid of ``u`` is out of band or it is one such ``S`` and the grid of its
    stranded neighbour is: at least one grid holding ``u`` or one of the witnesses is out of band.

    Returns
    -------
    (groups, witnesses) or None
        The in-band groups holding ``u`` and, for each, one stranded neighbour; ``None`` when some group strands
        nobody (or the search was too long to decide).
    """
    groups = in_band_groups_with(graph, hh, pop, zone, bands, u, blocked, max_sets * 5, max_groups)
    if groups is None or not groups:
        return None
    indptr, indices = graph.indptr, graph.indices
    witnesses = []
    for S in groups:
        wall = blocked.copy()
        wall[list(S)] = True
        ring = sorted({int(y) for x in S for y in indices[indptr[x]:indptr[x + 1]] if not wall[y]})
        w_found = None
        for w in ring:
            if unit_fits_somewhere(graph, hh, pop, zone, bands, w, wall, max_sets) is False:
                w_found = w
                break
        if w_found is None:
            return None
        witnesses.append(w_found)
    return groups, witnesses
