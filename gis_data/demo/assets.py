"""Point layers that hang off the streets and buildings: components, cameras, resources, workers.

Everything is placed relative to the street segments (a lateral offset from the
centre line by kind: manholes on the carriageway, grates at the kerb, lamps and bins
on the pavement) or to buildings of the right kind, and is vectorised over the
points. No point lies on a street centre line, which is where grid borders run, so
every point falls in exactly one grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from gis_data.demo.buildings import Buildings
from gis_data.demo.city import HALF_WIDTH, City
from gis_data.demo.geom import bearing_deg, largest_remainder, sample_in_cells
from gis_data.demo.names import DISTRICT_CODE, person_names, place_stems

__all__ = [
    "COMPONENT_CLASSES",
    "Streets",
    "street_graph",
    "place_names",
    "make_components",
    "make_cameras",
    "make_resources",
    "make_workers",
]

#: City component classes, codes modelled on GB/T 30428.2 (major class 01 public utilities,
#: 02 roads and traffic, 03 city appearance): code -> (name, owner department, share, where).
COMPONENT_CLASSES: dict[str, tuple[str, str, float, str]] = {
    "0101": ("上水井盖", "水务局", 0.09, "carriageway"),
    "0102": ("污水井盖", "水务局", 0.11, "carriageway"),
    "0103": ("燃气井盖", "住建局", 0.04, "carriageway"),
    "0104": ("电力井盖", "供电公司", 0.05, "pavement"),
    "0105": ("雨水井盖", "水务局", 0.11, "carriageway"),
    "0106": ("通信井盖", "通信管理办", 0.06, "pavement"),
    "0107": ("雨水篦子", "水务局", 0.16, "kerb"),
    "0109": ("消防栓", "消防救援大队", 0.04, "pavement"),
    "0201": ("路灯", "城管局", 0.17, "pavement"),
    "0202": ("交通信号灯", "交警大队", 0.02, "junction"),
    "0203": ("交通标志牌", "交警大队", 0.03, "pavement"),
    "0204": ("公交站亭", "交通运输局", 0.012, "arterial"),
    "0301": ("垃圾箱", "环卫处", 0.058, "pavement"),
    "0302": ("公共厕所", "环卫处", 0.005, "pavement"),
    "0303": ("座椅", "城管局", 0.025, "pavement"),
}
_STATES = (("ok", 0.9), ("damaged", 0.06), ("missing", 0.015), ("occupied", 0.025))
_PLACE_SUFFIX = {"school": ("小学", "中学", "幼儿园"), "hospital": ("医院", "社区卫生服务中心"),
                 "market": ("农贸市场", "商业广场", "超市"), "office": ("大厦", "写字楼", "科技园"),
                 "station": ("公交首末站", "地铁站"), "bank": ("银行支行", "农商行网点"), "square": ("广场", "公园"),
                 "factory": ("工业园", "物流园", "仓储中心"), "government": ("街道办事处", "政务服务中心")}


@dataclass
class Streets:
    """Street segments with what placement needs: half width, road index, junctions."""

    line: np.ndarray
    half: np.ndarray
    kind: np.ndarray
    road: np.ndarray
    node_xy: np.ndarray
    node_degree: np.ndarray
    node_major: np.ndarray
    end_node: np.ndarray  # (n_seg, 2): node at each end


def street_graph(city: City) -> Streets:
    """Street segments and the junctions between them."""
    line = city.edge_line
    half = np.select([city.edge_kind == "ring", city.edge_kind == "arterial"],
                     [HALF_WIDTH["ring"], HALF_WIDTH["arterial"]], HALF_WIDTH["local"])
    a = shapely.get_coordinates(shapely.get_point(line, 0))
    b = shapely.get_coordinates(shapely.get_point(line, -1))
    keys = np.round(np.r_[a, b] * 100.0).astype(np.int64)
    uniq, node = np.unique(keys, axis=0, return_inverse=True)
    n = len(line)
    end_node = np.c_[node[:n], node[n:]]
    degree = np.bincount(node, minlength=len(uniq))
    major_edge = np.r_[city.edge_kind != "local", city.edge_kind != "local"]
    major = np.bincount(node, weights=major_edge, minlength=len(uniq)) > 0
    return Streets(line=line, half=half, kind=city.edge_kind, road=city.edge_road, node_xy=uniq / 100.0,
                   node_degree=degree, node_major=major, end_node=end_node)


def place_names(rng: np.random.Generator, bld: Buildings) -> np.ndarray:
    """A name for every non-residential block ("荷花小学", "北辰大厦" …), None elsewhere."""
    nb = len(bld.block_kind)
    names = np.full(nb, None, dtype=object)
    stems = place_stems(rng, nb)
    pick = rng.integers(0, 3, nb)
    for i in np.flatnonzero(bld.block_kind != None):  # noqa: E711 - object array
        suffixes = _PLACE_SUFFIX[bld.block_kind[i]]
        names[i] = stems[i] + suffixes[pick[i] % len(suffixes)]
    return names


def _on_streets(rng: np.random.Generator, st: Streets, outline, seg: np.ndarray, offset: np.ndarray,
                pos: np.ndarray | None = None):
    """Points beside segments ``seg`` at signed lateral ``offset``; also the unit tangent."""
    ln = shapely.length(st.line[seg])
    if pos is None:
        pos = rng.uniform(0.1, 0.9, seg.size) * ln
    a = shapely.get_coordinates(shapely.line_interpolate_point(st.line[seg], np.clip(pos - 2.0, 0, ln)))
    b = shapely.get_coordinates(shapely.line_interpolate_point(st.line[seg], np.clip(pos + 2.0, 0, ln)))
    c = shapely.get_coordinates(shapely.line_interpolate_point(st.line[seg], pos))
    t = b - a
    t /= np.maximum(np.hypot(t[:, 0], t[:, 1]), 1e-9)[:, None]
    nrm = np.c_[-t[:, 1], t[:, 0]]
    p = c + nrm * offset[:, None]
    out = ~shapely.contains_xy(outline, p[:, 0], p[:, 1])
    p[out] = c[out] + nrm[out] * np.sign(offset[out])[:, None] * 0.5  # hug the centre line at the district edge
    still = ~shapely.contains_xy(outline, p[:, 0], p[:, 1])
    p[still] = c[still] - nrm[still] * np.sign(offset[still])[:, None] * 0.5
    return p, t


def make_components(rng: np.random.Generator, city: City, st: Streets, n: int) -> pd.DataFrame:
    """City components (城市部件) along the streets; columns plus local ``x``, ``y``."""
    codes = list(COMPONENT_CLASSES)
    count = largest_remainder(np.array([COMPONENT_CLASSES[c][2] for c in codes]), n)
    cls = np.repeat(np.asarray(codes, dtype=object), count)
    where = np.array([COMPONENT_CLASSES[c][3] for c in cls], dtype=object)
    ln = shapely.length(st.line)
    major = st.kind != "local"
    side = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    seg = np.empty(n, dtype=np.int64)
    w_all = ln * np.where(major, 2.0, 1.0)
    m = where != "arterial"
    seg[m] = rng.choice(len(ln), size=m.sum(), p=w_all / w_all.sum())
    w_art = ln * major
    seg[~m] = rng.choice(len(ln), size=(~m).sum(), p=w_art / w_art.sum()) if w_art.sum() > 0 else \
        rng.choice(len(ln), size=(~m).sum(), p=ln / ln.sum())
    h = st.half[seg]
    offset = np.select(
        [where == "carriageway", where == "kerb"],
        [rng.uniform(1.0, 0.6 * h) * side, (h - 0.5) * side],
        (h + rng.uniform(1.0, 3.0, n)) * side,
    )
    pos = None
    junction = where == "junction"
    if junction.any():  # signal heads stand a few metres into a segment at a major junction
        pos = rng.uniform(0.1, 0.9, n) * shapely.length(st.line[seg])
        cand = np.flatnonzero(st.node_major[st.end_node[:, 0]] | st.node_major[st.end_node[:, 1]])
        if cand.size:
            js = cand[rng.integers(0, cand.size, junction.sum())]
            seg[junction] = js
            at_start = st.node_major[st.end_node[js, 0]]
            jl = shapely.length(st.line[js])
            d = np.minimum(rng.uniform(6.0, 12.0, js.size), 0.4 * jl)
            pos[junction] = np.where(at_start, d, jl - d)
            offset[junction] = (st.half[js] + 1.0) * side[junction]
    p, _ = _on_streets(rng, st, city.outline, seg, offset, pos)
    state_names = np.asarray([s for s, _ in _STATES], dtype=object)
    state = state_names[rng.choice(len(_STATES), size=n, p=[q for _, q in _STATES])]
    seq = pd.Series(cls).groupby(cls).cumcount().to_numpy() + 1
    code = pd.Series(cls).radd(DISTRICT_CODE) + pd.Series(seq).map("{:06d}".format)
    perm = rng.permutation(n)
    return pd.DataFrame({
        "code": code.to_numpy()[perm],
        "class_code": cls[perm],
        "class_name": np.array([COMPONENT_CLASSES[c][0] for c in cls], dtype=object)[perm],
        "owner_dept": np.array([COMPONENT_CLASSES[c][1] for c in cls], dtype=object)[perm],
        "state": state[perm],
        "x": p[perm, 0], "y": p[perm, 1],
    })


_CAM_SHARE = {"bullet": 0.567, "dome": 0.31, "epolice": 0.07, "checkpoint": 0.05}
_COMPASS = np.asarray(["北", "东北", "东", "东南", "南", "西南", "西", "西北"], dtype=object)


def _compass(deg: np.ndarray) -> np.ndarray:
    return _COMPASS[(np.round(deg / 45.0).astype(np.int64)) % 8]


def make_cameras(rng: np.random.Generator, city: City, st: Streets, bld: Buildings, places: np.ndarray,
                 addr: np.ndarray, n: int, reference: pd.Timestamp) -> pd.DataFrame:
    """Cameras of the 雪亮工程: junction cameras, road bullets, domes at public places, high-point PTZ."""
    n_ptz = max(2, round(0.003 * n))
    share = np.array(list(_CAM_SHARE.values()))
    kinds = list(_CAM_SHARE)
    count = dict(zip(kinds, largest_remainder(share, n - n_ptz)))
    count["ptz"] = n_ptz
    parts = []
    # e-police and checkpoints at major junctions, looking down the approach road
    # segment ends at a major junction: i for the start of segment i, -1 - i for its end
    major_end = st.node_major[st.end_node] & (st.node_degree[st.end_node] >= 3)
    seg_major_end = np.r_[np.flatnonzero(major_end[:, 0]), -1 - np.flatnonzero(major_end[:, 1])]
    road_names = city.road_name
    for kind in ("epolice", "checkpoint"):
        k = count[kind]
        pick = seg_major_end[rng.integers(0, seg_major_end.size, k)]
        seg = np.where(pick >= 0, pick, -1 - pick)
        from_start = pick >= 0
        ln = shapely.length(st.line[seg])
        d = np.minimum(rng.uniform(15.0, 35.0, k), 0.45 * ln)
        pos = np.where(from_start, d, ln - d)
        p, t = _on_streets(rng, st, city.outline, seg, st.half[seg] + 1.0, pos)
        heading = bearing_deg(*(np.where(from_start[:, None], t, -t)).T)
        node = np.where(from_start, st.end_node[seg, 0], st.end_node[seg, 1])
        cross = _cross_road(st, node, seg)
        name = (road_names[st.road[seg]] + "与" + road_names[cross] + "路口"
                + ("电子警察" if kind == "epolice" else "卡口") + "(" + _compass(heading) + "向)")
        parts.append(pd.DataFrame({"kind": kind, "x": p[:, 0], "y": p[:, 1], "heading_deg": heading, "name": name,
                                   "industry": "04" if kind == "epolice" else "05", "place": "road"}))
    # bullets along the streets, looking along them
    k = count["bullet"]
    ln_all = shapely.length(st.line)
    w = ln_all * np.where(st.kind != "local", 2.5, 1.0)
    seg = rng.choice(len(ln_all), size=k, p=w / w.sum())
    side = np.where(rng.random(k) < 0.5, -1.0, 1.0)
    p, t = _on_streets(rng, st, city.outline, seg, (st.half[seg] + 1.0) * side)
    flip = rng.random(k) < 0.5
    heading = bearing_deg(*(np.where(flip[:, None], -t, t)).T)
    name = road_names[st.road[seg]] + "治安枪机" + pd.Series(np.arange(k) % 97 + 1).map("{:02d}".format).to_numpy()
    parts.append(pd.DataFrame({"kind": "bullet", "x": p[:, 0], "y": p[:, 1], "heading_deg": heading, "name": name,
                               "industry": "00", "place": "road"}))
    # domes: schools, squares, stations, banks, markets, hospitals; the rest at junctions
    k = count["dome"]
    public = np.flatnonzero((bld.btype == "nonres") & np.isin(bld.block_kind[bld.block],
                                                                ["school", "square", "station", "bank", "market",
                                                                 "hospital", "government"]))
    k_site = int(round(0.65 * k)) if public.size else 0
    site = public[rng.integers(0, public.size, k_site)] if k_site else np.zeros(0, dtype=np.int64)
    sx, sy = sample_in_cells(rng, bld.cell[site], bld.x[site], bld.y[site], np.full(site.size, 12.0))
    bk = bld.block_kind[bld.block[site]]
    parts.append(pd.DataFrame({"kind": "dome", "x": sx, "y": sy, "heading_deg": rng.uniform(0, 360, site.size),
                               "name": places[bld.block[site]] + "治安球机", "industry": "02", "place": bk}))
    k_j = k - k_site
    pick = seg_major_end[rng.integers(0, seg_major_end.size, k_j)]
    seg = np.where(pick >= 0, pick, -1 - pick)
    ln = shapely.length(st.line[seg])
    pos = np.where(pick >= 0, np.minimum(6.0, 0.4 * ln), ln - np.minimum(6.0, 0.4 * ln))
    p, _ = _on_streets(rng, st, city.outline, seg, -(st.half[seg] + 1.5), pos)
    node = np.where(pick >= 0, st.end_node[seg, 0], st.end_node[seg, 1])
    name = road_names[st.road[seg]] + "与" + road_names[_cross_road(st, node, seg)] + "路口治安球机"
    parts.append(pd.DataFrame({"kind": "dome", "x": p[:, 0], "y": p[:, 1], "heading_deg": rng.uniform(0, 360, k_j),
                               "name": name, "industry": "00", "place": "road"}))
    # PTZ on the tallest buildings
    tall = np.lexsort((-bld.households, -bld.floors))[:n_ptz]
    parts.append(pd.DataFrame({"kind": "ptz", "x": bld.x[tall], "y": bld.y[tall],
                               "heading_deg": rng.uniform(0, 360, tall.size), "name": addr[tall] + "制高点云台",
                               "industry": "00", "place": "high"}))
    cam = pd.concat(parts, ignore_index=True)
    m = len(cam)
    kind = cam["kind"].to_numpy()
    fov = np.select([kind == "bullet", np.isin(kind, ["epolice", "checkpoint"])],
                    [rng.uniform(40, 70, m), rng.uniform(30, 50, m)], 360.0)
    rng_m = np.select([kind == "bullet", kind == "epolice", kind == "checkpoint", kind == "dome"],
                      [rng.uniform(40, 120, m), rng.uniform(30, 60, m), rng.uniform(40, 80, m), rng.uniform(30, 80, m)],
                      rng.uniform(120, 200, m))
    place = cam["place"].to_numpy()
    owner = np.select(
        [np.isin(kind, ["epolice", "checkpoint"]), place == "school", place == "hospital", place == "station",
         np.isin(place, ["bank", "market"]), place == "square", place == "government"],
        ["交警大队", "教育局", "卫健局", "交通运输局", "社会单位", "城管局", "街道办事处"], "公安分局").astype(object)
    bullet_city = (kind == "bullet") & (rng.random(m) < 0.2)
    owner[bullet_city] = "城管局"
    cam_class = np.select(
        [np.isin(kind, ["epolice", "checkpoint", "ptz"]) | ((kind == "bullet") & ~bullet_city) | (place == "road"),
         np.isin(place, ["school", "hospital", "station", "square", "government"]) | bullet_city],
        [1, 2], 3).astype(np.int64)
    online = np.zeros(m, dtype=bool)
    online[rng.permutation(m)[: int(round(0.92 * m))]] = True
    ago = np.where(online, rng.uniform(0, 180, m), np.exp(rng.uniform(np.log(3600), np.log(30 * 86400), m)))
    last_seen = reference - pd.to_timedelta(np.round(ago), unit="s")
    perm = rng.permutation(m)
    serial = pd.Series(np.arange(1, m + 1)).map("{:06d}".format).to_numpy()
    code = DISTRICT_CODE + "00" + cam["industry"].to_numpy()[perm] + "1320" + serial
    return pd.DataFrame({
        "code": code, "name": cam["name"].to_numpy()[perm], "kind": kind[perm],
        "heading_deg": np.round(cam["heading_deg"].to_numpy()[perm], 1) % 360.0, "fov_deg": np.round(fov[perm], 1),
        "range_m": np.round(rng_m[perm], 1), "cam_class": cam_class[perm], "owner_dept": owner[perm],
        "online": online[perm], "last_seen": last_seen[perm],
        "x": cam["x"].to_numpy()[perm], "y": cam["y"].to_numpy()[perm],
    })


def _cross_road(st: Streets, node: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """For each (junction, segment), the road of another segment meeting there (or its own)."""
    ends = pd.DataFrame({"node": np.r_[st.end_node[:, 0], st.end_node[:, 1]],
                         "road": np.r_[st.road, st.road]}).drop_duplicates()
    ends = ends.sort_values(["node", "road"], kind="stable")
    q = pd.DataFrame({"i": np.arange(node.size), "node": node, "own": st.road[seg]})
    j = q.merge(ends, on="node", how="left")
    j["other"] = j["road"] != j["own"]
    j = j.sort_values(["i", "other"], ascending=[True, False], kind="stable").drop_duplicates("i")
    return j.sort_values("i")["road"].to_numpy().astype(np.int64)


_RESOURCE_SHARE = {"fire_station": 0.05, "hospital": 0.12, "police_post": 0.33, "shelter": 0.25,
                   "emergency_team": 0.15, "supply_depot": 0.10}
_RESOURCE_SITES = {"fire_station": ("government", "office", "factory"), "hospital": ("hospital",),
                   "police_post": None, "shelter": ("school", "square"), "emergency_team": ("government", "office"),
                   "supply_depot": ("factory",)}
_CAPACITY = {"fire_station": (20, 60), "hospital": (80, 1200), "police_post": (6, 30), "shelter": (300, 5000),
             "emergency_team": (15, 60), "supply_depot": (500, 20000)}


def _spread(rng: np.random.Generator, cand: np.ndarray, k: int, xy: np.ndarray) -> np.ndarray:
    """``k`` of ``cand`` spread out over the map (farthest-point sampling from a random start)."""
    if cand.size == 0 or k == 0:
        return np.zeros(0, dtype=np.int64)
    chosen = [int(cand[rng.integers(0, cand.size)])]
    d = np.hypot(*(xy[cand] - xy[chosen[0]]).T)
    while len(chosen) < k:
        nxt = int(np.argmax(d))
        if d[nxt] <= 0:  # fewer distinct sites than wanted: repeat sites
            nxt = int(rng.integers(0, cand.size))
        chosen.append(int(cand[nxt]))
        d = np.minimum(d, np.hypot(*(xy[cand] - xy[cand[nxt]]).T))
    return np.asarray(chosen, dtype=np.int64)


def make_resources(rng: np.random.Generator, bld: Buildings, places: np.ndarray, comm_name: np.ndarray,
                   street_name: np.ndarray, n: int) -> pd.DataFrame:
    """Emergency resources at buildings of a fitting kind, spread over the district."""
    kinds = list(_RESOURCE_SHARE)
    count = largest_remainder(np.array(list(_RESOURCE_SHARE.values())), n, minimum=1)
    xy = np.c_[bld.x, bld.y]
    rows = []
    for kind, k in zip(kinds, count):
        sites = _RESOURCE_SITES[kind]
        if sites is None:
            cand = np.flatnonzero(bld.households > 0)
        else:
            cand = np.flatnonzero(np.isin(bld.block_kind[bld.block], list(sites)) & (bld.btype == "nonres"))
            if cand.size == 0:
                cand = np.flatnonzero(bld.btype == "nonres")
        pick = _spread(rng, cand, int(k), xy)
        lo, hi = _CAPACITY[kind]
        cap = np.round(np.exp(rng.uniform(np.log(lo), np.log(hi), pick.size))).astype(np.int64)
        place = places[bld.block[pick]]
        comm = comm_name[pick]
        street = street_name[pick]
        if kind == "fire_station":
            name = [f"{s[:-2]}消防救援站" for s in street]
        elif kind == "hospital":
            name = [p if p is not None else f"{c[:-2]}医院" for p, c in zip(place, comm)]
        elif kind == "police_post":
            name = [f"{c[:-2]}警务室" for c in comm]
        elif kind == "shelter":
            name = [f"{p or c[:-2]}应急避难场所" for p, c in zip(place, comm)]
        elif kind == "emergency_team":
            name = [f"{s}应急救援队" for s in street]
        else:
            name = [f"{p or c[:-2]}应急物资储备库" for p, c in zip(place, comm)]
        rows.append(pd.DataFrame({"kind": kind, "name": name, "capacity": cap, "bld": pick}))
    res = pd.concat(rows, ignore_index=True)
    # same site twice (few candidates) or same name: number them
    dup = res.groupby("name").cumcount().to_numpy()
    res["name"] = np.where(dup > 0, res["name"] + (dup + 1).astype(str) + "号点", res["name"])
    x, y = sample_in_cells(rng, bld.cell[res["bld"].to_numpy()], bld.x[res["bld"]], bld.y[res["bld"]],
                           np.full(len(res), 6.0))
    prefix = {"fire_station": "FS", "hospital": "HO", "police_post": "PP", "shelter": "SH",
              "emergency_team": "ET", "supply_depot": "SD"}
    seq = res.groupby("kind").cumcount().to_numpy() + 1
    code = res["kind"].map(prefix) + pd.Series(seq).map("{:03d}".format)
    return pd.DataFrame({"code": code.to_numpy(), "name": res["name"].to_numpy(), "kind": res["kind"].to_numpy(),
                         "capacity": res["capacity"].to_numpy(), "x": x, "y": y})


def make_workers(rng: np.random.Generator, bld: Buildings, grid_of_bld: np.ndarray, n_grids: int, n: int,
                 reference: pd.Timestamp) -> tuple[pd.DataFrame, np.ndarray]:
    """Grid workers: one per grid for ~97% of grids, the rest of the roster unassigned.

    Returns the workers (local ``x``, ``y``) and, per grid, the index of its worker or -1.
    """
    housed = min(n, n_grids - max(1, int(round(0.03 * n_grids))))
    grids = np.sort(rng.choice(n_grids, size=housed, replace=False))
    home = np.r_[grids, np.full(n - housed, -1)]
    # each worker stands by a building of the home grid (any building for the unassigned)
    weight = bld.population + 1.0
    order = np.lexsort((rng.random(len(weight)), grid_of_bld))
    starts = np.searchsorted(grid_of_bld[order], np.arange(n_grids))
    ends = np.searchsorted(grid_of_bld[order], np.arange(n_grids), side="right")
    at = np.empty(n, dtype=np.int64)
    for i, g in enumerate(home[:housed]):
        members = order[starts[g]:ends[g]]
        w = weight[members]
        at[i] = members[rng.choice(members.size, p=w / w.sum())]
    at[housed:] = rng.choice(len(weight), size=n - housed, p=weight / weight.sum())
    x, y = sample_in_cells(rng, bld.cell[at], bld.x[at], bld.y[at], np.full(n, 25.0))
    status = np.repeat(np.asarray(["on_duty", "busy", "off_duty"], dtype=object),
                       largest_remainder(np.array([0.7, 0.1, 0.2]), n))[rng.permutation(n)]
    ago = np.where(status == "off_duty", rng.uniform(3600, 14 * 3600, n), rng.uniform(0, 300, n))
    updated = reference - pd.to_timedelta(np.round(ago), unit="s")
    code = pd.Series(np.arange(1, n + 1)).map("WG{:05d}".format).to_numpy()
    worker_of_grid = np.full(n_grids, -1, dtype=np.int64)
    worker_of_grid[grids] = np.arange(housed)
    return pd.DataFrame({"code": code, "name": person_names(rng, n), "home": home, "status": status,
                         "updated_at": updated, "x": x, "y": y}), worker_of_grid
