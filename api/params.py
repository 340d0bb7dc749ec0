"""Groups of query parameters as small dataclasses (``Annotated[X, Depends()]``).

Routes take them through the ``…Dep`` aliases, which build them on the
event loop rather than in the thread pool. Why dataclasses: the same groups — a page, a bounding box, attribute
filters, a point — recur across ``/layers``, OGC API – Features, dispatch and
coverage; declared once they validate the same way everywhere and read as
one argument in a route. Values a query could choke on (NaN, a box turned
inside out, a page past any table) are refused here with the parameter
named, so that bad input is a 422 and never reaches the store.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Path, Query

from api.features import SERVED
from layers.errors import LoadError

__all__ = [
    "LayerName",
    "Paging",
    "BBox",
    "Filters",
    "PointQuery",
    "TimeWindow",
    "ReportedWindow",
    "Id",
    "Version",
    "BigId",
    "MAX_INT",
    "MAX_BIGINT",
    "LIMIT_MAX",
    "parse_bbox",
    "PagingDep",
    "BBoxDep",
    "FiltersDep",
    "PointDep",
    "WindowDep",
    "ReportedDep",
    "TextSearch",
    "TextDep",
    "AuditFilters",
    "AuditDep",
]

MAX_INT = 2_147_483_647
MAX_BIGINT = 9_223_372_036_854_775_807
LIMIT_MAX = 10_000

#: the served map layers, as an enumeration so that the OpenAPI document lists them
LayerName = StrEnum("LayerName", {name: name for name in SERVED})

Id = Annotated[int, Path(ge=1, le=MAX_INT, description="A row id.")]
Version = Annotated[int | None, Query(ge=1, le=MAX_INT, description="Grid version (grids only); the current one "
                                      "when left out.")]
BigId = Annotated[int, Path(ge=1, le=MAX_BIGINT, description="An event id.")]


def parse_bbox(raw: str | None, *, field: str = "bbox") -> tuple[float, float, float, float] | None:
    """``"minx,miny,maxx,maxy"`` in WGS 84 degrees → a tuple, or LoadError naming the fault.

    Six numbers (a 3D box) are accepted and the heights dropped, as OGC API –
    Features allows.
    """
    if raw is None or raw == "":
        return None
    parts = raw.split(",")
    if len(parts) not in (4, 6):
        raise LoadError("bbox needs 4 numbers (minx,miny,maxx,maxy), got {count}", count=len(parts), field=field)
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise LoadError("bbox holds something that is not a number: {raw!r}", raw=raw, field=field) from exc
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if not all(math.isfinite(v) for v in values):
        raise LoadError("bbox numbers must be finite", field=field)
    minx, miny, maxx, maxy = values
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180 and -90 <= miny <= 90 and -90 <= maxy <= 90):
        raise LoadError("bbox is in WGS 84 degrees: longitudes within ±180, latitudes within ±90", field=field)
    if minx > maxx or miny > maxy:
        raise LoadError("bbox minima are larger than its maxima", field=field)
    return minx, miny, maxx, maxy


@dataclass
class Paging:
    """``limit`` and ``offset``: one page of features, in id order."""

    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX, description="Features in one page.")] = 100
    offset: Annotated[int, Query(ge=0, le=MAX_INT, description="Features to skip.")] = 0


@dataclass
class BBox:
    """``bbox=minx,miny,maxx,maxy`` in WGS 84 (CRS84) degrees."""

    bbox: Annotated[str | None, Query(max_length=200, description="minx,miny,maxx,maxy in CRS84 degrees.",
                                      examples=["112.98,28.19,113.00,28.21"])] = None

    def __post_init__(self) -> None:
        self.box = parse_bbox(self.bbox)


@dataclass
class Filters:
    """Attribute filters ``filter=property:value`` (repeatable; ``property:a|b`` for any of several)."""

    filter: Annotated[list[str] | None, Query(max_length=20, description="property:value or property:a|b",
                                              examples=[["kind:dome"]])] = None


@dataclass
class PointQuery:
    """A WGS 84 point: where an operator clicked."""

    lon: Annotated[float, Query(ge=-180, le=180, description="Longitude, WGS 84.")]
    lat: Annotated[float, Query(ge=-90, le=90, description="Latitude, WGS 84.")]


@dataclass
class TimeWindow:
    """``[start, end)``: aware ISO 8601 times."""

    start: Annotated[datetime, Query(description="Start (inclusive), with a time zone.")]
    end: Annotated[datetime, Query(description="End (exclusive), with a time zone.")]

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if getattr(self, name).tzinfo is None:
                raise LoadError("{name} needs a time zone (e.g. +08:00)", name=name, field=name)
        if self.end <= self.start:
            raise LoadError("end must come after start", field="end")


@dataclass
class ReportedWindow:
    """``since`` / ``until`` on an event's reported time: aware ISO 8601 times, either end open."""

    since: Annotated[datetime | None, Query(description="Reported at or after this time (inclusive), with a time "
                                            "zone.", examples=["2026-11-20T08:00:00+08:00"])] = None
    until: Annotated[datetime | None, Query(description="Reported before this time (exclusive), with a time zone.",
                                            examples=["2026-11-21T08:00:00+08:00"])] = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise LoadError("{name} needs a time zone (e.g. +08:00)", name=name, field=name)
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise LoadError("until must come after since", field="until")


#: a text a user typed into a search box: no NUL (PostgreSQL refuses it in text), not a page of prose
_TYPED = {"max_length": 200, "pattern": r"^[^\x00]*$"}


@dataclass
class TextSearch:
    """``q``: words that must all appear in an event's code, title, address or description."""

    q: Annotated[str | None, Query(**_TYPED, description="Words, each found in the code, title, address or "
                                   "description (case-insensitive; the district's own prefixes ignored).",
                                   examples=["民亭街6号 噪声"])] = None


@dataclass
class AuditFilters:
    """Filters of the audit log: who, what, on what, when (each optional; times aware, ``[since, until)``)."""

    actor: Annotated[str | None, Query(**_TYPED, description="Any part of the actor (\"role:name\"), "
                                       "case-insensitive.", examples=["operator"])] = None
    action: Annotated[str | None, Query(**_TYPED, description="The action, exactly.",
                                        examples=["transition"])] = None
    entity: Annotated[str | None, Query(**_TYPED, description="What was written: event, grid_worker, "
                                        "grid_version …", examples=["event"])] = None
    entity_id: Annotated[str | None, Query(**_TYPED, description="Its id.")] = None
    since: Annotated[datetime | None, Query(description="At or after this time (inclusive), with a time zone.")] = None
    until: Annotated[datetime | None, Query(description="Before this time (exclusive), with a time zone.")] = None

    def __post_init__(self) -> None:
        ReportedWindow(self.since, self.until)  # the same checks: aware, and until after since


def _on_the_loop(group: type) -> object:
    """``Annotated[group, Depends(…)]`` whose dependency is async.

    FastAPI runs a class used as a dependency in the thread pool, one hop per
    group per request; tiles and dispatch suggestions are answered in a few
    milliseconds and notice. The async builder takes the group's own
    signature, so the parameters are declared once, on the dataclass.
    """

    async def build(**values: object) -> object:
        return group(**values)

    build.__signature__ = inspect.signature(group)  # type: ignore[attr-defined]
    build.__name__ = f"{group.__name__.lower()}_query"
    return Annotated[group, Depends(build)]


PagingDep = _on_the_loop(Paging)
BBoxDep = _on_the_loop(BBox)
FiltersDep = _on_the_loop(Filters)
PointDep = _on_the_loop(PointQuery)
WindowDep = _on_the_loop(TimeWindow)
ReportedDep = _on_the_loop(ReportedWindow)
TextDep = _on_the_loop(TextSearch)
AuditDep = _on_the_loop(AuditFilters)
