"""Grid partition jobs: start, watch, preview, accept or discard.

A job runs on a background thread of this process and writes a proposed grid
version; its state and progress live in the store, so any API process (and
the wall) can follow it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.deps import ConnDep, EngineDep, Planner, Reader, SettingsDep
from grid_partition import PartitionParams
from layers import grids, partitioning
from layers import models as m
from layers.errors import NotFound

__all__ = ["router"]

router = APIRouter(prefix="/partition", tags=["partition"])


class JobIn(BaseModel):
    """What to run."""

    mode: Literal["partition", "rebalance"] = "rebalance"
    params: PartitionParams | None = Field(
        default=None, description="Bands and search effort; the service's configured ones when left out")


@router.post("/jobs", status_code=status.HTTP_202_ACCEPTED)
def start(body: JobIn, engine: EngineDep, user: Planner, settings: SettingsDep) -> dict:
    """Queue a run and start it in the background; poll the job for progress."""
    params = body.params if body.params is not None else settings.partition
    with engine.begin() as conn:
        job_id = partitioning.create_job(conn, mode=body.mode, params=params, created_by=user.name)
    partitioning.start_job(engine, job_id)
    return {"job_id": job_id, "state": "queued", "href": f"/partition/jobs/{job_id}"}


@router.post("/jobs/{job_id}/cancel")
def cancel(job_id: int, engine: EngineDep, user: Planner) -> dict:
    """Stop a queued or running job; it ends failed, "cancelled by" the caller, and proposes nothing."""
    with engine.begin() as conn:
        return partitioning.cancel_job(conn, job_id, actor=user.name)


@router.get("/jobs/{job_id}")
def job(job_id: int, conn: ConnDep, _: Reader) -> dict:
    """State, progress, stage, error, and the proposed version when done."""
    return partitioning.job_status(conn, job_id)


class VersionOut(BaseModel):
    """One grid version in the list."""

    version_id: int
    state: Literal["proposed", "accepted", "discarded"]
    is_current: bool
    created_at: datetime
    created_by: str
    source: str
    note: str | None
    n_grids: int
    share_in_band: float | None = Field(description="Share of grids inside both bands, from the run's report")
    n_out_of_band: int | None


@router.get("/versions", response_model=list[VersionOut])
def versions(conn: ConnDep, _: Reader, state: Literal["proposed", "accepted", "discarded"] | None = None,
             limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict]:
    """Grid versions, newest first; past versions stay queryable through ``/layers/grids?version=``."""
    return grids.list_versions(conn, state=state, limit=limit)


@router.get("/versions/{version_id}")
def preview(version_id: int, conn: ConnDep, _: Reader) -> dict:
    """A version's state and report: figures, per-grid rows with a changed flag, unit changes."""
    row = conn.execute(
        select(m.GridVersion.state, m.GridVersion.is_current, m.GridVersion.source, m.GridVersion.created_by,
               m.GridVersion.report).where(m.GridVersion.id == version_id)
    ).one_or_none()
    if row is None:
        raise NotFound("no grid version {version_id}", version_id=version_id)
    return {"version_id": version_id, **row._asdict()}


@router.post("/versions/{version_id}/accept")
def accept(version_id: int, engine: EngineDep, user: Planner, force: bool = False) -> dict:
    """Make a proposal current; members and workers move over.

    A proposal worse than the current plan (its report's ``guard.worse``) is refused with 409 unless ``force``.
    """
    with engine.begin() as conn:
        return partitioning.accept(conn, version_id, actor=user.name, force=force)


@router.post("/versions/{version_id}/discard")
def discard(version_id: int, engine: EngineDep, user: Planner) -> dict:
    """Drop a proposal (its report stays on record)."""
    with engine.begin() as conn:
        return partitioning.discard(conn, version_id, actor=user.name)
