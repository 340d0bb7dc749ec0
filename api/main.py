"""The app factory: nothing is built at import.

``create_app(api_settings, db_settings)`` returns a FastAPI app whose engine,
key store, live feed and overdue supervisor open in the lifespan hook and live on ``app.state``
(``engine``, ``gate``, ``keys``, ``feed``, ``supervisor``). The current taxonomy is kept per process by
:mod:`command.taxonomy` (by version, checked against the store). One router per resource; routes stay thin
and call down into ``command`` and ``layers``.

Run it with uvicorn's factory mode, giving open live-feed streams a moment
to end on shutdown::

    uvicorn --factory api.main:create_app --timeout-graceful-shutdown 5
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import DBAPIError

from api.deps import StoreGate, document_security
from api.docs import install_docs
from api.errors import install_error_handlers
from api.live import LiveFeed
from api.middleware import BodyLimit, HeaderLimit, KeyThrottle
from api.people import PeopleGate
from api.routers import (
    addresses,
    audit,
    auth,
    basemap,
    calendar,
    coverage,
    dispatch,
    duplicates,
    events,
    export,
    health,
    heat,
    kpi,
    labels,
    layers,
    live,
    ogc,
    open311,
    partition,
    taxonomy,
    tiles,
    workers,
)
from api.security import KeyStore, install_key_redaction
from api.settings import ApiSettings
from api.supervisor import Supervisor
from layers import partitioning
from layers.db import database_url, make_engine
from layers.settings import DatabaseSettings

__all__ = ["create_app", "libpq_url", "THREADS_BEYOND_POOL"]

log = logging.getLogger(__name__)

#: in the order requests are matched against them: the routers a command hall calls hundreds of times a second
#: (tiles, intake, dispatch) right after the tiny health router, since each request walks the list until a route
#: matches. ``health`` stays before ``layers``: its ``/layers/counts`` would otherwise be read as a layer name.
_ROUTERS = (health, tiles, events, dispatch, layers, ogc, open311, duplicates, kpi, heat, coverage, workers, live,
            partition, taxonomy, auth, addresses, audit, labels, basemap, calendar, export)


#: threads of the pool that sync routes run in, beyond one per connection: work that needs no connection (a keys
#: file read, a body parsed) must never wait for the threads of requests working in the store
THREADS_BEYOND_POOL = 16


def libpq_url(engine: Engine) -> str:
    """The engine's URL as libpq takes it (for the live feed's own connection)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _feed_url(engine: Engine, db: DatabaseSettings) -> Callable[[], str]:
    """Where the live feed (re)connects: the engine's URL, or on the embedded store its URL of the moment (its port
    may move when it restarts)."""
    if not db.embedded:
        return lambda: libpq_url(engine)
    return lambda: make_url(database_url(db)).set(drivername="postgresql").render_as_string(hide_password=False)


def _people(engine: Engine, settings: ApiSettings) -> PeopleGate:
    """Sign-in for this process; a session secret of its own when none is set (one process only: said at start)."""
    if settings.session_secret is None:
        log.warning("GRIDWALL_API_SESSION_SECRET is not set: this process signs sessions with a secret of its own, "
                    "which other processes (and this one after a restart) will not accept")
        secret = secrets.token_urlsafe(32)
    else:
        secret = settings.session_secret.get_secret_value()
    return PeopleGate(engine, secret, ttl_s=settings.session_ttl_s, display_ttl_s=settings.display_session_ttl_s,
                      recheck_s=settings.person_recheck_s)


def create_app(settings: ApiSettings | None = None, db: DatabaseSettings | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings:
        API settings; read from the environment when omitted.
    db:
        Database settings; read from the environment when omitted.

    Raises
    ------
    ConfigError
        At start (lifespan), when the keys file cannot be read.
    """
    settings = settings or ApiSettings()
    db = db or DatabaseSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_key_redaction()  # after the server set up its logging: keys in query strings never logged in clear
        app.state.keys = KeyStore(settings.keys_file,
                                  settings.admin_key.get_secret_value() if settings.admin_key else None,
                                  wall_key=settings.wall_key.get_secret_value() if settings.wall_key else None)
        if len(app.state.keys) == 0:
            log.warning("no API keys configured: %s", "every caller is admin (development only)"
                        if settings.environment == "development" else "only /health answers")
        app.state.engine = make_engine(db)
        app.state.gate = StoreGate(db.pool_size, db.pool_timeout_s)
        app.state.people = _people(app.state.engine, settings)
        threads = anyio.to_thread.current_default_thread_limiter()
        threads.total_tokens = max(threads.total_tokens, db.pool_size + THREADS_BEYOND_POOL)
        try:  # jobs whose process is gone would show running forever
            partitioning.fail_orphaned_jobs(app.state.engine)
        except DBAPIError as exc:  # the store may be down at start: the service answers 503 until it is back
            log.warning("could not check for orphaned partition jobs: %s", exc.orig)
        app.state.feed = LiveFeed(_feed_url(app.state.engine, db), queue_size=settings.stream_queue)
        await app.state.feed.start()
        app.state.supervisor = Supervisor(app.state.engine, settings.supervise_every_s)
        if settings.supervise_every_s > 0:
            await app.state.supervisor.start()
        try:
            yield
        finally:
            await app.state.supervisor.stop()
            await app.state.feed.stop()
            app.state.engine.dispose()

    app = FastAPI(title=settings.title, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="网格化管理指挥平台：地图图层、瓦片、OGC API – Features、Open311、事件闭环、"
                              "派单与实时推送。\n\n"
                              "The command platform of grid governance (网格化管理): map layers, tiles, OGC API – "
                              "Features, Open311, the event loop, dispatch and the live feed.")
    app.state.settings = settings
    app.state.db_settings = db
    install_error_handlers(app)
    install_docs(app)  # /docs and /redoc from the package's own files: no CDN
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(KeyThrottle, max_failures=settings.key_failures_max, window_s=settings.key_failures_window_s)
    app.add_middleware(HeaderLimit, max_count=settings.max_headers, max_bytes=settings.max_header_bytes)
    for module in _ROUTERS:
        app.include_router(module.router)
    document_security(app, [module.router for module in _ROUTERS])
    return app
