"""Bring a district's own files in unchanged: ``gridwall load`` and ``gridwall district init``.

One path for every file and layer::

    read (any format) → mapping (filter, rename, values, fixed) → WGS 84 → Z dropped
    → layer preparation (parts joined, parents found, buildings estimated, repairs on request)
    → validation (every fault noted) → write (all or nothing, or the good features)

Default is all or nothing, as before. On request a load writes what is good
and writes the refused features, each with its reason, to a CSV a user can
open (``on_error="skip"``, ``rejects``); a dry run does everything but keep
the write, and reports what would load, what would be refused and every
source value that maps to nothing. Every fault names file, feature, field and
fault; nothing is repaired silently (``repair`` runs ``make_valid`` and says
how many it repaired).

Events are a history load (:mod:`command.history`): classified and routed as
intake does, with the source's own state, closing time and on-time verdict,
duplicates reported instead of merged.
"""

from __future__ import annotations

import csv
import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import geopandas
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, text

from gis_data.mapping import Mapping, apply_mapping, cell_text
from gis_data.readers import read_vector, to_wgs84
from gis_data.settings import ImportSettings
from gis_data.specs import spec_for
from gis_data.validation import Faults, LayerSpec, validate
from layers import models as m
from layers.errors import LoadError

__all__ = ["ImportOptions", "LoadReport", "import_file", "init_district", "HISTORY_SPEC"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

#: what an events file feeds: a history load (see command.history)
HISTORY_SPEC = LayerSpec(
    "events", frozenset({"Point"}),
    required={"external_id": "str", "channel": "str", "category": "str", "reported_at": "datetime"},
    optional={"category_source": "str", "closed_at": "datetime", "state": "str", "on_time": "bool", "title": "str",
              "address": "str", "community": "str", "street": "str", "department": "str"},
    choices={"channel": m.EVENT_CHANNELS, "state": m.EVENT_STATES},
    geometry_optional=True,
)


def _noop(_share: float, _stage: str) -> None:
    return None


@dataclass(frozen=True)
class ImportOptions:
    """How a file is loaded (the command line's options)."""

    crs: str | None = None
    source_layer: str | None = None
    mapping: Mapping | None = None
    on_error: Literal["raise", "skip"] = "raise"
    repair: bool = False
    dry_run: bool = False
    actor: str = "system"
    settings: ImportSettings | None = None
    tolerance_m: float = 50.0  # how far a feature may reach beyond the district outline


@dataclass
class LoadReport:
    """What a load did, or in a dry run would do."""

    source: str
    layer: str
    dry_run: bool = False
    read: int = 0
    selected: int = 0
    written: int = 0
    rejected: dict[int, LoadError] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    unmapped: dict[str, Counter] = field(default_factory=dict)  # field -> source value -> count

    def lines(self) -> list[str]:
        """The report as a user reads it."""
        verb = "would load" if self.dry_run else "loaded"
        out = [f"{self.source}: {self.read:,} features read, {self.selected:,} selected, {verb} {self.written:,} "
               f"into {self.layer}, {len(self.rejected):,} refused"]
        out += [f"  note: {n}" for n in self.notes]
        reasons = Counter(_reason(e) for e in self.rejected.values())
        out += [f"  refused {n:,}×: {why}" for why, n in reasons.most_common(10)]
        for name, values in self.unmapped.items():
            listed = ", ".join(f"{v!r} ({n})" for v, n in values.most_common(25))
            out.append(f"  {len(values)} values of {name} map to nothing: {listed}")
        return out

    def write_rejects(self, path: Path, frame: geopandas.GeoDataFrame) -> int:
        """The refused features, each with its reason and its source attributes, as a UTF-8 CSV (opens in Excel)."""
        columns = [str(c) for c in frame.columns if c != frame.geometry.name]
        with open(path, "w", newline="", encoding="utf-8-sig") as out:
            writer = csv.writer(out)
            writer.writerow(["feature", "field", "reason", *columns, "wkt"])
            for label in sorted(self.rejected):
                err = self.rejected[label]
                row = frame.loc[label] if label in frame.index else None
                values = ["" if row is None or pd.isna(row[c]) else row[c] for c in columns]
                geom = None if row is None else row[frame.geometry.name]
                writer.writerow([label, err.field or "", err.message, *values,
                                 "" if geom is None or shapely.is_missing(geom) else shapely.to_wkt(geom, 7)])
        return len(self.rejected)


_NUMBER = re.compile(r"\d[\d,.]*")


def _reason(err: LoadError) -> str:
    """A fault without its feature's particulars, for counting alike faults."""
    message = err.message
    for cut in (" (", ": '", " '", ": ("):
        if cut in message:
            message = message.split(cut)[0]
    message = _NUMBER.sub("#", message)  # "reaches 64 m" and "reaches 181 m" are one reason
    return f"{err.field or ''}: {message}".strip(": ")


# -- the one path ---------------------------------------------------------------------
def import_file(conn: Connection, path: Path, layer: str, options: ImportOptions | None = None, *,
                progress: Progress = _noop) -> tuple[LoadReport, geopandas.GeoDataFrame]:
    """Load ``path`` into ``layer`` as ``options`` say; returns the report and the file as read (for rejects).

    Raises
    ------
    LoadError
        Any fault of the file when ``on_error`` is ``raise`` (not in a dry
        run), naming file, feature, field and fault; a mapping written for
        another layer; a source field the mapping names but the file lacks.
    """
    options = options or ImportOptions()
    mapping = options.mapping or Mapping()
    spec = HISTORY_SPEC if layer == "events" else spec_for(layer)
    source = Path(path).name
    if mapping.layer is not None and mapping.layer != layer:
        raise LoadError(f"the mapping is written for layer {mapping.layer}, not {layer}", source=source,
                        field="layer")
    raw = read_vector(path, layer=options.source_layer or mapping.sheet, columns=mapping.table_geometry)
    report = LoadReport(source=source, layer=layer, dry_run=options.dry_run, read=len(raw))
    progress(0.2, "read")
    wanted = (*spec.fields, "height") if layer == "buildings" else tuple(spec.fields)
    gdf, notes = apply_mapping(raw, mapping, source=source, wanted=wanted)
    report.notes += notes
    report.selected = len(gdf)
    if layer == "events" and "external_id" not in gdf.columns:
        gdf["external_id"] = [f"{Path(path).stem}#{i}" for i in gdf.index]
        report.notes.append("the file has no event ids: each event's id is the file's name and its feature number")
    gdf = to_wgs84(gdf, options.crs or mapping.crs, source=source)
    gdf = _drop_z(gdf, report)
    if options.repair:
        gdf = _repair(gdf, spec, report)
    if mapping.merge_parts:
        gdf = _merge_parts(gdf, source, report)
    settings = options.settings or ImportSettings()
    if layer == "buildings":
        gdf = _estimate_buildings(gdf, settings, report)
    skip = options.on_error == "skip" or options.dry_run
    faults = Faults(skip=skip, labels=gdf.index)
    if layer == "admin_areas":
        gdf = _find_parents(conn, gdf, source, faults)
    progress(0.4, "checking")
    with conn.begin_nested() as savepoint:
        _write(conn, gdf, layer, spec, source, options, faults, report, skip)
        if options.dry_run:
            savepoint.rollback()
    progress(0.95, "written")
    return report, raw


def _write(conn: Connection, gdf: geopandas.GeoDataFrame, layer: str, spec: LayerSpec, source: str,
           options: ImportOptions, faults: Faults, report: LoadReport, skip: bool) -> None:
    from gis_data.load import district_outline, load_frame_checked

    district = None if layer in ("admin_areas", "water") else district_outline(conn)
    clean = validate(gdf, spec, source=source, district=district, district_tolerance_m=options.tolerance_m,
                     faults=faults)
    report.rejected.update({faults.label(i): err for i, err in faults.rejected.items()})
    clean = clean.drop(index=[faults.label(i) for i in faults.rejected])
    if layer == "events":
        from command.history import import_events

        rows = pd.DataFrame(clean.drop(columns="geometry"))
        present = ~shapely.is_missing(clean.geometry.to_numpy())
        rows["lon"] = np.where(present, shapely.get_x(clean.geometry.to_numpy()), np.nan)
        rows["lat"] = np.where(present, shapely.get_y(clean.geometry.to_numpy()), np.nan)
        result = import_events(conn, rows, actor=options.actor, source=source, skip=skip)
        report.rejected.update(result.rejected)
        report.written = result.created
        if result.unmapped:
            report.unmapped["category"] = result.unmapped
        if result.existing:
            report.notes.append(f"{result.existing:,} events were registered before (same channel and id): kept")
        if result.street_fallbacks:
            report.notes.append(f"{result.street_fallbacks:,} events name a community the district does not have: "
                                "routed to their street")
        report.notes.append(f"duplicates are not merged in a history load: {result.would_merge:,} events would have "
                            "been merged into an earlier one by intake")
        report.notes.append("located by " + ", ".join(f"{k} {n:,}" for k, n in sorted(result.by_location.items())))
        return
    while True:  # a code naming nothing in the store is found by the write; skip it and write the rest
        try:
            with conn.begin_nested():
                report.written = load_frame_checked(conn, clean, layer, source=source, actor=options.actor)
            return
        except LoadError as err:
            if not skip or err.feature is None or len(report.rejected) > 10_000:
                raise
            label = clean.index[err.feature]
            report.rejected[label] = LoadError(err.message.split(" (and ")[0], source=source, feature=label,
                                               field=err.field)
            clean = clean.drop(index=label)


# -- preparation -----------------------------------------------------------------------
def _drop_z(gdf: geopandas.GeoDataFrame, report: LoadReport) -> geopandas.GeoDataFrame:
    geoms = gdf.geometry.to_numpy()
    has_z = shapely.has_z(geoms)
    if not has_z.any():
        return gdf
    report.notes.append(f"Z coordinates dropped from {int(has_z.sum()):,} features (the store is 2-D; heights "
                        "belong in a field such as height or floors)")
    return gdf.set_geometry(shapely.force_2d(geoms), crs=gdf.crs)


def _repair(gdf: geopandas.GeoDataFrame, spec: LayerSpec, report: LoadReport) -> geopandas.GeoDataFrame:
    geoms = gdf.geometry.to_numpy().copy()
    bad = ~shapely.is_missing(geoms) & ~shapely.is_valid(geoms)
    if not bad.any():
        return gdf
    fixed = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    polygonal = {"Polygon", "MultiPolygon"} & set(spec.geometry_types)
    if polygonal:  # a repaired polygon may shed slivers as lines or points: keep its area
        fixed = np.array([_polygons_of(g) for g in fixed], dtype=object)
    geoms[bad] = fixed
    labels = ", ".join(str(x) for x in gdf.index[bad][:10])
    report.notes.append(f"{int(bad.sum()):,} invalid geometries repaired with make_valid (features {labels})")
    return gdf.set_geometry(geoms, crs=gdf.crs)


def _polygons_of(g: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(g) if shapely.get_type_id(p) in (3, 6)]
    return shapely.union_all(parts) if parts else g


def _merge_parts(gdf: geopandas.GeoDataFrame, source: str, report: LoadReport) -> geopandas.GeoDataFrame:
    """Features sharing a code are parts of one area: one row (the first's fields), the union of their shapes."""
    if "code" not in gdf.columns:
        raise LoadError("merge_parts joins features by code, and no field feeds code", source=source, field="code")
    codes = gdf["code"].astype(object).where(gdf["code"].notna(), None)
    # an invalid part stays a feature of its own, for validation to name (nothing is repaired silently)
    valid = pd.Series(shapely.is_valid(gdf.geometry.to_numpy()) | shapely.is_missing(gdf.geometry.to_numpy()),
                      index=gdf.index)
    codes = codes.where(valid, None)
    repeated = codes.notna() & codes.duplicated(keep=False)
    if not repeated.any():
        return gdf
    first = ~codes.duplicated(keep="first") | codes.isna()
    union: dict[object, shapely.Geometry] = {}
    for code, part in gdf[repeated].groupby(codes[repeated], sort=False):
        shapes = [g for g in part.geometry.to_numpy() if g is not None]
        union[code] = shapely.union_all(shapes) if shapes else None
    out = gdf[first.to_numpy()].copy()
    hit = out["code"].isin(union.keys()).to_numpy()
    geoms = out.geometry.to_numpy().copy()
    geoms[hit] = [_polygons_of(union[c]) for c in out.loc[hit, "code"]]
    out = out.set_geometry(geoms, crs=gdf.crs)
    report.notes.append(f"{int(repeated.sum()):,} features sharing {len(union):,} codes joined, one area per code "
                        "(merge_parts)")
    return out


def _find_parents(conn: Connection, gdf: geopandas.GeoDataFrame, source: str,
                  faults: Faults) -> geopandas.GeoDataFrame:
    """Each street's and community's parent code: as given (by code or by name), else found by location.

    A street's parent is the district (there is one per store); a
    community's is the street of the file or the store that holds most of it.
    A district's metric CRS is its CGCS2000 Gauss–Krüger zone.
    """
    if "level" not in gdf.columns:
        return gdf
    gdf = gdf.copy()
    level = gdf["level"].astype(object)
    given = [cell_text(v) for v in gdf["parent_code"]] if "parent_code" in gdf.columns else [None] * len(gdf)
    stored = pd.DataFrame(conn.execute(text(
        "SELECT code, name, level, ST_AsBinary(geom) AS wkb FROM admin_area")).all(),
        columns=["code", "name", "level", "wkb"])
    areas = pd.concat([
        pd.DataFrame({"code": gdf.get("code"), "name": gdf.get("name"), "level": level,
                      "geom": gdf.geometry.to_numpy()}),
        pd.DataFrame({"code": stored["code"], "name": stored["name"], "level": stored["level"],
                      "geom": [None if w is None else shapely.from_wkb(bytes(w)) for w in stored["wkb"]]}),
    ], ignore_index=True).drop_duplicates("code")
    upper = {"street": "district", "community": "street"}
    parents = []
    missing = np.zeros(len(gdf), bool)
    reasons: dict[int, str] = {}
    for pos, (lv, want, geom) in enumerate(zip(level, given, gdf.geometry.to_numpy())):
        up = upper.get(lv)
        if up is None:
            parents.append(None)
            if lv == "district" and (geom is None or shapely.is_missing(geom)):
                reasons[pos] = "a district needs its outline: this one has no geometry"
                missing[pos] = True
            continue
        candidates = areas[areas["level"] == up]
        if want is not None:
            if (candidates["code"] == want).any():
                parents.append(want)
                continue
            named = candidates[candidates["name"] == want]
            if len(named) == 1:
                parents.append(named["code"].iloc[0])
                continue
            reasons[pos] = (f"parent_code {want!r} is the code or name of no {up} in the file or the store"
                            if named.empty else f"parent_code {want!r} names {len(named)} {up}s: give a code")
        elif up == "district" and len(candidates) == 1:
            parents.append(candidates["code"].iloc[0])
            continue
        elif geom is not None and not shapely.is_missing(geom):
            found = _holder(geom, candidates)
            if found is not None:
                parents.append(found)
                continue
            reasons[pos] = f"no parent_code, and no {up} of the file or the store holds it"
        else:
            reasons[pos] = (f"no parent_code, and {len(candidates)} {up}s to choose from" if up == "district" else
                            f"no parent_code and no geometry to find its {up} by: map parent_code to its {up}")
        parents.append(None)
        missing[pos] = True
    faults.check(missing, source, "parent_code", lambda i: reasons[i])
    gdf["parent_code"] = parents
    return gdf


def _holder(geom: shapely.Geometry, candidates: pd.DataFrame) -> str | None:
    """The candidate area covering the largest part of ``geom`` (degrees are fine for a comparison)."""
    g = geom if shapely.is_valid(geom) else shapely.make_valid(geom)
    best, best_area = None, 0.0
    point = shapely.point_on_surface(g)
    for code, other in zip(candidates["code"], candidates["geom"]):
        if other is None:
            continue
        if shapely.covers(other, point):
            return code
        share = shapely.area(shapely.intersection(g, other if shapely.is_valid(other) else shapely.make_valid(other)))
        if share > best_area:
            best, best_area = code, share
    return best


def _estimate_buildings(gdf: geopandas.GeoDataFrame, settings: ImportSettings,
                        report: LoadReport) -> geopandas.GeoDataFrame:
    """Floors from height, households and population from floors and footprint, where the source has none."""
    gdf = gdf.copy()
    n = len(gdf)

    def numbers(name: str) -> pd.Series:
        if name not in gdf.columns:
            return pd.Series(np.nan, index=gdf.index)
        return pd.to_numeric(gdf[name].astype(object).map(lambda v: str(v).strip() if v is not None else v),
                             errors="coerce")

    floors, height = numbers("floors"), numbers("height")
    from_height = floors.isna() & height.notna() & (height > 0)
    if from_height.any():
        floors[from_height] = np.maximum(1, np.round(height[from_height] / settings.floor_height_m))
        report.notes.append(f"floors estimated from height for {int(from_height.sum()):,} of {n:,} buildings "
                            f"({settings.floor_height_m:g} m a floor)")
    households, population = numbers("households"), numbers("population")
    need = households.isna()
    if need.any():
        area = _areas_m2(gdf.geometry.to_numpy())
        storeys = floors.fillna(1).clip(lower=1)
        estimate = np.round(area * storeys * settings.residential_share / settings.m2_per_household)
        households[need] = estimate[need]
        over = need & (households > settings.max_households)
        if over.any():
            worst = households[over].idxmax()
            report.notes.append(
                f"{int(over.sum()):,} buildings' household estimate is over the cap of {settings.max_households:,}: "
                f"held at the cap (largest: feature {worst}, {int(households[worst]):,} estimated)")
            households[over] = settings.max_households
        report.notes.append(f"households estimated from footprint and floors for {int(need.sum()):,} of {n:,} "
                            f"buildings ({settings.m2_per_household:g} m² a household)")
    need_pop = population.isna() & households.notna()
    if need_pop.any():
        population[need_pop] = np.minimum(np.round(households[need_pop] * settings.persons_per_household),
                                          settings.max_population)
        report.notes.append(f"population estimated for {int(need_pop.sum()):,} buildings "
                            f"({settings.persons_per_household:g} persons a household)")
    unknown = floors.isna()
    if unknown.any():
        floors[unknown] = 1
        report.notes.append(f"{int(unknown.sum()):,} buildings have neither floors nor height: taken as one floor")
    gdf["floors"] = floors.astype("Int64")
    gdf["households"] = households.astype("Int64")
    gdf["population"] = population.astype("Int64")
    return gdf.drop(columns=[c for c in ("height",) if c in gdf.columns])


def _areas_m2(geoms: np.ndarray) -> np.ndarray:
    """Footprint areas in m², in the UTM zone of the footprints (0 where there is none)."""
    shapes = geopandas.GeoSeries(geoms, crs="EPSG:4326")
    return shapes.to_crs(shapes.estimate_utm_crs()).area.fillna(0).to_numpy()


# -- a district from its outline --------------------------------------------------------
def init_district(conn: Connection, path: Path, *, code: str | None = None, name: str | None = None,
                  crs: str | None = None, actor: str = "system", dry_run: bool = False) -> LoadReport:
    """Start an empty store's district from an outline file (e.g. DataV's, which holds several).

    The district is picked by code (``adcode``/``code``) or name; a file with
    one feature needs neither. Its metric CRS is chosen from its position
    (CGCS2000 Gauss–Krüger zone).

    Raises
    ------
    LoadError
        No or several features match (the message lists the file's districts),
        or the store already holds another district.
    """
    source = Path(path).name
    raw = read_vector(path)
    code_field = next((c for c in ("adcode", "code", "ADCODE", "CODE") if c in raw.columns), None)
    name_field = next((c for c in ("name", "NAME", "名称") if c in raw.columns), None)
    if code_field is None or name_field is None:
        have = ", ".join(str(c) for c in raw.columns if c != raw.geometry.name)
        raise LoadError(f"an outline file needs a code (adcode or code) and a name field; it has: {have}",
                        source=source)
    codes = pd.Series([cell_text(v) for v in raw[code_field]], index=raw.index, dtype=object)
    pick = pd.Series(True, index=raw.index)
    if code is not None:
        pick &= codes == str(code)
    if name is not None:
        pick &= raw[name_field].astype(str) == name
    listed = ", ".join(f"{c} {n}" for c, n in zip(codes, raw[name_field]))
    if pick.sum() != 1:
        what = "no district matches" if pick.sum() == 0 else f"{int(pick.sum())} districts match"
        hint = "give --code or --name" if code is None and name is None else "check --code/--name"
        raise LoadError(f"{what}; {hint}; the file holds: {listed}", source=source,
                        field=code_field if code is not None else name_field)
    chosen = codes[pick].iloc[0]
    existing = conn.execute(text("SELECT code FROM admin_area WHERE level = 'district'")).scalars().all()
    if existing and existing != [chosen]:
        raise LoadError(f"the store already holds district {existing[0]}; a store holds one district",
                        source=source)
    mapping = Mapping(filter={code_field: chosen}, fields={"code": code_field, "name": name_field},
                      fixed={"level": "district"})
    report, _ = import_file(conn, path, "admin_areas", ImportOptions(crs=crs, mapping=mapping, actor=actor,
                                                                     dry_run=dry_run))
    return report
