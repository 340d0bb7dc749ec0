"""Open311 GeoReport v2 mapped onto the taxonomy and the event register.

Why a mapping and not a second register: a hotline system (12345) that
speaks Open311 files and follows the same events as every other channel, so
they are routed, deadlined, de-duplicated and dispatched like the rest. The
mapping is:

=====================  =============================================
Open311                gridwall
=====================  =============================================
``service_code``       leaf class code (6 digits)
``service_name``       leaf class name (Chinese)
``group``              top class name (综合治理, 城市管理 …)
``service_request_id`` event code (``EV20310101-00000123``)
``status``             ``open`` for every open state, else ``closed``
``status_notes``       the event's state in the loop, under its label
``agency_responsible`` the leaf's department
``expected_datetime``  the deadline (working hours of the calendar)
``requested_datetime`` when it was reported
``updated_datetime``   the last move in its history
``service_notice``     who handles it, by when (on filing)
=====================  =============================================

What a person reads (``service_notice``, ``status_notes``) is in Chinese
unless the client prefers English (``Accept-Language: en``), and every time
is given in the district's time zone (the calendar's), so a retried filing
answers word for word what the first one did.

A filed request is intake on the ``hotline`` channel; its ``external_id`` is
the client's own ticket number when it sends one (``attribute[external_id]``
or ``external_id``), which makes re-sending it harmless. The open311 key reads
back the hotline's requests only, not the register's other events
(:mod:`api.access`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Connection, text

from api.access import check_intake, condition_params, condition_sql
from api.labels import label
from api.messages import say
from api.security import Principal
from command.intake import EventIn, intake
from command.lifecycle import OPEN_STATES
from command.taxonomy import Taxonomy, current_taxonomy
from layers.errors import LoadError, NotFound

__all__ = ["RequestIn", "RequestFilter", "services", "service_definition", "file_request", "requests",
           "one_request"]

_CLOSED = ("closed", "rejected")


class RequestIn(BaseModel):
    """``POST requests``: the GeoReport v2 fields gridwall uses (others are accepted and ignored)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    service_code: str = Field(min_length=1, max_length=50)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    address_string: str | None = Field(default=None, max_length=500)
    description: str | None = Field(default=None, max_length=4000)
    external_id: str | None = Field(default=None, min_length=1, max_length=200,
                                    description="The client's own ticket number (extension; makes retries safe).")
    jurisdiction_id: str | None = Field(default=None, max_length=100)
    api_key: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _where(self) -> RequestIn:
        if (self.lat is None) != (self.long is None):
            raise ValueError("give both lat and long, or neither")
        if self.lat is None and not self.address_string:
            raise ValueError("a request needs lat and long, or an address_string")
        return self


class RequestFilter(BaseModel):
    """``GET requests`` parameters."""

    service_request_id: list[str] = Field(default_factory=list)
    service_code: list[str] = Field(default_factory=list)
    start_date: datetime | None = None
    end_date: datetime | None = None
    status: list[str] = Field(default_factory=list)


def _group(taxonomy: Taxonomy, code: str) -> str:
    return taxonomy.inner.get(code[:2], code[:2])


def services(conn: Connection) -> list[dict]:
    """Every leaf class as an Open311 service."""
    taxonomy = current_taxonomy(conn)
    return [{"service_code": leaf.code, "service_name": leaf.name_zh, "description": leaf.name_en or leaf.name_zh,
             "metadata": False, "type": "realtime", "keywords": taxonomy.inner.get(leaf.code[:4], ""),
             "group": _group(taxonomy, leaf.code)} for leaf in taxonomy.leaves.values()]


def service_definition(conn: Connection, service_code: str) -> dict:
    """A service's definition: no extra attributes are asked for (``metadata`` is false)."""
    if service_code not in current_taxonomy(conn).leaves:
        raise NotFound("no service '{code}': service codes are leaf class codes (see services.json)",
                       code=service_code)
    return {"service_code": service_code, "attributes": []}


def file_request(conn: Connection, body: RequestIn, principal: Principal, lang: str = "zh") -> list[dict]:
    """Intake of one Open311 request on the hotline channel; its notice in ``lang``.

    Raises
    ------
    LoadError
        An unknown service code (``field='service_code'``) or a location
        outside the district.
    """
    taxonomy = current_taxonomy(conn)
    if body.service_code not in taxonomy.leaves:
        raise LoadError("no service '{code}': service codes are leaf class codes (see services.json)",
                        code=body.service_code, source="open311", field="service_code")
    event = EventIn(channel="hotline", external_id=body.external_id or f"open311-{uuid.uuid4()}",
                    category=body.service_code, lon=body.long, lat=body.lat, address=body.address_string,
                    description=body.description, title=(body.description or "")[:60] or None)
    check_intake(conn, principal, [event], taxonomy)
    result = intake(conn, event, actor=principal.actor, taxonomy=taxonomy)
    return [{"service_request_id": result.code, "account_id": None,
             "service_notice": notice(taxonomy.leaves[result.category_code].department, result.deadline_at,
                                      taxonomy, lang)}]


def notice(department: str | None, deadline: datetime | None, taxonomy: Taxonomy, lang: str = "zh") -> str:
    """Who handles a filed request and by when, the time in the district's zone to the minute.

    In Chinese ``城管局将于 2026-12-08 17:00 前办理``; in English ``城管局 will
    handle it by 2026-12-08T17:00+08:00`` (the department's name is the
    taxonomy's, in Chinese).
    """
    who = department or ("相关部门" if lang == "zh" else "the department in charge")
    if deadline is None:
        return say("{department} will handle it", lang, department=who)
    local = deadline.astimezone(taxonomy.calendar.zone)
    return say("{department} will handle it by {deadline}", lang, department=who,
               deadline=local.strftime("%Y-%m-%d %H:%M") if lang == "zh" else local.isoformat(timespec="minutes"))


_REQUESTS = text("""
    SELECT e.code, e.state, e.category_code, e.description, e.title, e.department, e.reported_at, e.deadline_at,
           e.address, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat,
           coalesce((SELECT max(h.at) FROM event_history h WHERE h.event_id = e.id), e.reported_at) AS updated
    FROM event e
    WHERE (CAST(:codes AS text[]) IS NULL OR e.code = ANY(CAST(:codes AS text[])))
      AND (CAST(:services AS text[]) IS NULL OR e.category_code = ANY(CAST(:services AS text[])))
      AND (CAST(:start AS timestamptz) IS NULL OR e.reported_at >= :start)
      AND (CAST(:end AS timestamptz) IS NULL OR e.reported_at < :end)
      AND (CAST(:states AS text[]) IS NULL OR e.state = ANY(CAST(:states AS text[])))
      AND """ + condition_sql("events", "e") + """
    ORDER BY e.reported_at DESC, e.id DESC
    LIMIT :limit
""")


def _states(status: list[str]) -> list[str] | None:
    wanted = {s.strip().lower() for part in status for s in part.split(",") if s.strip()}
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise LoadError("status is open or closed, not {status_values}", status_values=tuple(sorted(unknown)),
                        field="status")
    if not wanted or wanted == {"open", "closed"}:
        return None
    return list(OPEN_STATES) if "open" in wanted else list(_CLOSED)


def _split(values: list[str]) -> list[str] | None:
    out = [v.strip() for part in values for v in part.split(",") if v.strip()]
    if any("\x00" in v for v in out):
        raise LoadError("a code cannot hold a NUL character", field="service_request_id")
    return out or None


def requests(conn: Connection, query: RequestFilter, principal: Principal, *, limit: int = 1000,
             lang: str = "zh") -> list[dict]:
    """Requests (events) matching the filter, newest first, of those the key sees (the open311 key: the hotline's)."""
    for name in ("start_date", "end_date"):
        value = getattr(query, name)
        if value is not None and value.tzinfo is None:
            raise LoadError("{name} needs a time zone (W3C format, e.g. 2031-01-01T00:00:00+08:00)", name=name,
                        field=name)
    taxonomy = current_taxonomy(conn)
    rows = conn.execute(_REQUESTS, {
        "codes": _split(query.service_request_id), "services": _split(query.service_code),
        "start": query.start_date, "end": query.end_date, "states": _states(query.status),
        "limit": limit, **condition_params(principal, "events"),
    }).all()
    return [_request(taxonomy, r, lang) for r in rows]


def one_request(conn: Connection, code: str, principal: Principal, lang: str = "zh") -> list[dict]:
    """One request by its ``service_request_id`` (a list of one, as the spec has it)."""
    found = requests(conn, RequestFilter(service_request_id=[code]), principal, limit=1, lang=lang)
    if not found:
        raise NotFound("no service request '{code}'", code=code)
    return found


def _request(taxonomy: Taxonomy, r, lang: str) -> dict:
    leaf = taxonomy.leaves.get(r.category_code)

    def iso(value: datetime | None) -> str | None:  # in the district's zone, as the notice
        return value.astimezone(taxonomy.calendar.zone).isoformat() if value is not None else None

    return {
        "service_request_id": r.code, "status": "closed" if r.state in _CLOSED else "open",
        "status_notes": label("states", r.state, lang), "service_name": leaf.name_zh if leaf else r.category_code,
        "service_code": r.category_code, "description": r.description or r.title,
        "agency_responsible": r.department, "service_notice": None, "requested_datetime": iso(r.reported_at),
        "updated_datetime": iso(r.updated), "expected_datetime": iso(r.deadline_at), "address": r.address,
        "address_id": None, "zipcode": None, "lat": r.lat, "long": r.lon, "media_url": None,
        "group": _group(taxonomy, r.category_code),
    }
