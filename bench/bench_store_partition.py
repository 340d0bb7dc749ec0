"""Re-drawing grids through the store, as the planner and `gridwall partition` do, with the shipped parameters.

    .venv/bin/python bench/run.py store_partition --scale small --repeat 3
    .venv/bin/python bench/run.py store_partition --scale default --repeat 1 --modes rebalance

A throwaway cluster gets the demo district of ``--scale``; each mode's proposal (read the buildings, draw,
write the proposed version and its report) runs ``--repeat`` times in a transaction that is rolled back, and
the median time is printed beside one run of the partitioner alone on the same input (the file path's
share), with the proposal's figures: grids, share in band, households in in-band grids, the worst grid,
blobs (grids of several buildings over twice their cap) and units moved.
"""

from __future__ import annotations

import argparse
import sys
import time

from common import median, table, throwaway_cluster

from gis_data.load import load_demo
from grid_partition import BandPartitioner, PartitionParams
from layers import partitioning
from layers.db import make_engine, migrate
from layers.settings import DatabaseSettings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="small")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--modes", nargs="+", default=["rebalance", "partition"])
    args = ap.parse_args()
    rows = []
    with throwaway_cluster(fsync=False) as cluster:
        engine = make_engine(DatabaseSettings(url=cluster.url(), fsync=False))
        migrate(engine)
        t0 = time.perf_counter()
        with engine.begin() as conn:
            counts = load_demo(conn, scale=args.scale, seed=7)
        print(f"demo district '{args.scale}': {counts['buildings']:,} buildings, {counts['grids']} grids "
              f"(loaded in {time.perf_counter() - t0:.0f} s)", flush=True)
        params = PartitionParams()
        with engine.connect() as conn:
            inp = partitioning.units_from_store(conn)
        for mode in args.modes:
            store, alone, figures = [], [], None
            for run in range(args.repeat):
                with engine.connect() as conn:
                    tx = conn.begin()
                    t = time.perf_counter()
                    _, report = partitioning.propose(conn, mode=mode, params=params, created_by="bench")
                    store.append(time.perf_counter() - t)
                    tx.rollback()
                figures = (report["guard"], report["summary"])
                print(f"  {mode} run {run + 1}/{args.repeat}: store {store[-1]:.1f} s", flush=True)
            t = time.perf_counter()  # the same draw without the store, once: what the store adds
            part = BandPartitioner(inp.units, inp.adjacency, params, cells=inp.cells)
            part.solve() if mode == "partition" else part.rebalance(inp.current)
            alone.append(time.perf_counter() - t)
            print(f"  {mode}: partitioner alone {alone[-1]:.1f} s", flush=True)
            guard, summary = figures
            q, cur = guard["proposed"], guard["current"]
            rows.append((mode, len(store), f"{median(store):.1f}", f"{median(alone):.1f}",
                         f"{median(store) / median(alone):.2f}", f"{cur['n_grids']} -> {q['n_grids']}",
                         f"{100 * cur['share_in_band']:.1f}% -> {100 * q['share_in_band']:.1f}%",
                         f"{100 * cur['households_in_band_share']:.1f}% -> {100 * q['households_in_band_share']:.1f}%",
                         f"{100 * q['worst_violation']:.0f}%", q["n_blobs"], summary.get("n_changed_units", "")))
        engine.dispose()
    print(table(rows, ("mode", "runs", "store s (median)", "partitioner s", "ratio", "grids", "in band",
                       "households in in-band grids", "worst grid", "blobs", "units moved")))


if __name__ == "__main__":
    sys.exit(main())
