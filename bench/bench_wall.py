"""The wall in headless Chromium: first full render of /wall, intake → on the wall, intake → KPI, and a soak.

    .venv/bin/python bench/run.py wall --scale default --cameras 30000 --workers 5000 --repeat 3
    .venv/bin/python bench/run.py wall --scale city --repeat 3            (1,000,000 events: loading takes minutes)
    .venv/bin/python bench/run.py wall --soak-minutes 60                  (the wall left on, a trickle of events)

A throwaway cluster is loaded with the demo district (the ``default`` profile
with its cameras and workers raised to the issue's 30,000 and 5,000), the API
(uvicorn) and the wall (``app.run_wall``) start as processes of their own on
free loopback ports, and Debian's Chromium (``/usr/bin/chromium``, never a
downloaded one) opens the wall in a fresh context each run (cold cache).

*First full render* is the page's own clock (``performance.now()``, from the
start of navigation) when the basemap is drawn, the cameras are on the map
(a tint below the badges' zoom), the KPIs hold figures, the street chart has
its bars and the 3-D panel has its canvas.
*Intake → wall* is from just before ``POST /events`` until the event's line
is in the live ticker, pushed by the live feed. *Intake → KPI* is from the
same moment until ``#wall-kpi_today-value`` shows another figure: the wall is
on the clock (its demo's events end when it is loaded, as ``gridwall demo``
loads them; ``--as-of`` pins a day instead, on which a new event changes no
KPI). Targets (issues 6 and 20): ≤ 3 s, ≤ 1 s and a few seconds.

*Soak* (``--soak-minutes N``): one wall left open while the demo simulator
(:mod:`gridwall.simulate`) files an event every ``--soak-every`` seconds;
each minute the page's JS heap (CDP ``Runtime.getHeapUsage`` after a garbage
collection) and the resident memory of the wall's and the API's processes
are sampled; start, end, max and slope (least squares, MB per hour) are
printed. Figures are printed, never asserted.
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
from pathlib import Path

from common import ROOT, median, table, throwaway_cluster

log = logging.getLogger("bench_wall")

KEY = "bench-wall-key-0123456789abcdef-xyz"
#: the wall display's person (role wall): the wall shows nothing to a browser that has not signed in
DISPLAY, PASSWORD = "display", "bench-display-password-0123"
CHROME_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]
READY_JS = """() => {
  const k = document.querySelector('#wall-kpi_camera-value');
  const f = document.querySelector('#wall-deck');
  const d = f && f.contentDocument;
  return !!(document.querySelector('#wall-map .leaflet-overlay-pane canvas, #wall-map .leaflet-overlay-pane path')
    && document.querySelector('#wall-map[data-cameras]')
    && document.querySelector('#wall-chart-street .bar-row')
    && k && k.textContent.includes('%')
    && d && d.body && d.body.getAttribute('data-ready') === '1' && d.querySelector('canvas'));
}"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(cluster, scale: str, cameras: int | None, workers: int | None, seed: int, end=None):
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
        counts = load_district(conn, generate_district(profile, seed=seed, end=end))
    with engine.begin() as conn:
        load_taxonomy(conn)
    with engine.begin() as conn:
        from api.people import add_person

        add_person(conn, login=DISPLAY, name="大屏", role="wall", password=PASSWORD, actor="bench")
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
def _servers(db_url: str, as_of: str | None, wall_server: str = "gunicorn"):
    """The API and the wall as two processes of their own, as they run in a hall: the wall under gunicorn as
    ``gridwall wall`` serves it, or (``wall_server="dev"``) on Werkzeug's development server, the baseline."""
    api_port, wall_port = _port(), _port()
    env = {**os.environ, "GRIDWALL_DATABASE_URL": db_url, "GRIDWALL_API_ADMIN_KEY": KEY,
           "GRIDWALL_WALL_API_URL": f"http://127.0.0.1:{api_port}", "GRIDWALL_WALL_API_KEY": KEY,
           "GRIDWALL_WALL_PORT": str(wall_port), "GRIDWALL_WALL_AS_OF": as_of or ""}
    if not as_of:
        env.pop("GRIDWALL_WALL_AS_OF")
    api_cmd = ("import uvicorn; from api.main import create_app; "
               f"uvicorn.run(create_app(), host='127.0.0.1', port={api_port}, log_level='warning')")
    procs = [subprocess.Popen([sys.executable, "-c", api_cmd], cwd=ROOT, env=env),
             subprocess.Popen([sys.executable, "-c", f"from app import run_wall; run_wall(dev={wall_server == 'dev'})"],
                              cwd=ROOT, env=env,
                              stderr=subprocess.DEVNULL)]
    try:
        _wait(f"http://127.0.0.1:{api_port}/health", procs[0])
        _wait(f"http://127.0.0.1:{wall_port}/_dash-layout", procs[1])
        yield f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{wall_port}", [p.pid for p in procs]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:  # uvicorn waits for open live feeds to end
                proc.kill()
                proc.wait(5)


def _signed_in(browser, wall_url: str, **options):
    """A fresh browser context (cold cache) holding the display's session, signed in over HTTP beforehand."""
    import re

    import httpx

    with httpx.Client(base_url=wall_url, timeout=60) as client:
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)[1]
        signed = client.post("/login", data={"login": DISPLAY, "password": PASSWORD, "csrf": csrf})
        if signed.status_code != 302:
            raise RuntimeError(f"the display could not sign in: {signed.status_code} {signed.text[:200]}")
        cookies = [{"name": c.name, "value": c.value, "url": wall_url} for c in client.cookies.jar]
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, **options)
    ctx.add_cookies(cookies)
    return ctx


def _points(client, n: int) -> list[tuple[float, float]]:
    """The centres of ``n`` grids, far apart in the grid list: each bench event in a grid of its own, so that none
    is filed as a duplicate of the one before (a duplicate adds no event to the day's figures)."""
    grids = client.get("/layers/grids", params={"limit": 1000}).json()["features"]
    out = []
    for f in grids[:: max(1, len(grids) // n)][:n]:
        ring = f["geometry"]["coordinates"][0]
        ring = ring[0] if isinstance(ring[0][0], list) else ring
        out.append((sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)))
    return out


def _rss_mb(pid: int) -> float:
    """The resident memory (MB) of a process and its children (gunicorn's workers, uvicorn's), from ``/proc``."""
    total = 0.0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            total = int(line.split()[1]) / 1024
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return total + sum(_rss_mb(int(c)) for c in (children.read_text().split() if children.exists() else ()))


def _slope_per_hour(minutes: list[float], values: list[float]) -> float:
    """Least-squares slope of ``values`` over ``minutes``, per hour (0 for fewer than two samples)."""
    n = len(minutes)
    if n < 2:
        return 0.0
    mx, my = sum(minutes) / n, sum(values) / n
    var = sum((x - mx) ** 2 for x in minutes)
    return 60 * sum((x - mx) * (y - my) for x, y in zip(minutes, values)) / var if var else 0.0


def _kpi_lag(pg, api, lon: float, lat: float, timeout_s: float) -> float | None:
    """Seconds from ``POST /events`` until the wall's "events today" shows another figure (``None``: not within
    ``timeout_s``)."""
    pg.wait_for_timeout(6000)  # the refresh the ticker's event scheduled (≤ 2.5 s, then the figures) has landed
    before = pg.locator("#wall-kpi_today-value").inner_text()
    t0 = time.perf_counter()
    r = api.post("/events", json={"channel": "patrol", "external_id": f"bench-kpi-{time.time_ns()}",
                                  "category": "020101", "lon": lon, "lat": lat})
    r.raise_for_status()
    try:
        pg.wait_for_function("(v) => document.querySelector('#wall-kpi_today-value').textContent !== v", arg=before,
                             timeout=timeout_s * 1000, polling=50)
    except Exception:  # playwright's TimeoutError: the figure did not move (a wall that does not refresh its KPIs)
        return None
    return time.perf_counter() - t0


def _soak(browser, wall_url: str, api, pids: list[int], minutes: float, every: tuple[float, float]) -> list[tuple]:
    """The wall left open ``minutes`` with a trickle of events; a sample a minute; rows for the table."""
    from gridwall.simulate import Simulator

    ctx = _signed_in(browser, wall_url)
    pg = ctx.new_page()
    pg.goto(f"{wall_url}/wall", wait_until="commit")
    pg.wait_for_function(READY_JS, timeout=120_000, polling=100)
    cdp = ctx.new_cdp_session(pg)
    sim = Simulator(api, seed=1, every=every)
    samples: list[tuple[float, float, float, float]] = []  # minute, heap MB, wall RSS, API RSS

    def sample(minute: float) -> None:
        cdp.send("HeapProfiler.collectGarbage")
        heap = cdp.send("Runtime.getHeapUsage")["usedSize"] / 2**20
        samples.append((minute, heap, _rss_mb(pids[1]), _rss_mb(pids[0])))
        log.info("soak %4.1f min: heap %.1f MB, wall %.0f MB, API %.0f MB, %d events", minute, *samples[-1][1:],
                 sim.sent)

    t0 = time.monotonic()
    sample(0.0)
    next_event, next_sample = t0 + sim.pause(), t0 + 60
    while (now := time.monotonic()) < t0 + minutes * 60:
        if now >= next_event:
            sim.step()
            next_event = now + sim.pause()
        if now >= next_sample:
            sample((now - t0) / 60)
            next_sample += 60
        pg.wait_for_timeout(max(50, 1000 * (min(next_event, next_sample) - time.monotonic())))
    sample((time.monotonic() - t0) / 60)
    ctx.close()
    rows = []
    xs = [s[0] for s in samples]
    for i, name in ((1, "page JS heap (MB)"), (2, "wall process RSS (MB)"), (3, "API process RSS (MB)")):
        ys = [s[i] for s in samples]
        rows.append((name, f"{ys[0]:.1f}", f"{ys[-1]:.1f}", f"{max(ys):.1f}", f"{_slope_per_hour(xs, ys):+.1f}"))
    rows.append((f"events filed in {minutes:g} min", str(sim.sent), "", "", ""))
    return rows


def _runs(browser, wall_url: str, api, args, outside: list, places: list) -> tuple[list, list, list]:
    """``args.repeat`` fresh signed-in browser contexts: first full render, intake → ticker, intake → KPI; the
    events at ``places``, two a run (places of their own: a second event at a spot is a duplicate, which moves no
    figure)."""
    renders, lags, kpi_lags = [], [], []
    for run in range(args.repeat):
        (lon, lat), (klon, klat) = places[2 * run], places[2 * run + 1]
        ctx = _signed_in(browser, wall_url)
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
        kpi_lags.append(_kpi_lag(pg, api, klon, klat, args.kpi_timeout))
        if run == 0:
            pg.screenshot(path=str(ROOT / "bench" / "out" / "wall_bench.png"))
        ctx.close()
        log.info("run %d: render %.2f s, intake→wall %.3f s, intake→KPI %s", run + 1, renders[-1], lags[-1],
                 "none" if kpi_lags[-1] is None else f"{kpi_lags[-1]:.2f} s")
    return renders, lags, kpi_lags


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="default")
    ap.add_argument("--cameras", type=int, default=30_000)
    ap.add_argument("--workers", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--wall-server", nargs="+", choices=["dev", "gunicorn"], default=["dev", "gunicorn"],
                    help="Which wall servers to measure, in this order (default: the baseline, then gridwall wall's).")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--as-of", default="",
                    help="Pin the wall's day (e.g. 2026-10-31T18:00:00+08:00); default: on the clock, the demo's "
                         "events ending when it is loaded")
    ap.add_argument("--kpi-timeout", type=float, default=30.0, help="Seconds to wait for the KPI to change.")
    ap.add_argument("--soak-minutes", type=float, default=0.0, help="Then leave a wall open this long (0: no soak).")
    ap.add_argument("--soak-every", default="20-60", help="Seconds between two events of the soak, LOW-HIGH.")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    import httpx
    import pandas as pd
    from playwright.sync_api import sync_playwright

    end = None if args.as_of else pd.Timestamp.now(tz="UTC").round("min")  # as `gridwall demo` loads it
    low, _, high = args.soak_every.partition("-")
    with throwaway_cluster(fsync=False) as cluster:
        db_url, counts = _load(cluster, args.scale, args.cameras, args.workers, args.seed, end)
        outside, soak, figures = [], [], {}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROME_ARGS)
            places = []
            for n, kind in enumerate(args.wall_server):  # the baseline first, side by side on the same store
                with _servers(db_url, args.as_of, kind) as (api_url, wall_url, pids), \
                        httpx.Client(base_url=api_url, headers={"X-API-Key": KEY}, timeout=60) as api:
                    places = places or _points(api, 2 * args.repeat * len(args.wall_server))
                    mine = places[2 * args.repeat * n: 2 * args.repeat * (n + 1)]
                    figures[kind] = _runs(browser, wall_url, api, args, outside, mine)
                    if args.soak_minutes > 0 and kind == args.wall_server[-1]:
                        soak = _soak(browser, wall_url, api, pids, args.soak_minutes, (float(low), float(high or low)))
            browser.close()
    rows = []
    for kind, (renders, lags, kpi_lags) in figures.items():
        moved = [v for v in kpi_lags if v is not None]
        rows += [(f"{kind}: /wall first full render (s)", f"{median(renders):.2f}",
                  ", ".join(f"{v:.2f}" for v in renders), "3.0"),
                 (f"{kind}: intake → on the wall (s)", f"{median(lags):.3f}", ", ".join(f"{v:.3f}" for v in lags),
                  "1.0"),
                 (f"{kind}: intake → KPI on the wall (s)", f"{median(moved):.2f}" if moved else "no change",
                  ", ".join("—" if v is None else f"{v:.2f}" for v in kpi_lags), "3.0")]
    head = (f"district {args.scale}: cameras {counts.get('cameras')}, workers {counts.get('workers')}, "
            f"buildings {counts.get('buildings')}, events {counts.get('events')}; requests off the machine: "
            f"{len(outside)}")
    text = head + "\n" + table(rows, ("figure", "median", "runs", "target"))
    if soak:
        text += f"\n\nsoak: the wall open {args.soak_minutes:g} min, an event every {args.soak_every} s\n"
        text += table(soak, ("memory", "start", "end", "max", "slope /h"))
    print(text)
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    (ROOT / "bench" / "out" / f"wall_{args.scale}.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
