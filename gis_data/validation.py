"""Check a frame against a layer spec before anything is written.

:func:`validate` checks every feature against a :class:`LayerSpec`: required
and optional fields and their kinds, allowed values and ranges, geometry
types and validity, coordinates that are really longitude/latitude, and
features outside the district. Each fault raises
:class:`~layers.errors.LoadError` naming the file, the zero-based feature
index, the field and what is wrong, plus how many more features share that
fault, so a planner can fix the file in one go rather than one row per run.

Nothing is repaired silently: an invalid polygon or an unknown category is a
question for the person who drew the file, not for the importer.

Example
-------
>>> spec = LayerSpec(                                    # doctest: +SKIP
...     name="grid",
...     geometry_types={"MultiPolygon"},
...     required={"code": "str", "households": "int"},
...     ranges={"households": (0, None)},
... )
>>> gdf = validate(frame, spec, source="grids.gpkg", district=district)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas
import numpy as np
import pandas as pd
import pyproj
import shapely

from gis_data.coords import convert_geometries
from layers.errors import LoadError

__all__ = ["Kind", "KINDS", "GEOMETRY_TYPES", "LayerSpec", "Faults", "validate", "check_lonlat", "raise_first"]

logger = logging.getLogger(__name__)


Kind = Literal["str", "int", "float", "bool", "datetime"]
#: The attribute kinds a :class:`LayerSpec` may ask for.
KINDS: frozenset[str] = frozenset({"str", "int", "float", "bool", "datetime"})
# Indexed by shapely.get_type_id (0..7).
_TYPE_NAMES = np.array(
    ["Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
     "GeometryCollection"]
)
#: Geometry type names a spec may allow (shapely's ``geom_type`` spelling).
GEOMETRY_TYPES: frozenset[str] = frozenset(_TYPE_NAMES.tolist())
_PROMOTE = {"Point": shapely.multipoints, "LineString": shapely.multilinestrings, "Polygon": shapely.multipolygons}
_BOOL_WORDS = {w: True for w in ("true", "t", "yes", "y", "1", "是")} | {
    w: False for w in ("false", "f", "no", "n", "0", "否")
}
_KIND_WORDS = {"int": "an integer", "float": "a number", "bool": "a yes/no value", "datetime": "a date/time"}
_MAX_INT = 2**53  # beyond this a float cannot hold the integer exactly


@dataclass(frozen=True)
class LayerSpec:
    """What one store layer accepts: geometry types, fields and their kinds.

    The store owns one spec per layer; the importer checks files against it so
    the database never sees a row it would reject half-way through a load.

    Parameters
    ----------
    name : str
        Layer name, used in messages only.
    geometry_types : set of str
        Allowed shapely type names, e.g. ``{"MultiPolygon"}``. When a Multi*
        type is allowed and its single part is not, single parts are promoted
        (Polygon → MultiPolygon) instead of rejected.
    required, optional : dict of str to Kind
        Field name → kind (``"str"``, ``"int"``, ``"float"``, ``"bool"``,
        ``"datetime"``). Required fields must exist and be non-null (an empty
        or blank string counts as null); optional ones may be absent (they come
        back as an all-null column) or null.
    choices : dict of str to set of str, optional
        Enumerated fields: the allowed values, compared as text.
    ranges : dict of str to (low, high), optional
        Inclusive bounds for ``int``/``float`` fields; ``None`` leaves a side open.
    geometry_optional : bool
        Features may come without geometry (events located by name, streets
        known by name only); a geometry that is there is checked all the same.

    Raises
    ------
    ValueError
        If the spec contradicts itself (unknown kind or geometry type, a field
        both required and optional, choices or ranges on an undeclared field).
    """

    name: str
    geometry_types: frozenset[str]
    required: Mapping[str, Kind] = field(default_factory=dict)
    optional: Mapping[str, Kind] = field(default_factory=dict)
    choices: Mapping[str, frozenset[str]] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    geometry_optional: bool = False

    def __post_init__(self) -> None:
        freeze = object.__setattr__  # the one sanctioned way to normalise a frozen dataclass
        freeze(self, "geometry_types", frozenset(self.geometry_types))
        freeze(self, "required", types.MappingProxyType(dict(self.required)))
        freeze(self, "optional", types.MappingProxyType(dict(self.optional)))
        if loose := [k for k, v in self.choices.items() if isinstance(v, str)]:
            raise ValueError(f"{self.name}: choices must be collections of values, not strings: {loose}")
        freeze(self, "choices", types.MappingProxyType({k: frozenset(map(str, v)) for k, v in self.choices.items()}))
        freeze(self, "ranges", types.MappingProxyType(dict(self.ranges)))
        if not self.geometry_types or not self.geometry_types <= GEOMETRY_TYPES:
            raise ValueError(f"{self.name}: geometry_types must be a non-empty subset of {sorted(GEOMETRY_TYPES)}")
        if both := set(self.required) & set(self.optional):
            raise ValueError(f"{self.name}: fields both required and optional: {sorted(both)}")
        fields = self.fields
        if bad := {f: k for f, k in fields.items() if k not in KINDS}:
            raise ValueError(f"{self.name}: unknown kinds {bad}; use one of {sorted(KINDS)}")
        if stray := (set(self.choices) | set(self.ranges)) - set(fields):
            raise ValueError(f"{self.name}: choices/ranges name undeclared fields {sorted(stray)}")
        if bad := [f for f in self.ranges if fields[f] not in ("int", "float")]:
            raise ValueError(f"{self.name}: ranges only apply to int/float fields, not {bad}")

    def __hash__(self) -> int:  # the mappings are read-only proxies, hash their content
        return hash((self.name, self.geometry_types, tuple(self.fields.items())))

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:  # read-only proxies do not pickle or deepcopy
        plain = (dict(self.required), dict(self.optional), dict(self.choices), dict(self.ranges))
        return (type(self), (self.name, self.geometry_types, *plain, self.geometry_optional))

    @property
    def fields(self) -> dict[str, Kind]:
        """All declared fields, required first, in declaration order."""
        return {**self.required, **self.optional}


def check_lonlat(geoms: np.ndarray, source: str, why: str, faults: Faults | None = None) -> None:
    """Raise (or note in ``faults``) when any x/y is non-finite or outside −180..180 / −90..90."""
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(xy).all(axis=1) & (np.abs(xy[:, 0]) <= 180) & (np.abs(xy[:, 1]) <= 90)
    if ok.all():
        return
    bad = np.zeros(len(geoms), bool)
    bad[idx[~ok]] = True
    first_bad = {}
    for k in np.flatnonzero(~ok)[::-1]:  # the first bad coordinate of each feature
        first_bad[int(idx[k])] = xy[k]

    def message(i: int) -> str:
        x, y = first_bad[i]
        return f"coordinate ({x:.10g}, {y:.10g}) is not a longitude/latitude (lon -180..180, lat -90..90); {why}"

    (faults or Faults()).check(bad, source, "geometry", message)


# --------------------------------------------------------------------------- validation


def validate(
    gdf: geopandas.GeoDataFrame,
    spec: LayerSpec,
    *,
    source: str,
    district: shapely.Geometry | None = None,
    district_tolerance_m: float = 50,
    faults: Faults | None = None,
) -> geopandas.GeoDataFrame:
    """Check every feature against ``spec`` and return a clean, typed frame.

    Checks run in this order, each over all features at once; the first
    failing check raises for its first feature and counts the others:
    missing required fields; then per field (spec order) nulls in required
    fields, values of the wrong kind, values outside ``choices``, outside
    ``ranges``; then missing geometry, wrong geometry type, coordinates that
    are non-finite or not longitude/latitude, invalid geometry (with
    shapely's reason; never repaired), and features outside ``district``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        In EPSG:4326 (see :func:`to_wgs84`); a frame without CRS is taken as
        such. Feature numbers in messages are row positions.
    spec : LayerSpec
        What the target layer accepts.
    source : str
        The file, for messages.
    district : shapely geometry, optional
        The district outline in EPSG:4326 (WGS-84 — convert a GCJ-02 DataV
        outline first). Each feature must lie within it, buffered by
        ``district_tolerance_m`` metres (measured in an azimuthal equidistant
        projection centred on the district).
    district_tolerance_m : float
        Slack for features drawn on or just over the boundary.
    faults : Faults, optional
        Raise on the first fault (default), or note every faulty feature and
        go on (``Faults(skip=True)``): the frame returned then still holds
        every row, and ``faults.rejected`` says which to leave out and why.

    Returns
    -------
    geopandas.GeoDataFrame
        Spec'd fields only, in spec order (absent optional ones as all-null
        columns), coerced to their kinds (``str``, nullable ``Int64``,
        ``float64``, nullable ``boolean``, ``datetime64``), plus a
        ``geometry`` column (single parts promoted to Multi* where the spec
        asks), same index, EPSG:4326.

    Raises
    ------
    LoadError
        On the first fault, naming feature, field and fault, and how many more
        features share it; or when the frame is not in EPSG:4326.
    """
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326", ignore_axis_order=True):
        raise LoadError(f"the frame is in {gdf.crs.name}, not EPSG:4326: convert it (to_wgs84) first", source=source)
    faults = faults or Faults(labels=gdf.index)
    columns = _match_columns(gdf, spec, source)
    out: dict[str, pd.Series] = {}
    for name, kind in spec.fields.items():
        col = columns.get(name)
        if col is None:
            out[name] = _coerce(pd.Series([None] * len(gdf), index=gdf.index, dtype=object), kind)[0]
            continue
        out[name] = _check_field(gdf[col], name, kind, spec, source, faults)
    geoms = _check_geometry(gdf.geometry.to_numpy().copy(), spec, source, district, district_tolerance_m, faults)
    return geopandas.GeoDataFrame(out, geometry=geopandas.GeoSeries(geoms, index=gdf.index), crs="EPSG:4326")


def _match_columns(gdf: geopandas.GeoDataFrame, spec: LayerSpec, source: str) -> dict[str, str]:
    """Map spec fields to columns: exact name, else a unique case-insensitive one."""
    have = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    by_lower: dict[str, list[str]] = {}
    for c in have:
        by_lower.setdefault(c.lower(), []).append(c)
    found: dict[str, str] = {}
    for name in spec.fields:
        if name in have:
            found[name] = name
        elif len(same := by_lower.get(name.lower(), [])) == 1:
            logger.info("%s: field %r read from column %r", source, name, same[0])
            found[name] = same[0]
    if missing := [f for f in spec.required if f not in found]:
        cut = [f for f in missing if len(f) > 10 and f[:10].lower() in by_lower]
        hint = f" (a Shapefile cuts field names to 10 characters: {', '.join(cut)})" if cut else ""
        plural = "s" if len(missing) > 1 else ""
        raise LoadError(
            f"missing required field{plural} {', '.join(missing)} for layer {spec.name}; "
            f"the file has: {', '.join(have) or 'no attribute fields'}{hint}",
            source=source,
            field=missing[0],
        )
    if extra := sorted(set(have) - set(found.values())):
        logger.info("%s: ignoring fields not in layer %s: %s", source, spec.name, ", ".join(extra))
    return found


def _check_field(raw: pd.Series, name: str, kind: Kind, spec: LayerSpec, source: str, faults: Faults) -> pd.Series:
    null = _nulls(raw)
    if name in spec.required:
        faults.check(null, source, name, lambda i: f"required field {name} is null or empty")
    values, bad = _coerce(raw, kind, null)
    faults.check(bad, source, name, lambda i: f"{name}: {_show(raw.iloc[i])} is not {_KIND_WORDS[kind]}")
    if name in spec.choices:
        allowed = spec.choices[name]
        text = values.astype(str)
        outside = ~null & ~text.isin(allowed).to_numpy()
        listed = ", ".join(sorted(allowed))
        faults.check(outside, source, name, lambda i: f"{name}: {_show(text.iloc[i])} is not one of: {listed}")
    if name in spec.ranges:
        lo, hi = spec.ranges[name]
        num = values.astype("float64").to_numpy(na_value=np.nan)
        with np.errstate(invalid="ignore"):
            below = (num < lo) if lo is not None else np.zeros(len(num), bool)
            above = (num > hi) if hi is not None else np.zeros(len(num), bool)
        bounds = " and ".join(s for s in (lo is not None and f">= {lo:.10g}", hi is not None and f"<= {hi:.10g}") if s)
        faults.check(below | above, source, name, lambda i: f"{name}: {num[i]:.10g} is out of range (must be {bounds})")
    return values


def _nulls(s: pd.Series) -> np.ndarray:
    """Null, NaN, or a blank string."""
    null = s.isna().to_numpy()
    if isinstance(s.dtype, pd.StringDtype):
        null = null | s.str.strip().eq("").fillna(False).to_numpy(dtype=bool)
    elif s.dtype == object:
        null = null | s.map(lambda v: isinstance(v, str) and not v.strip()).to_numpy(dtype=bool)
    return null


def _coerce(s: pd.Series, kind: Kind, null: np.ndarray | None = None) -> tuple[pd.Series, np.ndarray]:
    """Coerce to ``kind``; return values (nulls as NA) and a mask of non-null values that failed."""
    null = _nulls(s) if null is None else null
    numeric = pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
    if kind == "str":
        values = s.astype(object).map(_text, na_action="ignore")
        values[null] = None
        return values.astype("str"), np.zeros(len(s), bool)
    if kind == "int" and pd.api.types.is_integer_dtype(s.dtype):  # exact, even beyond 2**53
        return s.astype("Int64"), np.zeros(len(s), bool)
    if kind in ("int", "float"):
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
            return pd.Series(pd.NA, index=s.index, dtype="Int64" if kind == "int" else "float64"), ~null
        num = s if numeric else pd.to_numeric(s.astype(object).where(~null, None).map(_strip), errors="coerce")
        arr = num.astype("float64").to_numpy(na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = ~null & ~np.isfinite(arr)
            if kind == "int":
                bad |= ~null & ((np.abs(arr) > _MAX_INT) | (np.mod(arr, 1) != 0))
        arr = np.where(null | bad, np.nan, arr)
        return pd.Series(arr, index=s.index).astype("Int64" if kind == "int" else "float64"), bad
    if kind == "bool":
        if pd.api.types.is_bool_dtype(s.dtype):
            return s.astype("boolean"), np.zeros(len(s), bool)
        if numeric:
            mapped = s.map({1: True, 0: False})
        else:
            mapped = s.astype(object).map(_to_bool, na_action="ignore")
        bad = ~null & mapped.isna().to_numpy()
        return mapped.where(~(null | bad), None).astype("boolean"), bad
    # datetime
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s, np.zeros(len(s), bool)
    if numeric or pd.api.types.is_bool_dtype(s.dtype):  # epoch numbers are ambiguous: refuse
        return pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]"), ~null
    cleaned = s.astype(object).where(~null, None)
    try:
        values = pd.to_datetime(cleaned, errors="coerce", format="mixed")
    except ValueError:  # mixed UTC offsets: normalise them all to UTC
        values = pd.to_datetime(cleaned, errors="coerce", format="mixed", utc=True)
    return values, ~null & values.isna().to_numpy()


def _to_bool(v: object) -> bool | None:
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | float | np.number) and v in (0, 1):
        return bool(v)
    return _BOOL_WORDS.get(v.strip().lower()) if isinstance(v, str) else None


def _show(v: object) -> str:
    """A cell for a message: repr of the plain Python value (no ``np.float64(…)``)."""
    return repr(v.item() if isinstance(v, np.generic) else v)


def _text(v: object) -> str:
    """A value as text; 3201050.0 (an integer column that held a null) becomes '3201050'."""
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


def _strip(v: object) -> object:
    return v.strip() if isinstance(v, str) else v


def _check_geometry(
    geoms: np.ndarray, spec: LayerSpec, source: str, district: shapely.Geometry | None, tolerance_m: float,
    faults: Faults,
) -> np.ndarray:
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if not spec.geometry_optional:
        faults.check(missing, source, "geometry", lambda i: "has no geometry (null or empty)")
    geoms[missing] = None
    for single, make_multi in _PROMOTE.items():
        if f"Multi{single}" in spec.geometry_types and single not in spec.geometry_types:
            hit = shapely.get_type_id(geoms) == shapely.GeometryType[single.upper()]
            if hit.any():
                geoms[hit] = make_multi(geoms[hit], indices=np.arange(hit.sum()))
    names = _TYPE_NAMES[shapely.get_type_id(geoms)]
    wanted = " or ".join(sorted(spec.geometry_types))
    wrong = ~np.isin(names, list(spec.geometry_types)) & ~missing
    faults.check(wrong, source, "geometry", lambda i: f"geometry is a {names[i]}; layer {spec.name} expects {wanted}")
    check_lonlat(geoms, source, "check the file's CRS", faults)
    invalid = ~shapely.is_valid(geoms) & ~missing
    faults.check(
        invalid,
        source,
        "geometry",
        lambda i: f"invalid geometry: {shapely.is_valid_reason(geoms[i])} (fix it in the source; it is not repaired)",
    )
    if district is not None:
        _check_district(geoms, district, tolerance_m, source, faults)
    return geoms


def _check_district(geoms: np.ndarray, district: shapely.Geometry, tolerance_m: float, source: str,
                    faults: Faults) -> None:
    """Every feature must be covered by the district grown by ``tolerance_m`` metres.

    Features inside the district itself are settled in degrees; only the rest
    (normally none) are projected to metres, as projecting costs ~1 µs a vertex.
    """
    if shapely.get_type_id(district) not in (3, 6) or not shapely.is_valid(district):
        raise ValueError("district must be a valid (Multi)Polygon in EPSG:4326")
    prepared = shapely.from_wkb(shapely.to_wkb(district))  # prepare a copy, not the caller's object
    shapely.prepare(prepared)
    inside = shapely.covers(prepared, geoms) | shapely.is_missing(geoms)
    if inside.all():
        return
    c = district.centroid
    local = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={c.y} +lon_0={c.x} +datum=WGS84 +units=m +no_defs")
    to_local = pyproj.Transformer.from_crs("EPSG:4326", local, always_xy=True)

    def project(g: object) -> np.ndarray:
        return shapely.transform(g, lambda x, y: to_local.transform(x, y), interleaved=False)

    # Edges are straight in lon/lat (as PostGIS sees them): densify before projecting.
    area = project(shapely.segmentize(district, 0.001))
    zone = shapely.buffer(area, tolerance_m)
    rest = np.flatnonzero(~inside)
    local_rest = project(geoms[rest])
    outside = np.zeros(len(geoms), bool)
    outside[rest] = ~shapely.covers(zone, local_rest)

    def shifted(i: int) -> bool:
        """Would the feature be inside if its numbers were GCJ-02 or BD-09? Only then is the hint right."""
        for datum in ("gcj02", "bd09"):
            moved = project(convert_geometries(np.array([geoms[i]]), datum))[0]
            if shapely.covers(zone, moved):
                return True
        return False

    def message(i: int) -> str:
        local = local_rest[np.searchsorted(rest, i)]
        gap = float(shapely.distance(area, local))
        if gap > tolerance_m:
            where = f"lies {gap:,.0f} m outside"
        else:  # how far its farthest vertex reaches, so the user can judge the outline against the file
            vertices = shapely.points(shapely.get_coordinates(shapely.segmentize(local, 5)))
            reach = float(shapely.distance(area, vertices).max())
            where = f"reaches {reach:,.0f} m beyond"
        hint = ("; a GCJ-02/BD-09 file sits a few hundred metres off: try --crs gcj02 or bd09"
                if 100 < gap < 2000 and shifted(i) else "")
        return f"{where} the district (tolerance {tolerance_m:g} m; --tolerance sets it){hint}"

    faults.check(outside, source, "geometry", message)


class Faults:
    """Where :func:`validate` puts what it finds: raise on the first (the default), or note every faulty feature.

    Parameters
    ----------
    skip
        False: the first fault raises (all or nothing). True: each faulty
        feature is noted with its first fault and the check goes on, so a
        partial load can write the rest and a dry run can count them.
    labels
        The frame's index: feature numbers as in the file (a mapping's filter
        leaves gaps), so messages name the feature a user can find.
    """

    def __init__(self, *, skip: bool = False, labels: Sequence[int] | None = None) -> None:
        self.skip = skip
        self.labels = None if labels is None else np.asarray(labels)
        self.rejected: dict[int, LoadError] = {}  # row position -> its first fault

    def label(self, i: int) -> int:
        """The feature number of row position ``i``."""
        return int(self.labels[i]) if self.labels is not None else i

    def check(self, mask: np.ndarray, source: str, field_name: str | None, message: Callable[[int], str]) -> None:
        """Raise for the first True in ``mask``, or note every one not noted yet."""
        if not self.skip:
            hits = np.flatnonzero(mask)
            if hits.size:
                i = int(hits[0])
                more = hits.size - 1
                tail = f" (and {more} more feature{'s' if more > 1 else ''})" if more else ""
                raise LoadError(message(i) + tail, source=source, feature=self.label(i), field=field_name)
            return
        for i in np.flatnonzero(mask).tolist():
            if i not in self.rejected:
                self.rejected[i] = LoadError(message(i), source=source, feature=self.label(i), field=field_name)


def raise_first(
    mask: np.ndarray, source: str, field_name: str | None, message: Callable[[int], str]
) -> None:
    """Raise a LoadError for the first True in ``mask``, counting the rest."""
    hits = np.flatnonzero(mask)
    if hits.size == 0:
        return
    i = int(hits[0])
    more = hits.size - 1
    tail = f" (and {more} more feature{'s' if more > 1 else ''})" if more else ""
    raise LoadError(message(i) + tail, source=source, feature=i, field=field_name)
