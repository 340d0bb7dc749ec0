"""Production serving: the API under two uvicorn workers and the wall under gunicorn, as ``gridwall`` starts them.

Both run as processes of their own (the commands a deployment runs) against
the test PostGIS, on free loopback ports; their logs go to files the tests
read. Waits are bounded polls on what the servers say or write, never
sleeps standing in for a synchronisation.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from layers.cluster import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KEY = "serving-test-admin-key-0123456789-SECRET"
WALL_KEY = "serving-test-wall-key-0123456789-SECRET"
PASSWORD = "serving-test-password-0123"
GRIDWALL = Path(sys.executable).parent / "gridwall"
#: inside the demo's last day, so the wall (pinned to it) counts the event
REPORTED_AT = "2026-10-31T17:00:00+08:00"


@dataclass
class Stack:
    api: str
    wall: str
    api_log: Path
    wall_log: Path


def _wait_up(url: str, proc: subprocess.Popen, log: Path, bound_s: float = 90) -> None:
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {bound_s} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def serving_db(cluster) -> str:
    """A database of this module's own: the small demo district and one admin person, committed."""
    from api.people import add_person
    from gis_data.load import load_demo
    from layers.db import make_engine, migrate
    from layers.settings import DatabaseSettings

    url = cluster.create_database("serving")
    engine = make_engine(DatabaseSettings(url=url, fsync=False))
    try:
        migrate(engine)
        with engine.begin() as conn:
            load_demo(conn, scale="small", seed=7)
        with engine.begin() as conn:
            add_person(conn, login="admin", name="管理员", role="admin", password=PASSWORD, actor="test")
    finally:
        engine.dispose()
    return url


@pytest.fixture(scope="module")
def stack(serving_db, tmp_path_factory) -> Iterator[Stack]:
    """``gridwall serve --workers 2`` and ``gridwall wall`` (gunicorn, 2 workers), as processes."""
    folder = tmp_path_factory.mktemp("serving")
    api_port, wall_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWALL_")}
    env |= {"GRIDWALL_DATABASE_URL": serving_db, "GRIDWALL_DATABASE_POOL_SIZE": "3",
            "GRIDWALL_DATABASE_DATA_DIR": str(folder / "pg"),  # nothing is kept there; secrets are all set
            "GRIDWALL_API_PORT": str(api_port), "GRIDWALL_API_ADMIN_KEY": KEY, "GRIDWALL_API_WALL_KEY": WALL_KEY,
            "GRIDWALL_API_SESSION_SECRET": "serving-test-session-secret-0123456789",
            "GRIDWALL_API_STREAM_HEARTBEAT_S": "2", "GRIDWALL_API_SUPERVISE_EVERY_S": "0",
            "GRIDWALL_WALL_API_URL": f"http://127.0.0.1:{api_port}", "GRIDWALL_WALL_API_KEY": WALL_KEY,
            "GRIDWALL_WALL_PORT": str(wall_port), "GRIDWALL_WALL_WORKERS": "2", "GRIDWALL_WALL_THREADS": "8",
            "GRIDWALL_WALL_SECRET_KEY": "serving-test-cookie-secret-0123456789",
            "GRIDWALL_WALL_AS_OF": "2026-10-31T18:00:00+08:00"}
    logs = {name: folder / f"{name}.log" for name in ("api", "wall")}
    procs = []
    try:
        for name, args in (("api", ["serve", "--workers", "2"]), ("wall", ["wall"])):
            with logs[name].open("w") as out:
                procs.append(subprocess.Popen([str(GRIDWALL), *args], env=env, cwd=folder, stdout=out,
                                              stderr=subprocess.STDOUT, start_new_session=True))
        api, wall = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{wall_port}"
        _wait_up(f"{api}/health", procs[0], logs["api"])
        _wait_up(f"{wall}/login", procs[1], logs["wall"])
        yield Stack(api, wall, logs["api"], logs["wall"])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def _lines_with(log: Path, marker: str, bound_s: float = 20) -> list[str]:
    """The log's lines holding ``marker``, once at least one is there (a request's line is written as it ends)."""
    deadline = time.monotonic() + bound_s
    while True:
        found = [line for line in log.read_text().splitlines() if marker in line]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@contextmanager
def _signed_in(wall: str) -> Iterator[httpx.Client]:
    """A client of the wall signed in as the admin person through the form (its session cookie kept)."""
    with httpx.Client(base_url=wall, timeout=30) as client:
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]
        signed = client.post("/login", data={"login": "admin", "password": PASSWORD, "csrf": csrf})
        assert signed.status_code == 302, signed.text[:300]
        yield client


def test_the_api_logs_one_line_per_request_and_never_a_key(stack):
    probe = uuid.uuid4().hex
    by_query = httpx.get(f"{stack.api}/layers/grids", params={"probe": probe, "api_key": KEY, "limit": 1}, timeout=10)
    by_header = httpx.get(f"{stack.api}/layers/grids", params={"probe": probe + "h", "limit": 1},
                          headers={"X-API-Key": KEY, "Authorization": f"Bearer {KEY}"}, timeout=10)
    assert by_query.status_code == by_header.status_code == 200
    line, = _lines_with(stack.api_log, f"probe={probe}&")
    assert re.search(rf"GET /layers/grids\?probe={probe}&api_key=\*\*\*&limit=1 200 [0-9.]+ms [0-9]+B admin:",
                     line), line
    assert len(_lines_with(stack.api_log, f"probe={probe}h")) == 1
    assert "SECRET" not in stack.api_log.read_text()


def test_the_wall_logs_one_line_per_request_with_who_and_never_a_key_or_cookie(stack):
    probe = uuid.uuid4().hex
    with _signed_in(stack.wall) as browser:
        page = browser.get("/wall", params={"probe": probe, "key": KEY}, headers={"Accept": "text/html"})
        cookie = browser.cookies.get("gridwall_session")
    assert page.status_code == 200 and cookie
    line, = _lines_with(stack.wall_log, f"probe={probe}")
    assert re.search(rf"GET /wall\?probe={probe}&key=\*\*\* 200 [0-9.]+ms [0-9]+B admin$", line), line
    text = stack.wall_log.read_text()
    assert "SECRET" not in text and cookie not in text


def test_the_walls_bundles_are_compressed_and_kept_for_a_year(stack):
    with _signed_in(stack.wall) as browser:
        page = browser.get("/wall", headers={"Accept": "text/html"}).text
    scripts = re.findall(r'<script src="(/_dash-component-suites/[^"]+)"', page)
    assert scripts, page[:2000]
    bundle = max(scripts, key=lambda s: "dash_renderer" in s)
    with httpx.Client(base_url=stack.wall, timeout=30) as http:
        plain = http.get(bundle, headers={"Accept-Encoding": "identity"})
        for accepted, sent in (("br, gzip", "br"), ("gzip", "gzip")):
            got = http.get(bundle, headers={"Accept-Encoding": accepted})
            assert got.headers["content-encoding"] == sent
            assert int(got.headers["content-length"]) < len(plain.content) / 2
            assert got.content == plain.content  # httpx decoded it
            assert "max-age=31536000" in got.headers["cache-control"]
        css = re.search(r'href="(/assets/gridwall\.css\?m=[^"]+)"', page)[1]
        styles = http.get(css.replace("&amp;", "&"), headers={"Accept-Encoding": "gzip"})
        assert styles.headers["content-encoding"] == "gzip" and "immutable" in styles.headers["cache-control"]


def test_a_change_posted_to_the_api_reaches_a_live_client_through_gunicorn(stack):
    with httpx.Client(base_url=stack.api, headers={"X-API-Key": KEY}, timeout=30) as api:
        ring = api.get("/layers/grids", params={"limit": 1}).json()["features"][0]["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    lon, lat = (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
    with _signed_in(stack.wall) as browser, browser.stream("GET", "/live", timeout=httpx.Timeout(30)) as stream:
        assert stream.status_code == 200 and "content-encoding" not in stream.headers
        lines = stream.iter_lines()
        posted = httpx.post(f"{stack.api}/events", headers={"X-API-Key": KEY}, timeout=30,
                            json={"channel": "hotline", "external_id": f"serving-{uuid.uuid4().hex}",
                                  "category": "020101", "lon": lon, "lat": lat, "title": "生产服务测试",
                                  "reported_at": REPORTED_AT})
        assert posted.status_code == 201, posted.text
        code = posted.json()["code"]
        deadline = time.monotonic() + 20
        for line in lines:
            if line.startswith("data:") and json.loads(line[5:] or "{}").get("code") == code:
                break
            assert time.monotonic() < deadline, f"event {code} did not reach /live within 20 s"


# -- the systemd units ------------------------------------------------------------------------------------------

def _units() -> dict[str, configparser.ConfigParser]:
    units = {}
    for path in sorted(DEPLOY.glob("*.service")):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.optionxform = str
        parser.read(path)
        units[path.name] = parser
    return units


def test_the_units_run_gridwall_as_its_own_user_from_the_environment_file(tmp_path):
    """Each unit starts an installed console script as user gridwall, with the environment file, restarted on
    failure; where systemd is installed, ``systemd-analyze verify`` takes them too (on copies naming this venv's
    gridwall, since the units name the installed /usr/local/bin/gridwall)."""
    units = _units()
    assert {"gridwall-db.service", "gridwall-api.service", "gridwall-wall.service"} <= set(units)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for name, unit in units.items():
        service = unit["Service"]
        argv = shlex.split(service["ExecStart"])
        assert Path(argv[0]).name in scripts and (GRIDWALL.parent / Path(argv[0]).name).exists(), name
        assert service["EnvironmentFile"] == "/etc/gridwall/gridwall.env", name
        assert service["User"] == "gridwall" and service["Restart"] == "on-failure", name
    assert shlex.split(units["gridwall-api.service"]["Service"]["ExecStart"])[1:] == ["serve"]
    assert shlex.split(units["gridwall-wall.service"]["Service"]["ExecStart"])[1:] == ["wall"]
    if shutil.which("systemd-analyze"):
        for path in DEPLOY.glob("*.service"):
            (tmp_path / path.name).write_text(path.read_text().replace("/usr/local/bin/gridwall", str(GRIDWALL)))
        done = subprocess.run(["systemd-analyze", "verify", *sorted(map(str, tmp_path.glob("*.service")))],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "gridwall" not in done.stderr, done.stderr


def test_the_environment_example_names_only_settings_gridwall_reads():
    """Every ``GRIDWALL_*`` line of the example is a field of one of the settings classes (a typo would be ignored
    silently by pydantic-settings, the service running on the default)."""
    from api.settings import ApiSettings
    from app.settings import WallSettings
    from layers.settings import DatabaseSettings, HomeSettings

    known = {f"{cls.model_config['env_prefix']}{field}".upper()
             for cls in (ApiSettings, WallSettings, DatabaseSettings, HomeSettings) for field in cls.model_fields}
    named = re.findall(r"^#?\s*(GRIDWALL_[A-Z0-9_]+)=", (DEPLOY / "gridwall.env.example").read_text(), re.M)
    assert named and set(named) <= known, set(named) - known
