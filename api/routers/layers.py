"""Map layers as GeoJSON: bbox, attribute filters and paging.

The same rows as the tiles and OGC API – Features (see :mod:`api.features`);
this is the plain form the wall and the console fetch when they need the
attributes of what is on screen.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import ConnDep, Reader
from api.features import SERVED, Scope, feature_by_id, feature_page, parse_filters, served
from api.params import BBoxDep, BigId, FiltersDep, LayerName, PagingDep, Version

__all__ = ["router", "GEOJSON"]

GEOJSON = "application/geo+json"

router = APIRouter(prefix="/layers", tags=["layers"])

@router.get("", summary="The map layers and what each carries")
def list_layers(user: Reader) -> list[dict]:
    """Every served layer with its properties and where its tiles are."""
    return [{"name": n, "title": s.title, "properties": list(s.properties), "minzoom": s.minzoom,
             "geojson": f"/layers/{n}", "tiles": f"/tiles/{n}/{{z}}/{{x}}/{{y}}.pbf",
             "scoped_by_department": s.department is not None} for n, s in SERVED.items()]


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


@router.get("/{layer}/{feature_id}", response_class=Response, responses={200: {"content": {GEOJSON: {}}}},
            summary="One feature of a layer")
def get_feature(layer: LayerName, feature_id: BigId, conn: ConnDep, user: Reader, version: Version = None) -> Response:
    """One feature by id, if the caller may see it."""
    sl = served(layer.value)
    return Response(feature_by_id(conn, sl, Scope(user, version=version), feature_id), media_type=GEOJSON)
