"""Deadlines in working hours: weekends, lunch, nights, holidays, 调休, clock hours."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from command.workhours import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar()


def t(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)  # 2026-11-20 is a Friday


def test_deadline_crossing_a_weekend():
    assert t(20, 1).isoweekday() == 5
    # Friday 16:30 + 2 working hours: one hour on Friday, one on Monday from 09:00
    assert CAL.add_hours(t(20, 16, 30), 2) == t(23, 10)


def test_sixteen_hours_from_friday_afternoon_end_on_tuesday():
    # Fri 14:00-17:30 = 3.5 h; Mon 7 h (10.5); Tue 09:00-12:00 = 3 h (13.5); 2.5 h after 13:30 -> 16:00
    assert CAL.add_hours(t(20, 14), 16) == t(24, 16)


def test_report_at_the_weekend_starts_on_monday_morning():
    assert CAL.add_hours(t(21, 11), 1) == t(23, 10)


def test_lunch_break_and_night_do_not_count():
    assert CAL.add_hours(t(23, 11), 2) == t(23, 14, 30)
    assert CAL.add_hours(t(23, 17), 1) == t(24, 9, 30)
    assert CAL.add_hours(t(23, 6), 1) == t(23, 10)


def test_deadline_exactly_at_the_end_of_a_period_stays_there():
    assert CAL.add_hours(t(23, 9), 3) == t(23, 12)
    assert CAL.add_hours(t(23, 9), 0) == t(23, 9)


def test_clock_hours_run_through_the_weekend():
    assert CAL.add_hours(t(20, 16, 30), 2, clock_hours=True) == t(20, 18, 30)
    assert CAL.runs_on_clock_hours(1) and not CAL.runs_on_clock_hours(2)


def test_holidays_and_extra_working_days():
    cal = WorkCalendar(holidays=frozenset({date(2026, 11, 23)}), extra_working_days=frozenset({date(2026, 11, 22)}))
    # Friday 17:00 + 1 h: half an hour on Friday, then Sunday (调休) from 09:00; Monday is a holiday
    assert cal.add_hours(t(20, 17), 1) == t(22, 9, 30)
    assert cal.add_hours(t(22, 17), 1) == t(24, 9, 30)


def test_other_time_zones_are_read_in_the_calendar_zone():
    utc_friday = datetime(2026, 11, 20, 8, 30, tzinfo=ZoneInfo("UTC"))  # 16:30 in Shanghai
    assert CAL.add_hours(utc_friday, 2) == t(23, 10)


def test_working_hours_between_skips_what_add_hours_skips():
    assert CAL.working_hours_between(t(20, 16, 30), t(23, 10)) == pytest.approx(2.0)
    assert CAL.working_hours_between(t(23, 10), t(20, 16)) == 0.0


def test_bad_calendars_and_inputs_are_refused():
    with pytest.raises(ValidationError):
        WorkCalendar(working_weekdays=(0, 8))
    with pytest.raises(ValidationError):
        WorkCalendar(working_periods=((time(13), time(12)),))
    with pytest.raises(ValueError, match="aware"):
        CAL.add_hours(datetime(2026, 11, 20, 9), 1)
    with pytest.raises(ValueError, match="negative"):
        CAL.add_hours(t(20, 9), -1)


def _shipped() -> WorkCalendar:
    """The calendar of the taxonomy file, as the store keeps it."""
    import json

    from command.taxonomy import TAXONOMY_FILE

    return WorkCalendar.model_validate(json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))["calendar"])


def test_the_shipped_calendar_holds_the_2026_holidays_and_their_weekend_working_days():
    cal = _shipped()
    # the State Council's notice for 2026: seven holiday periods, six weekend days worked instead
    assert len(cal.holidays) == 3 + 9 + 3 + 5 + 3 + 3 + 7
    assert sorted(cal.extra_working_days) == [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
                                              date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)]
    assert not cal.is_working_day(date(2026, 10, 5)) and cal.is_working_day(date(2026, 10, 10))  # Mon off, Sat on
    assert not cal.holidays & cal.extra_working_days


def test_a_deadline_across_the_spring_festival_counts_the_saturday_worked_and_skips_the_holiday():
    cal = _shipped()
    # Fri 13 Feb 16:00: 1.5 h; Sat 14 Feb is worked (调休): 7 h (8.5); 15-23 Feb off;
    # Tue 24 Feb 7 h (15.5); Wed 25 Feb 09:00 + 0.5 h
    assert cal.add_hours(t(13, 16, month=2), 16) == t(25, 9, 30, month=2)
    assert CAL.add_hours(t(13, 16, month=2), 16) == t(18, 9, 30, month=2)  # what it was without the notice
    assert cal.working_hours_between(t(13, 16, month=2), t(25, 9, 30, month=2)) == pytest.approx(16)
