"""Dispatch: send the right worker, show the cameras that see it, call the resources.

Grid worker: the event's own grid's worker comes first when on duty and free
(they know the place, and the grid is theirs); otherwise the nearest on-duty
workers by straight line (GiST KNN), of which the first few are re-ranked by
distance along the street network (:mod:`command.network`).

A worker is booked by one conditional update — ``status: on_duty → busy``
where it is still ``on_duty`` — in the operator's transaction. A second
operator booking the same worker waits on the row lock, then finds the worker
busy and gets a :class:`~layers.errors.Conflict`: one wins, never both. The
partial unique index on active assignments holds the same rule should any
other code path set a status by hand.

Cameras: those online that can see the point (:func:`visible_cameras`).
Emergency resources: the nearest of each kind the leaf calls for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from command.audit import audit, sql
from command.lifecycle import transition
from command.network import road_network
from command.taxonomy import current_taxonomy
from layers.errors import Conflict, InvalidTransition, NotFound

__all__ = [
    "WorkerCandidate",
    "CameraHit",
    "ResourceHit",
    "Dispatched",
    "nearest_workers",
    "worker_candidates",
    "dispatch_worker",
    "visible_cameras",
    "link_cameras",
    "nearest_resources",
    "dispatch_resources",
    "DISPATCH_STATES",
]

log = logging.getLogger(__name__)

_DISPATCHABLE = ("reported", "accepted", "returned", "reopened")
_REINFORCEABLE = ("dispatched", "in_progress")
#: states an event is sent a worker in: first sent (it moves to dispatched), or reinforced (it stays)
DISPATCH_STATES = _DISPATCHABLE + _REINFORCEABLE


class WorkerCandidate(BaseModel):
    """A free worker who could go, and how far they are."""

    worker_id: int
    code: str
    name: str
    lon: float
    lat: float
    straight_m: float
    network_m: float | None = None
    own_grid: bool = False


class CameraHit(BaseModel):
    """A camera that can see the point."""

    camera_id: int
    code: str
    name: str | None
    kind: str
    distance_m: float
    bearing_deg: float | None
    heading_deg: float | None
    fov_deg: float
    range_m: float


class ResourceHit(BaseModel):
    """An emergency resource near the point."""

    resource_id: int
    code: str
    name: str
    kind: str
    capacity: int
    distance_m: float


class Dispatched(BaseModel):
    """The outcome of :func:`dispatch_worker`."""

    event_id: int
    assignment_id: int
    worker: WorkerCandidate
    from_state: str
    state: str


@dataclass(frozen=True)
class _Place:
    id: int
    state: str
    duplicate_of_id: int | None
    category_code: str
    lon: float | None
    lat: float | None
    grid_id: int | None


def _place(conn: Connection, event_id: int) -> _Place:
    row = conn.execute(sql("event_place"), {"id": event_id}).first()
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    return _Place(row.id, row.state, row.duplicate_of_id, row.category_code, row.lon, row.lat, row.grid_id)


def _rerank(conn: Connection, lon: float, lat: float, found: list[WorkerCandidate],
            network_top: int) -> list[WorkerCandidate]:
    """Network distance for the first ``network_top``; they are re-sorted by it, unreachable ones last."""
    if network_top <= 0 or not found:
        return found
    net = road_network(conn)
    head = [c.model_copy(update={"network_m": net.distance((lon, lat), (c.lon, c.lat))})
            for c in found[:network_top]]
    head.sort(key=lambda c: (c.network_m is None, c.network_m if c.network_m is not None else 0.0, c.worker_id))
    return head + found[network_top:]


def nearest_workers(conn: Connection, lon: float, lat: float, *, limit: int = 5, network_top: int = 3,
                    exclude: tuple[int, ...] = ()) -> list[WorkerCandidate]:
    """On-duty workers nearest to a point, the first ``network_top`` re-ranked along the streets.

    Parameters
    ----------
    limit
        How many to return.
    network_top
        How many of the straight-line nearest to re-rank by network distance
        (0: straight line only, the bare KNN).
    exclude
        Worker ids to leave out (already proposed).
    """
    wanted = limit + len(exclude)
    rows = conn.execute(sql("nearest_workers"), {"lon": lon, "lat": lat, "limit": wanted, "pool": 3 * wanted + 10})
    found = [WorkerCandidate(worker_id=r.id, code=r.code, name=r.name, lon=r.lon, lat=r.lat, straight_m=r.straight_m)
             for r in rows if r.id not in exclude][:limit]
    return _rerank(conn, lon, lat, found, network_top)


def _own_grid_worker(conn: Connection, place: _Place) -> WorkerCandidate | None:
    if place.grid_id is None:
        return None
    row = conn.execute(text("""
        SELECT w.id, w.code, w.name, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat,
               ST_Distance(w.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS straight_m
        FROM grid g JOIN grid_worker w ON w.id = g.worker_id
        WHERE g.id = :grid AND w.status = 'on_duty' AND w.geom IS NOT NULL
    """), {"grid": place.grid_id, "lon": place.lon, "lat": place.lat}).first()
    if row is None:
        return None
    return WorkerCandidate(worker_id=row.id, code=row.code, name=row.name, lon=row.lon, lat=row.lat,
                           straight_m=row.straight_m, own_grid=True)


def worker_candidates(conn: Connection, event_id: int, *, limit: int = 5,
                      network_top: int = 3) -> list[WorkerCandidate]:
    """Who to send to an event, best first: its own grid's free worker, then the nearest.

    Raises
    ------
    NotFound
        No such event.
    """
    place = _place(conn, event_id)
    if place.lon is None:
        return []
    own = _own_grid_worker(conn, place)
    others = nearest_workers(conn, place.lon, place.lat, limit=limit - (own is not None), network_top=network_top,
                             exclude=(own.worker_id,) if own else ())
    if own is None:
        return others
    if network_top > 0:
        own = own.model_copy(update={"network_m": road_network(conn).distance((place.lon, place.lat),
                                                                             (own.lon, own.lat))})
    return [own, *others]


def _book(conn: Connection, event_id: int, worker: WorkerCandidate, actor: str, note: str | None) -> int:
    """Mark the worker busy and record the assignment, or raise Conflict; inside a savepoint."""
    with conn.begin_nested():
        took = conn.execute(
            text("UPDATE grid_worker SET status = 'busy', updated_at = now()"
                 " WHERE id = :w AND status = 'on_duty' RETURNING id"),
            {"w": worker.worker_id},
        ).first()
        if took is None:
            status = conn.execute(text("SELECT status FROM grid_worker WHERE id = :w"),
                                  {"w": worker.worker_id}).scalar()
            if status is None:
                raise NotFound("no worker {worker_id}", worker_id=worker.worker_id)
            raise Conflict("worker {worker} is {worker_status}, not free: another dispatch took them first; choose "
                           "another worker", worker=worker.code, worker_status=status)
        try:
            with conn.begin_nested():
                assignment_id = conn.execute(
                    text("INSERT INTO assignment (event_id, kind, worker_id, assigned_by, straight_m, network_m, note)"
                         " VALUES (:e, 'worker', :w, :actor, :s, :n, :note) RETURNING id"),
                    {"e": event_id, "w": worker.worker_id, "actor": actor, "s": worker.straight_m,
                     "n": worker.network_m, "note": note},
                ).scalar_one()
        except IntegrityError as exc:
            raise Conflict("worker {worker} already has an active assignment", worker=worker.code) from exc
    return assignment_id


def dispatch_worker(conn: Connection, event_id: int, *, actor: str, worker_id: int | None = None,
                    note: str | None = None, at: datetime | None = None) -> Dispatched:
    """Send a worker to an event and mark them busy; the event moves to ``dispatched``.

    With ``worker_id`` that worker is booked or a Conflict is raised; without,
    the candidates of :func:`worker_candidates` are tried in order and the
    first still free is booked. A reported event is accepted on the way; an
    event already dispatched or in progress gets a further worker and keeps
    its state.

    Raises
    ------
    NotFound
        No such event or worker.
    Conflict
        The event is a duplicate (dispatch its root), the worker is not free,
        or no free worker is left.
    InvalidTransition
        The event is in a state that is not dispatched from (handled, closed…).
    """
    at = at or datetime.now(UTC)
    place = _place(conn, event_id)
    if place.duplicate_of_id is not None:
        raise Conflict("event {event_id} is a duplicate of event {root_id}: dispatch that one", event_id=event_id,
                       root_id=place.duplicate_of_id)
    if place.state not in _DISPATCHABLE + _REINFORCEABLE:
        raise InvalidTransition(event_id, place.state, "dispatched", ())
    if worker_id is not None:
        candidates = [_named_worker(conn, worker_id, place)]
    else:
        candidates = worker_candidates(conn, event_id)
        if not candidates:
            raise Conflict("no worker is on duty and free near event {event_id}", event_id=event_id)
    booked, assignment_id, refusals = None, None, []
    for candidate in candidates:
        try:
            assignment_id = _book(conn, event_id, candidate, actor, note)
        except Conflict as err:
            if worker_id is not None:
                raise
            refusals.append(err)
            continue
        booked = candidate
        break
    if booked is None:
        raise Conflict("every candidate for event {event_id} was taken meanwhile: {refusals}", event_id=event_id,
                       refusals=tuple(refusals))
    from_state = place.state
    if place.state == "reported":
        transition(conn, event_id, "accepted", actor=actor, note="accepted on dispatch", at=at)
    if place.state in _DISPATCHABLE:
        transition(conn, event_id, "dispatched", actor=actor, note=note or f"worker {booked.code}", at=at)
    audit(conn, actor=actor, action="dispatch_worker", entity="event", entity_id=event_id,
          detail={"worker_id": booked.worker_id, "worker": booked.code, "own_grid": booked.own_grid,
                  "straight_m": booked.straight_m, "network_m": booked.network_m, "assignment_id": assignment_id})
    state = "dispatched" if place.state in _DISPATCHABLE else place.state
    return Dispatched(event_id=event_id, assignment_id=assignment_id, worker=booked, from_state=from_state,
                      state=state)


def _named_worker(conn: Connection, worker_id: int, place: _Place) -> WorkerCandidate:
    row = conn.execute(text("""
        SELECT w.id, w.code, w.name, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat,
               ST_Distance(w.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) AS straight_m,
               EXISTS (SELECT 1 FROM grid g WHERE g.id = :grid AND g.worker_id = w.id) AS own
        FROM grid_worker w WHERE w.id = :w
    """), {"w": worker_id, "lon": place.lon, "lat": place.lat, "grid": place.grid_id}).first()
    if row is None:
        raise NotFound("no worker {worker_id}", worker_id=worker_id)
    return WorkerCandidate(worker_id=row.id, code=row.code, name=row.name, lon=row.lon or 0.0, lat=row.lat or 0.0,
                           straight_m=row.straight_m if row.straight_m is not None else 0.0, own_grid=row.own)


def visible_cameras(conn: Connection, lon: float, lat: float, *, limit: int = 10) -> list[CameraHit]:
    """Online cameras that can see a point, nearest first.

    A camera sees the point when it is within ``range_m`` and, for bullet,
    checkpoint and e-police cameras, the bearing from the camera to the point
    lies within ``heading_deg ± fov_deg / 2``; dome and PTZ cameras turn all
    round.
    """
    rows = conn.execute(sql("visible_cameras"), {"lon": lon, "lat": lat, "limit": limit})
    return [CameraHit(camera_id=r.id, code=r.code, name=r.name, kind=r.kind, distance_m=r.distance_m,
                      bearing_deg=r.bearing_deg, heading_deg=r.heading_deg, fov_deg=r.fov_deg, range_m=r.range_m)
            for r in rows]


def link_cameras(conn: Connection, event_id: int, *, actor: str, limit: int = 4) -> list[CameraHit]:
    """Attach the cameras that see an event to it (for the wall), recorded as camera assignments."""
    place = _place(conn, event_id)
    if place.lon is None:
        return []
    hits = visible_cameras(conn, place.lon, place.lat, limit=limit)
    if hits:
        conn.execute(
            text("INSERT INTO assignment (event_id, kind, camera_id, assigned_by, straight_m)"
                 " VALUES (:e, 'camera', :c, :actor, :d)"),
            [{"e": event_id, "c": h.camera_id, "actor": actor, "d": h.distance_m} for h in hits],
        )
    audit(conn, actor=actor, action="link_cameras", entity="event", entity_id=event_id,
          detail={"cameras": [h.code for h in hits]})
    return hits


def nearest_resources(conn: Connection, lon: float, lat: float, kinds: list[str] | tuple[str, ...], *,
                      per_kind: int = 1) -> list[ResourceHit]:
    """The nearest ``per_kind`` resources of each kind, in the order the kinds are given."""
    if not kinds:
        return []
    rows = conn.execute(sql("nearest_resources"),
                        {"lon": lon, "lat": lat, "kinds": list(kinds), "per_kind": per_kind})
    return [ResourceHit(resource_id=r.id, code=r.code, name=r.name, kind=r.kind, capacity=r.capacity,
                        distance_m=r.distance_m) for r in rows]


def dispatch_resources(conn: Connection, event_id: int, *, actor: str, per_kind: int = 1) -> list[ResourceHit]:
    """Call the nearest emergency resources of the kinds the event's leaf class names.

    Leaves outside 突发事件 that name no resource kinds get none (an empty list).

    Raises
    ------
    NotFound
        No such event.
    Conflict
        The event is a duplicate: call resources for its root.
    """
    place = _place(conn, event_id)
    if place.duplicate_of_id is not None:
        raise Conflict("event {event_id} is a duplicate of event {root_id}: dispatch that one", event_id=event_id,
                       root_id=place.duplicate_of_id)
    leaf = current_taxonomy(conn).leaves.get(place.category_code)
    if leaf is None or not leaf.resource_kinds or place.lon is None:
        return []
    hits = nearest_resources(conn, place.lon, place.lat, leaf.resource_kinds, per_kind=per_kind)
    if hits:
        conn.execute(
            text("INSERT INTO assignment (event_id, kind, resource_id, assigned_by, straight_m)"
                 " VALUES (:e, 'resource', :r, :actor, :d)"),
            [{"e": event_id, "r": h.resource_id, "actor": actor, "d": h.distance_m} for h in hits],
        )
    audit(conn, actor=actor, action="dispatch_resources", entity="event", entity_id=event_id,
          detail={"resources": [h.code for h in hits], "kinds": list(leaf.resource_kinds)})
    return hits
