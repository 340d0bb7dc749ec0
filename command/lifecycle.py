"""The closed loop of an event: report → accept → dispatch → handle → verify → close.

States and the moves between them are a table (:data:`TRANSITIONS`), so the
rules can be read, tested exhaustively and shown to a client::

    reported    → accepted, rejected
    accepted    → dispatched, rejected
    dispatched  → in_progress, returned
    in_progress → handled, returned
    handled     → verified, reopened      (verification failed)
    verified    → closed, reopened
    closed      → reopened                (the problem came back)
    returned    → accepted, dispatched, rejected
    reopened    → accepted, dispatched
    rejected    → reopened                (on appeal)

Any other move raises :class:`~layers.errors.InvalidTransition`. Every move
writes an ``event_history`` row and an audit row (who, when, note). Leaving
the hands of a worker (handled, returned, rejected, closed) releases their
assignment and makes them free again, and releases the emergency resources
called for the event (:func:`release_resources`), so that other events are
offered them again. Closing keeps the rating (1–5) and
closes the event's duplicates with it.

Overdue work is flagged and escalated for supervision (督办): an event still
awaiting handling past its deadline gets ``overdue_at`` and supervision level 1, level 2 once it
is late by as long again as it was allowed, level 3 at twice that; an
operator can raise the level by hand (:func:`supervise`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, text

from command.audit import audit, sql
from layers.errors import InvalidTransition, LoadError, NotFound

__all__ = [
    "TRANSITIONS",
    "OPEN_STATES",
    "AWAITING_HANDLING",
    "WORK_ENDING_STATES",
    "allowed_moves",
    "path_to",
    "transition",
    "walk",
    "release_workers",
    "release_resources",
    "flag_overdue",
    "supervise",
]

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "reported": ("accepted", "rejected"),
    "accepted": ("dispatched", "rejected"),
    "dispatched": ("in_progress", "returned"),
    "in_progress": ("handled", "returned"),
    "handled": ("verified", "reopened"),
    "verified": ("closed", "reopened"),
    "closed": ("reopened",),
    "returned": ("accepted", "dispatched", "rejected"),
    "reopened": ("accepted", "dispatched"),
    "rejected": ("reopened",),
}

#: states in which an event still needs someone's work
OPEN_STATES = ("reported", "accepted", "dispatched", "in_progress", "handled", "returned", "reopened")
#: states in which the handling itself is still to be done: what a deadline (处置时限) chases
AWAITING_HANDLING = ("reported", "accepted", "dispatched", "in_progress", "returned", "reopened")
#: moves after which the dispatched worker is free again
WORK_ENDING_STATES = ("handled", "returned", "rejected", "closed")


def allowed_moves(state: str) -> tuple[str, ...]:
    """The states an event in ``state`` may move to."""
    return TRANSITIONS.get(state, ())


def path_to(state: str, goal: str) -> tuple[str, ...]:
    """The states a shortest legal path from ``state`` to ``goal`` passes through, ``goal`` last.

    Empty when there is none (or ``state`` is ``goal``). Of several shortest
    paths, the one taking the earlier move of :data:`TRANSITIONS` first.

    Examples
    --------
    >>> path_to("in_progress", "closed")
    ('handled', 'verified', 'closed')
    """
    came_from: dict[str, str] = {}  # state reached -> the state it was first reached from (breadth first)
    frontier = [state]
    while frontier and goal not in came_from:
        reached = []
        for here in frontier:
            for there in allowed_moves(here):
                if there != state and there not in came_from:
                    came_from[there] = here
                    reached.append(there)
        frontier = reached
    if goal not in came_from:
        return ()
    path = [goal]
    while path[-1] in came_from and came_from[path[-1]] != state:
        path.append(came_from[path[-1]])
    return tuple(reversed(path))


def walk(conn: Connection, event_id: int, to_state: str, *, actor: str, note: str | None = None,
         at: datetime | None = None) -> tuple[str, tuple[str, ...]]:
    """Move an event to ``to_state`` along the shortest legal path, each step a move of its own.

    Every step is a :func:`transition` (its history and audit rows, workers
    released, duplicates closed), all in the caller's transaction and at
    one moment: a grid worker who settles an event itself (自办自结) accepts,
    handles and closes it in one go, and the history shows each step.

    Returns
    -------
    (the state it came from, the states it passed through, ``to_state`` last)

    Raises
    ------
    NotFound
        No such event.
    InvalidTransition
        The event is in ``to_state`` already, or no legal path leads there.
    """
    at = at or datetime.now(UTC)
    row = conn.execute(text("SELECT id, state FROM event WHERE id = :id FOR UPDATE"), {"id": event_id}).first()
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    steps = path_to(row.state, to_state)
    if not steps:
        raise InvalidTransition(event_id, row.state, to_state, allowed_moves(row.state))
    for step in steps:
        transition(conn, event_id, step, actor=actor, note=note, at=at)
    return row.state, steps


def transition(
    conn: Connection,
    event_id: int,
    to_state: str,
    *,
    actor: str,
    note: str | None = None,
    rating: int | None = None,
    at: datetime | None = None,
) -> str:
    """Move an event to ``to_state``; return the state it came from.

    The event row is locked for the move, so two operators moving the same
    event are serialised and the second is checked against the first's result.

    Parameters
    ----------
    rating
        The satisfaction rating (1–5), only when closing.
    at
        When it happened (aware); now by default.

    Raises
    ------
    NotFound
        No such event.
    InvalidTransition
        The move is not in :data:`TRANSITIONS`.
    LoadError
        A rating outside 1–5, or given on a move other than closing.
    """
    at = at or datetime.now(UTC)
    row = conn.execute(text("SELECT id, state FROM event WHERE id = :id FOR UPDATE"), {"id": event_id}).first()
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    if to_state not in allowed_moves(row.state):
        raise InvalidTransition(event_id, row.state, to_state, allowed_moves(row.state))
    if rating is not None and (to_state != "closed" or not 1 <= rating <= 5):
        raise LoadError("a rating is 1 to 5 and is given when closing", field="rating")
    conn.execute(
        text("""
            UPDATE event SET state = :to,
                closed_at = CASE WHEN :to = 'closed' THEN CAST(:at AS timestamptz)
                                 WHEN :to = 'reopened' THEN NULL ELSE closed_at END,
                rating = CASE WHEN :to = 'closed' THEN CAST(:rating AS smallint)
                              WHEN :to = 'reopened' THEN NULL ELSE rating END
            WHERE id = :id
        """),
        {"to": to_state, "at": at, "rating": rating, "id": event_id},
    )
    _record(conn, event_id, row.state, to_state, at, actor, note, {"rating": rating} if rating else {})
    if to_state in WORK_ENDING_STATES:
        release_workers(conn, event_id, actor=actor, at=at)
        release_resources(conn, event_id, actor=actor, at=at)
    if to_state == "closed":
        _close_duplicates(conn, event_id, actor=actor, at=at)
    return row.state


def _record(conn, event_id: int, from_state: str | None, to_state: str, at: datetime, actor: str,
            note: str | None, extra: dict) -> None:
    conn.execute(
        text("INSERT INTO event_history (event_id, from_state, to_state, at, actor, note)"
             " VALUES (:id, :f, :t, :at, :actor, :note)"),
        {"id": event_id, "f": from_state, "t": to_state, "at": at, "actor": actor, "note": note},
    )
    audit(conn, actor=actor, action="transition", entity="event", entity_id=event_id,
          detail={"from": from_state, "to": to_state, "at": at.isoformat(), "note": note, **extra})


def release_workers(conn: Connection, event_id: int, *, actor: str, at: datetime | None = None) -> list[int]:
    """End the event's active worker assignments and make those workers free; return their ids."""
    at = at or datetime.now(UTC)
    workers = list(conn.execute(
        text("""
            WITH done AS (
                UPDATE assignment SET released_at = :at
                WHERE event_id = :id AND kind = 'worker' AND released_at IS NULL
                RETURNING worker_id
            )
            UPDATE grid_worker w SET status = 'on_duty'
            FROM done WHERE w.id = done.worker_id AND w.status = 'busy'
            RETURNING w.id
        """),
        {"id": event_id, "at": at},
    ).scalars())
    for worker_id in workers:
        audit(conn, actor=actor, action="release", entity="grid_worker", entity_id=worker_id,
              detail={"event_id": event_id})
    return workers


def release_resources(conn: Connection, event_id: int, *, actor: str, at: datetime | None = None) -> list[int]:
    """End the event's active resource assignments, so that other events are offered them again; return their ids.

    One audit row names the resources released (none when it held none).
    Releasing twice releases nothing the second time.

    Raises
    ------
    NotFound
        No such event.
    """
    at = at or datetime.now(UTC)
    if conn.execute(text("SELECT id FROM event WHERE id = :id FOR UPDATE"), {"id": event_id}).first() is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    released = sorted(conn.execute(sql("release_resources"), {"id": event_id, "at": at}).scalars())
    if released:
        audit(conn, actor=actor, action="release_resources", entity="event", entity_id=event_id,
              detail={"resource_ids": released})
    return released


def _close_duplicates(conn: Connection, root_id: int, *, actor: str, at: datetime) -> None:
    rows = conn.execute(
        text("SELECT id, state FROM event WHERE duplicate_of_id = :id AND state NOT IN ('closed', 'rejected')"
             " FOR UPDATE"),
        {"id": root_id},
    ).all()
    for dup in rows:
        conn.execute(text("UPDATE event SET state = 'closed', closed_at = :at WHERE id = :id"),
                     {"at": at, "id": dup.id})
        _record(conn, dup.id, dup.state, "closed", at, actor, f"closed with event {root_id}, of which it is a "
                "duplicate", {"root": root_id})


def flag_overdue(conn: Connection, *, now: datetime | None = None, actor: str = "system") -> list[tuple[int, int]]:
    """Flag open events past their deadline and raise their supervision level.

    Safe to run as often as liked (a scheduler every few minutes): an event is
    written and audited only when its level goes up. Only events still
    awaiting handling are chased (a handled event waiting for verification is
    not late); duplicates are left to their root.

    Returns
    -------
    list of (event id, new supervision level)
    """
    now = now or datetime.now(UTC)
    rows = conn.execute(sql("flag_overdue"), {"now": now, "actor": actor, "open": list(AWAITING_HANDLING)}).all()
    return [(r.id, r.supervision_level) for r in rows]


def supervise(conn: Connection, event_id: int, *, actor: str, note: str | None = None) -> int:
    """Raise an open event's supervision level by hand (督办); return the new level.

    Raises
    ------
    NotFound
        No such event.
    InvalidTransition
        The event is closed or rejected: there is nothing left to chase.
    """
    row = conn.execute(
        text("SELECT id, state, supervision_level FROM event WHERE id = :id FOR UPDATE"), {"id": event_id}
    ).first()
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    if row.state not in OPEN_STATES:
        raise InvalidTransition(event_id, row.state, "supervised", ())
    level = conn.execute(
        text("UPDATE event SET supervision_level = supervision_level + 1, supervised_at = now()"
             " WHERE id = :id RETURNING supervision_level"),
        {"id": event_id},
    ).scalar_one()
    audit(conn, actor=actor, action="supervise", entity="event", entity_id=event_id,
          detail={"level": level, "note": note})
    return level
