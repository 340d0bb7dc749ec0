"""Dispatch: own grid first, nearest next, cameras that can see, resources, and no double booking."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from command.dispatch import (
    dispatch_resources,
    dispatch_worker,
    link_cameras,
    nearest_resources,
    nearest_workers,
    visible_cameras,
    worker_candidates,
    workers_at,
)
from command.intake import EventIn, intake
from command.lifecycle import release_resources, transition
from command.taxonomy import load_taxonomy
from layers.errors import Conflict, InvalidTransition


def _event(conn, kit, spot, ext="d-1", category="020103", east=0.0, north=0.0):
    lon, lat = kit.offset(spot.lon, spot.lat, east, north)
    return intake(conn, EventIn(channel="patrol", external_id=ext, category=category, lon=lon, lat=lat,
                                reported_at=kit.at(6, 10))).id



def _wait_of(watch, pid: int, thread) -> str | None:
    """What session ``pid`` waits on once it waits on a lock, or when ``thread`` ended first (a guard, not a
    timing: polled until then, for at most 30 s)."""
    waiting = None
    for _ in range(600):
        waiting = watch.execute(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"),
                                {"p": pid}).scalar()
        watch.commit()
        if waiting == "Lock" or not thread.is_alive():
            break
        time.sleep(0.05)
    return waiting

def test_the_own_grid_worker_comes_first_when_free(conn, quiet, kit):
    own = kit.worker("T-OWN", *kit.offset(quiet.lon, quiet.lat, 120, 0))
    near = kit.worker("T-NEAR", *kit.offset(quiet.lon, quiet.lat, 0, 20))
    kit.staff(quiet.grid_id, own)
    event = _event(conn, kit, quiet)
    found = worker_candidates(conn, event)
    assert [(c.worker_id, c.own_grid) for c in found[:2]] == [(own, True), (near, False)]
    done = dispatch_worker(conn, event, actor="op-1")
    assert (done.worker.worker_id, done.from_state, done.state) == (own, "reported", "dispatched")
    assert kit.status(own) == "busy" and kit.event_row(event).state == "dispatched"
    moves = conn.execute(text("SELECT to_state FROM event_history WHERE event_id = :e ORDER BY id"),
                         {"e": event}).scalars().all()
    assert moves == ["reported", "accepted", "dispatched"]
    assignment = conn.execute(text("SELECT kind, worker_id, assigned_by, released_at FROM assignment"
                                   " WHERE event_id = :e"), {"e": event}).one()
    assert tuple(assignment) == ("worker", own, "op-1", None)


def test_when_the_own_worker_is_busy_the_nearest_goes(conn, quiet, kit):
    own = kit.worker("T-OWN", *kit.offset(quiet.lon, quiet.lat, 60, 0), status="busy")
    near = kit.worker("T-NEAR", *kit.offset(quiet.lon, quiet.lat, 0, 40))
    far = kit.worker("T-FAR", *kit.offset(quiet.lon, quiet.lat, 0, -140))
    kit.worker("T-OFF", *kit.offset(quiet.lon, quiet.lat, 5, 5), status="off_duty")
    kit.staff(quiet.grid_id, own)
    event = _event(conn, kit, quiet)
    found = worker_candidates(conn, event)
    assert {c.worker_id for c in found} == {near, far}  # neither the busy own worker nor the one off duty
    assert not any(c.own_grid for c in found)
    assert [c.network_m for c in found] == sorted(c.network_m for c in found)  # ranked along the streets
    straight = worker_candidates(conn, event, network_top=0)
    assert [c.worker_id for c in straight] == [near, far]
    assert dispatch_worker(conn, event, actor="op").worker.worker_id == found[0].worker_id


def test_nearest_workers_by_straight_line_then_street_network(conn, quiet, kit):
    ids = [kit.worker(f"T-{d}", *kit.offset(quiet.lon, quiet.lat, d, 0)) for d in (30, 90, 60, 120)]
    bare = nearest_workers(conn, quiet.lon, quiet.lat, limit=4, network_top=0)
    assert [c.worker_id for c in bare] == [ids[0], ids[2], ids[1], ids[3]]
    assert [round(c.straight_m) for c in bare] == [30, 60, 90, 120]
    assert all(c.network_m is None for c in bare)
    ranked = nearest_workers(conn, quiet.lon, quiet.lat, limit=4, network_top=3)
    assert {c.worker_id for c in ranked} == set(ids) and ranked[3].network_m is None
    head = [c.network_m for c in ranked[:3]]
    assert all(n is not None for n in head) and head == sorted(head)
    assert all(c.network_m >= 0.99 * c.straight_m for c in ranked[:3])  # no shortcut beats a straight line


def test_a_busy_worker_cannot_be_dispatched_again(conn, quiet, kit):
    worker = kit.worker("T-W", quiet.lon, quiet.lat)
    first = _event(conn, kit, quiet, "d-1")
    second = _event(conn, kit, quiet, "d-2", category="020202")
    dispatch_worker(conn, first, actor="op-a", worker_id=worker)
    with pytest.raises(Conflict, match="T-W is busy"):
        dispatch_worker(conn, second, actor="op-b", worker_id=worker)
    assert kit.event_row(second).state == "reported"
    assert kit.count("SELECT count(*) FROM assignment WHERE worker_id = :w AND released_at IS NULL", w=worker) == 1
    with pytest.raises(Conflict, match="no worker is on duty"):
        dispatch_worker(conn, second, actor="op-b")


def test_a_finished_event_is_not_dispatched(conn, quiet, kit):
    kit.worker("T-W", quiet.lon, quiet.lat)
    event = _event(conn, kit, quiet)
    conn.execute(text("UPDATE event SET state = 'handled' WHERE id = :e"), {"e": event})
    with pytest.raises(InvalidTransition):
        dispatch_worker(conn, event, actor="op")


def test_cameras_that_see_the_point_nearest_first(conn, quiet, kit):
    lon, lat = quiet.lon, quiet.lat
    south = kit.offset(lon, lat, 0, -50)  # 50 m south of the point: facing north sees it
    seeing = kit.camera("T-SEE", *south, heading=0, fov=60, range_m=100)
    kit.camera("T-AWAY", *south, heading=180, fov=60, range_m=100)  # facing away
    kit.camera("T-OFF", *south, heading=0, fov=60, range_m=100, online=False)
    kit.camera("T-SHORT", *south, heading=0, fov=60, range_m=40)  # too short
    edge = kit.camera("T-EDGE", *kit.offset(lon, lat, -30, -30), heading=15, fov=70, range_m=100)  # 45° within ±35°
    kit.camera("T-MISS", *kit.offset(lon, lat, -30, -30), heading=0, fov=60, range_m=100)  # 45° outside ±30°
    dome = kit.camera("T-DOME", *kit.offset(lon, lat, 70, 0), kind="dome", heading=None, fov=360, range_m=80)
    ptz = kit.camera("T-PTZ", *kit.offset(lon, lat, 0, 20), kind="ptz", heading=90, fov=50, range_m=50)
    hits = visible_cameras(conn, lon, lat)
    assert [h.camera_id for h in hits] == [ptz, edge, seeing, dome]
    assert [round(h.distance_m) for h in hits] == [20, 42, 50, 70]
    assert hits[2].bearing_deg == pytest.approx(0, abs=0.5)


def test_cameras_are_linked_to_an_event(conn, quiet, kit):
    cam = kit.camera("T-DOME", *kit.offset(quiet.lon, quiet.lat, 10, 0), kind="dome", heading=None, fov=360)
    event = _event(conn, kit, quiet)
    assert [h.camera_id for h in link_cameras(conn, event, actor="op")] == [cam]
    assert kit.count("SELECT count(*) FROM assignment WHERE event_id = :e AND kind = 'camera'", e=event) == 1


def test_emergencies_call_the_nearest_resources_of_their_kinds(conn, quiet, kit):
    lon, lat = kit.offset(quiet.lon, quiet.lat, 10, 0)
    fire = conn.execute(text("INSERT INTO resource (code, name, kind, geom) VALUES ('T-FS', '测试消防站',"
                             " 'fire_station', ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
                        {"x": lon, "y": lat}).scalar_one()
    event = _event(conn, kit, quiet, category="070201")
    hits = dispatch_resources(conn, event, actor="op")
    assert [h.kind for h in hits] == ["fire_station", "hospital"]
    assert hits[0].resource_id == fire and hits[0].distance_m == pytest.approx(10, abs=0.5)
    assert dispatch_resources(conn, _event(conn, kit, quiet, "d-2"), actor="op") == []  # no emergency


def _committed_fixture(engine):
    """A free worker and two events at a district point, committed so that two connections see them."""
    with engine.begin() as c:
        loaded = load_taxonomy(c)
    with engine.begin() as c:
        lon, lat = c.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM grid"
            " WHERE version_id = (SELECT id FROM grid_version WHERE is_current) ORDER BY id LIMIT 1) q")).one()
        worker = c.execute(text("INSERT INTO grid_worker (code, name, status, geom) VALUES ('T-RACE', 'T-RACE',"
                                " 'on_duty', ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
                           {"x": lon, "y": lat}).scalar_one()
        events = [intake(c, EventIn(channel="video", external_id=f"race-{i}", category=cat, lon=lon, lat=lat)).id
                  for i, cat in enumerate(("020103", "020202"))]
    return loaded, worker, events


def _clean(engine, loaded, worker, events):
    with engine.begin() as c:
        ids = [str(e) for e in events]
        c.execute(text("DELETE FROM audit_log WHERE (entity = 'event' AND entity_id = ANY(:ids))"
                       " OR (entity = 'grid_worker' AND entity_id = :w)"), {"ids": ids, "w": str(worker)})
        c.execute(text("DELETE FROM event WHERE id = ANY(:e)"), {"e": events})
        c.execute(text("DELETE FROM grid_worker WHERE id = :w"), {"w": worker})
        if loaded.created:
            c.execute(text("DELETE FROM audit_log WHERE action = 'load_taxonomy' AND entity_id = :v"),
                      {"v": str(loaded.version_id)})
            c.execute(text("DELETE FROM taxonomy_version WHERE id = :v"), {"v": loaded.version_id})


def test_two_operators_dispatching_one_worker_at_once_one_wins(engine, small_district):
    loaded, worker, (first, second) = _committed_fixture(engine)
    outcome: dict[str, object] = {}
    try:
        with engine.connect() as a, engine.connect() as b, engine.connect() as watch:
            b.execute(text("SET lock_timeout = '30s'"))
            b.commit()
            b_pid = b.connection.driver_connection.info.backend_pid
            tx = a.begin()
            dispatch_worker(a, first, actor="op-a", worker_id=worker)  # holds the worker's row, not committed

            def operator_b() -> None:
                try:
                    with b.begin():
                        dispatch_worker(b, second, actor="op-b", worker_id=worker)
                    outcome["b"] = "booked"
                except Conflict as err:
                    outcome["b"] = err

            thread = threading.Thread(target=operator_b)
            thread.start()
            waiting = _wait_of(watch, b_pid, thread)
            tx.commit()
            assert waiting == "Lock"  # B really was held behind A, not merely later
            thread.join(60)
        assert isinstance(outcome.get("b"), Conflict), outcome
        assert "T-RACE is busy" in str(outcome["b"])
        with engine.connect() as c:
            active = c.execute(text("SELECT event_id FROM assignment WHERE worker_id = :w AND released_at IS NULL"),
                               {"w": worker}).scalars().all()
            states = dict(c.execute(text("SELECT id, state FROM event WHERE id IN (:a, :b)"),
                                    {"a": first, "b": second}).all())
            status = c.execute(text("SELECT status FROM grid_worker WHERE id = :w"), {"w": worker}).scalar()
        assert active == [first] and status == "busy"
        assert states == {first: "dispatched", second: "reported"}
    finally:
        _clean(engine, loaded, worker, [first, second])


def test_two_operators_racing_freely_never_double_book(engine, small_district):
    loaded, worker, events = _committed_fixture(engine)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def operator(event_id: int, name: str) -> None:
        with engine.connect() as c:
            barrier.wait()
            try:
                with c.begin():
                    dispatch_worker(c, event_id, actor=name, worker_id=worker)
                results.append(name)
            except Conflict as err:
                results.append(err)

    try:
        threads = [threading.Thread(target=operator, args=(e, f"op-{i}")) for i, e in enumerate(events)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(type(r).__name__ for r in results) == ["Conflict", "str"]
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM assignment WHERE worker_id = :w AND released_at IS NULL"),
                             {"w": worker}).scalar_one() == 1
    finally:
        _clean(engine, loaded, worker, events)


# --- issue #19: stale positions, the top 10 by street, 一键派遣 idempotent, area-only events, busy resources ---


def test_a_stale_position_ranks_nobody_and_the_own_worker_shows_position_unknown(conn, quiet, kit):
    own = kit.worker("T-OWN-STALE", *kit.offset(quiet.lon, quiet.lat, 10, 0), fix_age_s=3 * 3600)
    kit.staff(quiet.grid_id, own)
    stale = kit.worker("T-STALE", *kit.offset(quiet.lon, quiet.lat, 0, 5), fix_age_s=3 * 3600)
    unknown = kit.worker("T-NO-TIME", *kit.offset(quiet.lon, quiet.lat, 0, -7), fix_age_s=None)
    fresh = kit.worker("T-FRESH", *kit.offset(quiet.lon, quiet.lat, 100, 0), fix_age_s=60)
    event = _event(conn, kit, quiet)
    found = worker_candidates(conn, event, network_top=0)
    assert [c.worker_id for c in found] == [own, fresh]  # the stale one 5 m away is not ranked at all
    assert (found[0].own_grid, found[0].position_known, found[0].straight_m, found[0].lon) == (True, False, None, None)
    assert found[1].position_known and round(found[1].straight_m) == 100
    assert [c.worker_id for c in nearest_workers(conn, quiet.lon, quiet.lat, network_top=0)] == [fresh]
    any_age = nearest_workers(conn, quiet.lon, quiet.lat, network_top=0, max_age_s=None)
    assert [c.worker_id for c in any_age[:3]] == [stale, unknown, own]  # 5 m, 7 m, 10 m: all of them, by distance
    at_point = workers_at(conn, quiet.lon, quiet.lat, network_top=0)  # a click on the map: the grid's worker too
    assert [(c.worker_id, c.position_known) for c in at_point] == [(fresh, True), (own, False)]
    done = dispatch_worker(conn, event, actor="op")
    assert (done.worker.worker_id, done.worker.position_known) == (own, False)
    assert kit.count("SELECT count(*) FROM grid_worker WHERE id = :w AND updated_at < now() - interval '2 hours'",
                     w=own) == 1  # booking is not a fix: the position stays stale


def test_street_distance_re_ranks_the_ten_nearest(conn, quiet, kit):
    ids = [kit.worker(f"T-{i}", *kit.offset(quiet.lon, quiet.lat, 12 * (i + 1), 0)) for i in range(11)]
    found = nearest_workers(conn, quiet.lon, quiet.lat, limit=11)
    assert [c.network_m is not None for c in found] == [True] * 10 + [False]
    assert [c.network_m for c in found[:10]] == sorted(c.network_m for c in found[:10])
    assert found[10].worker_id == ids[10]  # the eleventh keeps its straight-line place
    best = nearest_workers(conn, quiet.lon, quiet.lat, limit=1)  # still chosen from the ten, not from one
    assert [(c.worker_id, c.network_m) for c in best] == [(found[0].worker_id, found[0].network_m)]
    assert found[0].network_m == min(c.network_m for c in found[:10])


def test_the_dispatch_button_twice_sends_one_worker_and_a_named_second_is_added(conn, quiet, kit):
    first = kit.worker("T-A", *kit.offset(quiet.lon, quiet.lat, 10, 0))
    second = kit.worker("T-B", *kit.offset(quiet.lon, quiet.lat, 40, 0))
    event = _event(conn, kit, quiet)
    sent = dispatch_worker(conn, event, actor="op-1")
    again = dispatch_worker(conn, event, actor="op-2")
    assert (sent.already, again.already) == (False, True)
    assert (again.assignment_id, again.worker.worker_id, again.state) == (sent.assignment_id, first, "dispatched")
    assert kit.status(second) == "on_duty"
    assert kit.count("SELECT count(*) FROM assignment WHERE event_id = :e AND released_at IS NULL", e=event) == 1
    assert kit.count("SELECT count(*) FROM audit_log WHERE action = 'dispatch_worker' AND entity_id = :e",
                     e=str(event)) == 1
    extra = dispatch_worker(conn, event, actor="op-2", worker_id=second)  # a second worker, named on purpose
    assert (extra.already, extra.worker.worker_id, kit.status(second)) == (False, second, "busy")
    assert kit.count("SELECT count(*) FROM assignment WHERE event_id = :e AND released_at IS NULL", e=event) == 2


@pytest.mark.parametrize("area", ["community_id", "street_id"])
def test_an_event_located_only_by_area_goes_to_the_area_s_workers(conn, quiet, kit, area):
    event = _event(conn, kit, quiet)
    centre = conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM admin_area"
                               " WHERE id = :a) q"), {"a": getattr(quiet, area)}).one()
    at_centre = kit.worker("T-CENTRE", *centre)  # staffs no grid: nearest the area's centre, but not its worker
    mine = kit.worker("T-AREA", *kit.offset(quiet.lon, quiet.lat, 30, 0))
    kit.staff(quiet.grid_id, mine)
    conn.execute(text("UPDATE event SET geom = NULL, grid_id = NULL, community_id = :c, street_id = :s"
                      " WHERE id = :e"),
                 {"e": event, "c": quiet.community_id if area == "community_id" else None, "s": quiet.street_id})
    found = worker_candidates(conn, event)
    assert [c.worker_id for c in found] == [mine] and found[0].straight_m is None
    assert at_centre not in [c.worker_id for c in found]
    assert dispatch_worker(conn, event, actor="op").worker.worker_id == mine


def _fire_station(conn, kit, spot, code: str, east: float) -> int:
    lon, lat = kit.offset(spot.lon, spot.lat, east, 0)
    return conn.execute(text("INSERT INTO resource (code, name, kind, geom) VALUES (:c, :c, 'fire_station',"
                             " ST_SetSRID(ST_MakePoint(:x, :y), 4326)) RETURNING id"),
                        {"c": code, "x": lon, "y": lat}).scalar_one()


def test_called_resources_are_busy_once_and_free_again_when_released(conn, quiet, kit):
    near = _fire_station(conn, kit, quiet, "T-FS-1", 10)
    other = _fire_station(conn, kit, quiet, "T-FS-2", 20)
    first = _event(conn, kit, quiet, "r-1", category="070201")
    second = intake(conn, EventIn(channel="patrol", external_id="r-2", category="070201", lon=quiet.lon,
                                  lat=quiet.lat, reported_at=kit.at(20, 10))).id  # not a repeat: days later
    hits = dispatch_resources(conn, first, actor="op")
    assert near in [h.resource_id for h in hits] and not any(h.already for h in hits)
    repeat = dispatch_resources(conn, first, actor="op")
    assert [(h.resource_id, h.already) for h in repeat] == [(h.resource_id, True) for h in hits]
    assert kit.count("SELECT count(*) FROM assignment WHERE event_id = :e AND kind = 'resource'", e=first) == len(hits)
    theirs = [h.resource_id for h in dispatch_resources(conn, second, actor="op") if h.kind == "fire_station"]
    assert theirs == [other]  # the nearest fire station is busy with the first event
    assert near not in [h.resource_id for h in nearest_resources(conn, quiet.lon, quiet.lat, ["fire_station"])]
    released = release_resources(conn, first, actor="op")
    assert sorted(released) == sorted(h.resource_id for h in hits)
    assert release_resources(conn, first, actor="op") == []
    assert nearest_resources(conn, quiet.lon, quiet.lat, ["fire_station"])[0].resource_id == near


def test_resources_are_released_when_the_event_s_work_ends(conn, quiet, kit):
    kit.worker("T-W", quiet.lon, quiet.lat)
    _fire_station(conn, kit, quiet, "T-FS-1", 10)
    event = _event(conn, kit, quiet, category="070201")
    dispatch_worker(conn, event, actor="op")
    held = dispatch_resources(conn, event, actor="op")
    assert held
    transition(conn, event, "in_progress", actor="w")
    assert kit.count("SELECT count(*) FROM assignment WHERE event_id = :e AND kind = 'resource'"
                     " AND released_at IS NULL", e=event) == len(held)
    transition(conn, event, "handled", actor="w")
    assert kit.count("SELECT count(*) FROM assignment WHERE event_id = :e AND released_at IS NULL", e=event) == 0
    assert kit.count("SELECT count(*) FROM audit_log WHERE action = 'release_resources' AND entity_id = :e",
                     e=str(event)) == 1


def test_two_presses_of_the_dispatch_button_at_once_send_one_worker(engine, small_district):
    loaded, worker, (event, other) = _committed_fixture(engine)
    outcome: dict[str, object] = {}
    try:
        with engine.connect() as a, engine.connect() as b, engine.connect() as watch:
            b.execute(text("SET lock_timeout = '30s'"))
            b.commit()
            b_pid = b.connection.driver_connection.info.backend_pid
            tx = a.begin()
            first = dispatch_worker(a, event, actor="op-a", worker_id=None)  # holds the event's row, not committed
            outcome["booked"] = first.worker.worker_id

            def press_again() -> None:
                with b.begin():
                    outcome["b"] = dispatch_worker(b, event, actor="op-b")

            thread = threading.Thread(target=press_again)
            thread.start()
            waiting = _wait_of(watch, b_pid, thread)
            tx.commit()
            assert waiting == "Lock"
            thread.join(60)
        second = outcome.get("b")
        assert second is not None and second.already and second.assignment_id == first.assignment_id
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM assignment WHERE event_id = :e AND released_at IS NULL"),
                             {"e": event}).scalar_one() == 1
    finally:
        booked = outcome.get("booked")
        _clean(engine, loaded, worker, [event, other])
        if booked is not None and booked != worker:  # a district worker (the grid's own) went: free them again
            with engine.begin() as c:
                c.execute(text("UPDATE grid_worker SET status = 'on_duty' WHERE id = :w"), {"w": booked})
