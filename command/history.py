"""History loads: a district's past events, as its source recorded them.

Why not intake: intake registers what happens now — a new event starts
``reported``, gets a deadline from now's calendar and is merged into an open
duplicate nearby. A district that starts on gridwall brings years of cases
that are already closed, with their own closing times and, often, the
source's own verdict on whether they closed on time (Shenzhen's
``INTIME_ARCHIVE_NUM``). Loading those through intake made every past event
open and overdue and merged separate cases (142 of Hangzhou's 228). So a
history load:

- classifies and routes each event exactly as intake does (the same taxonomy,
  aliases and routing: a point, an address, a community or street by name, a
  community not found falling back to its street, said in the report);
- keeps the source's state, closing time and on-time verdict (``on_time``:
  the KPIs use it instead of comparing the closing time with the deadline);
- computes the deadline from the taxonomy's calendar at the time reported
  (on weekdays alone for a year the calendar does not know, e.g. before 2004:
  counted per year in ``provisional_deadlines`` and the audit row);
- merges nothing: it reports the pairs intake would have merged;
- is idempotent on ``(channel, external_id)`` like intake.

Rows arrive validated (kinds and choices checked by the importer); faults that
need the store (an unknown class, a place outside the district or matching
nothing) raise a :class:`~layers.errors.LoadError` naming the feature, or are
returned per feature when the caller loads what it can.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Connection, text

from command.audit import audit, sql
from command.routing import Location, locate
from command.taxonomy import Leaf, current_taxonomy
from layers.errors import LoadError

__all__ = ["HistoryResult", "import_events", "HISTORY_FIELDS"]

log = logging.getLogger(__name__)

#: the fields a history row may carry (the importer's spec says their kinds)
HISTORY_FIELDS = ("external_id", "channel", "category", "category_source", "reported_at", "closed_at", "state",
                  "on_time", "title", "address", "community", "street", "department", "lon", "lat")


@dataclass
class HistoryResult:
    """What a history load did (or, in a dry run, would do)."""

    created: int = 0
    existing: int = 0
    rejected: dict[int, LoadError] = field(default_factory=dict)  # feature -> its fault
    unmapped: Counter = field(default_factory=Counter)  # class names no leaf or alias takes
    by_location: Counter = field(default_factory=Counter)  # point / address / community / street
    street_fallbacks: int = 0
    would_merge: int = 0
    ids: list[int] = field(default_factory=list)
    provisional_deadlines: Counter = field(default_factory=Counter)  # year the calendar lacks -> deadlines


def _aware(value: object, zone: ZoneInfo) -> datetime | None:
    """A timestamp as an aware datetime; a naive one is the district's local time."""
    if value is None or pd.isna(value):
        return None
    ts = pd.Timestamp(value)
    return (ts.tz_localize(zone) if ts.tzinfo is None else ts).to_pydatetime()


def _text(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    value = str(value).strip()
    return value or None


def import_events(conn: Connection, rows: pd.DataFrame, *, actor: str, source: str, skip: bool = False,
                  find_duplicates: bool = True) -> HistoryResult:
    """Write past events with their own outcome; the caller owns the transaction.

    Parameters
    ----------
    rows
        One row per event, index = the feature numbers of the file, columns
        from :data:`HISTORY_FIELDS` (``external_id``, ``channel``,
        ``category``, ``reported_at`` required; ``lon``/``lat`` or an address
        or a community/street for the place).
    skip
        False: the first fault raises and nothing is written. True: faulty
        rows are left out and returned in ``rejected``.
    find_duplicates
        Count the events intake would have merged (``would_merge``).

    Raises
    ------
    LoadError
        Naming the feature and field, when ``skip`` is False.
    """
    taxonomy = current_taxonomy(conn)
    zone = ZoneInfo(taxonomy.calendar.timezone)
    result = HistoryResult()
    leaves: dict[tuple[str, str | None], Leaf | LoadError] = {}
    places: dict[tuple, Location | LoadError] = {}
    points = _route_points(conn, rows)
    batch: dict[str, list] = {k: [] for k in ("channel", "external_id", "category_code", "source_class", "title",
                                              "address", "grid_id", "community_id", "street_id", "department",
                                              "priority", "state", "reported_at", "deadline_at", "closed_at",
                                              "on_time", "lon", "lat", "location_kind")}

    def refuse(label: int, err: LoadError) -> None:
        fault = LoadError(err.template, **err.params, source=source, feature=label, field=err.field)
        if not skip:
            raise fault from err
        result.rejected[label] = fault

    for label, row in rows.iterrows():
        category, category_source = _text(row.get("category")), _text(row.get("category_source"))
        key = (category, category_source)
        if key not in leaves:
            try:
                leaves[key] = taxonomy.resolve(category, category_source)
            except LoadError as err:
                leaves[key] = err
        leaf = leaves[key]
        if isinstance(leaf, LoadError):
            result.unmapped[category] += 1
            refuse(label, LoadError(leaf.template, **leaf.params, field="category"))
            continue
        place = points.get(label)
        if place is None:
            where = (_text(row.get("address")), _text(row.get("community")), _text(row.get("street")))
            if where not in places:
                try:
                    places[where] = locate(conn, address=where[0], community=where[1], street=where[2])
                except LoadError as err:
                    places[where] = err
            place = places[where]
        if isinstance(place, LoadError):
            refuse(label, place)
            continue
        reported = _aware(row["reported_at"], zone)
        closed = _aware(row.get("closed_at"), zone)
        try:
            due = taxonomy.calendar.deadline(reported, leaf.deadline_hours, clock_hours=leaf.calendar_hours)
        except (OverflowError, ValueError):  # a reported time near the end of the calendar (9999-12-31)
            refuse(label, LoadError(f"reported_at {reported.isoformat()} leaves no room for a deadline",
                                    field="reported_at"))
            continue
        deadline = due.at
        if due.provisional:
            result.provisional_deadlines[due.unknown_year] += 1
        state = _text(row.get("state")) or ("closed" if closed is not None else "reported")
        on_time = row.get("on_time")
        result.by_location[place.kind] += 1
        result.street_fallbacks += place.note is not None
        values = dict(
            channel=row["channel"], external_id=_text(row["external_id"]), category_code=leaf.code,
            source_class=category, title=_text(row.get("title")), address=_text(row.get("address")),
            grid_id=place.grid_id, community_id=place.community_id, street_id=place.street_id,
            department=_text(row.get("department")) or leaf.department, priority=leaf.priority, state=state,
            reported_at=reported, deadline_at=deadline,
            closed_at=closed, on_time=None if on_time is None or pd.isna(on_time) else bool(on_time),
            lon=place.lon, lat=place.lat, location_kind=place.kind,
        )
        for k, v in values.items():
            batch[k].append(v)
    if batch["external_id"]:
        result.ids = list(conn.execute(sql("import_history"),
                                       {**batch, "actor": actor, "note": f"history load from {source}"}).scalars())
    result.created = len(result.ids)
    result.existing = len(batch["external_id"]) - result.created
    if find_duplicates and result.ids:
        result.would_merge = len(conn.execute(sql("history_duplicates"),
                                              {"ids": result.ids, "version_id": taxonomy.version_id}).all())
    audit(conn, actor=actor, action="import_history", entity="event", entity_id=None,
          detail={"source": source, "created": result.created, "existing": result.existing,
                  "rejected": len(result.rejected), "would_merge": result.would_merge,
                  "street_fallbacks": result.street_fallbacks,
                  **({"provisional_deadlines": {str(y): n for y, n in result.provisional_deadlines.items()}}
                     if result.provisional_deadlines else {})})
    log.info("%s: %d past events written, %d already there, %d refused", source, result.created, result.existing,
             len(result.rejected))
    return result


def _route_points(conn: Connection, rows: pd.DataFrame) -> dict[int, Location | LoadError]:
    """Every row with a point, routed in one statement (the same function intake uses)."""
    if "lon" not in rows.columns or "lat" not in rows.columns:
        return {}
    have = rows["lon"].notna() & rows["lat"].notna()
    if not have.any():
        return {}
    labels = rows.index[have].tolist()
    lon = rows.loc[have, "lon"].astype(float).tolist()
    lat = rows.loc[have, "lat"].astype(float).tolist()
    found = conn.execute(
        text("SELECT p.i, r.inside, r.grid_id, r.community_id, r.street_id"
             " FROM unnest(CAST(:lon AS double precision[]), CAST(:lat AS double precision[]))"
             " WITH ORDINALITY AS p(lon, lat, i)"
             " CROSS JOIN LATERAL gridwall_route_point(ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326)) AS r"
             " ORDER BY p.i"),
        {"lon": lon, "lat": lat},
    ).all()
    out: dict[int, Location | LoadError] = {}
    for r in found:
        label, x, y = labels[r.i - 1], lon[r.i - 1], lat[r.i - 1]
        out[label] = (Location("point", x, y, r.grid_id, r.community_id, r.street_id) if r.inside else
                      LoadError(f"the point ({x:.6f}, {y:.6f}) is outside the district", field="geometry"))
    return out
