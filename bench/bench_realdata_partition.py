"""A real district's buildings through the store: Nanjing 建邺区, partitioned from scratch, scored by gridbench.

    .venv/bin/python bench/run.py realdata_partition --repeat 3

Reads, from ``../shared/realdata`` (test data with no stated licence: read in place, never copied into the
repository), the 5,284 footprints of ``nanjing_jianye/jianye_buildings_height_wgs84.geojson`` with their heights
and 建邺区's DataV outline (GCJ-02).  Nothing gives households, so they are estimated from height and footprint:

    floors      = max(1, round(height / 3 m))
    households  = round(footprint m² × floors × 0.8 usable / 90 m² per dwelling)
    population  = round(households × 2.6)        (Nanjing's mean household size is about 2.6)

Every building is an inner-street building (建邺 is urban core).  The files are loaded as a district would load
its own (``load_file``: the outline as ``admin_areas``, the footprints as ``buildings``), so the store has no
cells, blocks or grids; the partition draws the cells, proposes, and is accepted; gridbench's ``evaluate.py``
then scores the assignment on the cells (queen adjacency).  Times are medians of ``--repeat`` proposals.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas
import numpy as np
import shapely
from common import ROOT, median, throwaway_cluster
from sqlalchemy import text

from gis_data.load import load_file
from layers import partitioning
from layers.db import make_engine, migrate
from layers.settings import DatabaseSettings

SHARED = ROOT.parent / "shared"


def _inputs(folder: Path) -> tuple[Path, Path, int]:
    outline = geopandas.read_file(SHARED / "realdata" / "datav_target_district_boundaries_gcj02.geojson")
    outline = outline[outline["name"] == "建邺区"][["adcode", "name", "geometry"]]
    outline = outline.assign(code=outline["adcode"].astype(str), level="district").drop(columns="adcode")
    outline_path = folder / "jianye.geojson"
    outline.to_file(outline_path)
    b = geopandas.read_file(SHARED / "realdata" / "nanjing_jianye" / "jianye_buildings_height_wgs84.geojson")
    b = b[b.geometry.notna() & b.geometry.is_valid & ~b.geometry.is_empty].copy()
    area = b.to_crs("EPSG:4549").area.to_numpy()  # CGCS2000 3-degree GK, 117-120°E
    floors = np.maximum(1, np.round(b["height"].astype(float).fillna(3.0).to_numpy() / 3.0))
    hh = np.round(area * floors * 0.8 / 90.0).astype(int)
    b = geopandas.GeoDataFrame({
        "code": [f"JY-{i:05d}" for i in range(len(b))], "zone": "inner", "floors": floors.astype(int),
        "households": np.clip(hh, 0, 5000), "population": np.clip(np.round(hh * 2.6), 0, 20000).astype(int),
    }, geometry=shapely.force_2d(b.geometry.to_numpy()), crs="EPSG:4326")
    buildings_path = folder / "jianye_buildings.gpkg"
    b.to_file(buildings_path, layer="buildings")
    return outline_path, buildings_path, len(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gridwall-jianye-"))
    outline_path, buildings_path, n = _inputs(folder)
    with throwaway_cluster(fsync=False) as cluster:
        engine = make_engine(DatabaseSettings(url=cluster.url(), fsync=False))
        migrate(engine)
        with engine.begin() as conn:
            load_file(conn, outline_path, "admin_areas", crs="gcj02", actor="bench")
            load_file(conn, buildings_path, "buildings", actor="bench")
        with engine.connect() as conn:
            hh = conn.execute(text("SELECT sum(households) FROM building")).scalar()
        print(f"建邺区: {n:,} buildings, {hh:,} households (estimated)", flush=True)
        times = []
        for run in range(args.repeat):
            with engine.connect() as conn:
                tx = conn.begin()
                t = time.perf_counter()
                version, report = partitioning.propose(conn, mode="partition", created_by="bench")
                times.append(time.perf_counter() - t)
                print(f"  partition run {run + 1}/{args.repeat}: {times[-1]:.1f} s (cells drawn in the run)",
                      flush=True)
                if run + 1 < args.repeat:
                    tx.rollback()
                else:
                    partitioning.accept(conn, version, actor="bench")
                    tx.commit()
        units = geopandas.read_postgis(
            "SELECT b.id AS unit_id, b.households AS hh, b.population AS pop, 1 AS inner, b.cell AS geom, "
            "g.code AS grid_id FROM building b JOIN grid g ON g.id = b.grid_id", engine, geom_col="geom")
        engine.dispose()
    units_path, csv_path = folder / "units.gpkg", folder / "assignment.csv"
    units.drop(columns="grid_id").to_file(units_path, layer="units")
    units[["unit_id", "grid_id"]].to_csv(csv_path, index=False)
    scored = json.loads(subprocess.run([sys.executable, str(SHARED / "gridbench" / "evaluate.py"), str(units_path),
                                        str(csv_path), "--prev", "none"], capture_output=True, text=True,
                                       check=True).stdout)
    s = report["summary"]
    print(f"store-mode partition: median {median(times):.1f} s of {len(times)}; ours: {s['n_grids']} grids, "
          f"{100 * s['share_grids_within_bounds']:.1f}% in band, households in in-band grids "
          f"{100 * report['guard']['proposed']['households_in_band_share']:.1f}%")
    keys = ("n_grids", "share_grids_within_bounds", "all_contiguous", "mean_polsby_popper", "n_infeasible")
    print("gridbench evaluate.py:", {k: scored.get(k) for k in keys})


if __name__ == "__main__":
    sys.exit(main())
