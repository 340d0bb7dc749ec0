"""Engines, migrations and the store's health, for every entry point.

Nothing here runs at import: callers build an engine from settings when they
start (the API in its lifespan hook, the command line per command).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, OperationalError

from layers.cluster import LocalCluster
from layers.errors import DatabaseError, StoreBusy
from layers.settings import DatabaseSettings

__all__ = ["database_url", "make_engine", "migrate", "ensure_up", "StoreHealth", "health", "alembic_config",
           "retried", "sqlstate", "RETRYABLE"]

#: SQLSTATEs after which the same work, taken again, may well succeed: deadlock victim, serialization failure
RETRYABLE = frozenset({"40P01", "40001"})

_T = TypeVar("_T")

log = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(settings: DatabaseSettings) -> str:
    """The URL to connect to: the external one, or the embedded cluster's."""
    if settings.url:
        return settings.url
    return LocalCluster(settings.data_dir, database=settings.name, fsync=settings.fsync).url()


def make_engine(settings: DatabaseSettings, *, url: str | None = None) -> Engine:
    """An engine with the pool size, pool checks and statement timeout of the settings.

    On the embedded cluster each new connection asks the cluster for its
    port: ``gridwall db up`` moves it to another port when the old one is
    taken after a crash, and a running service must find it there. When the
    server restarts, the first call on a pooled connection fails (503) and
    SQLAlchemy replaces the whole pool; the next calls connect afresh.
    """
    options = f"-c statement_timeout={settings.statement_timeout_ms} -c application_name=gridwall"
    engine = create_engine(
        url or database_url(settings),
        pool_size=settings.pool_size,
        max_overflow=settings.pool_overflow,
        pool_timeout=settings.pool_timeout_s,
        pool_pre_ping=settings.pool_pre_ping,
        pool_recycle=settings.pool_recycle_s,
        connect_args={"options": options},
    )
    if url is None and settings.embedded:
        cluster = LocalCluster(settings.data_dir, database=settings.name, fsync=settings.fsync)

        @event.listens_for(engine, "do_connect")
        def _current_port(dialect, conn_rec, cargs, cparams) -> None:
            port = cluster.status().port
            if port is not None:
                cparams["port"] = port

    return engine


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error (``None`` for anything else)."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def retried(conn: Connection, work: Callable[[], _T], *, retries: int = 3) -> _T:
    """``work()`` in a savepoint of ``conn``'s transaction, taken again when it loses a deadlock.

    Why: two transactions writing overlapping rows in different orders (two
    batch intakes sharing external ids) deadlock, and PostgreSQL aborts one
    of them; its work was right, only its timing was not. Rolling back to
    the savepoint releases what the loser held, the winner goes on, and the
    loser's second try finds the winner's rows (``ON CONFLICT``) instead of
    duplicating them. After ``retries`` further losses the caller is told
    the store is busy (:class:`StoreBusy`, a 503 with ``Retry-After``),
    never that it is unreachable.

    Raises
    ------
    StoreBusy
        The work lost ``retries + 1`` times in a row.
    """
    for attempt in range(retries + 1):
        try:
            with conn.begin_nested():
                return work()
        except DBAPIError as exc:
            if sqlstate(exc) not in RETRYABLE:
                raise
            if attempt == retries:
                raise StoreBusy(f"a concurrent write kept taking the same rows ({retries + 1} tries); "
                                "try again") from exc
            log.info("%s on try %d; taking the work again", sqlstate(exc), attempt + 1)
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))  # the two losers should not meet again
    raise AssertionError("unreachable")


def ensure_up(settings: DatabaseSettings) -> str:
    """Start the embedded cluster (or check the external server); return the URL."""
    if settings.embedded:
        return LocalCluster(settings.data_dir, database=settings.name, fsync=settings.fsync).up()
    engine = make_engine(settings)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except OperationalError as exc:
        raise DatabaseError(f"cannot reach GRIDWALL_DATABASE_URL: {exc.orig}") from exc
    finally:
        engine.dispose()
    return settings.require_url()


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the migrations shipped in the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` inside one transaction."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


@dataclass(frozen=True)
class StoreHealth:
    """What the health page and ``gridwall db status`` report."""

    ok: bool
    postgres: str | None
    postgis: str | None
    schema_revision: str | None
    schema_head: str
    current_grid_version: int | None

    @property
    def migrated(self) -> bool:
        """True when the schema is at the newest migration."""
        return self.schema_revision == self.schema_head


def health(engine: Engine) -> StoreHealth:
    """Ask the store what it runs and whether its schema is current."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    try:
        with engine.connect() as conn:
            pg = conn.execute(text("SHOW server_version")).scalar()
            postgis = conn.execute(text("SELECT extversion FROM pg_extension WHERE extname = 'postgis'")).scalar()
            revision = MigrationContext.configure(conn).get_current_revision()
            current = None
            if revision is not None:
                current = conn.execute(text("SELECT id FROM grid_version WHERE is_current")).scalar()
    except OperationalError as exc:
        log.warning("store unreachable: %s", exc.orig)
        return StoreHealth(False, None, None, None, head or "", None)
    return StoreHealth(True, pg, postgis, revision, head or "", current)
