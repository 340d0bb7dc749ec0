"""Duplicates across channels: one problem, one dispatch.

The same overflowing bin is reported by the grid worker, a citizen on 12345
and a camera. An incoming event whose leaf class matches an open event within
the leaf's duplicate radius (metres) and time window (hours either side) is
registered as a duplicate of the first one (the root of its chain): it is
linked, the root's ``duplicate_count`` goes up, and it is never dispatched on
its own. Events located only by community or street have no point and are
never matched automatically. An operator can merge two events by hand or split
a duplicate off again; both are audited.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import Connection, text

from command.audit import audit, sql
from command.taxonomy import Leaf
from layers.errors import Conflict, NotFound

__all__ = ["find_duplicate", "merge", "split", "duplicates_of", "pad_degrees", "UNMERGEABLE_STATES"]

_OPEN_EXCLUDED = ("closed", "rejected")
#: states in which an event is neither merged nor merged into: its work is over
UNMERGEABLE_STATES = _OPEN_EXCLUDED


def pad_degrees(metres: float, lat: float) -> float:
    """A bounding-box padding in degrees that holds ``metres`` at latitude ``lat``."""
    return metres / (111_320.0 * max(math.cos(math.radians(lat)), 0.01)) * 1.01 + 1e-9


def find_duplicate(conn: Connection, leaf: Leaf, lon: float, lat: float, at: datetime,
                   *, exclude_id: int | None = None) -> int | None:
    """The root event a new report of ``leaf`` at (lon, lat) duplicates, or ``None``.

    Open means any state but closed and rejected. The earliest matching event
    wins; its own root is returned, so chains stay one level deep.
    """
    if leaf.dup_radius_m <= 0 or leaf.dup_window_hours <= 0:
        return None
    row = conn.execute(sql("find_duplicate"), {
        "code": leaf.code, "lon": lon, "lat": lat, "at": at, "window_s": leaf.dup_window_hours * 3600.0,
        "radius_m": leaf.dup_radius_m, "pad_deg": pad_degrees(leaf.dup_radius_m, lat), "exclude_id": exclude_id,
    }).first()
    return None if row is None else row.root_id


def _event(conn: Connection, event_id: int):
    row = conn.execute(
        text("SELECT id, state, duplicate_of_id FROM event WHERE id = :id FOR UPDATE"), {"id": event_id}
    ).first()
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    return row


def _recount(conn: Connection, root_id: int) -> None:
    conn.execute(
        text("UPDATE event SET duplicate_count = (SELECT count(*) FROM event d WHERE d.duplicate_of_id = :id)"
             " WHERE id = :id"),
        {"id": root_id},
    )


def merge(conn: Connection, event_id: int, into_id: int, *, actor: str, note: str | None = None) -> int:
    """Make ``event_id`` a duplicate of ``into_id`` (or of its root); return the root's id.

    Duplicates of ``event_id`` move to the root too. Refused for an event into
    itself, and for closed or rejected events (nothing left to merge).

    Raises
    ------
    NotFound
        Either event does not exist.
    Conflict
        Merging an event into itself or into its own duplicate, or a finished event.
    """
    target = _event(conn, into_id)
    root_id = target.duplicate_of_id or target.id
    event = _event(conn, event_id)
    if event.id == root_id:
        raise Conflict("event {event_id} cannot be merged into itself or into one of its own duplicates",
                       event_id=event_id)
    for row in (event, target):
        if row.state in _OPEN_EXCLUDED:
            raise Conflict("event {event_id} is {state}: only open events can be merged", event_id=row.id,
                           state=row.state)
    active = conn.execute(
        text("SELECT count(*) FROM assignment WHERE event_id = :id AND kind = 'worker' AND released_at IS NULL"),
        {"id": event_id},
    ).scalar_one()
    if active:
        raise Conflict("event {event_id} has a worker on it: release or finish that dispatch before merging",
                       event_id=event_id)
    previous = event.duplicate_of_id
    conn.execute(text("UPDATE event SET duplicate_of_id = :root WHERE id = :id OR duplicate_of_id = :id"),
                 {"root": root_id, "id": event_id})
    _recount(conn, root_id)
    if previous is not None and previous != root_id:
        _recount(conn, previous)
    conn.execute(text("UPDATE event SET duplicate_count = 0 WHERE id = :id"), {"id": event_id})
    audit(conn, actor=actor, action="merge", entity="event", entity_id=event_id,
          detail={"into": root_id, "asked_into": into_id, "previous_root": previous, "note": note})
    return root_id


def split(conn: Connection, event_id: int, *, actor: str, note: str | None = None) -> int:
    """Make a duplicate an event of its own again; return its former root's id.

    Raises
    ------
    NotFound
        No such event.
    Conflict
        The event is not a duplicate.
    """
    event = _event(conn, event_id)
    if event.duplicate_of_id is None:
        raise Conflict("event {event_id} is not a duplicate: there is nothing to split", event_id=event_id)
    root_id = event.duplicate_of_id
    conn.execute(text("UPDATE event SET duplicate_of_id = NULL WHERE id = :id"), {"id": event_id})
    _recount(conn, root_id)
    audit(conn, actor=actor, action="split", entity="event", entity_id=event_id,
          detail={"from": root_id, "note": note})
    return root_id


def duplicates_of(conn: Connection, root_id: int) -> list[int]:
    """Ids of the events registered as duplicates of ``root_id``, oldest first."""
    return list(conn.execute(
        text("SELECT id FROM event WHERE duplicate_of_id = :id ORDER BY reported_at, id"), {"id": root_id}
    ).scalars())
