"""Geometry and graph helpers shared by the demo generator's stages.

Everything here works on numpy arrays of shapely geometries in the generator's local
metric frame (metres, origin at the district centre) and is vectorised where the
arrays are long (building cells, events); the few Python loops run over blocks,
communities or grids, never over buildings or events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = [
    "polygon_parts",
    "fix_tessellation",
    "shared_borders",
    "repair_contiguity",
    "rcb",
    "hilbert_index",
    "rectangles",
    "sample_in_cells",
    "bearing_deg",
    "as_multipolygon",
    "largest_remainder",
]


def polygon_parts(geom) -> np.ndarray:
    """The non-empty polygons of ``geom`` (collections and multi-geometries are opened)."""
    parts = shapely.get_parts(np.asarray([geom], dtype=object))
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    return parts[keep]


def fix_tessellation(cells: np.ndarray, anchors: np.ndarray | None = None) -> np.ndarray:
    """Make every cell of a tessellation one Polygon, keeping the tessellation exact.

    Clipping convex Voronoi cells to a non-convex outline can cut a cell in two; a
    stray piece is handed to the neighbouring cell that shares the longest border with
    it, so the union of the cells does not change. The piece kept is the one holding
    the cell's anchor point (its Voronoi site) when given, else the largest.

    Parameters
    ----------
    cells
        Polygonal geometries tiling a region (modified copy is returned).
    anchors
        ``(n, 2)`` site of each cell, or None.

    Returns
    -------
    numpy.ndarray
        The cells, each a Polygon (an empty cell stays empty).
    """
    cells = cells.copy()
    bad = np.flatnonzero((shapely.get_type_id(cells) != 3) & ~shapely.is_empty(cells))
    if bad.size == 0:
        return cells
    tree = shapely.STRtree(cells)
    for i in bad:
        parts = polygon_parts(cells[i])
        if parts.size == 0:
            cells[i] = shapely.Polygon()
            continue
        main = int(np.argmax(shapely.area(parts)))
        if anchors is not None:
            hit = np.flatnonzero(shapely.contains_xy(parts, anchors[i, 0], anchors[i, 1]))
            if hit.size:
                main = int(hit[0])
        cells[i] = parts[main]
        for k, piece in enumerate(parts):
            if k == main:
                continue
            cand = tree.query(piece, predicate="intersects")
            cand = cand[cand != i]
            if cand.size == 0:
                cells[i] = shapely.union(cells[i], piece)
                continue
            shared = shapely.length(shapely.intersection(cells[cand], shapely.boundary(piece)))
            j = int(cand[int(np.argmax(shared))])
            cells[j] = shapely.union(cells[j], piece)
    # a neighbour that received a piece could in theory have become multi-part
    still = (shapely.get_type_id(cells) != 3) & ~shapely.is_empty(cells)
    if still.any():
        for i in np.flatnonzero(still):
            parts = polygon_parts(cells[i])
            cells[i] = parts[int(np.argmax(shapely.area(parts)))] if parts.size else shapely.Polygon()
    return cells


def shared_borders(cells: np.ndarray, min_len: float = 0.5, lines: bool = False, group: np.ndarray | None = None):
    """Pairs of cells that share a border of at least ``min_len`` metres.

    The cells must form a clean coverage (shared edges identical), or else pairs from
    different ``group`` labels are intersected with snap-rounding to a micrometre, so
    that edges differing in the last bits still count as shared.

    Returns
    -------
    u, v : numpy.ndarray
        Cell indices, ``u < v``.
    length : numpy.ndarray
        Length of the shared border.
    geometry : numpy.ndarray, optional
        The shared border, line-merged, when ``lines`` is true.
    """
    tree = shapely.STRtree(cells)
    i, j = tree.query(cells, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    inter = np.empty(len(i), dtype=object)
    cross = np.zeros(len(i), dtype=bool) if group is None else group[i] != group[j]
    inter[~cross] = shapely.intersection(cells[i[~cross]], cells[j[~cross]])
    if cross.any():
        inter[cross] = shapely.intersection(cells[i[cross]], cells[j[cross]], grid_size=1e-6)
    parts, idx = shapely.get_parts(inter, return_index=True)
    linear = shapely.get_type_id(parts) == 1
    length = np.bincount(idx[linear], weights=shapely.length(parts[linear]), minlength=len(i))
    ok = length >= min_len
    if not lines:
        return i[ok], j[ok], length[ok]
    multi = np.full(len(i), None, dtype=object)
    has = np.unique(idx[linear])
    multi[has] = shapely.multilinestrings(parts[linear], indices=np.searchsorted(has, idx[linear]))
    return i[ok], j[ok], length[ok], shapely.line_merge(multi[ok])


def repair_contiguity(labels: np.ndarray, u: np.ndarray, v: np.ndarray, border: np.ndarray,
                      size: np.ndarray, max_rounds: int = 40) -> np.ndarray:
    """Relabel stray pieces so that every label is one connected piece.

    A label's largest piece (by ``size``) stays; every other piece joins the
    neighbouring label with which it shares the longest border. The caller restricts
    the edges (``u``, ``v``) to those allowed, e.g. inside one community, so that
    the repair never crosses a parent boundary.
    """
    labels = labels.copy()
    n = len(labels)
    for _ in range(max_rounds):
        same = labels[u] == labels[v]
        g = coo_matrix((np.ones(int(same.sum())), (u[same], v[same])), shape=(n, n))
        ncomp, comp = connected_components(g, directed=False)
        comp_size = np.bincount(comp, weights=size, minlength=ncomp)
        comp_label = np.empty(ncomp, dtype=labels.dtype)
        comp_label[comp] = labels
        order = np.lexsort((-comp_size, comp_label))
        first = np.r_[True, comp_label[order][1:] != comp_label[order][:-1]]
        stray = np.ones(ncomp, dtype=bool)
        stray[order[first]] = False
        if not stray.any():
            break
        cand = []
        for a, b in ((u, v), (v, u)):
            m = stray[comp[a]] & (labels[a] != labels[b])
            cand.append(pd.DataFrame({"comp": comp[a[m]], "lab": labels[b[m]], "w": border[m]}))
        c = pd.concat(cand).groupby(["comp", "lab"], sort=True)["w"].sum().reset_index()
        if c.empty:
            break
        best = c.sort_values(["comp", "w", "lab"], ascending=[True, False, True], kind="stable")
        best = best.drop_duplicates("comp")
        new_label = comp_label.copy()
        new_label[best["comp"].to_numpy()] = best["lab"].to_numpy()
        labels = new_label[comp]
    return labels


def rcb(idx: np.ndarray, k: int, weight: np.ndarray, xy: np.ndarray) -> list[np.ndarray]:
    """Recursive coordinate bisection of ``idx`` into ``k`` parts of balanced weight.

    Cuts across the longer side of the point cloud each time, so the parts are
    compact; this is how the street offices and communities are laid out.
    """
    if k <= 1 or len(idx) <= 1:
        return [idx]
    k1 = k // 2
    span = np.ptp(xy[idx], axis=0)
    axis = int(np.argmax(span))
    order = idx[np.argsort(xy[idx, axis], kind="stable")]
    cw = np.cumsum(weight[order])
    cut = int(np.searchsorted(cw, cw[-1] * k1 / k)) + 1
    cut = min(max(cut, 1), len(order) - 1)
    return rcb(order[:cut], k1, weight, xy) + rcb(order[cut:], k - k1, weight, xy)


def hilbert_index(x: np.ndarray, y: np.ndarray, order: int = 16) -> np.ndarray:
    """Position of each point along a Hilbert curve over the points' bounding box.

    Consecutive runs of this order are compact, which is what an existing grid plan
    drawn by hand looks like.
    """
    n = 1 << order
    span = max(np.ptp(x), np.ptp(y), 1e-9)
    xi = np.clip(((x - x.min()) / span * (n - 1)).astype(np.int64), 0, n - 1)
    yi = np.clip(((y - y.min()) / span * (n - 1)).astype(np.int64), 0, n - 1)
    d = np.zeros(len(x), dtype=np.int64)
    s = n >> 1
    while s > 0:
        rx = ((xi & s) > 0).astype(np.int64)
        ry = ((yi & s) > 0).astype(np.int64)
        d += s * s * ((3 * rx) ^ ry)
        flip = (ry == 0) & (rx == 1)
        xi = np.where(flip, n - 1 - xi, xi)
        yi = np.where(flip, n - 1 - yi, yi)
        swap = ry == 0
        xi, yi = np.where(swap, yi, xi), np.where(swap, xi, yi)
        s >>= 1
    return d


def rectangles(x: np.ndarray, y: np.ndarray, length: np.ndarray, depth: np.ndarray,
               angle: np.ndarray) -> np.ndarray:
    """Rotated rectangles centred on ``(x, y)``; ``angle`` (radians) is the long side's direction."""
    ca, sa = np.cos(angle), np.sin(angle)
    corners = []
    for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)):
        du, dv = su * length / 2, sv * depth / 2
        corners.append(np.c_[x + du * ca - dv * sa, y + du * sa + dv * ca])
    return shapely.polygons(np.stack(corners, axis=1))


def sample_in_cells(rng: np.random.Generator, cells: np.ndarray, x0: np.ndarray, y0: np.ndarray,
                    sigma: np.ndarray | None, rounds: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """One random point inside each cell: near ``(x0, y0)`` or, with no ``sigma``, uniform.

    Rejection sampling, vectorised over all rows; a row that misses ``rounds`` times
    keeps its anchor ``(x0, y0)``, which the caller guarantees lies inside its cell.
    """
    n = len(cells)
    x, y = x0.astype(float).copy(), y0.astype(float).copy()
    todo = np.arange(n)
    if sigma is None:
        b = shapely.bounds(cells)
    for _ in range(rounds):
        if todo.size == 0:
            break
        if sigma is None:
            bx = b[todo]
            px = bx[:, 0] + rng.random(todo.size) * (bx[:, 2] - bx[:, 0])
            py = bx[:, 1] + rng.random(todo.size) * (bx[:, 3] - bx[:, 1])
        else:
            px = x0[todo] + rng.normal(0.0, 1.0, todo.size) * sigma[todo]
            py = y0[todo] + rng.normal(0.0, 1.0, todo.size) * sigma[todo]
        ok = shapely.contains_xy(cells[todo], px, py)
        x[todo[ok]], y[todo[ok]] = px[ok], py[ok]
        todo = todo[~ok]
    return x, y


def bearing_deg(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Compass bearing of a direction, degrees clockwise from grid north, in [0, 360)."""
    return np.mod(np.degrees(np.arctan2(dx, dy)), 360.0)


def as_multipolygon(geoms: np.ndarray) -> np.ndarray:
    """Each polygonal geometry as a MultiPolygon (the store keeps areas as multi-polygons)."""
    out = np.empty(len(geoms), dtype=object)
    for i, g in enumerate(geoms):
        parts = polygon_parts(g)
        out[i] = shapely.MultiPolygon(list(parts))
    return out


def largest_remainder(weight: np.ndarray, total: int, minimum: int = 0) -> np.ndarray:
    """Integers proportional to ``weight`` summing to ``total``, each at least ``minimum``."""
    weight = np.asarray(weight, dtype=float)
    base = np.full(len(weight), minimum, dtype=np.int64)
    rest = total - base.sum()
    if rest <= 0:
        return base
    raw = weight / weight.sum() * rest
    out = np.floor(raw).astype(np.int64)
    left = rest - out.sum()
    out[np.argsort(-(raw - out), kind="stable")[:left]] += 1
    return base + out
