"""The live feed: changes to events, workers and assignments as they commit.

Why LISTEN/NOTIFY: several API processes (and the command line, and a
partition job) write to the same store; only the store knows what committed.
Triggers of migration 0004 send a small JSON notice on channel
``gridwall_changes`` for each changed row (one ``bulk`` notice when a
statement changes more than 200 rows, as a district load does); PostgreSQL
delivers notices only on commit, in commit order, to every listening
connection — so every process sees every change, and none sees a change that
was rolled back.

Each process holds ONE listening connection (:class:`LiveFeed`, opened in
the app's lifespan) and fans each notice out to its subscribers' bounded
queues, filtered by what the subscriber may see (:mod:`api.access`, the
same rule as every read): a department key sees only its departments' events,
a worker's phone only its own worker row and its own assignments. A
subscriber too slow to keep up is dropped (its stream ends with an
``overflow`` event and the client reconnects and refetches). When the
listening connection breaks it reconnects with back-off and sends every
subscriber a ``resync`` event: notices sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import orjson
import psycopg

from api.access import Reach, reach
from api.access import visible as access_visible
from api.security import Principal

__all__ = ["CHANNEL", "TOPICS", "LiveFeed", "Subscription", "visible"]

log = logging.getLogger(__name__)

CHANNEL = "gridwall_changes"
TOPICS = ("event", "worker", "assignment")


_LAYER = {"event": "events", "worker": "workers", "assignment": "workers"}


def visible(principal: Principal, change: dict) -> bool:
    """Whether a change notice may be shown to ``principal``: :func:`api.access.visible` on the changed row.

    Control notices (``resync``, ``overflow``) go to everyone; a ``bulk``
    notice (no rows, just "refetch") to everyone who sees any row of that
    kind. An assignment is seen with its worker. An event notice carries no
    assignments, so a worker's phone learns of its events through its
    assignment notices (see :func:`api.access.visible`).
    """
    kind = change.get("kind")
    if kind not in TOPICS:
        return True
    layer = _LAYER[kind]
    if change.get("op") == "bulk":
        return reach(principal, layer) != Reach()
    row = {"code": change.get("worker_code")} if kind == "assignment" else change
    return access_visible(principal, layer, row)


@dataclass(eq=False)
class Subscription:
    """One client's queue of change notices."""

    principal: Principal
    topics: frozenset[str]
    queue: asyncio.Queue
    feed: LiveFeed
    lost: bool = False
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def offer(self, change: dict) -> None:
        """Queue a change if the subscriber may see it; drop the subscriber when it is full."""
        kind = change.get("kind")
        if self.lost or (kind in TOPICS and kind not in self.topics) or not visible(self.principal, change):
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.lost = True
            self.queue.get_nowait()
            self.queue.put_nowait({"kind": "overflow", "message": "you fell behind: reconnect and refetch"})
            self.queue.put_nowait(None)

    async def get(self) -> dict | None:
        """The next change, or ``None`` when the feed closes."""
        return await self.queue.get()

    def close(self) -> None:
        """Stop receiving."""
        self.feed.unsubscribe(self)


class LiveFeed:
    """One LISTEN connection per process, fanning notices out to subscribers.

    Parameters
    ----------
    conninfo:
        A libpq URL of the store (``postgresql://…``), or a function giving
        it, asked at every (re)connection: the embedded store may come back
        on another port.
    queue_size:
        Notices kept per subscriber before it is dropped as too slow.
    """

    def __init__(self, conninfo: str | Callable[[], str], *, queue_size: int = 1000) -> None:
        self._conninfo = conninfo
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self._task: asyncio.Task | None = None
        self.ready = asyncio.Event()

    async def start(self) -> None:
        """Start listening in the background (returns at once; see :attr:`ready`)."""
        self._task = asyncio.create_task(self._run(), name="gridwall-live-feed")

    async def stop(self) -> None:
        """Stop listening and end every subscriber's stream."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for sub in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                sub.queue.put_nowait(None)
        self._subscribers.clear()

    def subscribe(self, principal: Principal, topics: tuple[str, ...] = TOPICS) -> Subscription:
        """A new subscriber's queue."""
        sub = Subscription(principal, frozenset(topics), asyncio.Queue(self._queue_size + 2), self)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a subscriber."""
        self._subscribers.discard(sub)

    @property
    def subscribers(self) -> int:
        """How many clients are listening."""
        return len(self._subscribers)

    def publish(self, change: dict) -> None:
        """Offer one change to every subscriber (also used for control notices)."""
        for sub in list(self._subscribers):
            sub.offer(change)

    async def _notices(self) -> AsyncIterator[dict]:
        conninfo = self._conninfo() if callable(self._conninfo) else self._conninfo
        async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
            await conn.execute("LISTEN gridwall_changes")  # CHANNEL
            self.ready.set()
            log.info("live feed listening on %s", CHANNEL)
            async for notice in conn.notifies():
                if not self._subscribers:  # nobody listens: every intake notifies, so do not even parse
                    continue
                try:
                    yield orjson.loads(notice.payload)
                except orjson.JSONDecodeError:
                    log.warning("live feed: a notice that is not JSON: %.80s", notice.payload)

    async def _run(self) -> None:
        delay, first = 0.5, True
        while True:
            try:
                if not first:
                    self.publish({"kind": "resync", "message": "the feed reconnected: refetch what you show"})
                async for change in self._notices():
                    delay = 0.5
                    self.publish(change)
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                log.warning("live feed: listening connection lost (%s); retrying in %.1f s", exc, delay)
            self.ready.clear()
            first = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)
