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

A class name from a channel is resolved, in order, as: a leaf code, a leaf
name (Chinese or English), an alias of the sending system, an alias of any
system (``*``); for a path such as ``市政设施/公用部件/下水井盖`` the last two
segments and then the last one are tried too. A sub-class code or a name that
matches nothing is refused with the reason.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import threading
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, insert, select, text, update

from command.audit import audit
from command.workhours import WorkCalendar
from layers import models as m
from layers.errors import DatabaseError, LoadError

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
]

log = logging.getLogger(__name__)

_DATA = Path(__file__).resolve().parents[1] / "gis_data" / "data"
TAXONOMY_FILE = _DATA / "taxonomy.json"
ALIASES_FILE = _DATA / "taxonomy_aliases.json"


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
    """One stored taxonomy version, in memory, for resolving and routing."""

    version_id: int
    version: int
    aliases_version: int
    checksum: str
    calendar: WorkCalendar
    leaves: Mapping[str, Leaf]
    inner: Mapping[str, str]  # code of a top or sub-class -> its name
    names: Mapping[str, str]  # normalised leaf name (zh or en) -> leaf code
    aliases: Mapping[tuple[str, str], str]  # (source, normalised alias) -> leaf code

    def resolve(self, name: str, source: str | None = None) -> Leaf:
        """The leaf a class name or code from ``source`` means.

        Raises
        ------
        LoadError
            With ``field='category'``: a sub-class code (not precise enough),
            or a name no leaf, alias or path segment matches.
        """
        key = normalise_name(name)
        if key in self.leaves:
            return self.leaves[key]
        if key in self.inner:
            raise LoadError(
                f"class {key} ({self.inner[key]}) is not a leaf class: send one of its leaves "
                f"({', '.join(c for c in self.leaves if c.startswith(key))[:120]} …)",
                field="category",
            )
        segments = [s.strip() for s in key.split("/") if s.strip()]
        tries = [key]
        if len(segments) > 2:
            tries.append("/".join(segments[-2:]))
        if len(segments) > 1:
            tries.append(segments[-1])
        for candidate in tries:
            code = self._lookup(candidate, source)
            if code is not None:
                return self.leaves[code]
        where = f"system '{source}'" if source else "any system"
        raise LoadError(
            f"unknown event class {name!r} from {where}: it is no leaf code, leaf name or alias of taxonomy "
            f"version {self.version}/{self.aliases_version}; add it to taxonomy_aliases.json",
            field="category",
        )

    def _lookup(self, key: str, source: str | None) -> str | None:
        if key in self.leaves:
            return key
        if key in self.names:
            return self.names[key]
        if source is not None and (source, key) in self.aliases:
            return self.aliases[(source, key)]
        return self.aliases.get(("*", key))


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
    """Taxonomies read back, by (version row id, checksum): the content of a stored version never changes.

    Also remembers the last taxonomy found current (:func:`last_taxonomy`),
    for callers that check it against the store in a statement of their own
    rather than asking first.
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._items: dict[tuple[int, str], Taxonomy] = {}
        self._latest: Taxonomy | None = None
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> Taxonomy | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: tuple[int, str], value: Taxonomy) -> None:
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

_CURRENT = text("SELECT id, checksum FROM taxonomy_version WHERE is_current")


def current_taxonomy(conn: Connection, *, cached: bool = True) -> Taxonomy:
    """The current taxonomy version, read once per process and then kept by version id and checksum.

    Each call asks the store only which version is current (one indexed row,
    two columns); the classes and aliases are read when that version is not
    in this process's cache yet, so a newly loaded version is picked up by
    the next call, in every process.

    Raises
    ------
    DatabaseError
        When no taxonomy has been loaded (run :func:`load_taxonomy`).
    """
    row = conn.execute(_CURRENT).one_or_none()
    if row is None:
        raise DatabaseError("no event taxonomy is loaded: run command.taxonomy.load_taxonomy first")
    key = (row.id, row.checksum)
    if cached and (hit := _CACHE.get(key)) is not None:
        _CACHE.latest = hit
        return hit
    taxonomy = _read_taxonomy(conn, row.id)
    if cached:
        _CACHE.put(key, taxonomy)
        _CACHE.latest = taxonomy
    return taxonomy


def last_taxonomy(conn: Connection) -> Taxonomy:
    """The taxonomy this process last found current, without asking the store again (the first time it asks).

    For hot paths that verify the version inside their own statement (intake
    compares ``version_id`` and ``checksum`` with the current row as it
    writes, and calls :func:`current_taxonomy` again when they differ): they
    save a round trip per event and still never use a stale version.
    """
    return _CACHE.latest or current_taxonomy(conn)


def _read_taxonomy(conn: Connection, version_id: int) -> Taxonomy:
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
    return Taxonomy(row.id, row.version, row.aliases_version, row.checksum,
                    WorkCalendar.model_validate(row.calendar), leaves, inner, names, aliases)
