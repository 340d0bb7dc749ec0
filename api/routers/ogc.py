"""OGC API – Features (Part 1: Core) over the same layers, JSON and GeoJSON only.

Why: QGIS, ArcGIS and GDAL (``ogrinfo OAPIF:http://host/ogc``) read a
standard server with no plug-in; planners and analysts open the live layers
beside their own files. The collections are the served layers (grids: the
current version), in CRS84, paged with ``limit``/``offset`` and ``next``
links, filtered with ``bbox`` — unknown query parameters are a 400 naming them and an unknown
collection a 404 (:mod:`api.ogc`) — with the same access scope (:mod:`api.access`) as every
other read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from api.deps import ConnDep, Reader
from api.features import SERVED, Scope, ServedLayer, extent, feature_by_id, feature_page, served, time_extent
from api.ogc import CRS84, parse_datetime, strict_query
from api.params import BBoxDep, BigId, PagingDep

__all__ = ["router", "CONFORMANCE", "CRS84"]

router = APIRouter(prefix="/ogc", tags=["ogc api features"], dependencies=[Depends(strict_query)])

#: a collection by name: an unknown one is a 404 naming the collections there are (Core), not a 422
CollectionId = Annotated[str, Path(max_length=100, description="A collection: " + ", ".join(SERVED) + ".",
                                   examples=["cameras"])]
#: OGC API – Features' ``datetime``: an instant, or an interval with ``..`` (or nothing) for an open end
DateTimeQuery = Annotated[str | None, Query(alias="datetime", max_length=100, description="An RFC 3339 instant "
                                            "or interval (start/end, \"..\" for an open end), with a time zone.",
                                            examples=["2026-11-20T00:00:00+08:00/.."])]

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
_JSON, _GEOJSON = "application/json", "application/geo+json"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/ogc"


def _link(href: str, rel: str, kind: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": kind, "title": title}


def _temporal(conn, sl: ServedLayer, scope: Scope) -> dict:
    """``temporal`` of a time-bearing collection's extent (what ``datetime`` filters on), else nothing."""
    interval = time_extent(conn, sl, scope)
    if interval is None:
        return {}
    return {"temporal": {"interval": [interval], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}}


def _collection(request: Request, conn, sl: ServedLayer, scope: Scope) -> dict:
    box = extent(conn, sl, scope) or [-180.0, -90.0, 180.0, 90.0]
    here = f"{_base(request)}/collections/{sl.name}"
    return {
        "id": sl.name, "title": sl.title, "itemType": "feature", "crs": [CRS84], "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [box], "crs": CRS84}, **_temporal(conn, sl, scope)},
        "links": [_link(here, "self", _JSON, sl.title), _link(f"{here}/items", "items", _GEOJSON, "Features")],
    }


@router.get("", summary="Landing page")
def landing(request: Request, user: Reader) -> dict:
    """What this service offers and where, as OGC API – Features requires."""
    base = _base(request)
    api = str(request.base_url).rstrip("/") + request.app.openapi_url
    return {"title": "gridwall OGC API – Features", "description": "The map layers of the grid governance store.",
            "links": [_link(base, "self", _JSON, "This document"),
                      _link(api, "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API"),
                      _link(f"{base}/conformance", "conformance", _JSON, "Conformance classes"),
                      _link(f"{base}/collections", "data", _JSON, "The collections")]}


@router.get("/conformance", summary="Conformance classes")
def conformance(user: Reader) -> dict:
    """Core, OpenAPI 3.0 and GeoJSON."""
    return {"conformsTo": CONFORMANCE}


@router.get("/collections", summary="The collections")
def collections(request: Request, conn: ConnDep, user: Reader) -> dict:
    """Every served layer with its extent (what the caller may see of it) in CRS84."""
    scope = Scope(user)
    return {"links": [_link(f"{_base(request)}/collections", "self", _JSON, "The collections")],
            "collections": [_collection(request, conn, sl, scope) for sl in SERVED.values()]}


@router.get("/collections/{collection_id}", summary="One collection")
def collection(collection_id: CollectionId, request: Request, conn: ConnDep, user: Reader) -> dict:
    """A layer's metadata and extent."""
    return _collection(request, conn, served(collection_id), Scope(user))


@router.get("/collections/{collection_id}/items", response_class=Response,
            responses={200: {"content": {_GEOJSON: {}}}}, summary="Features of a collection")
def items(collection_id: CollectionId, request: Request, conn: ConnDep, user: Reader,
          box: BBoxDep, page: PagingDep, when: DateTimeQuery = None) -> Response:
    """A page of features with ``numberMatched``, ``numberReturned`` and a ``next`` link while more follow;
    ``datetime`` filters a time-bearing layer (events: reported, workers: placed, cameras: last seen)."""
    sl = served(collection_id)
    scope = Scope(user, box.box, period=parse_datetime(when, sl.time, sl.name))
    result = feature_page(conn, sl, scope, limit=page.limit, offset=page.offset)
    links = [_link(str(request.url), "self", _GEOJSON, "This page")]
    if result.has_next:
        nxt = str(request.url.include_query_params(offset=page.offset + page.limit, limit=page.limit))
        links.append(_link(nxt, "next", _GEOJSON, "Next page"))
    return Response(result.feature_collection(links=links), media_type=_GEOJSON)


@router.get("/collections/{collection_id}/items/{feature_id}", response_class=Response,
            responses={200: {"content": {_GEOJSON: {}}}}, summary="One feature")
def item(collection_id: CollectionId, feature_id: BigId, conn: ConnDep, user: Reader) -> Response:
    """One feature by id."""
    return Response(feature_by_id(conn, served(collection_id), Scope(user), feature_id), media_type=_GEOJSON)


