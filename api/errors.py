"""One table from the error family to HTTP status codes, one JSON shape.

Every error answer is ``{"error": {"type", "message", "source", "feature",
"field"}}`` (validation errors add ``details``) so that a client can always
point at what was wrong. The service adds three members to the family, for
what only HTTP has::

    GridwallError                      (layers.errors)
    ├── ...                            the store's and the event loop's errors
    ├── BadRequest (LoadError)         a query a standard says to refuse    → 400
    ├── Unauthorized                   no key, or a key nobody issued        → 401
    ├── Forbidden                      a known key whose role may not do it  → 403
    ├── PayloadTooLarge                a body over ``max_body_bytes``        → 413
    ├── TooManyRequests                an address guessing keys (throttled)  → 429
    └── HeadersTooLarge                too many or too large headers         → 431

The last three are raised by middleware (:mod:`api.middleware`), before any
route, and answered there with :func:`error_response` at the code this table
gives them.

Messages are said in the request's language (:mod:`api.messages`):
Chinese unless ``Accept-Language`` prefers English; the shape and its
members (``type``, ``field`` …) are the same in both.

A pydantic model that a route builds from request values and that refuses
them is a 422 as well. Database errors that bad input can cause (a value out of a column's range, a
text with a NUL byte, a unique key taken meanwhile) are 4xx too, never a 5xx:
``DataError`` → 422, ``IntegrityError`` → 409; an unreachable store or a
statement timeout is 503. A busy store (no connection free in time, the
pool's own ``TimeoutError``, a write that kept losing deadlocks) is
:class:`StoreBusy`: 503 with ``Retry-After``. Anything else is a 500 in the same shape, logged.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.messages import PYDANTIC_ZH, language, render, say
from layers.db import RETRYABLE, sqlstate
from layers.errors import (
    ConfigError,
    Conflict,
    DatabaseError,
    GridwallError,
    InvalidTransition,
    LoadError,
    NotFound,
    PartitionError,
    StoreBusy,
    UnknownCalendarYear,
)

__all__ = [
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "PayloadTooLarge",
    "TooManyRequests",
    "HeadersTooLarge",
    "STATUS_CODES",
    "install_error_handlers",
    "error_body",
    "error_response",
    "refusal",
]

log = logging.getLogger(__name__)


class BadRequest(LoadError):
    """A request a standard says to answer 400 (OGC API – Features: a query parameter it does not know)."""


class Unauthorized(GridwallError):
    """No API key was presented, or one nobody issued."""


class Forbidden(GridwallError):
    """The key is known but its role (or its department, or its worker) may not do this."""


class PayloadTooLarge(GridwallError):
    """The request body is larger than the service accepts."""


class TooManyRequests(GridwallError):
    """The client address presented too many keys nobody issued, lately."""


class HeadersTooLarge(GridwallError):
    """The request carries more header lines, or header bytes, than the service accepts."""


STATUS_CODES: dict[type[GridwallError], int] = {  # first match wins: a subclass before its base
    BadRequest: 400,
    LoadError: 422,
    NotFound: 404,
    Conflict: 409,
    InvalidTransition: 409,
    PartitionError: 422,
    Unauthorized: 401,
    Forbidden: 403,
    PayloadTooLarge: 413,
    TooManyRequests: 429,
    HeadersTooLarge: 431,
    ConfigError: 500,
    StoreBusy: 503,
    UnknownCalendarYear: 404,  # no such year in the calendar; not 503, which would make a balancer drop the service
    DatabaseError: 503,
}


def error_body(kind: str, message: str, /, **where: object) -> dict:
    """The one error shape."""
    body = {"type": kind, "message": message, **{k: where.get(k) for k in ("source", "feature", "field")}}
    body.update({k: v for k, v in where.items() if k not in body})
    return {"error": body}


def error_response(status: int, kind: str, message: str, /, *, retry_after: int | None = None,
                   **where: object) -> JSONResponse:
    """A JSONResponse in the one shape (for middleware that runs outside the handlers)."""
    headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(error_body(kind, message, **where), status_code=status, headers=headers or None)


def refusal(scope, exc: GridwallError, **where: object) -> JSONResponse:
    """The answer to ``exc`` in the request's language (for middleware that answers before any route)."""
    return error_response(STATUS_CODES[type(exc)], type(exc).__name__, render(exc, language(scope)), **where)


def _plain(value: object) -> object:
    """A detail value as JSON can carry it (an error inside an error is its English sentence)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


async def _gridwall_error(request: Request, exc: GridwallError) -> JSONResponse:
    status = next((code for cls, code in STATUS_CODES.items() if isinstance(exc, cls)), 500)
    where: dict[str, object] = {}
    message = render(exc, language(request.scope))
    if isinstance(exc, LoadError):
        where = exc.as_dict()
        where.pop("message")
    elif isinstance(exc, InvalidTransition):
        where = {"source": f"event {exc.event_id}", "field": "to_state", "allowed": list(exc.allowed)}
    elif isinstance(exc, Conflict):
        where = {"source": exc.source, "feature": exc.feature, "field": exc.field,
                 **{k: _plain(v) for k, v in exc.detail.items()}}
    if isinstance(exc, StoreBusy):
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return error_response(status, type(exc).__name__, message, retry_after=exc.retry_after,
                              source=request.url.path)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return error_response(status, type(exc).__name__, message, **where)


def _location(loc: tuple | list) -> tuple[str | None, str | None]:
    parts = [str(p) for p in loc]
    return (parts[0] if parts else None), (".".join(parts[1:]) or None)


def _problem(error: dict, lang: str) -> str:
    """One of pydantic's problems in ``lang``: its own English, or the Chinese of its type (framed when none)."""
    msg = str(error.get("msg") or "invalid value")
    if lang == "en":
        return msg
    zh = PYDANTIC_ZH.get(str(error.get("type")))
    if zh is None:
        return say(msg.removeprefix("Value error, "), lang, "RequestValidationError")
    try:
        return zh.format(**{k: v if not isinstance(v, (list, tuple)) else "、".join(map(str, v))
                            for k, v in (error.get("ctx") or {}).items()})
    except (KeyError, IndexError, ValueError):
        return zh


def _details(errors: list, lang: str) -> list[dict]:
    return [{"loc": [str(p) for p in e.get("loc", ())], "msg": _problem(e, lang)} for e in errors][:20]


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    lang = language(request.scope)
    first = errors[0] if errors else {"msg": "invalid request", "loc": ()}
    source, field = _location(first.get("loc", ()))
    problem = _problem(first, lang)
    if lang == "zh" and field:
        problem = f"{field}：{problem}"
    return error_response(422, "RequestValidationError",
                          say("{problem} ({count} problem(s) in the request)", lang, problem=problem,
                              count=len(errors)),
                          source=source, field=field, details=_details(errors, lang))


async def _model_error(request: Request, exc: ValidationError) -> JSONResponse:
    """A domain model built from request values refused them (e.g. an area level without its id)."""
    errors = exc.errors()
    lang = language(request.scope)
    first = errors[0] if errors else {"msg": "invalid value", "loc": ()}
    field = ".".join(str(p) for p in first.get("loc", ())) or None
    return error_response(422, "RequestValidationError", _problem(first, lang), source=exc.title, field=field,
                          details=_details(errors, lang))


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    kind = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}.get(exc.status_code, "HTTPError")
    lang, path = language(request.scope), request.url.path
    error = getattr(exc, "error", None)  # an error of the family carried through FastAPI's body parsing
    if isinstance(error, GridwallError):
        message = render(error, lang)
    elif exc.status_code == 404 and exc.detail == "Not Found":
        message = say("no such path: {path}", lang, path=path)
    elif exc.status_code == 405 and exc.detail == "Method Not Allowed":
        message = say("{method} is not allowed on {path}", lang, method=request.method, path=path)
    else:
        message = say(str(exc.detail), lang, kind)
    response = error_response(exc.status_code, kind, message, source=path)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", exc)).splitlines()[0]


async def _data_error(request: Request, exc: DataError) -> JSONResponse:
    return error_response(422, "InvalidValue", say("the store refused a value: {reason}", language(request.scope),
                                                   reason=_reason(exc)), source=request.url.path)


async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
    return error_response(409, "Conflict", say("the write breaks a rule of the store: {reason}",
                                               language(request.scope), reason=_reason(exc)),
                          source=request.url.path)


async def _pool_timeout(request: Request, exc: PoolTimeout) -> JSONResponse:
    """The pool's own wait ran out (work outside the gate of :mod:`api.deps`): the store is busy, not broken."""
    return await _gridwall_error(request, StoreBusy("no connection to the store came free in time: {reason}",
                                                    reason=str(exc)))


async def _operational_error(request: Request, exc: OperationalError) -> JSONResponse:
    if sqlstate(exc) in RETRYABLE:  # a write lost to a concurrent one where no retry was wrapped around it
        return await _gridwall_error(request, StoreBusy("a concurrent write took the same rows; try again",
                                                        retry_after=1))
    log.warning("%s %s: store unavailable: %s", request.method, request.url.path, exc.orig)
    return error_response(503, "DatabaseError", say("the store is unreachable or the query took too long; try again",
                                                    language(request.scope)), source=request.url.path)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path)
    return error_response(500, "InternalError", say("the service failed on this request; it has been logged",
                                                    language(request.scope)), source=request.url.path)


def install_error_handlers(app: FastAPI) -> None:
    """Map the error family, request validation, HTTP and store errors onto the one shape."""
    app.add_exception_handler(GridwallError, _gridwall_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ValidationError, _model_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(Exception, _unexpected)
