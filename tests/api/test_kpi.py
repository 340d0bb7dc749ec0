"""KPIs over HTTP: the event loop's figures for an area and window."""

from __future__ import annotations


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
