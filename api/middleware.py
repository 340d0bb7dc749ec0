"""Request limits, as pure ASGI middleware: body size, headers, and guessing keys.

Why not trust the route: a phone or a misconfigured gateway may post
hundreds of megabytes, and FastAPI reads the whole body before validation
says no. A declared ``Content-Length`` over the limit is refused before the
body is read; a chunked body is counted as it arrives and refused the moment
it passes the limit. Either way the answer is a 413 in the one error shape.

Headers are limited in count and in bytes (431): uvicorn bounds only the
whole head of a request (``h11_max_incomplete_event_size``, set from
``max_header_bytes`` by ``gridwall up``), not how many lines it holds, and each
header costs a little on every layer that parses it.

Keys are not to be guessed: a client address that presents
``key_failures_max`` keys nobody issued within ``key_failures_window_s``
seconds is answered 429 with ``Retry-After`` until its oldest failure leaves
the window — every request, a good key too, or a guesser would learn which
guess was right. The counts are per process (each worker counts its own).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import HeadersTooLarge, PayloadTooLarge, TooManyRequests, refusal

__all__ = ["BodyLimit", "HeaderLimit", "KeyThrottle"]


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` with a 413."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _error(self, seen: int) -> PayloadTooLarge:
        return PayloadTooLarge("{size:,} bytes is more than the {limit:,} bytes a request may carry; send smaller "
                               "batches", size=seen, limit=self.max_bytes)

    def _refusal(self, scope: Scope, seen: int):
        return refusal(scope, self._error(seen), source=scope.get("path"), field="body")

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
                    error = self._error(received)
                    refused = HTTPException(413, str(error))
                    refused.error = error  # said in the request's language by the handler
                    raise refused
            return message

        await self.app(scope, counting_receive, send)


class HeaderLimit:
    """Refuse requests with more than ``max_count`` header lines or ``max_bytes`` of headers with a 431."""

    def __init__(self, app: ASGIApp, max_count: int, max_bytes: int) -> None:
        self.app = app
        self.max_count = max_count
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            headers = scope.get("headers", ())
            size = sum(len(name) + len(value) + 4 for name, value in headers)  # "name: value\r\n"
            why = (HeadersTooLarge("{count} header lines are more than the {limit} a request may carry",
                                   count=len(headers), limit=self.max_count)
                   if len(headers) > self.max_count else
                   HeadersTooLarge("{size:,} bytes of headers are more than the {limit:,} a request may carry",
                                   size=size, limit=self.max_bytes)
                   if size > self.max_bytes else None)
            if why is not None and scope["type"] == "http":
                await refusal(scope, why, source=scope.get("path"), field="headers")(scope, receive, send)
                return
        await self.app(scope, receive, send)


_KEY_HEADERS = (b"x-api-key", b"authorization")


def _presents_key(scope: Scope) -> bool:
    """Whether the request carries a key at all (a missing key is not a guess)."""
    if any(name in _KEY_HEADERS for name, _ in scope.get("headers", ())):
        return True
    return b"api_key=" in scope.get("query_string", b"")


class KeyThrottle:
    """Answer 429 to a client address that presented too many unknown keys lately.

    A failure is a 401 answer to a request that carried a key. At most
    ``max_clients`` addresses are remembered (the longest quiet forgotten
    first), so a flood of addresses costs bounded memory.
    """

    def __init__(self, app: ASGIApp, max_failures: int, window_s: float, *, max_clients: int = 10_000,
                 clock=time.monotonic) -> None:
        self.app = app
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_clients = max_clients
        self._clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        seen = self._failures.get(client)
        if seen is None:
            return None
        while seen and seen[0] <= now - self.window_s:
            seen.popleft()
        if not seen:
            del self._failures[client]
            return None
        return seen

    def _fail(self, client: str, now: float) -> None:
        seen = self._failures.pop(client, None) or deque(maxlen=self.max_failures)
        seen.append(now)
        self._failures[client] = seen  # most recently failing last
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        now = self._clock()
        seen = self._recent(client, now)
        if seen is not None and len(seen) >= self.max_failures:
            wait = max(1, math.ceil(seen[0] + self.window_s - now))
            refused = refusal(scope, TooManyRequests(
                "{count} unknown API keys from {client} within {seconds:g} s: wait {wait} s before trying again",
                count=len(seen), client=client, seconds=self.window_s, wait=wait),
                source=scope.get("path"), field="api_key")
            refused.headers["Retry-After"] = str(wait)
            await refused(scope, receive, send)
            return
        keyed = _presents_key(scope)

        async def watching_send(message: Message) -> None:
            if keyed and message["type"] == "http.response.start" and message["status"] == 401:
                self._fail(client, self._clock())
            await send(message)

        await self.app(scope, receive, watching_send)
