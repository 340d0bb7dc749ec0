"""An embedded PostGIS cluster in a folder of the project.

Why: a district must be able to run gridwall on one machine with no database
administrator, and tests must get a real PostGIS of their own. This module
drives Debian's PostgreSQL binaries (``initdb``, ``pg_ctl``) directly.

Layout of ``data_dir``::

    data_dir/
        cluster.json   port, superuser and its generated password (mode 600)
        data/          PGDATA, owned by the server's user
        data/server.log

PostgreSQL refuses to run as root, so when we are root every server command
runs as the ``postgres`` system user through ``runuser``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from layers.errors import ConfigError, DatabaseError

__all__ = ["LocalCluster", "ClusterStatus", "find_bindir", "free_port"]

log = logging.getLogger(__name__)

_SERVER_USER = "postgres"
_SUPERUSER = "gridwall"


def find_bindir() -> Path:
    """Folder of the PostgreSQL server binaries.

    ``GRIDWALL_PG_BINDIR`` wins; then Debian's ``/usr/lib/postgresql/<v>/bin``
    (newest first); then whatever ``initdb`` is on the PATH.
    """
    override = os.environ.get("GRIDWALL_PG_BINDIR")
    candidates = [Path(override)] if override else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise ConfigError(
        "PostgreSQL server binaries not found (looked in GRIDWALL_PG_BINDIR, "
        "/usr/lib/postgresql/*/bin and PATH): run scripts/setup.sh"
    )


def free_port() -> int:
    """A TCP port free on the loopback address right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    """Whether PostgreSQL could listen on ``port``: it sets SO_REUSEADDR, so a port whose last connections linger
    in TIME_WAIT (the cluster's own, after a crash or a stop) is free to it, and only a listener takes it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class ClusterStatus:
    """What ``gridwall db status`` prints."""

    initialised: bool
    running: bool
    port: int | None
    data_dir: Path

    def __str__(self) -> str:
        if not self.initialised:
            return f"embedded PostGIS: not created (would live in {self.data_dir})"
        state = f"running on 127.0.0.1:{self.port}" if self.running else "stopped"
        return f"embedded PostGIS: {state} ({self.data_dir})"


class LocalCluster:
    """A private PostgreSQL + PostGIS cluster living in ``data_dir``.

    Parameters
    ----------
    data_dir:
        The folder that holds everything of the cluster.
    database:
        Name of the database created in it.
    fsync:
        ``True`` for a district's data; ``False`` is for throwaway test clusters.

    Examples
    --------
    >>> cluster = LocalCluster(Path("var/pg"))      # doctest: +SKIP
    >>> url = cluster.up()                          # doctest: +SKIP
    """

    def __init__(self, data_dir: Path, *, database: str = "gridwall", fsync: bool = True) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.database = database
        self.fsync = fsync
        self.pgdata = self.data_dir / "data"
        self._meta_path = self.data_dir / "cluster.json"

    # -- public -----------------------------------------------------------------
    def up(self) -> str:
        """Create the cluster if needed, start it if stopped, return its URL."""
        if not self._meta_path.exists():
            self._initdb()
        meta = self._meta()
        if not self._running():
            port = meta["port"]
            if not _port_free(port):
                port = free_port()
                meta["port"] = port
                self._write_meta(meta)
                log.info("port taken, embedded PostGIS moves to %s", port)
            self._start(port)
        self._ensure_database()
        return self.url()

    def down(self) -> bool:
        """Stop the server; ``False`` when it was not running."""
        if not self._meta_path.exists() or not self._running():
            return False
        self._pg_ctl("stop", "-m", "fast", "-w")
        return True

    def destroy(self) -> None:
        """Stop and delete everything (tests' throwaway clusters only)."""
        self.down()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def status(self) -> ClusterStatus:
        """Whether the cluster exists and runs, and on which port."""
        if not self._meta_path.exists():
            return ClusterStatus(False, False, None, self.data_dir)
        return ClusterStatus(True, self._running(), self._meta()["port"], self.data_dir)

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL of a database in this cluster."""
        meta = self._meta()
        return (
            f"postgresql+psycopg://{meta['user']}:{meta['password']}"
            f"@127.0.0.1:{meta['port']}/{database or self.database}"
        )

    def create_database(self, name: str) -> str:
        """Create another database with PostGIS in it (tests use one per worker)."""
        self._ensure_database(name)
        return self.url(name)

    # -- private ------------------------------------------------------------------
    def _meta(self) -> dict:
        try:
            return json.loads(self._meta_path.read_text())
        except FileNotFoundError as exc:
            raise DatabaseError(f"no embedded cluster in {self.data_dir}: run 'gridwall db up'") from exc

    def _write_meta(self, meta: dict) -> None:
        tmp = self._meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2))
        tmp.chmod(0o600)
        tmp.replace(self._meta_path)

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", _SERVER_USER, "--", *argv]
        return argv

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess:
        cmd = self._as_server_user(argv)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode not in (0,):
            said = proc.stderr.strip() or proc.stdout.strip()
            raise DatabaseError(f"{Path(argv[0]).name} failed ({proc.returncode}): {said}")
        return proc

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess:
        return self._run([str(find_bindir() / "pg_ctl"), "-D", str(self.pgdata), *args])

    def _running(self) -> bool:
        cmd = self._as_server_user([str(find_bindir() / "pg_ctl"), "-D", str(self.pgdata), "status"])
        return subprocess.run(cmd, capture_output=True, check=False).returncode == 0

    def _check_reachable(self) -> None:
        """The server's user must be able to walk down to data_dir."""
        if os.geteuid() != 0:
            return
        probe = subprocess.run(
            ["runuser", "-u", _SERVER_USER, "--", "test", "-w", str(self.pgdata)],
            capture_output=True,
            check=False,
        )
        if probe.returncode != 0:
            raise ConfigError(
                f"the '{_SERVER_USER}' user cannot write {self.pgdata}: a parent folder is closed to it. "
                "Set GRIDWALL_DATABASE_DATA_DIR to a folder it can reach (e.g. under /var/lib or /srv)."
            )

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        if os.geteuid() == 0:
            # the server's user must pass through data_dir (credentials stay 600)
            self.data_dir.chmod(0o711)
            shutil.chown(self.pgdata, _SERVER_USER, _SERVER_USER)
        self._check_reachable()
        password = secrets.token_urlsafe(24)
        pwfile = self.data_dir / ".initdb-pw"
        pwfile.touch(mode=0o600)
        pwfile.write_text(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(pwfile, _SERVER_USER, _SERVER_USER)
        try:
            self._run([
                str(find_bindir() / "initdb"), "-D", str(self.pgdata), "-U", _SUPERUSER,
                "--auth=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C.UTF-8",
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_meta({"port": free_port(), "user": _SUPERUSER, "password": password})
        log.info("created embedded PostGIS cluster in %s", self.data_dir)

    def _start(self, port: int) -> None:
        options = [
            f"-p {port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.pgdata}",
            f"-c fsync={'on' if self.fsync else 'off'}",
        ]
        if not self.fsync:
            options += ["-c synchronous_commit=off", "-c full_page_writes=off"]
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.pgdata / "server.log"), "-o", " ".join(options))
        self._wait_ready(port)

    def _wait_ready(self, port: int, timeout: float = 30.0) -> None:
        meta = self._meta()
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(
                    host="127.0.0.1", port=port, user=meta["user"], password=meta["password"],
                    dbname="postgres", connect_timeout=2,
                ).close()
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise DatabaseError(f"embedded PostGIS did not answer on port {port}: {exc}") from exc
                time.sleep(0.2)

    def _ensure_database(self, name: str | None = None) -> None:
        name = name or self.database
        meta = self._meta()
        conninfo = dict(host="127.0.0.1", port=meta["port"], user=meta["user"], password=meta["password"])
        with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with psycopg.connect(dbname=name, autocommit=True, **conninfo) as conn:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            except psycopg.Error as exc:
                raise DatabaseError(
                    f"PostGIS is not installed for this PostgreSQL ({exc}): run scripts/setup.sh"
                ) from exc
