"""Duplicates by hand over HTTP: merge, list, split; refusals."""

from __future__ import annotations

from tests.api.conftest import event_body


def test_merge_list_and_split(client, auth, place):
    a = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    b = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    merged = client.post(f"/events/{b}/merge", json={"into": a}, headers=auth("operator"))
    assert merged.status_code == 200 and merged.json()["root_id"] == a
    assert client.get(f"/events/{a}/duplicates", headers=auth("wall")).json()["duplicates"] == [b]
    assert client.post(f"/events/{a}/merge", json={"into": a}, headers=auth("operator")).status_code == 409
    split = client.post(f"/events/{b}/split", json={}, headers=auth("operator"))
    assert split.json() == {"event_id": b, "former_root_id": a}
    assert client.post(f"/events/{b}/split", json={}, headers=auth("operator")).status_code == 409
    assert client.post(f"/events/{b}/merge", json={"into": a}, headers=auth("analyst")).status_code == 403


def test_a_repeat_nearby_is_linked_by_intake(client, auth, place):
    body = event_body(place)
    first = client.post("/events", json=body, headers=auth("operator")).json()
    repeat = client.post("/events", json={**body, "external_id": body["external_id"] + "-again",
                                          "channel": "hotline"}, headers=auth("operator")).json()
    assert repeat["duplicate_of"] == first["id"]
