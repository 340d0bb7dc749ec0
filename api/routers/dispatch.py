"""Dispatch: suggestions where an operator clicks, and sending workers, cameras and resources to events.

Suggestions are reads (the wall and the console show them); dispatching is
the operator's. Booking a worker is one conditional update in the store, so
two operators sending the same worker get one 200 and one 409, never both.
A department's key sees only its own cameras among the suggestions.

Positions older than ``ApiSettings.fix_max_age_s`` rank nobody (the worker
is listed with ``position_known: false``); the first ``network_top``
(``ApiSettings.network_top``) are re-ranked by street distance. 一键派遣 (no
``worker_id``) is idempotent: an event that already holds a worker is
answered 200 with that assignment and ``"already": true``, adding nobody; a
second worker is sent by naming them (``{"worker_id": …}``). Called resources
are busy until released: by ``POST /events/{id}/release/resources``, or when
the event's work ends (handled, returned, rejected, closed).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.access import event_visible, visible
from api.deps import (
    CameraLinker,
    ConnDep,
    Dispatcher,
    EngineDep,
    Reader,
    ResourceCaller,
    SettingsDep,
    TxDep,
    autocommit,
)
from api.params import MAX_INT, BigId, PointDep, PointQuery
from api.settings import ApiSettings
from api.store import suggestions, visible_to
from command.dispatch import (
    CameraHit,
    Dispatched,
    ResourceHit,
    WorkerCandidate,
    dispatch_resources,
    dispatch_worker,
    link_cameras,
    nearest_resources,
    visible_cameras,
    workers_at,
)
from command.lifecycle import release_resources
from command.routing import far_from_district
from layers import models as m
from layers.errors import LoadError

__all__ = ["router", "SendWorker", "Released"]

router = APIRouter(tags=["dispatch"])

Limit = Annotated[int, Query(ge=1, le=50, description="How many to return.")]
ResourceKind = Literal[m.RESOURCE_KINDS]  # type: ignore[valid-type]


class SendWorker(BaseModel):
    """Which worker to send (the best free candidate when left out)."""

    model_config = ConfigDict(extra="forbid")
    worker_id: int | None = Field(default=None, ge=1, le=MAX_INT)
    note: str | None = Field(default=None, max_length=2000)


class Count(BaseModel):
    """How many cameras to link, or resources of each kind to call."""

    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=4, ge=1, le=20)


class Released(BaseModel):
    """The resources an event let go of (none when it held none)."""

    event_id: int
    resource_ids: list[int]


@router.get("/dispatch/workers", summary="Nearest free workers to a point")
async def near_workers(point: PointDep, engine: EngineDep, user: Reader, settings: SettingsDep, limit: Limit = 5,
                       network_top: Annotated[int | None, Query(ge=0, le=50)] = None) -> list[WorkerCandidate]:
    """On-duty workers with a fresh position by straight line, the first ``network_top`` (the setting's when left
    out) re-ranked along the streets; then those of the grid and community there whose position is unknown."""
    top = settings.network_top if network_top is None else network_top
    found = await run_in_threadpool(_nearest, engine, point, limit, top, settings)
    return [w for w in found if visible(user, "workers", {"code": w.code})]


def _nearest(engine: Engine, point: PointQuery, limit: int, network_top: int,
             settings: ApiSettings) -> list[WorkerCandidate]:
    """The suggestion on a pooled autocommit connection: one hop to the thread pool (operators click often). A point
    farther from the district than a worker's fix may be is a 422 on ``lon``, not an empty list."""
    with autocommit(engine) as conn:
        if far_from_district(conn, [(point.lon, point.lat)], settings.fix_margin_m):
            raise LoadError("the point ({lon}, {lat}) is too far from the district to measure along its streets "
                            "(more than {metres:.0f} m outside it)", lon=point.lon, lat=point.lat,
                            metres=settings.fix_margin_m, source="query", field="lon")
        return workers_at(conn, point.lon, point.lat, limit=limit, network_top=network_top,
                          max_age_s=settings.fix_max_age_s)


@router.get("/dispatch/cameras", summary="Cameras that can see a point")
def seeing_cameras(point: PointDep, conn: ConnDep, user: Reader,
                   limit: Limit = 10) -> list[CameraHit]:
    """Online cameras whose view covers the point, nearest first."""
    return visible_to(conn, user, visible_cameras(conn, point.lon, point.lat, limit=limit))


@router.get("/dispatch/resources", summary="Nearest emergency resources to a point")
def near_resources(point: PointDep, conn: ConnDep, user: Reader,
                   kind: Annotated[list[ResourceKind] | None, Query(max_length=len(m.RESOURCE_KINDS))] = None,
                   per_kind: Annotated[int, Query(ge=1, le=10)] = 1) -> list[ResourceHit]:
    """The nearest ``per_kind`` of each kind asked for (every kind when none is)."""
    return nearest_resources(conn, point.lon, point.lat, kind or list(m.RESOURCE_KINDS), per_kind=per_kind)


@router.get("/events/{event_id}/suggestions", summary="Whom and what to send to an event")
def event_suggestions(event_id: BigId, conn: ConnDep, user: Reader, settings: SettingsDep,
                      limit: Limit = 5) -> dict:
    """Workers (its own grid's first), the cameras that see it and the free resources its class calls for."""
    event_visible(conn, user, event_id)
    return suggestions(conn, user, event_id, limit=limit, max_age_s=settings.fix_max_age_s,
                       network_top=settings.network_top)


@router.post("/events/{event_id}/dispatch/worker", summary="Send a worker to an event")
def send_worker(event_id: BigId, body: SendWorker, tx: TxDep, user: Dispatcher, settings: SettingsDep) -> Dispatched:
    """Book the named worker, or the best free candidate; 409 when they were taken meanwhile. Without a worker
    named, an event that already holds one is answered with that assignment (``already``)."""
    return dispatch_worker(tx, event_id, actor=user.actor, worker_id=body.worker_id, note=body.note,
                           max_age_s=settings.fix_max_age_s, network_top=settings.network_top)


@router.post("/events/{event_id}/dispatch/cameras", summary="Link the cameras that see an event")
def send_cameras(event_id: BigId, body: Count, tx: TxDep, user: CameraLinker) -> list[CameraHit]:
    """Attach the nearest cameras that see the event (for the wall's video panel)."""
    return link_cameras(tx, event_id, actor=user.actor, limit=body.limit)


@router.post("/events/{event_id}/dispatch/resources", summary="Call the resources an event's class needs")
def send_resources(event_id: BigId, body: Count, tx: TxDep, user: ResourceCaller) -> list[ResourceHit]:
    """The nearest free ``limit`` resources of each kind the leaf class names (none for most classes); they are busy
    until released. A repeat adds nothing: the answer lists what the event holds (``already`` for earlier calls)."""
    return dispatch_resources(tx, event_id, actor=user.actor, per_kind=body.limit)


@router.post("/events/{event_id}/release/resources", summary="Release the resources called for an event")
def free_resources(event_id: BigId, tx: TxDep, user: ResourceCaller) -> Released:
    """The event's resources become free for other events (also done when its work ends)."""
    return Released(event_id=event_id, resource_ids=release_resources(tx, event_id, actor=user.actor))
