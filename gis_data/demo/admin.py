"""Street offices, communities and the initial grid plan.

Street offices (街道) and communities (社区) are unions of whole blocks, cut by
recursive bisection on a mix of households and area (so that rural communities are
not vast) and repaired to be contiguous. Grids (网格) are unions of whole building
cells inside one community, cut by bisection along the cell-adjacency graph toward
the zone's household target (inner 540, outer 350), so each is one piece. The plan
is drawn on the households of a few years ago, so where new compounds have filled
up since, grids are now over the band: it is the plan that re-partitioning improves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra

from gis_data.demo.buildings import Buildings
from gis_data.demo.city import City
from gis_data.demo.geom import hilbert_index, largest_remainder, rcb, repair_contiguity, shared_borders
from gis_data.demo.names import STREET_OFFICES, community_names
from gis_data.demo.scale import DemoScale

__all__ = ["GRID_TARGET", "Admin", "build_admin"]

log = logging.getLogger(__name__)

#: Households an existing grid was drawn to hold, by zone (inner, outer).
GRID_TARGET = {True: 540.0, False: 350.0}


@dataclass
class Admin:
    """Admin units and grids; ``block_*`` per block, ``bld_*`` per building, ``grid_*`` per grid."""

    street_code: list[str]
    street_name: list[str]
    comm_code: list[str]
    comm_name: list[str]
    comm_street: np.ndarray
    block_comm: np.ndarray
    bld_grid: np.ndarray
    grid_code: list[str]
    grid_comm: np.ndarray
    grid_inner: np.ndarray


def _order_key(xy: np.ndarray) -> np.ndarray:
    """Reading order of areas on a map: north to south in 1.5 km bands, then west to east."""
    band = np.floor(-xy[:, 1] / 1500.0)
    return np.lexsort((xy[:, 0], band))


def _split(idx: np.ndarray, k: int, weight: np.ndarray, xy: np.ndarray, labels: np.ndarray, start: int) -> int:
    for j, part in enumerate(rcb(idx, k, weight, xy)):
        labels[part] = start + j
    return start + k


def _relabel(labels: np.ndarray, xy: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Labels renumbered 0.. in reading order of their weighted centres."""
    uniq, inv = np.unique(labels, return_inverse=True)
    w = weight + 1e-9
    cx = np.bincount(inv, weights=xy[:, 0] * w) / np.bincount(inv, weights=w)
    cy = np.bincount(inv, weights=xy[:, 1] * w) / np.bincount(inv, weights=w)
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[_order_key(np.c_[cx, cy])] = np.arange(len(uniq))
    return rank[inv]


def build_admin(rng: np.random.Generator, city: City, bld: Buildings, scale: DemoScale) -> Admin:
    """Street offices and communities over the blocks, then the initial grids over the buildings."""
    nb = len(city.cells)
    block_hh = np.bincount(bld.block, weights=bld.households, minlength=nb)
    area = shapely.area(city.cells)
    weight = block_hh + 0.6 * block_hh.sum() / area.sum() * area
    u, v, border = shared_borders(city.cells, min_len=15.0)

    street = np.zeros(nb, dtype=np.int64)
    _split(np.arange(nb), scale.n_streets, weight, city.seeds, street, 0)
    street = repair_contiguity(street, u, v, border, area)
    street = _relabel(street, city.seeds, weight)
    n_streets = int(street.max()) + 1

    street_w = np.bincount(street, weights=weight, minlength=n_streets)
    per_street = largest_remainder(street_w, scale.n_communities, minimum=1)
    comm = np.zeros(nb, dtype=np.int64)
    nxt = 0
    for s in range(n_streets):
        idx = np.flatnonzero(street == s)
        nxt = _split(idx, int(min(per_street[s], idx.size)), weight, city.seeds, comm, nxt)
    inside = street[u] == street[v]
    comm = repair_contiguity(comm, u[inside], v[inside], border[inside], area)
    # renumber communities street by street, each street in reading order
    _, comm = np.unique(comm, return_inverse=True)
    local = np.zeros_like(comm)
    for s in range(n_streets):
        m = street == s
        local[m] = _relabel(comm[m], city.seeds[m], weight[m])
    comm = np.unique(street * 10_000 + local, return_inverse=True)[1]
    comm_street = np.zeros(comm.max() + 1, dtype=np.int64)
    comm_street[comm] = street

    street_code = [STREET_OFFICES[s][0] for s in range(n_streets)]
    street_name = [STREET_OFFICES[s][1] for s in range(n_streets)]
    comm_code, seq = [], {}
    for c in range(len(comm_street)):
        s = int(comm_street[c])
        seq[s] = seq.get(s, 0) + 1
        comm_code.append(f"{street_code[s]}{seq[s]:03d}")
    comm_name = community_names(rng, len(comm_street))

    grid = _initial_grids(city, bld, comm)
    grid_comm = np.zeros(grid.max() + 1, dtype=np.int64)
    grid_comm[grid] = comm[bld.block]
    hh_in = np.bincount(grid, weights=np.where(city.inner[bld.block], bld.households + 1e-3, 0.0))
    hh_out = np.bincount(grid, weights=np.where(city.inner[bld.block], 0.0, bld.households + 1e-3))
    grid_inner = hh_in >= hh_out
    grid_code, gseq = [], {}
    for g in range(len(grid_comm)):
        c = int(grid_comm[g])
        gseq[c] = gseq.get(c, 0) + 1
        grid_code.append(f"{comm_code[c]}-{gseq[c]:02d}")
    log.debug("admin: %d streets, %d communities, %d grids", n_streets, len(comm_code), len(grid_code))
    return Admin(street_code=street_code, street_name=street_name, comm_code=comm_code, comm_name=comm_name,
                 comm_street=comm_street, block_comm=comm, bld_grid=grid, grid_code=grid_code, grid_comm=grid_comm,
                 grid_inner=grid_inner)


def _initial_grids(city: City, bld: Buildings, comm: np.ndarray) -> np.ndarray:
    """Label each building with its grid by geodesic bisection inside each community.

    A community of ``L`` targets' worth of (past) households gets ``round(L)`` grids.
    A region to be cut in ``k`` is cut in two along the cell-adjacency graph: the
    buildings nearest (by path through neighbouring cells) to the region's extreme
    building along its longer axis, up to ``k1/k`` of its load, form one side. Such a
    ball is always one piece; a side that falls apart is cut per piece. Pieces too
    small for a grid of their own join their lightest neighbour. The large towers make
    the loads lumpy, so some grids end off target, as in a real plan.
    """
    n = len(bld.x)
    bcomm = comm[bld.block]
    inner = city.inner[bld.block]
    load = bld.households_prev / np.where(inner, GRID_TARGET[True], GRID_TARGET[False])
    u, v, border = shared_borders(bld.cell, min_len=0.5)
    same = bcomm[u] == bcomm[v]
    u, v, border = u[same], v[same], border[same]
    step = np.hypot(bld.x[u] - bld.x[v], bld.y[u] - bld.y[v]) + 1e-3
    adj = coo_matrix((np.r_[step, step], (np.r_[u, v], np.r_[v, u])), shape=(n, n)).tocsr()
    xy = np.c_[bld.x, bld.y]
    label = np.full(n, -1, dtype=np.int64)
    nxt = 0
    order = np.argsort(bcomm, kind="stable")
    bounds = np.flatnonzero(np.r_[True, bcomm[order][1:] != bcomm[order][:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        nodes = order[a:b]
        k = max(1, int(round(load[nodes].sum())))
        stack = [(nodes, k)]
        while stack:
            nodes, k = stack.pop()
            sub = adj[nodes][:, nodes]
            ncomp, part = connected_components(sub, directed=False)
            if ncomp > 1:  # a side fell apart: share its grids among the pieces
                comp_load = np.bincount(part, weights=load[nodes], minlength=ncomp)
                unit = comp_load.sum() / k
                big = comp_load >= 0.5 * unit
                ks = np.zeros(ncomp, dtype=np.int64)
                if big.any():
                    ks[big] = largest_remainder(comp_load[big], k, minimum=1) if big.sum() <= k else 1
                for c in range(ncomp):
                    piece = nodes[part == c]
                    if ks[c] >= 1:
                        stack.append((piece, int(ks[c])))
                    else:
                        label[piece] = nxt  # a scrap: joins a neighbour below
                        nxt += 1
                continue
            if k <= 1 or nodes.size == 1:
                label[nodes] = nxt
                nxt += 1
                continue
            best = None
            span = xy[nodes]
            for k1 in sorted({k // 2, k - k // 2}):
                goal = load[nodes].sum() * k1 / k
                for src in (np.argmin(span[:, 0]), np.argmax(span[:, 0]), np.argmin(span[:, 1]), np.argmax(span[:, 1])):
                    dist = dijkstra(sub, directed=False, indices=int(src))
                    walk = np.argsort(dist, kind="stable")
                    cum = np.cumsum(load[nodes][walk])
                    cut = int(np.clip(np.argmin(np.abs(cum[:-1] - goal)) + 1, 1, walk.size - 1))
                    err = abs(cum[cut - 1] - goal)
                    rest = walk[cut:]
                    if connected_components(sub[rest][:, rest], directed=False)[0] > 1:
                        err += 10.0  # the far side would fall apart: only as a last resort
                    if best is None or err < best[0] - 1e-9:
                        best = (err, k1, walk, cut)
            _, k1, walk, cut = best
            stack.append((nodes[walk[cut:]], k - k1))
            stack.append((nodes[walk[:cut]], k1))
    label = _merge_scraps(label, load, u, v)
    key = hilbert_index(bld.x, bld.y)
    first = pd.Series(key).groupby(label).min()
    rank_key = np.lexsort((first.to_numpy(), pd.Series(bcomm).groupby(label).first().to_numpy()))
    rank = np.empty(len(rank_key), dtype=np.int64)
    rank[rank_key] = np.arange(len(rank_key))
    return rank[label]


def _merge_scraps(label: np.ndarray, load: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Fold labels holding under half a target into their lightest neighbour."""
    n_lab = int(label.max()) + 1
    acc = np.bincount(label, weights=load, minlength=n_lab)
    parent = np.arange(n_lab)

    def root(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    pairs = np.unique(np.sort(np.c_[label[u], label[v]], axis=1), axis=0)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    nbrs: dict[int, list[int]] = {}
    for a, b in pairs:
        nbrs.setdefault(int(a), []).append(int(b))
        nbrs.setdefault(int(b), []).append(int(a))
    for r in np.argsort(acc, kind="stable"):
        r = int(r)
        if root(r) != r or acc[r] >= 0.5:
            continue
        cand = sorted({root(x) for x in nbrs.get(r, [])} - {r}, key=lambda x: (acc[x], x))
        if not cand:
            continue
        t = cand[0]
        parent[r] = t
        acc[t] += acc[r]
        nbrs.setdefault(t, []).extend(nbrs.get(r, []))
    roots = np.array([root(i) for i in range(n_lab)])
    return np.unique(roots, return_inverse=True)[1][label]
