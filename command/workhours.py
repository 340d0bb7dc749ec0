"""Working hours: when an event's deadline falls.

Deadlines (时限) are set per leaf class in working hours: a 16-hour leaf
reported on Friday afternoon is due on Tuesday, not on Saturday morning. The
calendar is data, kept in the taxonomy file (``calendar``) and stored with each
taxonomy version: the time zone, the working weekdays, the working periods of
a day, public holidays and the weekend days worked instead (调休). Leaves whose
priority is listed in ``calendar_hours_priorities`` (priority 1 by default)
run on plain clock hours instead, because a gas leak or a fire does not wait
for Monday.

The holidays and 调休 days themselves come from the ``chinesecalendar``
package and the store's calendar table (:mod:`command.holidays` builds the
calendar the taxonomy carries); such a calendar also knows which years it
holds (``known_years``) and refuses to count across any other year with
:class:`~layers.errors.UnknownCalendarYear`, rather than treat that year's
holidays as working days. :meth:`WorkCalendar.deadline` is what intake uses: it
still gives an event a deadline then, counted on the weekly rhythm, and says so.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from layers.errors import UnknownCalendarYear

__all__ = ["WorkCalendar", "Deadline", "DEFAULT_CALENDAR"]

_MAX_DAYS = 3660  # ten years of days: a deadline further out is a data error


class WorkCalendar(BaseModel):
    """Working days and hours of the command centre.

    Parameters
    ----------
    timezone
        IANA zone the periods are read in (``Asia/Shanghai``).
    working_weekdays
        ISO weekdays that are working days (1 = Monday … 7 = Sunday).
    working_periods
        ``(start, end)`` times of day, in order and not overlapping.
    calendar_hours_priorities
        Priorities whose deadlines count clock hours rather than working hours.
    holidays
        Dates that are not worked although their weekday is.
    extra_working_days
        Dates that are worked although their weekday is not (调休).
    known_years
        The years whose holidays are all given; counting a working day of
        any other year raises :class:`~layers.errors.UnknownCalendarYear`.
        ``None`` (a calendar read from the taxonomy file alone) checks nothing.

    Examples
    --------
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> cal = WorkCalendar()
    >>> friday = datetime(2026, 11, 20, 16, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> cal.add_hours(friday, 2).isoformat()
    '2026-11-23T10:00:00+08:00'
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    timezone: str = "Asia/Shanghai"
    working_weekdays: tuple[int, ...] = (1, 2, 3, 4, 5)
    working_periods: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13, 30), time(17, 30)))
    calendar_hours_priorities: tuple[int, ...] = (1,)
    holidays: frozenset[date] = Field(default_factory=frozenset)
    extra_working_days: frozenset[date] = Field(default_factory=frozenset)
    known_years: frozenset[int] | None = Field(default=None, exclude=True)

    @field_validator("working_weekdays")
    @classmethod
    def _iso_weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(d < 1 or d > 7 for d in value):
            raise ValueError("working_weekdays must be ISO weekdays 1..7, at least one")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value

    @model_validator(mode="after")
    def _periods_in_order(self) -> WorkCalendar:
        previous = time(0)
        if not self.working_periods:
            raise ValueError("working_periods must hold at least one period")
        for start, end in self.working_periods:
            if not (previous <= start < end):
                raise ValueError("working_periods must be in order, each start before its end, not overlapping")
            previous = end
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        """True when ``day`` is worked: a working weekday not a holiday, or a 调休 day.

        Raises
        ------
        UnknownCalendarYear
            When ``known_years`` is set and does not hold ``day``'s year.
        """
        if self.known_years is not None and day.year not in self.known_years:
            raise UnknownCalendarYear(day.year)
        if day in self.extra_working_days:
            return True
        return day.isoweekday() in self.working_weekdays and day not in self.holidays

    def runs_on_clock_hours(self, priority: int) -> bool:
        """True when leaves of ``priority`` count deadlines in clock hours."""
        return priority in self.calendar_hours_priorities

    def add_hours(self, start: datetime, hours: float, *, clock_hours: bool = False) -> datetime:
        """The moment ``hours`` working hours after ``start`` (an aware datetime).

        Time before a period, between periods, at night, at weekends and on
        holidays does not count. With ``clock_hours`` the hours are plain
        elapsed time. The answer is in the calendar's time zone.

        Raises
        ------
        ValueError
            For a naive ``start``, negative hours, or a deadline more than ten
            years out (a calendar without working days, in effect).
        UnknownCalendarYear
            When the count runs into a year outside ``known_years``.
        """
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        if hours < 0:
            raise ValueError("hours must not be negative")
        local = start.astimezone(self.zone)
        if clock_hours:
            return local + timedelta(hours=hours)
        remaining = timedelta(hours=hours)
        day = local.date()
        cursor = local
        for _ in range(_MAX_DAYS):
            if self.is_working_day(day):
                for p_start, p_end in self.working_periods:
                    begin = max(cursor, datetime.combine(day, p_start, tzinfo=self.zone))
                    end = datetime.combine(day, p_end, tzinfo=self.zone)
                    if begin >= end:
                        continue
                    if remaining <= end - begin:
                        return begin + remaining
                    remaining -= end - begin
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0), tzinfo=self.zone)
        raise ValueError(f"no deadline within {_MAX_DAYS} days: does the calendar have working days?")

    def deadline(self, start: datetime, hours: float, *, clock_hours: bool = False) -> Deadline:
        """:meth:`add_hours`, or, when that runs into a year the calendar does not know, a provisional answer.

        The provisional deadline is counted on the weekly rhythm plus whatever
        days of that year are given, and carries the year, so that the
        caller files the event (losing a 12345 call because nobody loaded the
        holidays is worse than a deadline a holiday too early) and says so.
        """
        try:
            return Deadline(self.add_hours(start, hours, clock_hours=clock_hours), None)
        except UnknownCalendarYear as gap:
            weekly = self.model_copy(update={"known_years": None})
            return Deadline(weekly.add_hours(start, hours, clock_hours=clock_hours), gap.year)

    def working_hours_between(self, start: datetime, end: datetime) -> float:
        """Working hours elapsed from ``start`` to ``end`` (0 when ``end`` is earlier)."""
        if end <= start:
            return 0.0
        a, b = start.astimezone(self.zone), end.astimezone(self.zone)
        total = timedelta()
        day = a.date()
        while day <= b.date():
            if self.is_working_day(day):
                for p_start, p_end in self.working_periods:
                    lo = max(a, datetime.combine(day, p_start, tzinfo=self.zone))
                    hi = min(b, datetime.combine(day, p_end, tzinfo=self.zone))
                    if hi > lo:
                        total += hi - lo
            day += timedelta(days=1)
        return total.total_seconds() / 3600


class Deadline(NamedTuple):
    """A deadline, and the year it was counted without holidays for (``None``: counted with all of them)."""

    at: datetime
    unknown_year: int | None

    @property
    def provisional(self) -> bool:
        """True when a year the calendar does not know was counted on the weekly rhythm."""
        return self.unknown_year is not None


DEFAULT_CALENDAR = WorkCalendar()
