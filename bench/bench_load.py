"""Time generating and loading the demo district, against GeoPandas' own writer.

    .venv/bin/python bench/run.py load [--scale default] [--repeat 3]

Each repeat loads into a fresh, migrated database of one throwaway cluster
(fsync on, as a district's store runs). The baseline writes the very same
frames with ``GeoDataFrame.to_postgis`` / ``DataFrame.to_sql`` into plain
tables: no validation of codes, no foreign keys, no grid assignment — the
floor of what a load into PostGIS from Python costs.
"""

from __future__ import annotations

import argparse
import logging

import geopandas
import pandas as pd
from common import median, table, throwaway_cluster, timed

from gis_data.demo import generate_district
from gis_data.load import load_district
from layers.db import make_engine, migrate
from layers.settings import DatabaseSettings


def _baseline(engine, district) -> None:
    frames = {
        "admin": district.admin, "water": district.water, "roads": district.roads, "blocks": district.blocks,
        "workers": district.workers, "grids": district.grids,
        "buildings": district.buildings.drop(columns="cell"), "components": district.components,
        "cameras": district.cameras, "resources": district.resources, "events": district.events,
    }
    for name, gdf in frames.items():
        geopandas.GeoDataFrame(gdf).to_postgis(f"base_{name}", engine, if_exists="replace", chunksize=10_000)
    pd.DataFrame(district.event_history).to_sql("base_event_history", engine, if_exists="replace",
                                                chunksize=10_000, method="multi", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="default", choices=["small", "default", "city"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    gen_times = []
    for _ in range(args.repeat):
        seconds, district = timed(lambda: generate_district(args.scale, seed=args.seed))
        gen_times.append(seconds)
    rows = {name: len(getattr(district, attr)) for name, attr in (
        ("buildings", "buildings"), ("grids", "grids"), ("cameras", "cameras"), ("components", "components"),
        ("workers", "workers"), ("events", "events"), ("event_history", "event_history"))}

    ours, base = [], []
    with throwaway_cluster() as cluster:
        settings = DatabaseSettings(url=cluster.url(), fsync=True)
        for i in range(args.repeat):
            engine = make_engine(settings, url=cluster.create_database(f"ours_{i}"))
            migrate(engine)

            def load(engine=engine):
                with engine.begin() as conn:
                    return load_district(conn, district)

            seconds, _ = timed(load)
            ours.append(seconds)
            engine.dispose()
            engine = make_engine(settings, url=cluster.create_database(f"base_{i}"))
            seconds, _ = timed(lambda engine=engine: _baseline(engine, district))
            base.append(seconds)
            engine.dispose()

    print(f"demo district '{args.scale}', seed {args.seed}: " + ", ".join(f"{k} {v:,}" for k, v in rows.items()))
    print(table(
        [
            ("generate (gis_data.demo)", f"{median(gen_times):.1f}", " ".join(f"{t:.1f}" for t in gen_times), ""),
            ("load (gridwall, one transaction)", f"{median(ours):.1f}", " ".join(f"{t:.1f}" for t in ours),
             f"{median(ours) / median(base):.2f}x"),
            ("baseline: GeoPandas to_postgis", f"{median(base):.1f}", " ".join(f"{t:.1f}" for t in base), "1.00x"),
        ],
        ("step", "median s", f"runs (n={args.repeat})", "ratio to baseline"),
    ))


if __name__ == "__main__":
    main()
