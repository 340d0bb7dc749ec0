"""Who sees and writes what (:mod:`api.access`): the role × endpoint matrix, and scoped readers agreeing on rows.

The world: an event of the department key's department (城管局, ``city``), a police event on patrol (``police``),
another department's event sent to the worker whose phone key the tests hold (``sent``) and a hotline request
(``hotline``). Every read of one event is asked of every role, and so is every kind of write; the expected status
is in the table. A read outside a key's scope is a 404, as for an id that does not exist, on every endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from api.access import SCOPED_LAYERS, condition_params, condition_sql, reach, visible
from api.security import Principal
from command.lifecycle import path_to
from tests.api.conftest import DEPARTMENT, event_body, tile_ids, tile_of, unique

ALL = ("admin", "operator", "supervisor", "planner", "analyst", "department", "grid_worker", "wall", "open311")
SEE_ALL = ("admin", "operator", "supervisor", "planner", "analyst", "wall")
CITY_CLASS = "020101"  # street vending, 城管局


@dataclass(frozen=True)
class World:
    city: int
    police: int
    sent: int
    hotline: int
    police_class: str
    codes: dict[int, str]


@pytest.fixture(scope="module")
def world(client, auth, api_engine, place, worker_code) -> World:
    with api_engine.connect() as conn:
        police_class = conn.execute(text(
            "SELECT code FROM event_class WHERE level = 3 AND department <> :d"
            " ORDER BY (department LIKE '%公安%') DESC, code LIMIT 1"), {"d": DEPARTMENT}).scalar_one()

    def filed(**extra) -> int:
        response = client.post("/events", json=event_body(place, **extra), headers=auth("operator"))
        assert response.status_code == 201, response.text
        return response.json()["id"]

    ids = {"city": filed(), "police": filed(category=police_class), "sent": filed(category=police_class),
           "hotline": filed(category=police_class, channel="hotline")}
    with api_engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO assignment (event_id, kind, worker_id, assigned_by)"
            " SELECT :e, 'worker', id, 'test' FROM grid_worker WHERE code = :w"), {"e": ids["sent"], "w": worker_code})
        codes = dict(conn.execute(text("SELECT id, code FROM event WHERE id = ANY(:ids)"),
                                  {"ids": list(ids.values())}).all())
    return World(**ids, police_class=police_class, codes=codes)


def _statuses(**by_role: int) -> dict[str, int]:
    """Role → status; ``rest`` for every role not named."""
    rest = by_role.pop("rest")
    return {role: by_role.get(role, rest) for role in ALL}


def _sees(event: str, who: tuple[str, ...]) -> dict[str, int]:
    """A read of one event: 200 for ``who`` and the roles that see all, 404 for other readers, 403 for open311."""
    return _statuses(rest=404, open311=403, **dict.fromkeys((*SEE_ALL, *who), 200))


def _files(*roles: str, status: int = 201) -> dict[str, int]:
    return _statuses(rest=403, **dict.fromkeys(roles, status))


def _new_event(client, auth, place, **extra) -> int:
    return client.post("/events", json=event_body(place, **extra), headers=auth("operator")).json()["id"]


# (name, method, path(world), body(world, place) or None, role → expected status)
MATRIX = [
    # one event, every way there is to read it (the measured leak: /layers and OGC showed what /events refused)
    *[(f"{route} {event}", "GET", (lambda w, r=route, e=event: r.format(getattr(w, e))), None, _sees(event, who))
      for route in ("/events/{}", "/layers/events/{}", "/ogc/collections/events/items/{}")
      for event, who in (("city", ("department",)), ("police", ()), ("sent", ("grid_worker",)))],
    ("/events/{}/duplicates police", "GET", lambda w: f"/events/{w.police}/duplicates", None, _sees("police", ())),
    ("/events/{}/suggestions sent", "GET", lambda w: f"/events/{w.sent}/suggestions?limit=1", None,
     _sees("sent", ("grid_worker",))),  # once: suggestions route along the streets, the dearest read here
    # Open311 reads only the hotline's requests (it read every event, police patrols included)
    ("open311 hotline request", "GET", lambda w: f"/open311/v2/requests/{w.codes[w.hotline]}.json", None,
     _statuses(rest=403, admin=200, operator=200, open311=200)),
    ("open311 police patrol event", "GET", lambda w: f"/open311/v2/requests/{w.codes[w.police]}.json", None,
     _statuses(rest=403, admin=200, operator=200, open311=404)),
    ("open311 request list", "GET", lambda w: "/open311/v2/requests.json", None,
     _statuses(rest=403, admin=200, operator=200, open311=200)),
    # lists and tiles are let in for every reader (what they hold is checked below)
    *[(path, "GET", (lambda w, p=path: p), None, _statuses(rest=200, open311=403))
      for path in ("/events?limit=1", "/layers/events?limit=1", "/ogc/collections/events/items?limit=1",
                   "/tiles/events/12/0/0.pbf", "/layers/workers?limit=1", "/workers/live",
                   "/layers/events/clusters?zoom=3")],
    ("kpis", "GET", lambda w: "/kpis?start=2000-01-01T00:00:00Z&end=2100-01-01T00:00:00Z", None,
     _statuses(rest=200, grid_worker=403, open311=403)),
    # filing: a department for its own department on its own channels; a phone on patrol; the gateway on hotline
    ("file city class on city_mgmt", "POST", lambda w: "/events",
     lambda w, p: event_body(p, channel="city_mgmt"), _files("admin", "operator", "department")),
    ("file police class on city_mgmt", "POST", lambda w: "/events",
     lambda w, p: event_body(p, channel="city_mgmt", category=w.police_class), _files("admin", "operator")),
    ("file city class on patrol", "POST", lambda w: "/events",
     lambda w, p: event_body(p), _files("admin", "operator", "grid_worker")),
    ("file a batch, one for another department", "POST", lambda w: "/events/batch",
     lambda w, p: {"events": [event_body(p, channel="city_mgmt"),
                              event_body(p, channel="city_mgmt", category=w.police_class)]},
     _files("admin", "operator", status=200)),
    ("file an Open311 request", "POST", lambda w: "/open311/v2/requests.json",
     lambda w, p: {"service_code": CITY_CLASS, "lat": p.lat, "long": p.lon, "external_id": unique("o311")},
     _files("admin", "operator", "open311")),
    # moving: a department its own department's events; a phone only the events it is on; a supervisor judges
    # work done (verify, close, send back, reopen) but neither takes in nor hands out
    ("move a police event", "POST", "police", {"to_state": "accepted"}, _files("admin", "operator", status=200)),
    ("move a city event", "POST", "city", {"to_state": "accepted"},
     _files("admin", "operator", "department", status=200)),
    ("verify a handled city event", "POST", "city@handled", {"to_state": "verified"},
     _files("admin", "operator", "supervisor", "department", status=200)),
    ("send back a dispatched police event", "POST", "police@dispatched", {"to_state": "returned", "note": "not ours"},
     _files("admin", "operator", "supervisor", status=200)),
    # self-settling (自办自结): the worker who reported it, or the hall
    ("self-settle the phone's own report", "POST", "self-settle", {"note": "done"},
     _files("admin", "operator", "grid_worker", status=200)),
    # every other router: who is let in (a body or query deliberately invalid answers 422 and writes nothing)
    *[(path, "GET", (lambda w, p=path: p), None, _statuses(rest=200, open311=403))
      for path in ("/layers/cameras?limit=1", "/tiles/cameras/12/0/0.pbf", "/ogc/collections/resources/items?limit=1")],
    # a reader is let in, and told (0, 0) is nowhere near the district; the gateway is not let in
    ("/dispatch/workers at (0, 0)", "GET", lambda w: "/dispatch/workers?lon=0&lat=0&network_top=0", None,
     _statuses(rest=422, open311=403)),
    ("services", "GET", lambda w: "/open311/v2/services.json", None,
     _statuses(rest=403, admin=200, operator=200, open311=200)),
    *[(f"invalid {path}", "POST", (lambda w, p=path: p), (lambda w, p, b=body: b), _files(*roles, status=422))
      for path, body, roles in (
          ("/open311/v2/requests.json", {}, ("admin", "operator", "open311")),
          ("/events", {}, ("admin", "operator", "department", "grid_worker")),
          ("/events/batch", {}, ("admin", "operator", "department", "grid_worker")),
          ("/events/1/transitions", {}, ("admin", "operator", "supervisor", "department", "grid_worker")),
          ("/events/1/merge", {}, ("admin", "operator")),
          ("/events/1/split", {"note": 1}, ("admin", "operator")),
          ("/events/1/dispatch/worker", {"worker_id": 0}, ("admin", "operator")),
          ("/events/1/dispatch/cameras", {"limit": 0}, ("admin", "operator")),
          ("/events/1/dispatch/resources", {"limit": 0}, ("admin", "operator")),
          ("/events/1/supervise", {"note": 1}, ("admin", "operator", "supervisor")),
          ("/events/1/self-settle", {"note": 1}, ("admin", "operator", "grid_worker")),
          ("/workers/positions", {"fixes": []}, ("admin", "operator", "grid_worker")),
          ("/partition/jobs", {"mode": "none"}, ("admin", "planner")),
          ("/taxonomy/aliases", {}, ("admin",)),
      )],
    ("workers/me", "GET", lambda w: "/workers/me", None, _statuses(rest=403, grid_worker=200)),
    ("kpis without a window", "GET", lambda w: "/kpis", None, _statuses(rest=422, grid_worker=403, open311=403)),
    ("blind spots", "GET", lambda w: "/coverage/blind-spots?grid_id=0", None,
     _statuses(rest=422, department=403, grid_worker=403, open311=403)),
    ("aliases", "GET", lambda w: "/taxonomy/aliases", None, _statuses(rest=403, admin=200)),
    ("remove an alias", "DELETE", lambda w: "/taxonomy/aliases/nobody/nothing", None, _statuses(rest=403, admin=404)),
    # positions: a phone only its own
    ("report another worker's position", "POST", lambda w: "/workers/positions",
     lambda w, p: {"fixes": [{"worker": "NOT-THE-PHONES", "at": "2035-01-01T00:00:00+08:00"}]},
     _statuses(rest=403, admin=422, operator=422)),
]


def _call(client, auth, place, world, role, method, path, body):
    if path == "self-settle":  # a fresh self-settled report of the phone's for each role
        event = client.post("/events", json=event_body(place, channel="self_settled"), headers=auth("grid_worker"))
        path, payload = f"/events/{event.json()['id']}/self-settle", body
    elif isinstance(path, str):  # a move: a fresh event of that class (in that state) for each role
        kind, _, state = path.partition("@")
        event = _new_event(client, auth, place, **({"category": world.police_class} if kind == "police" else {}))
        for step in path_to("reported", state) if state else ():
            assert client.post(f"/events/{event}/transitions", json={"to_state": step},
                               headers=auth("operator")).status_code == 200
        path, payload = f"/events/{event}/transitions", body
    else:
        path, payload = path(world), body(world, place) if callable(body) else body
    return client.request(method, path, json=payload, headers=auth(role))


def test_every_role_on_every_endpoint_gets_the_status_of_the_table(client, auth, place, world):
    wrong = []
    for name, method, path, body, expected in MATRIX:
        for role in ALL:
            response = _call(client, auth, place, world, role, method, path, body)
            if response.status_code != expected[role]:
                wrong.append((name, role, expected[role], response.status_code, response.text[:160]))
            elif response.status_code == 403:  # a refusal says what was refused
                assert response.json()["error"]["message"], (name, role)
    assert not wrong, "\n".join(map(str, wrong))


def test_write_refusals_name_what_was_refused(client, auth, place, world):
    other = client.post("/events", json=event_body(place, channel="city_mgmt", category=world.police_class),
                        headers=auth("department")).json()["error"]["message"]
    assert "department-key" in other and DEPARTMENT in other
    channel = client.post("/events", json=event_body(place), headers=auth("department")).json()["error"]["message"]
    assert channel.endswith("不能通过网格员巡查")  # the channel under its label
    english = client.post("/events", json=event_body(place), headers={**auth("department"), "Accept-Language": "en"})
    assert "not on channel 'patrol'" in english.json()["error"]["message"]
    batch = client.post("/events/batch", json={"events": [event_body(place, channel="city_mgmt"), event_body(
        place, channel="city_mgmt", category=world.police_class)]}, headers=auth("department")).json()
    assert batch["error"]["message"].startswith("第 1 个事件：密钥 department-key")


@pytest.mark.parametrize("role", ["department", "grid_worker", "wall"])
def test_lists_tiles_and_ogc_agree_on_the_events_a_key_sees(client, auth, api_engine, world, role, worker_code,
                                                              place):
    """A scoped key's /events, /layers/events, OGC items and tiles hold the same ids: the ones the rule says."""
    h = auth(role)
    layers = {f["id"] for f in client.get("/layers/events", params={"limit": 10000}, headers=h).json()["features"]}
    ogc = {f["id"] for f in client.get("/ogc/collections/events/items", params={"limit": 10000},
                                       headers=h).json()["features"]}
    register = {e["id"] for e in client.get("/events", params={"limit": 10000}, headers=h).json()["events"]}
    # every event, not only the open and recent ones; z10, the events' minimum zoom, holds the whole small district
    x, y = tile_of(place.lon, place.lat, 10)
    tile = client.get(f"/tiles/events/10/{x}/{y}.pbf", params={"all": "true"}, headers=h)
    assert tile.status_code == 200
    with api_engine.connect() as conn:  # the rule spelled out independently of api.access
        rows = conn.execute(text("""
            SELECT e.id, e.geom IS NOT NULL AS drawn FROM event e WHERE :role = 'wall'
               OR (:role = 'department' AND e.department = :d)
               OR (:role = 'grid_worker' AND EXISTS (SELECT 1 FROM assignment a JOIN grid_worker w
                   ON w.id = a.worker_id WHERE a.event_id = e.id AND w.code = :w))
               OR (:role = 'grid_worker' AND e.reporter_worker_id = (SELECT id FROM grid_worker WHERE code = :w))"""),
            {"role": role, "d": DEPARTMENT, "w": worker_code}).all()
    assert layers == ogc == register == {r.id for r in rows}
    assert tile_ids(tile.content) == {r.id for r in rows if r.drawn}  # an event without a point is in no tile
    mine = {"department": world.city, "grid_worker": world.sent, "wall": world.police}[role]
    assert mine in layers
    if role != "wall":
        assert world.police not in layers and world.hotline not in layers


def test_the_open311_key_reads_back_the_hotline_only(client, auth, api_engine, world):
    codes = {r["service_request_id"] for r in client.get("/open311/v2/requests.json", headers=auth("open311")).json()}
    with api_engine.connect() as conn:
        channels = set(conn.execute(text("SELECT channel FROM event WHERE code = ANY(:c)"),
                                    {"c": list(codes)}).scalars())
    assert world.codes[world.hotline] in codes and world.codes[world.police] not in codes and channels == {"hotline"}


def test_a_department_gets_its_departments_figures(client, auth, api_engine, world):
    window = {"start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"}
    mine = client.get("/kpis", params=window, headers=auth("department")).json()
    everyone = client.get("/kpis", params=window, headers=auth("analyst")).json()
    with api_engine.connect() as conn:
        events, cameras = conn.execute(text(
            "SELECT (SELECT count(*) FROM event WHERE department = :d AND duplicate_of_id IS NULL"
            "        AND reported_at >= :s AND reported_at < :e),"
            "       (SELECT count(*) FROM camera WHERE owner_dept = :d)"), {"d": DEPARTMENT, **{
                "s": datetime(2000, 1, 1, tzinfo=timezone.utc), "e": datetime(2100, 1, 1, tzinfo=timezone.utc)}}).one()
    assert mine["total"] == events and mine["cameras"] == cameras
    assert everyone["total"] > mine["total"]


def test_workers_are_seen_by_the_rule_too(client, auth, worker_code):
    def codes(role):
        live = {w["code"] for w in client.get("/workers/live", headers=auth(role)).json()["workers"]}
        layer = {f["properties"]["code"] for f in client.get(
            "/layers/workers", params={"limit": 10000}, headers=auth(role)).json()["features"]}
        assert live == layer, role
        return live

    assert codes("grid_worker") == {worker_code}
    assert codes("department") == set()
    assert worker_code in codes("wall") and len(codes("wall")) > 1


PHONE = Principal("p", "grid_worker", worker_code="W1")
CITY = Principal("d", "department", (DEPARTMENT,))
GATEWAY = Principal("g", "open311")


@pytest.mark.parametrize(("who", "layer", "row", "seen"), [
    (CITY, "events", {"department": DEPARTMENT}, True), (CITY, "events", {"department": "公安分局"}, False),
    (CITY, "cameras", {"owner_dept": DEPARTMENT}, True), (CITY, "workers", {"code": "W1"}, False),
    (PHONE, "events", {"department": DEPARTMENT, "worker_codes": ["W1"]}, True),
    (PHONE, "events", {"department": DEPARTMENT}, False), (PHONE, "workers", {"code": "W2"}, False),
    (PHONE, "events", {"reporter_code": "W1"}, True), (PHONE, "events", {"reporter_code": "W2"}, False),
    (PHONE, "cameras", {"owner_dept": "公安分局"}, True),
    (GATEWAY, "events", {"channel": "hotline"}, True), (GATEWAY, "events", {"channel": "patrol"}, False),
    (GATEWAY, "cameras", {"owner_dept": DEPARTMENT}, False),
    (Principal("w", "wall"), "events", {"department": "公安分局"}, True),
])
def test_the_predicate_says_what_the_condition_says(who, layer, row, seen):
    assert visible(who, layer, row) is seen


@pytest.mark.parametrize("role", ["department", "grid_worker", "open311", "wall"])
def test_the_condition_and_the_predicate_agree_on_every_event(api_engine, role, worker_code):
    """The bound SQL condition and the Python predicate, row by row, over the store's events."""
    who = Principal("k", role, (DEPARTMENT,) if role == "department" else (),
                    worker_code if role == "grid_worker" else None)
    with api_engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT e.department, e.channel, array_remove(array_agg(w.code), NULL) AS worker_codes,
                   (SELECT r.code FROM grid_worker r WHERE r.id = e.reporter_worker_id) AS reporter_code,
                   """ + condition_sql("events", "e") + """ AS seen
            FROM event e LEFT JOIN assignment a ON a.event_id = e.id LEFT JOIN grid_worker w ON w.id = a.worker_id
            GROUP BY e.id"""), condition_params(who, "events")).mappings().all()
    assert rows and all(visible(who, "events", r) is bool(r["seen"]) for r in rows)
    assert set(SCOPED_LAYERS) == {"events", "cameras", "workers"} and reach(who, "grids").everything
