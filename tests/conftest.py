"""Session-wide throwaway PostGIS; each test runs in a transaction that is rolled back.

There is no skip for a missing database: the cluster is made here, from the
PostgreSQL and PostGIS that scripts/setup.sh installs, and a failure to make it
fails the run.

Two workers (``-n 2 --dist loadfile`` in pyproject.toml), each with a cluster
of its own: a test module stays on one worker, so its module fixtures are
built once and its tests run in their order. (``loadgroup`` with a group per
module, used before, sent no group anywhere: pytest-xdist 3.8 added the group
to a test's id only after this conftest's hook, so every test was scheduled
alone and a module's tests were split over both workers.) ``-n 0`` runs in
this process.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from grid_partition import PartitionParams
from layers.cluster import LocalCluster
from layers.db import make_engine, migrate
from layers.settings import DatabaseSettings

SHARED = Path(__file__).resolve().parents[2] / "shared"
CHROMIUM = "/usr/bin/chromium"
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-default-apps", "--use-gl=swiftshader",
               "--enable-unsafe-swiftshader"]


@pytest.fixture(scope="session")
def quick_params() -> PartitionParams:
    """Partition parameters for tests that check what the store and the service do with a proposal, not how good
    it is: one draw, light repairs and a one-ring final repair, so every stage runs but in seconds. The quality of
    the default search is measured in ``tests/grid_partition`` and ``bench/``."""
    return PartitionParams(restarts=0, repair_effort=20, final_repair_rings=1, wider_redraws=1)


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """A private PostgreSQL + PostGIS for this test session (fsync off)."""
    folder = Path(tempfile.mkdtemp(prefix="gridwall-test-", dir="/tmp"))
    local = LocalCluster(folder, database="gridwall_test", fsync=False)
    local.up()
    try:
        yield local
    finally:
        local.destroy()


@pytest.fixture(scope="session")
def db_settings(cluster: LocalCluster) -> DatabaseSettings:
    """Settings pointing at the test cluster's database."""
    return DatabaseSettings(url=cluster.url(), fsync=False)


@pytest.fixture(scope="session")
def engine(db_settings: DatabaseSettings) -> Iterator[Engine]:
    """Engine on the migrated test database."""
    eng = make_engine(db_settings)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def small_district(engine: Engine) -> dict[str, int]:
    """The small demo district, loaded once for the session (committed)."""
    from gis_data.load import load_demo

    with engine.begin() as conn:
        return load_demo(conn, scale="small", seed=7)


@pytest.fixture
def conn(engine: Engine, small_district: dict[str, int]) -> Iterator[Connection]:
    """A connection to the loaded store whose changes vanish after the test."""
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture
def empty_engine(cluster: LocalCluster, request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A fresh, migrated, empty database for tests that load a district from nothing."""
    name = "empty_" + request.node.name.lower().replace("[", "_").replace("]", "").replace("-", "_")[:40]
    eng = make_engine(DatabaseSettings(url=cluster.create_database(name), fsync=False))
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium, headless (never a downloaded one): one per test process, for every folder's browser tests
    (Playwright's sync API runs one session per thread: a second ``sync_playwright()`` beside it fails)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROME_ARGS)
        yield b
        b.close()
