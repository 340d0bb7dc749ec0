"""Re-draw the district's grids from the store: propose, review, accept.

A run reads the buildings (with their tessellation cells) of the current
version, runs :class:`grid_partition.BandPartitioner` in the district's metric
CRS, and writes the result as a **proposed** grid version with its report. A
planner reviews it (figures, per-grid rows, which grids changed) and accepts
it — it becomes current and buildings, components, cameras and workers move
over — or discards it. The current version is never touched before accept.

Runs can be jobs: a ``partition_job`` row records state and progress so that
the command line, any API process and the wall see the same run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import geopandas
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from grid_partition import (
    BandPartitioner,
    PartitionInputError,
    PartitionParams,
    adjacency_from_cells,
    plan_quality,
    worse_than,
)
from layers import grids as versions
from layers import models as m
from layers.bulk import write_frame
from layers.errors import Conflict, GridwallError, NotFound, PartitionError
from layers.registry import layer

__all__ = [
    "PartitionInput",
    "units_from_store",
    "fill_cells",
    "propose",
    "accept",
    "discard",
    "create_job",
    "run_job",
    "cancel_job",
    "fail_orphaned_jobs",
    "start_job",
    "job_status",
]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class PartitionInput:
    """What the partitioner needs, read from the store (metric CRS)."""

    units: geopandas.GeoDataFrame
    cells: geopandas.GeoSeries
    adjacency: pd.DataFrame
    current: pd.Series
    metric_srid: int
    version_id: int | None


def _metric_srid(conn: Connection) -> int:
    srid = conn.execute(select(m.AdminArea.metric_srid).where(m.AdminArea.level == "district")).scalar()
    if srid is None:
        raise PartitionError("no district with a metric CRS in the store: load the district outline first")
    return srid


def fill_cells(conn: Connection, *, actor: str = "partition") -> int:
    """Draw tessellation cells for the buildings that have none (``layers/sql/fill_cells.sql``: Voronoi cells
    of the footprints clipped to blocks, or to the district); returns how many were drawn (audited)."""
    missing = conn.execute(select(func.count()).select_from(m.Building).where(m.Building.cell.is_(None))).scalar_one()
    if missing == 0:
        return 0
    drawn = conn.execute(versions.sql_text("fill_cells"), {"srid": _metric_srid(conn)}).rowcount
    log.info("drew tessellation cells for %d buildings", drawn)
    _audit_entity(conn, actor, "draw_cells", "building", None, {"buildings": drawn})
    return drawn


def units_from_store(conn: Connection) -> PartitionInput:
    """Buildings of the district as partition units, with cells and neighbours.

    Neighbours come from the cells: the same block, across a local street, or
    across an arterial (from the road layer), so that grids follow streets.
    Without a current grid version every unit's current grid is missing (a
    partition from scratch can run, a rebalance cannot).
    """
    version = versions.current_version(conn)
    srid = _metric_srid(conn)
    b, blk, g = m.Building.__table__, m.Block.__table__, m.Grid.__table__
    rows = conn.execute(
        select(
            b.c.id.label("unit_id"), b.c.code, b.c.households, b.c.population, b.c.zone,
            blk.c.code.label("block_code"), g.c.code.label("grid_code"), b.c.community_id,
            func.ST_AsBinary(func.ST_Transform(b.c.geom, srid)).label("footprint"),
            func.ST_AsBinary(func.ST_Transform(b.c.cell, srid)).label("cell"),
        )
        .select_from(b.outerjoin(blk, blk.c.id == b.c.block_id).outerjoin(g, g.c.id == b.c.grid_id))
        .order_by(b.c.id)
    ).all()
    if not rows:
        raise PartitionError("the store holds no buildings to partition")
    frame = pd.DataFrame(rows, columns=list(rows[0]._fields))
    missing = frame["cell"].isna()
    if missing.any():
        raise PartitionError("{count} buildings have no tessellation cell (first: {code}); grids are unions of "
                             "cells, so every building needs one", count=int(missing.sum()),
                             code=frame.loc[missing, "code"].iloc[0])
    crs = f"EPSG:{srid}"
    cells = geopandas.GeoSeries(shapely.from_wkb(frame["cell"].map(bytes).to_numpy()), index=frame["unit_id"], crs=crs)
    units = geopandas.GeoDataFrame(
        frame[["unit_id", "code", "households", "population", "zone", "community_id"]],
        geometry=shapely.from_wkb(frame["footprint"].map(bytes).to_numpy()), crs=crs,
    )
    arterial_wkb = conn.execute(
        select(func.ST_AsBinary(func.ST_Transform(m.Road.geom, srid))).where(m.Road.kind == "arterial")
    ).scalars().all()
    arterials = (geopandas.GeoSeries(shapely.from_wkb([bytes(w) for w in arterial_wkb]), crs=crs)
                 if arterial_wkb else None)
    adjacency = adjacency_from_cells(cells, frame["block_code"].to_numpy(), arterials)
    current = pd.Series(frame["grid_code"].to_numpy(), index=frame["unit_id"], name="grid")
    return PartitionInput(units, cells, adjacency, current, srid, version)


def propose(
    conn: Connection,
    *,
    mode: str = "rebalance",
    params: PartitionParams | None = None,
    created_by: str = "planner",
    progress: Progress | None = None,
) -> tuple[int, dict]:
    """Run a partition or rebalance and write it as a proposed grid version.

    Returns
    -------
    (version_id, report)
        The proposed version and its report (``summary``, per-grid ``grids``
        with a ``changed`` flag and the grid each one came from, and unit
        ``changes``).
    """
    if mode not in m.PARTITION_MODES:
        raise PartitionError("mode must be one of {modes}, not '{mode}'", modes=m.PARTITION_MODES, mode=mode)
    params = params or PartitionParams()
    if mode == "rebalance" and versions.current_version(conn) is None:
        raise PartitionError("no current grid version to rebalance: draw grids from scratch (mode 'partition') "
                             "or load a grids file first")
    fill_cells(conn, actor=created_by)
    inp = units_from_store(conn)
    try:
        part = BandPartitioner(inp.units, inp.adjacency, params, cells=inp.cells, progress=progress)
        part = part.solve() if mode == "partition" else part.rebalance(inp.current)
    except PartitionInputError as exc:
        raise PartitionError(str(exc)) from exc
    labels = part.labels_.reindex(inp.units["unit_id"]).to_numpy()
    polygons = part.grid_polygons().to_crs("EPSG:4326")
    grids, codes = _grid_rows(conn, inp, labels, polygons, part.report_)
    version = versions.create_version(conn, source=mode, created_by=created_by, params=params.model_dump(mode="json"),
                                      note=f"{mode} proposed by {created_by}")
    write_frame(conn, layer("grids"), grids, source=mode, fixed={"version_id": version})
    report = _report(part.report_, grids, codes, inp)
    report["guard"] = _guard(inp, labels, params)
    if inp.version_id is not None:  # who would staff which grid: the planner shows who and what is left over
        plan = versions.handover_plan(conn, inp.version_id, version)
        report["handover"] = {k: plan[k] for k in ("grids_without_worker", "workers_without_grid")}
    conn.execute(update(m.GridVersion).where(m.GridVersion.id == version).values(state="proposed", report=report))
    _audit(conn, created_by, "propose_grids", version, report["summary"])
    return version, report


def _grid_rows(conn, inp: PartitionInput, labels, polygons, report) -> tuple[pd.DataFrame, dict]:
    """One store row per new grid: code, zone, sums, community holding most households.

    A grid keeps its old code when the partitioner kept its label; it counts as
    *changed* unless its buildings are exactly those of an old grid.
    """
    units = inp.units.assign(label=[str(v) for v in labels])
    community_codes = dict(conn.execute(select(m.AdminArea.id, m.AdminArea.code)).all())
    old_members = units.groupby(inp.current.astype(str).to_numpy())["unit_id"].apply(frozenset).to_dict()
    old_sets = set(old_members.values())
    zone_of = {str(row.grid_id): row.zone for row in report.grids}
    geom_of = dict(zip(polygons["grid_id"].astype(str), polygons.geometry))
    rows, codes, used = [], {}, set()
    for label, members in units.groupby("label", sort=True):
        weights = members.groupby("community_id")["households"].sum()
        community = community_codes.get(weights.idxmax()) if len(weights) else None
        code = label if label in old_members and label not in used else _new_code(community, used, old_members)
        used.add(code)
        codes[label] = (code, frozenset(members["unit_id"]) not in old_sets)
        rows.append({
            "code": code, "zone": zone_of.get(label, members["zone"].mode().iat[0]),
            "households": int(members["households"].sum()), "population": int(members["population"].sum()),
            "community_code": community, "geom": geom_of[label],
        })
    return pd.DataFrame(rows), codes


def _new_code(community: str | None, used: set, old: dict) -> str:
    seq = 1
    while (code := f"{community or 'G'}-N{seq:02d}") in used or code in old:
        seq += 1
    return code


def _report(report, grids: pd.DataFrame, codes: dict, inp: PartitionInput) -> dict:
    by_label = {str(k): v for k, v in codes.items()}
    summary = report.summary()
    rows = []
    for row in report.grids:
        code, changed = by_label[str(row.grid_id)]
        item = row.model_dump(mode="json")
        item.update(code=code, changed=changed)
        rows.append(item)
    changes = [c.model_dump(mode="json") for c in report.changes]
    return {"summary": summary, "grids": rows, "changes": changes, "n_changed_grids": sum(r["changed"] for r in rows),
            "base_version": inp.version_id}


def _guard(inp: PartitionInput, labels, params: PartitionParams) -> dict:
    """The current plan's figures beside the proposal's, and why the proposal is worse (empty when it is not)."""
    proposed = plan_quality(inp.units, labels, params)
    has_current = bool(inp.current.notna().any())
    current = plan_quality(inp.units, inp.current.reindex(inp.units["unit_id"]).to_numpy(), params) \
        if has_current else None
    return {"current": current.model_dump() if current else None, "proposed": proposed.model_dump(),
            "worse": worse_than(proposed, current) if current else []}


def _proposed(conn: Connection, version_id: int) -> None:
    row = conn.execute(select(m.GridVersion.state).where(m.GridVersion.id == version_id)).scalar()
    if row is None:
        raise NotFound("no grid version {version_id}", version_id=version_id)
    if row != "proposed":
        raise Conflict("grid version {version_id} is {version_state}, not proposed: only a proposal can be accepted "
                       "or discarded", version_id=version_id, version_state=row)


def accept(conn: Connection, version_id: int, *, actor: str, force: bool = False) -> dict:
    """Make a proposal current: members re-homed, workers handed over.

    A proposal worse than the plan it would replace (its report's ``guard``: fewer grids in band, fewer
    households in in-band grids, a new grid of several buildings over twice its cap) is refused with
    :class:`Conflict` unless ``force`` is given; a forced accept is audited as such.
    """
    _proposed(conn, version_id)
    report = conn.execute(select(m.GridVersion.report).where(m.GridVersion.id == version_id)).scalar() or {}
    worse = (report.get("guard") or {}).get("worse") or []
    if worse and not force:
        raise Conflict("grid version {version_id} is worse than the current plan: {worse}. Discard it, or accept it "
                       "with force if that is intended", version_id=version_id, worse=tuple(worse))
    versions.make_current(conn, version_id)
    conn.execute(update(m.GridVersion).where(m.GridVersion.id == version_id).values(state="accepted"))
    moved = conn.execute(select(func.count()).select_from(m.Building).where(
        m.Building.grid_id.in_(select(m.Grid.id).where(m.Grid.version_id == version_id)))).scalar_one()
    _audit(conn, actor, "accept_grids", version_id,
           {"buildings_in_version": moved, **({"forced_over": worse} if worse else {})})
    return {"version_id": version_id, "state": "accepted", "buildings": moved}


def discard(conn: Connection, version_id: int, *, actor: str) -> dict:
    """Drop a proposal's grids; the version row and its report stay for the record."""
    _proposed(conn, version_id)
    conn.execute(delete(m.Grid).where(m.Grid.version_id == version_id))
    conn.execute(update(m.GridVersion).where(m.GridVersion.id == version_id).values(state="discarded"))
    _audit(conn, actor, "discard_grids", version_id, {})
    return {"version_id": version_id, "state": "discarded"}


def _audit(conn: Connection, actor: str, action: str, version_id: int, detail: dict) -> None:
    _audit_entity(conn, actor, action, "grid_version", str(version_id), detail)


def _audit_entity(conn: Connection, actor: str, action: str, entity: str, entity_id: str | None,
                  detail: dict) -> None:
    conn.execute(insert(m.AuditLog).values(actor=actor, action=action, entity=entity, entity_id=entity_id,
                                           detail=detail))


# -- jobs -------------------------------------------------------------------------------
#: advisory lock keys: one for starting jobs (one at a time per store), one per job held while it runs
_JOBS_LOCK = 0x6772_6964_0001
_JOB_LOCK_BASE = 0x6772_6964_0000_0000


def create_job(conn: Connection, *, mode: str, params: PartitionParams | None, created_by: str) -> int:
    """A queued job row (audited); run it with :func:`run_job` or :func:`start_job`.

    One job runs per store: while another is queued or running this raises :class:`Conflict` naming it (a
    partition holds a CPU for seconds to minutes, and ten at once held every pooled connection).
    """
    if mode not in m.PARTITION_MODES:
        raise PartitionError("mode must be one of {modes}, not '{mode}'", modes=m.PARTITION_MODES, mode=mode)
    conn.execute(select(func.pg_advisory_xact_lock(_JOBS_LOCK)))
    job = m.PartitionJob.__table__
    busy = conn.execute(select(job.c.id, job.c.created_by, job.c.state)
                        .where(job.c.state.in_(("queued", "running"))).order_by(job.c.id)).first()
    if busy is not None:
        raise Conflict("partition job {job_id} by {actor} is {job_state}: one job runs at a time; wait for it or "
                       "cancel it", job_id=busy.id, actor=busy.created_by, job_state=busy.state)
    payload = (params or PartitionParams()).model_dump(mode="json")
    job_id = conn.execute(
        insert(m.PartitionJob).values(mode=mode, params=payload, created_by=created_by).returning(m.PartitionJob.id)
    ).scalar_one()
    _audit_entity(conn, created_by, "start_partition_job", "partition_job", str(job_id), {"mode": mode})
    return job_id


def cancel_job(conn: Connection, job_id: int, *, actor: str) -> dict:
    """Stop a queued or running job: it ends ``failed`` with ``cancelled by <actor>`` and writes no proposal
    (a running one stops at its next progress step)."""
    job = m.PartitionJob.__table__
    state = conn.execute(select(job.c.state).where(job.c.id == job_id).with_for_update()).scalar()
    if state is None:
        raise NotFound("no partition job {job_id}", job_id=job_id)
    if state not in ("queued", "running"):
        raise Conflict("partition job {job_id} is {job_state}: only a queued or running job can be cancelled",
                       job_id=job_id, job_state=state)
    conn.execute(update(job).where(job.c.id == job_id).values(state="failed", error=f"cancelled by {actor}",
                                                              finished_at=func.now()))
    _audit_entity(conn, actor, "cancel_partition_job", "partition_job", str(job_id), {"was": state})
    return job_status(conn, job_id)


def fail_orphaned_jobs(engine: Engine) -> int:
    """Mark failed the jobs left queued or running by a process that is gone (none holds the job's lock); called
    when a service starts. Returns how many."""
    job = m.PartitionJob.__table__
    n = 0
    with engine.begin() as conn:
        for job_id in conn.execute(select(job.c.id).where(job.c.state.in_(("queued", "running")))).scalars():
            if conn.execute(select(func.pg_try_advisory_xact_lock(_JOB_LOCK_BASE + job_id))).scalar():
                conn.execute(update(job).where(job.c.id == job_id).values(
                    state="failed", error="the service stopped while the job ran; start it again",
                    finished_at=func.now()))
                _audit_entity(conn, "system", "fail_partition_job", "partition_job", str(job_id),
                              {"reason": "orphaned"})
                n += 1
    if n:
        log.warning("marked %d orphaned partition jobs failed", n)
    return n


class _Cancelled(Exception):
    """The job's row left ``running`` (cancelled) while it ran."""


def run_job(engine: Engine, job_id: int) -> None:
    """Run a queued job to the end, recording progress as it goes (never raises).

    While it runs the job's advisory lock is held on a connection of its own, which is how a service starting
    later tells a running job from one whose process is gone (:func:`fail_orphaned_jobs`).
    """
    try:
        with engine.connect() as holder:
            holder.execute(select(func.pg_advisory_lock(_JOB_LOCK_BASE + job_id)))
            holder.commit()
            try:
                _run_locked(engine, job_id)
            finally:  # a pooled connection outlives the run: its session lock must go explicitly
                holder.execute(select(func.pg_advisory_unlock(_JOB_LOCK_BASE + job_id)))
                holder.commit()
    except DBAPIError as exc:  # the store went away mid-run: the next service start marks the job failed
        log.error("partition job %s lost the store: %s", job_id, exc.orig)


def _run_locked(engine: Engine, job_id: int) -> None:
    job = m.PartitionJob.__table__
    with engine.begin() as conn:
        row = conn.execute(select(job).where(job.c.id == job_id).with_for_update()).one_or_none()
        if row is None or row.state != "queued":
            return
        conn.execute(update(job).where(job.c.id == job_id).values(state="running", started_at=func.now()))
    last = [-1.0]

    def progress(share: float, stage: str) -> None:
        if share - last[0] < 0.02 and share < 1:
            return
        last[0] = share
        with engine.begin() as pconn:
            moved = pconn.execute(update(job).where(job.c.id == job_id, job.c.state == "running")
                                  .values(progress=min(max(share, 0.0), 1.0), stage=stage)).rowcount
        if moved == 0:
            raise _Cancelled

    try:
        with engine.begin() as conn:
            version, _ = propose(conn, mode=row.mode, params=PartitionParams.model_validate(row.params),
                                 created_by=row.created_by, progress=progress)
        values = dict(state="done", progress=1.0, stage="proposed", version_id=version)
    except _Cancelled:
        log.info("partition job %s cancelled", job_id)
        return
    except GridwallError as exc:
        values = dict(state="failed", error=str(exc))
    except Exception as exc:  # a job must end in a state a planner can read
        log.exception("partition job %s failed", job_id)
        values = dict(state="failed", error=f"internal error: {type(exc).__name__}: {exc}")
    with engine.begin() as conn:
        conn.execute(update(job).where(job.c.id == job_id, job.c.state == "running")
                     .values(finished_at=func.now(), **values))
        if values["state"] == "failed":
            _audit_entity(conn, row.created_by, "fail_partition_job", "partition_job", str(job_id),
                          {"error": values["error"][:500]})


def start_job(engine: Engine, job_id: int) -> threading.Thread:
    """Run a job on a background thread of this process."""
    thread = threading.Thread(target=run_job, args=(engine, job_id), name=f"partition-job-{job_id}", daemon=True)
    thread.start()
    return thread


def job_status(conn: Connection, job_id: int) -> dict:
    """State, progress and result of a job."""
    job = m.PartitionJob.__table__
    row = conn.execute(select(job).where(job.c.id == job_id)).one_or_none()
    if row is None:
        raise NotFound("no partition job {job_id}", job_id=job_id)
    out = {k: v for k, v in row._mapping.items()}
    for key in ("created_at", "started_at", "finished_at"):
        out[key] = out[key].isoformat() if out[key] else None
    return out
