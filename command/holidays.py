"""The working calendar's days as data: the ``chinesecalendar`` package, the taxonomy file, the store.

Which days are holidays and which weekend days are worked instead (调休) is
decided each year by the State Council's notice (published in November).
Three sources give them, the later overriding the earlier, day by day:

1. the ``chinesecalendar`` package (maintained, updated after each notice;
   1.11.0 covers 2004–2026);
2. the taxonomy file's ``calendar.holidays`` / ``extra_working_days`` lists,
   stored with each taxonomy version: kept as a district's overrides that
   travel with its file (the shipped file lists 2026, as the package does);
3. the store's ``calendar_day`` table, which an admin edits
   (``gridwall calendar set``, ``gridwall calendar load``), each row with who
   set it and when, each write audited.

A year is *known* when the package covers it or an admin declared it whole
(``calendar_year``, written by ``gridwall calendar load``). The taxonomy
carries the merged :class:`~command.workhours.WorkCalendar`, whose
``known_years`` makes a count into any other year raise
:class:`~layers.errors.UnknownCalendarYear`; intake files the event anyway
with a provisional deadline (:meth:`~command.workhours.WorkCalendar.deadline`).
Every change draws a new ``calendar_revision``, so each process's cached
taxonomy, and intake's check that it is current, pick it up at once.

A year's CSV (UTF-8, header ``date,working,name``)::

    date,working,name
    2027-02-06,off,春节
    2027-02-20,work,春节调休

``working`` is ``work``/``off`` (also ``班``/``休``, ``1``/``0``, ``true``/``false``).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib.metadata import version
from pathlib import Path

from sqlalchemy import Connection, delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from command.audit import audit
from command.workhours import DEFAULT_CALENDAR, WorkCalendar
from layers import models as m
from layers.errors import LoadError, UnknownCalendarYear

__all__ = [
    "CalendarDay",
    "YearLoad",
    "package_years",
    "known_years",
    "working_calendar",
    "year_days",
    "set_day",
    "load_year",
    "calendar_notices",
]

log = logging.getLogger(__name__)

_WORKING = {"work": True, "班": True, "1": True, "true": True, "yes": True,
            "off": False, "休": False, "0": False, "false": False, "no": False}
_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('gridwall.calendar'))")
# a fresh random number per change, never rev + 1: see migration 0012 and DistrictAliasRevision
_BUMP = text("INSERT INTO calendar_revision (id, rev) VALUES (1, CAST(floor(random() * 9.2e18) AS bigint))"
             " ON CONFLICT (id) DO UPDATE SET rev = EXCLUDED.rev")


@dataclass(frozen=True)
class CalendarDay:
    """A day that differs from the weekly rhythm (or is named), with where that comes from."""

    day: date
    working: bool
    name: str
    source: str  # "chinesecalendar 1.11.0", "taxonomy file", "store: <actor> <when>"


@dataclass(frozen=True)
class YearLoad:
    """What :func:`load_year` did."""

    year: int
    source: str
    off: int
    work: int
    removed: int


# -- the package ------------------------------------------------------------------------
@cache
def _package() -> tuple[str, dict[date, tuple[bool, str]], frozenset[int]]:
    """The package's version, its days (date -> (working, Chinese name)) and the years it covers; read once."""
    from chinese_calendar import constants as cc

    zh = {h.value: h.chinese for h in cc.Holiday}
    days = {d: (False, zh.get(n, n)) for d, n in cc.holidays.items()}
    days.update({d: (True, f"{zh.get(n, n)}调休") for d, n in cc.workdays.items()})
    years = frozenset(range(min(cc.holidays).year, max(cc.holidays).year + 1))
    return f"chinesecalendar {version('chinesecalendar')}", days, years


def package_years() -> frozenset[int]:
    """The years the installed ``chinesecalendar`` gives every holiday of."""
    return _package()[2]


# -- reading ----------------------------------------------------------------------------
def known_years(conn: Connection) -> frozenset[int]:
    """The years the calendar knows: the package's and those declared in the store."""
    cy = m.CalendarYear.__table__
    return package_years() | frozenset(conn.execute(select(cy.c.year)).scalars())


def _stored(conn: Connection, year: int | None = None):
    cd = m.CalendarDay.__table__
    query = select(cd).order_by(cd.c.day)
    if year is not None:
        query = query.where(cd.c.day.between(date(year, 1, 1), date(year, 12, 31)))
    return conn.execute(query).all()


def _merged(conn: Connection, base: WorkCalendar, year: int | None = None) -> dict[date, CalendarDay]:
    label, package, _ = _package()
    days = {d: CalendarDay(d, w, n, label) for d, (w, n) in package.items() if year is None or d.year == year}
    for working, listed in ((False, base.holidays), (True, base.extra_working_days)):
        for d in listed:  # the file overrides where it says otherwise; where it agrees the package stays the source
            if d not in days or days[d].working != working:
                days[d] = CalendarDay(d, working, days[d].name if d in days else "", "taxonomy file")
    if year is not None:
        days = {d: v for d, v in days.items() if d.year == year}
    for r in _stored(conn, year):
        days[r.day] = CalendarDay(r.day, r.working, r.name, f"store: {r.set_by} {r.set_at:%Y-%m-%d %H:%M}")
    return days


def working_calendar(conn: Connection, base: WorkCalendar) -> WorkCalendar:
    """``base`` (the taxonomy file's settings) with every source's holidays and 调休 days, and the known years."""
    days = _merged(conn, base)
    return base.model_copy(update={
        "holidays": frozenset(d for d, v in days.items() if not v.working),
        "extra_working_days": frozenset(d for d, v in days.items() if v.working),
        "known_years": known_years(conn),
    })


def _base(conn: Connection) -> WorkCalendar:
    """The current taxonomy version's own calendar settings (the defaults when none is loaded)."""
    tv = m.TaxonomyVersion.__table__
    stored = conn.execute(select(tv.c.calendar).where(tv.c.is_current)).scalar()
    return DEFAULT_CALENDAR if stored is None else WorkCalendar.model_validate(stored)


def year_days(conn: Connection, year: int) -> list[CalendarDay]:
    """The holidays and 调休 days of ``year``, each with its source, in date order.

    Raises
    ------
    UnknownCalendarYear
        When neither the package nor a declared year covers ``year`` (what
        the store holds for it is not the whole year, so not listed as if it were).
    """
    if year not in known_years(conn):
        raise UnknownCalendarYear(year)
    return sorted(_merged(conn, _base(conn), year).values(), key=lambda d: d.day)


# -- writing ----------------------------------------------------------------------------
def _changed(conn: Connection) -> None:
    conn.execute(_BUMP)


def _upsert_days(conn: Connection, days: list[dict], actor: str) -> None:
    """Write ``days`` (``day``, ``working``, ``name``) as set by ``actor`` now, over what the store held."""
    cd = m.CalendarDay.__table__
    stmt = pg_insert(cd).values([{**d, "set_by": actor} for d in days])
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[cd.c.day],
        set_={"working": stmt.excluded.working, "name": stmt.excluded.name, "set_by": actor, "set_at": text("now()")}))


def _actor(actor: str) -> str:
    actor = (actor or "").strip()
    if not actor:
        raise LoadError("name who sets the calendar (--actor): every change is audited", field="actor")
    return actor


def set_day(conn: Connection, day: date, *, working: bool, name: str = "", actor: str) -> CalendarDay:
    """Declare ``day`` worked or not (overriding the package and the taxonomy file); audited under ``actor``."""
    actor = _actor(actor)
    cd = m.CalendarDay.__table__
    conn.execute(_LOCK)
    before = conn.execute(select(cd.c.working, cd.c.name).where(cd.c.day == day)).one_or_none()
    _upsert_days(conn, [dict(day=day, working=working, name=name.strip())], actor)
    _changed(conn)
    audit(conn, actor=actor, action="calendar_set", entity="calendar_day", entity_id=day.isoformat(),
          detail={"working": working, "name": name.strip(),
                  "before": None if before is None else {"working": before.working, "name": before.name}})
    log.info("calendar: %s set %s by %s", day, "working" if working else "off", actor)
    return CalendarDay(day, working, name.strip(), f"store: {actor}")


def _read_csv(path: Path) -> list[tuple[int, date, bool, str]]:
    """(line, date, working, name) of each row; LoadError naming the line and field of the first fault."""
    source = Path(path).name
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            if not {"date", "working"} <= set(reader.fieldnames or ()):
                raise LoadError("the header must be date,working,name", source=source)
            rows = [(reader.line_num, r) for r in reader]
    except (OSError, UnicodeDecodeError) as exc:
        raise LoadError("cannot read: {reason}", reason=str(exc), source=source) from exc
    out, seen = [], {}
    for i, (line, r) in enumerate(rows):
        try:
            day = date.fromisoformat((r["date"] or "").strip())
        except ValueError:
            raise LoadError("line {line}: {value!r} is no ISO date (YYYY-MM-DD)", line=line, value=r["date"],
                            source=source, feature=i, field="date") from None
        working = _WORKING.get((r["working"] or "").strip().lower())
        if working is None:
            raise LoadError("line {line}: working is work or off (班/休, 1/0), not {value!r}", line=line,
                            value=r["working"], source=source, feature=i, field="working")
        if day in seen:
            raise LoadError("line {line}: {day} is already given on line {first}", line=line, day=day,
                            first=seen[day], source=source, feature=i, field="date")
        seen[day] = line
        out.append((line, day, working, (r.get("name") or "").strip()))
    return out


def load_year(conn: Connection, path: Path, *, actor: str, year: int | None = None) -> YearLoad:
    """Load a year's notice from a CSV: its days replace the store's days of that year, and the year is declared.

    ``year`` defaults to the latest year of the file's dates (a notice may
    begin in the December before, e.g. 元旦 from 30 December); days of that
    December are set too, other years are refused. All or nothing; audited
    under ``actor``.

    Raises
    ------
    LoadError
        An unreadable file, a bad row (line and field named), or a date
        outside ``year`` and the December before it.
    """
    actor = _actor(actor)
    source = Path(path).name
    rows = _read_csv(path)
    if not rows and year is None:
        raise LoadError("the file holds no days: give --year to declare a year without holidays", source=source)
    year = year if year is not None else max(d.year for _, d, _, _ in rows)
    for i, (line, day, _, _) in enumerate(rows):
        if not (day.year == year or (day.year == year - 1 and day.month == 12)):
            raise LoadError("line {line}: {day} is not in {year} (nor the December before it)", line=line,
                            day=day, year=year, source=source, feature=i, field="date")
    cd, cy = m.CalendarDay.__table__, m.CalendarYear.__table__
    conn.execute(_LOCK)
    removed = conn.execute(delete(cd).where(cd.c.day.between(date(year, 1, 1), date(year, 12, 31)))).rowcount
    if rows:
        _upsert_days(conn, [dict(day=d, working=w, name=n) for _, d, w, n in rows], actor)
    stmt = pg_insert(cy).values(year=year, source=source, declared_by=actor)
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[cy.c.year], set_={"source": source, "declared_by": actor, "declared_at": text("now()")}))
    _changed(conn)
    off = sum(not w for _, _, w, _ in rows)
    done = YearLoad(year, source, off, len(rows) - off, removed)
    audit(conn, actor=actor, action="calendar_load", entity="calendar_year", entity_id=year,
          detail={"source": source, "off": done.off, "work": done.work, "replaced": removed,
                  "days": [[d.isoformat(), w, n] for _, d, w, n in rows]})
    log.info("calendar: %s declared from %s by %s (%d off, %d worked)", year, source, actor, done.off, done.work)
    return done


# -- ahead of time ----------------------------------------------------------------------
def calendar_notices(conn: Connection, today: date) -> list[str]:
    """What the calendar lacks as of ``today``: this year, and from 1 December next year.

    A State Council notice comes out in November; from December on, a
    missing next year is a month from making every deadline provisional.
    """
    known = known_years(conn)
    wanted: Iterable[int] = (today.year, today.year + 1) if today.month == 12 else (today.year,)
    return [f"the working calendar does not know {y}: deadlines running into it are counted on weekdays only "
            f"(provisional); load it with: gridwall calendar load FILE.csv --actor NAME"
            for y in wanted if y not in known]


def today_in(calendar: WorkCalendar = DEFAULT_CALENDAR) -> date:
    """Today's date in the calendar's time zone (for callers at the edge: the API, the command line)."""
    return datetime.now(calendar.zone).date()
