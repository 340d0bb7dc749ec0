"""Duplicates by hand: merge one event into another, split it off again.

Intake links most repeats by itself (same leaf class, within its radius and
window); an operator fixes the rest. Both moves are audited by the loop.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.access import event_visible
from api.deps import ConnDep, Merger, Reader, Splitter, TxDep
from api.params import MAX_BIGINT, BigId
from command.duplicates import duplicates_of, merge, split

__all__ = ["router", "MergeInto"]

router = APIRouter(prefix="/events", tags=["duplicates"])


class MergeInto(BaseModel):
    """The event (or a duplicate of it) to merge into."""

    model_config = ConfigDict(extra="forbid")
    into: int = Field(ge=1, le=MAX_BIGINT)
    note: str | None = Field(default=None, max_length=2000)


class SplitOff(BaseModel):
    """Why a duplicate is an event of its own after all."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)


@router.post("/{event_id}/merge", summary="Register an event as a duplicate of another")
def merge_event(event_id: BigId, body: MergeInto, tx: TxDep, user: Merger) -> dict:
    """The event (and its own duplicates) join the other's chain; returns the root."""
    root = merge(tx, event_id, body.into, actor=user.actor, note=body.note)
    return {"event_id": event_id, "root_id": root}


@router.post("/{event_id}/split", summary="Make a duplicate an event of its own again")
def split_event(event_id: BigId, body: SplitOff, tx: TxDep, user: Splitter) -> dict:
    """Unlinks the duplicate; returns the root it left."""
    return {"event_id": event_id, "former_root_id": split(tx, event_id, actor=user.actor, note=body.note)}


@router.get("/{event_id}/duplicates", summary="The duplicates registered for an event")
def list_duplicates(event_id: BigId, conn: ConnDep, user: Reader) -> dict:
    """Ids of the events linked to this one, oldest first."""
    event_visible(conn, user, event_id)
    return {"event_id": event_id, "duplicates": duplicates_of(conn, event_id)}
