"""The supervisor's round: overdue events flagged and escalated by the system, once per event and level.

The service runs :func:`supervise_overdue` on a schedule (``api.supervisor``),
possibly from several processes at once. Each round takes a
transaction-level advisory try-lock first (``sql/supervisor_lock.sql``): the
process that gets it flags, the others skip the round at once rather than
queue behind it. :func:`command.lifecycle.flag_overdue` writes and audits an
event only when its level goes up, so even a round that ran twice would add
no second audit row for the same event and level; the lock keeps the work,
and the row locks it would take, to one process.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection

from command.audit import sql
from command.lifecycle import flag_overdue

__all__ = ["SUPERVISOR", "supervise_overdue"]

log = logging.getLogger(__name__)

#: the actor the audit log names for what the schedule does
SUPERVISOR = "system:supervisor"


def supervise_overdue(conn: Connection, *, now: datetime | None = None,
                      actor: str = SUPERVISOR) -> list[tuple[int, int]] | None:
    """One supervisor round in the caller's transaction; ``None`` when another process holds the turn.

    The lock lasts until the caller's transaction ends, so call it in a
    transaction of its own (``with engine.begin() as conn``).

    Returns
    -------
    list of (event id, new supervision level), or None when skipped
    """
    if not conn.execute(sql("supervisor_lock")).scalar_one():
        return None
    raised = flag_overdue(conn, now=now, actor=actor)
    if raised:
        log.info("supervisor flagged or escalated %d overdue events", len(raised))
    return raised
