"""One line per request, for the API (ASGI) and the wall (WSGI), with the keys left out.

The line is::

    GET /layers/events?api_key=***&limit=10 200 12.3ms 5120B key:admin

method, path with its query (values of :data:`SECRET_PARAMS` replaced by
``***``), status, duration until the last byte was sent, bytes of body sent,
and who called when the service knew it cheaply (the API's principal: a key's
name and role or a person's login; the wall's signed-in person). No header is
ever logged, so ``X-API-Key``, ``Authorization`` and session cookies never
are. This module is the one home of that rule: :func:`redact_query` is what
both servers call, and uvicorn's and gunicorn's own access logs are off.

Logging is configured by the entry point (:func:`logging_config`, handed to
uvicorn and to gunicorn, so each worker process logs the same way).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

__all__ = ["SECRET_PARAMS", "redact_query", "request_line", "AccessLog", "WsgiAccessLog", "logging_config",
           "logged_api"]

log = logging.getLogger("gridwall.access")

#: query parameters whose values are secrets (compared lower-case): keys, tokens, passwords
SECRET_PARAMS = frozenset({"api_key", "apikey", "key", "token", "access_token", "session", "password", "secret"})
_MASK = "***"


def redact_query(query: str) -> str:
    """``query`` with every value of a :data:`SECRET_PARAMS` parameter replaced by ``***``.

    Examples
    --------
    >>> redact_query("api_key=s3cret&limit=10&KEY=x")
    'api_key=***&limit=10&KEY=***'
    """
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(name.lower() in SECRET_PARAMS for name, _ in pairs):
        return query
    return urlencode([(name, _MASK if name.lower() in SECRET_PARAMS else value) for name, value in pairs],
                     safe="*/:,")


def request_line(method: str, path: str, query: str, status: int, seconds: float, size: int,
                 who: str | None) -> str:
    """The one log line of a request (see the module docstring)."""
    query = redact_query(query)
    target = quote(path, safe="/:@!$&'()*+,;=-._~%") + (f"?{query}" if query else "")
    return f"{method} {target} {status} {seconds * 1000:.1f}ms {size}B {who or '-'}"


def _principal(scope: dict) -> str | None:
    principal = (scope.get("state") or {}).get("principal")
    return principal.actor if principal is not None else None


class AccessLog:
    """ASGI middleware: one line per HTTP request, when its answer has been sent (or the client went away).

    Who called is the principal the API's key check left on ``request.state``
    (nothing when the route asked for none, e.g. ``/health``).
    """

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __getattr__(self, name: str) -> Any:  # ``state``, ``routes`` … of the app inside, for whoever asks
        return getattr(self.app, name)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, sent = time.perf_counter(), {"status": 500, "bytes": 0}

        async def counting(message: dict) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting)
        finally:
            log.info(request_line(scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1"),
                                  sent["status"], time.perf_counter() - start, sent["bytes"], _principal(scope)))


class WsgiAccessLog:
    """WSGI middleware: one line per request, when the server closes its answer (after the last byte).

    ``actor_key`` names the environ entry where the app leaves who asked (the wall: its signed-in person).
    """

    def __init__(self, app: Callable, actor_key: str | None = None) -> None:
        self.app, self.actor_key = app, actor_key

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        start, seen = time.perf_counter(), {"status": 500}

        def starting(status: str, headers: list, exc_info: Any = None) -> Callable:
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        return _Counted(self.app(environ, starting), environ, start, seen, self.actor_key)


class _Counted:
    """The app's answer, counted as the server iterates it, logged when the server closes it."""

    def __init__(self, body: Iterable[bytes], environ: dict, start: float, seen: dict, actor_key: str | None) -> None:
        self.body, self.environ, self.start, self.seen, self.size = body, environ, start, seen, 0
        self.actor_key = actor_key

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.size += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            env = self.environ
            log.info(request_line(env["REQUEST_METHOD"], env.get("PATH_INFO", ""), env.get("QUERY_STRING", ""),
                                  self.seen["status"], time.perf_counter() - self.start, self.size,
                                  env.get(self.actor_key) if self.actor_key else None))


def logging_config(verbose: bool = False) -> dict:
    """A ``logging.config.dictConfig`` for a server and each of its workers: everything to stderr (the journal under
    systemd), one format, uvicorn's and gunicorn's own access logs silenced (:class:`AccessLog` and
    :class:`WsgiAccessLog` write the lines instead)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": "DEBUG" if verbose else "INFO"},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "gunicorn.error": {"handlers": [], "propagate": True},
            "gunicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "werkzeug": {"level": "WARNING"},  # the development server's request lines hold the query string
            "httpx": {"level": "WARNING"},  # the wall's every call to the API, URL and all
        },
    }


def logged_api() -> AccessLog:
    """The API as a worker of ``gridwall serve --workers N`` builds it (uvicorn's factory): ``create_app()`` from
    the ``GRIDWALL_*`` environment, with its request log."""
    from api.main import create_app

    return AccessLog(create_app())
