"""The supervisor's round: flags and escalates as the system, once per event and level, one process at a time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from command.audit import sql
from command.intake import EventIn, intake
from command.supervisor import SUPERVISOR, supervise_overdue


def _overdue_rows(kit, event_id: int) -> list[tuple[str, int]]:
    return [tuple(r) for r in kit.conn.execute(text(
        "SELECT actor, (detail->>'level')::int FROM audit_log WHERE action = 'overdue' AND entity_id = :e ORDER BY id"
    ), {"e": str(event_id)})]


def test_a_round_flags_and_escalates_as_the_system_once_per_level(conn, quiet, kit):
    event = intake(conn, EventIn(channel="patrol", external_id="sv-1", category="020103", lon=quiet.lon,
                                 lat=quiet.lat, reported_at=kit.at(6, 10))).id
    deadline = kit.event_row(event).deadline_at
    assert supervise_overdue(conn, now=deadline - timedelta(minutes=1)) == []
    assert supervise_overdue(conn, now=deadline + timedelta(minutes=1)) == [(event, 1)]
    assert supervise_overdue(conn, now=deadline + timedelta(minutes=2)) == []  # same level: nothing written
    assert supervise_overdue(conn, now=deadline + timedelta(days=30)) == [(event, 3)]
    assert supervise_overdue(conn, now=deadline + timedelta(days=31)) == []
    assert _overdue_rows(kit, event) == [(SUPERVISOR, 1), (SUPERVISOR, 3)]
    assert kit.event_row(event).supervision_level == 3


def test_a_round_is_skipped_while_another_process_holds_the_turn(conn, quiet, kit, engine):
    event = intake(conn, EventIn(channel="patrol", external_id="sv-2", category="020103", lon=quiet.lon,
                                 lat=quiet.lat, reported_at=kit.at(6, 10))).id
    late = kit.event_row(event).deadline_at + timedelta(minutes=1)
    with engine.connect() as other:
        with other.begin():
            assert other.execute(sql("supervisor_lock")).scalar_one() is True  # the other process's round
            assert supervise_overdue(conn, now=late) is None  # skipped at once, not queued behind it
            assert kit.event_row(event).overdue_at is None and _overdue_rows(kit, event) == []
        # the other round's transaction ended: its lock went with it
    assert supervise_overdue(conn, now=late) == [(event, 1)]
