"""The heat map of events: a picture for a web map and the top hotspots with their grids (:mod:`api.heat`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from api.deps import ConnDep, Reader
from api.heat import BANDWIDTH_M, CELL_M, Hotspot, heat_map
from command.lifecycle import OPEN_STATES
from layers.errors import LoadError

__all__ = ["router", "HeatQuery", "HeatOut"]

router = APIRouter(tags=["heat"])


@dataclass
class HeatQuery:
    """Which events and how fine: ``[start, end)`` on the reported time (either end open), open ones or all."""

    start: Annotated[datetime | None, Query(description="Reported at or after (inclusive), with a time zone.")] = None
    end: Annotated[datetime | None, Query(description="Reported before (exclusive), with a time zone.")] = None
    state: Annotated[Literal["open", "all"], Query(description="Open events only (default) or every state.")] = "open"
    bandwidth_m: Annotated[float, Query(ge=50, le=5000, description="Kernel radius, metres (3 to 12 cells: "
                                        "the cells follow it).")] = BANDWIDTH_M
    cell_m: Annotated[float, Query(ge=5, le=1000, description="Cell size, metres (grown on a large district "
                                   "or a wide bandwidth).")] = CELL_M
    top: Annotated[int, Query(ge=1, le=50, description="Most hotspots, at least a bandwidth apart.")] = 10

    def __post_init__(self) -> None:
        for name in ("start", "end"):  # the same checks and words as the KPI window's (api.params.TimeWindow)
            if getattr(self, name) is not None and getattr(self, name).tzinfo is None:
                raise LoadError("{name} needs a time zone (e.g. +08:00)", name=name, field=name)
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise LoadError("end must come after start", field="end")


class HeatOut(BaseModel):
    """The heat map: a PNG (Web Mercator, transparent where there is nothing) between ``bounds``."""

    bounds: list[list[float]] | None = Field(description="[[south, west], [north, east]]: the image's corners.")
    max: float = Field(description="The highest density, events per km².")
    vmax: float = Field(description="The density at the top of the colour ramp, events per km².")
    events: int = Field(description="Located events counted (their density integrates to this).")
    cell_m: float
    bandwidth_m: float
    image: str | None = Field(description="data:image/png;base64,… (null without a district or events).")
    hotspots: list[Hotspot]


@router.get("/heat", summary="Heat map of events and their top hotspots")
def get_heat(query: Annotated[HeatQuery, Depends()], conn: ConnDep, user: Reader) -> HeatOut:
    """Kernel density of the events the key sees (open ones unless ``state=all``) over the district."""
    states = OPEN_STATES if query.state == "open" else None
    heat = heat_map(conn, user, since=query.start, until=query.end, states=states, cell_m=query.cell_m,
                    bandwidth_m=query.bandwidth_m, top=query.top)
    bounds = [list(corner) for corner in heat.overlay.bounds] if heat.overlay is not None else None
    return HeatOut(bounds=bounds, max=heat.peak, vmax=heat.overlay.vmax if heat.overlay else 0.0, events=heat.events,
                   cell_m=heat.cell_m, bandwidth_m=heat.bandwidth_m, image=heat.data_url,
                   hotspots=list(heat.hotspots))
