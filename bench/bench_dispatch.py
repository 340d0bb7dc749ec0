"""Time the event loop's hot paths against the bare SQL they wrap.

    .venv/bin/python bench/run.py dispatch [--events 2000] [--queries 500] [--batch 50]

The store is the default demo district with the city's 5,000 workers and
30,000 cameras (the "city" profile's point layers with the default profile's
100,000 events, so that loading stays short), in a throwaway cluster with
fsync on. Figures:

* intake: events/s through :func:`command.intake.intake` (class resolution,
  routing, duplicate check, deadline, insert with history and audit),
  committed every ``--batch`` events, beside a bare ``INSERT INTO event`` of
  the same rows (no routing, no duplicate check, no history, no audit); then
  again after ``gc.freeze()``, as a long-running server would call after
  start-up; and through :func:`command.intake.intake_many` in bursts of
  ``--batch`` events (one lookup and one insert statement per burst);
* nearest workers: :func:`command.dispatch.nearest_workers` at random points,
  straight line only and with the network re-ranking of the top ten, beside
  the bare KNN query (``ORDER BY geom <-> point LIMIT 5``);
* visible cameras: :func:`command.dispatch.visible_cameras` beside its own SQL
  statement run bare, and beside a naive form without the bounding-box cut.

Medians and p95 in milliseconds; ratios are ours ÷ bare.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from common import median, table, throwaway_cluster
from sqlalchemy import text

from command.audit import sql
from command.dispatch import NETWORK_TOP, nearest_workers, visible_cameras
from command.intake import EventIn, intake, intake_many
from command.network import road_network
from command.taxonomy import current_taxonomy, load_taxonomy
from gis_data.demo import generate_district
from gis_data.demo.scale import SCALES
from gis_data.load import load_district
from layers.db import make_engine, migrate
from layers.settings import DatabaseSettings

_BARE_KNN = text("""
    SELECT id FROM grid_worker WHERE status = 'on_duty' AND geom IS NOT NULL
    ORDER BY geom <-> ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) LIMIT 5
""")
_NAIVE_CAMERAS = text("""
    SELECT id FROM camera c
    WHERE c.online AND ST_DWithin(c.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, c.range_m)
    ORDER BY ST_Distance(c.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) LIMIT 10
""")
_INSIDE = text("""
    SELECT r.inside FROM unnest(CAST(:lons AS double precision[]), CAST(:lats AS double precision[]))
        WITH ORDINALITY AS q(lon, lat, n)
    CROSS JOIN LATERAL gridwall_route_point(ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)) AS r
    ORDER BY q.n
""")
_BARE_INSERT = text("""
    INSERT INTO event (code, channel, external_id, category_code, state, reported_at, deadline_at, department,
                       priority, geom)
    VALUES (:code, :channel, :external_id, :category_code, 'reported', :reported_at, :reported_at, :department,
            :priority, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))
""")


def _scale():
    """Default district, city point layers, default events."""
    city, default = SCALES["city"], SCALES["default"]
    return default.model_copy(update={"name": "dispatch", "n_cameras": city.n_cameras, "n_workers": city.n_workers})


def _points(conn, n: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    """Random points at buildings (where events happen), jittered a few metres, all inside the district.

    Buildings are read in id order so that a seed always picks the same
    points; a jittered point that lands outside the district (a building on
    its edge) is drawn again, so that intake is never refused mid-run.
    """
    rows = conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT id, ST_PointOnSurface(geom) AS p FROM building) q"
                             " ORDER BY id")).all()
    out: list[tuple[float, float]] = []
    while len(out) < n:
        pick = rng.choice(len(rows), size=n - len(out), replace=True)
        jitter = rng.normal(0, 0.00005, size=(n - len(out), 2))
        lons = [rows[i][0] + dx for i, (dx, _) in zip(pick, jitter)]
        lats = [rows[i][1] + dy for i, (_, dy) in zip(pick, jitter)]
        inside = conn.execute(_INSIDE, {"lons": lons, "lats": lats}).scalars().all()
        out.extend((x, y) for x, y, ok in zip(lons, lats, inside) if ok)
    return out


def _ms(samples: list[float]) -> tuple[float, float]:
    values = sorted(samples)
    return statistics.median(values) * 1e3, values[int(0.95 * (len(values) - 1))] * 1e3


def _time_each(fn, points) -> list[float]:
    out = []
    for lon, lat in points:
        start = time.perf_counter()
        fn(lon, lat)
        out.append(time.perf_counter() - start)
    return out


def _run_batches(conn, calls, batch: int) -> tuple[float, float]:
    """(total seconds, seconds of them spent committing) for running ``calls`` with a commit every ``batch``."""
    committing = 0.0
    started = time.perf_counter()
    for i, call in enumerate(calls):
        call()
        if (i + 1) % batch == 0:
            t = time.perf_counter()
            conn.commit()
            committing += time.perf_counter() - t
    t = time.perf_counter()
    conn.commit()
    committing += time.perf_counter() - t
    return time.perf_counter() - started, committing


def _intake(engine, points, rng, batch: int, tag: str, *, bare: bool = True) -> dict[str, float]:
    with engine.connect() as conn:
        leaves = list(current_taxonomy(conn).leaves.values())
    channels = ["patrol", "hotline", "city_mgmt", "video", "self_settled"]
    start_at = datetime(2031 if tag == "a" else 2032, 3, 2, 9, tzinfo=UTC)
    codes = [leaves[k].code for k in rng.integers(len(leaves), size=len(points))]
    events = [EventIn(channel=channels[i % 5], external_id=f"bench-{tag}-{i}", category=codes[i], lon=lon, lat=lat,
                      reported_at=start_at + timedelta(seconds=20 * i))
              for i, (lon, lat) in enumerate(points)]
    results: list = []
    with engine.connect() as conn:
        taxonomy = current_taxonomy(conn)
        ours, ours_commit = _run_batches(
            conn, [lambda e=e: results.append(intake(conn, e, actor="bench", taxonomy=taxonomy)) for e in events],
            batch)
        n = len(events)
        out = {"ours": n / ours, "ours_work": n / (ours - ours_commit),
               "duplicates": sum(r.duplicate_of is not None for r in results)}
        burst = [e.model_copy(update={"external_id": "burst-" + e.external_id,
                                      "reported_at": e.reported_at + timedelta(days=60)}) for e in events]
        batches = [burst[k:k + batch] for k in range(0, n, batch)]
        took, committing = _run_batches(
            conn, [lambda b=b: intake_many(conn, b, actor="bench", taxonomy=taxonomy) for b in batches], 1)
        out.update(burst=n / took, burst_work=n / (took - committing))
        if bare:
            rows = [dict(code=f"BARE-{tag}-{i}", channel=e.channel, external_id=f"bare-{tag}-{i}",
                         category_code=e.category, reported_at=e.reported_at, department="x", priority=2, lon=e.lon,
                         lat=e.lat) for i, e in enumerate(events)]
            took, committing = _run_batches(conn, [lambda r=r: conn.execute(_BARE_INSERT, r) for r in rows], batch)
            out.update(bare=n / took, bare_work=n / (took - committing))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000, help="events taken in through intake")
    parser.add_argument("--queries", type=int, default=500, help="random points per query kind")
    parser.add_argument("--batch", type=int, default=50, help="events per commit")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(args.seed)
    scale = _scale()

    t0 = time.perf_counter()
    district = generate_district(scale, seed=args.seed)
    generated = time.perf_counter() - t0
    with throwaway_cluster() as cluster:
        engine = make_engine(DatabaseSettings(url=cluster.url(), fsync=True))
        migrate(engine)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            counts = load_district(conn, district)
            load_taxonomy(conn)
            conn.execute(text("UPDATE grid_worker SET status = 'on_duty' WHERE geom IS NOT NULL"))
            conn.execute(text("ANALYZE"))
        loaded = time.perf_counter() - t0
        del district  # the generated frames are not part of a serving process
        gc.collect()
        with engine.connect() as conn:
            points = _points(conn, args.queries + 2 * args.events, rng)
            road_network(conn)  # built once per process, outside the timings
            online = conn.execute(text("SELECT count(*) FILTER (WHERE online), count(*) FROM camera")).one()
            visible = sql("visible_cameras")
            q = points[: args.queries]
            timings = {
                "knn_bare": _time_each(lambda x, y: conn.execute(_BARE_KNN, {"lon": x, "lat": y}).all(), q),
                # the demo's positions are dated at its reference time, long past: any age, or none would rank
                "workers_straight": _time_each(
                    lambda x, y: nearest_workers(conn, x, y, network_top=0, max_age_s=None), q),
                "workers_network": _time_each(
                    lambda x, y: nearest_workers(conn, x, y, network_top=NETWORK_TOP, max_age_s=None), q),
                "cameras_bare": _time_each(
                    lambda x, y: conn.execute(visible, {"lon": x, "lat": y, "limit": 10}).all(), q),
                "cameras": _time_each(lambda x, y: visible_cameras(conn, x, y), q),
                "cameras_naive": _time_each(lambda x, y: conn.execute(_NAIVE_CAMERAS, {"lon": x, "lat": y}).all(), q),
            }
            hits = [len(visible_cameras(conn, x, y)) for x, y in q[:100]]
            conn.rollback()
        flow = _intake(engine, points[args.queries:args.queries + args.events], rng, args.batch, "a")
        gc.freeze()  # what a long-running server does after start-up: old objects leave the collector's scans
        frozen = _intake(engine, points[args.queries + args.events:], rng, args.batch, "b", bare=False)
        engine.dispose()

    print(f"store: default demo district with city point layers; {counts.get('workers', 0):,} workers, "
          f"{counts.get('cameras', 0):,} cameras ({online[0]:,} online), {counts.get('events', 0):,} events, "
          f"{counts.get('grids', 0):,} grids; generated in {generated:.0f} s, loaded in {loaded:.0f} s")
    print(f"intake: {args.events:,} events, commit every {args.batch} (fsync on), "
          f"{flow['duplicates']} registered as duplicates")
    print(table(
        [("intake (command.intake)", f"{flow['ours']:,.0f}", f"{flow['ours_work']:,.0f}",
          f"{flow['bare'] / flow['ours']:.1f}x"),
         ("intake, after gc.freeze()", f"{frozen['ours']:,.0f}", f"{frozen['ours_work']:,.0f}",
          f"{flow['bare'] / frozen['ours']:.1f}x"),
         (f"intake_many, bursts of {args.batch}", f"{flow['burst']:,.0f}", f"{flow['burst_work']:,.0f}",
          f"{flow['bare'] / flow['burst']:.1f}x"),
         ("bare INSERT INTO event", f"{flow['bare']:,.0f}", f"{flow['bare_work']:,.0f}", "1.0x")],
        ("path", "events/s", "events/s without commits", "time ratio to bare"),
    ))
    rows = []
    for name, bare in (("knn_bare", "knn_bare"), ("workers_straight", "knn_bare"), ("workers_network", "knn_bare"),
                       ("cameras_bare", "cameras_bare"), ("cameras", "cameras_bare"),
                       ("cameras_naive", "cameras_bare")):
        p50, p95 = _ms(timings[name])
        rows.append((name, f"{p50:.2f}", f"{p95:.2f}", f"{median(timings[name]) / median(timings[bare]):.2f}x"))
    print(f"queries: {args.queries} random points at buildings; visible cameras per point (first 100): "
          f"median {statistics.median(hits):.0f}")
    print(table(rows, ("query", "p50 ms", "p95 ms", "median ratio")))


if __name__ == "__main__":
    main()
