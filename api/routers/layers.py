"""Map layers as GeoJSON: bbox, attribute filters and paging.

The same rows as the tiles and OGC API – Features (see :mod:`api.features`);
this is the plain form the wall and the console fetch when they need the
attributes of what is on screen. ``/layers/{layer}/clusters`` counts a
layer's features in screen-sized cells, for a wall that shows 30,000 cameras
as a few hundred clusters.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import ConnDep, Reader, SettingsDep
from api.features import SERVED, Scope, clusters, feature_by_id, feature_page, parse_filters, served
from api.params import BBoxDep, BigId, FiltersDep, LayerName, PagingDep, Version

__all__ = ["router", "GEOJSON"]

GEOJSON = "application/geo+json"

router = APIRouter(prefix="/layers", tags=["layers"])

@router.get("", summary="The map layers and what each carries")
def list_layers(user: Reader) -> list[dict]:
    """Every served layer with its properties and where its tiles are."""
    return [{"name": n, "title": s.title, "properties": list(s.properties), "minzoom": s.minzoom,
             "geojson": f"/layers/{n}", "tiles": f"/tiles/{n}/{{z}}/{{x}}/{{y}}.pbf",
             "scoped": s.scoped} for n, s in SERVED.items()]


@router.get("/{layer}", response_class=Response, responses={200: {"content": {GEOJSON: {}}}},
            summary="A page of a layer's features as GeoJSON")
def get_features(layer: LayerName, request: Request, conn: ConnDep, user: Reader,
                 box: BBoxDep, filters: FiltersDep,
                 page: PagingDep, version: Version = None) -> Response:
    """Features in id order; ``links`` carries the next page while there is one."""
    sl = served(layer.value)
    scope = Scope(user, box.box, parse_filters(sl, filters.filter), version)
    result = feature_page(conn, sl, scope, limit=page.limit, offset=page.offset)
    links = []
    if result.has_next:
        links.append({"rel": "next", "href": str(request.url.include_query_params(offset=page.offset + page.limit))})
    return Response(result.feature_collection(links=links), media_type=GEOJSON)


@router.get("/{layer}/clusters", response_class=Response, responses={200: {"content": {GEOJSON: {}}}},
            summary="A layer's features counted in cells of a zoom level")
def get_clusters(layer: LayerName, conn: ConnDep, user: Reader, settings: SettingsDep, box: BBoxDep,
                 filters: FiltersDep, zoom: Annotated[int, Query(ge=0, le=22, description="Web Mercator zoom.")],
                 cell_px: Annotated[int, Query(ge=8, le=512, description="Side of a cell in screen pixels.")] = 60,
                 version: Version = None) -> Response:
    """One Point per non-empty cell: ``count``, and for cameras how many are ``online``."""
    sl = served(layer.value)
    scope = Scope(user, box.box, parse_filters(sl, filters.filter), version)
    body = clusters(conn, sl, scope, zoom=zoom, cell_px=cell_px)
    headers = {"Cache-Control": f"private, max-age={settings.tile_max_age.get(sl.name, 60)}",
               "Vary": "X-API-Key, Authorization"}
    return Response(orjson.dumps(body), media_type=GEOJSON, headers=headers)


@router.get("/{layer}/{feature_id}", response_class=Response, responses={200: {"content": {GEOJSON: {}}}},
            summary="One feature of a layer")
def get_feature(layer: LayerName, feature_id: BigId, conn: ConnDep, user: Reader, version: Version = None) -> Response:
    """One feature by id, if the caller may see it."""
    sl = served(layer.value)
    return Response(feature_by_id(conn, sl, Scope(user, version=version), feature_id), media_type=GEOJSON)
