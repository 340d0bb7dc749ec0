"""The district's event-type crosswalk over HTTP: list, add (one or many), remove. Admin keys only.

The aliases live in the store (:mod:`command.taxonomy`), not in the package:
a district maps the names its sources send (12345 type paths, 数字城管
classes, its own names) onto leaf classes, and every process uses a new
alias at its next event. Adding an alias that exists with another code
replaces it. Every write is audited with the key's actor; a faulty alias is
a 422 that names its index in the list (``feature``) and the field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, RootModel, model_validator

from api.deps import Admin, ConnDep, TxDep
from command.taxonomy import add_aliases, list_aliases, remove_alias

__all__ = ["router", "AliasIn", "AliasesIn", "AliasOut"]

router = APIRouter(prefix="/taxonomy", tags=["taxonomy"])


class AliasIn(BaseModel):
    """One mapping: what ``source`` sends, and the leaf it means."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(default="*", min_length=1, max_length=100,
                        description="The sending system (12345, dcm, the district's own name), or * for any.")
    alias: str = Field(min_length=1, max_length=500,
                       description="A name or code it sends; a group name or a type/main/sub path too.")
    code: str = Field(min_length=1, max_length=20, description="A leaf code of the current taxonomy.")


class AliasOut(BaseModel):
    """A stored alias; ``active`` is false (and ``leaf`` null) while the current taxonomy lacks its leaf."""

    id: int
    source: str
    alias: str
    code: str
    leaf: str | None
    active: bool
    created_by: str
    created_at: datetime


class Aliases(BaseModel):
    """The district's aliases."""

    aliases: list[AliasOut]


class AliasesIn(RootModel[list[AliasIn]]):
    """A list of aliases, or one alias alone (taken as a list of one): an error names its index and field."""

    root: Annotated[list[AliasIn], Field(min_length=1, max_length=2000)]

    @model_validator(mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        # why not ``AliasIn | list[AliasIn]``: a union reports each branch's errors, and its first names the branch
        return [value] if isinstance(value, dict) else value


@router.get("/aliases", summary="The district's event-type aliases")
def aliases(conn: ConnDep, user: Admin,
            source: Annotated[str | None, Query(min_length=1, max_length=100)] = None) -> Aliases:
    """Every alias (or one system's), with its leaf in the current taxonomy."""
    return Aliases(aliases=list_aliases(conn, source))


@router.post("/aliases", status_code=201, summary="Add or change event-type aliases, all or none")
def add(body: AliasesIn, tx: TxDep, user: Admin) -> dict:
    """One alias or a list; an alias that exists with another code is replaced (audited)."""
    return {"written": add_aliases(tx, [(a.source, a.alias, a.code) for a in body.root], actor=user.actor)}


@router.delete("/aliases/{source}/{alias:path}", summary="Remove an event-type alias")
def remove(source: str, alias: str, tx: TxDep, user: Admin) -> dict:
    """The alias as it was; 404 when the source has no such alias."""
    return remove_alias(tx, source, alias, actor=user.actor)
