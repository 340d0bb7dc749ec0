"""One table from the error family to HTTP status codes, one JSON shape.

Every error answer is ``{"error": {"type", "message", "source", "feature",
"field"}}`` so a client can always point at what was wrong.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from layers.errors import (
    Conflict,
    ConfigError,
    DatabaseError,
    GridwallError,
    LoadError,
    NotFound,
    PartitionError,
)

__all__ = ["STATUS_CODES", "install_error_handlers", "error_body"]

log = logging.getLogger(__name__)

STATUS_CODES: dict[type[GridwallError], int] = {
    LoadError: 422,
    NotFound: 404,
    Conflict: 409,
    PartitionError: 422,
    ConfigError: 500,
    DatabaseError: 503,
}


def error_body(kind: str, message: str, **where: object) -> dict:
    """The one error shape."""
    return {"error": {"type": kind, "message": message, **{k: where.get(k) for k in ("source", "feature", "field")}}}


async def _gridwall_error(request: Request, exc: GridwallError) -> JSONResponse:
    status = next((code for cls, code in STATUS_CODES.items() if isinstance(exc, cls)), 500)
    where = exc.as_dict() if isinstance(exc, LoadError) else {}
    message = exc.message if isinstance(exc, LoadError) else str(exc)
    if status >= 500:
        log.error("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(error_body(type(exc).__name__, message, **where), status_code=status)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
    loc = [str(p) for p in first.get("loc", ())]
    body = error_body(
        "RequestValidationError",
        f"{first.get('msg')} ({len(exc.errors())} problem(s) in the request)",
        source=loc[0] if loc else None,
        field=".".join(loc[1:]) or None,
    )
    body["error"]["details"] = [{"loc": e.get("loc"), "msg": e.get("msg")} for e in exc.errors()][:20]
    return JSONResponse(body, status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    """Map the error family and request validation onto the one shape."""
    app.add_exception_handler(GridwallError, _gridwall_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
