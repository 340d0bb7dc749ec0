"""Issue #18: keys never logged in clear, key guessing throttled, header limits, a revoked key's stream ends,
and a stranger's /health says only up or down."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from api.security import KeyRedaction, digest


def test_keys_in_query_strings_and_headers_are_redacted_in_log_lines(client, caplog):
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    # the shape of uvicorn's access line: its formatter reads the five arguments by position
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "10.0.0.7:5000", "GET",
                                             "/stream?topic=event&api_key=gw_SECRET1", "1.1", 200)
    logging.getLogger("some.library").warning("headers {'x-api-key': 'gw_SECRET2'}, Authorization: Bearer gw_SECRET3")
    assert "SECRET" not in caplog.text
    assert "/stream?topic=event&api_key=*** HTTP/1.1" in caplog.text
    [access] = [r for r in caplog.records if r.name == "uvicorn.access"]
    assert len(access.args) == 5 and access.args[2] == "/stream?topic=event&api_key=***"
    assert KeyRedaction().filter(record := logging.makeLogRecord({"msg": "?key=%s", "args": ("a&apikey=b",)}))
    assert record.getMessage() == "?key=***&apikey=***"


def test_a_stranger_is_told_only_whether_the_service_is_up(client, auth):
    stranger = client.get("/health")
    assert stranger.status_code == 200 and stranger.json() == {"status": "ok"}
    assert client.get("/health", headers={"X-API-Key": "not-a-key"}).json() == {"status": "ok"}
    known = client.get("/health", headers=auth("wall")).json()
    assert known["status"] == "ok" and known["postgis"].startswith("3.") and "schema_revision" in known


def test_too_many_or_too_large_headers_are_a_431(client, auth):
    many = {f"x-filler-{i}": "1" for i in range(120)}
    answer = client.get("/health", headers={**many, "Accept-Language": "en"})
    assert answer.status_code == 431 and answer.json()["error"]["field"] == "headers"
    assert "header lines" in answer.json()["error"]["message"]
    large = client.get("/health", headers={"x-filler": "a" * 20_000, "Accept-Language": "en"})
    assert large.status_code == 431 and "bytes of headers" in large.json()["error"]["message"]
    assert client.get("/health", headers={**auth("wall"), "x-filler": "a" * 1000}).status_code == 200


def test_an_address_guessing_keys_is_answered_429_with_retry_after_even_for_a_good_key(api_settings, api_db, keys):
    tight = api_settings.model_copy(update={"key_failures_max": 3, "key_failures_window_s": 60.0})
    with TestClient(create_app(tight, api_db)) as guarded:
        assert guarded.get("/layers/resources").status_code == 401  # no key at all is not a guess
        for i in range(3):
            assert guarded.get("/layers/resources", headers={"X-API-Key": f"guess-{i}"}).status_code == 401
        refused = guarded.get("/layers/resources", params={"api_key": keys["wall"]})
        assert refused.status_code == 429 and refused.json()["error"]["field"] == "api_key"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_a_revoked_keys_open_stream_ends_soon_after(api_settings, api_db, keys, tmp_path):
    kept = Path(keys["_file"]).read_text(encoding="utf-8")
    soon_revoked = "test-wall-to-revoke"
    file = tmp_path / "keys.toml"
    file.write_text(kept + f'\n[[keys]]\nname = "revoked-wall"\nrole = "wall"\nsha256 = "{digest(soon_revoked)}"\n',
                    encoding="utf-8")
    settings = api_settings.model_copy(update={"keys_file": file, "stream_key_recheck_s": 0.2})

    def revoke() -> None:
        time.sleep(0.5)
        file.write_text(kept, encoding="utf-8")

    with TestClient(create_app(settings, api_db)) as live:
        threading.Thread(target=revoke, daemon=True).start()
        started = time.monotonic()
        body = live.get("/stream", params={"api_key": soon_revoked}).text  # returns when the stream ends
        took = time.monotonic() - started
        assert live.get("/layers/resources", params={"api_key": soon_revoked, "limit": 1}).status_code == 401
    assert body.startswith("retry: 3000") and body.rstrip().endswith('"message":"the key was revoked"}')
    assert took < 10  # the key store looks at its file every 2 s, the stream at the key every 0.2 s
