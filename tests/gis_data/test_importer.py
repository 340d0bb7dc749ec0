"""Bringing a real district's files in unchanged: each fault the first real districts met, with its message.

The district is Hangzhou 下城区 (DataV's outline, GCJ-02) with the grid platform's real files from
``../shared/realdata`` (test-only: read there, never copied). Each test works in a transaction that is rolled
back, so they do not see each other's writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, text

from command.taxonomy import load_taxonomy
from gis_data.importer import ImportOptions, import_file, init_district
from gis_data.mapping import Mapping, read_mapping
from gis_data.settings import ImportSettings
from gridwall.cli import cli
from layers.db import make_engine, migrate
from layers.errors import LoadError
from layers.settings import DatabaseSettings

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
HZ = REALDATA / "hangzhou_xiacheng_grid"
ADMIN = HZ / "admin_district_street_community_grid_wgs84.geojson"
OUTLINES = REALDATA / "datav_target_district_boundaries_gcj02.geojson"
GRIDS = Mapping(layer="grids", merge_parts=True, filter={"level": "grid"}, fixed={"zone": "inner"})
AREAS = Mapping(layer="admin_areas", merge_parts=True, filter={"level": ["street", "community"]})


@pytest.fixture(scope="module")
def district(cluster) -> Iterator[Engine]:
    """下城区's outline, streets and communities (parents found by location), committed once for the module."""
    url = cluster.create_database("importer_xiacheng")
    engine = make_engine(DatabaseSettings(url=url, fsync=False))
    migrate(engine)
    with engine.begin() as conn:
        load_taxonomy(conn)
        init_district(conn, OUTLINES, code="330103", crs="gcj02")
        import_file(conn, ADMIN, "admin_areas", ImportOptions(mapping=AREAS))
    yield engine
    engine.dispose()


@pytest.fixture
def conn(district: Engine) -> Iterator[Connection]:
    with district.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


def fault(conn, path, layer, **options) -> LoadError:
    with pytest.raises(LoadError) as caught:
        import_file(conn, path, layer, ImportOptions(**options))
    return caught.value


# -- admin areas ------------------------------------------------------------------------
def test_parents_are_found_by_location_in_a_file_without_parent_codes(conn):
    """The mixed file has no parent codes: each community's street is the street that holds it."""
    got = dict(conn.execute(text(
        "SELECT c.name, s.name FROM admin_area c JOIN admin_area s ON s.id = c.parent_id"
        " WHERE c.level = 'community'")).all())
    source = geopandas.read_file(ADMIN)
    said = dict(zip(source.loc[source.level == "community", "name"], source.loc[source.level == "community",
                                                                              "street"]))
    agree = sum(got[n] == said[n] for n in got)
    assert len(got) == 75 and agree / len(got) >= 0.95, f"{agree} of {len(got)}"
    streets = conn.execute(text("SELECT count(*) FROM admin_area WHERE level = 'street' AND parent_id = "
                                "(SELECT id FROM admin_area WHERE level = 'district')")).scalar()
    assert streets == 8


def test_a_community_without_geometry_or_parent_is_refused_by_field_not_by_the_database(conn, tmp_path):
    path = tmp_path / "communities.csv"
    path.write_text("code,name,level\nX-1,新社区,community\n", encoding="utf-8")
    err = fault(conn, path, "admin_areas")
    assert (err.source, err.feature, err.field) == ("communities.csv", 0, "parent_code")
    assert "no geometry to find its street by" in err.message
    path.write_text("code,name,level,parent_code\nX-1,新社区,community,石桥街道\n", encoding="utf-8")
    report, _ = import_file(conn, path, "admin_areas")  # a parent given by name is found
    assert report.written == 1
    assert conn.execute(text("SELECT p.name FROM admin_area c JOIN admin_area p ON p.id = c.parent_id"
                             " WHERE c.code = 'X-1'")).scalar() == "石桥街道"


def test_an_outline_file_with_several_districts_lists_them(conn):
    err = fault_init(conn)
    assert "give --code or --name" in err.message and "330103 下城区" in err.message and "440310 坪山区" in err.message


def fault_init(conn) -> LoadError:
    with pytest.raises(LoadError) as caught:
        init_district(conn, OUTLINES)
    return caught.value


# -- grids -------------------------------------------------------------------------------
def test_a_self_intersecting_grid_is_named_and_repaired_only_on_request(conn):
    err = fault(conn, ADMIN, "grids", mapping=GRIDS, tolerance_m=200)
    assert (err.feature, err.field) == (339, "geometry")  # the feature number in the file, past the filter
    assert "Self-intersection" in err.message and "not repaired" in err.message
    report, _ = import_file(conn, ADMIN, "grids", ImportOptions(mapping=GRIDS, tolerance_m=200, repair=True))
    assert report.written == 297
    assert any("repaired with make_valid (features 339)" in n for n in report.notes)
    names = conn.execute(text("SELECT name FROM grid WHERE code = 'TS-1-4'")).scalars().all()
    assert names == ["天水街道灯芯巷社区第四网格"]  # grid names are kept


def test_grids_past_the_outline_say_how_far_and_the_tolerance_admits_them(conn):
    report, _ = import_file(conn, ADMIN, "grids", ImportOptions(mapping=GRIDS, repair=True, dry_run=True))
    far = {label: e.message for label, e in report.rejected.items()}
    assert len(far) == 6 and report.written == 291
    assert far[424].startswith("reaches 181 m beyond the district (tolerance 50 m; --tolerance sets it)")
    assert conn.execute(text("SELECT count(*) FROM grid")).scalar() == 0  # a dry run writes nothing


# -- other layers --------------------------------------------------------------------------
def test_river_lines_load_into_water(conn):
    mapping = Mapping(filter={"layer": "river"}, fields={"code": "$feature", "name": "RNAME"})
    report, _ = import_file(conn, HZ / "major_roads_rivers.geojson", "water", ImportOptions(mapping=mapping))
    assert report.written == 7
    kinds = conn.execute(text("SELECT DISTINCT GeometryType(geom) FROM water")).scalars().all()
    assert kinds == ["MULTILINESTRING"]


def test_z_coordinates_are_dropped_with_a_note(conn):
    mapping = Mapping(filter={"layer": "anshang"}, fields={"code": "$feature", "floors": "floor"},
                      fixed={"zone": "inner"})
    report, _ = import_file(conn, HZ / "building_floor_slabs_with_height.geojson", "buildings",
                            ImportOptions(mapping=mapping))
    assert report.written == 121
    assert "Z coordinates dropped from 121 features" in report.notes[1]
    assert conn.execute(text("SELECT bool_or(ST_NDims(geom) > 2) FROM building")).scalar() is False


def test_a_stray_point_is_refused_without_a_datum_hint_and_the_rest_load(conn, tmp_path):
    path = HZ / "public_facilities_toilets_bike_bus_manholes.geojson"
    mapping = Mapping(filter={"category": ["窨井盖(manhole)", "垃圾桶(waste bin)"]},
                      fields={"code": "id", "class_code": "category", "class_name": "category"})
    err = fault(conn, path, "components", mapping=mapping)
    assert err.field == "geometry" and "outside the district" in err.message and "gcj02" not in err.message
    report, raw = import_file(conn, path, "components", ImportOptions(mapping=mapping, on_error="skip"))
    assert report.written + len(report.rejected) == 6 and report.rejected
    rejects = tmp_path / "rejects.csv"
    report.write_rejects(rejects, raw)
    table = pd.read_csv(rejects, encoding="utf-8-sig")
    assert table.loc[0, "feature"] == min(report.rejected) and table.loc[0, "id"] == raw.loc[min(report.rejected),
                                                                                            "id"]
    assert table["wkt"].str.startswith("POINT").all()


def test_buildings_over_the_household_cap_are_held_and_reported(conn, tmp_path):
    tower = shapely.Polygon([(120.17, 30.28), (120.172, 30.28), (120.172, 30.282), (120.17, 30.282)])  # ~4.3 ha
    small = shapely.box(120.175, 30.285, 120.1752, 30.2852)
    path = tmp_path / "b.geojson"
    geopandas.GeoDataFrame({"id": ["a", "b"], "height": ["90", "6"], "zone": "inner"}, geometry=[tower, small],
                           crs="EPSG:4326").to_file(path)
    report, _ = import_file(conn, path, "buildings", ImportOptions(mapping=Mapping(fields={"code": "id"})))
    assert report.written == 2 and not report.rejected
    got = dict(conn.execute(text("SELECT code, households FROM building")).all())
    floors = dict(conn.execute(text("SELECT code, floors FROM building")).all())
    assert got["a"] == 5000 and floors == {"a": 30, "b": 2}
    area_b = 0.0002 * 111_320 * 0.0002 * 111_320 * 0.8638  # cos(30.28°)
    assert got["b"] == pytest.approx(area_b * 2 / ImportSettings().m2_per_household, abs=1)
    assert any("over the cap of 5,000: held at the cap (largest: feature 0" in n for n in report.notes)


# -- events: a history load ----------------------------------------------------------------
def _events_csv(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "events.csv"
    path.write_text("id,type,time,lon,lat,street,community,closed,intime\n" + rows, encoding="utf-8")
    return path


EVENTS = Mapping(fields={"external_id": "id", "category": "type", "reported_at": "time", "street": "street",
                         "community": "community", "closed_at": "closed", "on_time": "intime"},
                 fixed={"channel": "patrol"})


def test_a_history_load_merges_no_duplicates_and_reports_them(conn, tmp_path):
    path = _events_csv(tmp_path, "1,消防通道堵塞,2018-09-30 08:00,120.16,30.27,,,2018-09-30 10:00,1\n"
                                 "2,消防通道堵塞,2018-09-30 08:30,120.16,30.27,,,,\n")
    report, _ = import_file(conn, path, "events", ImportOptions(mapping=EVENTS))
    assert report.written == 2
    assert any("1 events would have been merged" in n for n in report.notes)
    rows = conn.execute(text("SELECT external_id, state, duplicate_of_id, on_time, closed_at IS NOT NULL AS c,"
                             " to_char(reported_at AT TIME ZONE 'Asia/Shanghai', 'HH24:MI') AS local"
                             " FROM event ORDER BY external_id")).all()
    assert [(r.state, r.duplicate_of_id, r.on_time, r.c, r.local) for r in rows] == [
        ("closed", None, True, True, "08:00"), ("reported", None, None, False, "08:30")]  # local time kept
    again, _ = import_file(conn, path, "events", ImportOptions(mapping=EVENTS))
    assert again.written == 0 and any("2 events were registered before" in n for n in again.notes)


def test_an_unknown_event_class_names_the_value_and_the_alias_command(conn, tmp_path):
    path = _events_csv(tmp_path, "1,消防通道堵塞,2018-09-30 08:00,120.16,30.27,,,,\n"
                                 "2,公平交易秩序,2018-09-30 09:00,120.16,30.27,,,,\n")
    err = fault(conn, path, "events", mapping=EVENTS)
    assert (err.feature, err.field) == (1, "category")
    assert "公平交易秩序" in err.message and "gridwall taxonomy alias add" in err.message
    assert conn.execute(text("SELECT count(*) FROM event")).scalar() == 0


def test_a_reported_time_at_the_end_of_the_calendar_is_refused_by_field(conn, tmp_path):
    path = _events_csv(tmp_path, "1,消防通道堵塞,9999-12-31 23:00,120.16,30.27,,,,\n")
    err = fault(conn, path, "events", mapping=EVENTS)
    assert (err.feature, err.field) == (0, "reported_at") and "leaves no room for a deadline" in err.message


def test_a_dry_run_counts_the_values_that_map_to_nothing(conn, tmp_path):
    path = _events_csv(tmp_path, "1,公平交易秩序,2018-09-30 08:00,120.16,30.27,,,,\n"
                                 "2,公平交易秩序,2018-09-30 09:00,120.16,30.27,,,,\n"
                                 "3,消防通道堵塞,2018-09-30 09:00,120.16,30.27,,,,\n")
    report, _ = import_file(conn, path, "events", ImportOptions(mapping=EVENTS, dry_run=True))
    assert report.written == 1 and len(report.rejected) == 2
    assert report.unmapped["category"] == {"公平交易秩序": 2}
    assert "1 values of category map to nothing: '公平交易秩序' (2)" in "\n".join(report.lines())
    assert conn.execute(text("SELECT count(*) FROM event")).scalar() == 0


def test_events_without_coordinates_route_by_name_and_an_unknown_community_falls_back_to_its_street(conn, tmp_path):
    path = _events_csv(tmp_path, "1,消防通道堵塞,2018-09-30 08:00,,,石桥街道,华丰社区,,\n"
                                 "2,消防通道堵塞,2018-09-30 09:00,,,石桥街道,不存在社区,,\n"
                                 "3,消防通道堵塞,2018-09-30 09:00,,,不存在街道,,,\n")
    err = fault(conn, path, "events", mapping=EVENTS)
    assert (err.feature, err.field) == (2, "street") and "no street called '不存在街道'" in err.message
    report, _ = import_file(conn, path, "events", ImportOptions(mapping=EVENTS, on_error="skip"))
    assert report.written == 2 and list(report.rejected) == [2]
    kinds = conn.execute(text("SELECT external_id, location_kind FROM event ORDER BY 1")).all()
    assert [tuple(k) for k in kinds] == [("1", "community"), ("2", "street")]
    assert any("1 events name a community the district does not have" in n for n in report.notes)


# -- mappings and the command line ----------------------------------------------------------
def test_mapping_faults_name_the_mapping_and_the_key(conn, tmp_path):
    bad = tmp_path / "m.toml"
    bad.write_text("[fields]\ncode = 3\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"m.toml, field 'fields.code\S*': fields.code\S*: Input should be"):
        read_mapping(bad)
    bad.write_text("[feilds]\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"feilds: Extra inputs are not permitted"):
        read_mapping(bad)
    bad.write_text("[fields\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"m.toml: is not valid TOML"):
        read_mapping(bad)
    err = fault(conn, ADMIN, "grids", mapping=Mapping(fields={"code": "grid_code"}))
    assert err.field == "grid_code" and "the mapping's fields.code names the column 'grid_code'" in err.message
    err = fault(conn, ADMIN, "grids", mapping=Mapping(layer="roads"))
    assert err.field == "layer" and "written for layer roads" in err.message


def test_the_command_line_reports_a_bad_file_without_a_traceback(district, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", district.url.render_as_string(hide_password=False))
    mapping = tmp_path / "grids.toml"
    mapping.write_text('layer = "grids"\nmerge_parts = true\n[filter]\nlevel = "grid"\n[fixed]\nzone = "inner"\n',
                       encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["load", str(ADMIN), "--layer", "grids", "--map", str(mapping)])
    assert result.exit_code != 0 and isinstance(result.exception, LoadError)
    assert "feature 339, field 'geometry'" in str(result.exception)
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(cli, ["load", str(ADMIN), "--layer", "grids", "--map", str(mapping), "--dry-run",
                                 "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "would load 291 into grids, 7 refused" in result.output
    assert len(pd.read_csv(rejects, encoding="utf-8-sig")) == 7


# -- faults in the geometry itself --------------------------------------------------------------------------------
_SQUARE = [[120.170, 30.280], [120.171, 30.280], [120.171, 30.281], [120.170, 30.281], [120.170, 30.280]]


def _polygons(tmp_path: Path, *rings: list) -> Path:
    """A GeoJSON file of building footprints, one per ring, written as text (JSON allows no NaN; GDAL reads it)."""
    features = ",".join('{"type":"Feature","properties":{"code":"B%d","floors":3},"geometry":{"type":"Polygon",'
                        '"coordinates":[%s]}}' % (i, str(ring).replace("nan", "NaN")) for i, ring in enumerate(rings))
    path = tmp_path / "buildings.geojson"
    path.write_text('{"type":"FeatureCollection","features":[' + features + "]}", encoding="utf-8")
    return path


@pytest.mark.parametrize("ring, says", [
    (_SQUARE[:-1], "a ring is not closed"),
    (_SQUARE[:2] + [_SQUARE[0]], "Too few points"),
    ([_SQUARE[0], [float("nan"), 30.280], *_SQUARE[2:]], "(nan, 30.28) is not a longitude/latitude"),
])
@pytest.mark.parametrize("repair", [False, True])
def test_a_broken_ring_is_a_load_error_naming_file_feature_and_field(conn, tmp_path, ring, says, repair):
    """Never a GEOS traceback, whether or not repairs were asked for (a repaired 3-point ring is empty)."""
    path = _polygons(tmp_path, _SQUARE, ring)
    err = fault(conn, path, "buildings", mapping=Mapping(fixed={"zone": "inner"}), repair=repair)
    assert (Path(err.source).name, err.feature, err.field) == (path.name, 1, "geometry")
    assert says in err.message or (repair and "has no geometry" in err.message), err.message


def test_the_command_line_names_an_unclosed_ring_without_a_traceback(district, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", district.url.render_as_string(hide_password=False))
    path = _polygons(tmp_path, _SQUARE, _SQUARE[:-1])
    result = CliRunner().invoke(cli, ["load", str(path), "--layer", "buildings"])
    assert result.exit_code != 0 and isinstance(result.exception, LoadError)
    assert "feature 1, field 'geometry': the geometry cannot be built: a ring is not closed" in str(result.exception)
