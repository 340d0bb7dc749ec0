"""The supervisor in the service: overdue events flagged and escalated on a schedule, without anyone's call.

Started from the app's lifespan when ``ApiSettings.supervise_every_s`` is
above 0 (0 turns it off): a background task that every so many seconds runs
:func:`command.supervisor.supervise_overdue` in a worker thread, in a
transaction of its own. Several API processes may each run one; the advisory
lock in that function lets one of them do each round. A failing store is
logged and tried again next round; it never stops the service.
"""

from __future__ import annotations

import asyncio
import logging

import anyio.to_thread
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from command.supervisor import supervise_overdue

__all__ = ["Supervisor"]

log = logging.getLogger(__name__)


class Supervisor:
    """The schedule of one process: ``start()`` in the lifespan, ``stop()`` on the way out.

    Attributes
    ----------
    rounds:
        Rounds this process finished (flagged, found nothing, or skipped).
    skipped:
        Rounds skipped because another process held the turn.
    """

    def __init__(self, engine: Engine, every_s: float) -> None:
        self.engine = engine
        self.every_s = every_s
        self.rounds = 0
        self.skipped = 0
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Begin the rounds, the first one interval after start (a process that restarts often, or a short-lived
        one such as a test's or a one-off command's, does not flag on the way up)."""
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="gridwall-supervisor")

    async def stop(self) -> None:
        """End the rounds, after the one under way, if any, has finished in its thread.

        Why not cancel the task: a cancelled wait leaves its thread running
        with a connection of the pool, which the lifespan then disposes of; the
        connection outlives its pool and is dropped unclosed.
        """
        if self._task is None:
            return
        self._stopping.set()
        await self._task
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.every_s)
                return  # asked to stop while waiting for the next round
            except TimeoutError:
                pass
            try:
                await anyio.to_thread.run_sync(self._round)
            except DBAPIError as exc:  # the store may be down for a while: try again next round
                log.warning("supervisor round failed: %s", exc.orig)
            except Exception:  # a failed round must not end the schedule; the next may succeed
                log.exception("supervisor round failed")

    def _round(self) -> None:
        with self.engine.begin() as conn:
            raised = supervise_overdue(conn)
        self.skipped += raised is None
        self.rounds += 1
