"""A living demo: the year of events ends at a given moment (the command line's "now"), the same for the same seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gis_data.demo import (
    REFERENCE_TIME,
    WorkCalendar,
    demo_end,
    generate_district,
    load_taxonomy,
    sample_intakes,
    taxonomy_leaves,
)
from gis_data.demo.events import report_times

#: a Monday afternoon in Changsha (14:59), five weeks after the reference time
END = pd.Timestamp("2026-12-07 06:59:00", tz="UTC")


@pytest.fixture(scope="module")
def living():
    return generate_district("small", seed=7, end=END)


def test_the_events_end_at_the_given_moment(living):
    e, h = living.events, living.event_history
    assert living.end == END
    assert (e["reported_at"] <= END).all() and (h["at"] <= END).all()
    assert (e["reported_at"] > END - pd.Timedelta(days=366)).all()
    # alive: events today (Beijing time), and open ones among the last weeks
    today = END.tz_convert("Asia/Shanghai").normalize()
    assert (e["reported_at"] >= today).any()
    open_ = e[~e["state"].isin(["closed", "rejected"])]
    assert len(open_) and (open_["reported_at"] > END - pd.Timedelta(days=21)).mean() > 0.5
    # cameras' last signals and workers' last fixes end there too
    assert living.cameras["last_seen"].max() <= END and living.cameras["last_seen"].max() > END - pd.Timedelta("1h")
    assert living.workers["updated_at"].max() <= END


def test_the_same_seed_and_end_give_the_same_district(living):
    again = generate_district("small", seed=7, end=END)
    pd.testing.assert_frame_equal(living.events.drop(columns="geometry"), again.events.drop(columns="geometry"))
    assert list(living.events.geometry.to_wkb()) == list(again.events.geometry.to_wkb())
    pd.testing.assert_frame_equal(living.event_history, again.event_history)


def test_another_end_moves_the_events_not_the_city(living):
    fixed = generate_district("small", seed=7)
    assert fixed.end == REFERENCE_TIME and fixed.events["reported_at"].max() <= REFERENCE_TIME
    assert fixed.buildings.geometry.geom_equals_exact(living.buildings.geometry, 0).all()
    assert living.events["reported_at"].max() > REFERENCE_TIME + pd.Timedelta(days=30)


def test_an_end_without_a_zone_is_refused():
    with pytest.raises(ValueError, match="time zone"):
        demo_end("2026-12-07 21:59")
    assert demo_end("2026-12-08T05:59:30.7+08:00") == pd.Timestamp("2026-12-07 21:59:30", tz="UTC")


def _per_day(end: pd.Timestamp, calendar: WorkCalendar, n: int = 60_000) -> pd.Series:
    t = report_times(np.random.default_rng(3), np.full(n, "patrol", dtype=object), n, end, calendar)
    local = pd.to_datetime(t + calendar.utc_offset_s, unit="s")
    return local.normalize().value_counts()


def test_days_off_are_quiet_and_follow_the_calendar_of_the_year_before_the_end():
    calendar = WorkCalendar.from_taxonomy(load_taxonomy())
    days = _per_day(pd.Timestamp("2026-12-07 09:30", tz="UTC"), calendar)  # 17:30 in Changsha
    assert days.index.max() == pd.Timestamp("2026-12-07") and days.index.min() >= pd.Timestamp("2025-12-08")
    assert days.max() < 1.6 * days.quantile(0.95), "reports piled up on a day"
    october = days[(days.index >= "2026-09-14") & (days.index < "2026-10-26")]
    national_day_weekdays = october[pd.to_datetime(["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06"])]
    worked_weekend = october[pd.to_datetime(["2026-09-20", "2026-10-10"])]  # 调休: a Sunday and a Saturday worked
    weekends = october[(october.index.day_of_week >= 5) & ~october.index.isin(worked_weekend.index)]
    weekdays = october[(october.index.day_of_week < 5) & (october.index < "2026-09-25")
                       | (october.index > "2026-10-08") & (october.index.day_of_week < 5)]
    assert national_day_weekdays.mean() < 0.6 * weekdays.mean()
    assert weekends.mean() < 0.6 * weekdays.mean()
    assert worked_weekend.mean() > 0.8 * weekdays.mean()
    # a year the calendar lists no holidays for: the weekly rhythm alone, on that year's weekdays
    later = _per_day(pd.Timestamp("2028-06-01 04:00", tz="UTC"), calendar)
    assert later[later.index.day_of_week >= 5].mean() < 0.6 * later[later.index.day_of_week < 5].mean()


def test_new_events_are_drawn_from_the_demo_mix():
    drawn = sample_intakes(np.random.default_rng(5), 400)
    leaves = taxonomy_leaves().set_index("code")
    assert drawn["category"].isin(leaves.index).all()
    assert (drawn["name"] == leaves.loc[drawn["category"], "name_zh"].to_numpy()).all()
    share = drawn["channel"].value_counts(normalize=True)
    assert abs(share["self_settled"] - 0.53) < 0.08 and abs(share["patrol"] - 0.33) < 0.08
    same = sample_intakes(np.random.default_rng(5), 400)
    pd.testing.assert_frame_equal(drawn, same)
