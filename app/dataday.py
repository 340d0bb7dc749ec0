"""The wall's day: today, or the newest data day when the data stop in the past.

Why: a district loaded from its own history (events of 2018) has no events
"today", and a wall showing zeros says nothing. When the newest event was
reported more than a day before now, the wall's day is that event's day,
its figures are judged at that event's moment, and the wall says so on
screen. The API tells the newest time (``/kpis/data-time``); the rule is
here, and only here. ``GRIDWALL_WALL_AS_OF`` still wins when set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from app.client import ApiClient
from app.i18n import t
from app.payloads import PayloadCache
from app.settings import WallSettings

__all__ = ["DataDay", "resolve", "data_day", "HISTORICAL_AFTER"]

#: data whose newest event is older than this are history: the wall shows their last day, not today
HISTORICAL_AFTER = timedelta(days=1)
#: s the newest data time is kept per process. Shorter than the live script's refresh delay (2.5 s after a change,
#: ``assets/gridwall_live.js``): a wall refreshed because events came never reads a data time cached before them,
#: so the first live event of a district loaded from its history turns its wall to today at that refresh. One
#: index lookup; every wall of the process refreshing together asks once.
_MAX_AGE = 2


@dataclass(frozen=True)
class DataDay:
    """The day the wall's figures are about.

    Attributes
    ----------
    as_of:
        The moment overdue is judged at (aware, in the wall's zone).
    source:
        ``clock`` (today), ``setting`` (``GRIDWALL_WALL_AS_OF``) or
        ``history`` (the newest data day of data that stop in the past).
    """

    as_of: datetime
    source: Literal["clock", "setting", "history"]

    @property
    def day(self) -> date:
        """The calendar day, in the wall's zone."""
        return self.as_of.date()

    def window(self) -> dict[str, str]:
        """The ``/kpis`` parameters of the day: ``start``, ``end`` and, unless it is today, ``as_of``."""
        start = self.as_of.replace(hour=0, minute=0, second=0, microsecond=0)
        window = {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}
        if self.source != "clock":
            window["as_of"] = self.as_of.isoformat()
        return window

    def label(self, lang: str) -> str:
        """What the wall shows beside its title: empty for today, else the day and why.

        Examples
        --------
        >>> DataDay(datetime(2018, 12, 31, 17, tzinfo=UTC), "history").label("en")
        'Data day 2018-12-31 (historical data)'
        """
        if self.source == "clock":
            return ""
        text = t("data_day", lang).format(day=self.day.isoformat())
        return text + (t("historical", lang) if self.source == "history" else "")


def resolve(settings: WallSettings, newest: datetime | None, now: datetime) -> DataDay:
    """The wall's day from the setting, the newest event's time and the clock (pure).

    Examples
    --------
    >>> wall = WallSettings(timezone="Asia/Shanghai")
    >>> now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    >>> resolve(wall, datetime(2018, 12, 31, 15, 30, tzinfo=UTC), now).window()["start"]
    '2018-12-31T00:00:00+08:00'
    >>> resolve(wall, datetime(2026, 12, 7, 11, tzinfo=UTC), now).source
    'clock'
    """
    zone = ZoneInfo(settings.timezone)
    if settings.as_of is not None:
        return DataDay(settings.as_of.astimezone(zone), "setting")
    if newest is not None and newest < now - HISTORICAL_AFTER:
        return DataDay(newest.astimezone(zone), "history")
    return DataDay(now.astimezone(zone), "clock")


def data_day(cache: PayloadCache, settings: WallSettings, now: datetime | None = None) -> DataDay:
    """The wall's day now: the newest data time asked of the API (kept 2 s per process) unless set.

    An API that is away or holds no events gives today.
    """
    now = now or datetime.now(UTC)
    if settings.as_of is not None:
        return resolve(settings, None, now)

    def build() -> str | None:
        with ApiClient(settings) as api:
            return (api.get_json("data_time") or {}).get("newest_reported_at")

    newest = cache.get("data_time", build, max_age=_MAX_AGE).data
    return resolve(settings, datetime.fromisoformat(newest) if newest else None, now)
