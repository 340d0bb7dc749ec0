"""Intake: every channel's events into one register, once.

The same problem reaches the command centre from several channels (grid
patrol, the 12345 hotline, digital city management, video analytics, events a
grid settles itself); each sends its own id. Intake is idempotent on
``(channel, external_id)``: a repeat answers with the first call's event and
writes nothing — when it says the same; a repeat with another payload (class,
place, time, text) is a :class:`~layers.errors.Conflict` naming the first
event, since answering as if it had been taken would lose what it says.
A new event is classified (its class name resolved to a leaf),
located and routed (grid, community, street), given its department, priority
and deadline (working hours of the taxonomy's calendar), checked for an open
duplicate of the same leaf nearby, and stored with its first history row and
an audit row, all in the caller's transaction. An event that cannot be
classified or located is refused before anything is written.

A point event costs one round trip: one statement looks up (repeat, routing,
duplicate, whether the taxonomy used is still current) and, when the lookup
allows, writes the event with its history and audit rows. A burst from a gateway goes through
:func:`intake_many`, which does the same for the whole batch in two
statements and finds duplicates inside the batch in Python.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from command.audit import sql
from command.duplicates import find_duplicate, pad_degrees
from command.routing import Location, locate
from command.taxonomy import Leaf, Taxonomy, current_taxonomy, last_taxonomy
from command.workhours import Deadline
from layers import models as m
from layers.errors import Conflict, DatabaseError, LoadError

__all__ = ["EventIn", "IntakeResult", "CHANNEL_SOURCES", "PlausibleReportTimes", "intake", "intake_many", "fingerprint"]

log = logging.getLogger(__name__)

#: the alias source a channel's class names are looked up in first
CHANNEL_SOURCES = {"hotline": "12345", "city_mgmt": "dcm"}


@dataclass(frozen=True)
class PlausibleReportTimes:
    """When a live channel's event may say it was reported: not before ``earliest``, not past now + ``skew``.

    Why: a time in 1900 or 2099 is a clock or a gateway gone wrong, and it is
    not harmless — a deadline counted from 2099 is never overdue, one from
    9999 does not fit the calendar at all. A history load (old records) does
    not pass through here.
    """

    earliest: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    skew: timedelta = timedelta(minutes=5)

    def check(self, events: list[EventIn], *, now: datetime | None = None) -> None:
        """Raise LoadError naming ``reported_at`` (and the index, for several) of the first time outside."""
        latest = (now or datetime.now(UTC)) + self.skew
        for i, e in enumerate(events):
            at = e.reported_at
            if at is None or self.earliest <= at <= latest:
                continue
            why = ("reported_at {at} is before {earliest}: is the sender's clock right?" if at < self.earliest else
                   "reported_at {at} is more than {seconds:.0f} s in the future: is the sender's clock right?")
            raise LoadError(why, at=at.isoformat(), earliest=self.earliest.date().isoformat(),
                            seconds=self.skew.total_seconds(), source=f"{e.channel}:{e.external_id}",
                            feature=i if len(events) > 1 else None, field="reported_at")


class EventIn(BaseModel):
    """An incoming event, whatever the channel.

    Parameters
    ----------
    channel
        One of ``self_settled``, ``patrol``, ``hotline``, ``city_mgmt``, ``video``.
    external_id
        The sending system's id; with the channel it makes intake idempotent.
    category
        A leaf code, a leaf name or a name/code the sending system uses (the
        district's aliases, ``gridwall taxonomy alias``, then the shipped
        ``taxonomy_aliases.json``); ``type/main/sub`` paths are accepted.
    category_source
        The system whose alias table to try first; by default ``12345`` for
        the hotline and ``dcm`` for digital city management.
    lon, lat
        A WGS 84 point, when the channel has one (patrol, video).
    address
        An address to match against the buildings layer.
    community, street
        Name or code of the community / street: all a hotline record may have.
    reported_at
        When the channel received it (aware); now when left out.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    channel: str = Field(pattern="^(" + "|".join(m.EVENT_CHANNELS) + ")$")
    external_id: str = Field(min_length=1, max_length=200)
    category: str = Field(min_length=1, max_length=200)
    category_source: str | None = None
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    address: str | None = Field(default=None, max_length=500)
    community: str | None = None
    street: str | None = None
    title: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=5000)
    reported_at: datetime | None = None

    @model_validator(mode="after")
    def _location_and_time(self) -> EventIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither")
        if self.lon is None and not (self.address or self.community or self.street):
            raise ValueError("an event needs a location: a point, an address, a community or a street")
        if self.reported_at is not None and self.reported_at.tzinfo is None:
            raise ValueError("reported_at must carry a time zone")
        return self

    @property
    def source(self) -> str | None:
        """The alias source to try first."""
        return self.category_source or CHANNEL_SOURCES.get(self.channel)


class IntakeResult(BaseModel):
    """What intake registered, or found already registered."""

    id: int
    code: str
    created: bool
    category_code: str
    duplicate_of: int | None
    location_kind: str | None
    grid_id: int | None
    community_id: int | None
    street_id: int | None
    department: str | None
    priority: int
    deadline_at: datetime | None


def fingerprint(event: EventIn) -> str:
    """SHA-256 of what the sender said, beyond its ids: two sends of one event have the same one.

    Times are compared as instants (``+08:00`` and ``Z`` spellings of one
    moment are the same payload). Kept in the intake audit row's ``payload``.
    """
    said = event.model_dump(mode="json", exclude={"channel", "external_id"})
    if event.reported_at is not None:
        said["reported_at"] = event.reported_at.astimezone(UTC).isoformat()
    return hashlib.sha256(json.dumps(said, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _same_payload(first_id: int, first_code: str, first_payload: str | None, event: EventIn,
                  feature: int | None = None) -> None:
    """Raise Conflict when a repeat of ``(channel, external_id)`` says something else than the first send.

    Events registered before payloads were kept (no ``payload``) are taken as the same.
    """
    if first_payload is None or first_payload == fingerprint(event):
        return
    raise Conflict("{source} was registered as event {event_code} with a different payload; a "
                   "repeat must carry the same payload (a new event needs a new external_id)",
                   source=f"{event.channel}:{event.external_id}", field="external_id", feature=feature,
                   event_id=first_id, event_code=first_code)


def _existing(conn: Connection, channel: str, external_id: str, event: EventIn | None = None,
              feature: int | None = None) -> IntakeResult | None:
    """The first registration of ``(channel, external_id)``; Conflict when ``event`` says something else."""
    row = conn.execute(
        text("SELECT id, code, category_code, duplicate_of_id, location_kind, grid_id, community_id, street_id,"
             " department, priority, deadline_at,"
             " (SELECT a.detail ->> 'payload' FROM audit_log a WHERE a.entity = 'event' AND a.entity_id = e.id::text"
             "  AND a.action IN ('intake', 'intake_duplicate') ORDER BY a.id LIMIT 1) AS payload"
             " FROM event e WHERE channel = :c AND external_id = :x"),
        {"c": channel, "x": external_id},
    ).first()
    if row is None:
        return None
    if event is not None:
        _same_payload(row.id, row.code, row.payload, event, feature)
    return IntakeResult(
        id=row.id, code=row.code, created=False, category_code=row.category_code, duplicate_of=row.duplicate_of_id,
        location_kind=row.location_kind, grid_id=row.grid_id, community_id=row.community_id,
        street_id=row.street_id, department=row.department, priority=row.priority, deadline_at=row.deadline_at,
    )


def intake(conn: Connection, event: EventIn, *, actor: str = "system",
           taxonomy: Taxonomy | None = None, reporter: str | None = None) -> IntakeResult:
    """Register one event (or find it registered); the caller commits.

    Parameters
    ----------
    conn
        A connection in the caller's transaction (or in autocommit: a point
        event is written by one statement, atomic on its own).
    event
        The incoming event.
    actor
        Who registers it (an operator, or the channel's gateway).
    taxonomy
        The taxonomy to resolve the class with, when the caller already holds
        it (batch intake); by default the one this process last found current.
        Either way a point event is only written when it is still the current
        one, else the current one is read and the event resolved again.
    reporter
        The code of the grid worker whose phone files it, recorded as the
        event's ``reporter_worker_id`` (who may settle it itself); ``None``
        for everyone else. A repeat keeps the first registration's.

    Returns
    -------
    IntakeResult
        ``created`` is False when the same ``(channel, external_id)`` was
        registered before: the first call's event is returned unchanged.

    Raises
    ------
    LoadError
        With the field at fault: an unknown class, a point outside the
        district, a location that matches nothing, a ``reported_at`` the
        calendar cannot count a deadline from. Nothing is written.
    Conflict
        The ``(channel, external_id)`` was registered with another payload
        (``detail`` holds the first event's ``event_id`` and ``event_code``).
    """
    reported_at = event.reported_at or datetime.now(UTC)
    if event.lon is not None and event.lat is not None:
        return _intake_point(conn, event, actor, taxonomy or last_taxonomy(conn), reported_at, reporter)
    taxonomy = taxonomy or current_taxonomy(conn)
    where = f"{event.channel}:{event.external_id}"
    leaf, refusal = _resolve(taxonomy, event)
    found = _existing(conn, event.channel, event.external_id, event)
    if found is not None:
        return found
    if refusal is not None:
        raise LoadError(refusal.template, **refusal.params, source=where, field=refusal.field) from refusal
    try:
        place = locate(conn, address=event.address, community=event.community, street=event.street)
    except LoadError as err:
        raise LoadError(err.template, **err.params, source=where, field=err.field) from err
    root = None
    if place.lon is not None:
        root = find_duplicate(conn, leaf, place.lon, place.lat, reported_at)
    deadline = _deadline(taxonomy, leaf, reported_at, where)
    return _insert(conn, event, leaf.code, leaf.department, leaf.priority, place, reported_at, deadline, root,
                   actor, reporter)


def _resolve(taxonomy: Taxonomy, event: EventIn) -> tuple[Leaf | None, LoadError | None]:
    try:
        return taxonomy.resolve(event.category, event.source), None
    except LoadError as err:
        return None, err


_TAXONOMY_TRIES = 3  # a taxonomy loaded between our read and our write, twice over, is a load storm


def _intake_point(conn: Connection, event: EventIn, actor: str, taxonomy: Taxonomy,
                  reported_at: datetime, reporter: str | None = None) -> IntakeResult:
    """A point event in one round trip: intake_point.sql looks up and writes in one statement."""
    where = f"{event.channel}:{event.external_id}"
    for _ in range(_TAXONOMY_TRIES):
        leaf, refusal = _resolve(taxonomy, event)
        params = _point_params(event, leaf, reported_at)
        due = None if leaf is None else _deadline(taxonomy, leaf, reported_at, where)
        deadline = due.at if due else None
        params.update(
            accept=leaf is not None, taxonomy_id=taxonomy.version_id, checksum=taxonomy.checksum,
            alias_rev=taxonomy.district_rev, calendar_rev=taxonomy.calendar_rev,
            category_code=leaf.code if leaf else None, title=event.title, description=event.description,
            address=event.address, department=leaf.department if leaf else None,
            priority=leaf.priority if leaf else None, reported_at=reported_at, deadline_at=deadline,
            location_kind="point", source_class=event.category, actor=actor, note=f"via {event.channel}",
            reporter=reporter,
            detail=json.dumps({"channel": event.channel, "external_id": event.external_id,
                               "category": event.category, "leaf": leaf.code if leaf else None,
                               "location_kind": "point", "duplicate_of": None, "building_id": None,
                               "payload": fingerprint(event), **_provisional(due)}, ensure_ascii=False),
        )
        hit = conn.execute(sql("intake_point"), params).one()
        if hit.existing_id is not None:  # a repeat: answer with the first registration
            return _existing(conn, event.channel, event.external_id, event)
        if not hit.taxonomy_ok:  # another version was made current, or an alias changed, since this process read
            taxonomy = current_taxonomy(conn)
            continue
        if refusal is not None:
            raise LoadError(refusal.template, **refusal.params, source=where, field=refusal.field) from refusal
        if not hit.inside:
            raise LoadError("the point ({lon:.6f}, {lat:.6f}) is outside the district", lon=event.lon,
                            lat=event.lat, source=where, field="location")
        if hit.new_id is None:  # a concurrent intake of the same (channel, external_id) won
            return _existing(conn, event.channel, event.external_id, event)
        log.debug("event %s registered (%s)", hit.new_code, leaf.code)
        return IntakeResult(
            id=hit.new_id, code=hit.new_code, created=True, category_code=leaf.code, duplicate_of=hit.root_id,
            location_kind="point", grid_id=hit.grid_id, community_id=hit.community_id, street_id=hit.street_id,
            department=leaf.department, priority=leaf.priority, deadline_at=deadline)
    raise DatabaseError(f"the current taxonomy changed {_TAXONOMY_TRIES} times while {where} was taken in; "
                        "try again")


def _deadline(taxonomy: Taxonomy, leaf: Leaf, reported_at: datetime, where: str,
              feature: int | None = None) -> Deadline:
    """The leaf's deadline from ``reported_at``; LoadError on ``reported_at`` when the calendar cannot hold it.

    A deadline running into a year the calendar does not know is counted on
    the weekly rhythm and marked provisional (see :func:`_provisional`): the
    event is filed all the same, since losing a 12345 call because nobody
    loaded next year's holidays is worse than a deadline a holiday too early.
    """
    try:
        due = taxonomy.calendar.deadline(reported_at, leaf.deadline_hours, clock_hours=leaf.calendar_hours)
    except (OverflowError, ValueError) as exc:  # 9999-12-31 plus a few hours is past the end of the calendar
        raise LoadError("reported_at {at} leaves no room for a deadline", at=reported_at.isoformat(), source=where,
                        feature=feature, field="reported_at") from exc
    if due.provisional:
        log.warning("%s: deadline %s is provisional: the working calendar does not know %s "
                    "(gridwall calendar load FILE.csv)", where, due.at.isoformat(), due.unknown_year)
    return due


def _provisional(due: Deadline | None) -> dict:
    """What the audit row says of a provisional deadline (nothing for a counted one)."""
    if due is None or not due.provisional:
        return {}
    return {"deadline_provisional": f"counted on weekdays only: the working calendar does not know "
                                    f"{due.unknown_year} (load it with: gridwall calendar load FILE.csv)"}


def _point_params(event: EventIn, leaf: Leaf | None, at: datetime) -> dict:
    matching = leaf is not None and leaf.dup_radius_m > 0 and leaf.dup_window_hours > 0
    return {
        "channel": event.channel, "external_id": event.external_id, "lon": event.lon, "lat": event.lat,
        "code": leaf.code if matching else None, "at": at,
        "window_s": leaf.dup_window_hours * 3600.0 if matching else 0.0,
        "radius_m": leaf.dup_radius_m if matching else 0.0,
        "pad_deg": pad_degrees(leaf.dup_radius_m, event.lat) if matching else 0.0,
    }


def _insert(conn, event: EventIn, code: str, department: str, priority: int, place: Location,
            reported_at: datetime, due: Deadline, root: int | None, actor: str,
            reporter: str | None = None) -> IntakeResult:
    deadline = due.at
    detail = {"channel": event.channel, "external_id": event.external_id, "category": event.category,
              "leaf": code, "location_kind": place.kind, "duplicate_of": root, "building_id": place.building_id,
              "payload": fingerprint(event), **_provisional(due)}
    row = conn.execute(sql("insert_event"), {
        "channel": event.channel, "external_id": event.external_id, "category_code": code, "title": event.title,
        "description": event.description, "address": event.address, "grid_id": place.grid_id,
        "community_id": place.community_id, "street_id": place.street_id, "department": department,
        "priority": priority, "reported_at": reported_at, "deadline_at": deadline, "duplicate_of_id": root,
        "lon": place.lon, "lat": place.lat, "location_kind": place.kind, "source_class": event.category,
        "actor": actor, "note": f"via {event.channel}" + (f", duplicate of event {root}" if root else ""),
        "reporter": reporter,
        "detail": json.dumps(detail, ensure_ascii=False),
    }).first()
    if row is None:  # a concurrent intake of the same (channel, external_id) won
        found = _existing(conn, event.channel, event.external_id, event)
        assert found is not None
        return found
    log.debug("event %s registered (%s)", row.code, code)
    return IntakeResult(
        id=row.id, code=row.code, created=True, category_code=code, duplicate_of=root, location_kind=place.kind,
        grid_id=place.grid_id, community_id=place.community_id, street_id=place.street_id, department=department,
        priority=priority, deadline_at=deadline,
    )


def intake_many(conn: Connection, events: list[EventIn], *, actor: str = "system",
                taxonomy: Taxonomy | None = None, reporter: str | None = None) -> list[IntakeResult]:
    """Register a burst of events in a few round trips, with the same rules as :func:`intake`.

    Point events are looked up together (repeats, routing, stored duplicates:
    one query), checked for duplicates among themselves in order, and written
    together (one statement with their history and audit rows), so a burst
    from video analytics or a hotline gateway costs a handful of round trips,
    not several per event. A batch holding events without a point is taken
    one by one. Either every event is registered or none: the first refusal is
    raised with its position in the batch (``LoadError.feature``). Should a
    concurrent intake register one of the same ids meanwhile, the batch is
    taken again one by one. ``reporter`` is :func:`intake`'s, for every event.
    """
    taxonomy = taxonomy or current_taxonomy(conn)
    if not events:
        return []
    if any(e.lon is None or e.lat is None for e in events):
        return [_one_of_many(conn, i, e, actor, taxonomy, reporter) for i, e in enumerate(events)]
    try:
        with conn.begin_nested():
            return _burst(conn, events, actor, taxonomy, reporter)
    except IntegrityError:
        log.info("a concurrent intake overlapped the batch; taking it one by one")
        return [_one_of_many(conn, i, e, actor, taxonomy, reporter) for i, e in enumerate(events)]


def _one_of_many(conn, index: int, event: EventIn, actor: str, taxonomy: Taxonomy,
                 reporter: str | None = None) -> IntakeResult:
    try:
        return intake(conn, event, actor=actor, taxonomy=taxonomy, reporter=reporter)
    except LoadError as err:
        raise LoadError(err.template, **err.params, source=err.source, feature=index, field=err.field) from err


def _burst(conn: Connection, events: list[EventIn], actor: str, taxonomy: Taxonomy,
           reporter: str | None = None) -> list[IntakeResult]:
    now = datetime.now(UTC)
    at = [e.reported_at or now for e in events]
    leaves: list[Leaf | None] = []
    for i, e in enumerate(events):
        try:
            leaves.append(taxonomy.resolve(e.category, e.source))
        except LoadError as err:
            leaves.append(None)
            refused = LoadError(err.template, **err.params, source=f"{e.channel}:{e.external_id}", feature=i,
                                field=err.field)
            if not _registered(conn, e):
                raise refused from err
    params = [_point_params(e, leaf, t) for e, leaf, t in zip(events, leaves, at)]
    hits = conn.execute(sql("intake_points"), {k: [p[k] for p in params] for k in params[0]}).all()
    seen: dict[tuple[str, str], int] = {}  # (channel, external id) -> batch index of its first appearance
    fresh: list[int] = []  # batch indexes to insert
    root_of: dict[int, tuple[int, bool]] = {}  # batch index -> (root: event id or batch index, root is stored)
    for i, (e, leaf, hit) in enumerate(zip(events, leaves, hits)):
        key = (e.channel, e.external_id)
        if hit.existing_id is not None or key in seen:
            if key in seen:
                first = events[seen[key]]
                if fingerprint(first) != fingerprint(e):
                    raise Conflict("{source} comes twice in the batch (events {first} and {feature}) "
                                   "with different payloads", source=f"{e.channel}:{e.external_id}",
                                   field="external_id", feature=i, first=seen[key])
            seen.setdefault(key, i)
            continue
        seen[key] = i
        if not hit.inside:
            raise LoadError("the point ({lon:.6f}, {lat:.6f}) is outside the district", lon=e.lon, lat=e.lat,
                            source=f"{e.channel}:{e.external_id}", feature=i, field="location")
        if hit.root_id is not None:
            root_of[i] = (hit.root_id, True)
        elif (j := _earlier_match(events, leaves, at, fresh, i)) is not None:
            root_of[i] = root_of.get(j, (j, False))
        fresh.append(i)
    ids = list(conn.execute(text("SELECT nextval(pg_get_serial_sequence('event', 'id')) FROM generate_series(1, :n)"),
                            {"n": len(fresh)}).scalars()) if fresh else []
    id_of = dict(zip(fresh, ids))
    counts: dict[int, int] = {}
    for i, (root, stored) in root_of.items():
        if not stored:
            counts[root] = counts.get(root, 0) + 1
    rows = []
    for i in fresh:
        e, leaf, hit = events[i], leaves[i], hits[i]
        root, stored = root_of.get(i, (None, False))
        dup = root if stored or root is None else id_of[root]
        due = _deadline(taxonomy, leaf, at[i], f"{e.channel}:{e.external_id}", i)
        rows.append(dict(
            id=id_of[i], channel=e.channel, external_id=e.external_id, category_code=leaf.code, title=e.title,
            description=e.description, address=e.address, grid_id=hit.grid_id, community_id=hit.community_id,
            street_id=hit.street_id, department=leaf.department, priority=leaf.priority, reported_at=at[i],
            deadline_at=due.at, duplicate_of_id=dup, duplicate_count=counts.get(i, 0), lon=e.lon, lat=e.lat,
            source_class=e.category, stored_root=stored and dup is not None,
            note=f"via {e.channel}" + (f", duplicate of event {dup}" if dup else ""),
            detail=json.dumps({"channel": e.channel, "external_id": e.external_id, "category": e.category,
                               "leaf": leaf.code, "location_kind": "point", "duplicate_of": dup,
                               "building_id": None, "payload": fingerprint(e), **_provisional(due)},
                              ensure_ascii=False),
        ))
    codes = {}
    if rows:
        codes = dict(conn.execute(sql("insert_events"),
                                  {**{k: [r[k] for r in rows] for k in rows[0]}, "actor": actor,
                                   "reporter": reporter}).all())
    by_index = {i: r for i, r in zip(fresh, rows)}
    out = []
    for i, e in enumerate(events):
        first = seen[(e.channel, e.external_id)]
        if first in by_index and first == i:
            r = by_index[i]
            out.append(IntakeResult(
                id=r["id"], code=codes[r["id"]], created=True, category_code=r["category_code"],
                duplicate_of=r["duplicate_of_id"], location_kind="point", grid_id=r["grid_id"],
                community_id=r["community_id"], street_id=r["street_id"], department=r["department"],
                priority=r["priority"], deadline_at=r["deadline_at"]))
        elif first in by_index:
            out.append(out[first].model_copy(update={"created": False}))
        else:
            out.append(_existing(conn, e.channel, e.external_id, e, i))
    return out


def _registered(conn: Connection, event: EventIn) -> bool:
    return _existing(conn, event.channel, event.external_id) is not None


def _earlier_match(events: list[EventIn], leaves: list[Leaf | None], at: list[datetime], fresh: list[int],
                   i: int) -> int | None:
    """The earliest event of the batch so far that event ``i`` duplicates (same leaf, radius, window)."""
    leaf = leaves[i]
    if leaf is None or leaf.dup_radius_m <= 0 or leaf.dup_window_hours <= 0:
        return None
    window = leaf.dup_window_hours * 3600.0
    best = None
    for j in fresh:
        if leaves[j] is None or leaves[j].code != leaf.code or abs((at[j] - at[i]).total_seconds()) > window:
            continue
        if _metres(events[i], events[j]) <= leaf.dup_radius_m and (best is None or (at[j], j) < (at[best], best)):
            best = j
    return best


def _metres(a: EventIn, b: EventIn) -> float:
    """Great-circle distance (haversine, mean earth radius): within a few metres of PostGIS' spheroid at 300 m."""
    la, lb = math.radians(a.lat), math.radians(b.lat)
    h = math.sin((lb - la) / 2) ** 2 + math.cos(la) * math.cos(lb) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))
