"""The district's event-type crosswalk over HTTP: admin only, audited, refusals that name the field."""

from __future__ import annotations

import uuid
from urllib.parse import quote

from sqlalchemy import text

from tests.api.conftest import event_body


def _name() -> str:
    return f"公平交易秩序-{uuid.uuid4().hex[:8]}"


def test_admin_adds_lists_and_removes_an_alias_and_intake_uses_it(client, auth, api_engine, place):
    name = _name()
    event = event_body(place, category=name)
    refused = client.post("/events", json=event, headers=auth("operator"))
    assert refused.status_code == 422 and "gridwall taxonomy alias add" in refused.json()["error"]["message"]

    added = client.post("/taxonomy/aliases", json={"alias": name, "code": "020102"}, headers=auth("admin"))
    assert added.status_code == 201, added.text
    assert added.json() == {"written": 1}
    listed = client.get("/taxonomy/aliases", params={"source": "*"}, headers=auth("admin")).json()["aliases"]
    mine = [a for a in listed if a["alias"] == name.lower()]
    assert [(a["source"], a["code"], a["leaf"], a["active"], a["created_by"]) for a in mine] == [
        ("*", "020102", "乱堆物料", True, "admin:admin-key")]

    taken = client.post("/events", json=event, headers=auth("operator"))
    assert taken.status_code == 201, taken.text
    assert taken.json()["category_code"] == "020102"

    removed = client.delete(f"/taxonomy/aliases/*/{quote(name)}", headers=auth("admin"))
    assert removed.status_code == 200 and removed.json()["code"] == "020102"
    assert client.delete(f"/taxonomy/aliases/*/{quote(name)}", headers=auth("admin")).status_code == 404
    with api_engine.connect() as conn:
        actions = conn.execute(text("SELECT action, actor FROM audit_log WHERE entity = 'district_alias'"
                                    " AND detail->>'alias' = :a ORDER BY id"), {"a": name.lower()}).all()
    assert [tuple(r) for r in actions] == [("add_alias", "admin:admin-key"), ("remove_alias", "admin:admin-key")]


def test_a_list_is_all_or_none_and_a_path_alias_is_removed_by_its_path(client, auth):
    path = f"市容环卫/{_name()}/其他"
    body = [{"source": "12345", "alias": path, "code": "020103"}, {"source": "12345", "alias": _name(), "code": "0201"}]
    refused = client.post("/taxonomy/aliases", json=body, headers=auth("admin"))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert (error["feature"], error["field"]) == (1, "code") and "not a leaf" in error["message"]
    assert all(a["alias"] != path for a in client.get("/taxonomy/aliases", headers=auth("admin")).json()["aliases"])

    assert client.post("/taxonomy/aliases", json=body[:1], headers=auth("admin")).json() == {"written": 1}
    removed = client.delete(f"/taxonomy/aliases/12345/{quote(path)}", headers=auth("admin"))
    assert removed.status_code == 200 and removed.json()["alias"] == path


def test_other_roles_get_403(client, auth):
    body = {"alias": _name(), "code": "020102"}
    for role in ("operator", "planner", "analyst"):
        assert client.post("/taxonomy/aliases", json=body, headers=auth(role)).status_code == 403
        assert client.get("/taxonomy/aliases", headers=auth(role)).status_code == 403
        assert client.delete("/taxonomy/aliases/*/x", headers=auth(role)).status_code == 403
    assert client.get("/taxonomy/aliases").status_code == 401


def test_a_bad_payload_names_the_field(client, auth):
    missing = client.post("/taxonomy/aliases", json={"alias": _name()}, headers=auth("admin"))
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "0.code"
    second = client.post("/taxonomy/aliases", json=[{"alias": _name(), "code": "020102"}, {"code": "020102"}],
                         headers=auth("admin"))
    assert second.status_code == 422 and second.json()["error"]["field"] == "1.alias"
    assert client.post("/taxonomy/aliases", json=[], headers=auth("admin")).status_code == 422
    empty = client.post("/taxonomy/aliases", json={"alias": "  ", "code": "020102"}, headers=auth("admin"))
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "alias"
    leaf = client.post("/taxonomy/aliases", json={"alias": "暴露垃圾", "code": "020102"}, headers=auth("admin"))
    assert leaf.status_code == 422 and leaf.json()["error"]["field"] == "alias"
    nul = client.post("/taxonomy/aliases", json={"source": "a\u0000b", "alias": _name(), "code": "020102"},
                      headers=auth("admin"))
    assert nul.status_code == 422 and nul.json()["error"]["field"] == "source"
