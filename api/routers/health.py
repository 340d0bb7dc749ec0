"""Health and the layer counts: is the store there, and what is in it."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import ConnDep, EngineDep, MaybeUser
from command.holidays import calendar_notices, today_in
from layers.db import health
from layers.queries import layer_counts

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health")
def get_health(engine: EngineDep, user: MaybeUser) -> JSONResponse:
    """Store reachable, PostGIS present, schema current: 200; else 503.

    Without a key the answer is only the status: versions tell an attacker which published faults to try.
    With a key, ``warnings`` (the status still ok) names what the working calendar lacks: this year, and from
    1 December next year (a deadline into a year nobody loaded is only provisional).
    """
    h = health(engine)
    ok = h.ok and h.postgis is not None and h.migrated
    status = "ok" if ok else "unavailable"
    if user is None:
        return JSONResponse({"status": status}, status_code=200 if ok else 503)
    body = {
        "status": status,
        "warnings": _calendar_warnings(engine) if ok else [],
        "postgres": h.postgres,
        "postgis": h.postgis,
        "schema_revision": h.schema_revision,
        "schema_head": h.schema_head,
        "current_grid_version": h.current_grid_version,
    }
    return JSONResponse(body, status_code=200 if ok else 503)


def _calendar_warnings(engine) -> list[str]:
    with engine.connect() as conn:
        return calendar_notices(conn, today_in())


@router.get("/layers/counts")
def get_layer_counts(conn: ConnDep) -> dict[str, int]:
    """How many rows each layer holds (grids: the current version)."""
    return layer_counts(conn)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def landing(conn: ConnDep) -> str:
    """A plain page for a person who opens the URL."""
    rows = "".join(f"<tr><td>{name}</td><td>{n:,}</td></tr>" for name, n in layer_counts(conn).items())
    return (
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>gridwall</title></head>"
        "<body><h1>gridwall 网格化管理指挥平台</h1><p><a href='/health'>health</a> · "
        "<a href='/docs'>API</a></p><table>" + rows + "</table></body></html>"
    )
