"""gis_data.analyst against the small demo district in a real PostGIS (each test rolled back)."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from rasterio.crs import CRS
from sqlalchemy import Connection, text

from gis_data import analyst
from gis_data import rasters as R
from grid_partition import PartitionParams
from layers.errors import DatabaseError, LoadError, NotFound
from layers.settings import DatabaseSettings

SHANGHAI = ZoneInfo("Asia/Shanghai")
WINDOW = ("2026-01-01", "2026-04-01")  # a quarter of the demo year (Nov 2025 – Oct 2026)


def count(conn: Connection, sql: str, **params) -> int:
    return conn.execute(text(sql), params).scalar_one()


# -- connect, read, write ----------------------------------------------------------------------------------------
def test_connect_reads_the_configured_store(db_settings: DatabaseSettings, small_district: dict,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", db_settings.url)
    engine = analyst.connect()
    try:
        assert len(analyst.read_layer("resources", engine=engine)) == small_district["resources"]
    finally:
        engine.dispose()
    bad = DatabaseSettings(url=db_settings.url.rsplit("/", 1)[0] + "/no_such_database", fsync=False)
    with pytest.raises(DatabaseError, match="no_such_database"):
        analyst.connect(bad)


def test_read_layer_gives_current_grids_with_codes(conn: Connection) -> None:
    grids = analyst.read_layer("grids", engine=conn)
    current = count(conn, "SELECT count(*) FROM grid WHERE version_id = (SELECT id FROM grid_version WHERE is_current)")
    assert isinstance(grids, gpd.GeoDataFrame) and grids.crs == "EPSG:4326"
    assert len(grids) == current and grids["code"].is_unique
    assert grids["community_code"].notna().all() and grids["community_name"].str.endswith("社区").all()
    assert set(grids.geom_type) <= {"MultiPolygon"}
    # an older version stays readable by its id
    old = conn.execute(text("INSERT INTO grid_version (source, is_current) VALUES ('test', false) RETURNING id")
                       ).scalar()
    conn.execute(text("INSERT INTO grid (version_id, code, zone, geom) SELECT :v, code, zone, geom FROM grid "
                      "WHERE version_id = (SELECT id FROM grid_version WHERE is_current) LIMIT 2"), {"v": old})
    assert len(analyst.read_layer("grids", engine=conn, version=old)) == 2


def test_read_layer_filters_by_columns_codes_and_box(conn: Connection) -> None:
    covers = analyst.read_layer("components", engine=conn, where={"class_code": ["0105", "0107"]})
    assert len(covers) == count(conn, "SELECT count(*) FROM component WHERE class_code IN ('0105', '0107')")
    assert set(covers["class_code"]) == {"0105", "0107"} and covers["grid_code"].notna().all()
    west, south, east, north = covers.total_bounds
    half = (west, south, (west + east) / 2, north)
    boxed = analyst.read_layer("components", engine=conn, bbox=half, where={"class_code": "0107"})
    assert 0 < len(boxed) < (covers["class_code"] == "0107").sum()
    assert (boxed.geometry.x <= half[2]).all()
    one_grid = covers["grid_code"].iat[0]
    by_code = analyst.read_layer("components", engine=conn, where={"grid_code": one_grid})
    assert (by_code["grid_code"] == one_grid).all() and len(by_code) >= 1
    assert analyst.read_layer("workers", engine=conn, where={"geom": None}).empty
    with pytest.raises(NotFound, match="has no column 'colour'"):
        analyst.read_layer("components", engine=conn, where={"colour": "red"})
    with pytest.raises(NotFound, match="no layer 'trees'"):
        analyst.read_layer("trees", engine=conn)


def test_buildings_come_with_their_cells_and_history_without_geometry(conn: Connection) -> None:
    buildings = analyst.read_layer("buildings", engine=conn)
    assert isinstance(buildings["cell"], gpd.GeoSeries) and buildings["cell"].crs == "EPSG:4326"
    assert buildings["cell"].notna().all() and buildings["block_code"].notna().all()
    metric = analyst.metric_crs(conn)
    cells, spots = buildings["cell"].to_crs(metric), buildings.geometry.to_crs(metric).representative_point()
    assert cells.buffer(0.01).contains(spots).mean() > 0.99  # a building stands in its own cell
    history = analyst.read_layer("event_history", engine=conn, where={"to_state": "closed"})
    assert not isinstance(history, gpd.GeoDataFrame) and history["event_code"].notna().all()
    assert str(history["at"].dt.tz) == "Asia/Shanghai"


def test_read_events_by_window_class_and_duplicates(conn: Connection) -> None:
    start, end = (datetime.fromisoformat(d).replace(tzinfo=SHANGHAI) for d in WINDOW)
    in_window = "SELECT count(*) FROM event WHERE reported_at >= :s AND reported_at < :e"
    events = analyst.read_events(*WINDOW, engine=conn)
    assert len(events) == count(conn, in_window, s=start, e=end) > 0
    assert events["reported_at"].min() >= start and events["reported_at"].max() < end
    city = analyst.read_events(*WINDOW, category="02", engine=conn)
    assert len(city) == count(conn, in_window + " AND category_code LIKE '02%'", s=start, e=end) > 0
    assert set(city["top_name"]) == {"城市管理"} and (city["sub_class"].str.len() == 4).all()
    two = analyst.read_events(*WINDOW, category=["02", "0101"], engine=conn)
    assert len(two) == len(city) + count(conn, in_window + " AND category_code LIKE '0101%'", s=start, e=end)
    # a duplicate is left out unless asked for
    first, second = events["id"].iat[0], events["id"].iat[1]
    conn.execute(text("UPDATE event SET duplicate_of_id = :a WHERE id = :b"), {"a": int(first), "b": int(second)})
    assert len(analyst.read_events(*WINDOW, engine=conn)) == len(events) - 1
    assert len(analyst.read_events(*WINDOW, engine=conn, duplicates=True)) == len(events)


def test_write_layer_validates_and_writes_in_the_callers_transaction(conn: Connection) -> None:
    comps = analyst.read_layer("components", engine=conn, where={"class_code": "0107"}).head(3)
    audits = count(conn, "SELECT count(*) FROM audit_log")
    written = analyst.write_layer(comps.assign(state="damaged"), "components", engine=conn, actor="ana")
    assert written == 3
    again = analyst.read_layer("components", engine=conn, where={"code": comps["code"].tolist()})
    assert (again["state"] == "damaged").all() and (again["grid_code"] == comps["grid_code"].to_numpy()).all()
    assert count(conn, "SELECT count(*) FROM audit_log WHERE actor = 'ana'") == 1
    assert count(conn, "SELECT count(*) FROM audit_log") == audits + 1
    bad = comps.assign(state=["ok", "stolen", "ok"])
    with pytest.raises(LoadError, match="stolen") as err:
        analyst.write_layer(bad, "components", engine=conn)
    assert err.value.feature == 1 and err.value.field == "state"
    # a frame in the metric CRS goes back to WGS 84 first
    moved = analyst.write_layer(comps.to_crs(analyst.metric_crs(conn)), "components", engine=conn)
    assert moved == 3
    back = analyst.read_layer("components", engine=conn, where={"code": comps["code"].tolist()})
    assert np.allclose(back.geometry.x, comps.geometry.x, atol=1e-9)


def test_sandbox_leaves_no_trace(conn: Connection) -> None:
    code = analyst.read_layer("cameras", engine=conn)["code"].iat[0]
    with analyst.sandbox(conn) as box:
        cams = analyst.read_layer("cameras", engine=box, where={"code": code})
        analyst.write_layer(cams.assign(online=False), "cameras", engine=box)
        assert not analyst.read_layer("cameras", engine=box, where={"code": code})["online"].iat[0]
    assert analyst.read_layer("cameras", engine=conn, where={"code": code})["online"].iat[0] == \
        cams["online"].iat[0]


# -- event figures ---------------------------------------------------------------------------------------------
def test_on_time_by_street_agrees_with_the_command_centre(conn: Connection) -> None:
    from command.kpi import AreaRef, kpis

    events = analyst.read_events(*WINDOW, engine=conn)
    table = analyst.on_time_by_street(events).set_index("street_code")
    start, end = (datetime.fromisoformat(d).replace(tzinfo=SHANGHAI) for d in WINDOW)
    streets = conn.execute(text("SELECT id, code FROM admin_area WHERE level = 'street'")).all()
    assert set(table.index) == {s.code for s in streets}
    for street in streets:
        k = kpis(conn, AreaRef(level="street", id=street.id), start, end, as_of=end)
        row = table.loc[street.code]
        assert (row["events"], row["closed"], row["closed_on_time"]) == (k.total, k.closed, k.closed_on_time)
        assert row["on_time_rate"] == pytest.approx(k.on_time_rate)
        assert row["closure_rate"] == pytest.approx(k.closure_rate)
    assert table["on_time_rate"].is_monotonic_increasing


def test_monthly_counts_and_channel_mix_add_up(conn: Connection) -> None:
    events = analyst.read_events("2025-11-01", "2026-11-01", engine=conn)
    months = analyst.monthly_counts(events)
    assert len(months) == 12 and str(months.index[0]) == "2025-11" and str(months.index[-1]) == "2026-10"
    assert months.to_numpy().sum() == len(events)
    top_classes = {"综合治理", "城市管理", "安全生产", "环境保护", "矛盾调处", "公共服务", "突发事件"}
    assert set(months.columns) <= top_classes
    assert analyst.monthly_counts(events, by=None)["events"].sum() == len(events)
    mix = analyst.channel_mix(events)
    assert mix["events"].sum() == len(events) and mix["share"].sum() == pytest.approx(1.0)
    assert mix.loc["self_settled", "reference_share"] == 0.53
    assert mix.loc["self_settled", "share"] > mix.loc["hotline", "share"]


def test_event_density_over_the_district(conn: Connection, tmp_path: Path) -> None:
    out = analyst.event_density(*WINDOW, category="02", engine=conn, cell_m=25, bandwidth_m=200,
                                path=tmp_path / "city_mgmt.tif", n_hotspots=3)
    located = analyst.read_events(*WINDOW, category="02", engine=conn).geometry.notna().sum()
    assert out.n_events == located > 0
    with rasterio.open(out.path) as src:
        assert src.crs == CRS.from_epsg(4547)
        assert src.res == (25.0, 25.0) and src.transform.c % 25 == 0 and src.transform.f % 25 == 0
        assert src.read(1).sum() * 25 * 25 / 1e6 == pytest.approx(out.n_events, rel=1e-9)
    grids = set(analyst.read_layer("grids", engine=conn)["code"])
    assert 1 <= len(out.hotspots) <= 3 and set(out.hotspots["grid_code"]) <= grids
    assert out.hotspots["events_within"].iat[0] >= 2
    overlay = out.overlay()
    assert overlay.rgba.shape[2] == 4 and overlay.bounds[0][0] < overlay.bounds[1][0]


# -- population raster -----------------------------------------------------------------------------------------
def _building_raster(conn: Connection, path: Path, res: float = 0.0002) -> Path:
    """A population GeoTIFF made from the buildings themselves: each building's people in the pixel it stands in."""
    b = analyst.read_layer("buildings", engine=conn)
    pts = b.geometry.representative_point()
    west, south, east, north = b.total_bounds
    west, north = math.floor(west / res) * res - res, math.ceil(north / res) * res + res
    w, h = math.ceil((east - west) / res) + 1, math.ceil((north - south) / res) + 1
    data = np.zeros((h, w), np.float32)
    np.add.at(data, (((north - pts.y) / res).astype(int), ((pts.x - west) / res).astype(int)), b["population"])
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=1, dtype="float32", crs="EPSG:4326",
                       transform=Affine(res, 0, west, 0, -res, north), nodata=-1) as dst:
        dst.write(data, 1)
    return path


def test_population_by_area_fills_grids_without_building_data(conn: Connection, tmp_path: Path) -> None:
    path = _building_raster(conn, tmp_path / "pop.tif")
    grids = analyst.read_layer("grids", engine=conn)
    empty = grids.sort_values("population")["code"].iat[len(grids) // 2]
    had = int(grids.loc[grids["code"] == empty, "population"].iat[0])
    conn.execute(text("UPDATE building SET population = 0 WHERE grid_id = (SELECT id FROM grid WHERE code = :c "
                      "AND version_id = (SELECT id FROM grid_version WHERE is_current))"), {"c": empty})
    est = analyst.population_by_area(path, engine=conn)
    g = est.grids.set_index("code")
    assert len(g) == len(grids) and est.raster.total() == pytest.approx(grids["population"].sum())
    assert g.loc[empty, "estimate_source"] == "raster" and g.loc[empty, "building_pop"] == 0
    assert g.loc[empty, "estimate"] == pytest.approx(had, rel=0.15)  # 20 m pixels straddle grid borders
    assert (g.drop(index=empty)["estimate_source"] == "buildings").all()
    assert est.disagreements("grids", 1)["code"].tolist() == [empty]
    # grids tile the district: together they hold nearly all the raster's people (a few pixels stick out)
    assert 0.99 * est.raster.total() < g["raster_pop"].sum() <= est.raster.total() + 1e-6
    comm = est.communities
    assert comm["raster_pop"].sum() == pytest.approx(g["raster_pop"].sum(), rel=1e-6)
    assert comm["building_pop"].sum() == g["building_pop"].sum() == grids["population"].sum() - had


# -- flood season ----------------------------------------------------------------------------------------------
def test_flood_watchlist_on_the_demo_dem(conn: Connection, tmp_path: Path) -> None:
    path = analyst.demo_dem(tmp_path / "dem.tif", engine=conn)
    again = analyst.demo_dem(tmp_path / "dem2.tif", engine=conn)
    dem = R.Raster.read(path)
    np.testing.assert_array_equal(dem.data, R.Raster.read(again).data)
    assert dem.crs == CRS.from_epsg(4547) and dem.units == "m"
    points = analyst.flood_points(engine=conn)
    assert len(points) == count(conn, "SELECT count(*) FROM component WHERE class_name LIKE '%井盖' "
                                      "OR class_name = '雨水篦子'")
    assert points["street_code"].notna().all()
    watch = analyst.flood_watchlist(path, engine=conn, share=0.1)
    heights = points.assign(h=R.sample_raster(dem, points))
    for street, picked in watch.groupby("street_code"):
        mine = heights[heights["street_code"] == street]
        assert len(picked) >= math.ceil(0.1 * len(mine))
        assert picked["elevation_m"].max() <= mine.loc[~mine["code"].isin(picked["code"]), "h"].min()
    assert set(watch["class_name"]) <= set(points["class_name"])
    assert watch["street_code"].nunique() == points["street_code"].nunique()


# -- planning and coverage -------------------------------------------------------------------------------------
def test_what_if_rebalance_works_on_a_copy(conn: Connection, quick_params: PartitionParams) -> None:
    inp = analyst.partition_input(engine=conn)
    grid = inp.current.value_counts().index[0]
    before = int(inp.units["households"].sum())
    units = analyst.change_households(inp, grid_code=grid, factor=2.0)
    in_grid = inp.current.reindex(inp.units["unit_id"]).to_numpy() == grid
    assert int(units["households"].sum()) == before + int(inp.units.loc[in_grid, "households"].sum())
    assert int(inp.units["households"].sum()) == before  # the input is untouched
    assert (units.loc[in_grid, "population"] >= inp.units.loc[in_grid, "population"]).all()
    versions = count(conn, "SELECT count(*) FROM grid_version")
    params = quick_params.model_copy(update={"repair_effort": 0, "max_rounds": 30})
    result = analyst.what_if_rebalance(inp, units, params=params)
    assert result.summary["n_units"] == len(units) and result.summary["mode"] == "rebalance"
    assert result.grids["households"].sum() == pytest.approx(units["households"].sum())
    assert len(result.changes) == result.summary["n_changed_units"]
    assert result.grid_polygons().crs == "EPSG:4326"
    assert count(conn, "SELECT count(*) FROM grid_version") == versions  # nothing written
    with pytest.raises(ValueError, match="either codes or grid_code"):
        analyst.change_households(inp, add=10)
    with pytest.raises(ValueError, match="no building"):
        analyst.change_households(inp, codes=["NOPE"], add=10)


def test_camera_blind_spots_per_grid(conn: Connection) -> None:
    blind = analyst.camera_blind_spots(engine=conn)
    grids = analyst.read_layer("grids", engine=conn)
    assert sorted(blind["code"]) == sorted(grids["code"])
    assert (blind["blind_m"] <= blind["street_m"] + 1e-6).all() and blind["blind_m"].is_monotonic_decreasing
    assert blind["blind_share"].between(0, 1).all() and blind["street_m"].sum() > 0
    conn.execute(text("UPDATE camera SET online = false"))
    dark = analyst.camera_blind_spots(engine=conn)
    assert dark["blind_m"].to_numpy() == pytest.approx(dark["street_m"].to_numpy(), rel=1e-6)
    lines = analyst.blind_stretches(engine=conn)
    assert set(lines["grid_code"]) <= set(grids["code"]) and len(lines) > 0


def test_demo_population_raster_sits_on_worldpops_grid(conn: Connection, tmp_path: Path) -> None:
    one = analyst.demo_population_raster(tmp_path / "a.tif", engine=conn, seed=3)
    two = analyst.demo_population_raster(tmp_path / "b.tif", engine=conn, seed=3)
    a, b = R.Raster.read(one), R.Raster.read(two)
    np.testing.assert_array_equal(a.data, b.data)
    assert a.crs == CRS.from_epsg(4326) and a.cell_size == pytest.approx((1 / 1200, 1 / 1200))
    assert round(a.transform.c * 1200, 6) == round(a.transform.c * 1200) and np.isnan(a.data).any()
    people = count(conn, "SELECT sum(population) FROM building")
    assert 0.7 * people < a.total() < 1.4 * people + 1500
