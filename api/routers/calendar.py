"""The working calendar over HTTP: a year's holidays and 调休 days, each with its source. Any reader.

Read only: an admin sets days with ``gridwall calendar`` (:mod:`command.holidays`).
A year the calendar does not know is a 404 (``UnknownCalendarYear``) whose
message says how to load it: that year's calendar is not there. Not a 503:
the service is up, and a balancer or monitor must not take it down because
next year's notice has not been loaded (``/health`` warns of that instead).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel

from api.deps import ConnDep, Reader
from command.holidays import year_days

__all__ = ["router", "CalendarDayOut", "CalendarYearOut"]

router = APIRouter(prefix="/calendar", tags=["calendar"])


class CalendarDayOut(BaseModel):
    """A day off on a weekday or at a weekend, or a weekend day worked (调休), and where that comes from."""

    day: date
    working: bool
    name: str
    source: str


class CalendarYearOut(BaseModel):
    """A year's holidays and 调休 days, in date order."""

    year: int
    days: list[CalendarDayOut]


@router.get("/{year}", response_model=CalendarYearOut)
def get_year(year: Annotated[int, Path(ge=1900, le=2200)], conn: ConnDep, user: Reader) -> CalendarYearOut:
    """The holidays and 调休 days of ``year``: chinesecalendar, the taxonomy file, the store's days over both."""
    days = [CalendarDayOut(day=d.day, working=d.working, name=d.name, source=d.source) for d in year_days(conn, year)]
    return CalendarYearOut(year=year, days=days)
