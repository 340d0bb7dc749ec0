"""The hotline form's address search: ``GET /addresses?q=``.

What a caller typed, matched against building addresses and the names of
resources, streets and communities (:mod:`command.addresses`, the same rule
intake routes by): the district's own province, city and district prefixes
ignored, a room after a building's address allowed, a wrong character found
by trigram similarity (``pg_trgm``). Best first; ``score`` is 1 for an exact
match and below 0.6 for a merely similar one (``match`` says which).

Every reader may search: buildings, resources and areas are layers every
reader sees whole (:mod:`api.access` has no rule for them).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import ConnDep, Reader
from command.addresses import search_addresses

__all__ = ["router", "AddressHit"]

router = APIRouter(prefix="/addresses", tags=["addresses"])


class AddressHit(BaseModel):
    """One place the text may name, with where it is and its current grid."""

    label: str
    address: str | None
    name: str | None
    lon: float | None
    lat: float | None
    score: float
    grid_code: str | None
    kind: str
    id: int
    match: str


@router.get("", summary="Find a place by a typed address or name (fuzzy)")
def find(conn: ConnDep, user: Reader,
         q: Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$",
                                 description="An address or a name, as a caller said it.",
                                 examples=["开福区民亭街6号"])],
         limit: Annotated[int, Query(ge=1, le=50, description="Candidates at most.")] = 10) -> list[AddressHit]:
    """Buildings, resources, streets and communities that ``q`` may name, best first (empty when none is near)."""
    return [AddressHit(**vars(p)) for p in search_addresses(conn, q, limit=limit)]
