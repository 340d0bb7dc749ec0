"""The wheel as a district installs it: built from the repository, installed into a fresh venv with its dependencies
from the package index, and run from another folder with the repository nowhere on ``sys.path``.

The store commands, the API and the wall all run from that venv (``gridwall db up``, ``demo``, ``user add``,
``serve``, ``wall``), so the migrations, the SQL files, the taxonomy and the wall's assets are the wheel's own; only
the PostGIS cluster is the test session's. Chromium then signs in and checks that the wall renders with its styles:
a rule of ``gridwall.css`` applies, the two scripts of ``assets/`` ran, and the vendored deck.gl answers 200.

The install takes its dependencies from the package index the machine is set up with, as a district's install would
(250 MB of wheels: the build and install take about 40 s on an idle machine, the whole module about 1 min, and up
to 2.5 min while other suites load the machine). Nothing of the test's own venv is shared with it: a dependency
missing from pyproject.toml fails here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from layers.cluster import free_port

REPO = Path(__file__).resolve().parents[2]
KEY = "packaging-test-key-0123456789abcdef"
PASSWORD = "packaging-password-0123"
#: what the wheel is built from: the repository less what is not the package's (its tests, benchmarks, notebooks,
#: examples) and less what earlier builds and runs left (a stale build/lib would slip old files into the wheel)
_NOT_SOURCE = {".git", ".venv", "build", "dist", "var", "artifacts", "tests", "bench", "notebooks", "examples",
               ".ruff_cache", ".pytest_cache"}
#: the wall's static files the wheel must carry (the README's screenshots stay out)
ASSET_FILES = sorted(p.relative_to(REPO / "assets").as_posix() for p in (REPO / "assets").rglob("*")
                     if p.is_file() and p.suffix in (".css", ".js"))


def _outside_env(**settings: str) -> dict[str, str]:
    """The environment of a command run from the fresh venv: nothing of the test process's Python (a PYTHONPATH
    naming the repository would let pip find gridwall installed already) or of its settings."""
    return {k: v for k, v in os.environ.items()
            if not k.startswith(("GRIDWALL_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))} | settings


@dataclass(frozen=True)
class Installed:
    """A fresh venv holding the wheel, and a folder outside the repository to run it in."""

    wheel: Path
    venv: Path
    cwd: Path

    def env(self, **settings: str) -> dict[str, str]:
        """The environment of a command run from the venv, its home in the folder outside the repository."""
        return _outside_env(PATH=f"{self.venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                            GRIDWALL_HOME=str(self.cwd / "home"), **settings)

    def run(self, *args: str, stdin: str | None = None, **settings: str) -> str:
        """``args[0]`` of the venv's bin/ with ``args[1:]``, in the folder outside the repository; its output."""
        done = subprocess.run([str(self.venv / "bin" / args[0]), *args[1:]], cwd=self.cwd, env=self.env(**settings),
                              input=stdin, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
        return done.stdout


def _source(src: str, names: list[str]) -> set[str]:
    at_top = Path(src).resolve() == REPO
    return {n for n in names if n == "__pycache__" or n.endswith(".egg-info") or (at_top and n in _NOT_SOURCE)}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    root = tmp_path_factory.mktemp("packaging")
    source = root / "source"
    shutil.copytree(REPO, source, symlinks=True, ignore=_source)  # app/assets stays a link to assets/
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(root / "dist"),
                            str(source)], capture_output=True, text=True, timeout=300, check=False, cwd=root,
                           env=_outside_env())
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (root / "dist").glob("gridwall-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=_outside_env())
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
                         capture_output=True, text=True, timeout=600, check=False, cwd=root, env=_outside_env())
    assert pip.returncode == 0, pip.stderr[-3000:]
    shutil.rmtree(source)  # nothing of the build is left to be found
    (root / "run").mkdir()
    return Installed(wheel, venv, root / "run")


def test_the_wheel_carries_the_wall_s_assets_and_the_store_s_files(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert {f"app/assets/{name}" for name in ASSET_FILES} <= names
    assert "app/assets/vendor/deck.gl-wall-9.1.14.min.js" in names
    assert not [n for n in names if "screenshots" in n or n.startswith(("tests/", "assets/"))]
    migrations = {p.relative_to(REPO).as_posix() for p in (REPO / "layers" / "migrations").rglob("*.py")}
    assert migrations <= names and "layers/migrations/script.py.mako" in names
    package_files = {p.relative_to(REPO).as_posix() for top in ("api", "command", "layers", "gis_data")
                     for p in (REPO / top).rglob("*") if p.suffix in (".sql", ".json")}
    assert package_files <= names and "gis_data/data/taxonomy.json" in names


def test_the_installed_copy_runs_from_the_venv_not_the_repository(installed):
    probe = ("import json, sys, api, app, command, gis_data, grid_partition, gridwall, layers\n"
             "from app.main import ASSETS\n"
             "print(json.dumps({'files': [m.__file__ for m in (api, app, command, gis_data, grid_partition, "
             "gridwall, layers)], 'path': sys.path, 'assets': str(ASSETS)}))")
    seen = json.loads(installed.run("python", "-c", probe))
    venv = installed.venv.resolve()
    assert all(Path(f).resolve().is_relative_to(venv) for f in seen["files"]), seen["files"]
    assert not [p for p in seen["path"] if p and Path(p).resolve().is_relative_to(REPO)], seen["path"]
    assert (Path(seen["assets"]) / "gridwall.css").is_file() and Path(seen["assets"]).resolve().is_relative_to(venv)
    from importlib.metadata import version

    assert installed.run("gridwall", "--version") == f"gridwall {version('gridwall')}\n"


def _wait_for(url: str, process: subprocess.Popen, log: Path, bound_s: float = 90.0) -> None:
    """Until ``url`` answers (polled), failing with the server's log if it dies or takes longer than ``bound_s``."""
    deadline = time.monotonic() + bound_s
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        try:
            if httpx.get(url, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)


@pytest.fixture(scope="module")
def servers(installed, cluster) -> Iterator[tuple[str, str]]:
    """The installed API and wall on a store of their own (the small demo district, one admin person); the wall's
    URL and the API's."""
    store = {"GRIDWALL_DATABASE_URL": cluster.create_database("packaging")}
    installed.run("gridwall", "db", "up", **store)
    installed.run("gridwall", "demo", "--scale", "small", "--end", "reference", **store)
    installed.run("gridwall", "user", "add", "admin", "--name", "管理员", "--role", "admin", "--password-stdin",
                  stdin=PASSWORD + "\n", **store)
    api_port, wall_port = free_port(), free_port()
    settings = store | {"GRIDWALL_API_PORT": str(api_port), "GRIDWALL_API_ADMIN_KEY": KEY,
                        "GRIDWALL_WALL_PORT": str(wall_port), "GRIDWALL_WALL_API_URL": f"http://127.0.0.1:{api_port}",
                        "GRIDWALL_WALL_API_KEY": KEY, "GRIDWALL_WALL_AS_OF": "2026-10-31T18:00:00+08:00"}
    procs = []
    try:
        for command, url in (("serve", f"http://127.0.0.1:{api_port}/health"),
                             ("wall", f"http://127.0.0.1:{wall_port}/login")):
            log = installed.cwd / f"{command}.log"
            with log.open("w") as out:
                procs.append(subprocess.Popen([str(installed.venv / "bin" / "gridwall"), command], cwd=installed.cwd,
                                              env=installed.env(**settings), stdout=out, stderr=subprocess.STDOUT))
            _wait_for(url, procs[-1], log)
        yield f"http://127.0.0.1:{wall_port}", f"http://127.0.0.1:{api_port}"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def test_the_installed_api_serves_its_docs_from_the_wheel(servers):
    _, api = servers
    page = httpx.get(f"{api}/docs", timeout=30)
    assert page.status_code == 200 and "/docs/static/swagger-ui-bundle.js" in page.text
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        got = httpx.get(f"{api}/docs/static/{name}", timeout=30)
        assert got.status_code == 200 and len(got.content) > 10_000, name


def test_the_installed_wall_renders_with_its_styles(servers, browser):
    servers, _ = servers
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        pg = context.new_page()
        answers: dict[str, int] = {}
        pg.on("response", lambda r: answers.__setitem__(r.url.removeprefix(servers).split("?")[0], r.status))
        pg.goto(f"{servers}/login", wait_until="load")
        # a rule of assets/gridwall.css (the sign-in page links it itself)
        assert pg.eval_on_selector(".login-form", "e => getComputedStyle(e).backgroundColor") == "rgb(14, 23, 41)"
        pg.fill("#login", "admin")
        pg.fill("#password", PASSWORD)
        with pg.expect_response(lambda r: "/vendor/deck.gl-" in r.url, timeout=60_000) as deck:
            with pg.expect_navigation(wait_until="domcontentloaded"):
                pg.click("#login-submit")
        assert deck.value.status == 200  # the 3-D panel's vendored bundle, from the wheel's app/assets/vendor
        assert pg.url == f"{servers}/wall"
        pg.wait_for_selector("#shell-nav", timeout=30_000)
        nav = pg.eval_on_selector("#shell-nav", "e => [getComputedStyle(e).display, "
                                                "getComputedStyle(e).backgroundColor]")
        assert nav == ["flex", "rgb(14, 23, 41)"]
        # gridwall_map.js styled the map's layers (it marks the map once it draws the cameras) and
        # gridwall_live.js opened the live feed
        pg.wait_for_selector("#wall-map[data-cameras]", state="attached", timeout=30_000)
        pg.wait_for_selector("body[data-live='open']", state="attached", timeout=30_000)
    finally:
        context.close()
    for name in ("/assets/gridwall.css", "/assets/gridwall_basemap.css", "/assets/gridwall_map.js",
                 "/assets/gridwall_live.js"):
        assert answers.get(name) == 200, (name, sorted(answers.items()))
    assert not {url: status for url, status in answers.items() if status >= 400}
