"""Camera coverage and blind spots: where patrols must go.

Each camera's view is a sector polygon (``gridwall_camera_sector``, created by
migration 0002): a disc of ``range_m`` for dome and PTZ cameras, otherwise the
wedge ``heading_deg ± fov_deg / 2`` drawn in the district's metric CRS. A
street stretch inside a grid that no online camera's sector covers is a blind
spot: 路长只需巡查摄像头盲区 — patrols need only cover those. Per grid we report
the street length, the blind length and its share, and can export the blind
stretches as GeoJSON for the wall or a GIS.
"""

from __future__ import annotations

import json

from pydantic import BaseModel
from sqlalchemy import Connection

from command.audit import sql
from command.network import metric_srid

__all__ = ["BlindSpots", "blind_spots", "blind_spot_features", "camera_sectors"]


class BlindSpots(BaseModel):
    """Street length no camera sees, in one grid."""

    grid_id: int
    grid_code: str
    street_m: float
    blind_m: float

    @property
    def blind_share(self) -> float:
        """Share of the grid's street length that is blind (0 when it has no street)."""
        return self.blind_m / self.street_m if self.street_m > 0 else 0.0


def _rows(conn: Connection, grid_ids: list[int] | None, with_geometry: bool):
    return conn.execute(sql("blind_spots"), {"grid_ids": grid_ids, "srid": metric_srid(conn),
                                             "with_geometry": with_geometry}).all()


def blind_spots(conn: Connection, *, grid_ids: list[int] | None = None) -> list[BlindSpots]:
    """Per current grid, street length and blind length (metres), blindest first.

    Parameters
    ----------
    grid_ids
        Grids to report; all grids of the current version when ``None``
        (a whole district takes seconds, not milliseconds: a report, not a
        click).
    """
    return [BlindSpots(grid_id=r.grid_id, grid_code=r.grid_code, street_m=r.street_m, blind_m=r.blind_m)
            for r in _rows(conn, grid_ids, False)]


def blind_spot_features(conn: Connection, *, grid_ids: list[int] | None = None) -> dict:
    """The blind street stretches as a GeoJSON FeatureCollection (EPSG:4326), one feature per grid."""
    features = []
    for r in _rows(conn, grid_ids, True):
        if r.blind_geojson is None:
            continue
        features.append({
            "type": "Feature",
            "geometry": json.loads(r.blind_geojson),
            "properties": {"grid_id": r.grid_id, "grid_code": r.grid_code, "street_m": round(r.street_m, 1),
                           "blind_m": round(r.blind_m, 1)},
        })
    return {"type": "FeatureCollection", "features": features}


def camera_sectors(conn: Connection, *, grid_id: int | None = None, online_only: bool = False) -> dict:
    """Cameras' view sectors as a GeoJSON FeatureCollection (EPSG:4326)."""
    rows = conn.execute(sql("camera_sectors"), {"grid_id": grid_id, "online_only": online_only,
                                                "srid": metric_srid(conn)})
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": json.loads(r.sector),
             "properties": {"camera_id": r.id, "code": r.code, "kind": r.kind, "online": r.online,
                            "heading_deg": r.heading_deg, "fov_deg": r.fov_deg, "range_m": r.range_m}}
            for r in rows
        ],
    }
