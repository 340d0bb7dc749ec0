"""The wall's day: today, the newest data day of a district's history, or the set day; and what it says."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import SecretStr

from app.dataday import data_day, resolve
from app.payloads import PayloadCache
from app.settings import WallSettings
from tests.app.conftest import KEY

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # a fixed "now": no test here reads the clock
SHANGHAI = WallSettings(timezone="Asia/Shanghai")


def test_data_over_a_day_old_make_their_newest_day_the_walls_day():
    day = resolve(SHANGHAI, datetime(2018, 12, 31, 9, 30, tzinfo=UTC), NOW)
    assert day.source == "history"
    assert day.window() == {"start": "2018-12-31T00:00:00+08:00", "end": "2019-01-01T00:00:00+08:00",
                            "as_of": "2018-12-31T17:30:00+08:00"}
    assert day.label("zh") == "数据日 2018-12-31（历史数据）"
    assert day.label("en") == "Data day 2018-12-31 (historical data)"


def test_fresh_data_or_none_leave_the_wall_on_today_and_say_nothing():
    for newest in (datetime(2026, 12, 6, 12, 0, 1, tzinfo=UTC), None):  # a second inside the day, or no events
        day = resolve(SHANGHAI, newest, NOW)
        assert day.source == "clock" and day.label("zh") == ""
        assert day.window() == {"start": "2026-12-07T00:00:00+08:00", "end": "2026-12-08T00:00:00+08:00"}
    assert resolve(SHANGHAI, datetime(2026, 12, 6, 11, 59, tzinfo=UTC), NOW).source == "history"


def test_a_set_as_of_wins_over_the_data():
    wall = WallSettings(timezone="Asia/Shanghai", as_of="2026-10-31T18:00:00+08:00")
    day = resolve(wall, datetime(2018, 12, 31, 9, 30, tzinfo=UTC), NOW)
    assert day.source == "setting" and day.window()["as_of"] == "2026-10-31T18:00:00+08:00"
    assert day.label("en") == "Data day 2026-10-31"


def test_the_wall_asks_the_api_for_the_data_day_of_a_history(own_district):
    settings = WallSettings(api_url=own_district, api_key=SecretStr(KEY))
    day = data_day(PayloadCache(), settings, now=NOW)
    assert day.source == "history" and day.as_of == datetime.fromisoformat("2018-12-31T17:30:00+08:00")
    assert day.label("zh") == "数据日 2018-12-31（历史数据）"
