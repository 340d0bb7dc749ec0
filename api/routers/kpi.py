"""Key figures of the loop for an area and a time window (the wall's numbers, the monthly report)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.access import kpi_departments
from api.deps import Analyst, ConnDep, Reader
from api.params import MAX_INT, WindowDep
from command.kpi import AreaLevel, AreaRef, AreasKpis, Kpis, area_kpis, kpis
from layers.queries import newest_event_time

__all__ = ["router", "DataTime"]

router = APIRouter(tags=["kpi"])


class DataTime(BaseModel):
    """How recent the store's data are."""

    newest_reported_at: datetime | None = Field(
        description="When the newest event was reported; null when the store holds no events. A wall whose data "
                    "stop in the past (a district's history) shows that day instead of today.")


@router.get("/kpis", summary="Figures of the loop for an area and window")
def get_kpis(window: WindowDep, conn: ConnDep, user: Analyst,
             level: Literal["district", "street", "community", "grid"] = "district",
             area_id: Annotated[int | None, Query(ge=1, le=MAX_INT, description="admin_area.id or grid.id")] = None,
             as_of: Annotated[datetime | None, Query(description="Judge overdue at this moment (aware)")] = None,
             ) -> Kpis:
    """Events by class, channel and state; closure, on-time and satisfaction rates; camera online rate.

    A department key's figures count its departments' events and cameras (:func:`api.access.kpi_departments`).
    """
    return kpis(conn, AreaRef(level=level, id=area_id), window.start, window.end, as_of=as_of,
                departments=kpi_departments(user))


@router.get("/kpis/areas", summary="Figures of every street, community or grid in one answer")
def get_area_kpis(window: WindowDep, conn: ConnDep, user: Analyst, level: AreaLevel,
                  as_of: Annotated[datetime | None, Query(description="Judge overdue at this moment (aware)")] = None,
                  ) -> AreasKpis:
    """Events, closed, overdue, closure and on-time rates of each area of ``level``, the busiest first.

    One grouped query instead of one ``/kpis`` per area; scoped like ``/kpis`` (a department key counts its
    departments' events). Grids are the current version's.
    """
    return area_kpis(conn, level, window.start, window.end, as_of=as_of, departments=kpi_departments(user))


@router.get("/kpis/data-time", summary="How recent the data are: the newest event's reported time")
def get_data_time(conn: ConnDep, user: Reader) -> DataTime:
    """The newest event's reported time over the whole store (null without events), for the wall's data day."""
    return DataTime(newest_reported_at=newest_event_time(conn))
