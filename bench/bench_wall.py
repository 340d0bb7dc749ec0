"""The wall in headless Chromium: first full render of /wall, and intake → appearance on the wall.

    .venv/bin/python bench/run.py wall --scale default --cameras 30000 --workers 5000 --repeat 3

A throwaway cluster is loaded with the demo district (the ``default`` profile
with its cameras and workers raised to the issue's 30,000 and 5,000), the API
(uvicorn) and the wall (``app.run_wall``) start as processes of their own on
free loopback ports, and Debian's Chromium (``/usr/bin/chromium``, never a
downloaded one) opens the wall in a fresh context each run (cold cache).

*First full render* is the page's own clock (``performance.now()``, from the
start of navigation) when the basemap is drawn, the camera clusters are on
the map, the KPIs hold figures and the 3-D panel has its canvas.
*Intake → wall* is from just before ``POST /events`` until the event's line
is in the live ticker, pushed by the live feed. Targets (issue 6): ≤ 3 s and
≤ 1 s. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

from common import ROOT, median, table, throwaway_cluster

log = logging.getLogger("bench_wall")

KEY = "bench-wall-key-0123456789abcdef-xyz"
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
READY_JS = """() => {
  const k = document.querySelector('#wall-kpi_camera-value');
  const f = document.querySelector('#wall-deck');
  const d = f && f.contentDocument;
  return !!(document.querySelector('#wall-map .leaflet-overlay-pane canvas, #wall-map .leaflet-overlay-pane path')
    && document.querySelector('#wall-map .gw-cluster')
    && k && k.textContent.includes('%')
    && d && d.body && d.body.getAttribute('data-ready') === '1' && d.querySelector('canvas'));
}"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(cluster, scale: str, cameras: int | None, workers: int | None, seed: int):
    from command.taxonomy import load_taxonomy
    from gis_data.demo import SCALES, generate_district
    from gis_data.load import load_district
    from layers.db import make_engine, migrate
    from layers.settings import DatabaseSettings

    profile = SCALES[scale]
    update = {k: v for k, v in (("n_cameras", cameras), ("n_workers", workers)) if v}
    profile = profile.model_copy(update=update) if update else profile
    settings = DatabaseSettings(url=cluster.url(), fsync=False)
    engine = make_engine(settings)
    migrate(engine)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        counts = load_district(conn, generate_district(profile, seed=seed))
    with engine.begin() as conn:
        load_taxonomy(conn)
    engine.dispose()
    log.info("loaded %s in %.0f s: %s", profile.name, time.perf_counter() - t0, counts)
    return cluster.url(), counts


def _wait(url: str, proc, seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def _servers(db_url: str, as_of: str | None):
    """The API and the wall as two processes of their own, as they run in a hall."""
    api_port, wall_port = _port(), _port()
    env = {**os.environ, "GRIDWALL_DATABASE_URL": db_url, "GRIDWALL_API_ADMIN_KEY": KEY,
           "GRIDWALL_WALL_API_URL": f"http://127.0.0.1:{api_port}", "GRIDWALL_WALL_API_KEY": KEY,
           "GRIDWALL_WALL_PORT": str(wall_port), "GRIDWALL_WALL_AS_OF": as_of or ""}
    if not as_of:
        env.pop("GRIDWALL_WALL_AS_OF")
    api_cmd = ("import uvicorn; from api.main import create_app; "
               f"uvicorn.run(create_app(), host='127.0.0.1', port={api_port}, log_level='warning')")
    procs = [subprocess.Popen([sys.executable, "-c", api_cmd], cwd=ROOT, env=env),
             subprocess.Popen([sys.executable, "-c", "from app import run_wall; run_wall()"], cwd=ROOT, env=env,
                              stderr=subprocess.DEVNULL)]
    try:
        _wait(f"http://127.0.0.1:{api_port}/health", procs[0])
        _wait(f"http://127.0.0.1:{wall_port}/_dash-layout", procs[1])
        yield f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{wall_port}"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:  # uvicorn waits for open live feeds to end
                proc.kill()
                proc.wait(5)


def _point(client) -> tuple[float, float]:
    ring = client.get("/layers/grids", params={"limit": 1}).json()["features"][0]["geometry"]["coordinates"][0]
    ring = ring[0] if isinstance(ring[0][0], list) else ring
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="default")
    ap.add_argument("--cameras", type=int, default=30_000)
    ap.add_argument("--workers", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-of", default="2026-10-31T18:00:00+08:00")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    import httpx
    from playwright.sync_api import sync_playwright

    with throwaway_cluster(fsync=False) as cluster:
        db_url, counts = _load(cluster, args.scale, args.cameras, args.workers, args.seed)
        renders, lags, outside = [], [], []
        with _servers(db_url, args.as_of) as (api_url, wall_url), sync_playwright() as pw, \
                httpx.Client(base_url=api_url, headers={"X-API-Key": KEY}, timeout=60) as api:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROME_ARGS)
            lon, lat = _point(api)
            for run in range(args.repeat):
                ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
                pg = ctx.new_page()
                pg.on("request", lambda r: r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))
                      or outside.append(r.url))
                pg.goto(f"{wall_url}/wall", wait_until="commit")
                pg.wait_for_function(READY_JS, timeout=120_000, polling=50)
                renders.append(pg.evaluate("performance.now()") / 1000)
                pg.wait_for_selector("body[data-live='open']", timeout=20_000)
                t0 = time.perf_counter()
                r = api.post("/events", json={"channel": "hotline", "external_id": f"bench-{time.time_ns()}",
                                              "category": "020101", "lon": lon, "lat": lat})
                r.raise_for_status()
                pg.wait_for_selector(f"#wall-ticker-{r.json()['id']}", timeout=20_000, state="attached")
                lags.append(time.perf_counter() - t0)
                if run == 0:
                    pg.screenshot(path=str(ROOT / "bench" / "out" / "wall_bench.png"))
                ctx.close()
                log.info("run %d: render %.2f s, intake→wall %.3f s", run + 1, renders[-1], lags[-1])
            browser.close()
    rows = [("/wall first full render (s)", f"{median(renders):.2f}", ", ".join(f"{v:.2f}" for v in renders), "3.0"),
            ("intake → on the wall (s)", f"{median(lags):.3f}", ", ".join(f"{v:.3f}" for v in lags), "1.0")]
    head = (f"district {args.scale}: cameras {counts.get('cameras')}, workers {counts.get('workers')}, "
            f"buildings {counts.get('buildings')}, events {counts.get('events')}; requests off the machine: "
            f"{len(outside)}")
    text = head + "\n" + table(rows, ("figure", "median", "runs", "target"))
    print(text)
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / f"wall_{args.scale}.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
