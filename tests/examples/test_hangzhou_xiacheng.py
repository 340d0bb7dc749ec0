"""Hangzhou 下城区's worked example: its grid events land in the grid they were reported from."""

from __future__ import annotations

import re

import geopandas
import pandas as pd
from sqlalchemy import text

from tests.examples.common import REALDATA, run_example

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
