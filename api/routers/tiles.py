"""Mapbox Vector Tiles of every map layer, from ``ST_AsMVT``, with HTTP caching.

Why the store draws the tiles: ``ST_AsMVT`` clips, quantises and encodes in
one statement next to the GiST index, so a tile of 30,000 cameras never
crosses into Python as rows. Each answer carries an ``ETag`` (a digest of the
tile) and a ``Cache-Control`` max-age suited to its layer — seconds for events
and workers, a day for buildings — so the wall's browser asks again only
when it must and gets a 304 when nothing changed. Tiles are ``private``:
a department's key sees only its own cameras and events.

A tile of a kilobyte or more goes gzip-compressed to a client that accepts
it (``Content-Encoding: gzip``, ``Vary: Accept-Encoding``, an ETag of its
own): an events tile of 2 MB at z14 is a third of that on the wire, and the
compression runs in the same thread hop as the drawing.

Below a layer's minimum zoom (:attr:`api.features.ServedLayer.minzoom`) there
is no tile: a 204, which map clients read as an empty tile, without a turn at
the drawing. An events tile holds what a command hall watches — the open
events and those reported in the last ``tiles_recent_days`` — unless the
client asks ``?all=true``.
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.deps import EngineDep, Reader, SettingsDep, autocommit
from api.features import Scope, ServedLayer, parse_filters, served, tile
from api.params import MAX_INT, FiltersDep, LayerName, Version

__all__ = ["router", "MVT"]

MVT = "application/vnd.mapbox-vector-tile"

router = APIRouter(prefix="/tiles", tags=["tiles"])

Zoom = Annotated[int, Path(ge=0, le=22, description="Zoom level.")]
TileXY = Annotated[int, Path(ge=0, le=MAX_INT, description="Tile column or row (0 … 2^z − 1).")]
AllEvents = Annotated[bool, Query(alias="all", description="Events tiles: every event, not only the open ones and "
                                  "those of the last GRIDWALL_API_TILES_RECENT_DAYS days.")]
#: how long a client may keep knowing that a zoom has no tile of a layer
_NO_TILE_MAX_AGE = 86_400


@router.get("/{layer}.json", summary="TileJSON of a layer")
def tilejson(layer: LayerName, request: Request, user: Reader) -> dict:
    """TileJSON 3.0: where the tiles are and from which zoom they hold anything."""
    sl = served(layer.value)
    base = str(request.base_url).rstrip("/")
    return {"tilejson": "3.0.0", "name": sl.name, "description": sl.title, "scheme": "xyz",
            "tiles": [f"{base}/tiles/{sl.name}/{{z}}/{{x}}/{{y}}.pbf"], "minzoom": sl.minzoom, "maxzoom": 22,
            "vector_layers": [{"id": sl.name, "fields": {c: "" for c in sl.tile_properties}}]}


#: tiles smaller than this go as they are: gzip's header and the client's work would cost more than they save
GZIP_FROM = 1024


def _draw(engine: Engine, layer: ServedLayer, scope: Scope, z: int, x: int, y: int,
          packed: bool) -> tuple[bytes, str, bool]:
    """One tile on a pooled autocommit connection, its ETag, and whether it is gzipped: the only hop to the thread
    pool a tile makes.

    The digest is SHA-256 (hardware-assisted here, twice blake2b's speed on a
    77 KiB tile), cut to 96 bits, computed off the event loop; a gzipped
    tile's ETag says so (``…-gz``), as one representation must not share
    another's. Level 5 and no timestamp: the same tile packs to the same bytes.
    """
    with autocommit(engine) as conn:
        data = tile(conn, layer, scope, z, x, y)
    etag = hashlib.sha256(data).hexdigest()[:24]
    if packed and len(data) >= GZIP_FROM:
        return gzip.compress(data, compresslevel=5, mtime=0), f'"{etag}-gz"', True
    return data, f'"{etag}"', False


@router.get("/{layer}/{z}/{x}/{y}.pbf", response_class=Response,
            responses={200: {"content": {MVT: {}}}, 204: {"description": "Below the layer's minimum zoom: no tile"},
                       304: {"description": "Not modified"}},
            summary="One Mapbox Vector Tile")
async def get_tile(layer: LayerName, z: Zoom, x: TileXY, y: TileXY, engine: EngineDep, user: Reader,
                   settings: SettingsDep, filters: FiltersDep, version: Version = None, all_events: AllEvents = False,
                   if_none_match: Annotated[str | None, Header(max_length=200)] = None,
                   accept_encoding: Annotated[str | None, Header(max_length=200)] = None) -> Response:
    """The tile z/x/y (XYZ scheme, Web Mercator), gzipped when the client accepts it and it is worth it; 304 when
    the client's ETag still holds; 204 below the layer's minimum zoom."""
    sl = served(layer.value)
    scope = Scope(user, filters=parse_filters(sl, filters.filter), version=version,
                  recent_since=None if all_events else datetime.now(UTC) - timedelta(days=settings.tiles_recent_days))
    if z < sl.minzoom and 0 <= x < (1 << z) and 0 <= y < (1 << z):
        return Response(status_code=204, headers={"Cache-Control": f"private, max-age={_NO_TILE_MAX_AGE}"})
    packed = "gzip" in (accept_encoding or "").lower()
    data, etag, gzipped = await run_in_threadpool(_draw, engine, sl, scope, z, x, y, packed)
    headers = {"ETag": etag, "Vary": "X-API-Key, Authorization, Accept-Encoding",
               "Cache-Control": f"private, max-age={settings.tile_max_age.get(sl.name, 60)}"}
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type=MVT, headers=headers)
