"""OGC API – Features Core strictness: what the standard says a server must refuse.

Why: GDAL, QGIS and hand-written clients that send a parameter this server does not implement (``crs``,
``sortby``, a typo of ``bbox``) must learn it with a 400 naming the parameter (Core, requirement
``/req/core/query-param-unknown``), not get a 200 with the unfiltered data.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from fastapi.dependencies.models import Dependant

from api.errors import BadRequest

__all__ = ["ALWAYS_ALLOWED", "CRS84", "strict_query", "parse_datetime"]

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#: parameters every OGC route takes besides its own: the key (GET only, :mod:`api.deps`) and the format ``f``
ALWAYS_ALLOWED = frozenset({"api_key", "f"})
#: Part 2's CRS parameters, taken on the feature routes as long as they name the one CRS served (GDAL sends
#: ``crs=`` CRS84 once a collection lists it); any other CRS is a 400 naming the parameter
_CRS_PARAMS = {"crs": "/items", "bbox-crs": "/items"}


def _query_names(dependant: Dependant) -> set[str]:
    """The query parameters a route declares, its dependencies' included."""
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def strict_query(request: Request) -> None:
    """Refuse (400) a query parameter the matched route does not declare, naming it and the known ones."""
    route = request.scope.get("route")
    if route is None:
        return
    known = ALWAYS_ALLOWED | _query_names(route.dependant)
    known |= {name for name, part in _CRS_PARAMS.items() if part in route.path}
    for name in sorted(set(_CRS_PARAMS) & known & set(request.query_params)):
        if request.query_params[name] != CRS84:
            raise BadRequest("{name} must be {crs}, the one CRS served; got {value!r}", name=name, crs=CRS84,
                             value=request.query_params[name], field=name)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise BadRequest("unknown query parameter(s) {unknown}; this operation takes: {known}",
                         unknown=tuple(unknown), known=tuple(sorted(known)), field=unknown[0])


def _instant(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError as exc:
        raise BadRequest("datetime: {raw!r} is no RFC 3339 time", raw=raw, field="datetime") from exc
    if value.tzinfo is None:
        raise BadRequest("datetime: {raw!r} needs a time zone (e.g. Z or +08:00)", raw=raw, field="datetime")
    return value


def parse_datetime(raw: str | None, time: str | None, layer: str) -> tuple[datetime | None, datetime | None] | None:
    """OGC API – Features ``datetime`` → ``(start, end)``, ends included, ``None`` for an open one.

    An instant (``2026-11-20T08:00:00+08:00``), an interval (``a/b``) or a half-bounded one (``../b``, ``a/..``;
    an empty end is open too). A malformed value, an interval ending before it starts, both ends open, or a
    ``datetime`` on a layer with no time is a 400 naming ``datetime``.

    >>> parse_datetime("2026-11-20T00:00:00Z/..", "reported_at", "events")[1] is None
    True
    """
    if raw is None:
        return None
    if time is None:
        raise BadRequest("datetime: collection '{layer}' has no time to filter on", layer=layer, field="datetime")
    if "/" not in raw:
        value = _instant(raw)
        return value, value
    first, sep, last = raw.partition("/")
    if "/" in last:
        raise BadRequest("datetime: {raw!r} is an instant or one interval start/end", raw=raw, field="datetime")
    start = None if first in ("", "..") else _instant(first)
    end = None if last in ("", "..") else _instant(last)
    if start is None and end is None:
        raise BadRequest("datetime: an interval needs at least one end, not {raw!r}", raw=raw, field="datetime")
    if start is not None and end is not None and end < start:
        raise BadRequest("datetime: {raw!r} ends before it starts", raw=raw, field="datetime")
    return start, end
