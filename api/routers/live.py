"""The live feed as Server-Sent Events: event, worker and assignment changes as they commit.

One ``text/event-stream`` per client, fed by the process's single LISTEN
connection (:class:`api.live.LiveFeed`). Each message is
``event: <event|worker|assignment|resync|overflow>`` with a JSON ``data``
line; a comment every ``stream_heartbeat_s`` keeps proxies from closing a
quiet stream. Browsers' EventSource cannot set headers: they pass the key as
``?api_key=``. A stream whose key is revoked (its lines deleted from the keys
file) ends within about ``stream_key_recheck_s`` with an ``event: revoked``;
so does a signed-in person's, once disabled or given a new password.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from api.deps import Reader, SettingsDep
from api.live import TOPICS, LiveFeed
from api.people import PeopleGate
from api.security import KeyStore

__all__ = ["router"]

router = APIRouter(tags=["live"])

_QUIET = object()  # no change within the wait: time to look at the key, and maybe to send a keep-alive

Topic = Literal[TOPICS]  # type: ignore[valid-type]


@router.get("/stream", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "A stream of changes"}},
            summary="Live changes (Server-Sent Events)")
async def stream(request: Request, user: Reader, settings: SettingsDep,
                 topic: Annotated[list[Topic] | None, Query(max_length=3)] = None) -> StreamingResponse:
    """Changes the caller may see, as they commit, until the client goes away."""
    feed: LiveFeed = request.app.state.feed
    keys: KeyStore = request.app.state.keys
    people: PeopleGate = request.app.state.people
    sub = feed.subscribe(user, tuple(topic or TOPICS))
    wait = min(settings.stream_heartbeat_s, settings.stream_key_recheck_s)
    keyed = len(keys) > 0  # a development service without keys lets everyone in: there is nothing to revoke

    async def messages():
        try:
            try:  # the first message promises the client that changes from now on will reach it
                await asyncio.wait_for(feed.ready.wait(), timeout=5.0)
                state = "listening"
            except TimeoutError:
                state = "store unreachable, retrying"
            yield f"retry: 3000\n: subscribed to {', '.join(sorted(sub.topics))} ({state})\n\n"
            beat = time.monotonic()
            while True:
                try:
                    change = await asyncio.wait_for(sub.get(), timeout=wait)
                except TimeoutError:
                    change = _QUIET
                if user.person_id is not None:  # a person signed in: disabled or given a new password ends it
                    if not await people.still_valid(user):
                        yield 'event: revoked\ndata: {"kind":"revoked","message":"the session has ended"}\n\n'
                        return
                elif keyed and not keys.issued(user):
                    yield 'event: revoked\ndata: {"kind":"revoked","message":"the key was revoked"}\n\n'
                    return
                if change is _QUIET:
                    if time.monotonic() - beat >= settings.stream_heartbeat_s:
                        beat = time.monotonic()
                        yield ": keep-alive\n\n"
                    continue
                if change is None:
                    return
                data = json.dumps(change, ensure_ascii=False, separators=(",", ":"))
                yield f"id: {next(sub.ids)}\nevent: {change.get('kind', 'change')}\ndata: {data}\n\n"
        finally:
            sub.close()

    return StreamingResponse(messages(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
