"""gridwall export: a layer or every area's figures to a file, the rows the API's export gives."""

from __future__ import annotations

import csv
import zipfile

import pyogrio
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import text

from gridwall.cli import cli
from layers.errors import LoadError, NotFound


@pytest.fixture
def runner(db_settings, monkeypatch, small_district):
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", db_settings.url)
    return CliRunner()


def _ids(engine, sql: str, **params) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).scalars())


def test_a_layer_to_gpkg_and_shp_with_a_filter(runner, engine, tmp_path):
    domes = _ids(engine, "SELECT id FROM camera WHERE kind = 'dome' ORDER BY id")
    assert domes
    out = tmp_path / "domes.gpkg"
    result = runner.invoke(cli, ["export", "cameras", "--format", "gpkg", "--out", str(out), "--filter", "kind:dome"])
    assert result.exit_code == 0, result.output
    assert sorted(pyogrio.read_dataframe(out)["id"]) == domes
    zipped = tmp_path / "cameras.shp.zip"
    result = runner.invoke(cli, ["export", "cameras", "--format", "shp", "--out", str(zipped)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(tmp_path / "shp")
    assert len(pyogrio.read_dataframe(tmp_path / "shp" / "cameras.shp")) == len(
        _ids(engine, "SELECT id FROM camera"))


def test_a_department_exports_only_its_cameras(runner, engine, tmp_path):
    dept = _ids(engine, "SELECT owner_dept FROM camera WHERE owner_dept IS NOT NULL ORDER BY owner_dept LIMIT 1")[0]
    own = _ids(engine, "SELECT id FROM camera WHERE owner_dept = :d ORDER BY id", d=dept)
    out = tmp_path / "own.csv"
    result = runner.invoke(cli, ["export", "cameras", "--format", "csv", "--out", str(out), "--department", dept])
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["id"]) for r in rows] == own and {r["owner_dept"] for r in rows} == {dept}
    assert len(own) < len(_ids(engine, "SELECT id FROM camera"))


def test_kpis_of_every_street_to_xlsx(runner, engine, tmp_path):
    streets = _ids(engine, "SELECT id FROM admin_area WHERE level = 'street'")
    out = tmp_path / "streets.xlsx"
    result = runner.invoke(cli, ["export", "kpis", "--level", "street", "--start", "2000-01-01",
                                 "--end", "2100-01-01", "--format", "xlsx", "--out", str(out)])
    assert result.exit_code == 0, result.output
    header, *rows = list(load_workbook(out, read_only=True)["kpis_street"].iter_rows(values_only=True))
    assert header[:3] == ("id", "code", "name")
    assert sorted(r[0] for r in rows) == sorted(streets)


def test_mistakes_are_errors_of_the_family(runner, tmp_path):
    out = str(tmp_path / "x")
    bad = runner.invoke(cli, ["export", "cameras", "--format", "docx", "--out", out])
    assert isinstance(bad.exception, LoadError) and bad.exception.field == "format"
    unknown = runner.invoke(cli, ["export", "nosuch", "--format", "csv", "--out", out])
    assert isinstance(unknown.exception, NotFound)
    shp = runner.invoke(cli, ["export", "kpis", "--level", "street", "--start", "2000-01-01", "--end", "2100-01-01",
                              "--format", "shp", "--out", out])
    assert isinstance(shp.exception, LoadError) and "without geometry" in str(shp.exception)


def test_options_of_the_other_kind_are_refused(runner, tmp_path):
    out = str(tmp_path / "x")
    mixed = runner.invoke(cli, ["export", "kpis", "--level", "street", "--start", "2000-01-01", "--end", "2100-01-01",
                                "--format", "csv", "--out", out, "--filter", "kind:dome"])
    assert mixed.exit_code == 2 and "--filter" in mixed.output
    stray = runner.invoke(cli, ["export", "cameras", "--format", "csv", "--out", out, "--level", "street"])
    assert stray.exit_code == 2 and "kpis only" in stray.output
