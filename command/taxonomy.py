"""The event taxonomy as data: load it into the store, resolve incoming class names.

Why data and not code: classes, deadlines and departments differ by city and
change by decree; a district edits ``gis_data/data/taxonomy.json`` (7 top
classes → sub-classes → leaf classes, each leaf with its department, deadline,
priority and duplicate radius and window) and the alias file
``taxonomy_aliases.json`` (names and codes other systems send), raises the
file's ``version``, and loads it. Each loaded pair of versions is a
:class:`~layers.models.TaxonomyVersion`; exactly one is current. Loading the
same pair again changes nothing; loading a changed file without raising its
version is refused, so a stored version always means one content.

A district keeps its own crosswalk in the store (:class:`~layers.models.DistrictAlias`,
:func:`add_aliases`, :func:`import_aliases`, ``gridwall taxonomy alias``,
``POST /taxonomy/aliases``), not in the package: those aliases belong to no
taxonomy version and survive a new one being loaded; one whose leaf the
current version lacks is ignored (and listed as such).

A class name from a channel is resolved, in order, as: a leaf code, a leaf
name (Chinese or English), a district alias of the sending system, a
district alias of any system (``*``), a file alias of the sending system, a
file alias of any system. The district's own aliases win over the shipped
file's, whatever their source: the district's table is where its people
correct a shipped mapping, and a district that maps a name for every system
means every system. A leaf's own code or name cannot be re-mapped.

For a path ``A/B/C`` (a Shenzhen 12345 record's type/main type/sub type) the
candidates are, most specific first: ``A/B/C``, ``B/C``, ``C``, then ``B``,
then ``A``. A group (top or sub-class) name, or a group code, has no leaf of
its own, so an alias whose text is a group name names its default leaf: a
record whose sub type nobody mapped falls back to its main type's default
leaf, then its type's. A sub-class code nobody mapped, or a name that
matches nothing, is refused with the reason and where to map it.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import logging
import shlex
import threading
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from command.audit import audit, sql
from command.holidays import working_calendar
from command.workhours import WorkCalendar
from layers import models as m
from layers.errors import DatabaseError, LoadError, NotFound

__all__ = [
    "TAXONOMY_FILE",
    "ALIASES_FILE",
    "Leaf",
    "Taxonomy",
    "TaxonomyLoad",
    "load_taxonomy",
    "current_taxonomy",
    "last_taxonomy",
    "normalise_name",
    "add_aliases",
    "import_aliases",
    "list_aliases",
    "remove_alias",
    "ALIAS_HELP",
]

log = logging.getLogger(__name__)

_DATA = Path(__file__).resolve().parents[1] / "gis_data" / "data"
TAXONOMY_FILE = _DATA / "taxonomy.json"
ALIASES_FILE = _DATA / "taxonomy_aliases.json"

#: where a refusal points a district that meets a class name nobody mapped
ALIAS_HELP = "map it with: gridwall taxonomy alias add {alias} CODE --source {source} (or POST /taxonomy/aliases)"


# -- the files ------------------------------------------------------------------------
class _LeafIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(pattern=r"^\d{6}$")
    name_zh: str = Field(min_length=1)
    name_en: str | None = None
    department: str = Field(min_length=1)
    deadline_hours: float = Field(gt=0)
    priority: int = Field(ge=1, le=4)
    dup_radius_m: float = Field(ge=0)
    dup_window_hours: float = Field(ge=0)
    deadline_basis: str | None = Field(default=None, pattern="^(working_hours|calendar_hours)$")


class _SubIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(pattern=r"^\d{4}$")
    name_zh: str
    name_en: str | None = None
    children: list[_LeafIn] = Field(min_length=1)


class _TopIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str = Field(pattern=r"^\d{2}$")
    name_zh: str
    name_en: str | None = None
    children: list[_SubIn] = Field(min_length=1)


class _TaxonomyFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: int = Field(ge=1)
    name: str
    classes: list[_TopIn] = Field(min_length=1)
    calendar: WorkCalendar = Field(default_factory=WorkCalendar)
    emergency_resources: dict[str, list[str] | str] = Field(default_factory=dict)


class _AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1)
    alias: str = Field(min_length=1)
    code: str = Field(pattern=r"^\d{6}$")


class _AliasFile(BaseModel):
    model_config = ConfigDict(extra="ignore")
    version: int = Field(ge=1)
    aliases: list[_AliasIn]


# -- in memory ------------------------------------------------------------------------
@dataclass(frozen=True)
class Leaf:
    """A leaf class with its handling rules."""

    code: str
    name_zh: str
    name_en: str | None
    department: str
    deadline_hours: float
    priority: int
    dup_radius_m: float
    dup_window_hours: float
    calendar_hours: bool
    resource_kinds: tuple[str, ...]

    @property
    def top_code(self) -> str:
        """Code of the top class (the first two digits)."""
        return self.code[:2]

    @property
    def is_emergency(self) -> bool:
        """True for leaves under 突发事件 (07) or any leaf that calls for resources."""
        return self.top_code == "07" or bool(self.resource_kinds)


@dataclass(frozen=True)
class Taxonomy:
    """One stored taxonomy version with the district's aliases, in memory, for resolving and routing.

    ``district`` holds only the district aliases whose leaf this version
    has; ``district_rev`` is the store's alias revision they were read at.
    ``calendar`` is the version's own calendar settings with the holidays and
    调休 days of :mod:`command.holidays`, read at ``calendar_rev``.
    """

    version_id: int
    version: int
    aliases_version: int
    checksum: str
    calendar: WorkCalendar
    leaves: Mapping[str, Leaf]
    inner: Mapping[str, str]  # code of a top or sub-class -> its name
    names: Mapping[str, str]  # normalised leaf name (zh or en) -> leaf code
    aliases: Mapping[tuple[str, str], str]  # (source, normalised alias) -> leaf code, from the file
    district: Mapping[tuple[str, str], str] = field(default_factory=dict)  # the same, from district_alias
    district_rev: int = 0
    calendar_rev: int = 0  # the store's calendar days the calendar was built with (command.holidays)

    def resolve(self, name: str, source: str | None = None) -> Leaf:
        """The leaf a class name or code from ``source`` means (the order is in the module docstring).

        Raises
        ------
        LoadError
            With ``field='category'``: a sub-class code nobody mapped (not
            precise enough), or a name no leaf, alias or path segment matches.
        """
        key = normalise_name(name)
        if key in self.leaves:
            return self.leaves[key]
        if key in self.inner:
            if (code := self._alias(key, source)) is not None:
                return self.leaves[code]
            raise LoadError(
                f"class {key} ({self.inner[key]}) is not a leaf class: send one of its leaves "
                f"({', '.join(c for c in self.leaves if c.startswith(key))[:120]} …), or "
                + ALIAS_HELP.format(alias=key, source=shlex.quote(source or "*")),
                field="category",
            )
        for candidate in _candidates(key):
            code = self._lookup(candidate, source)
            if code is not None:
                return self.leaves[code]
        where = f"system '{source}'" if source else "any system"
        raise LoadError(
            f"unknown event class {name!r} from {where}: it is no leaf code, leaf name or alias of taxonomy "
            f"version {self.version}/{self.aliases_version}, nor a district alias; "
            + ALIAS_HELP.format(alias=shlex.quote(name), source=shlex.quote(source or "*"))
            + "; for a path, its sub type's, main type's or type's name may name a default leaf",
            field="category",
        )

    def _lookup(self, key: str, source: str | None) -> str | None:
        if key in self.leaves:
            return key
        if key in self.names:
            return self.names[key]
        return self._alias(key, source)

    def _alias(self, key: str, source: str | None) -> str | None:
        for table in (self.district, self.aliases):
            if source is not None and (source, key) in table:
                return table[(source, key)]
            if ("*", key) in table:
                return table[("*", key)]
        return None


def _candidates(key: str) -> list[str]:
    """What a (normalised) class name is looked up as, most specific first.

    >>> _candidates("a/b/c")
    ['a/b/c', 'b/c', 'c', 'b', 'a']
    """
    segments = [s.strip() for s in key.split("/") if s.strip()]
    tries = [key]
    if len(segments) > 2:
        tries.append("/".join(segments[-2:]))
    tries.extend(reversed(segments))  # the last segment, then each group up the path
    return list(dict.fromkeys(tries))


@dataclass(frozen=True)
class TaxonomyLoad:
    """What :func:`load_taxonomy` did."""

    version_id: int
    version: int
    aliases_version: int
    created: bool
    made_current: bool
    leaves: int
    aliases: int


def normalise_name(name: str) -> str:
    """A class name as compared: NFKC (full-width → half-width), entities decoded, spaces collapsed, lower case."""
    value = unicodedata.normalize("NFKC", html.unescape(str(name)))
    return " ".join(value.split()).lower()


# -- loading --------------------------------------------------------------------------
def _read(path: Path, model: type[BaseModel]) -> tuple[BaseModel, dict]:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise LoadError(f"cannot read: {exc}", source=Path(path).name) from exc
    try:
        return model.model_validate(raw), raw
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LoadError(first["msg"], source=Path(path).name,
                        field=".".join(str(p) for p in first["loc"])) from exc


def _rows(doc: _TaxonomyFile, source: str) -> tuple[list[dict], dict[str, str]]:
    """Class rows for the store, checking that each code starts with its parent's."""
    resources = {k: ([v] if isinstance(v, str) else list(v)) for k, v in doc.emergency_resources.items()
                 if k.isdigit()}
    for kinds in resources.values():
        unknown = set(kinds) - set(m.RESOURCE_KINDS)
        if unknown:
            raise LoadError(f"unknown resource kinds {sorted(unknown)}", source=source, field="emergency_resources")
    rows, leaf_names = [], {}
    seen: set[str] = set()
    for top in doc.classes:
        rows.append(dict(code=top.code, parent_code=None, level=1, name_zh=top.name_zh, name_en=top.name_en))
        for sub in top.children:
            if not sub.code.startswith(top.code):
                raise LoadError(f"sub-class {sub.code} is not under {top.code}", source=source, field="code")
            rows.append(dict(code=sub.code, parent_code=top.code, level=2, name_zh=sub.name_zh, name_en=sub.name_en))
            for leaf in sub.children:
                if not leaf.code.startswith(sub.code):
                    raise LoadError(f"leaf {leaf.code} is not under {sub.code}", source=source, field="code")
                clock = (leaf.deadline_basis == "calendar_hours"
                         or (leaf.deadline_basis is None and doc.calendar.runs_on_clock_hours(leaf.priority)))
                prefix = max((k for k in resources if leaf.code.startswith(k)), key=len, default=None)
                rows.append(dict(
                    code=leaf.code, parent_code=sub.code, level=3, name_zh=leaf.name_zh, name_en=leaf.name_en,
                    department=leaf.department, deadline_hours=leaf.deadline_hours, priority=leaf.priority,
                    dup_radius_m=leaf.dup_radius_m, dup_window_hours=leaf.dup_window_hours, calendar_hours=clock,
                    resource_kinds=resources.get(prefix, []) if prefix else [],
                ))
                leaf_names[leaf.code] = leaf.name_zh
    blank = dict(department=None, deadline_hours=None, priority=None, dup_radius_m=None, dup_window_hours=None,
                 calendar_hours=False, resource_kinds=[])
    rows = [{**blank, **r} for r in rows]
    for row in rows:
        if row["code"] in seen:
            raise LoadError(f"class code {row['code']} appears twice", source=source, field="code")
        seen.add(row["code"])
    return rows, leaf_names


def load_taxonomy(
    conn: Connection,
    taxonomy_path: Path | None = None,
    aliases_path: Path | None = None,
    *,
    actor: str = "system",
) -> TaxonomyLoad:
    """Load the taxonomy and alias files into the store and make them current.

    Idempotent by version: the pair (taxonomy ``version``, aliases
    ``version``) already stored with the same content is only made current
    again (nothing is written when it already is). The caller owns the
    transaction; concurrent loaders are serialised by an advisory lock.

    Raises
    ------
    LoadError
        A file that cannot be read or is inconsistent (codes not nested, an
        alias naming no leaf), or a stored version whose content differs
        (raise ``version`` in the file that changed).
    """
    taxonomy_path = Path(taxonomy_path or TAXONOMY_FILE)
    aliases_path = Path(aliases_path or ALIASES_FILE)
    doc, raw_doc = _read(taxonomy_path, _TaxonomyFile)
    aliases, raw_aliases = _read(aliases_path, _AliasFile)
    rows, leaf_names = _rows(doc, taxonomy_path.name)
    alias_rows: dict[tuple[str, str], dict] = {}
    for i, a in enumerate(aliases.aliases):
        if a.code not in leaf_names:
            raise LoadError(f"alias {a.alias!r} names {a.code}, which is no leaf of taxonomy version {doc.version}",
                            source=aliases_path.name, feature=i, field="code")
        key = (a.source, normalise_name(a.alias))
        if key in alias_rows and alias_rows[key]["code"] != a.code:
            raise LoadError(f"alias {a.alias!r} of {a.source} maps to two leaves", source=aliases_path.name,
                            feature=i, field="alias")
        alias_rows[key] = dict(source=a.source, alias=key[1], code=a.code)
    checksum = hashlib.sha256(
        json.dumps([raw_doc, raw_aliases], sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()

    tv = m.TaxonomyVersion.__table__
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('gridwall.taxonomy'))"))
    stored = conn.execute(
        select(tv.c.id, tv.c.checksum, tv.c.is_current)
        .where(tv.c.version == doc.version, tv.c.aliases_version == aliases.version)
    ).one_or_none()
    if stored is not None and stored.checksum != checksum:
        raise LoadError(
            f"taxonomy version {doc.version} with aliases version {aliases.version} is already loaded with "
            "other content; raise 'version' in the file you changed",
            source=taxonomy_path.name, field="version",
        )
    created = stored is None
    if created:
        version_id = conn.execute(
            insert(tv).values(version=doc.version, aliases_version=aliases.version, name=doc.name,
                              checksum=checksum, calendar=doc.calendar.model_dump(mode="json"),
                              loaded_by=actor, is_current=False).returning(tv.c.id)
        ).scalar_one()
        conn.execute(insert(m.EventClass.__table__), [dict(r, version_id=version_id) for r in rows])
        if alias_rows:
            conn.execute(insert(m.EventClassAlias.__table__),
                         [dict(r, version_id=version_id) for r in alias_rows.values()])
    else:
        version_id = stored.id
    made_current = created or not stored.is_current
    if made_current:
        conn.execute(update(tv).where(tv.c.is_current, tv.c.id != version_id).values(is_current=False))
        conn.execute(update(tv).where(tv.c.id == version_id).values(is_current=True))
        audit(conn, actor=actor, action="load_taxonomy", entity="taxonomy_version", entity_id=version_id,
              detail={"version": doc.version, "aliases_version": aliases.version, "created": created,
                      "leaves": len(leaf_names), "aliases": len(alias_rows), "checksum": checksum})
    log.info("taxonomy %s/%s: %s", doc.version, aliases.version,
             "loaded" if created else ("made current" if made_current else "already current"))
    return TaxonomyLoad(version_id, doc.version, aliases.version, created, made_current, len(leaf_names),
                        len(alias_rows))


# -- reading back ---------------------------------------------------------------------
class _Cache:
    """Taxonomies read back, by (version row id, checksum, district alias revision, calendar revision).

    The content of a stored version never changes, and every change to the
    district's aliases (or the calendar's days) sets its revision to a number never used before, in
    the same transaction, so a key always means one content. Also remembers the last taxonomy found current
    (:func:`last_taxonomy`), for callers that check it against the store in a
    statement of their own rather than asking first.
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._items: dict[tuple[int, str, int, int], Taxonomy] = {}
        self._latest: Taxonomy | None = None
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str, int, int]) -> Taxonomy | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[int, str, int, int], value: Taxonomy) -> None:
        with self._lock:
            if key not in self._items and len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = value

    @property
    def latest(self) -> Taxonomy | None:
        with self._lock:
            return self._latest

    @latest.setter
    def latest(self, value: Taxonomy) -> None:
        with self._lock:
            self._latest = value


_CACHE = _Cache()  # empty until the first read: nothing is read at import

# which version is current, and the district aliases' revision: one indexed row and a one-row table
# (and the calendar's revision, migration 0012: the taxonomy carries the calendar)
_CURRENT = text("SELECT t.id, t.checksum, coalesce(r.rev, 0) AS rev, coalesce(c.rev, 0) AS cal_rev"
                " FROM taxonomy_version t LEFT JOIN district_alias_revision r ON r.id = 1"
                " LEFT JOIN calendar_revision c ON c.id = 1 WHERE t.is_current")


def current_taxonomy(conn: Connection, *, cached: bool = True) -> Taxonomy:
    """The current taxonomy version with the district's aliases, read once per process and then kept.

    Each call asks the store only which version is current and the district
    aliases' revision (one query, one indexed row of each); the classes and
    aliases are read when that key is not in this process's cache yet, so a
    newly loaded version or a newly added alias is picked up by the next
    call, in every process.

    Raises
    ------
    DatabaseError
        When no taxonomy has been loaded (run :func:`load_taxonomy`).
    """
    row = conn.execute(_CURRENT).one_or_none()
    if row is None:
        raise DatabaseError("no event taxonomy is loaded: run command.taxonomy.load_taxonomy first")
    key = (row.id, row.checksum, row.rev, row.cal_rev)
    if cached and (hit := _CACHE.get(key)) is not None:
        _CACHE.latest = hit
        return hit
    taxonomy = _read_taxonomy(conn, row.id, row.rev, row.cal_rev)
    if cached:
        _CACHE.put(key, taxonomy)
        _CACHE.latest = taxonomy
    return taxonomy


def last_taxonomy(conn: Connection) -> Taxonomy:
    """The taxonomy this process last found current, without asking the store again (the first time it asks).

    For hot paths that verify the version inside their own statement (intake
    compares ``version_id``, ``checksum`` and ``district_rev`` with the store
    as it writes, and calls :func:`current_taxonomy` again when they differ):
    they save a round trip per event and still never use a stale version or
    miss a district alias.
    """
    return _CACHE.latest or current_taxonomy(conn)


def _read_taxonomy(conn: Connection, version_id: int, district_rev: int, calendar_rev: int = 0) -> Taxonomy:
    """A version's classes and file aliases, and the district aliases whose leaf it has.

    ``district_rev`` is the revision the caller read with the version: should
    an alias change commit in between, the taxonomy holds newer aliases than
    its revision says, so intake's check fails once and reads it again; it
    never holds older ones.
    """
    tv, ec, ea = m.TaxonomyVersion.__table__, m.EventClass.__table__, m.EventClassAlias.__table__
    row = conn.execute(select(tv).where(tv.c.id == version_id)).one()
    leaves, inner, names = {}, {}, {}
    for r in conn.execute(select(ec).where(ec.c.version_id == row.id).order_by(ec.c.code)):
        if r.level < 3:
            inner[r.code] = r.name_zh
            continue
        leaves[r.code] = Leaf(r.code, r.name_zh, r.name_en, r.department, r.deadline_hours, r.priority,
                              r.dup_radius_m, r.dup_window_hours, r.calendar_hours, tuple(r.resource_kinds or ()))
        names[normalise_name(r.name_zh)] = r.code
        if r.name_en:
            names.setdefault(normalise_name(r.name_en), r.code)
    aliases = {(r.source, normalise_name(r.alias)): r.code
               for r in conn.execute(select(ea).where(ea.c.version_id == row.id))}
    da = m.DistrictAlias.__table__
    district = {(r.source, normalise_name(r.alias)): r.code
                for r in conn.execute(select(da.c.source, da.c.alias, da.c.code)) if r.code in leaves}
    calendar = working_calendar(conn, WorkCalendar.model_validate(row.calendar))
    return Taxonomy(row.id, row.version, row.aliases_version, row.checksum, calendar, leaves, inner, names, aliases,
                    district, district_rev, calendar_rev)


# -- the district's own aliases -------------------------------------------------------
_ALIAS_LOCK = text("SELECT pg_advisory_xact_lock(hashtext('gridwall.district_alias'))")
# a number never used before, even by a change rolled back (see layers.models.DistrictAliasRevision)
# a random 63-bit number, not rev + 1 nor a sequence: a rolled-back change's number is never reused, and two
# stores (a process may talk to two, as the tests do) never share a number that would mean other aliases
_BUMP = text("INSERT INTO district_alias_revision (id, rev) VALUES (1, CAST(floor(random() * 9.2e18) AS bigint))"
             " ON CONFLICT (id) DO UPDATE SET rev = EXCLUDED.rev RETURNING rev")


def _clean(value: object, what: str, where: str | None, index: int | None) -> str:
    text_ = "" if value is None else str(value)
    if "\x00" in text_:
        raise LoadError(f"{where or ''}{what} holds a NUL character", feature=index, field=what)
    return text_.strip()


def _checked(taxonomy: Taxonomy, rows: Iterable[tuple[str, str, str]],
             lines: list[int] | None = None) -> dict[tuple[str, str], tuple[str, int]]:
    """(source, normalised alias) -> (code, index) for rows that all pass; the first fault is raised.

    ``lines`` gives a file's line number for each row, to name it in the message.
    """
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for i, row in enumerate(rows):
        at = f"line {lines[i]}: " if lines else ""
        try:
            source, alias, code = row
        except (TypeError, ValueError):
            raise LoadError(f"{at}a row is (source, alias, code)", feature=i) from None
        source, code = _clean(source, "source", at, i), _clean(code, "code", at, i)
        alias = normalise_name(_clean(alias, "alias", at, i))
        if not source:
            raise LoadError(f"{at}the source is empty (use * for any system)", feature=i, field="source")
        if not alias:
            raise LoadError(f"{at}the alias is empty", feature=i, field="alias")
        if not code:
            raise LoadError(f"{at}the code is empty (give a leaf code)", feature=i, field="code")
        if alias in taxonomy.leaves or alias in taxonomy.names:
            leaf = taxonomy.leaves.get(alias) or taxonomy.leaves[taxonomy.names[alias]]
            raise LoadError(f"{at}{alias!r} is already the code or name of leaf {leaf.code} ({leaf.name_zh}) in "
                            f"taxonomy version {taxonomy.version}; it needs no alias and cannot be re-mapped",
                            feature=i, field="alias")
        if code not in taxonomy.leaves:
            fault = (f"is the group {code} ({taxonomy.inner[code]}) of taxonomy version {taxonomy.version}, not "
                     "a leaf: give one of its leaves as the default" if code in taxonomy.inner
                     else f"names no class of taxonomy version {taxonomy.version}")
            raise LoadError(f"{at}code {code!r} {fault}", feature=i, field="code")
        key = (source, alias)
        if key in out and out[key][0] != code:
            first = f"line {lines[out[key][1]]}" if lines else f"row {out[key][1]}"
            raise LoadError(f"{at}alias {alias!r} of {source} maps to {out[key][0]} at {first} and to {code} here",
                            feature=i, field="alias")
        out[key] = (code, i)
    return out


def add_aliases(conn: Connection, rows: Iterable[tuple[str, str, str]], *, actor: str) -> int:
    """Add or change district aliases, all or none; the caller commits.

    Adding an alias that exists with another code replaces it, with an
    audit row that keeps the previous code. Why replace rather than refuse:
    a district corrects its crosswalk by importing its edited file again,
    which then does exactly what the file says (and a repeat of the same
    file changes nothing); the audit log, not a flag, keeps the change
    reversible.

    Parameters
    ----------
    conn
        A connection in the caller's transaction.
    rows
        ``(source, alias, code)``: the sending system (``12345``, ``dcm``, a
        district's own name, ``*`` for any), the name or code it sends
        (stored normalised; a group name names its default leaf), and a leaf
        code of the current taxonomy.
    actor
        Who maps them, for the audit log.

    Returns
    -------
    int
        How many aliases were added or changed (a row that says what is
        stored already counts for nothing).

    Raises
    ------
    LoadError
        The first faulty row (``feature`` is its index, ``field`` the column):
        an empty source or alias, an alias that is a leaf's own code or name,
        a code that is no leaf of the current taxonomy (a group code, an
        unknown code), the same alias mapped to two leaves. Nothing is written.

    Examples
    --------
    >>> add_aliases(conn, [("*", "公平交易秩序", "020801")], actor="planner")  # doctest: +SKIP
    1
    """
    return _add(conn, list(rows), actor, None, None)


def _add(conn: Connection, rows: list, actor: str, source: str | None, lines: list[int] | None) -> int:
    try:
        wanted = _checked(current_taxonomy(conn), rows, lines)
    except LoadError as err:
        raise LoadError(err.message, source=source, feature=err.feature, field=err.field) from err
    if not wanted:
        return 0
    conn.execute(_ALIAS_LOCK)  # one writer at a time: what is stored is read, then changed, by the same writer
    da = m.DistrictAlias.__table__
    stored = {(r.source, r.alias): r.code for r in conn.execute(
        select(da.c.source, da.c.alias, da.c.code).where(da.c.source.in_({s for s, _ in wanted}),
                                                         da.c.alias.in_({a for _, a in wanted})))}
    changes = [(s, a, code) for (s, a), (code, _) in wanted.items() if stored.get((s, a)) != code]
    if not changes:
        return 0
    statement = pg_insert(da).values([dict(source=s, alias=a, code=c, created_by=actor) for s, a, c in changes])
    statement = statement.on_conflict_do_update(
        index_elements=[da.c.source, da.c.alias],
        set_={"code": statement.excluded.code, "created_by": statement.excluded.created_by,
              "created_at": text("now()")},
    ).returning(da.c.id, da.c.source, da.c.alias)
    ids = {(r.source, r.alias): r.id for r in conn.execute(statement)}
    rev = conn.execute(_BUMP).scalar_one()
    for s, a, c in changes:
        previous = stored.get((s, a))
        audit(conn, actor=actor, action="replace_alias" if previous else "add_alias", entity="district_alias",
              entity_id=ids[(s, a)], detail={"source": s, "alias": a, "code": c, "previous": previous, "rev": rev})
    log.info("%d district alias(es) added or changed by %s (revision %d)", len(changes), actor, rev)
    return len(changes)


def import_aliases(conn: Connection, path: Path, *, actor: str) -> int:
    """Add the district aliases of a CSV file (header ``source,alias,code``, UTF-8 with or without BOM), all or none.

    Blank lines are skipped; other columns are ignored. Replaces as
    :func:`add_aliases` does.

    Raises
    ------
    LoadError
        The file cannot be read, lacks a column, or a row is faulty: the
        error names the file, the line, the field and the fault.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("source", "alias", "code") if c not in (reader.fieldnames or [])]
            if missing:
                raise LoadError(f"the header needs the columns source,alias,code; missing: {', '.join(missing)}",
                                source=path.name, field=missing[0])
            rows, lines = [], []
            for record in reader:
                if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
                    continue
                rows.append((record["source"], record["alias"], record["code"]))
                lines.append(reader.line_num)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LoadError(f"cannot read as a UTF-8 CSV: {exc}", source=path.name) from exc
    return _add(conn, rows, actor, path.name, lines)


def list_aliases(conn: Connection, source: str | None = None) -> list[dict]:
    """The district's aliases (of one ``source``, or all), each with its leaf in the current taxonomy.

    Each dict has ``id``, ``source``, ``alias``, ``code``, ``created_by``,
    ``created_at``, ``leaf`` (the leaf's Chinese name in the current version,
    or None) and ``active`` (False: the current version has no such leaf, so
    resolving ignores the alias).
    """
    return [dict(r._mapping) for r in conn.execute(sql("district_aliases"), {"source": source})]


def remove_alias(conn: Connection, source: str, alias: str, *, actor: str) -> dict:
    """Remove one district alias (``alias`` is normalised first); returns what it was. Audited.

    Raises
    ------
    NotFound
        No such alias for that source.
    """
    key = normalise_name(alias)
    conn.execute(_ALIAS_LOCK)
    da = m.DistrictAlias.__table__
    row = conn.execute(delete(da).where(da.c.source == source, da.c.alias == key)
                       .returning(da.c.id, da.c.source, da.c.alias, da.c.code)).one_or_none()
    if row is None:
        raise NotFound(f"no district alias {key!r} for source {source!r}")
    rev = conn.execute(_BUMP).scalar_one()
    audit(conn, actor=actor, action="remove_alias", entity="district_alias", entity_id=row.id,
          detail={"source": row.source, "alias": row.alias, "code": row.code, "rev": rev})
    return dict(row._mapping)
