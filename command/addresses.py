"""Address matching: the one home of "which place does this text name".

Two callers, one rule. The hotline form searches as the operator types
(``GET /addresses``: several candidates, best first, fuzzy), and intake
routes an event by its address (:func:`command.routing.locate`: the first
candidate, only when it names a building for sure). Both go through
:func:`search_addresses` and ``command/sql/search_addresses.sql``.

What is compared is a *key* of the typed text (:func:`address_forms`):
NFKC-normalised (full-width digits become ASCII), white space dropped, and
the district's own prefixes ignored — a caller says ``开福区民亭街6号`` or
``湖南省长沙市开福区民亭街6号`` where the buildings layer holds ``民亭街6号``.
The district's name comes from the store (its ``admin_area`` row); the
province and city before it are taken by their suffix (省, 自治区, 市), since
the store does not hold them. A province or city at the start with no
district name after it (``长沙市民亭街6号``) is dropped too, but the text as
typed stays one of the forms compared: a place whose own name starts like a
city (``新城市广场``) is still found.

How a place matches (best first; the SQL file has the scores):

- ``exact``: its address (or name) is the key;
- ``within``: it is a leading part of the key (``民亭街6号`` for
  ``民亭街6号1栋2单元302室``: a room in it);
- ``contains``: the key is inside it and not followed by a digit
  (``民亭街6号`` finds ``民亭街6号1栋``, not ``民亭街60号``);
- ``fuzzy``: trigram-near (``pg_trgm``), for a wrong or missing character.

Intake takes only the first three (:data:`SURE`): an event routed to a
building a typo resembles is worse than one routed to its community.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import Connection, text

from command.audit import sql

__all__ = ["Place", "KINDS", "SURE", "normalise", "address_forms", "search_addresses", "district_names",
           "like_escaped"]

#: the places searched: buildings by address, resources and areas by name
KINDS = ("building", "resource", "street", "community")
#: the matches that name a place for sure (what intake routes by)
SURE = frozenset({"exact", "within", "contains"})
#: shortest leading part of a typed address compared with whole addresses
_MIN_PREFIX = 4
_PROVINCE = r"[^\d省市区县]{2,8}?(?:省|自治区)"
_CITY = r"[^\d省市区县]{2,8}?市"
_ABOVE_DISTRICT = re.compile(rf"^(?:{_PROVINCE})?(?:{_CITY})?$")
_LEADING_UNITS = re.compile(rf"^(?:{_PROVINCE})?(?:{_CITY})?")


@dataclass(frozen=True)
class Place:
    """One candidate: a building (by address), a resource or an area (by name), where it is and how it matched."""

    kind: str  # building | resource | street | community
    id: int
    label: str
    address: str | None
    name: str | None
    lon: float | None
    lat: float | None
    match: str  # exact | within | contains | fuzzy
    score: float
    grid_code: str | None


def normalise(typed: str) -> str:
    """NFKC, white space dropped: ``"民亭街 ６号"`` → ``"民亭街6号"``."""
    return "".join(unicodedata.normalize("NFKC", typed).split())


def address_forms(typed: str, districts: tuple[str, ...] = ()) -> list[str]:
    """The keys ``typed`` is compared by, most specific first: without the district's own prefixes, then as typed.

    Examples
    --------
    >>> address_forms("湖南省长沙市开福区民亭街6号", ("开福区",))
    ['民亭街6号', '湖南省长沙市开福区民亭街6号']
    >>> address_forms("长沙市 民亭街6号")
    ['民亭街6号', '长沙市民亭街6号']
    >>> address_forms("新城市广场")
    ['广场', '新城市广场']
    """
    full = normalise(typed)
    bare = full
    for name in sorted(districts, key=len, reverse=True):
        at = full.find(name)
        if at >= 0 and _ABOVE_DISTRICT.match(full[:at]) and len(full) > at + len(name):
            bare = full[at + len(name):]
            break
    else:
        units = _LEADING_UNITS.match(full)
        if units and units.end() and len(full) > units.end():
            bare = full[units.end():]
    return list(dict.fromkeys(f for f in (bare, full) if f))


def district_names(conn: Connection) -> tuple[str, ...]:
    """The names of the store's district(s) (``admin_area`` of level ``district``)."""
    return tuple(conn.execute(text("SELECT name FROM admin_area WHERE level = 'district' ORDER BY id")).scalars())


def like_escaped(value: str) -> str:
    """``value`` with ``LIKE``'s wildcards (and its escape character) escaped: the text, not a pattern."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_addresses(conn: Connection, typed: str, *, limit: int = 10,
                     kinds: tuple[str, ...] = KINDS) -> list[Place]:
    """Buildings, resources and areas whose address or name matches ``typed``, best first.

    Parameters
    ----------
    typed
        What someone typed: an address, possibly with the district's own
        prefixes, a room after it, a character wrong.
    limit
        Candidates at most.
    kinds
        Which places (:data:`KINDS`); intake asks for buildings only.

    Returns
    -------
    list of Place
        Empty when nothing is near enough (``pg_trgm``'s thresholds) or the
        text is empty.
    """
    forms = address_forms(typed, district_names(conn))
    if not forms:
        return []
    prefixes = {f[:i] for f in forms for i in range(len(f), _MIN_PREFIX - 1, -1)} | set(forms)
    rows = conn.execute(sql("search_addresses"), {
        "q": forms[0], "forms": forms, "prefixes": sorted(prefixes), "contains": f"%{like_escaped(forms[0])}%",
        "kinds": list(kinds), "limit": limit,
    }).mappings().all()
    return [Place(**r) for r in rows]
