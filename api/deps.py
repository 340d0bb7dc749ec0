"""Short dependency aliases for routers: the store, the caller, the roles.

``ConnDep`` is a connection for reads, in autocommit (see :func:`autocommit`);
``TxDep`` is a transaction that commits when the route returns and rolls back
when it raises, and it commits *before* the response is sent
(``scope="function"``), so a client that gets a 201 can count on the write
being there — and on the live feed telling others.

The cheap dependencies (the caller, the roles, the settings) are ``async``
so that they run on the event loop: each sync dependency costs a hop to the
thread pool, which intake at hundreds of events a second notices.

``CurrentUser`` is whoever presented a valid key (``X-API-Key`` header,
``Authorization: Bearer``, or for GET only an ``api_key`` query parameter,
for clients that cannot set headers: browsers' EventSource, GIS desktops).
``require(*roles)`` narrows that to roles; the aliases below name the groups
the routers use. A ``development`` service with no keys configured at all
lets callers without a key in as ``admin`` (and says so at start); the
settings refuse that state in every other environment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection, Engine

from api.errors import Forbidden, Unauthorized
from api.security import Principal
from api.settings import ApiSettings

__all__ = [
    "autocommit",
    "EngineDep",
    "ConnDep",
    "TxDep",
    "SettingsDep",
    "CurrentUser",
    "require",
    "READERS",
    "Reader",
    "Operator",
    "Reporter",
    "Mover",
    "Analyst",
    "WorkerWriter",
    "Open311Client",
    "Planner",
    "Admin",
]

log = logging.getLogger(__name__)

_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key issued in the keys file.")
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")
_query = APIKeyQuery(name="api_key", auto_error=False,
                     description="The API key as a query parameter, GET only (EventSource, GIS desktops).")


async def _engine(request: Request) -> Engine:
    return request.app.state.engine


def autocommit(engine: Engine) -> Connection:
    """A pooled connection in autocommit, for reads and one-statement writes: ``with autocommit(engine) as conn``.

    Why: under READ COMMITTED every statement takes its own snapshot anyway,
    so a read-only transaction gives a route nothing — but it costs a
    ``BEGIN`` and a ``ROLLBACK`` round trip, and psycopg drops the
    connection's prepared statements on every rollback, so the hot reads
    (tiles, dispatch suggestions) would be planned afresh on every request.
    A write that is one statement (single-event intake) is atomic on its own
    and committed when it returns. Anything else writes through ``TxDep``:
    nothing written here is rolled back.
    """
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _connection(request: Request) -> Iterator[Connection]:
    with autocommit(request.app.state.engine) as conn:
        yield conn


def _transaction(request: Request) -> Iterator[Connection]:
    with request.app.state.engine.begin() as conn:
        yield conn


async def _settings(request: Request) -> ApiSettings:
    return request.app.state.settings


EngineDep = Annotated[Engine, Depends(_engine)]
ConnDep = Annotated[Connection, Depends(_connection)]
TxDep = Annotated[Connection, Depends(_transaction, scope="function")]
SettingsDep = Annotated[ApiSettings, Depends(_settings)]


_DEVELOPER = Principal("developer", "admin")


def _open_for_development(request: Request) -> bool:
    """True for a development service with no keys at all: ``gridwall up`` on a laptop just works.

    The settings refuse a service without keys in any other environment.
    """
    return request.app.state.settings.environment == "development" and len(request.app.state.keys) == 0


async def _current_user(
    request: Request,
    header: Annotated[str | None, Security(_header)] = None,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
    query: Annotated[str | None, Security(_query)] = None,
) -> Principal:
    key = header or (bearer.credentials if bearer else None)
    if key is None and query and request.method in ("GET", "HEAD"):
        key = query
    if key is None:  # Open311 clients send it in the form body, read by the route's body dependency first
        key = getattr(request.state, "form_api_key", None)
    if not key and _open_for_development(request):
        return _DEVELOPER
    if not key:
        raise Unauthorized("no API key: send it in the X-API-Key header or as 'Authorization: Bearer <key>'")
    principal = request.app.state.keys.lookup(key)
    if principal is None:
        raise Unauthorized("the API key is not one the service issued (or it was revoked)")
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(_current_user)]


def require(*roles: str):
    """A dependency letting in only keys of ``roles`` (403 for the others).

    Examples
    --------
    >>> Dispatcher = Annotated[Principal, require("admin", "operator")]
    """
    allowed = frozenset(roles)

    async def _check(request: Request, user: CurrentUser) -> Principal:
        if user.role not in allowed:
            log.warning("refused %s %s to %s", request.method, request.url.path, user.actor)
            raise Forbidden(f"role '{user.role}' may not {request.method} {request.url.path}; "
                            f"allowed: {', '.join(sorted(allowed))}")
        return user

    return Depends(_check)


#: every role that reads the map and the register (all but the Open311 gateway)
READERS = ("admin", "operator", "planner", "analyst", "department", "grid_worker", "wall")

Reader = Annotated[Principal, require(*READERS)]
Operator = Annotated[Principal, require("admin", "operator")]
Reporter = Annotated[Principal, require("admin", "operator", "department", "grid_worker")]
Mover = Annotated[Principal, require("admin", "operator", "department", "grid_worker")]
Analyst = Annotated[Principal, require("admin", "operator", "planner", "analyst", "department", "wall")]
WorkerWriter = Annotated[Principal, require("admin", "operator", "grid_worker")]
Open311Client = Annotated[Principal, require("admin", "operator", "open311")]
Planner = Annotated[Principal, require("admin", "planner")]
Admin = Annotated[Principal, require("admin")]
