"""Keys: how they are presented; the keys file; secrets in settings (the roles' matrix is in test_access.py)."""

from __future__ import annotations

import os
import time

import pytest
from pydantic import ValidationError

from api.security import KeyStore, digest
from api.settings import ApiSettings
from layers.errors import ConfigError

# Which role is let into which endpoint, and what each sees and writes there: the role × endpoint matrix in
# tests/api/test_access.py.


def test_the_open311_gateway_cannot_open_the_live_feed(client, auth):
    assert client.get("/stream", headers=auth("open311")).status_code == 403


def test_keys_are_presented_as_header_bearer_or_get_query(client, keys):
    assert client.get("/layers/resources?limit=1").status_code == 401
    assert client.get("/layers/resources?limit=1", headers={"X-API-Key": "made-up"}).status_code == 401
    bearer = {"Authorization": f"Bearer {keys['wall']}"}
    assert client.get("/layers/resources?limit=1", headers=bearer).status_code == 200
    assert client.get("/layers/resources", params={"limit": 1, "api_key": keys["wall"]}).status_code == 200
    post = client.post("/events/overdue", params={"api_key": keys["operator"]})
    assert post.status_code == 401  # a key in a URL is for reads only
    assert post.headers["www-authenticate"].startswith("ApiKey")


def test_the_keys_file_is_read_hashed_and_reread_when_it_changes(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text(f'[[keys]]\nname = "a"\nrole = "wall"\nsha256 = "{digest("first")}"\n', encoding="utf-8")
    store = KeyStore(path, recheck_s=0.0)
    assert store.lookup("first").role == "wall" and store.lookup("second") is None
    path.write_text(f'[[keys]]\nname = "b"\nrole = "analyst"\nsha256 = "{digest("second")}"\n', encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert store.lookup("first") is None and store.lookup("second").role == "analyst"
    assert "first" not in path.read_text() and "second" not in path.read_text()


def test_keys_files_that_cannot_work_are_refused_with_where(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text(f'[[keys]]\nname = "d"\nrole = "department"\nsha256 = "{digest("k")}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="departments"):
        KeyStore(path)
    path.write_text('[[keys]]\nname = "x"\nrole = "king"\nsha256 = "00"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="keys.0"):
        KeyStore(path)


def test_placeholder_secrets_are_refused_outside_development(tmp_path):
    with pytest.raises(ValidationError, match="placeholder"):
        ApiSettings(environment="production", admin_key="changeme")
    with pytest.raises(ValidationError, match="no API keys"):
        ApiSettings(environment="production")
    with pytest.raises(ValidationError, match="does not exist"):
        ApiSettings(environment="production", keys_file=tmp_path / "missing.toml")
    assert ApiSettings(environment="development", admin_key="changeme").admin_key is not None
    strong = ApiSettings(environment="production", admin_key="k" * 40)
    assert strong.admin_key.get_secret_value() == "k" * 40


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_a_keyless_development_service_may_listen_on_loopback(host):
    assert ApiSettings(environment="development", host=host).host == host


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "wall-host.local"])
def test_a_keyless_development_service_refuses_to_listen_beyond_loopback(host):
    with pytest.raises(ValidationError, match=f"loopback only, not on {host}"):
        ApiSettings(environment="development", host=host)
    assert ApiSettings(environment="development", host=host, admin_key="k" * 40).host == host


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text("", encoding="utf-8")
    monkeypatch.setenv("GRIDWALL_API_ENVIRONMENT", "production")
    monkeypatch.setenv("GRIDWALL_API_KEYS_FILE", str(path))
    assert ApiSettings().keys_file == path


def test_a_development_service_without_keys_lets_a_laptop_in(db_settings, small_district):
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app(ApiSettings(environment="development"), db_settings)) as dev:
        assert dev.get("/layers/resources", params={"limit": 1}).status_code == 200
        assert dev.get("/layers/resources", headers={"X-API-Key": "wrong"}).status_code == 401


def test_other_authorization_schemes_are_no_key(client, keys):
    basic = {"Authorization": f"Basic {keys['wall']}"}
    assert client.get("/layers/resources?limit=1", headers=basic).status_code == 401


def test_the_openapi_document_names_the_key_schemes_on_every_guarded_operation(client):
    doc = client.get("/openapi.json").json()
    assert set(doc["components"]["securitySchemes"]) == {"APIKeyHeader", "HTTPBearer", "APIKeyQuery"}
    open_ops = sorted(path for path, ops in doc["paths"].items() for op in ops.values() if "security" not in op)
    assert open_ops == ["/auth/login", "/health", "/layers/counts"]  # signing in is how a person gets a token
    assert doc["paths"]["/tiles/{layer}/{z}/{x}/{y}.pbf"]["get"]["security"] == [
        {"APIKeyHeader": []}, {"HTTPBearer": []}, {"APIKeyQuery": []}]
