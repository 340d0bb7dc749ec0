"""The few reads and writes the service needs that the event loop does not offer.

Why here and not in ``command/``: these are views for HTTP clients — an
event with its history and assignments, where every worker is, a phone's
batch of fixes — not rules of the loop. Who sees which rows is
:mod:`api.access`'s. Long queries live in ``api/sql/*.sql``; every value is a
bound parameter.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import Connection, TextClause, text

from api.access import condition_params, condition_sql, event_options, reach, visible
from api.messages import render
from api.security import Principal
from command.addresses import address_forms, district_names, like_escaped
from command.audit import audit, strip_comments
from command.dispatch import (
    FIX_MAX_AGE_S,
    NETWORK_TOP,
    CameraHit,
    nearest_resources,
    visible_cameras,
    worker_candidates,
)
from command.intake import EventIn, IntakeResult, intake
from command.taxonomy import Taxonomy, current_taxonomy
from layers.errors import Conflict, LoadError, NotFound

__all__ = [
    "sql",
    "event_detail",
    "EventRow",
    "EventPage",
    "list_events",
    "search_words",
    "AuditRow",
    "AuditPage",
    "list_audit",
    "Fix",
    "update_positions",
    "workers_live",
    "worker_id_of",
    "BatchOutcome",
    "intake_batch",
    "visible_to",
    "visible_camera_ids",
    "suggestions",
]

_SQL = Path(__file__).parent / "sql"


_SEES = re.compile(r"/\*\s*sees\s+(\w+)\s+(\w+)\s*\*/")


@cache
def sql(name: str) -> TextClause:
    """A named query from ``api/sql`` (parameters always bound).

    A ``/* sees LAYER ALIAS */`` in the file is replaced by the access
    condition on that layer's rows (:func:`api.access.condition_sql`), whose
    ``:see_*`` parameters the caller binds with :func:`api.access.condition_params`.
    """
    source = strip_comments((_SQL / f"{name}.sql").read_text(encoding="utf-8"))
    return text(_SEES.sub(lambda found: condition_sql(found[1], found[2]), source))


def event_detail(conn: Connection, event_id: int, principal: Principal | None = None) -> dict:
    """An event's row (point as lon/lat), its history and its assignments.

    For a ``principal``, also what it may do with the event now
    (:func:`api.access.event_options`): ``moves``, each ``{"to_state",
    "note", "rating"}`` (what the move needs), and ``actions``.

    Raises
    ------
    NotFound
        No such event.
    """
    row = conn.execute(text("""
        SELECT e.id, e.code, e.channel, e.external_id, e.category_code, e.title, e.description, e.address,
               e.grid_id, e.community_id, e.street_id, e.department, e.priority, e.state, e.reported_at,
               e.deadline_at, e.closed_at, e.rating, e.duplicate_of_id, e.duplicate_count, e.location_kind,
               e.source_class, e.overdue_at, e.supervision_level, e.supervised_at,
               ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat
        FROM event e WHERE e.id = :id
    """), {"id": event_id}).mappings().first()
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    history = conn.execute(text(
        "SELECT from_state, to_state, at, actor, note FROM event_history WHERE event_id = :id ORDER BY at, id"
    ), {"id": event_id}).mappings().all()
    assignments = conn.execute(text("""
        SELECT a.id, a.kind, a.worker_id, w.code AS worker_code, a.camera_id, c.code AS camera_code,
               a.resource_id, r.code AS resource_code, a.assigned_at, a.assigned_by, a.released_at,
               a.straight_m, a.network_m, a.note
        FROM assignment a
        LEFT JOIN grid_worker w ON w.id = a.worker_id
        LEFT JOIN camera c ON c.id = a.camera_id
        LEFT JOIN resource r ON r.id = a.resource_id
        WHERE a.event_id = :id ORDER BY a.assigned_at, a.id
    """), {"id": event_id}).mappings().all()
    options = event_options(conn, principal, event_id) if principal is not None else {}
    return {**row, "history": [dict(h) for h in history], "assignments": [dict(a) for a in assignments],
            **options}


class EventRow(BaseModel):
    """One event of the register as listed (its history and assignments are at ``/events/{id}``)."""

    id: int
    code: str
    channel: str
    external_id: str
    category_code: str
    title: str | None
    address: str | None
    state: str
    priority: int
    department: str | None
    grid_id: int | None
    community_id: int | None
    street_id: int | None
    reported_at: datetime
    deadline_at: datetime | None
    closed_at: datetime | None
    duplicate_of_id: int | None
    duplicate_count: int
    location_kind: str | None
    supervision_level: int
    lon: float | None
    lat: float | None


class EventPage(BaseModel):
    """A page of events, newest first; ask again with ``next_offset`` while it is not null."""

    events: list[EventRow]
    limit: int
    offset: int
    next_offset: int | None


def search_words(conn: Connection, q: str | None) -> list[str]:
    """``ILIKE`` patterns of the words of ``q``, longest first (empty for no words).

    Each word is normalised as addresses are (:func:`command.addresses.address_forms`: full-width
    characters, the district's own prefixes), so ``开福区民亭街6号`` finds an event at ``民亭街6号附近``.
    """
    words = (q or "").split()
    if not words:
        return []
    districts = district_names(conn)
    keys = {(address_forms(w, districts) or [w])[0] for w in words}
    return [f"%{like_escaped(k)}%" for k in sorted(keys, key=lambda k: (-len(k), k))]


def list_events(conn: Connection, principal: Principal, *, since: datetime | None, until: datetime | None,
                limit: int, offset: int, q: str | None = None) -> EventPage:
    """Events reported in ``[since, until)`` (either end open) that ``principal`` may see, newest first.

    With ``q``, only those whose code, title, address or description hold each of its words
    (:func:`search_words`; the trigram index answers the longest). Which events a key sees is
    :mod:`api.access`'s rule, as for every other read.
    """
    patterns = search_words(conn, q)
    rows = conn.execute(sql("list_events"), {
        "since": since, "until": until, "limit": limit + 1, "offset": offset,
        "word": patterns[0] if patterns else None, "words": patterns or None,
        **condition_params(principal, "events"),
    }).mappings().all()
    more = len(rows) > limit
    return EventPage(events=[EventRow(**r) for r in rows[:limit]], limit=limit, offset=offset,
                     next_offset=offset + limit if more else None)


class Fix(BaseModel):
    """One position (and optionally status) reported by a worker's phone."""

    worker: str
    lon: float | None
    lat: float | None
    at: datetime
    status: str | None = None


def worker_id_of(conn: Connection, code: str) -> int:
    """The id of the worker with ``code``, or NotFound."""
    found = conn.execute(text("SELECT id FROM grid_worker WHERE code = :c"), {"c": code}).scalar()
    if found is None:
        raise NotFound("no grid worker '{code}'", code=code)
    return found


def update_positions(conn: Connection, fixes: list[Fix], *, actor: str) -> tuple[list[dict], int]:
    """Apply a batch of fixes (newest per worker wins); return the workers moved and how many fixes were stale.

    One audit row records the batch (who sent it, which workers, how many fixes).

    Raises
    ------
    LoadError
        With the index of the first fix naming no worker.
    """
    codes = sorted({f.worker for f in fixes})
    known = set(conn.execute(text("SELECT code FROM grid_worker WHERE code = ANY(:codes)"), {"codes": codes})
                .scalars())
    for i, fix in enumerate(fixes):
        if fix.worker not in known:
            raise LoadError("no grid worker '{code}'", code=fix.worker, source="fixes", feature=i, field="worker")
    moved = [dict(r) for r in conn.execute(sql("update_positions"), {
        "codes": [f.worker for f in fixes], "lons": [f.lon for f in fixes], "lats": [f.lat for f in fixes],
        "ats": [f.at for f in fixes], "statuses": [f.status for f in fixes],
    }).mappings()]
    audit(conn, actor=actor, action="positions", entity="grid_worker",
          entity_id=moved[0]["id"] if len(moved) == 1 else None,
          detail={"fixes": len(fixes), "workers": [m["code"] for m in moved][:100], "stale": len(codes) - len(moved)})
    return moved, len(codes) - len(moved)


def workers_live(conn: Connection, principal: Principal, *, status: str | None = None, code: str | None = None,
                 stale_s: float = 600.0) -> list[dict]:
    """Every worker's (or one's) last position, status, home grid and current event: where is everyone.

    Only the workers ``principal`` sees (:mod:`api.access`).
    """
    params = {"status": status, "code": code, "stale_s": stale_s, **condition_params(principal, "workers")}
    return [dict(r) for r in conn.execute(sql("workers_live"), params).mappings()]


class Refusal(BaseModel):
    """One event of a batch that intake refused, and why."""

    index: int
    message: str
    field: str | None


class BatchOutcome(BaseModel):
    """What a batch intake registered and refused, in the order sent."""

    results: list[IntakeResult]
    refused: list[Refusal]
    created: int


def intake_batch(conn: Connection, events: list[EventIn], *, actor: str, atomic: bool,
                 taxonomy: Taxonomy | None = None, reporter: str | None = None, lang: str = "zh") -> BatchOutcome:
    """Register a batch: all or nothing (``atomic``), or each event in its own savepoint.

    ``reporter`` is :func:`command.intake.intake`'s (the worker whose phone sends the batch). The refusals of a batch
    that is not atomic are said in ``lang``, as errors are.

    Raises
    ------
    LoadError
        ``atomic`` only: the first refusal, with the event's index as ``feature``.
    """
    taxonomy = taxonomy or current_taxonomy(conn)
    results, refused = [], []
    for i, event in enumerate(events):
        try:
            if atomic:
                results.append(intake(conn, event, actor=actor, taxonomy=taxonomy, reporter=reporter))
                continue
            with conn.begin_nested():
                results.append(intake(conn, event, actor=actor, taxonomy=taxonomy, reporter=reporter))
        except LoadError as err:
            if atomic:
                raise LoadError(err.template, **err.params, source=err.source, feature=i, field=err.field) from err
            refused.append(Refusal(index=i, message=render(err, lang), field=err.field))
        except Conflict as err:  # a reused external id with another payload: refused like any fault of its event
            if atomic:
                raise Conflict(err.template, source=err.source, feature=i, field=err.field, **err.detail) from err
            refused.append(Refusal(index=i, message=render(err, lang), field=err.field))
    return BatchOutcome(results=results, refused=refused, created=sum(r.created for r in results))


def visible_to(conn: Connection, principal: Principal, hits: list[CameraHit]) -> list[CameraHit]:
    """The cameras of ``hits`` the key sees (:mod:`api.access`)."""
    if reach(principal, "cameras").everything or not hits:
        return hits
    owners = dict(conn.execute(text("SELECT id, owner_dept FROM camera WHERE id = ANY(:ids)"),
                               {"ids": [h.camera_id for h in hits]}).all())
    return [h for h in hits if visible(principal, "cameras", {"owner_dept": owners.get(h.camera_id)})]


def suggestions(conn: Connection, principal: Principal, event_id: int, *, limit: int = 5,
                max_age_s: float | None = FIX_MAX_AGE_S, network_top: int = NETWORK_TOP) -> dict:
    """Whom and what to send to an event: workers best first, cameras that see it, the free resources its class
    needs."""
    place = conn.execute(text("SELECT category_code, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM event WHERE id = :id"),
                         {"id": event_id}).first()
    if place is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    workers = [w for w in worker_candidates(conn, event_id, limit=limit, max_age_s=max_age_s, network_top=network_top)
               if visible(principal, "workers", {"code": w.code})]
    if place.lon is None:
        return {"event_id": event_id, "workers": workers, "cameras": [], "resources": []}
    leaf = current_taxonomy(conn).leaves.get(place.category_code)
    kinds = list(leaf.resource_kinds) if leaf is not None else []
    return {"event_id": event_id, "workers": workers,
            "cameras": visible_to(conn, principal, visible_cameras(conn, place.lon, place.lat, limit=limit)),
            "resources": nearest_resources(conn, place.lon, place.lat, kinds)}


def visible_camera_ids(conn: Connection, principal: Principal) -> set[int] | None:
    """Ids of the cameras the key sees, or ``None`` when it sees them all."""
    if reach(principal, "cameras").everything:
        return None
    return set(conn.execute(text("SELECT id FROM camera c WHERE " + condition_sql("cameras", "c")),
                            condition_params(principal, "cameras")).scalars())


class AuditRow(BaseModel):
    """One row of the audit log: who did what, to which thing, when."""

    id: int
    at: datetime
    actor: str
    person: str | None = Field(default=None, description="The person's name, when a person signed in did it")
    action: str
    entity: str
    entity_id: str | None
    detail: dict | None


class AuditPage(BaseModel):
    """A page of the audit log, newest first; ask again with ``next_offset`` while it is not null."""

    items: list[AuditRow]
    next_offset: int | None


def list_audit(conn: Connection, *, actor: str | None = None, action: str | None = None, entity: str | None = None,
               entity_id: str | None = None, since: datetime | None = None, until: datetime | None = None,
               limit: int = 100, offset: int = 0) -> AuditPage:
    """Audit rows matching every filter given, newest first (``actor``: any part of it, case-insensitive)."""
    rows = conn.execute(sql("list_audit"), {
        "actor": f"%{like_escaped(actor)}%" if actor else None, "action": action or None, "entity": entity or None,
        "entity_id": entity_id or None, "since": since, "until": until, "limit": limit + 1, "offset": offset,
    }).mappings().all()
    return AuditPage(items=[AuditRow(**r) for r in rows[:limit]],
                     next_offset=offset + limit if len(rows) > limit else None)
