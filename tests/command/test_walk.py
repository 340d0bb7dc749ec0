"""Walking an event along the legal path (:func:`command.lifecycle.walk`), and who reported it (intake's reporter)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from command.intake import EventIn, intake, intake_many
from command.lifecycle import TRANSITIONS, path_to, walk
from layers.errors import InvalidTransition, NotFound
from layers.models import EVENT_STATES

TO_CLOSED = {  # worked out by hand from the table in command/lifecycle.py's docstring
    "reported": ("accepted", "dispatched", "in_progress", "handled", "verified", "closed"),
    "accepted": ("dispatched", "in_progress", "handled", "verified", "closed"),
    "dispatched": ("in_progress", "handled", "verified", "closed"),
    "in_progress": ("handled", "verified", "closed"),
    "handled": ("verified", "closed"),
    "verified": ("closed",),
    "closed": (),
    "returned": ("dispatched", "in_progress", "handled", "verified", "closed"),
    "reopened": ("dispatched", "in_progress", "handled", "verified", "closed"),
    "rejected": ("reopened", "dispatched", "in_progress", "handled", "verified", "closed"),
}


@pytest.mark.parametrize("state", EVENT_STATES)
def test_the_path_to_closed_from_every_state(state):
    assert path_to(state, "closed") == TO_CLOSED[state]


@pytest.mark.parametrize("start", EVENT_STATES)
@pytest.mark.parametrize("goal", EVENT_STATES)
def test_every_path_is_a_chain_of_legal_moves_and_no_longer_than_needed(start, goal):
    path = path_to(start, goal)
    for here, there in zip((start, *path), path):
        assert there in TRANSITIONS[here]
    if len(path) > 1:  # no shortcut: no state of the path reaches the goal in fewer moves
        assert all(goal not in TRANSITIONS[s] for s in (start, *path[:-2]))
    if start == goal:
        assert path == ()


def _event(conn, spot, kit, external_id: str = "walk-1", channel: str = "self_settled", **extra) -> int:
    return intake(conn, EventIn(channel=channel, external_id=external_id, category="020103", lon=spot.lon,
                                lat=spot.lat, reported_at=kit.at(6, 10)), actor="grid_worker:w", **extra).id


def test_a_walk_records_each_step_under_the_actor_and_releases_the_worker(conn, spot, kit):
    event_id = _event(conn, spot, kit)
    worker = kit.worker("WALK-W", spot.lon, spot.lat, status="busy")
    conn.execute(text("INSERT INTO assignment (event_id, kind, worker_id, assigned_by) VALUES (:e, 'worker', :w, 't')"),
                 {"e": event_id, "w": worker})
    came_from, steps = walk(conn, event_id, "closed", actor="grid_worker:w", note="settled")
    assert (came_from, steps) == ("reported", TO_CLOSED["reported"])
    history = conn.execute(text("SELECT from_state, to_state, actor, note FROM event_history WHERE event_id = :id"
                                " ORDER BY id"), {"id": event_id}).all()
    assert [tuple(h) for h in history[1:]] == [(a, b, "grid_worker:w", "settled")
                                               for a, b in zip(("reported", *steps), steps)]
    row = kit.event_row(event_id)
    assert row.state == "closed" and row.closed_at is not None and row.rating is None
    assert kit.status(worker) == "on_duty"
    assert kit.count("SELECT count(*) FROM audit_log WHERE action = 'transition' AND entity_id = :id",
                     id=str(event_id)) == 6


def test_a_walk_from_closed_or_of_no_event_changes_nothing(conn, spot, kit):
    event_id = _event(conn, spot, kit)
    walk(conn, event_id, "closed", actor="op")
    rows = kit.count("SELECT count(*) FROM event_history WHERE event_id = :id", id=event_id)
    with pytest.raises(InvalidTransition) as err:
        walk(conn, event_id, "closed", actor="op")
    assert err.value.from_state == "closed" and err.value.allowed == ("reopened",)
    assert kit.count("SELECT count(*) FROM event_history WHERE event_id = :id", id=event_id) == rows
    with pytest.raises(NotFound):
        walk(conn, 987654321, "closed", actor="op")


def test_intake_records_the_reporting_worker_and_a_repeat_keeps_the_first(conn, spot, kit):
    worker = kit.worker("WALK-R", spot.lon, spot.lat)
    mine = _event(conn, spot, kit, "walk-r1", reporter="WALK-R")
    desk = _event(conn, spot, kit, "walk-r2")
    assert _event(conn, spot, kit, "walk-r1", reporter=None) == mine  # the same report again: unchanged
    community = conn.execute(text("SELECT code FROM admin_area WHERE id = :id"), {"id": spot.community_id}).scalar()
    no_point = intake(conn, EventIn(channel="patrol", external_id="walk-r3", category="020103",
                                    community=community, reported_at=kit.at(6, 11)),
                      actor="grid_worker:w", reporter="WALK-R").id
    burst = intake_many(conn, [EventIn(channel="patrol", external_id=f"walk-b{i}", category="020103",
                                       lon=spot.lon, lat=spot.lat, reported_at=kit.at(7 + i, 10)) for i in range(2)],
                        actor="grid_worker:w", reporter="WALK-R")
    reporters = dict(conn.execute(text("SELECT id, reporter_worker_id FROM event WHERE id = ANY(:ids)"),
                                  {"ids": [mine, desk, no_point, *(r.id for r in burst)]}).all())
    assert reporters == {mine: worker, desk: None, no_point: worker, burst[0].id: worker, burst[1].id: worker}
