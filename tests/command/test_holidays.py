"""The working calendar as data: chinesecalendar, the store's days over it, and years nobody gave."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from command.holidays import calendar_notices, load_year, package_years, set_day, working_calendar, year_days
from command.intake import EventIn, intake
from command.taxonomy import current_taxonomy
from command.workhours import WorkCalendar
from layers.errors import LoadError, UnknownCalendarYear

SH = ZoneInfo("Asia/Shanghai")

# The official 2027 notice is not known to this test: these are the test's OWN dates, shaped like a Spring
# Festival: Friday 5 to Thursday 11 February 2027 off, Saturday 13 February worked instead (调休).
SPRING_2027 = """date,working,name
2027-02-05,off,春节
2027-02-06,off,春节
2027-02-07,off,春节
2027-02-08,off,春节
2027-02-09,off,春节
2027-02-10,off,春节
2027-02-11,off,春节
2027-02-13,work,春节调休
"""


def t(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def spring_2027(tmp_path):
    path = tmp_path / "2027.csv"
    path.write_text(SPRING_2027, encoding="utf-8")
    return path


def test_a_deadline_across_the_2027_spring_festival_skips_the_loaded_holidays_and_counts_the_tiaoxiu_day(
        conn, taxonomy, spring_2027):
    before = current_taxonomy(conn).calendar
    with pytest.raises(UnknownCalendarYear) as caught:
        before.add_hours(t(2027, 2, 4, 16), 16)
    assert caught.value.year == 2027 and "gridwall calendar load" in str(caught.value)
    # what intake would do without the year: weekdays only, and said to be provisional
    assert before.deadline(t(2027, 2, 4, 16), 16) == (t(2027, 2, 9, 9, 30), 2027)

    done = load_year(conn, spring_2027, actor="tester")
    assert (done.year, done.off, done.work, done.removed) == (2027, 7, 1, 0)
    cal = current_taxonomy(conn).calendar  # a new calendar revision: the cached taxonomy is read again
    # Thu 4 Feb 16:00 + 16 h: 1.5 h on Thursday, 5-11 Feb off, 7 h on Fri 12, 7 h on the 调休 Saturday 13,
    # Sunday off, 0.5 h on Monday 15
    assert cal.add_hours(t(2027, 2, 4, 16), 16) == t(2027, 2, 15, 9, 30)
    assert cal.working_hours_between(t(2027, 2, 4, 16), t(2027, 2, 15, 9, 30)) == pytest.approx(16)
    audit = conn.execute(text("SELECT actor, entity_id, detail FROM audit_log WHERE action = 'calendar_load'")).one()
    assert (audit.actor, audit.entity_id, audit.detail["off"], audit.detail["work"]) == ("tester", "2027", 7, 1)


def test_intake_files_an_event_in_an_unknown_year_with_a_provisional_deadline_and_says_so(
        conn, spot, kit, spring_2027):
    def file(external_id: str):
        got = intake(conn, EventIn(channel="patrol", external_id=external_id, category="020103", lon=spot.lon,
                                   lat=spot.lat, reported_at=t(2027, 2, 4, 16)), actor="worker-7")
        detail = conn.execute(text("SELECT detail FROM audit_log WHERE entity = 'event' AND entity_id = :id"),
                              {"id": str(got.id)}).scalar_one()
        return got, detail

    got, detail = file("p-2027-a")  # 8 working hours, 2027 unknown: Thu 1.5 h, Fri 5 Feb 6.5 h
    assert got.created and got.deadline_at == t(2027, 2, 5, 17)
    assert "2027" in detail["deadline_provisional"] and "gridwall calendar load" in detail["deadline_provisional"]
    load_year(conn, spring_2027, actor="tester")
    got, detail = file("p-2027-b")  # the same with the year loaded: 1.5 h Thursday, 6.5 h on Friday 12
    assert got.deadline_at == t(2027, 2, 12, 17) and "deadline_provisional" not in detail


def test_a_2026_deadline_across_national_day_comes_from_chinesecalendar_without_table_rows(conn):
    assert conn.execute(text("SELECT count(*) FROM calendar_day")).scalar_one() == 0
    assert {2004, 2026} <= package_years()
    cal = working_calendar(conn, WorkCalendar())  # no taxonomy lists: the package alone
    # Wed 30 Sep 16:00 + 8 h: 1.5 h, 1-7 Oct off, 6.5 h on Thursday 8 Oct
    assert cal.add_hours(t(2026, 9, 30, 16), 8) == t(2026, 10, 8, 17)
    # + 16 h: 7 h more on Friday 9, then Saturday 10 Oct is worked (调休): 09:30
    assert cal.add_hours(t(2026, 9, 30, 16), 16) == t(2026, 10, 10, 9, 30)
    days = {d.day: d for d in year_days(conn, 2026)}
    assert days[date(2026, 10, 1)].name == "国庆节" and days[date(2026, 10, 1)].source.startswith("chinesecalendar")
    assert days[date(2026, 10, 10)].working


def test_a_day_set_in_the_store_overrides_the_package_and_is_audited(conn, taxonomy):
    assert current_taxonomy(conn).calendar.add_hours(t(2026, 10, 8, 16), 2) == t(2026, 10, 9, 9, 30)
    set_day(conn, date(2026, 10, 9), working=False, name="区级补休", actor="admin-li")
    assert current_taxonomy(conn).calendar.add_hours(t(2026, 10, 8, 16), 2) == t(2026, 10, 10, 9, 30)
    day = {d.day: d for d in year_days(conn, 2026)}[date(2026, 10, 9)]
    assert (day.working, day.name) == (False, "区级补休") and day.source.startswith("store: admin-li")
    audit = conn.execute(text("SELECT actor, entity_id, detail FROM audit_log WHERE action = 'calendar_set'")).one()
    assert (audit.actor, audit.entity_id, audit.detail["working"]) == ("admin-li", "2026-10-09", False)
    with pytest.raises(LoadError, match="actor"):
        set_day(conn, date(2026, 10, 9), working=True, actor=" ")


def test_a_deadline_running_into_an_unknown_year_names_it(conn, taxonomy):
    cal = current_taxonomy(conn).calendar
    with pytest.raises(UnknownCalendarYear) as caught:
        cal.add_hours(t(2026, 12, 31, 16), 8)  # runs across New Year into 2027
    assert caught.value.year == 2027
    assert cal.add_hours(t(2026, 12, 31, 16), 8, clock_hours=True) == t(2027, 1, 1, 0)  # clock hours need no holidays
    with pytest.raises(UnknownCalendarYear, match="does not know 2031"):
        year_days(conn, 2031)


def test_next_years_gap_is_announced_from_the_first_of_december(conn, spring_2027):
    assert calendar_notices(conn, date(2026, 11, 30)) == []
    (notice,) = calendar_notices(conn, date(2026, 12, 1))
    assert "2027" in notice and "gridwall calendar load" in notice
    load_year(conn, spring_2027, actor="tester")
    assert calendar_notices(conn, date(2026, 12, 1)) == []
    assert "2028" in calendar_notices(conn, date(2028, 3, 1))[0]


def test_a_faulty_year_file_names_its_line_and_field_and_loads_nothing(conn, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("date,working,name\n2027-02-05,off,春节\n2027-02-06,maybe,春节\n", encoding="utf-8")
    with pytest.raises(LoadError) as caught:
        load_year(conn, path, actor="tester")
    assert (caught.value.field, caught.value.feature, caught.value.source) == ("working", 1, "bad.csv")
    assert "line 3" in str(caught.value)
    path.write_text("date,working,name\n2027-02-05,off,春节\n2025-02-06,off,春节\n", encoding="utf-8")
    with pytest.raises(LoadError, match="not in 2027"):
        load_year(conn, path, actor="tester")
    assert conn.execute(text("SELECT count(*) FROM calendar_day")).scalar_one() == 0
