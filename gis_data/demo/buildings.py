"""Block types, buildings and their cells.

Buildings sit on a thinned, rotated lattice inside each block's built-up polygon
(rows of walk-ups, scattered towers, dense village houses); every block gets at
least one. A building's cell is the Voronoi cell of the building points of its block,
clipped to the block's full cell, so the cells tile the district and a grid drawn as
a union of cells always follows streets where it leaves a block.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gis_data.demo.city import City
from gis_data.demo.geom import fix_tessellation, largest_remainder, rectangles
from gis_data.demo.scale import DemoScale

__all__ = ["BTYPES", "NONRES_KINDS", "Buildings", "place_buildings", "addresses"]

log = logging.getLogger(__name__)

BTYPES = ("highrise", "walkup", "village", "nonres")
#: What a non-residential block is; cameras and emergency resources are placed by it.
NONRES_KINDS = ("school", "hospital", "market", "office", "station", "bank", "square", "factory", "government")
_NONRES_P = {True: [0.17, 0.07, 0.13, 0.25, 0.05, 0.09, 0.09, 0.08, 0.07],
             False: [0.15, 0.05, 0.12, 0.14, 0.05, 0.05, 0.07, 0.32, 0.05]}
# block counts by type and zone (inner, outer): highrise, walkup, village, nonres
_BLOCK_P = {True: np.array([0.22, 0.24, 0.14, 0.40]), False: np.array([0.006, 0.016, 0.578, 0.40])}
# share of the zone's buildings standing in blocks of each type
_BUILDING_SHARE = {True: np.array([0.051, 0.16, 0.43, 0.359]), False: np.array([0.002, 0.012, 0.63, 0.356])}
# building type mix inside a block of each type
_MIX = {
    "highrise": [0.82, 0.06, 0.0, 0.12],
    "walkup": [0.03, 0.85, 0.02, 0.10],
    "village": [0.0, 0.01, 0.91, 0.08],
    "nonres": [0.01, 0.02, 0.0, 0.97],
}
# lattice: aspect (row spacing / column spacing) and jitter (share of spacing)
_ASPECT = {"highrise": 1.15, "walkup": 1.6, "village": 1.0, "nonres": 1.2}
_JITTER = {"highrise": 0.08, "walkup": 0.06, "village": 0.16, "nonres": 0.1}
# footprint long side and depth ranges, metres
_FOOT = {"highrise": ((22, 36), (15, 22)), "walkup": ((30, 62), (10, 13)),
         "village": ((9, 15), (8, 12)), "nonres": ((18, 70), (14, 40))}


@dataclass
class Buildings:
    """Buildings in the local metric frame; ``block`` indexes the city's blocks."""

    x: np.ndarray
    y: np.ndarray
    block: np.ndarray
    btype: np.ndarray
    floors: np.ndarray
    households: np.ndarray
    population: np.ndarray
    households_prev: np.ndarray
    footprint: np.ndarray
    cell: np.ndarray
    block_type: np.ndarray
    block_kind: np.ndarray


def _lattice(rng: np.random.Generator, poly, n: int, aspect: float, jitter: float):
    """``n`` points on a jittered lattice aligned with the block's long side."""
    rect = shapely.oriented_envelope(poly)
    xy = shapely.get_coordinates(rect)[:4]
    e = np.diff(np.vstack([xy, xy[:1]]), axis=0)
    k = int(np.argmax(np.hypot(e[:, 0], e[:, 1])))
    ang = float(np.arctan2(e[k, 1], e[k, 0]))
    ca, sa = np.cos(ang), np.sin(ang)
    s = np.sqrt(poly.area / (n * 1.3))
    inner = shapely.buffer(poly, -min(0.3 * s, 8.0))
    if inner.is_empty or inner.area < 0.35 * poly.area:
        inner = poly
    c = shapely.get_coordinates(shapely.centroid(inner))[0]
    b = shapely.get_coordinates(inner) - c
    u, v = b @ np.array([ca, sa]), b @ np.array([-sa, ca])
    shapely.prepare(inner)
    for _ in range(14):
        su, sv = s * np.sqrt(aspect), s / np.sqrt(aspect)
        gu = np.arange(u.min() + su / 2, u.max(), su)
        gv = np.arange(v.min() + sv / 2, v.max(), sv)
        uu, vv = (a.ravel() for a in np.meshgrid(gu, gv))
        uu = uu + rng.uniform(-jitter, jitter, uu.size) * su
        vv = vv + rng.uniform(-jitter, jitter, vv.size) * sv
        px, py = c[0] + uu * ca - vv * sa, c[1] + uu * sa + vv * ca
        ok = shapely.contains_xy(inner, px, py)
        if ok.sum() >= n:
            break
        s *= 0.85
    px, py = px[ok], py[ok]
    if len(px) < n:  # an odd sliver: random points in the block
        minx, miny, maxx, maxy = poly.bounds
        while len(px) < n:
            qx, qy = rng.uniform(minx, maxx, 8 * n), rng.uniform(miny, maxy, 8 * n)
            q = shapely.contains_xy(poly, qx, qy)
            px, py = np.r_[px, qx[q]], np.r_[py, qy[q]]
        px, py = px[:n], py[:n]
        su = sv = np.sqrt(poly.area / n)
        return px, py, ang, su, sv, 0.5
    sel = np.sort(rng.choice(len(px), size=n, replace=False))
    return px[sel], py[sel], ang, su, sv, jitter


def _cells_of_block(px: np.ndarray, py: np.ndarray, cell) -> np.ndarray:
    if len(px) == 1:
        return np.asarray([cell], dtype=object)
    vor = shapely.voronoi_polygons(shapely.MultiPoint(np.c_[px, py]), extend_to=cell, ordered=True)
    out = shapely.intersection(shapely.get_parts(vor), cell)
    return fix_tessellation(out, anchors=np.c_[px, py])


def _floors_households(rng: np.random.Generator, btype: np.ndarray):
    n = len(btype)
    floors = np.ones(n, dtype=np.int64)
    hh = np.zeros(n, dtype=np.int64)
    m = btype == "village"
    floors[m] = rng.choice([1, 2, 3, 4], size=m.sum(), p=[0.1, 0.3, 0.35, 0.25])
    hh[m] = np.clip(np.round(floors[m] * rng.lognormal(0.0, 0.5, m.sum())), 1, 12)
    m = btype == "walkup"
    floors[m] = rng.choice([5, 6, 7], size=m.sum(), p=[0.3, 0.45, 0.25])
    stairs = rng.choice([1, 2, 3, 4], size=m.sum(), p=[0.3, 0.35, 0.25, 0.1])
    hh[m] = np.clip(np.round(floors[m] * 2 * stairs * rng.uniform(0.75, 1.0, m.sum())), 8, 60)
    m = btype == "highrise"
    floors[m] = rng.integers(12, 34, m.sum())
    per_floor = rng.choice([4, 6, 8, 12], size=m.sum(), p=[0.3, 0.35, 0.25, 0.1])
    hh[m] = np.clip(np.round(floors[m] * per_floor * rng.uniform(0.8, 1.0, m.sum())), 100, 450)
    idx = np.flatnonzero(m)
    if idx.size:  # a handful of very large towers (公寓楼): more households than a grid should hold
        big = rng.choice(idx, size=max(1, round(0.006 * idx.size)), replace=False)
        floors[big] = rng.integers(30, 34, big.size)
        hh[big] = rng.integers(610, 900, big.size)
    m = btype == "nonres"
    band = rng.random(m.sum())
    floors[m] = np.where(band < 0.6, rng.integers(1, 4, m.sum()),
                         np.where(band < 0.9, rng.integers(4, 9, m.sum()), rng.integers(9, 21, m.sum())))
    pop = np.round(hh * rng.uniform(2.0, 3.2, n)).astype(np.int64)
    return floors, hh, pop


def _allocate(city: City, block_type: np.ndarray, scale: DemoScale) -> np.ndarray:
    """Buildings per block: fixed shares per zone and block type, then by built-up area.

    Exact shares (rather than a density) keep the household total steady across
    seeds; every block gets at least one building.
    """
    count = np.ones(len(block_type), dtype=np.int64)
    n_zone = largest_remainder(np.array([scale.inner_building_share, 1.0 - scale.inner_building_share]),
                               scale.n_buildings - len(block_type))
    area = shapely.area(city.built)
    for z, nz in zip((True, False), n_zone):
        share = _BUILDING_SHARE[z] * np.array([scale.highrise_boost, 1.0, 1.0, 1.0])
        share = share * np.array([(block_type[city.inner == z] == t).any() for t in BTYPES])
        per_type = largest_remainder(share, int(nz))
        for t, nt in zip(BTYPES, per_type):
            m = np.flatnonzero((city.inner == z) & (block_type == t))
            if m.size:
                count[m] += largest_remainder(area[m], int(nt))
    return count


def place_buildings(rng: np.random.Generator, city: City, scale: DemoScale) -> Buildings:
    """Type the blocks, place ``scale.n_buildings`` buildings, give each a cell.

    Every block gets at least one building; the rest are shared by built-up area
    weighted by how densely each block type builds.
    """
    nb = len(city.cells)
    p_hi = {z: _BLOCK_P[z] * np.array([scale.highrise_boost, 1, 1, 1]) for z in (True, False)}
    block_type = np.empty(nb, dtype=object)
    block_kind = np.full(nb, None, dtype=object)
    for z in (True, False):
        m = city.inner == z
        quota = largest_remainder(p_hi[z], int(m.sum()))  # exact shares: steadier totals across seeds
        block_type[m] = np.repeat(np.asarray(BTYPES, dtype=object), quota)[rng.permutation(int(m.sum()))]
        nm = m & (block_type == "nonres")
        block_kind[nm] = np.asarray(NONRES_KINDS, dtype=object)[rng.choice(len(NONRES_KINDS), nm.sum(), p=_NONRES_P[z])]
    count = _allocate(city, block_type, scale)

    xs, ys, angs, sus, svs, jits, bids = [], [], [], [], [], [], []
    cells = []
    for b in range(nb):
        t = block_type[b]
        px, py, ang, su, sv, jit = _lattice(rng, city.built[b], int(count[b]), _ASPECT[t], _JITTER[t])
        xs.append(px), ys.append(py), bids.append(np.full(len(px), b))
        angs.append(np.full(len(px), ang)), sus.append(np.full(len(px), su)), svs.append(np.full(len(px), sv))
        jits.append(np.full(len(px), jit))
        cells.append(_cells_of_block(px, py, city.cells[b]))
    x, y, block = np.concatenate(xs), np.concatenate(ys), np.concatenate(bids)
    ang, su, sv, jit = np.concatenate(angs), np.concatenate(sus), np.concatenate(svs), np.concatenate(jits)
    # cells of neighbouring blocks come from separate diagrams and meet with last-bit
    # differences along the street; snap them into one exact coverage (shared edges
    # identical), so that unions and adjacency are exact
    cell = shapely.coverage_clean(np.concatenate(cells))
    n = len(x)

    mix = rng.random(n)
    btype = np.empty(n, dtype=object)
    for t in BTYPES:
        m = block_type[block] == t
        pick = np.searchsorted(np.cumsum(_MIX[t]), mix[m] * 0.999999, side="right")
        btype[m] = np.asarray(BTYPES, dtype=object)[pick]
    floors, hh, pop = _floors_households(rng, btype)
    # the existing grids were drawn before the newest compounds filled up
    new_block = (block_type == "highrise") & (rng.random(nb) < 0.12)
    hh_prev = np.round(hh * rng.uniform(0.91, 1.03, n)).astype(np.int64)
    fresh = new_block[block]
    hh_prev[fresh] = np.round(hh[fresh] * rng.uniform(0.1, 0.4, fresh.sum())).astype(np.int64)

    length, depth = np.empty(n), np.empty(n)
    for t, ((l0, l1), (d0, d1)) in _FOOT.items():
        m = btype == t
        length[m], depth[m] = rng.uniform(l0, l1, m.sum()), rng.uniform(d0, d1, m.sum())
    room = 0.85 * (1.0 - 2.0 * jit)
    length, depth = np.minimum(length, room * su), np.minimum(depth, room * sv)
    theta = ang + np.where(btype == "village", rng.normal(0.0, 0.06, n), 0.0)
    foot = rectangles(x, y, length, depth, theta)
    limit = shapely.intersection(cell, city.built[block])
    bad = np.flatnonzero(~shapely.within(foot, limit))
    for _ in range(30):  # shrink the few that overhang their cell or the street
        if bad.size == 0:
            break
        length[bad] *= 0.8
        depth[bad] *= 0.8
        foot[bad] = rectangles(x[bad], y[bad], length[bad], depth[bad], theta[bad])
        bad = bad[~shapely.within(foot[bad], limit[bad])]
    if bad.size:
        log.warning("%d footprints could not be fitted inside their cell", bad.size)
    log.debug("buildings: %d, households %d, people %d", n, hh.sum(), pop.sum())
    return Buildings(x=x, y=y, block=block, btype=btype, floors=floors, households=hh, population=pop,
                     households_prev=hh_prev, footprint=foot, cell=cell, block_type=block_type, block_kind=block_kind)


def addresses(city: City, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Street address of each point ("芙蓉中路12号") and the index of its road.

    The nearest road gives the name; the distance along it gives the number, odd on
    the left and even on the right, as Chinese street numbering goes. Buildings that
    would share a number get "…号1栋", "…号2栋".
    """
    pts = shapely.points(x, y)
    tree = shapely.STRtree(city.road_line)
    src, road = tree.query_nearest(pts, all_matches=False)
    road_of = np.empty(len(x), dtype=np.int64)
    road_of[src] = road
    lines = city.road_line[road_of]
    pos = shapely.line_locate_point(lines, pts)
    ln = shapely.length(lines)
    a = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.clip(pos - 1.0, 0, ln)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(lines, np.clip(pos + 1.0, 0, ln)))
    cross = (b[:, 0] - a[:, 0]) * (y - a[:, 1]) - (b[:, 1] - a[:, 1]) * (x - a[:, 0])
    number = 2 * np.floor(pos / 30.0).astype(np.int64) + np.where(cross >= 0, 1, 2)
    name = city.road_name[road_of]
    frame = pd.DataFrame({"name": name, "num": number})
    base = frame["name"].astype(str) + frame["num"].astype(str) + "号"
    size = frame.groupby(["name", "num"], sort=False)["num"].transform("size").to_numpy()
    rank = frame.groupby(["name", "num"], sort=False).cumcount().to_numpy() + 1
    addr = np.where(size > 1, base + pd.Series(rank).astype(str) + "栋", base)
    return np.asarray(addr, dtype=object), road_of

