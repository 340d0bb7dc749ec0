"""The command line against the test store (external URL mode)."""

from __future__ import annotations

import json

import geopandas
import pytest
import shapely
from click.testing import CliRunner
from sqlalchemy import text

from gridwall.cli import cli


@pytest.fixture
def runner(db_settings, monkeypatch):
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", db_settings.url)
    return CliRunner()


def test_db_status_lists_the_layers(runner, small_district):
    result = runner.invoke(cli, ["db", "status"])
    assert result.exit_code == 0, result.output
    assert "PostGIS 3." in result.output
    assert f"{small_district['buildings']:,}" in result.output


def test_db_down_leaves_an_external_server_alone(runner, engine):
    result = runner.invoke(cli, ["db", "down"])
    assert result.exit_code == 0 and "not ours to stop" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar() == 1


def test_demo_refuses_a_store_that_holds_a_district(runner, small_district):
    result = runner.invoke(cli, ["demo", "--scale", "small"])
    assert result.exit_code != 0 and "already holds a district" in result.output
    result = runner.invoke(cli, ["demo", "--scale", "small", "--if-empty"])
    assert result.exit_code == 0 and "not loaded" in result.output


def test_load_writes_a_file_and_audits_it(runner, engine, small_district, tmp_path):
    with engine.connect() as conn:
        x, y = conn.execute(text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_PointOnSurface(geom) c FROM admin_area "
            "WHERE level = 'district') d")).one()
    path = tmp_path / "posts.geojson"
    geopandas.GeoDataFrame(
        {"code": ["CLI-R1"], "name": ["临时避难点"], "kind": ["shelter"], "capacity": [300]},
        geometry=[shapely.Point(x, y)], crs="EPSG:4326",
    ).to_file(path)
    try:
        result = runner.invoke(cli, ["load", str(path), "--layer", "resources", "--actor", "tester"])
        assert result.exit_code == 0, result.output
        assert "1 features loaded into resources" in result.output
        with engine.connect() as conn:
            assert conn.execute(text("SELECT capacity FROM resource WHERE code = 'CLI-R1'")).scalar() == 300
            detail = conn.execute(text(
                "SELECT detail FROM audit_log WHERE actor = 'tester' AND entity = 'resources'")).scalar()
        assert detail == {"source": "posts.geojson", "rows": 1}
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM resource WHERE code = 'CLI-R1'"))
            conn.execute(text("DELETE FROM audit_log WHERE actor = 'tester'"))


def test_load_of_an_unknown_layer_says_which_layers_exist(runner, tmp_path):
    path = tmp_path / "x.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    result = runner.invoke(cli, ["load", str(path), "--layer", "bridges"])
    assert result.exit_code != 0
    assert "no layer 'bridges'" in str(result.exception) + result.output
