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
``status_notes``       the event's state in the loop
``agency_responsible`` the leaf's department
``expected_datetime``  the deadline (working hours of the calendar)
``requested_datetime`` when it was reported
``updated_datetime``   the last move in its history
=====================  =============================================

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
        raise NotFound(f"no service '{service_code}': service codes are leaf class codes (see services.json)")
    return {"service_code": service_code, "attributes": []}


def file_request(conn: Connection, body: RequestIn, principal: Principal) -> list[dict]:
    """Intake of one Open311 request on the hotline channel.

    Raises
    ------
    LoadError
        An unknown service code (``field='service_code'``) or a location
        outside the district.
    """
    taxonomy = current_taxonomy(conn)
    if body.service_code not in taxonomy.leaves:
        raise LoadError(f"no service '{body.service_code}': service codes are leaf class codes (see services.json)",
                        source="open311", field="service_code")
    event = EventIn(channel="hotline", external_id=body.external_id or f"open311-{uuid.uuid4()}",
                    category=body.service_code, lon=body.long, lat=body.lat, address=body.address_string,
                    description=body.description, title=(body.description or "")[:60] or None)
    check_intake(conn, principal, [event], taxonomy)
    result = intake(conn, event, actor=principal.actor, taxonomy=taxonomy)
    leaf = taxonomy.leaves[result.category_code]
    notice = f"{leaf.department} will handle it" + (
        f" by {result.deadline_at.isoformat()}" if result.deadline_at else "")
    return [{"service_request_id": result.code, "service_notice": notice, "account_id": None}]


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
        raise LoadError(f"status is open or closed, not {', '.join(sorted(unknown))}", field="status")
    if not wanted or wanted == {"open", "closed"}:
        return None
    return list(OPEN_STATES) if "open" in wanted else list(_CLOSED)


def _split(values: list[str]) -> list[str] | None:
    out = [v.strip() for part in values for v in part.split(",") if v.strip()]
    if any("\x00" in v for v in out):
        raise LoadError("a code cannot hold a NUL character", field="service_request_id")
    return out or None


def requests(conn: Connection, query: RequestFilter, principal: Principal, *, limit: int = 1000) -> list[dict]:
    """Requests (events) matching the filter, newest first, of those the key sees (the open311 key: the hotline's)."""
    for name in ("start_date", "end_date"):
        value = getattr(query, name)
        if value is not None and value.tzinfo is None:
            raise LoadError(f"{name} needs a time zone (W3C format, e.g. 2031-01-01T00:00:00+08:00)", field=name)
    taxonomy = current_taxonomy(conn)
    rows = conn.execute(_REQUESTS, {
        "codes": _split(query.service_request_id), "services": _split(query.service_code),
        "start": query.start_date, "end": query.end_date, "states": _states(query.status),
        "limit": limit, **condition_params(principal, "events"),
    }).all()
    return [_request(taxonomy, r) for r in rows]


def one_request(conn: Connection, code: str, principal: Principal) -> list[dict]:
    """One request by its ``service_request_id`` (a list of one, as the spec has it)."""
    found = requests(conn, RequestFilter(service_request_id=[code]), principal, limit=1)
    if not found:
        raise NotFound(f"no service request '{code}'")
    return found


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _request(taxonomy: Taxonomy, r) -> dict:
    leaf = taxonomy.leaves.get(r.category_code)
    return {
        "service_request_id": r.code, "status": "closed" if r.state in _CLOSED else "open",
        "status_notes": r.state, "service_name": leaf.name_zh if leaf else r.category_code,
        "service_code": r.category_code, "description": r.description or r.title,
        "agency_responsible": r.department, "service_notice": None, "requested_datetime": _iso(r.reported_at),
        "updated_datetime": _iso(r.updated), "expected_datetime": _iso(r.deadline_at), "address": r.address,
        "address_id": None, "zipcode": None, "lat": r.lat, "long": r.lon, "media_url": None,
        "group": _group(taxonomy, r.category_code),
    }
