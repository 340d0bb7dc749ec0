"""Camera coverage and blind spots: where patrols must go (路长只需巡查摄像头盲区).

View sectors are scoped like the cameras themselves: a department's key sees
its own. Blind spots are computed from every online camera, so they are
shown only to roles that see all cameras.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from api.deps import ConnDep, Reader, require
from api.params import MAX_INT
from api.security import Principal
from api.store import visible_camera_ids
from command.coverage import blind_spot_features, blind_spots, camera_sectors

__all__ = ["router"]

router = APIRouter(prefix="/coverage", tags=["coverage"])

GridId = Annotated[int | None, Query(ge=1, le=MAX_INT, description="One grid; the whole district when left out.")]
GridIdItem = Annotated[int, Field(ge=1, le=MAX_INT)]
AllCameras = Annotated[Principal, require("admin", "operator", "supervisor", "planner", "analyst", "wall")]


@router.get("/sectors", summary="Cameras' view sectors as GeoJSON")
def sectors(conn: ConnDep, user: Reader, grid_id: GridId = None, online_only: bool = False) -> JSONResponse:
    """One polygon per camera (disc for dome/PTZ, wedge otherwise), in EPSG:4326."""
    collection = camera_sectors(conn, grid_id=grid_id, online_only=online_only)
    mine = visible_camera_ids(conn, user)
    if mine is not None:
        collection["features"] = [f for f in collection["features"] if f["properties"]["camera_id"] in mine]
    return JSONResponse(collection, media_type="application/geo+json")


@router.get("/blind-spots", summary="Street length no camera sees, per grid")
def get_blind_spots(conn: ConnDep, user: AllCameras,
                    grid_id: Annotated[list[GridIdItem] | None, Query(max_length=100, description="Grid ids")] = None,
                    format: Literal["json", "geojson"] = "json") -> JSONResponse:
    """Per grid: street metres, blind metres and share, blindest first; ``format=geojson`` for the stretches."""
    ids = grid_id or None
    if format == "geojson":
        return JSONResponse(blind_spot_features(conn, grid_ids=ids), media_type="application/geo+json")
    return JSONResponse([{**b.model_dump(), "blind_share": b.blind_share} for b in blind_spots(conn, grid_ids=ids)])
