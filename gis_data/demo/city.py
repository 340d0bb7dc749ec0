"""The district's shape: outline, river, ring road, blocks and the street network.

Blocks are the cells of a Voronoi diagram of jittered seeds (two Lloyd steps make
them plausible but irregular); a street runs along every border two cells share.
Seeds are grouped into coarser super-blocks: a border between two super-blocks is an
arterial, a border between the two zones is the ring road, every other border a local
street. The built-up part of a block is its cell less half the street on each side.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from gis_data.demo.geom import fix_tessellation, polygon_parts, shared_borders
from gis_data.demo.names import ARTERIAL_NAMES, local_road_names, ring_road_names
from gis_data.demo.scale import DemoScale

__all__ = ["City", "HALF_WIDTH", "build_city"]

log = logging.getLogger(__name__)

#: Half the street width by kind, metres.
HALF_WIDTH = {"local": 6.0, "arterial": 15.0, "ring": 20.0}
_BLOCK_SPACING = {True: 180.0, False: 290.0}  # typical block size, inner / outer zone
_SUPER_SPACING = {True: 620.0, False: 950.0}  # typical super-block size
_STROKE_MAX_TURN = {"local": 62.0, "arterial": 70.0}


@dataclass
class City:
    """The district's geometry in the local metric frame (metres from the centre).

    ``edge_*`` arrays describe street segments (one per pair of neighbouring blocks,
    possibly several pieces); ``road_*`` the named roads made of them.
    """

    outline: shapely.Polygon
    inner_region: shapely.Polygon
    river: shapely.Polygon
    cells: np.ndarray
    seeds: np.ndarray
    inner: np.ndarray
    built: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_kind: np.ndarray
    edge_line: np.ndarray
    edge_road: np.ndarray
    road_name: np.ndarray
    road_kind: np.ndarray
    road_line: np.ndarray


def _noisy_ring(rng: np.random.Generator, radius: float, amp: float, centre=(0.0, 0.0), n: int = 720):
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = np.ones_like(t)
    for k in range(2, 8):
        r += (amp / k) * rng.normal() * np.sin(k * t + rng.uniform(0.0, 2.0 * np.pi))
    r = np.clip(r, 0.45, None)
    return shapely.Polygon(np.c_[centre[0] + radius * r * np.cos(t), centre[1] + radius * r * np.sin(t)])


def _largest(geom) -> shapely.Polygon:
    parts = polygon_parts(geom)
    return parts[int(np.argmax(shapely.area(parts)))]


def _shape(rng: np.random.Generator, scale: DemoScale):
    """Outline (cut by the river on the west), the river and the inner-zone region."""
    radius = math.sqrt(scale.area_km2 * 1e6 / math.pi)
    ring = _noisy_ring(rng, radius, 0.22)
    # 湘江-like river along the west edge: a meandering centre line, the bank cuts the outline
    y = np.linspace(-2.2 * radius, 2.2 * radius, 240)
    p1, p2 = rng.uniform(0.0, 2.0 * np.pi, 2)
    x = (-0.8 * radius + 0.08 * radius * np.sin(2 * np.pi * y / (2.7 * radius) + p1)
         + 0.03 * radius * np.sin(2 * np.pi * y / (0.9 * radius) + p2))
    centre_line = shapely.LineString(np.c_[x, y])
    half = float(np.clip(0.09 * radius, 180.0, 420.0))
    river = shapely.buffer(centre_line, half, cap_style="flat")
    outline = _largest(shapely.difference(ring, shapely.buffer(centre_line, half + 35.0, cap_style="flat")))
    outline = shapely.simplify(outline, 2.0)
    minx, miny, maxx, maxy = outline.bounds
    pad = 0.35 * radius
    river = _largest(shapely.intersection(river, shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)))
    # the old town (inner zone) hugs the river, as Changsha's does
    inner_r = math.sqrt(scale.inner_area_share * outline.area / math.pi)
    core = _noisy_ring(rng, inner_r, 0.12, centre=(-0.22 * radius, 0.05 * radius))
    inner_region = _largest(shapely.intersection(core, shapely.buffer(outline, -0.04 * radius)))
    return outline, river, inner_region


def _voronoi_cells(seeds: np.ndarray, outline) -> np.ndarray:
    vor = shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=outline, ordered=True)
    return shapely.intersection(shapely.get_parts(vor), outline)


def _block_seeds(rng: np.random.Generator, outline, inner_region) -> np.ndarray:
    minx, miny, maxx, maxy = outline.bounds
    smin = min(_BLOCK_SPACING.values())
    m = int((maxx - minx) * (maxy - miny) / smin**2 * 1.25)
    p = np.c_[rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)]
    inside = shapely.contains_xy(outline, p[:, 0], p[:, 1])
    is_in = shapely.contains_xy(inner_region, p[:, 0], p[:, 1])
    spacing = np.where(is_in, _BLOCK_SPACING[True], _BLOCK_SPACING[False])
    p = p[inside & (rng.random(m) < (smin / spacing) ** 2)]
    for _ in range(2):  # Lloyd steps: plausible, still irregular blocks
        c = shapely.centroid(_voronoi_cells(p, outline))
        ok = ~shapely.is_empty(c)
        p = shapely.get_coordinates(c[ok])
        p = p[shapely.contains_xy(outline, p[:, 0], p[:, 1])]
    return p


def _super_blocks(rng: np.random.Generator, seeds: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """Label each block with a super-block of its own zone (greedy Poisson-disc centres)."""
    label = np.zeros(len(seeds), dtype=np.int64)
    base = 0
    for zone in (True, False):
        idx = np.flatnonzero(inner == zone)
        if idx.size == 0:
            continue
        spacing = _SUPER_SPACING[zone]
        centres: list[np.ndarray] = []
        for i in idx[rng.permutation(idx.size)]:
            if not centres or np.min(np.hypot(*(np.asarray(centres) - seeds[i]).T)) >= spacing:
                centres.append(seeds[i])
        _, near = cKDTree(np.asarray(centres)).query(seeds[idx])
        label[idx] = base + near
        base += len(centres)
    return label


def _edge_ends(lines: np.ndarray):
    """Node keys of each line's two ends, and the direction leaving each end."""
    first = shapely.get_point(lines, 0)
    last = shapely.get_point(lines, -1)
    ln = shapely.length(lines)
    probe = np.minimum(25.0, ln / 2.0)
    a = shapely.get_coordinates(first)
    b = shapely.get_coordinates(last)
    pa = shapely.get_coordinates(shapely.line_interpolate_point(lines, probe))
    pb = shapely.get_coordinates(shapely.line_interpolate_point(lines, ln - probe))
    ang_a = np.arctan2(pa[:, 1] - a[:, 1], pa[:, 0] - a[:, 0])
    ang_b = np.arctan2(pb[:, 1] - b[:, 1], pb[:, 0] - b[:, 0])
    keys = np.round(np.r_[a, b] * 100.0).astype(np.int64)
    _, node = np.unique(keys, axis=0, return_inverse=True)
    n = len(lines)
    return node[:n], node[n:], ang_a, ang_b


def _strokes(lines: np.ndarray, max_turn: float) -> list[list[tuple[int, bool]]]:
    """Chain street segments into long, nearly straight roads ("natural roads").

    At each junction the pair of segments that continue each other best (smallest
    turn, under ``max_turn`` degrees) is joined; each chain becomes one named road.
    Returns, per road, its segments in order with a flag telling whether to reverse it.
    """
    n = len(lines)
    if n == 0:
        return []
    node_a, node_b, ang_a, ang_b = _edge_ends(lines)
    ends: dict[int, list[tuple[int, int, float]]] = {}
    for e in range(n):
        ends.setdefault(int(node_a[e]), []).append((e, 0, float(ang_a[e])))
        ends.setdefault(int(node_b[e]), []).append((e, 1, float(ang_b[e])))
    link: dict[tuple[int, int], tuple[int, int]] = {}
    limit = math.radians(max_turn)
    for node in sorted(ends):
        inc = ends[node]
        if len(inc) < 2:
            continue
        pairs = []
        for x in range(len(inc)):
            for y in range(x + 1, len(inc)):
                d = abs((inc[x][2] - inc[y][2] + math.pi) % (2 * math.pi) - math.pi)
                turn = math.pi - d
                if turn <= limit and inc[x][0] != inc[y][0]:
                    pairs.append((turn, x, y))
        used: set[int] = set()
        for _, x, y in sorted(pairs):
            if x in used or y in used:
                continue
            used.update((x, y))
            ex, ey = inc[x][:2], inc[y][:2]
            link[ex] = ey
            link[ey] = ex
    seen = np.zeros(n, dtype=bool)
    chains: list[list[tuple[int, bool]]] = []

    def walk(e: int, enter_end: int) -> list[tuple[int, bool]]:
        out = []
        while not seen[e]:
            seen[e] = True
            out.append((e, enter_end == 1))  # entered at its end 1: traverse reversed
            exit_end = 1 - enter_end
            nxt = link.get((e, exit_end))
            if nxt is None:
                break
            e, enter_end = nxt
        return out

    for e in range(n):  # open chains start at a free end
        if seen[e]:
            continue
        if (e, 0) not in link:
            chains.append(walk(e, 0))
        elif (e, 1) not in link:
            chains.append(walk(e, 1))
    for e in range(n):  # what is left are closed loops
        if not seen[e]:
            chains.append(walk(e, 0))
    return chains


def _chain_line(lines: np.ndarray, chain: list[tuple[int, bool]]) -> shapely.LineString:
    parts = []
    for e, rev in chain:
        c = shapely.get_coordinates(lines[e])
        parts.append(c[::-1] if rev else c)
    coords = np.vstack([parts[0]] + [p[1:] for p in parts[1:]])
    return shapely.LineString(coords)


def _roads(rng: np.random.Generator, lines: np.ndarray, kind: np.ndarray, inner_region):
    """Named roads from street segments: the ring by quarter, arterials and locals by stroke."""
    edge_road = np.full(len(lines), -1, dtype=np.int64)
    names: list[str] = []
    kinds: list[str] = []
    geoms: list[shapely.LineString] = []
    # the ring road, one road per compass quarter (北二环, 东二环 …)
    ring = np.flatnonzero(kind == "ring")
    if ring.size:
        c = shapely.centroid(inner_region)
        mid = shapely.get_coordinates(shapely.line_interpolate_point(lines[ring], 0.5, normalized=True))
        ang = np.degrees(np.arctan2(mid[:, 1] - c.y, mid[:, 0] - c.x)) % 360.0
        quarter = np.select([(ang >= 45) & (ang < 135), (ang >= 135) & (ang < 225), (ang >= 225) & (ang < 315)],
                            ["N", "W", "S"], "E")
        ring_names = ring_road_names()
        for q in ("N", "E", "S", "W"):
            sel = ring[quarter == q]
            for chain in _strokes(lines[sel], 90.0):
                edge_road[sel[[e for e, _ in chain]]] = len(geoms)
                geoms.append(_chain_line(lines[sel], chain))
                names.append(ring_names[q])
                kinds.append("arterial")
    for k, pool_kind in (("arterial", "arterial"), ("local", "local")):
        sel = np.flatnonzero(kind == k)
        chains = _strokes(lines[sel], _STROKE_MAX_TURN[k])
        chain_lines = [_chain_line(lines[sel], ch) for ch in chains]
        order = np.argsort(-shapely.length(np.asarray(chain_lines, dtype=object)), kind="stable")
        if k == "arterial":
            pool = list(ARTERIAL_NAMES)
            if len(order) > len(pool):
                pool += [nm[:-1] + "大道" for nm in local_road_names(rng, len(order) - len(pool))]
        else:
            pool = local_road_names(rng, len(order))
        for rank, ci in enumerate(order):
            edge_road[sel[[e for e, _ in chains[ci]]]] = len(geoms)
            geoms.append(chain_lines[ci])
            names.append(pool[rank])
            kinds.append(pool_kind)
    return edge_road, np.asarray(names, dtype=object), np.asarray(kinds, dtype=object), np.asarray(geoms, dtype=object)


def _built(cells: np.ndarray, lines: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Each block's built-up polygon: its cell less half of every street around it."""
    wide = kind != "local"
    half = np.where(kind == "ring", HALF_WIDTH["ring"], HALF_WIDTH["arterial"])
    big = shapely.union_all(shapely.buffer(lines[wide], half[wide], cap_style="flat"))
    shrunk = shapely.buffer(cells, -HALF_WIDTH["local"], join_style="mitre")
    built = shapely.difference(shrunk, big)
    out = np.empty(len(cells), dtype=object)
    for i, g in enumerate(built):
        parts = polygon_parts(g)
        if parts.size and shapely.area(parts).max() >= 300.0:
            out[i] = parts[int(np.argmax(shapely.area(parts)))]
        else:  # a sliver of a block: build on what there is
            fallback = polygon_parts(shapely.buffer(cells[i], -1.5))
            out[i] = fallback[int(np.argmax(shapely.area(fallback)))] if fallback.size else cells[i]
    return out


def build_city(rng: np.random.Generator, scale: DemoScale) -> City:
    """Lay out the district: outline, river, zones, blocks, streets and named roads."""
    outline, river, inner_region = _shape(rng, scale)
    seeds = _block_seeds(rng, outline, inner_region)
    cells = fix_tessellation(_voronoi_cells(seeds, outline), anchors=seeds)
    keep = ~shapely.is_empty(cells) & (shapely.area(cells) > 1.0)
    cells, seeds = cells[keep], seeds[keep]
    inner = shapely.contains_xy(inner_region, seeds[:, 0], seeds[:, 1])
    sup = _super_blocks(rng, seeds, inner)
    u, v, _, border = shared_borders(cells, min_len=1.0, lines=True)
    parts, pidx = shapely.get_parts(border, return_index=True)
    long_enough = shapely.length(parts) >= 1.0
    parts, pidx = parts[long_enough], pidx[long_enough]
    eu, ev = u[pidx], v[pidx]
    kind = np.where(inner[eu] != inner[ev], "ring", np.where(sup[eu] != sup[ev], "arterial", "local")).astype(object)
    edge_road, road_name, road_kind, road_line = _roads(rng, parts, kind, inner_region)
    built = _built(cells, parts, kind)
    log.debug("city: %d blocks (%d inner), %d street segments, %d roads", len(cells), inner.sum(), len(parts),
              len(road_line))
    return City(outline=outline, inner_region=inner_region, river=river, cells=cells, seeds=seeds, inner=inner,
                built=built, edge_u=eu, edge_v=ev, edge_kind=kind, edge_line=parts, edge_road=edge_road,
                road_name=road_name, road_kind=road_kind, road_line=road_line)
