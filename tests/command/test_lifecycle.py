"""The closed loop: every legal and illegal move, history and audit, ratings, release, overdue and 督办."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import text

from command.dispatch import dispatch_worker
from command.intake import EventIn, intake
from command.lifecycle import TRANSITIONS, flag_overdue, supervise, transition
from layers.errors import InvalidTransition, LoadError, NotFound
from layers.models import EVENT_STATES

LEGAL = {(a, b) for a, moves in TRANSITIONS.items() for b in moves}
PAIRS = list(itertools.product(EVENT_STATES, EVENT_STATES))


@pytest.fixture
def event(conn, spot, kit):
    return intake(conn, EventIn(channel="patrol", external_id="life-1", category="020103", lon=spot.lon,
                                lat=spot.lat, reported_at=kit.at(6, 10))).id


def test_the_table_covers_every_state_and_names_only_states():
    assert set(TRANSITIONS) == set(EVENT_STATES)
    assert all(set(moves) <= set(EVENT_STATES) for moves in TRANSITIONS.values())
    assert len(LEGAL) == 19


@pytest.mark.parametrize(("start", "end"), [p for p in PAIRS if p in LEGAL])
def test_a_legal_move_is_made_and_recorded(conn, event, kit, start, end):
    conn.execute(text("UPDATE event SET state = :s WHERE id = :id"), {"s": start, "id": event})
    came_from = transition(conn, event, end, actor="op-1", note=f"{start} to {end}")
    assert came_from == start and kit.event_row(event).state == end
    history = conn.execute(text("SELECT from_state, to_state, actor, note FROM event_history WHERE event_id = :id"
                                " ORDER BY id DESC LIMIT 1"), {"id": event}).one()
    assert tuple(history) == (start, end, "op-1", f"{start} to {end}")
    audit = conn.execute(text("SELECT actor, detail FROM audit_log WHERE action = 'transition' AND entity_id = :id"
                              " ORDER BY id DESC LIMIT 1"), {"id": str(event)}).one()
    assert audit.actor == "op-1" and (audit.detail["from"], audit.detail["to"]) == (start, end)
    assert audit.detail["note"] == f"{start} to {end}"


@pytest.mark.parametrize(("start", "end"), [p for p in PAIRS if p not in LEGAL])
def test_an_illegal_move_is_refused_and_changes_nothing(conn, event, kit, start, end):
    conn.execute(text("UPDATE event SET state = :s WHERE id = :id"), {"s": start, "id": event})
    rows = kit.count("SELECT count(*) FROM event_history WHERE event_id = :id", id=event)
    with pytest.raises(InvalidTransition) as err:
        transition(conn, event, end, actor="op-1")
    assert (err.value.from_state, err.value.to_state) == (start, end)
    assert err.value.allowed == TRANSITIONS[start]
    assert kit.event_row(event).state == start
    assert kit.count("SELECT count(*) FROM event_history WHERE event_id = :id", id=event) == rows


def test_the_whole_loop_keeps_the_rating_and_reopening_clears_it(conn, event, kit):
    for state in ("accepted", "dispatched", "in_progress", "handled", "verified"):
        transition(conn, event, state, actor="op")
    with pytest.raises(LoadError, match="rating"):
        transition(conn, event, "closed", actor="op", rating=6)
    transition(conn, event, "closed", actor="citizen", rating=4, at=kit.at(8, 15))
    row = kit.event_row(event)
    assert (row.state, row.rating, row.closed_at) == ("closed", 4, kit.at(8, 15))
    transition(conn, event, "reopened", actor="citizen", note="still there")
    row = kit.event_row(event)
    assert (row.state, row.rating, row.closed_at) == ("reopened", None, None)
    with pytest.raises(LoadError, match="rating"):
        transition(conn, event, "accepted", actor="op", rating=3)


def test_an_unknown_event_is_not_found(conn, taxonomy):
    with pytest.raises(NotFound):
        transition(conn, 10**12, "accepted", actor="op")


def test_handled_or_returned_frees_the_worker(conn, quiet, kit, event):
    worker = kit.worker("T-W1", quiet.lon, quiet.lat)
    dispatch_worker(conn, event, actor="op", worker_id=worker)
    assert kit.status(worker) == "busy"
    transition(conn, event, "in_progress", actor="w")
    transition(conn, event, "returned", actor="w", note="not ours")
    assert kit.status(worker) == "on_duty"
    assert kit.count("SELECT count(*) FROM assignment WHERE event_id = :e AND released_at IS NULL", e=event) == 0


def test_closing_an_event_closes_its_duplicates(conn, spot, kit, event):
    dup = intake(conn, EventIn(channel="hotline", external_id="h-dup", category="暴露垃圾", lon=spot.lon,
                               lat=spot.lat, reported_at=kit.at(6, 11))).id
    assert kit.event_row(dup).duplicate_of_id == event
    conn.execute(text("UPDATE event SET state = 'verified' WHERE id = :id"), {"id": event})
    transition(conn, event, "closed", actor="op", rating=5)
    assert kit.event_row(dup).state == "closed"
    note = conn.execute(text("SELECT note FROM event_history WHERE event_id = :id ORDER BY id DESC LIMIT 1"),
                        {"id": dup}).scalar_one()
    assert f"closed with event {event}" in note


def test_overdue_events_are_flagged_and_escalated_once_per_level(conn, quiet, kit, event):
    # 8 working hours from Monday 10:00 -> Tuesday 11:00: 25 h of clock time allowed
    assert kit.event_row(event).deadline_at == kit.at(7, 11)
    assert flag_overdue(conn, now=kit.at(7, 10)) == []
    assert flag_overdue(conn, now=kit.at(7, 12)) == [(event, 1)]
    assert flag_overdue(conn, now=kit.at(7, 13)) == []  # nothing new: not written again
    assert flag_overdue(conn, now=kit.at(8, 13)) == [(event, 2)]  # late by the allowed 25 h again
    assert flag_overdue(conn, now=kit.at(20, 0)) == [(event, 3)]
    row = kit.event_row(event)
    assert (row.overdue_at, row.supervision_level) == (kit.at(7, 12), 3)
    assert kit.count("SELECT count(*) FROM audit_log WHERE action = 'overdue' AND entity_id = :id",
                     id=str(event)) == 3


def test_closed_events_are_not_flagged_and_supervision_by_hand(conn, quiet, kit, event):
    assert supervise(conn, event, actor="director", note="催办") == 1
    assert supervise(conn, event, actor="director") == 2
    assert flag_overdue(conn, now=kit.at(7, 12)) == [(event, 2)]  # flagged, the level is not lowered
    conn.execute(text("UPDATE event SET state = 'closed' WHERE id = :id"), {"id": event})
    assert flag_overdue(conn, now=kit.at(28, 11)) == []
    with pytest.raises(InvalidTransition):
        supervise(conn, event, actor="director")


def test_a_handled_event_waiting_for_verification_is_not_chased(conn, quiet, kit, event):
    conn.execute(text("UPDATE event SET state = 'handled' WHERE id = :id"), {"id": event})
    assert flag_overdue(conn, now=kit.at(20, 0)) == []
    conn.execute(text("UPDATE event SET state = 'reopened' WHERE id = :id"), {"id": event})
    assert flag_overdue(conn, now=kit.at(20, 0)) == [(event, 3)]
