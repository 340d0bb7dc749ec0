"""The service answers health and layer counts from the real store."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import ApiSettings
from layers.settings import DatabaseSettings


def test_health_reports_postgis_and_a_current_schema(db_settings, small_district):
    with TestClient(create_app(ApiSettings(), db_settings)) as client:
        body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["postgis"].startswith("3.")
    assert body["schema_revision"] == body["schema_head"]
    assert body["current_grid_version"] is not None


def test_layer_counts_match_the_store(db_settings, small_district):
    with TestClient(create_app(ApiSettings(), db_settings)) as client:
        counts = client.get("/layers/counts").json()
        page = client.get("/")
    for name, loaded in small_district.items():
        assert counts[name] == loaded
    assert page.status_code == 200 and "gridwall" in page.text and "buildings" in page.text


def test_an_unreachable_store_is_a_503_not_a_crash(cluster):
    dead = DatabaseSettings(url="postgresql://nobody:x@127.0.0.1:1/none", fsync=False)
    with TestClient(create_app(ApiSettings(), dead)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_unknown_routes_get_a_json_404(db_settings, small_district):
    with TestClient(create_app(ApiSettings(), db_settings)) as client:
        response = client.get("/no/such/thing")
    assert response.status_code == 404
