"""Where this machine's gridwall keeps its things, and which PostGIS to use.

With ``GRIDWALL_DATABASE_URL`` unset, gridwall runs its own PostGIS cluster in
``data_dir``: ``pg/`` of the gridwall home (:class:`HomeSettings`), which is
per user, not per working folder, so ``gridwall db up`` run anywhere and a
notebook opened in ``notebooks/`` find the same store. With the URL set, every
command uses that server instead and never starts or stops it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from layers.errors import ConfigError

__all__ = ["DatabaseSettings", "HomeSettings", "default_home"]


def default_home() -> Path:
    """The gridwall home when ``GRIDWALL_HOME`` is unset: ``$XDG_DATA_HOME/gridwall``, else
    ``~/.local/share/gridwall`` — or ``/var/lib/gridwall`` for root.

    Why root differs: PostgreSQL will not run as root, so the embedded cluster
    runs as the ``postgres`` user, which cannot enter root's home (mode 700).
    """
    data_home = os.environ.get("XDG_DATA_HOME", "")
    if Path(data_home).is_absolute():  # the XDG rule: a relative value is ignored
        return Path(data_home) / "gridwall"
    if os.geteuid() == 0:
        return Path("/var/lib/gridwall")
    return Path.home() / ".local" / "share" / "gridwall"


class HomeSettings(BaseSettings):
    """The folder of this machine's gridwall: its embedded store and its secrets.

    Attributes
    ----------
    home:
        ``GRIDWALL_HOME``; :func:`default_home` when unset. Holds ``pg/``
        (the embedded cluster, unless ``GRIDWALL_DATABASE_DATA_DIR`` puts it
        elsewhere) and beside it the secrets ``gridwall up`` makes once for
        this machine (``api-admin-key``, ``api-wall-key``, ``session-secret``,
        ``wall-cookie-secret``, ``first-admin-password``…), each readable by
        its owner only. A developer's checkout may keep its own with
        ``GRIDWALL_HOME=$PWD/var``.

    Examples
    --------
    >>> HomeSettings(home="/srv/gridwall").secret("api-admin-key")
    PosixPath('/srv/gridwall/api-admin-key')
    """

    model_config = SettingsConfigDict(env_prefix="GRIDWALL_", extra="ignore")

    home: Path = Field(default_factory=default_home)

    @field_validator("home")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def data_dir(self) -> Path:
        """Where the embedded cluster lives unless ``GRIDWALL_DATABASE_DATA_DIR`` says otherwise."""
        return self.home / "pg"

    def secret(self, name: str) -> Path:
        """The file of one of this machine's secrets."""
        return self.home / name


class DatabaseSettings(BaseSettings):
    """Where the store is.

    Attributes
    ----------
    url:
        An external PostGIS (``postgresql+psycopg://user:pass@host:port/db``).
        ``None`` means the embedded cluster.
    data_dir:
        Folder of the embedded cluster (its PGDATA, credentials and log):
        ``GRIDWALL_DATABASE_DATA_DIR``, else ``pg/`` of the gridwall home
        (``GRIDWALL_HOME``, see :class:`HomeSettings`).
    name:
        Database name inside the embedded cluster.
    fsync:
        Keep on for a district's real data; tests turn it off.
    pool_size:
        Connections kept open by one process (``GRIDWALL_DATABASE_POOL_SIZE``,
        20 by default), and so the number of requests of one process that
        work in the store at once: the service lets that many in and has the
        others wait on the event loop, holding no thread and no connection
        (see :mod:`api.deps`). Every one of them is opened once and kept, so
        eight busy intake clients never make the server open sessions. With
        ``N`` workers the service holds ``N × (pool_size + pool_overflow)``
        sessions plus one listening connection each: keep that under the
        server's ``max_connections`` (100 by default).
    pool_overflow:
        Connections opened beyond ``pool_size`` for work that runs outside a
        request (partition jobs, start-up checks) and closed when returned
        (``GRIDWALL_DATABASE_POOL_OVERFLOW``).
    pool_timeout_s:
        Seconds a request waits for its turn at the store before it is
        answered 503 with ``Retry-After`` (``GRIDWALL_DATABASE_POOL_TIMEOUT_S``).
    retries:
        Times a write that PostgreSQL chose as a deadlock victim (``40P01``)
        or refused as a serialization failure (``40001``) is taken again
        before the caller is told to retry (``GRIDWALL_DATABASE_RETRIES``).
    pool_pre_ping:
        Test each pooled connection with a round trip before handing it out
        (``GRIDWALL_DATABASE_POOL_PRE_PING``). Off by default: on the loopback
        or a LAN the test costs a round trip on every request, while a
        connection broken under the pool (the server restarted) fails only
        the one call that finds it, after which the whole pool is replaced.
        Turn it on where something cuts idle connections silently (a pooler
        or firewall between the service and PostgreSQL).
    pool_recycle_s:
        Connections older than this are replaced when next checked out
        (``-1``: never). An hour by default, well under the idle timeouts of
        common firewalls.
    """

    model_config = SettingsConfigDict(env_prefix="GRIDWALL_DATABASE_", extra="ignore")

    url: str | None = None
    data_dir: Path = Field(default_factory=lambda: HomeSettings().data_dir)
    name: str = "gridwall"
    fsync: bool = True
    pool_size: int = Field(default=20, ge=1, le=100)
    pool_overflow: int = Field(default=4, ge=0, le=100)
    pool_timeout_s: float = Field(default=10.0, gt=0, le=300)
    retries: int = Field(default=3, ge=0, le=20)
    pool_pre_ping: bool = False
    pool_recycle_s: int = Field(default=3600, ge=-1)
    statement_timeout_ms: int = Field(default=60_000, ge=0)

    @field_validator("url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("GRIDWALL_DATABASE_URL must be a postgresql:// URL (PostGIS is required)")
        if value.startswith("postgres://"):
            value = "postgresql://" + value[len("postgres://"):]
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://"):]
        return value

    @model_validator(mode="after")
    def _embedded_needs_absolute_dir(self) -> "DatabaseSettings":
        if self.url is None and not self.data_dir.is_absolute():
            self.data_dir = self.data_dir.resolve()
        return self

    @property
    def embedded(self) -> bool:
        """True when gridwall runs its own cluster."""
        return self.url is None

    def require_url(self) -> str:
        """The external URL, or a ConfigError naming the setting."""
        if self.url is None:
            raise ConfigError("no GRIDWALL_DATABASE_URL set and the embedded cluster was not started")
        return self.url
