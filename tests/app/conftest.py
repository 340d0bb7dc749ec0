"""Real servers for the browser tests: the API (uvicorn) and the wall (werkzeug), on free loopback ports.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright with
``executable_path``; no browser is downloaded. Every request the page makes
is recorded, and any to a host other than the loopback fails the test.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr

log = logging.getLogger(__name__)

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
KEY = "wall-test-key-0123456789abcdef-xyz"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


#: the people of the browser tests: login → (name, role); all with :data:`PASSWORD`
PEOPLE = {"admin": ("管理员", "admin"), "op-li": ("李调度", "operator"), "op-wang": ("王调度", "operator"),
          "sup-zhao": ("赵监督", "supervisor"), "worker-chen": ("陈网格", "grid_worker"),
          "display": ("大屏", "wall"), "plan-sun": ("孙规划", "planner"), "dept-zhou": ("周城管", "department")}
PASSWORD = "test-password-0123"
DEPARTMENT = "城管局"

#: the demo district's data end on this day; the wall's "today" is set to it
DEMO_DAY = "2026-10-31T18:00:00+08:00"
#: a deprecation raised inside the API (``and_()`` with no conditions in api/features.py), not the wall's; its
#: owner knows. The servers run in this process, so pytest's warnings-as-errors reaches their threads.
_API_WARNINGS = ("ignore:Invoking and_\\(\\) without arguments is deprecated",)


def pytest_collection_modifyitems(items) -> None:
    """Tolerate the API's known deprecation warning in the browser tests (servers share this process)."""
    for item in items:
        if "tests/app/" in item.path.as_posix():
            for spec in _API_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def wall_db(cluster):
    """A database of the wall's own: the small district and the taxonomy, committed.

    Its own because these tests commit (an event intake, an accepted grid
    version) through a real API, which the rolled-back ``conn`` tests must
    never see.
    """
    from sqlalchemy import text

    from api.people import add_person
    from command.taxonomy import load_taxonomy
    from gis_data.load import load_demo
    from layers.db import make_engine, migrate
    from layers.settings import DatabaseSettings

    settings = DatabaseSettings(url=cluster.create_database("wall_browser"), fsync=False)
    engine = make_engine(settings)
    try:
        migrate(engine)
        with engine.begin() as conn:
            load_demo(conn, scale="small", seed=7)
        with engine.begin() as conn:
            load_taxonomy(conn)
        with engine.begin() as conn:
            worker = conn.execute(text("SELECT code FROM grid_worker ORDER BY code LIMIT 1")).scalar_one()
            for login, (name, role) in PEOPLE.items():
                add_person(conn, login=login, name=name, role=role, password=PASSWORD, actor="test",
                           departments=(DEPARTMENT,) if role == "department" else (),
                           worker_code=worker if role == "grid_worker" else None)
    finally:
        engine.dispose()
    return settings


@contextmanager
def serve_api(db_settings, **settings) -> Iterator[str]:
    """The API on a free port, in a thread, on ``db_settings``'s database, with the test's admin key."""
    import uvicorn

    from api.main import create_app
    from api.settings import ApiSettings

    api_settings = ApiSettings(environment="development", admin_key=SecretStr(KEY), **settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(api_settings, db_settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True, name="api")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # polls the server's own flag: it is up when uvicorn says so, not after a sleep
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="session")
def api_url(wall_db, quick_params) -> Iterator[str]:
    """The API on a free port, in a thread, on the wall's database, with the quick partition parameters."""
    with serve_api(wall_db, stream_heartbeat_s=2.0, partition=quick_params) as url:
        yield url


@pytest.fixture(scope="session")
def api(api_url: str) -> Iterator[httpx.Client]:
    """An admin client of the API (the test's own hand on the system)."""
    with httpx.Client(base_url=api_url, headers={"X-API-Key": KEY}, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def wall_url(api_url: str) -> Iterator[str]:
    """The Dash app on a free port, threaded (the live feed holds a connection open)."""
    from werkzeug.serving import make_server

    from app import WallSettings, create_wall_app
    from app.serving import ready

    port = _free_port()
    app = create_wall_app(WallSettings(api_url=api_url, api_key=SecretStr(KEY), port=port, as_of=DEMO_DAY))
    ready(app)  # set up, compressed, cached: as gridwall wall serves it
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="wall")
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(10)


class Outside(list):
    """Requests that tried to leave the machine (aborted, and recorded to fail the test)."""


def sign_in(pg, wall_url: str, login: str, password: str = PASSWORD, *, then: str | None = None) -> None:
    """Sign ``login`` in through the sign-in form, as a person would, and wait for the page it lands on."""
    pg.goto(f"{wall_url}/login" + (f"?next={then}" if then else ""), wait_until="domcontentloaded")
    pg.fill("#login", login)
    pg.fill("#password", password)
    with pg.expect_navigation(wait_until="domcontentloaded"):
        pg.click("#login-submit")


def wall_session(wall_url: str, login: str = "admin") -> httpx.Client:
    """An HTTP client of the wall signed in as ``login`` through the form (cookies kept; the CSRF header set)."""
    import re

    client = httpx.Client(base_url=wall_url, timeout=60)
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)[1]
    signed = client.post("/login", data={"login": login, "password": PASSWORD, "csrf": csrf})
    assert signed.status_code == 302, signed.text[:300]
    client.headers["X-CSRFToken"] = client.cookies.get("_csrf_token") or ""
    return client


@pytest.fixture
def page(browser, wall_url) -> Iterator[tuple[object, Outside]]:
    """A fresh 1920×1080 page, signed in as the admin person, whose requests to any non-loopback host are aborted
    and recorded."""
    outside = Outside()
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, device_scale_factor=1)

    def guard(route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            outside.append(url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.on("request", lambda r: (urlsplit(r.url).scheme in ("http", "https", "ws", "wss")
                                and urlsplit(r.url).hostname not in LOCAL_HOSTS and outside.append(r.url)))
    try:
        sign_in(pg, wall_url, "admin")
        yield pg, outside
    finally:
        context.close()


@pytest.fixture
def shot():
    """``shot(page, name)`` saves a screenshot as an artefact (``artifacts/<name>.png``) and returns its path."""

    def save(pg, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        pg.screenshot(path=str(path))
        return path

    return save


#: the own district's outline: a rectangle whose corners are exact at 6 decimals, far from the demo district
OWN_OUTLINE = ((118.70125, 31.99875), (118.76375, 32.04625))
#: its events: a district's history, the newest on 2018-12-31 (Beijing time)
OWN_EVENTS = (("2018-12-30T10:00:00+08:00", 118.72, 32.01), ("2018-12-31T09:00:00+08:00", 118.73, 32.02),
              ("2018-12-31T17:30:00+08:00", 118.74, 32.03))


@pytest.fixture
def own_district(empty_engine) -> Iterator[str]:
    """The API on a store holding only a district's outline and three events of 2018: no blocks, no grids.

    What a district loaded from its own files may look like (issue 17); the rows go in through the importer.
    """
    import geopandas
    import pandas as pd
    from shapely.geometry import Point, box

    from gis_data.load import load_frame
    from layers.settings import DatabaseSettings

    (w, s), (e, n) = OWN_OUTLINE
    outline = geopandas.GeoDataFrame({"code": ["320105"], "name": ["某区"], "level": ["district"]},
                                     geometry=[box(w, s, e, n)], crs="EPSG:4326")
    events = geopandas.GeoDataFrame(
        {"code": [f"EV-OWN-{i}" for i in range(len(OWN_EVENTS))], "channel": "hotline",
         "external_id": [f"own-{i}" for i in range(len(OWN_EVENTS))], "category_code": "020101",
         "reported_at": pd.to_datetime([when for when, _, _ in OWN_EVENTS]), "state": "closed"},
        geometry=[Point(x, y) for _, x, y in OWN_EVENTS], crs="EPSG:4326")
    with empty_engine.begin() as conn:
        load_frame(conn, outline, "admin_areas", source="own-district.geojson")
        load_frame(conn, events, "events", source="own-events.csv")
    db = DatabaseSettings(url=empty_engine.url.render_as_string(hide_password=False), fsync=False)
    with serve_api(db) as url:
        yield url


def break_feed(db_settings) -> int:
    """End the API's listening connections on the wall's database (as a restart or a network cut would), so its
    feed resyncs; how many were ended. Only this database's: other suites' APIs share the cluster."""
    from sqlalchemy import text

    from layers.db import make_engine

    engine = make_engine(db_settings)
    try:
        with engine.begin() as conn:
            return conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                     " WHERE query = 'LISTEN gridwall_changes' AND datname = current_database()"
                                     " AND pid <> pg_backend_pid()")).scalar_one()
    finally:
        engine.dispose()


def zoom_map_to(pg, map_id: str, target: int, bound_s: float = 60.0) -> int:
    """Zoom a page's map with the keyboard (as a person at the hall's desk would) to ``target``.

    The map says its zoom in ``data-zoom``. A key pressed while Leaflet is still zooming is dropped, so a key that
    moved nothing is pressed again (within ``bound_s``).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    zoom = f"Number(document.querySelector('#{map_id}').dataset.zoom)"
    pg.wait_for_function(f"!isNaN({zoom})", timeout=20_000)
    deadline = time.monotonic() + bound_s
    pg.locator(f"#{map_id}").focus()
    now = pg.evaluate(zoom)
    while now != target:
        assert time.monotonic() < deadline, f"#{map_id} did not reach zoom {target} (at {now})"
        pg.keyboard.press("Equal" if now < target else "Minus")  # without Shift: one zoom level a key
        try:
            pg.wait_for_function(f"{zoom} !== {now}", timeout=3_000)
        except PlaywrightTimeout:
            pass
        now = pg.evaluate(zoom)
    return now
