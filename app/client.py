"""The one HTTP client of the API the wall uses.

Why one module: the wall is a client of the API like a phone or another
platform, so every path it calls is listed here (:data:`ROUTES`) and nothing
else in ``app/`` knows a URL. A missing endpoint (404/405) is answered with
``None`` by :meth:`ApiClient.get_json` so a page can show "no data" rather
than fail; every other failure raises :class:`ApiError` with the API's own
message, in the language the client asked for (``lang``: the API says
Chinese unless told ``Accept-Language: en``).

The domain labels (states, channels, statuses, kinds) are the API's
(``GET /labels``), not the app's: :func:`vocabularies` fetches them once per
process and language, and :func:`labelled` writes one value under its label.
"""

from __future__ import annotations

import functools
import logging
import ssl
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import orjson

from app.settings import WallSettings

__all__ = ["ApiClient", "ApiError", "ROUTES", "LAYER_NAMES", "vocabularies", "labelled"]

log = logging.getLogger(__name__)

#: every API path the wall uses, by purpose
ROUTES: dict[str, str] = {
    "health": "/health",
    "login": "/auth/login",
    "me": "/auth/me",
    "logout": "/auth/logout",
    "counts": "/layers/counts",
    "layer": "/layers/{layer}",
    "feature": "/layers/{layer}/{feature_id}",
    "clusters": "/layers/{layer}/clusters",
    "kpis": "/kpis",
    "kpis_areas": "/kpis/areas",
    "data_time": "/kpis/data-time",
    "heat": "/heat",
    "events": "/events",
    "addresses": "/addresses",
    "audit": "/audit",
    "event": "/events/{event_id}",
    "suggestions": "/events/{event_id}/suggestions",
    "dispatch": "/events/{event_id}/dispatch/worker",
    "move": "/events/{event_id}/transitions",
    "supervise": "/events/{event_id}/supervise",
    "self_settle": "/events/{event_id}/self-settle",
    "merge": "/events/{event_id}/merge",
    "split": "/events/{event_id}/split",
    "duplicates": "/events/{event_id}/duplicates",
    "link_cameras": "/events/{event_id}/dispatch/cameras",
    "call_resources": "/events/{event_id}/dispatch/resources",
    "release_resources": "/events/{event_id}/release/resources",
    "services": "/open311/v2/services.json",
    "labels": "/labels",
    "basemap_labels": "/basemap/labels",
    "near_workers": "/dispatch/workers",
    "near_cameras": "/dispatch/cameras",
    "near_resources": "/dispatch/resources",
    "workers_live": "/workers/live",
    "stream": "/stream",
    "jobs": "/partition/jobs",
    "job": "/partition/jobs/{job_id}",
    "version": "/partition/versions/{version_id}",
    "versions": "/partition/versions",
    "accept": "/partition/versions/{version_id}/accept",
    "discard": "/partition/versions/{version_id}/discard",
}

#: the map layers of DOMAIN.md, in drawing order (bottom first)
LAYER_NAMES: tuple[str, ...] = (
    "water", "blocks", "roads", "buildings", "grids", "components", "resources", "cameras", "workers", "events",
)


class ApiError(Exception):
    """The API answered with an error; ``status`` and ``detail`` are its own."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


def _detail(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:300]
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            where = err.get("field") or err.get("source")
            return str(err["message"]) + (f" ({where})" if where else "")
        return str(body.get("detail") or body.get("message") or body)
    return str(body)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context per process for every client of the API.

    Why: ``httpx.Client()`` builds a new default context (loading the
    system's CA store) each time, some 50–100 ms of CPU under the GIL; a
    wall server makes a client per callback, and on a first render its six
    callbacks spent over half their time there (py-spy, issue 20).
    """
    return ssl.create_default_context()


class ApiClient:
    """A short-lived client: one per callback, closed by ``with``.

    In a request of a signed-in person it calls the API with their session
    token (:func:`app.auth.session_token`), elsewhere with the wall server's
    own key; ``token=""`` forces the key.

    Parameters
    ----------
    settings:
        Where the API is and which key to present.
    lang:
        The language of the API's messages (the settings' by default).

    Examples
    --------
    >>> with ApiClient(WallSettings(api_url="http://127.0.0.1:8000")) as api:  # doctest: +SKIP
    ...     api.get_json("counts")
    """

    def __init__(self, settings: WallSettings, *, timeout: float | None = None, token: str | None = None,
                 lang: str | None = None) -> None:
        from app.auth import session_token

        headers = {"Accept": "application/json", "Accept-Language": lang or settings.language}
        token = session_token() if token is None else token
        if token:  # a person signed in: the API sees them, the audit log names them
            headers["Authorization"] = f"Bearer {token}"
        elif settings.api_key is not None:  # the server's own reads (its payload cache), or sign-in itself
            headers["X-API-Key"] = settings.api_key.get_secret_value()
        self._http = httpx.Client(base_url=settings.api_url, headers=headers, verify=_tls(),
                                  timeout=timeout or settings.timeout_s)
        self.settings = settings

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _url(self, route: str, **parts: object) -> str:
        return ROUTES[route].format(**parts)

    def get_json(self, route: str, params: dict[str, Any] | None = None, **parts: object) -> Any | None:
        """GET a route; ``None`` when the API has no such endpoint (404/405) or is unreachable."""
        try:
            resp = self._http.get(self._url(route, **parts), params=params)
        except httpx.HTTPError as exc:
            log.warning("API unreachable for %s: %s", route, exc)
            return None
        if resp.status_code in (404, 405) and route not in ("event", "feature", "job", "version"):
            log.info("API has no %s (%s)", ROUTES[route], resp.status_code)
            return None
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, _detail(resp))
        return orjson.loads(resp.content)  # 30,000 cameras are 12 MB: the stdlib parser holds the GIL for long

    def post_json(self, route: str, body: dict[str, Any] | None = None, params: dict[str, Any] | None = None,
                  **parts: object) -> Any:
        """POST a route; raises :class:`ApiError` on any 4xx/5xx (a 409 is the conflict answer)."""
        resp = self._http.post(self._url(route, **parts), json=body, params=params)
        if resp.status_code >= 400:
            raise ApiError(resp.status_code, _detail(resp))
        return resp.json()

    def layer(self, layer: str, *, bbox: tuple[float, ...] | None = None, filters: list[str] | None = None,
              limit: int | None = None, version: int | None = None) -> dict:
        """All features of a layer as one GeoJSON FeatureCollection: the first page, then the rest in parallel."""
        limit = limit or self.settings.max_points
        page = min(limit, self.settings.page_size)
        base: dict[str, Any] = {}
        if bbox:
            base["bbox"] = ",".join(f"{v:.6f}" for v in bbox)
        if filters:
            base["filter"] = filters
        if version is not None:
            base["version"] = version
        first = self.get_json("layer", params={**base, "limit": page, "offset": 0}, layer=layer)
        if not first:
            return {"type": "FeatureCollection", "features": []}
        features = list(first.get("features", []))
        matched = min(int(first.get("numberMatched") or len(features)), limit)
        offsets = list(range(len(features), matched, page)) if features else []
        if offsets:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=min(4, len(offsets))) as pool:
                pages = pool.map(lambda off: self.get_json("layer", params={**base, "limit": min(page, matched - off),
                                                                              "offset": off}, layer=layer), offsets)
                for body in pages:
                    features.extend((body or {}).get("features", []))
        return {"type": "FeatureCollection", "features": features}

    def stream(self) -> Iterator[bytes]:
        """The API's live feed of events and workers, raw SSE bytes, until the API closes it."""
        with self._http.stream("GET", self._url("stream"), params={"topic": ["event", "worker"]},
                               timeout=httpx.Timeout(10.0, read=None),
                               headers={"Accept": "text/event-stream"}) as resp:
            if resp.status_code >= 400:
                raise ApiError(resp.status_code, "live feed refused")
            yield from resp.iter_raw()


#: (API address, language) → the API's vocabularies: read-only, the same for every user of the process
_VOCABULARIES: dict[tuple[str, str], dict[str, dict[str, str]]] = {}
_VOCABULARIES_LOCK = threading.Lock()


def vocabularies(settings: WallSettings, lang: str) -> dict[str, dict[str, str]]:
    """The API's labels in ``lang`` (``{"states": {"reported": "上报", …}, "channels": …}``), fetched once.

    An API that cannot answer yet gives ``{}`` and is asked again next time (a label then shows its value).
    """
    key = (settings.api_url, lang)
    with _VOCABULARIES_LOCK:
        found = _VOCABULARIES.get(key)
        if found is None:
            try:
                with ApiClient(settings, lang=lang) as api:
                    found = api.get_json("labels", params={"lang": lang}) or None
            except ApiError as exc:
                log.warning("no labels from the API: %s", exc)
            if found:
                _VOCABULARIES[key] = found
    return found or {}


def labelled(settings: WallSettings, vocabulary: str, value: object, lang: str) -> str:
    """One value under its label (``labelled(s, "states", "dispatched", "zh") == "派遣"``); the value itself when
    the API has no label for it."""
    if value is None:
        return ""
    return vocabularies(settings, lang).get(vocabulary, {}).get(str(value), str(value))
