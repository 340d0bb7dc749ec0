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


_ALL_TIME = {"start": "2000-01-01T00:00:00+08:00", "end": "2100-01-01T00:00:00+08:00",
             "as_of": "2026-11-01T00:00:00+08:00"}
_HEADLINE = ("total", "closed", "overdue", "closure_rate", "on_time_rate")


def _busiest(body: dict, n: int = 2) -> list[dict]:
    return [a for a in body["areas"] if a["total"] > 0][:n]


def test_every_street_in_one_answer_agrees_with_each_streets_own_figures(client, auth, api_engine):
    with api_engine.connect() as conn:
        streets = conn.execute(text("SELECT count(*) FROM admin_area WHERE level = 'street'")).scalar_one()
    body = client.get("/kpis/areas", params={**_ALL_TIME, "level": "street"}, headers=auth("analyst")).json()
    assert body["level"] == "street" and len(body["areas"]) == streets > 1
    totals = [a["total"] for a in body["areas"]]
    assert totals == sorted(totals, reverse=True), "the busiest street first"
    busiest = _busiest(body)
    assert len(busiest) == 2
    for area in [*busiest, body["areas"][-1]]:  # two busy streets and the quietest (zeros, or its own few)
        one = client.get("/kpis", params={**_ALL_TIME, "level": "street", "area_id": area["id"]},
                         headers=auth("analyst")).json()
        assert {k: area[k] for k in _HEADLINE} == {k: one[k] for k in _HEADLINE}, area["name"]


def test_communities_and_grids_agree_with_their_own_figures(client, auth):
    for level in ("community", "grid"):
        body = client.get("/kpis/areas", params={**_ALL_TIME, "level": level}, headers=auth("wall")).json()
        for area in _busiest(body):
            one = client.get("/kpis", params={**_ALL_TIME, "level": level, "area_id": area["id"]},
                             headers=auth("wall")).json()
            assert area["total"] == one["total"] > 0 and area["overdue"] == one["overdue"], (level, area["code"])


def test_a_department_counts_its_own_events_per_area(client, auth):
    params = {**_ALL_TIME, "level": "street"}
    everyone = {a["id"]: a for a in client.get("/kpis/areas", params=params, headers=auth("analyst")).json()["areas"]}
    own = client.get("/kpis/areas", params=params, headers=auth("department")).json()["areas"]
    assert sum(a["total"] for a in own) < sum(a["total"] for a in everyone.values())
    assert all(a["total"] <= everyone[a["id"]]["total"] for a in own)
    area = _busiest({"areas": own}, 1)[0]
    one = client.get("/kpis", params={**_ALL_TIME, "level": "street", "area_id": area["id"]},
                     headers=auth("department")).json()
    assert area["total"] == one["total"] and area["closed"] == one["closed"]


def test_areas_refuse_an_unknown_level_and_the_wrong_roles(client, auth):
    for level in ("district", "county"):
        response = client.get("/kpis/areas", params={**_ALL_TIME, "level": level}, headers=auth("analyst"))
        assert response.status_code == 422 and response.json()["error"]["field"] == "level", level
    assert client.get("/kpis/areas", params=_ALL_TIME, headers=auth("analyst")).status_code == 422
    for role in ("grid_worker", "open311"):
        assert client.get("/kpis/areas", params={**_ALL_TIME, "level": "street"},
                          headers=auth(role)).status_code == 403, role
    assert client.get("/kpis/areas", params={**_ALL_TIME, "level": "street"}).status_code == 401
