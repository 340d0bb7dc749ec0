"""The service against real PostGIS: its own database, keys for every role, a real server when needed.

Why a database of its own: the service commits (the live feed only sees
what commits), so its tests cannot live in the rolled-back ``conn``
transaction the other suites share. ``api_db`` is a second database in the
session's cluster holding the small demo district and the taxonomy; tests
write into it freely and make their own rows (unique external ids, their
own workers) rather than depend on each other's.
"""

from __future__ import annotations

import itertools
import math
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.main import create_app
from api.security import digest
from api.settings import ApiSettings
from command.taxonomy import load_taxonomy
from gis_data.load import load_demo
from grid_partition import PartitionParams
from layers.cluster import LocalCluster
from layers.db import make_engine, migrate
from layers.settings import DatabaseSettings

DEPARTMENT = "城管局"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Place:
    """A point well inside a current grid of the district, with the grid's id."""

    lon: float
    lat: float
    grid_id: int


def fresh_database(cluster: LocalCluster, name: str) -> DatabaseSettings:
    """A new database in the cluster with the small district and the taxonomy, committed."""
    settings = DatabaseSettings(url=cluster.create_database(name), fsync=False)
    eng = make_engine(settings)
    try:
        migrate(eng)
        with eng.begin() as conn:
            load_demo(conn, scale="small", seed=7)
            load_taxonomy(conn)
    finally:
        eng.dispose()
    return settings


@pytest.fixture(scope="session")
def api_db(cluster: LocalCluster) -> DatabaseSettings:
    """The service's database (see the module docstring)."""
    return fresh_database(cluster, "api_service")


@pytest.fixture(scope="session")
def api_engine(api_db: DatabaseSettings) -> Iterator[Engine]:
    """An engine on the service's database, for arranging and checking rows."""
    eng = make_engine(api_db)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def worker_code(api_engine: Engine) -> str:
    """The worker whose phone key the tests hold (the first worker who staffs a grid)."""
    with api_engine.connect() as conn:
        return conn.execute(text(
            "SELECT w.code FROM grid_worker w JOIN grid g ON g.worker_id = w.id"
            " WHERE g.version_id = (SELECT id FROM grid_version WHERE is_current) ORDER BY w.code LIMIT 1"
        )).scalar_one()


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory, worker_code: str) -> dict[str, str]:
    """One key per role, written hashed into a keys file; returns role → plain key."""
    plain = {role: f"test-{role}-{uuid.uuid4().hex}" for role in
             ("admin", "operator", "supervisor", "planner", "analyst", "department", "grid_worker", "wall", "open311")}
    blocks = []
    for role, key in plain.items():
        lines = ["[[keys]]", f'name = "{role}-key"', f'role = "{role}"', f'sha256 = "{digest(key)}"']
        if role == "department":
            lines.append(f'departments = ["{DEPARTMENT}"]')
        if role == "grid_worker":
            lines.append(f'worker = "{worker_code}"')
        blocks.append("\n".join(lines))
    path = tmp_path_factory.mktemp("keys") / "keys.toml"
    path.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    return {**plain, "_file": str(path)}


@pytest.fixture(scope="session")
def api_settings(keys: dict[str, str], quick_params: PartitionParams) -> ApiSettings:
    """Settings as in production: keys from a file, no placeholders; the district's partition parameters are the
    quick ones."""
    # the whole session calls from one client address ("testclient"), and tests present wrong keys on purpose:
    # a throttle of failed keys at its default would lock the session out (its own test uses a tighter app)
    # the overdue supervisor is off: tests that flag overdue events by hand must find them unflagged (its own tests
    # start apps with it on, against a database of their own)
    return ApiSettings(environment="test", keys_file=Path(keys["_file"]), max_body_bytes=64 * 1024,
                       partition=quick_params, key_failures_max=10_000, supervise_every_s=0)


@pytest.fixture(scope="session")
def client(api_settings: ApiSettings, api_db: DatabaseSettings) -> Iterator[TestClient]:
    """The app through its ASGI interface (lifespan run once for the session)."""
    with TestClient(create_app(api_settings, api_db)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def auth(keys: dict[str, str]):
    """``auth("operator")`` → the headers of that role's key."""
    return lambda role: {"X-API-Key": keys[role]}


@pytest.fixture(scope="session")
def place(api_engine: Engine) -> Place:
    """The centre of the largest circle inside a current grid."""
    with api_engine.connect() as conn:
        row = conn.execute(text("""
            SELECT g.id, ST_X(c.p) AS lon, ST_Y(c.p) AS lat
            FROM grid g CROSS JOIN LATERAL (SELECT (ST_MaximumInscribedCircle(g.geom)).center AS p,
                                                   (ST_MaximumInscribedCircle(g.geom)).radius AS r) c
            WHERE g.version_id = (SELECT id FROM grid_version WHERE is_current)
            ORDER BY c.r DESC, g.id LIMIT 1
        """)).one()
    return Place(row.lon, row.lat, row.id)


def unique(prefix: str = "t") -> str:
    """An external id no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


_DAYS = itertools.count()


def report_time() -> str:
    """A moment two days after the previous test event's: repeats are matched within a day, so these are not.

    In the past (from 2005, before the register-window tests' 2021): the service refuses events dated in the future."""
    return (datetime(2005, 1, 1, 9, tzinfo=timezone(timedelta(hours=8))) + timedelta(days=2 * next(_DAYS))).isoformat()


def event_body(place: Place, **extra) -> dict:
    """A patrol report of street vending (占道经营, 城管局) at the place, not a repeat of another test's."""
    return {"channel": "patrol", "external_id": unique(), "category": "020101", "lon": place.lon, "lat": place.lat,
            "title": "test", "reported_at": report_time(), **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    """A real uvicorn server on a loopback port, for clients that need sockets (SSE, GDAL)."""

    url: str
    process: subprocess.Popen


@pytest.fixture(scope="session")
def live_server(keys: dict[str, str], api_db: DatabaseSettings, tmp_path_factory) -> Iterator[Served]:
    """The app under uvicorn in a subprocess on a free loopback port; stopped at the end of the session.

    A subprocess, not a thread: GDAL holds the GIL while it reads features,
    and a server in the same interpreter would wait for it forever.
    """
    port = _free_port()
    env = {**os.environ, "GRIDWALL_DATABASE_URL": api_db.url, "GRIDWALL_API_KEYS_FILE": keys["_file"],
           "GRIDWALL_API_ENVIRONMENT": "test", "GRIDWALL_API_SUPERVISE_EVERY_S": "0"}
    log = tmp_path_factory.mktemp("server") / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", "127.0.0.1",
             "--port", str(port), "--timeout-graceful-shutdown", "2", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"the test server did not start: {log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.1)
    try:
        yield Served(url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile (x, y) of zoom ``z`` holding a WGS 84 point."""
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def tile_ids(data: bytes) -> set[int]:
    """The feature ids of a Mapbox Vector Tile (tile.layers[3].features[2].id[1], protobuf wire format)."""

    def fields(buf: bytes):
        i = 0
        while i < len(buf):
            key, i = _varint(buf, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, i = _varint(buf, i)
            elif wire == 2:
                size, i = _varint(buf, i)
                value, i = buf[i:i + size], i + size
            else:  # fixed 32/64 (layer values): skip
                value, i = None, i + (4 if wire == 5 else 8)
            yield number, value

    return {fid for n, layer in fields(data) if n == 3 for m, feature in fields(layer) if m == 2
            for k, fid in fields(feature) if k == 1}


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buf[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if byte < 0x80:
            return value, i
