"""``GET /audit``: the admin reads who did what, filtered by who, what, on what and when, newest first, paged."""

from __future__ import annotations

from tests.api.conftest import event_body


def _rows(client, auth, **params) -> dict:
    answer = client.get("/audit", params=params, headers=auth("admin"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_event_s_rows_name_who_did_what_newest_first(client, auth, place):
    filed = client.post("/events", json=event_body(place), headers=auth("operator"))
    assert filed.status_code == 201, filed.text
    event_id = str(filed.json()["id"])
    moved = client.post(f"/events/{event_id}/transitions", json={"to_state": "rejected", "note": "不属实"},
                        headers=auth("admin"))
    assert moved.status_code == 200, moved.text

    page = _rows(client, auth, entity="event", entity_id=event_id)
    assert set(page) == {"items", "next_offset"} and page["next_offset"] is None
    items = page["items"]
    assert [r["actor"] for r in items] == ["admin:admin-key", "operator:operator-key"]
    assert items[0]["action"] == "transition" and items[1]["action"] in ("intake", "intake_duplicate")
    assert all(set(r) == {"id", "at", "actor", "person", "action", "entity", "entity_id", "detail"} for r in items)
    assert all((r["entity"], r["entity_id"]) == ("event", event_id) for r in items)
    assert items[0]["at"] > items[1]["at"]

    # who: any part of the actor, case-insensitive; what: the action exactly
    assert [r["id"] for r in _rows(client, auth, actor="ADMIN", entity_id=event_id)["items"]] == [items[0]["id"]]
    assert [r["id"] for r in _rows(client, auth, action="transition", entity_id=event_id)["items"]] == [items[0]["id"]]
    assert _rows(client, auth, actor="%", entity_id=event_id)["items"] == []

    # when: [since, until) by the rows' own times
    newer = items[0]["at"]  # two transactions: two times
    assert [r["id"] for r in _rows(client, auth, entity_id=event_id, since=newer)["items"]] == [items[0]["id"]]
    assert [r["id"] for r in _rows(client, auth, entity_id=event_id, until=newer)["items"]] == [items[1]["id"]]

    # a page at a time
    first = _rows(client, auth, entity_id=event_id, entity="event", limit=1)
    assert ([r["id"] for r in first["items"]], first["next_offset"]) == ([items[0]["id"]], 1)
    second = _rows(client, auth, entity_id=event_id, entity="event", limit=1, offset=1)
    assert ([r["id"] for r in second["items"]], second["next_offset"]) == ([items[1]["id"]], None)


def test_only_an_admin_reads_the_log_and_bad_filters_are_named(client, auth):
    for role in ("operator", "supervisor", "wall", "department"):
        assert client.get("/audit", headers=auth(role)).status_code == 403, role
    assert client.get("/audit").status_code == 401
    naive = client.get("/audit", params={"since": "2026-01-01T00:00:00"}, headers=auth("admin"))
    assert naive.status_code == 422 and naive.json()["error"]["field"] == "since"
    backwards = client.get("/audit", headers=auth("admin"),
                           params={"since": "2026-01-02T00:00:00+08:00", "until": "2026-01-01T00:00:00+08:00"})
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "until"
    assert client.get("/audit", params={"limit": 0}, headers=auth("admin")).status_code == 422
