"""The audit log over HTTP, for admins: who did what, to which thing, when.

Every write leaves an audit row (:mod:`command.audit`); this is where the
command hall reads them back, filtered by who (any part of the actor,
``role:name``), what (the action), on what (entity and its id) and when,
newest first, a page at a time.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Admin, ConnDep
from api.params import MAX_INT, AuditDep
from api.store import AuditPage, list_audit

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", summary="Read the audit log, newest first (admin)")
def read(conn: ConnDep, user: Admin, filters: AuditDep,
         limit: Annotated[int, Query(ge=1, le=1000, description="Rows in one page.")] = 100,
         offset: Annotated[int, Query(ge=0, le=MAX_INT, description="Rows to skip.")] = 0) -> AuditPage:
    """Rows matching every filter given; ``next_offset`` is null on the last page."""
    return list_audit(conn, **vars(filters), limit=limit, offset=offset)
