"""The demo district generator, on the small profile: contract, determinism, invariants.

No database: the generator is pure code. The default profile's calibration is
measured by hand (it takes ~20 s) and reported, not asserted here.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gis_data.demo import (
    CHANNEL_SHARE,
    EVENT_TRANSITIONS,
    PENDING_STATES,
    REFERENCE_TIME,
    SCALES,
    TAXONOMY_PATH,
    DemoDistrict,
    WorkCalendar,
    add_working_hours,
    generate_district,
    load_taxonomy,
    taxonomy_leaves,
)
from layers.errors import NotFound

COLUMNS = {
    "admin": ["code", "name", "level", "parent_code", "geometry"],
    "roads": ["code", "name", "kind", "geometry"],
    "water": ["code", "name", "geometry"],
    "blocks": ["code", "zone", "btype", "community_code", "geometry"],
    "buildings": ["code", "block_code", "btype", "floors", "households", "population", "zone", "address",
                  "community_code", "grid_code", "geometry", "cell"],
    "grids": ["code", "zone", "households", "population", "community_code", "worker_code", "geometry"],
    "components": ["code", "class_code", "class_name", "owner_dept", "state", "geometry"],
    "cameras": ["code", "name", "kind", "heading_deg", "fov_deg", "range_m", "cam_class", "owner_dept", "online",
                "last_seen", "geometry"],
    "resources": ["code", "name", "kind", "capacity", "geometry"],
    "workers": ["code", "name", "home_grid_code", "status", "updated_at", "geometry"],
    "events": ["code", "channel", "external_id", "category_code", "title", "address", "reported_at", "deadline_at",
               "state", "closed_at", "rating", "grid_code", "community_code", "street_code", "department",
               "priority", "geometry"],
    "event_history": ["event_code", "from_state", "to_state", "at", "actor", "note"],
}
GEOM_TYPES = {
    "admin": {"MultiPolygon"}, "roads": {"LineString"}, "water": {"Polygon", "MultiPolygon"},
    "blocks": {"Polygon"}, "buildings": {"Polygon"}, "grids": {"MultiPolygon"}, "components": {"Point"},
    "cameras": {"Point"}, "resources": {"Point"}, "workers": {"Point"}, "events": {"Point"},
}


@pytest.fixture(scope="module")
def small() -> DemoDistrict:
    return generate_district("small", seed=7)


@pytest.fixture(scope="module")
def metric(small):
    """Polygon layers in the district's metric CRS."""
    m = small.metric_epsg
    return {
        "district": small.admin[small.admin["level"] == "district"].to_crs(m).geometry.iloc[0],
        "admin": small.admin.to_crs(m),
        "grids": small.grids.to_crs(m),
        "blocks": small.blocks.to_crs(m),
        "cells": gpd.GeoSeries(small.buildings["cell"], crs=4326).to_crs(m),
    }


def _area_close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(abs(b), 1.0)


# -- contract -------------------------------------------------------------------------------


def test_frames_follow_the_contract(small):
    assert small.metric_epsg == 4547 and small.seed == 7 and small.scale.name == "small"
    frames = small.frames()
    assert list(frames) == list(COLUMNS)
    for name, frame in frames.items():
        assert list(frame.columns) == COLUMNS[name], name
        if name == "event_history":
            assert not isinstance(frame, gpd.GeoDataFrame)
            continue
        assert frame.crs.to_epsg() == 4326, name
        assert frame["code"].is_unique, name
        geoms = frame.geometry[frame.geometry.notna()]
        assert set(geoms.geom_type) <= GEOM_TYPES[name], name
        assert geoms.is_valid.all(), name
    assert small.buildings["cell"].crs.to_epsg() == 4326
    assert set(small.buildings["cell"].geom_type) == {"Polygon"}


def test_values_are_in_their_domains(small):
    b = small.buildings
    assert set(b["btype"]) == {"highrise", "walkup", "village", "nonres"}
    assert set(small.blocks["zone"]) == set(b["zone"]) == set(small.grids["zone"]) == {"inner", "outer"}
    assert set(small.roads["kind"]) == {"arterial", "local"}
    for t, lo, hi in (("village", 1, 4), ("walkup", 5, 7), ("highrise", 12, 33), ("nonres", 1, 20)):
        f = b.loc[b["btype"] == t, "floors"]
        assert f.between(lo, hi).all(), t
    hh = b["households"]
    assert hh[b["btype"] == "village"].between(1, 12).all()
    assert hh[b["btype"] == "walkup"].between(8, 60).all()
    assert hh[b["btype"] == "highrise"].between(100, 900).all()
    assert (hh[b["btype"] == "nonres"] == 0).all()
    assert (hh > 600).any(), "a grid planner must meet a tower over the band"
    pop = b["population"]
    assert ((pop >= np.floor(2.0 * hh)) & (pop <= np.ceil(3.2 * hh))).all()
    assert (b["address"].str.len() > 3).all()
    assert set(small.components["state"]) <= {"ok", "damaged", "missing", "occupied"}
    assert (small.components["state"] == "ok").mean() > 0.8
    assert small.components["class_code"].str.fullmatch(r"\d{4}").all()
    assert set(small.resources["kind"]) == {"fire_station", "hospital", "police_post", "shelter", "emergency_team",
                                           "supply_depot"}
    assert (small.resources["capacity"] > 0).all()


def test_counts_are_near_the_small_profile(small):
    sc = SCALES["small"]
    assert len(small.buildings) == sc.n_buildings
    assert (small.admin["level"] == "street").sum() == 3
    assert (small.admin["level"] == "community").sum() == 8
    assert 36 <= len(small.grids) <= 50
    for name, n in (("cameras", sc.n_cameras), ("workers", sc.n_workers), ("components", sc.n_components),
                    ("events", sc.n_events), ("resources", sc.n_resources)):
        assert len(getattr(small, name)) == n, name


def test_unknown_scale_is_refused():
    with pytest.raises(NotFound, match="small"):
        generate_district("huge")


# -- determinism ------------------------------------------------------------------------------


def test_same_seed_gives_identical_frames(small):
    again = generate_district("small", seed=7)
    for name, frame in small.frames().items():
        other = again.frames()[name]
        if isinstance(frame, gpd.GeoDataFrame):
            for col in [c for c in frame.columns if isinstance(frame[c], gpd.GeoSeries)]:
                assert list(frame[col].to_wkb()) == list(other[col].to_wkb()), (name, col)
            frame, other = pd.DataFrame(frame.drop(columns=[frame.geometry.name])), pd.DataFrame(
                other.drop(columns=[other.geometry.name]))
            frame, other = frame.drop(columns=["cell"], errors="ignore"), other.drop(columns=["cell"], errors="ignore")
        pd.testing.assert_frame_equal(frame, other, check_exact=True, obj=name)


def test_another_seed_gives_another_district(small):
    other = generate_district("small", seed=8)
    assert not small.buildings.geometry.iloc[:50].geom_equals(other.buildings.geometry.iloc[:50]).all()


# -- geometry invariants -------------------------------------------------------------------------


def test_the_district_lies_around_kaifu():
    d = generate_district("small", seed=7)
    c = d.admin[d.admin["level"] == "district"].geometry.iloc[0].centroid
    assert 112.9 < c.x < 113.05 and 28.2 < c.y < 28.3
    river = d.water.to_crs(4547).geometry.iloc[0]
    outline = d.admin[d.admin["level"] == "district"].to_crs(4547).geometry.iloc[0]
    assert river.intersection(outline).area < 1e-6 * outline.area  # the river runs outside the district


def test_admin_levels_nest_and_tile(small, metric):
    admin = metric["admin"].set_index("code")
    district_area = metric["district"].area
    streets = admin[admin["level"] == "street"]
    communities = admin[admin["level"] == "community"]
    assert (streets["parent_code"] == "430105").all()
    assert streets.index.str.fullmatch(r"430105\d{3}").all()
    assert communities.index.str.fullmatch(r"430105\d{6}").all()
    for code, row in communities.iterrows():
        assert code.startswith(row["parent_code"])
        parent = admin.loc[row["parent_code"], "geometry"]
        assert row["geometry"].difference(parent).area < 1e-6 * row["geometry"].area, code
    for level in (streets, communities):
        assert _area_close(level.area.sum(), district_area)
        assert _area_close(shapely.union_all(level.geometry.to_numpy()).area, district_area)
    assert (streets["name"].str.endswith("街道")).all() and (communities["name"].str.endswith("社区")).all()


def test_blocks_and_cells_tile_the_district(small, metric):
    area = metric["district"].area
    assert _area_close(metric["blocks"].area.sum(), area)
    assert _area_close(metric["cells"].area.sum(), area)
    assert set(small.blocks["code"]) == set(small.buildings["block_code"]), "every block gets a building"


def test_grids_tile_the_district_and_nest_in_communities(small, metric):
    grids = metric["grids"]
    area = metric["district"].area
    union = shapely.union_all(grids.geometry.to_numpy())
    assert _area_close(union.area, area)
    assert grids.area.sum() - union.area < 1e-6 * area  # pairwise overlaps ~0
    comm = metric["admin"].set_index("code").geometry
    for code, c, g in zip(grids["code"], grids["community_code"], grids.geometry):
        assert code.startswith(c + "-")
        assert g.difference(comm[c]).area < 1e-6 * g.area, code


def test_footprints_lie_in_their_cells(small):
    b = small.buildings
    assert shapely.within(b.geometry.to_numpy(), b["cell"].to_numpy()).all()


def test_each_building_falls_in_exactly_its_grid(small):
    pts = gpd.GeoDataFrame({"code": small.buildings["code"], "grid_code": small.buildings["grid_code"]},
                           geometry=small.buildings.geometry.representative_point(), crs=4326)
    hits = gpd.sjoin(pts, small.grids[["code", "geometry"]], predicate="within", rsuffix="g")
    assert hits.groupby("code_left").size().reindex(pts["code"]).eq(1).all()
    assert (hits["grid_code"] == hits["code_g"]).all()


def test_grid_sums_and_zones_come_from_their_buildings(small):
    b = small.buildings
    sums = b.groupby("grid_code")[["households", "population"]].sum()
    g = small.grids.set_index("code")
    assert (sums.reindex(g.index) == g[["households", "population"]]).all().all()
    comm = b.groupby("grid_code")["community_code"].agg(lambda s: set(s))
    assert all(comm[c] == {g.loc[c, "community_code"]} for c in g.index)
    by_zone = b.pivot_table(index="grid_code", columns="zone", values="households", aggfunc="sum", fill_value=0)
    major = np.where(by_zone.get("inner", 0) >= by_zone.get("outer", 0), "inner", "outer")
    assert (pd.Series(major, index=by_zone.index).reindex(g.index) == g["zone"]).mean() > 0.95


def test_most_but_not_all_initial_grids_are_in_band(small):
    g = small.grids
    inner = g["zone"] == "inner"
    ok = np.where(inner, g["households"].between(500, 600), g["households"].between(300, 500))
    assert 0.4 <= ok.mean() < 1.0


def test_street_points_fall_in_exactly_one_grid(small):
    for name in ("components", "cameras", "resources"):
        pts = getattr(small, name)[["code", "geometry"]]
        hits = gpd.sjoin(pts, small.grids[["code", "geometry"]], predicate="intersects")
        assert hits.groupby("code_left").size().reindex(pts["code"]).eq(1).all(), name


# -- cameras, workers ------------------------------------------------------------------------------


def test_cameras_are_plausible(small):
    c = small.cameras
    assert set(c["kind"]) == {"bullet", "dome", "checkpoint", "epolice", "ptz"}
    assert c["heading_deg"].between(0, 360).all()
    fov = c.set_index("kind")["fov_deg"]
    assert fov.loc["bullet"].between(40, 70).all()
    assert fov.loc[["checkpoint", "epolice"]].between(30, 50).all()
    assert (fov.loc[["dome", "ptz"]] == 360).all()
    assert c["range_m"].between(30, 200).all()
    assert set(c["cam_class"]) <= {1, 2, 3}
    assert abs(c["online"].mean() - 0.92) < 0.01
    assert str(c["last_seen"].dt.tz) == "UTC" and (c["last_seen"] <= REFERENCE_TIME).all()
    assert c["code"].str.fullmatch(r"\d{20}").all()


def test_workers_staff_most_grids(small):
    w, g = small.workers, small.grids
    housed = w["home_grid_code"].notna()
    assert housed.mean() >= 0.9 and w.loc[housed, "home_grid_code"].is_unique
    assert 0.9 <= g["worker_code"].notna().mean() < 1.0
    pairs = dict(zip(g["code"], g["worker_code"]))
    assert all(pairs[gc] == wc for wc, gc in zip(w.loc[housed, "code"], w.loc[housed, "home_grid_code"]))
    share = w["status"].value_counts(normalize=True)
    assert abs(share["on_duty"] - 0.7) < 0.05 and abs(share["off_duty"] - 0.2) < 0.05
    joined = gpd.sjoin(w[housed], g[["code", "geometry"]], predicate="within")
    assert (joined["home_grid_code"] == joined["code_right"]).mean() > 0.8  # by their grid, some just over the edge


# -- events ------------------------------------------------------------------------------------------


def test_channel_mix_matches_kaifu(small):
    share = small.events["channel"].value_counts(normalize=True)
    for ch, p in CHANNEL_SHARE.items():
        assert abs(share[ch] - p) <= 0.03, ch


def test_event_fields_are_consistent(small):
    e = small.events
    leaves = taxonomy_leaves().set_index("code")
    assert e["category_code"].isin(leaves.index).all()
    assert (e["department"] == leaves.loc[e["category_code"], "department"].to_numpy()).all()
    assert e.groupby("channel")["external_id"].apply(lambda s: s.is_unique).all()
    assert str(e["reported_at"].dt.tz) == "UTC"
    assert (e["reported_at"] <= REFERENCE_TIME).all()
    assert (e["reported_at"] > REFERENCE_TIME - pd.Timedelta(days=366)).all()
    assert (e["deadline_at"] > e["reported_at"]).all()
    closed = e["state"] == "closed"
    assert closed.mean() > 0.7
    assert e.loc[closed, "closed_at"].notna().all() and e.loc[~closed, "closed_at"].isna().all()
    assert (e.loc[closed, "closed_at"] >= e.loc[closed, "reported_at"]).all()
    assert str(e["rating"].dtype) == "Int64"
    assert e.loc[closed, "rating"].between(1, 5).all() and e.loc[~closed, "rating"].isna().all()
    assert e.loc[closed, "rating"].ge(4).mean() > 0.7
    assert set(PENDING_STATES) <= set(e["state"])
    overdue = ~e["state"].isin(["closed", "rejected"]) & (e["deadline_at"] < REFERENCE_TIME)
    assert overdue.any()


def test_hotline_events_without_a_point_name_a_community(small):
    e = small.events
    no_point = e.geometry.isna()
    assert (e.loc[no_point, "channel"] == "hotline").all()
    share = no_point[e["channel"] == "hotline"].mean()
    assert 0.15 < share < 0.45
    assert e.loc[no_point, "community_code"].notna().all() and e.loc[no_point, "grid_code"].isna().all()
    assert e.loc[~no_point, "grid_code"].notna().all()
    comm = e["community_code"].to_numpy()
    assert all(c.startswith(s) for c, s in zip(comm, e["street_code"]))


def test_event_points_lie_in_the_district_and_their_grid(small):
    e = small.events[small.events.geometry.notna()]
    district = small.admin[small.admin["level"] == "district"].geometry.iloc[0]
    assert e.within(district).all()
    hits = gpd.sjoin(e[["code", "grid_code", "geometry"]], small.grids[["code", "geometry"]], predicate="within")
    assert len(hits) == len(e) and (hits["grid_code"] == hits["code_right"]).all()


def test_every_history_is_a_legal_chain_ending_in_the_state(small):
    h = small.event_history
    assert set(h["event_code"]) == set(small.events["code"])
    h = h.sort_values(["event_code", "at"], kind="stable")
    first = ~h["event_code"].duplicated()
    assert h.loc[first, "from_state"].isna().all() and (h.loc[first, "to_state"] == "reported").all()
    prev_to = h["to_state"].shift()
    assert (h.loc[~first, "from_state"] == prev_to[~first]).all()
    pairs = {(f if isinstance(f, str) else None, t) for f, t in zip(h["from_state"], h["to_state"])}
    assert all(to in EVENT_TRANSITIONS[frm] for frm, to in pairs), pairs
    assert (h.groupby("event_code")["at"].apply(lambda s: s.is_monotonic_increasing)).all()
    last = h.groupby("event_code")["to_state"].last()
    state = small.events.set_index("code")["state"]
    assert (last.reindex(state.index) == state).all()
    assert (h["at"] <= REFERENCE_TIME).all() and h["actor"].notna().all()


# -- taxonomy and working hours ----------------------------------------------------------------------


def test_taxonomy_is_three_levels_with_complete_leaves():
    tax = json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))
    assert tax == load_taxonomy() and isinstance(tax["version"], int)
    assert [t["name_zh"] for t in tax["classes"]] == ["综合治理", "城市管理", "安全生产", "环境保护", "矛盾调处",
                                                      "公共服务", "突发事件"]
    for top in tax["classes"]:
        assert len(top["code"]) == 2 and len(top["children"]) >= 2
        for sub in top["children"]:
            assert sub["code"][:2] == top["code"] and len(sub["code"]) == 4
            assert len(sub["children"]) >= 2
            for leaf in sub["children"]:
                assert leaf["code"][:4] == sub["code"] and len(leaf["code"]) == 6
                assert leaf["deadline_hours"] > 0 and leaf["priority"] in (1, 2, 3)
                assert leaf["dup_radius_m"] > 0 and leaf["dup_window_hours"] > 0
                assert leaf["name_zh"] and leaf["name_en"] and leaf["department"]
    assert taxonomy_leaves(tax)["code"].is_unique


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        ("2026-10-28 09:00", 2, "2026-10-28 11:00"),  # Wednesday morning
        ("2026-10-28 11:00", 2, "2026-10-28 14:30"),  # over the lunch break
        ("2026-10-30 18:00", 4, "2026-11-02 14:30"),  # Friday evening: Monday afternoon
        ("2026-10-31 10:00", 1, "2026-11-02 10:00"),  # Saturday
        ("2026-10-28 07:00", 7, "2026-10-28 17:30"),  # one full working day
        ("2026-10-28 17:30", 0.5, "2026-10-29 09:30"),  # at closing time
    ],
)
def test_deadlines_run_in_working_hours(start, hours, due):
    t0 = pd.Timestamp(start, tz="Asia/Shanghai").value // 10**9
    got = add_working_hours(np.array([t0]), np.array([hours]))[0]
    assert pd.Timestamp(got, unit="s", tz="UTC") == pd.Timestamp(due, tz="Asia/Shanghai")


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        ("2026-09-30 16:00", 8, "2026-10-08 17:00"),  # 国庆: 1-7 October off
        ("2026-10-09 16:00", 8, "2026-10-10 17:00"),  # Saturday 10 October is worked (调休)
        ("2026-02-13 16:00", 16, "2026-02-25 09:30"),  # 春节: Saturday 14 February worked, 15-23 off
    ],
)
def test_demo_deadlines_follow_the_holidays_of_the_taxonomy_calendar(start, hours, due):
    t0 = pd.Timestamp(start, tz="Asia/Shanghai").value // 10**9
    calendar = WorkCalendar.from_taxonomy(load_taxonomy())
    got = add_working_hours(np.array([t0]), np.array([hours]), calendar)[0]
    assert pd.Timestamp(got, unit="s", tz="UTC") == pd.Timestamp(due, tz="Asia/Shanghai")


def test_deadlines_agree_with_the_command_calendar():
    import command.workhours as workhours
    tax = load_taxonomy()
    ours = WorkCalendar.from_taxonomy(tax)
    theirs = workhours.WorkCalendar(**tax.get("calendar", {}))
    rng = np.random.default_rng(0)
    start = (REFERENCE_TIME.value // 10**9) - rng.integers(0, 200 * 86400, 300)
    hours = rng.choice([1, 2, 4, 8, 16, 24, 40, 72], 300).astype(float)
    got = add_working_hours(start, hours, ours)
    for s, h, g in zip(start, hours, got):
        want = theirs.add_hours(pd.Timestamp(int(s), unit="s", tz="UTC").to_pydatetime(), float(h))
        assert int(want.timestamp()) == g, (s, h)
