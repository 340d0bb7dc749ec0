"""Simulated annealing on a small cluster of grids, for the spots the greedy local search cannot fix.

Where units are large (high-rise towers of 100–400 households), bringing a grid into band often needs a swap or a
chain of moves that passes through worse states; annealing over the cluster "grid + its neighbours" finds those.
The search is the same objective as :mod:`grid_partition.refine` (band costs, weighted boundary length, change
penalty), restricted to moves of the cluster's units between the cluster's grids, and keeps every grid contiguous.
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np

from .refine import Refiner

__all__ = ["anneal_cluster"]


def anneal_cluster(R: Refiner, units: np.ndarray, grids: np.ndarray, movable_dir: np.ndarray,
                   rng: np.random.Generator, iters: int, t_start: float = 1.0, t_end: float = 0.02
                   ) -> tuple[tuple[int, float], np.ndarray]:
    """Anneal the assignment of ``units`` to ``grids`` and return the best state found.

    Parameters
    ----------
    R
        Current state; ``R.labels[units]`` must all be in ``grids``.  Not modified.
    movable_dir
        Whether each directed CSR entry may carry a move.
    iters
        Number of proposed moves.

    Returns
    -------
    (n_out_of_band, cost), labels
        Score of the best state (band costs of the cluster's grids plus the change in weighted boundary length
        and change penalties since the start) and the grid of every unit in it.
    """
    g = R.g
    grids = [int(x) for x in grids]
    gl = {x: j for j, x in enumerate(grids)}
    loc = {int(u): i for i, u in enumerate(units)}
    c = len(units)
    lab = [gl[int(R.labels[u])] for u in units]
    home = None if R.home is None or not R.w.change else [int(R.home[u]) for u in units]
    hh = R.hh[units].tolist()
    pop = R.pop[units].tolist()
    alpha = R.w.alpha
    nbrs: list[list[tuple[int, float]]] = []
    for u in units:
        s, e = g.indptr[u], g.indptr[u + 1]
        row = []
        for v, w, m in zip(g.indices[s:e].tolist(), R.wdir[s:e].tolist(), movable_dir[s:e].tolist()):
            j = loc.get(v)
            if j is not None and m:
                row.append((j, w))
        nbrs.append(row)
    k = len(grids)
    H = [0.0] * k
    P = [0.0] * k
    cnt = [0] * k
    for i in range(c):
        H[lab[i]] += hh[i]
        P[lab[i]] += pop[i]
        cnt[lab[i]] += 1
    zl = [R._zl[int(R.zone[x])] for x in grids]
    w_out = R.w.out_of_band
    change = R.w.change

    def cost(h: float, p: float, j: int) -> tuple[float, int]:
        lo_h, hi_h, lo_p, hi_p, mh, mp = zl[j]
        dh = max(lo_h + mh - h, h - hi_h + mh, 0.0) / mh
        dp = max(lo_p + mp - p, p - hi_p + mp, 0.0) / mp
        out = h < lo_h or h > hi_h or p < lo_p or p > hi_p
        return dh * dh + dp * dp + (w_out if out else 0.0), int(out)

    costs = [cost(H[j], P[j], j) for j in range(k)]
    cur_cost = sum(x[0] for x in costs)  # band costs + weighted boundary change since the start
    cur_out = sum(x[1] for x in costs)
    best = ((cur_out, cur_cost), lab.copy())

    def connected_without(i: int, a: int) -> bool:
        # grid ``a`` stays in one piece without unit ``i`` when i's neighbours in ``a`` still reach one another;
        # a breadth-first search from one of them stops as soon as it has met the others, which around a boundary
        # unit is a few steps, where counting the whole grid took as many steps as the grid has units
        start = [j for j, _ in nbrs[i] if lab[j] == a]
        if len(start) <= 1:
            return True
        want = set(start)
        near = {start[0]}  # first, the common case: the neighbours touch one another around i
        stack = [start[0]]
        while stack:
            x = stack.pop()
            for y, _ in nbrs[x]:
                if y in want and y not in near:
                    near.add(y)
                    stack.append(y)
        if len(near) == len(want):
            return True
        targets = want - near
        seen = near | {i}
        queue = deque(near)
        while queue:
            x = queue.popleft()
            for y, _ in nbrs[x]:
                if y not in seen and lab[y] == a:
                    if y in targets:
                        targets.discard(y)
                        if not targets:
                            return True
                    seen.add(y)
                    queue.append(y)
        return False

    picks = rng.integers(0, c, iters).tolist()
    r1 = rng.random(iters).tolist()
    r2 = rng.random(iters).tolist()
    decay = (t_end / t_start) ** (1.0 / max(iters, 1))
    T = t_start
    for it in range(iters):
        T *= decay
        i = picks[it]
        a = lab[i]
        if cnt[a] <= 1:
            continue
        to_a = 0.0
        by = {}
        for j, w in nbrs[i]:
            lj = lab[j]
            if lj == a:
                to_a += w
            else:
                by[lj] = by.get(lj, 0.0) + w
        if not by:
            continue
        targets = list(by)
        b = targets[int(r1[it] * len(targets))]
        h, p = hh[i], pop[i]
        ca_new = cost(H[a] - h, P[a] - p, a)
        cb_new = cost(H[b] + h, P[b] + p, b)
        d = ca_new[0] + cb_new[0] - costs[a][0] - costs[b][0] + alpha * (to_a - by[b])
        if home is not None:
            d += change * ((grids[b] != home[i]) - (grids[a] != home[i]))
        if d > 0 and r2[it] >= math.exp(-d / T):
            continue
        if not connected_without(i, a):
            continue
        lab[i] = b
        H[a] -= h
        P[a] -= p
        cnt[a] -= 1
        H[b] += h
        P[b] += p
        cnt[b] += 1
        cur_out += ca_new[1] + cb_new[1] - costs[a][1] - costs[b][1]
        cur_cost += d
        costs[a], costs[b] = ca_new, cb_new
        if (cur_out, cur_cost) < best[0]:
            best = ((cur_out, cur_cost), lab.copy())
    out = np.array(grids, dtype=np.int64)[np.array(best[1], dtype=np.int64)]
    return best[0], out
