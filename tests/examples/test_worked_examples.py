"""The worked examples of README's "Bring your own district", run as a user runs them.

Each ``examples/<district>/load.sh`` is run with bash against a fresh database
of the test cluster, reading the real files in ``../shared/realdata`` unchanged
(they are for tests only and never copied into the repository). The figures
asserted are the product's own: routing, KPIs, the partitioner.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import geopandas
import pandas as pd
import pytest
from sqlalchemy import text

from command.kpi import AreaRef, kpis
from layers.db import make_engine
from layers.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata"


def run_example(name: str, cluster, tmp_path: Path):
    """Run one example's load.sh against a fresh database; return an engine on it and the script's output."""
    url = cluster.create_database(f"example_{name}")
    env = {**os.environ, "GRIDWALL_DATABASE_URL": url, "REALDATA": str(REALDATA), "REJECTS_DIR": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("GRIDWALL_DATABASE_DATA_DIR", None)
    done = subprocess.run(["bash", f"examples/{name}/load.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return make_engine(DatabaseSettings(url=url, fsync=False)), done.stdout


_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}


def _community_and_number(name: str) -> tuple[str, int] | None:
    """'灯芯巷网格4' / '天水街道灯芯巷社区第四网格' / '天水街道灯芯巷社区灯芯巷社区网格4' -> ('灯芯巷', 4)."""
    m = re.search(r"(?:街道)?([^街道]+?)(?:社区)?(?:\1社区)?(?:第([一二三四五六七八九十]+)网格|网格(\d+))", name)
    if m is None:
        return None
    number = _NUMERALS[m.group(2)] if m.group(2) else int(m.group(3))
    return m.group(1), number


def test_the_naming_rule_reads_both_spellings_of_a_grid():
    assert _community_and_number("灯芯巷网格4") == ("灯芯巷", 4)
    assert _community_and_number("天水街道灯芯巷社区第四网格") == ("灯芯巷", 4)
    assert _community_and_number("天水街道胭脂新村社区胭脂新村社区网格2") == ("胭脂新村", 2)


def test_hangzhou_xiacheng_events_land_in_the_grid_they_were_reported_from(cluster, tmp_path):
    engine, out = run_example("hangzhou_xiacheng", cluster, tmp_path)
    source = geopandas.read_file(REALDATA / "hangzhou_xiacheng_grid/grid_events_2018_pii_stripped.geojson")
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT e.external_id, e.state, e.duplicate_of_id, g.name AS grid FROM event e"
                " LEFT JOIN grid g ON g.id = e.grid_id")).all()
            areas = dict(conn.execute(text("SELECT level, count(*) FROM admin_area GROUP BY level")).all())
            named = conn.execute(text("SELECT count(*) FROM grid WHERE name IS NOT NULL")).scalar()
            water = conn.execute(text("SELECT count(*) FROM water WHERE GeometryType(geom) = 'MULTILINESTRING'"))
    finally:
        engine.dispose()
    assert areas == {"district": 1, "street": 8, "community": 75}
    assert named == 297  # 340 polygons, parts sharing a code joined
    assert water.scalar() == 7
    assert len(rows) == len(source) == 228  # every event in, none merged as a duplicate
    assert all(r.duplicate_of_id is None and r.state == "closed" for r in rows)
    reported = {f"grid_events_2018_pii_stripped#{i}": u for i, u in enumerate(source["reporting_unit"])}
    same = sum(r.grid is not None and _community_and_number(r.grid) == _community_and_number(reported[r.external_id])
               for r in rows)
    share = same / len(rows)
    print(f"Hangzhou: {same} of {len(rows)} events ({share:.1%}) land in the grid they were reported from")
    assert share >= 0.95
    rejects = pd.read_csv(tmp_path / "xiacheng_facilities_rejects.csv")
    assert list(rejects.columns[:3]) == ["feature", "field", "reason"]
    assert rejects["reason"].str.contains("outside the district").all()
    assert not rejects["reason"].str.contains("gcj02").any()  # the stray manhole is no datum shift


def test_shenzhen_pingshan_on_time_rate_is_the_sources(cluster, tmp_path):
    engine, out = run_example("shenzhen_pingshan", cluster, tmp_path)
    source = pd.read_csv(REALDATA / "shenzhen_pingshan_minsheng_events_2018.csv", dtype=str)
    in_time, late = (source["INTIME_ARCHIVE_NUM"] == "1").sum(), (source["OVERTIME_ARCHIVE_NUM"] == "1").sum()
    try:
        with engine.connect() as conn:
            k = kpis(conn, AreaRef(level="district"), datetime(2018, 1, 1, tzinfo=UTC),
                     datetime(2019, 1, 1, tzinfo=UTC), as_of=datetime(2019, 1, 1, tzinfo=UTC))
            streets = conn.execute(text("SELECT count(*) FROM admin_area WHERE level = 'street' AND geom IS NULL"))
            unrouted = conn.execute(text("SELECT count(*) FROM event WHERE street_id IS NULL")).scalar()
    finally:
        engine.dispose()
    assert streets.scalar() == 7
    assert unrouted == 0
    assert k.total == len(source) == 9990 and k.duplicates == 0
    assert k.closed == in_time + late
    print(f"Shenzhen: on-time rate {k.on_time_rate:.4%} (source {in_time / (in_time + late):.4%})")
    assert k.on_time_rate == pytest.approx(in_time / (in_time + late), abs=1e-12)
    assert "routed to their street" in out


def test_nanjing_jianye_buildings_get_households_and_partition(cluster, tmp_path, quick_params):
    from layers import partitioning

    engine, out = run_example("nanjing_jianye", cluster, tmp_path)
    try:
        with engine.begin() as conn:
            b = conn.execute(text("SELECT count(*) AS n, count(*) FILTER (WHERE households > 0) AS housed,"
                                  " max(households) AS most, min(floors) AS low FROM building")).one()
            version, report = partitioning.propose(conn, mode="partition", created_by="test", params=quick_params)
            grids = conn.execute(text("SELECT count(*) FROM grid WHERE version_id = :v"), {"v": version}).scalar()
    finally:
        engine.dispose()
    assert b.n == 5284  # the self-intersecting footprint repaired, on request
    assert b.housed / b.n > 0.95 and b.most == 5000 and b.low >= 1
    assert "over the cap of 5,000" in out
    print(f"Nanjing: {grids} grids proposed, {report['summary']['share_grids_within_bounds']:.1%} in band")
    assert grids > 100 and report["summary"]["all_contiguous"]
