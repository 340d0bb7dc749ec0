"""Grid workers: phones send batches of fixes; the wall asks where everyone is.

A phone queues fixes while it has no signal and sends them in one batch;
the newest fix per worker wins and a fix older than the stored one is
ignored, so late batches never move a worker backwards. A fix from the
future or from far outside the district (``fix_future_s``,
``fix_margin_m``) refuses the batch with the fix's index. A worker's key may
send only its own fixes. Each batch is one audit row.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.access import check_fixes
from api.deps import ConnDep, Reader, SettingsDep, TxDep, WorkerWriter, require
from api.errors import Forbidden
from api.security import Principal
from api.settings import ApiSettings
from api.store import Fix, event_detail, update_positions, workers_live
from command.routing import far_from_district
from layers import models as m
from layers.errors import LoadError

__all__ = ["router", "FixIn", "Fixes"]

router = APIRouter(prefix="/workers", tags=["workers"])

Phone = Annotated[Principal, require("grid_worker")]


class FixIn(BaseModel):
    """One fix from a phone: where and when, and optionally on or off duty."""

    model_config = ConfigDict(extra="forbid")
    worker: str = Field(min_length=1, max_length=100, description="The worker's code.")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    at: datetime = Field(description="When the phone took the fix (aware).")
    status: Literal["on_duty", "off_duty"] | None = None

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("at needs a time zone")
        return value

    @model_validator(mode="after")
    def _both_or_neither(self) -> FixIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("give both lon and lat, or neither (a status change alone)")
        if "\x00" in self.worker:
            raise ValueError("a worker code cannot hold a NUL character")
        return self


class Fixes(BaseModel):
    """A phone's (or a gateway's) batch of fixes."""

    model_config = ConfigDict(extra="forbid")
    fixes: list[FixIn] = Field(min_length=1, max_length=1000)


@router.post("/positions", summary="A batch of positions and statuses from phones")
def post_positions(body: Fixes, tx: TxDep, user: WorkerWriter, settings: SettingsDep) -> dict:
    """Move workers to their newest fix; a worker's key may only move itself."""
    check_fixes(user, {f.worker for f in body.fixes})
    _plausible(tx, body.fixes, settings)
    moved, stale = update_positions(tx, [Fix(**f.model_dump()) for f in body.fixes], actor=user.actor)
    return {"moved": moved, "stale": stale}


@router.get("/live", summary="Where is everyone")
def live(conn: ConnDep, user: Reader, status: Literal[m.WORKER_STATUSES] | None = None,  # type: ignore[valid-type]
         stale_after_s: Annotated[float, Query(gt=0, le=86_400)] = 600.0,
         format: Literal["json", "geojson"] = "json") -> JSONResponse:
    """Every worker's (the key sees: :mod:`api.access`) last position and status, home grid, current event, and
    whether the phone went quiet."""
    rows = workers_live(conn, user, status=status, stale_s=stale_after_s)
    if format == "json":
        return JSONResponse({"workers": _jsonable(rows), "by_status": _by_status(rows)})
    features = [{"type": "Feature", "id": r["id"], "properties": _jsonable([r])[0],
                 "geometry": None if r["lon"] is None else {"type": "Point", "coordinates": [r["lon"], r["lat"]]}}
                for r in rows]
    return JSONResponse({"type": "FeatureCollection", "features": features}, media_type="application/geo+json")


@router.get("/me", summary="A worker's own row and the event they are on")
def me(conn: ConnDep, user: Phone) -> dict:
    """For the phone: its worker, status, home grid and current event (with history)."""
    row = next(iter(workers_live(conn, user, code=user.worker_code)), None)
    if row is None:
        raise Forbidden("key '{key}' names worker {worker}, who is not in the store", key=user.name,
                        worker=user.worker_code)
    return {**row, "event": event_detail(conn, row["event_id"], user) if row["event_id"] else None}


def _plausible(tx, fixes: list[FixIn], settings: ApiSettings) -> None:
    """Refuse the batch at its first fix from the future or from outside the district (plus its margin)."""
    latest = datetime.now(UTC) + timedelta(seconds=settings.fix_future_s)
    for i, f in enumerate(fixes):
        if f.at > latest:
            raise LoadError("at {at} is in the future (more than {seconds:.0f} s ahead): is the phone's clock right?",
                            at=f.at.isoformat(), seconds=settings.fix_future_s, source="fixes", feature=i,
                            field="at")
    located = [i for i, f in enumerate(fixes) if f.lon is not None]
    far = far_from_district(tx, [(fixes[i].lon, fixes[i].lat) for i in located], settings.fix_margin_m)
    if far:
        f = fixes[located[far[0]]]
        raise LoadError("({lon}, {lat}) is more than {metres:.0f} m outside the district", lon=f.lon, lat=f.lat,
                        metres=settings.fix_margin_m, source="fixes", feature=located[far[0]], field="lon")


def _by_status(rows: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(m.WORKER_STATUSES, 0)
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return counts


def _jsonable(rows: list[dict]) -> list[dict]:
    return [{k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in r.items()} for r in rows]
