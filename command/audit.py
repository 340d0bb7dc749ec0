"""Audit rows and named SQL for the event loop.

Every write the event loop makes leaves one row in ``audit_log`` (actor,
action, entity, entity id, detail): the command hall has to answer "who sent
whom, when, and why" months later. Long spatial queries live in
``command/sql/*.sql`` and are loaded here as bound ``text`` statements.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy import Connection, TextClause, insert, text

from layers import models as m

__all__ = ["audit", "sql", "strip_comments"]

_SQL = Path(__file__).parent / "sql"


def audit(conn: Connection, *, actor: str, action: str, entity: str, entity_id: object | None,
          detail: dict | None = None) -> None:
    """Write one audit row in the caller's transaction."""
    conn.execute(insert(m.AuditLog).values(
        actor=actor, action=action, entity=entity, entity_id=None if entity_id is None else str(entity_id),
        detail=detail or {},
    ))


def strip_comments(source: str) -> str:
    """SQL text without its whole-line ``--`` comments and blank lines.

    Why: the comments are for readers of the ``.sql`` file, not for the
    server, and psycopg caches its conversion of a query only up to 4,096
    characters; a commented hot statement past that is parsed again in
    Python on every execution.
    """
    return "\n".join(line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("--"))


@cache
def sql(name: str) -> TextClause:
    """A named query from ``command/sql`` (parameters always bound, never formatted)."""
    return text(strip_comments((_SQL / f"{name}.sql").read_text(encoding="utf-8")))
