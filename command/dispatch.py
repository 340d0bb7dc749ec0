"""Dispatch: send the right worker, show the cameras that see it, call the resources.

Grid worker: the event's own grid's worker comes first when on duty and free
(they know the place, and the grid is theirs); otherwise the nearest on-duty
workers by straight line (GiST KNN), of which the first :data:`NETWORK_TOP` are
re-ranked by distance along the street network (:mod:`command.network`).
A position older than ``max_age_s`` (:data:`FIX_MAX_AGE_S` by default) says
where someone was, not where they are: such a worker ranks nobody and is
listed, when they staff the event's grid or area, as position unknown. An
event located only by a street or community (no point) goes to the workers
of that area's grids, not to whoever is nearest the area's centre.

一键派遣 (no worker named) is idempotent: while the event holds an active
worker assignment it is answered with that one (``already``) and nobody is
added; a second worker for the same event is sent by naming them. The event
row is locked first, so two presses at once are serialised too.

A worker is booked by one conditional update — ``status: on_duty → busy``
where it is still ``on_duty`` — in the operator's transaction. A second
operator booking the same worker waits on the row lock, then finds the worker
busy and gets a :class:`~layers.errors.Conflict`: one wins, never both. The
partial unique index on active assignments holds the same rule should any
other code path set a status by hand.

Cameras: those online that can see the point (:func:`visible_cameras`).
Emergency resources: the nearest free ones of each kind the leaf calls for.
A called resource is busy (offered to no other event) until released: when
the event's work ends (:func:`command.lifecycle.release_resources`) or on
request. Calling again tops each kind up to ``per_kind`` and so adds nothing
the second time; a partial unique index on active resource assignments keeps
two events from holding one resource at once.
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
    "FIX_MAX_AGE_S",
    "NETWORK_TOP",
    "WorkerCandidate",
    "CameraHit",
    "ResourceHit",
    "Dispatched",
    "nearest_workers",
    "workers_at",
    "worker_candidates",
    "dispatch_worker",
    "visible_cameras",
    "link_cameras",
    "nearest_resources",
    "dispatch_resources",
    "DISPATCH_STATES",
]

log = logging.getLogger(__name__)

#: seconds after which a worker's position is no longer used (2 h)
FIX_MAX_AGE_S = 2 * 3600.0
#: how many of the straight-line nearest are re-ranked by street distance
NETWORK_TOP = 10

_DISPATCHABLE = ("reported", "accepted", "returned", "reopened")
_REINFORCEABLE = ("dispatched", "in_progress")
#: states an event is sent a worker in: first sent (it moves to dispatched), or reinforced (it stays)
DISPATCH_STATES = _DISPATCHABLE + _REINFORCEABLE


class WorkerCandidate(BaseModel):
    """A free worker who could go, and how far they are (no position nor distance when it is stale)."""

    worker_id: int
    code: str
    name: str
    lon: float | None
    lat: float | None
    straight_m: float | None
    network_m: float | None = None
    own_grid: bool = False
    position_known: bool = True


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
    already: bool = False


class Dispatched(BaseModel):
    """The outcome of :func:`dispatch_worker`."""

    event_id: int
    assignment_id: int
    worker: WorkerCandidate
    from_state: str
    state: str
    already: bool = False


@dataclass(frozen=True)
class _Place:
    id: int
    state: str
    duplicate_of_id: int | None
    category_code: str
    lon: float | None
    lat: float | None
    grid_id: int | None
    has_point: bool
    area_id: int | None


def _place(conn: Connection, event_id: int, *, lock: bool = False) -> _Place:
    """Where the event is; with ``lock``, its row is locked first (until the transaction ends)."""
    if lock and conn.execute(text("SELECT id FROM event WHERE id = :id FOR UPDATE"), {"id": event_id}).first() is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    row = conn.execute(sql("event_place"), {"id": event_id}).first()
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    return _Place(row.id, row.state, row.duplicate_of_id, row.category_code, row.lon, row.lat, row.grid_id,
                  row.has_point, row.area_id)


def _candidate(row, *, own: bool | None = None, known: bool = True) -> WorkerCandidate:
    return WorkerCandidate(worker_id=row.id, code=row.code, name=row.name, lon=row.lon if known else None,
                           lat=row.lat if known else None, straight_m=row.straight_m if known else None,
                           own_grid=row.own if own is None else own, position_known=known)


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


def nearest_workers(conn: Connection, lon: float, lat: float, *, limit: int = 5, network_top: int = NETWORK_TOP,
                    exclude: tuple[int, ...] = (),
                    max_age_s: float | None = FIX_MAX_AGE_S) -> list[WorkerCandidate]:
    """On-duty workers with a fresh position nearest to a point: the ``network_top`` nearest by straight line
    re-ranked along the streets, then the rest by straight line; the first ``limit`` of that.

    Parameters
    ----------
    limit
        How many to return.
    network_top
        How many of the straight-line nearest to re-rank by network distance
        (0: straight line only, the bare KNN).
    exclude
        Worker ids to leave out (already proposed).
    max_age_s
        Positions sent longer ago than this are not used (``None``: any age).
    """
    if limit <= 0:
        return []
    looked = max(limit, network_top)  # the street-nearest of the ten closest may lie beyond the first ``limit``
    wanted = looked + len(exclude)
    rows = conn.execute(sql("nearest_workers"), {"lon": lon, "lat": lat, "limit": wanted, "pool": 3 * wanted + 10,
                                                  "max_age_s": max_age_s})
    found = [_candidate(r, own=False) for r in rows if r.id not in exclude][:looked]
    return _rerank(conn, lon, lat, found, network_top)[:limit]


def _local_workers(conn: Connection, grid_id: int | None, area_id: int | None, lon: float | None, lat: float | None,
                   max_age_s: float | None) -> list[WorkerCandidate]:
    """On-duty workers of a grid and of an area's grids (``local_workers.sql``), the grid's first."""
    rows = conn.execute(sql("local_workers"), {"grid": grid_id, "area": area_id, "max_age_s": max_age_s,
                                               "lon": lon, "lat": lat})
    return [_candidate(r, known=r.position_known) for r in rows]


def workers_at(conn: Connection, lon: float, lat: float, *, limit: int = 5, network_top: int = NETWORK_TOP,
               max_age_s: float | None = FIX_MAX_AGE_S) -> list[WorkerCandidate]:
    """Who could go to a point on the map: :func:`nearest_workers`, then the on-duty workers of the grid and
    community (else street) there whose position is unknown or stale, listed without a distance."""
    near = nearest_workers(conn, lon, lat, limit=limit, network_top=network_top, max_age_s=max_age_s)
    here = conn.execute(sql("point_place"), {"lon": lon, "lat": lat}).one()
    taken = {c.worker_id for c in near}
    unknown = [c for c in _local_workers(conn, here.grid_id, here.area_id, lon, lat, max_age_s)
               if not c.position_known and c.worker_id not in taken]
    return (near + unknown)[:limit]


def worker_candidates(conn: Connection, event_id: int, *, limit: int = 5, network_top: int = NETWORK_TOP,
                      max_age_s: float | None = FIX_MAX_AGE_S) -> list[WorkerCandidate]:
    """Who to send to an event, best first.

    With a point: its own grid's free worker, then the nearest with a fresh
    position (the first ``network_top`` re-ranked along the streets), then
    workers of its area whose position is unknown. Located only by a street
    or community: that area's workers, those with a fresh position first.

    Raises
    ------
    NotFound
        No such event.
    """
    place = _place(conn, event_id)
    local = _local_workers(conn, place.grid_id, place.area_id, place.lon if place.has_point else None,
                           place.lat if place.has_point else None, max_age_s)
    if not place.has_point:
        return local[:limit]
    own = [c for c in local if c.own_grid]
    near = nearest_workers(conn, place.lon, place.lat, limit=limit - len(own), network_top=network_top,
                           exclude=tuple(c.worker_id for c in own), max_age_s=max_age_s)
    if network_top > 0 and own and own[0].position_known:
        own = [own[0].model_copy(update={"network_m": road_network(conn).distance((place.lon, place.lat),
                                                                                  (own[0].lon, own[0].lat))})]
    taken = {c.worker_id for c in own + near}
    unknown = [c for c in local if not c.position_known and c.worker_id not in taken]
    return (own + near + unknown)[:limit]


def _book(conn: Connection, event_id: int, worker: WorkerCandidate, actor: str, note: str | None) -> int:
    """Mark the worker busy and record the assignment, or raise Conflict; inside a savepoint."""
    with conn.begin_nested():
        took = conn.execute(
            text("UPDATE grid_worker SET status = 'busy'"  # not updated_at: that is the time of the last fix
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
                    note: str | None = None, at: datetime | None = None,
                    max_age_s: float | None = FIX_MAX_AGE_S, network_top: int = NETWORK_TOP) -> Dispatched:
    """Send a worker to an event and mark them busy; the event moves to ``dispatched``.

    With ``worker_id`` that worker is booked or a Conflict is raised; without
    (一键派遣), an event that already holds an active worker assignment is
    answered with it (``already=True``) and nobody is added, else the
    candidates of :func:`worker_candidates` are tried in order and the first
    still free is booked. A reported event is accepted on the way; an event
    already dispatched or in progress given a named worker gets them as a
    further worker and keeps its state.

    Examples
    --------
    >>> first = dispatch_worker(conn, event_id, actor="operator:li")             # doctest: +SKIP
    >>> dispatch_worker(conn, event_id, actor="operator:li").already             # doctest: +SKIP
    True
    >>> dispatch_worker(conn, event_id, actor="operator:li", worker_id=7)        # doctest: +SKIP

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
    place = _place(conn, event_id, lock=True)
    if place.duplicate_of_id is not None:
        raise Conflict("event {event_id} is a duplicate of event {root_id}: dispatch that one", event_id=event_id,
                       root_id=place.duplicate_of_id)
    if place.state not in _DISPATCHABLE + _REINFORCEABLE:
        raise InvalidTransition(event_id, place.state, "dispatched", ())
    if worker_id is not None:
        candidates = [_named_worker(conn, worker_id, place, max_age_s)]
    else:
        held = _active_worker(conn, place)
        if held is not None:
            return held
        candidates = worker_candidates(conn, event_id, max_age_s=max_age_s, network_top=network_top)
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


def _named_worker(conn: Connection, worker_id: int, place: _Place, max_age_s: float | None) -> WorkerCandidate:
    row = conn.execute(sql("named_worker"), {
        "w": worker_id, "grid": place.grid_id, "max_age_s": max_age_s,
        "lon": place.lon if place.has_point else None, "lat": place.lat if place.has_point else None}).first()
    if row is None:
        raise NotFound("no worker {worker_id}", worker_id=worker_id)
    return _candidate(row, known=row.position_known)


def _active_worker(conn: Connection, place: _Place) -> Dispatched | None:
    """The event's active worker assignment as a dispatch answer (``already``), or None."""
    row = conn.execute(sql("active_worker"), {"e": place.id, "grid": place.grid_id}).first()
    if row is None:
        return None
    worker = WorkerCandidate(worker_id=row.id, code=row.code, name=row.name, lon=row.lon, lat=row.lat,
                             straight_m=row.straight_m, network_m=row.network_m, own_grid=row.own,
                             position_known=row.straight_m is not None)
    return Dispatched(event_id=place.id, assignment_id=row.assignment_id, worker=worker, from_state=place.state,
                      state=place.state, already=True)


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
    """Call the nearest free emergency resources of the kinds the event's leaf class names; they become busy.

    Each kind is topped up to ``per_kind`` resources held by the event, so a
    repeated call adds nothing; the answer lists what the event holds, those
    it held before marked ``already``. A resource another event took
    meanwhile is skipped. Leaves outside 突发事件 that name no resource kinds
    get none (an empty list).

    Raises
    ------
    NotFound
        No such event.
    Conflict
        The event is a duplicate: call resources for its root.
    """
    place = _place(conn, event_id, lock=True)
    if place.duplicate_of_id is not None:
        raise Conflict("event {event_id} is a duplicate of event {root_id}: dispatch that one", event_id=event_id,
                       root_id=place.duplicate_of_id)
    leaf = current_taxonomy(conn).leaves.get(place.category_code)
    if leaf is None or not leaf.resource_kinds or place.lon is None:
        return []
    held = [ResourceHit(resource_id=r.id, code=r.code, name=r.name, kind=r.kind, capacity=r.capacity,
                        distance_m=r.distance_m, already=True)
            for r in conn.execute(sql("event_resources"), {"e": event_id})]
    wanted = []
    for kind in leaf.resource_kinds:
        need = per_kind - sum(h.kind == kind for h in held)
        if need > 0:
            wanted += nearest_resources(conn, place.lon, place.lat, [kind], per_kind=need)
    taken = set()
    if wanted:
        taken = set(conn.execute(sql("call_resources"), {
            "e": event_id, "actor": actor, "ids": [h.resource_id for h in wanted],
            "ds": [h.distance_m for h in wanted]}).scalars())
    called = [h for h in wanted if h.resource_id in taken]
    if called:
        audit(conn, actor=actor, action="dispatch_resources", entity="event", entity_id=event_id,
              detail={"resources": [h.code for h in called], "kinds": list(leaf.resource_kinds)})
    order = {kind: i for i, kind in enumerate(leaf.resource_kinds)}
    return sorted(held + called, key=lambda h: (order.get(h.kind, len(order)), h.distance_m, h.resource_id))
