"""One error shape for every error; size limits; bad input is a 4xx."""

from __future__ import annotations

SHAPE = {"type", "message", "source", "feature", "field"}


def test_bodies_over_the_limit_are_413_in_the_shape(client, auth):
    big = {"events": [{"channel": "patrol", "external_id": str(i), "category": "x" * 100, "lon": 1, "lat": 1}
                      for i in range(1000)]}
    response = client.post("/events/batch", json=big, headers=auth("operator"))
    assert response.status_code == 413
    assert SHAPE <= set(response.json()["error"]) and response.json()["error"]["field"] == "body"


def test_chunked_bodies_are_counted_as_they_arrive(client, auth):
    def chunks():
        for _ in range(100):
            yield b" " * 1024

    response = client.post("/events", content=chunks(), headers={**auth("operator"),
                                                                 "content-type": "application/json"})
    assert response.status_code == 413 and response.json()["error"]["type"] == "PayloadTooLarge"


def test_validation_errors_are_422_with_where(client, auth):
    response = client.post("/events", json={"channel": "pigeon"}, headers=auth("operator"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert SHAPE <= set(error) and error["source"] == "body" and error["details"]
    broken = client.post("/events", content=b"{not json", headers={**auth("operator"),
                                                                    "content-type": "application/json"})
    assert broken.status_code == 422


def test_unknown_routes_and_methods_are_in_the_shape(client, auth):
    missing = client.get("/nowhere", headers=auth("wall"))
    assert missing.status_code == 404 and SHAPE <= set(missing.json()["error"])
    method = client.delete("/layers", headers=auth("wall"))
    assert method.status_code == 405 and method.json()["error"]["type"] == "MethodNotAllowed"


def test_values_the_store_would_choke_on_are_4xx(client, auth):
    nul = client.get("/layers/cameras", params={"filter": "code:a\x00b"}, headers=auth("wall"))
    assert nul.status_code == 422
    huge = client.get("/layers/cameras/99999999999999999999", headers=auth("wall"))
    assert huge.status_code == 422
