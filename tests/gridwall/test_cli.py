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
        assert "posts.geojson: 1 features read, 1 selected, loaded 1 into resources, 0 refused" in result.output
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


@pytest.fixture
def clean_aliases(engine, small_district):
    """The district aliases a test adds through the CLI (committed) are removed after it, with their audit rows."""
    yield
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM district_alias WHERE created_by = 'cli-test'"))
        conn.execute(text("DELETE FROM audit_log WHERE actor = 'cli-test'"))


def test_taxonomy_alias_add_list_and_remove(runner, engine, clean_aliases):
    result = runner.invoke(cli, ["taxonomy", "alias", "add", "公平交易秩序", "020101", "--source", "hz",
                                 "--actor", "cli-test"])
    assert result.exit_code == 0, result.output
    assert "alias '公平交易秩序' of hz -> 020101" in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code, created_by FROM district_alias WHERE source = 'hz'"
                                 " AND alias = '公平交易秩序'")).one() == ("020101", "cli-test")
    listed = runner.invoke(cli, ["taxonomy", "alias", "list", "--source", "hz"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines()[0].startswith("hz\t公平交易秩序\t020101\t占道经营\tcli-test\t")
    assert listed.output.splitlines()[-1] == "1 aliases of hz"
    removed = runner.invoke(cli, ["taxonomy", "alias", "remove", "公平交易秩序", "--source", "hz",
                                  "--actor", "cli-test"])
    assert removed.exit_code == 0 and "removed" in removed.output


def test_taxonomy_alias_add_refuses_a_group_code(runner, engine, clean_aliases):
    result = runner.invoke(cli, ["taxonomy", "alias", "add", "民政", "0201", "--actor", "cli-test"])
    assert result.exit_code != 0
    assert "field 'code'" in str(result.exception) and "not a leaf" in str(result.exception)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM district_alias WHERE created_by = 'cli-test'")).scalar() == 0


def test_taxonomy_alias_import_all_or_nothing(runner, engine, clean_aliases, tmp_path):
    path = tmp_path / "crosswalk.csv"
    path.write_bytes("\ufeffsource,alias,code\n*,民政,010202\n12345,消防安全,\n".encode())
    refused = runner.invoke(cli, ["taxonomy", "alias", "import", str(path), "--actor", "cli-test"])
    assert refused.exit_code != 0
    assert str(refused.exception).startswith("crosswalk.csv, feature 1, field 'code': line 3: the code is empty")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM district_alias WHERE created_by = 'cli-test'")).scalar() == 0
    path.write_bytes("\ufeffsource,alias,code\n*,民政,010202\n12345,消防安全,030101\n".encode())
    result = runner.invoke(cli, ["taxonomy", "alias", "import", str(path), "--actor", "cli-test"])
    assert result.exit_code == 0, result.output
    assert "2 aliases added or changed from crosswalk.csv" in result.output
    listed = runner.invoke(cli, ["taxonomy", "alias", "list"])
    assert "*\t民政\t010202\t" in listed.output and "12345\t消防安全\t030101\t" in listed.output


def test_user_add_list_disable_and_the_audit_names_who_ran_it(runner, engine):
    import getpass
    import uuid

    login = f"cli-{uuid.uuid4().hex[:8]}"
    added = runner.invoke(cli, ["user", "add", login, "--name", "刘监督", "--role", "supervisor", "--generate"])
    assert added.exit_code == 0, added.output
    assert "password: " in added.output and len(added.output.split("password: ")[1].strip()) >= 10
    assert login in runner.invoke(cli, ["user", "list"]).output
    refused = runner.invoke(cli, ["user", "add", login.upper(), "--name", "X", "--role", "analyst",
                                  "--password-stdin"], input="long enough password\n")
    assert refused.exit_code != 0 and "taken" in str(refused.exception)
    assert runner.invoke(cli, ["user", "disable", login]).exit_code == 0
    assert f"{login}" in (line := next(x for x in runner.invoke(cli, ["user", "list"]).output.splitlines()
                                       if login in x)) and "DISABLED" in line
    with engine.connect() as conn:
        actions = conn.execute(text("SELECT action, actor FROM audit_log WHERE entity = 'person' AND entity_id = :l"
                                    " ORDER BY id"), {"l": login}).all()
    assert [a for a, _ in actions] == ["person_add", "person_disable"]
    assert {actor for _, actor in actions} == {f"cli:{getpass.getuser()}"}
