"""Dispatch: suggestions where an operator clicks, and sending workers, cameras and resources to events.

Suggestions are reads (the wall and the console show them); dispatching is
the operator's. Booking a worker is one conditional update in the store, so
two operators sending the same worker get one 200 and one 409, never both.
A department's key sees only its own cameras among the suggestions.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.access import event_visible, visible
from api.deps import CameraLinker, ConnDep, Dispatcher, EngineDep, Reader, ResourceCaller, TxDep, autocommit
from api.params import MAX_INT, BigId, PointDep, PointQuery
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
    nearest_workers,
    visible_cameras,
)
from layers import models as m

__all__ = ["router", "SendWorker"]

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


@router.get("/dispatch/workers", summary="Nearest free workers to a point")
async def near_workers(point: PointDep, engine: EngineDep, user: Reader, limit: Limit = 5,
                       network_top: Annotated[int, Query(ge=0, le=10)] = 3) -> list[WorkerCandidate]:
    """On-duty workers by straight line, the first ``network_top`` re-ranked along the streets."""
    found = await run_in_threadpool(_nearest, engine, point, limit, network_top)
    return [w for w in found if visible(user, "workers", {"code": w.code})]


def _nearest(engine: Engine, point: PointQuery, limit: int, network_top: int) -> list[WorkerCandidate]:
    """The suggestion on a pooled autocommit connection: one hop to the thread pool (operators click often)."""
    with autocommit(engine) as conn:
        return nearest_workers(conn, point.lon, point.lat, limit=limit, network_top=network_top)


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
def event_suggestions(event_id: BigId, conn: ConnDep, user: Reader, limit: Limit = 5) -> dict:
    """Workers (its own grid's first), the cameras that see it and the resources its class calls for."""
    event_visible(conn, user, event_id)
    return suggestions(conn, user, event_id, limit=limit)


@router.post("/events/{event_id}/dispatch/worker", summary="Send a worker to an event")
def send_worker(event_id: BigId, body: SendWorker, tx: TxDep, user: Dispatcher) -> Dispatched:
    """Book the named worker, or the best free candidate; 409 when they were taken meanwhile."""
    return dispatch_worker(tx, event_id, actor=user.actor, worker_id=body.worker_id, note=body.note)


@router.post("/events/{event_id}/dispatch/cameras", summary="Link the cameras that see an event")
def send_cameras(event_id: BigId, body: Count, tx: TxDep, user: CameraLinker) -> list[CameraHit]:
    """Attach the nearest cameras that see the event (for the wall's video panel)."""
    return link_cameras(tx, event_id, actor=user.actor, limit=body.limit)


@router.post("/events/{event_id}/dispatch/resources", summary="Call the resources an event's class needs")
def send_resources(event_id: BigId, body: Count, tx: TxDep, user: ResourceCaller) -> list[ResourceHit]:
    """The nearest ``limit`` resources of each kind the leaf class names (none for most classes)."""
    return dispatch_resources(tx, event_id, actor=user.actor, per_kind=body.limit)
