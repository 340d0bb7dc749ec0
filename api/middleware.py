"""Request size limit, as pure ASGI middleware.

Why not trust the route: a phone or a misconfigured gateway may post
hundreds of megabytes, and FastAPI reads the whole body before validation
says no. A declared ``Content-Length`` over the limit is refused before the
body is read; a chunked body is counted as it arrives and refused the moment
it passes the limit. Either way the answer is a 413 in the one error shape.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response

__all__ = ["BodyLimit"]


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` with a 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _refusal(self, scope: Scope, seen: int | None = None):
        size = f"{seen:,} bytes" if seen is not None else "the body"
        return error_response(413, "PayloadTooLarge", f"{size} is more than the {self.max_bytes:,} bytes a request "
                              "may carry; send smaller batches", source=scope.get("path"), field="body")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                if declared is not None and declared > self.max_bytes:
                    await self._refusal(scope, declared)(scope, receive, send)
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # an HTTPException passes FastAPI's body parsing untouched and
                    # reaches the one error handler, which answers 413 in the shape
                    raise HTTPException(413, f"{received:,} bytes is more than the {self.max_bytes:,} bytes a "
                                        "request may carry; send smaller batches")
            return message

        await self.app(scope, counting_receive, send)
