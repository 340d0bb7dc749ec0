"""Exports: each format opens in its own reader with the rows ``/layers`` gives the same key."""

from __future__ import annotations

import csv
import io
import zipfile

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from tests.api.conftest import DEPARTMENT

_ALL_TIME = {"start": "2000-01-01T00:00:00+08:00", "end": "2100-01-01T00:00:00+08:00",
             "as_of": "2026-11-01T00:00:00+08:00"}


def _camera_ids(api_engine, department: str | None = None) -> list[int]:
    with api_engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM camera WHERE CAST(:d AS text) IS NULL OR owner_dept = :d"
                                      " ORDER BY id"), {"d": department}).scalars())


def _get(client, auth, fmt: str, role: str = "analyst", layer: str = "cameras", **params):
    response = client.get(f"/export/{layer}", params={"format": fmt, **params}, headers=auth(role))
    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    return response


def test_csv_holds_every_camera_with_its_geometry_as_wkt(client, auth, api_engine):
    response = _get(client, auth, "csv")
    assert 'filename="cameras.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == _camera_ids(api_engine)
    assert all(r["geometry"].startswith("POINT") for r in rows)


def test_xlsx_opens_in_openpyxl_with_a_header_and_every_camera(client, auth, api_engine):
    book = load_workbook(io.BytesIO(_get(client, auth, "xlsx").content), read_only=True)
    rows = list(book["cameras"].iter_rows(values_only=True))
    header = list(rows[0])
    assert "owner_dept" in header and header[-1] == "geometry"
    assert [r[header.index("id")] for r in rows[1:]] == _camera_ids(api_engine)


def test_gpkg_opens_in_pyogrio_with_points_in_wgs84(client, auth, api_engine, tmp_path):
    path = tmp_path / "cameras.gpkg"
    path.write_bytes(_get(client, auth, "gpkg").content)
    frame = pyogrio.read_dataframe(path, layer="cameras")
    assert sorted(frame["id"]) == _camera_ids(api_engine)
    assert set(frame.geometry.geom_type) == {"Point"} and frame.crs.to_epsg() == 4326


def test_shp_is_a_zip_that_pyogrio_reads(client, auth, api_engine, tmp_path):
    response = _get(client, auth, "shp")
    assert 'filename="cameras.shp.zip"' in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        assert {"cameras.shp", "cameras.shx", "cameras.dbf", "cameras.prj"} <= set(zf.namelist())
        zf.extractall(tmp_path)
    frame = pyogrio.read_dataframe(tmp_path / "cameras.shp")
    assert sorted(frame["id"]) == _camera_ids(api_engine)


def test_parquet_is_geoparquet_that_pyarrow_and_geopandas_read(client, auth, api_engine):
    content = _get(client, auth, "parquet").content
    table = pq.read_table(io.BytesIO(content))
    assert b"geo" in table.schema.metadata
    assert table.column("id").to_pylist() == _camera_ids(api_engine)
    frame = gpd.read_parquet(io.BytesIO(content))
    assert set(frame.geometry.geom_type) == {"Point"}


@pytest.mark.parametrize("fmt", ["csv", "gpkg"])
def test_a_department_key_exports_only_its_cameras(client, auth, api_engine, tmp_path, fmt):
    own = _camera_ids(api_engine, DEPARTMENT)
    assert 0 < len(own) < len(_camera_ids(api_engine))
    content = _get(client, auth, fmt, role="department").content
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
        ids, depts = [int(r["id"]) for r in rows], {r["owner_dept"] for r in rows}
    else:
        (tmp_path / "c.gpkg").write_bytes(content)
        frame = pyogrio.read_dataframe(tmp_path / "c.gpkg")
        ids, depts = sorted(frame["id"]), set(frame["owner_dept"])
    assert ids == own and depts == {DEPARTMENT}


def test_filters_narrow_an_export_as_they_narrow_the_layer(client, auth):
    params = [("filter", "kind:dome"), ("filter", "online:true")]
    page = client.get("/layers/cameras", params=[*params, ("limit", "10000")], headers=auth("wall")).json()
    response = client.get("/export/cameras", params=[*params, ("format", "csv")], headers=auth("wall"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [f["id"] for f in page["features"]]
    assert {r["kind"] for r in rows} == {"dome"}


def test_bad_requests_name_the_field_and_an_unknown_layer_is_not_found(client, auth):
    bad = client.get("/export/cameras", params={"format": "docx"}, headers=auth("analyst"))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "format" and "docx" in bad.text
    shp = client.get("/export/kpis", params={**_ALL_TIME, "level": "street", "format": "shp"},
                     headers=auth("analyst"))
    assert shp.status_code == 422 and shp.json()["error"]["field"] == "format" and "without geometry" in shp.text
    unknown = client.get("/export/nosuch", params={"format": "csv"}, headers=auth("analyst"))
    assert unknown.status_code == 404 and "cameras" in unknown.text
    assert client.get("/export/cameras", params={"format": "csv"}).status_code == 401


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_kpis_of_every_street_in_one_table_equal_kpis_areas(client, auth, fmt):
    params = {**_ALL_TIME, "level": "street"}
    areas = client.get("/kpis/areas", params=params, headers=auth("analyst")).json()["areas"]
    response = client.get("/export/kpis", params={**params, "format": fmt}, headers=auth("analyst"))
    assert response.status_code == 200, response.text
    assert f'filename="kpis_street.{fmt}"' in response.headers["content-disposition"]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        got = [(int(r["id"]), r["code"], int(r["total"]), int(r["closed"])) for r in rows]
    else:
        sheet = load_workbook(io.BytesIO(response.content), read_only=True)["kpis_street"]
        header, *rows = list(sheet.iter_rows(values_only=True))
        got = [tuple(r[header.index(c)] for c in ("id", "code", "total", "closed")) for r in rows]
    assert got == [(a["id"], a["code"], a["total"], a["closed"]) for a in areas]
    assert len(got) > 1


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "gpkg", "shp", "parquet"])
def test_an_export_matching_nothing_is_an_empty_file_not_an_error(client, auth, fmt, tmp_path):
    response = client.get("/export/cameras", params={"format": fmt, "filter": "kind:no-such-kind"},
                          headers=auth("analyst"))
    assert response.status_code == 200, response.text
    content = response.content
    if fmt == "csv":
        assert list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[1:] == []
    elif fmt == "xlsx":
        assert len(list(load_workbook(io.BytesIO(content), read_only=True)["cameras"].iter_rows())) == 1
    elif fmt == "parquet":
        assert pq.read_table(io.BytesIO(content)).num_rows == 0
    else:
        path = tmp_path / f"empty.{fmt}"
        if fmt == "shp":
            with zipfile.ZipFile(io.BytesIO(content)) as zf:
                zf.extractall(tmp_path)
            path = tmp_path / "cameras.shp"
        else:
            path.write_bytes(content)
        assert len(pyogrio.read_dataframe(path)) == 0


def test_a_department_exports_only_its_events_as_the_layer_shows_them(client, auth):
    page = client.get("/layers/events", params={"limit": 10000}, headers=auth("department")).json()
    rows = list(csv.DictReader(io.StringIO(_get(client, auth, "csv", role="department", layer="events")
                                           .content.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [f["id"] for f in page["features"]]
    assert rows and {r["department"] for r in rows} == {DEPARTMENT}
    everyone = client.get("/layers/events", params={"limit": 1}, headers=auth("operator")).json()["numberMatched"]
    assert len(rows) < everyone


@pytest.mark.parametrize("fmt", ["gpkg", "parquet"])
def test_times_are_typed_in_gpkg_and_parquet(client, auth, tmp_path, fmt):
    content = _get(client, auth, fmt, layer="events").content
    if fmt == "parquet":
        frame = gpd.read_parquet(io.BytesIO(content))
    else:
        (tmp_path / "e.gpkg").write_bytes(content)
        frame = pyogrio.read_dataframe(tmp_path / "e.gpkg")
    assert len(frame) > 0 and pd.api.types.is_datetime64_any_dtype(frame["reported_at"])


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "gpkg", "shp", "parquet"])
def test_every_layer_exports_in_every_format(client, auth, fmt):
    for layer in (entry["name"] for entry in client.get("/layers", headers=auth("analyst")).json()):
        response = client.get(f"/export/{layer}", params={"format": fmt}, headers=auth("analyst"))
        assert response.status_code == 200, (layer, response.text)
        assert f'filename="{layer}.' in response.headers["content-disposition"]


def test_a_grid_worker_exports_only_itself_of_the_workers(client, auth, worker_code):
    rows = list(csv.DictReader(io.StringIO(_get(client, auth, "csv", role="grid_worker", layer="workers")
                                           .content.decode("utf-8-sig"))))
    assert [r["code"] for r in rows] == [worker_code]
    assert client.get("/export/workers", params={"format": "csv"}, headers=auth("department")).text.count("\n") == 1
