"""Shenzhen 坪山区's worked example: the product's on-time rate is the source's."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import text

from command.kpi import AreaRef, kpis
from tests.examples.common import REALDATA, run_example


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
