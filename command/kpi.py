"""Key figures of the loop for any area and time window: what the wall and the reports show.

For the events reported in ``[start, end)`` in a district, street, community
or grid: events by top class, sub-class, channel and state; closure rate
(closed ÷ events not rejected), on-time closure rate (closed by the deadline
÷ closed), mean hours from report to close, overdue count (closed after the
deadline, or still open past it at ``as_of``), satisfaction (mean rating of
closed events and share rated 4 or 5), and the online rate of the area's
cameras. Duplicates are counted apart and left out of every other figure, so
that a problem reported three times counts once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import Connection, text

from command.audit import sql
from layers.errors import NotFound

__all__ = ["AreaRef", "Kpis", "kpis", "AreaLevel", "AreaFigures", "AreasKpis", "area_kpis"]

Level = Literal["district", "street", "community", "grid"]
#: the levels whose areas are many: :func:`area_kpis` reports on all of one level at once
AreaLevel = Literal["street", "community", "grid"]


class AreaRef(BaseModel):
    """An area to report on: a level and the id of its row (``admin_area`` or ``grid``)."""

    level: Level
    id: int | None = Field(default=None, description="admin_area.id or grid.id; not needed for the district")

    @model_validator(mode="after")
    def _id_unless_district(self) -> AreaRef:
        if self.level != "district" and self.id is None:
            raise ValueError(f"a {self.level} needs its id")
        return self


class Kpis(BaseModel):
    """The figures of one area and window."""

    area: AreaRef
    start: datetime
    end: datetime
    as_of: datetime
    total: int
    duplicates: int
    rejected: int
    closed: int
    closed_on_time: int
    overdue: int
    rated: int
    by_class: dict[str, int]
    by_subclass: dict[str, int]
    by_channel: dict[str, int]
    by_state: dict[str, int]
    closure_rate: float | None
    on_time_rate: float | None
    mean_hours_to_close: float | None
    satisfaction: float | None
    satisfied_share: float | None
    cameras: int
    cameras_online: int
    camera_online_rate: float | None


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def _check_area(conn: Connection, area: AreaRef) -> None:
    if area.level == "district":
        return
    if area.level == "grid":
        found = conn.execute(text("SELECT 1 FROM grid WHERE id = :id"), {"id": area.id}).first()
    else:
        found = conn.execute(text("SELECT 1 FROM admin_area WHERE id = :id AND level = :level"),
                             {"id": area.id, "level": area.level}).first()
    if found is None:
        raise NotFound("no {level} with id {area_id}", level=area.level, area_id=area.id)


def kpis(conn: Connection, area: AreaRef, start: datetime, end: datetime, *,
         as_of: datetime | None = None, departments: tuple[str, ...] | None = None) -> Kpis:
    """The loop's figures for ``area`` over events reported in ``[start, end)``.

    Parameters
    ----------
    as_of
        The moment an open event is judged overdue against; now by default
        (pass it for figures that must not move, as in a monthly report).
    departments
        Count only these departments' events and cameras (a department's
        own figures); every department's when ``None``.

    Raises
    ------
    NotFound
        The area does not exist at that level.
    """
    _check_area(conn, area)
    as_of = as_of or datetime.now(UTC)
    depts = list(departments) if departments is not None else None
    params = {"level": area.level, "area_id": area.id, "start": start, "end": end, "as_of": as_of,
              "departments": depts}
    r = conn.execute(sql("kpis"), params).one()
    cams = conn.execute(sql("kpi_cameras"), {"level": area.level, "area_id": area.id, "departments": depts}).one()
    working = r.total - r.rejected
    return Kpis(
        area=area, start=start, end=end, as_of=as_of, total=r.total, duplicates=r.duplicates, rejected=r.rejected,
        closed=r.closed, closed_on_time=r.closed_on_time, overdue=r.overdue, rated=r.rated,
        by_class=r.by_class, by_subclass=r.by_subclass, by_channel=r.by_channel, by_state=r.by_state,
        closure_rate=_ratio(r.closed, working), on_time_rate=_ratio(r.closed_on_time, r.closed),
        mean_hours_to_close=float(r.mean_hours_to_close) if r.mean_hours_to_close is not None else None,
        satisfaction=float(r.mean_rating) if r.mean_rating is not None else None,
        satisfied_share=_ratio(r.satisfied, r.rated),
        cameras=cams.cameras, cameras_online=cams.online, camera_online_rate=_ratio(cams.online, cams.cameras),
    )


class AreaFigures(BaseModel):
    """The headline figures of one area, as :func:`kpis` gives them for it alone."""

    id: int
    code: str
    name: str | None
    total: int
    closed: int
    overdue: int
    closure_rate: float | None
    on_time_rate: float | None


class AreasKpis(BaseModel):
    """Every area of one level and its figures, the busiest first."""

    level: AreaLevel
    areas: list[AreaFigures]


def area_kpis(conn: Connection, level: AreaLevel, start: datetime, end: datetime, *,
              as_of: datetime | None = None, departments: tuple[str, ...] | None = None) -> AreasKpis:
    """The headline figures of every street, community or (current) grid over ``[start, end)``, in one query.

    Why: a chart of all streets asked :func:`kpis` once per street (N+1); this
    groups the same counts by area in one pass. ``as_of`` and ``departments``
    mean what they mean for :func:`kpis`. Areas without events are listed with
    zeros, so a chart shows every street.
    """
    as_of = as_of or datetime.now(UTC)
    depts = list(departments) if departments is not None else None
    rows = conn.execute(sql("kpi_areas"), {"level": level, "start": start, "end": end, "as_of": as_of,
                                           "departments": depts}).all()
    return AreasKpis(level=level, areas=[
        AreaFigures(id=r.id, code=r.code, name=r.name, total=r.total, closed=r.closed, overdue=r.overdue,
                    closure_rate=_ratio(r.closed, r.total - r.rejected),
                    on_time_rate=_ratio(r.closed_on_time, r.closed))
        for r in rows])
