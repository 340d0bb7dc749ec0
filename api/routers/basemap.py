"""The offline basemap's own answers: the names written on the map (:mod:`api.basemap`).

The basemap's shapes are map layers like any other (``/layers/roads``,
``/tiles/…``); what is the basemap's alone is where its names go.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from fastapi.responses import Response

from api.basemap import labels
from api.deps import ConnDep, Reader

__all__ = ["router"]

GEOJSON = "application/geo+json"

router = APIRouter(prefix="/basemap", tags=["basemap"])


@router.get("/labels", response_class=Response, responses={200: {"content": {GEOJSON: {}}}},
            summary="Road, street and community names with their anchors, angles and zooms")
def get_labels(conn: ConnDep, user: Reader) -> Response:
    """One Point per label: ``layer``, ``name``, ``kind``, ``angle``, ``minzoom``, ``maxzoom``, ``rank``."""
    return Response(orjson.dumps(labels(conn)), media_type=GEOJSON,
                    headers={"Cache-Control": "private, max-age=3600", "Vary": "X-API-Key, Authorization"})
