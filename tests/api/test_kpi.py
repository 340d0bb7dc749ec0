"""KPIs over HTTP: the event loop's figures for an area and window."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from layers.settings import DatabaseSettings


def test_district_figures_for_a_year(client, auth):
    params = {"start": "2000-01-01T00:00:00+08:00", "end": "2100-01-01T00:00:00+08:00"}
    body = client.get("/kpis", params=params, headers=auth("analyst")).json()
    assert body["total"] > 0 and body["cameras"] > 0 and body["area"]["level"] == "district"


def test_bad_windows_and_areas(client, auth):
    backwards = {"start": "2031-02-01T00:00:00+08:00", "end": "2031-01-01T00:00:00+08:00"}
    response = client.get("/kpis", params=backwards, headers=auth("analyst"))
    assert response.status_code == 422 and response.json()["error"]["field"] == "end"
    naive = {"start": "2031-01-01T00:00:00", "end": "2031-02-01T00:00:00+08:00"}
    assert client.get("/kpis", params=naive, headers=auth("analyst")).status_code == 422
    window = {"start": "2031-01-01T00:00:00+08:00", "end": "2031-02-01T00:00:00+08:00"}
    assert client.get("/kpis", params={**window, "level": "grid"}, headers=auth("analyst")).status_code == 422
    assert client.get("/kpis", params={**window, "level": "grid", "area_id": 99999},
                      headers=auth("analyst")).status_code == 404
    assert client.get("/kpis", params=window, headers=auth("grid_worker")).status_code == 403


def test_the_data_time_is_the_newest_reported_event(client, auth, api_engine):
    with api_engine.connect() as conn:
        newest = conn.execute(text("SELECT max(reported_at) FROM event")).scalar_one()
    assert newest is not None  # the demo district holds events
    for role in ("wall", "grid_worker", "department", "planner"):  # every reader, as for the map layers
        body = client.get("/kpis/data-time", headers=auth(role)).json()
        assert datetime.fromisoformat(body["newest_reported_at"]) == newest, role
    assert client.get("/kpis/data-time").status_code == 401
    assert client.get("/kpis/data-time", headers=auth("open311")).status_code == 403
    doc = client.get("/openapi.json").json()
    assert doc["paths"]["/kpis/data-time"]["get"]["security"]
    assert "newest_reported_at" in doc["components"]["schemas"]["DataTime"]["properties"]


def test_an_empty_store_has_no_data_time(empty_engine, api_settings, keys, auth):
    db = DatabaseSettings(url=empty_engine.url.render_as_string(hide_password=False), fsync=False)
    with TestClient(create_app(api_settings, db)) as empty:
        response = empty.get("/kpis/data-time", headers=auth("wall"))
    assert response.status_code == 200 and response.json() == {"newest_reported_at": None}
