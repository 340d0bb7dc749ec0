"""Short dependency aliases for routers: the store, the caller, the roles.

``ConnDep`` is a connection for reads, in autocommit (see :func:`autocommit`);
``TxDep`` is a transaction that commits when the route returns and rolls back
when it raises, and it commits *before* the response is sent
(``scope="function"``), so a client that gets a 201 can count on the write
being there — and on the live feed telling others.

Every way into the store (``EngineDep``, ``ConnDep``, ``TxDep``) first
takes a turn at the store (:class:`StoreGate`) on the event loop: a process
lets ``pool_size`` requests work in the store at once, the pool holds that
many connections, and the thread pool has more threads than that. So a
request never waits for a connection while holding a thread that others
need: the waiting happens on the loop, where it costs nothing, and a
request that waited ``pool_timeout_s`` is answered 503 with ``Retry-After``.

The cheap dependencies (the caller, the roles, the settings) are ``async``
so that they run on the event loop: each sync dependency costs a hop to the
thread pool, which intake at hundreds of events a second notices.

``CurrentUser`` is whoever presented a valid key (``X-API-Key`` header,
``Authorization: Bearer``, or for GET only an ``api_key`` query parameter,
for clients that cannot set headers: browsers' EventSource, GIS desktops),
or a person's session token (``gwp_…``, the same places; :mod:`api.people`).
``require(*roles)`` narrows that to roles; the aliases below name the groups
the routers use. A ``development`` service with no keys configured at all
lets callers without a key in as ``admin`` (and says so at start); the
settings refuse that state in every other environment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import APIRoute
from sqlalchemy import Connection, Engine

from api.access import ACTION_ROLES, MOVERS
from api.errors import Forbidden, Unauthorized
from api.messages import language
from api.people import TOKEN_PREFIX
from api.security import Principal
from api.settings import ApiSettings
from layers.errors import StoreBusy

__all__ = [
    "autocommit",
    "StoreGate",
    "document_security",
    "SECURITY_SCHEMES",
    "EngineDep",
    "ConnDep",
    "TxDep",
    "SettingsDep",
    "RetriesDep",
    "Lang",
    "CurrentUser",
    "MaybeUser",
    "require",
    "READERS",
    "Reader",
    "Supervisor",
    "Dispatcher",
    "Merger",
    "Splitter",
    "CameraLinker",
    "ResourceCaller",
    "SelfSettler",
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

#: the three ways a key may come, as the OpenAPI document names them (see :func:`document_security`)
SECURITY_SCHEMES = {
    "APIKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                     "description": "An API key issued in the keys file."},
    "HTTPBearer": {"type": "http", "scheme": "bearer", "description": "The same API key as a bearer token."},
    "APIKeyQuery": {"type": "apiKey", "in": "query", "name": "api_key",
                    "description": "The API key as a query parameter, GET only (EventSource, GIS desktops)."},
}


class StoreGate:
    """Turns at the store for the requests of one process: at most ``size`` at once, the others wait in line.

    Why a gate on the event loop and not only the pool's own limit: a sync
    route waits for a pooled connection inside a worker thread, and with
    more requests than connections every thread ends up waiting for a
    connection held by a request that now waits for a thread — the service
    stalls until the pool times out. Waiting here holds neither.

    Parameters
    ----------
    size:
        Requests in the store at once; the pool must hold at least as many
        connections (``pool_size``).
    timeout_s:
        How long a request waits for its turn before :class:`StoreBusy`.
    """

    def __init__(self, size: int, timeout_s: float) -> None:
        self.size = size
        self.timeout_s = timeout_s
        self._turns = asyncio.Semaphore(size)

    async def __aenter__(self) -> None:
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._turns.acquire()
        except TimeoutError:
            raise StoreBusy("all {size} connections of this process stayed busy for {seconds:g} s; try again",
                            size=self.size, seconds=self.timeout_s,
                            retry_after=max(1, round(self.timeout_s / 5))) from None

    async def __aexit__(self, *exc: object) -> None:
        self._turns.release()


async def _turn(request: Request) -> AsyncIterator[None]:
    async with request.app.state.gate:
        yield


_Turn = Depends(_turn)


async def _engine(request: Request, _: None = _Turn) -> Engine:
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


def _connection(request: Request, _: None = _Turn) -> Iterator[Connection]:
    with autocommit(request.app.state.engine) as conn:
        yield conn


def _transaction(request: Request, _: None = _Turn) -> Iterator[Connection]:
    with request.app.state.engine.begin() as conn:
        yield conn


async def _settings(request: Request) -> ApiSettings:
    return request.app.state.settings


async def _retries(request: Request) -> int:
    return request.app.state.db_settings.retries


EngineDep = Annotated[Engine, Depends(_engine)]
ConnDep = Annotated[Connection, Depends(_connection)]
TxDep = Annotated[Connection, Depends(_transaction, scope="function")]
SettingsDep = Annotated[ApiSettings, Depends(_settings)]
#: how often a write that lost a deadlock is taken again (``GRIDWALL_DATABASE_RETRIES``), for :func:`layers.db.retried`
RetriesDep = Annotated[int, Depends(_retries)]


_DEVELOPER = Principal("developer", "admin")


def _open_for_development(request: Request) -> bool:
    """True for a development service with no keys at all: ``gridwall up`` on a laptop just works.

    The settings refuse a service without keys in any other environment.
    """
    return request.app.state.settings.environment == "development" and len(request.app.state.keys) == 0


def _presented_key(request: Request) -> str | None:
    """The key as the caller sent it: ``X-API-Key``, ``Authorization: Bearer``, or (GET only) ``?api_key=``."""
    key = request.headers.get("x-api-key")
    if not key:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        key = credentials.strip() if scheme.lower() == "bearer" else None
    if not key and request.method in ("GET", "HEAD"):
        key = request.query_params.get("api_key")
    return key or None


async def _current_user(request: Request) -> Principal:
    """Whoever presented a valid key.

    Why one dependency reading the headers itself rather than FastAPI's
    three ``Security`` schemes: each scheme is a dependency solved on every
    request, and a tile is answered in about two milliseconds, of which
    those took a tenth. The schemes are still in the OpenAPI document,
    added by :func:`document_security`.
    """
    key = _presented_key(request)
    if key is None:  # Open311 clients send it in the form body, read by the route's body dependency first
        key = getattr(request.state, "form_api_key", None)
    if not key and _open_for_development(request):
        return _DEVELOPER
    if not key:
        raise Unauthorized("no API key: send it in the X-API-Key header or as 'Authorization: Bearer <key>'")
    if key.startswith(TOKEN_PREFIX):  # a person signed in (api.people)
        principal = await request.app.state.people.principal(key)
    else:
        principal = request.app.state.keys.lookup(key)
    if principal is None:
        raise Unauthorized("the API key is not one the service issued (or it was revoked)")
    request.state.principal = principal
    return principal


CurrentUser = Annotated[Principal, Depends(_current_user)]


async def _language(request: Request) -> str:
    return language(request.scope)


#: the request's language, ``"zh"`` or ``"en"`` (:func:`api.messages.language`)
Lang = Annotated[str, Depends(_language)]


async def _maybe_user(request: Request) -> Principal | None:
    """Whoever presented a valid key, or ``None`` (no key, or one nobody issued): for answers that say less
    to strangers rather than refuse them (``/health``)."""
    key = _presented_key(request)
    if not key:
        return _DEVELOPER if _open_for_development(request) else None
    if key.startswith(TOKEN_PREFIX):
        try:
            return await request.app.state.people.principal(key)
        except Unauthorized:
            return None
    return request.app.state.keys.lookup(key)


MaybeUser = Annotated[Principal | None, Depends(_maybe_user)]


def require(*roles: str):
    """A dependency letting in only keys of ``roles`` (403 for the others).

    The check finds the caller itself rather than depending on
    ``CurrentUser``: one dependency less to solve on every request.

    Examples
    --------
    >>> Dispatcher = Annotated[Principal, require("admin", "operator")]
    """
    allowed = frozenset(roles)

    async def _check(request: Request) -> Principal:
        user = await _current_user(request)
        if user.role not in allowed:
            log.warning("refused %s %s to %s", request.method, request.url.path, user.actor)
            raise Forbidden("role '{role}' may not {method} {path}; allowed: {roles}", role=user.role,
                            method=request.method, path=request.url.path, roles=tuple(sorted(allowed)))
        return user

    _check.needs_key = True  # type: ignore[attr-defined]
    return Depends(_check)


#: every role that reads the map and the register (all but the Open311 gateway)
READERS = ("admin", "operator", "supervisor", "planner", "analyst", "department", "grid_worker", "wall")

Reader = Annotated[Principal, require(*READERS)]
Operator = Annotated[Principal, require("admin", "operator")]
Reporter = Annotated[Principal, require("admin", "operator", "department", "grid_worker")]
# who moves events and takes which action on one is api.access's (ROLE_MOVES, ACTION_ROLES): the routes let in
# those roles, and the event's detail offers what the same table says
Mover = Annotated[Principal, require(*MOVERS)]
#: who raises supervision (督办): the hall's operators and supervisors
Supervisor = Annotated[Principal, require(*ACTION_ROLES["supervise"])]
Dispatcher = Annotated[Principal, require(*ACTION_ROLES["dispatch"])]
Merger = Annotated[Principal, require(*ACTION_ROLES["merge"])]
Splitter = Annotated[Principal, require(*ACTION_ROLES["split"])]
CameraLinker = Annotated[Principal, require(*ACTION_ROLES["cameras"])]
ResourceCaller = Annotated[Principal, require(*ACTION_ROLES["resources"])]
SelfSettler = Annotated[Principal, require(*ACTION_ROLES["self_settle"])]
Analyst = Annotated[Principal, require("admin", "operator", "supervisor", "planner", "analyst", "department", "wall")]
WorkerWriter = Annotated[Principal, require("admin", "operator", "grid_worker")]
Open311Client = Annotated[Principal, require("admin", "operator", "open311")]
Planner = Annotated[Principal, require("admin", "planner")]
Admin = Annotated[Principal, require("admin")]


def _needs_key(dependant) -> bool:
    return any(d.call is _current_user or getattr(d.call, "needs_key", False) or _needs_key(d)
               for d in dependant.dependencies)


def document_security(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Put the key schemes into the app's OpenAPI document, on every operation of ``routers`` that asks for a key.

    Call once with the routers the app includes (without a further prefix);
    the document is still built lazily, on the first ``/openapi.json``.
    """
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema]
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
        either = [{name: []} for name in SECURITY_SCHEMES]
        for route in routes:
            if _needs_key(route.dependant):
                for method in route.methods:
                    operation = schema["paths"].get(route.path_format, {}).get(method.lower())
                    if operation is not None:
                        operation["security"] = either
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
