"""Field mappings: a district's file goes in unchanged, a short TOML file says how it is read.

Why: real files name their fields in their own way (``adcode``, ``RNAME``,
``EVENT_TYPE_NAME``), mix several kinds of feature in one file (district,
streets, communities and grids together) and spell their values in their own
words (``网格员关闭``). Editing the file is error-prone and must be redone with
every new export; a mapping is written once and kept beside the load script.

A mapping, every table optional::

    layer = "admin_areas"          # the layer it is written for (checked)
    crs = "gcj02"                  # the file's CRS when it names none or a wrong one
    sheet = "Sheet1"               # GeoPackage layer / XLSX sheet / KML folder
    merge_parts = true             # features sharing a code are parts of one area

    [geometry]                     # CSV/XLSX only: where the coordinates are
    lon = "WGS84_X"
    lat = "WGS84_Y"                # or: wkt = "WKT"

    [filter]                       # keep rows whose source field has one of these values
    level = ["street", "community"]

    [fields]                       # layer field = source field (a list is joined with "/")
    code = "adcode"                # "$feature": the file's name and feature number, for files with no ids
    category = ["EVENT_TYPE_NAME", "MAIN_TYPE_NAME", "SUB_TYPE_NAME"]

    [values.state]                 # source value -> layer value; "*" catches the rest
    "网格员关闭" = "closed"

    [fixed]                        # the same value on every row
    zone = "urban"

Without a mapping, or for fields it does not name, well-known source names are
recognised (:data:`WELL_KNOWN`: DataV's ``adcode``, OSM's
``building:levels``, ``height``, …).
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import geopandas
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gis_data.readers import TableGeometry
from layers.errors import LoadError

__all__ = ["Mapping", "read_mapping", "apply_mapping", "cell_text", "WELL_KNOWN", "FEATURE"]

#: a mapping's value for "the feature's own number": a stable id for a file that has none
FEATURE = "$feature"

log = logging.getLogger(__name__)

Scalar = str | int | float | bool

#: layer field -> source names recognised without a mapping (first found wins; exact name, then any case)
WELL_KNOWN: dict[str, tuple[str, ...]] = {
    "code": ("adcode", "编码", "代码"),
    "name": ("名称",),
    "height": ("height", "高度", "BHEIGH"),
    "floors": ("building:levels", "levels", "层数", "楼层数", "FLONUM"),
}


class _Geometry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lon: str | None = None
    lat: str | None = None
    wkt: str | None = None


class Mapping(BaseModel):
    """How one source file feeds one layer (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    layer: str | None = None
    crs: str | None = None
    sheet: str | None = None
    merge_parts: bool = False
    geometry: _Geometry = Field(default_factory=_Geometry)
    filter: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    fields: dict[str, str | list[str]] = Field(default_factory=dict)
    values: dict[str, dict[str, Scalar | None]] = Field(default_factory=dict)
    fixed: dict[str, Scalar] = Field(default_factory=dict)

    @property
    def table_geometry(self) -> TableGeometry:
        """The CSV/XLSX geometry columns, for the reader."""
        return TableGeometry(self.geometry.lon, self.geometry.lat, self.geometry.wkt)


def read_mapping(path: str | Path) -> Mapping:
    """Read and check a mapping file.

    Raises
    ------
    LoadError
        An unreadable file, TOML syntax, or a key the mapping does not know
        (named with its table, e.g. ``fields.code``).
    """
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except OSError as err:
        raise LoadError(f"cannot read the mapping: {err.strerror or err}", source=p.name) from err
    except tomllib.TOMLDecodeError as err:
        raise LoadError(f"is not valid TOML: {err}", source=p.name) from err
    try:
        return Mapping.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise LoadError(f"{where}: {first['msg']}", source=p.name, field=where) from err


def cell_text(v: object) -> str | None:
    """A cell as stripped text (3201050.0 read as a float is '3201050'); null, NaN and blank are None."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    text = str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()
    return text or None


def _texts(series: pd.Series) -> pd.Series:
    """A column as :func:`cell_text` (object dtype: pandas would turn the Nones into NaN)."""
    return pd.Series([cell_text(v) for v in series], index=series.index, dtype=object)


def _column(gdf: geopandas.GeoDataFrame, name: str, source: str, key: str) -> pd.Series:
    if name not in gdf.columns:
        have = ", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name)
        raise LoadError(f"the mapping's {key} names the column {name!r}, which the file does not have; it has: "
                        f"{have}", source=source, field=name)
    return gdf[name]


def apply_mapping(gdf: geopandas.GeoDataFrame, mapping: Mapping | None, *, source: str,
                  wanted: tuple[str, ...] = ()) -> tuple[geopandas.GeoDataFrame, list[str]]:
    """Filter, rename, translate and fix a source frame's fields for a layer.

    Parameters
    ----------
    gdf
        As read from the file, index 0..n-1 (the rows' feature numbers).
    mapping
        The mapping, or ``None`` for well-known names only.
    source
        The file, for messages.
    wanted
        The layer's fields (and pseudo-fields such as ``height``), for the
        well-known names.

    Returns
    -------
    (frame, notes)
        The frame keeps the source's feature numbers as its index (a filter
        leaves gaps: messages still name the feature as in the file); notes
        say what was recognised or dropped, for the load report.
    """
    mapping = mapping or Mapping()
    notes: list[str] = []
    keep = pd.Series(True, index=gdf.index)
    for name, allowed in mapping.filter.items():
        values = allowed if isinstance(allowed, list) else [allowed]
        keep &= _texts(_column(gdf, name, source, f"filter.{name}")).isin([str(v) for v in values])
    if not keep.all():
        notes.append(f"{int((~keep).sum())} of {len(gdf)} features left out by the mapping's filter")
        gdf = gdf[keep.to_numpy()]
    out: dict[str, pd.Series] = {}
    for target, spec in mapping.fields.items():
        if spec == FEATURE:
            out[target] = pd.Series([f"{Path(source).stem}#{i}" for i in gdf.index], index=gdf.index, dtype=object)
        elif isinstance(spec, list):
            parts = [_texts(_column(gdf, s, source, f"fields.{target}")) for s in spec]
            joined = pd.concat(parts, axis=1).apply(lambda r: "/".join(v for v in r if v), axis=1)
            out[target] = joined.where(joined != "", None)
        else:
            out[target] = _column(gdf, spec, source, f"fields.{target}")
    used = {s for spec in mapping.fields.values() for s in (spec if isinstance(spec, list) else [spec])}
    for column in gdf.columns:
        if column != gdf.geometry.name and column not in out and column not in mapping.fields:
            out.setdefault(str(column), gdf[column])
    lower = {str(c).lower(): str(c) for c in gdf.columns}
    for target in wanted:
        if target in mapping.fields or target in mapping.fixed or target in gdf.columns:
            continue
        for name in WELL_KNOWN.get(target, ()):
            found = name if name in gdf.columns else lower.get(name.lower())
            if found is not None and found not in used:
                out[target] = gdf[found]
                notes.append(f"field {target} read from {found!r}")
                break
    for target, table in mapping.values.items():
        if target not in out:
            raise LoadError(f"the mapping's values.{target} names a field that no source field feeds",
                            source=source, field=target)
        text = _texts(out[target])
        default = table.get("*", ...)
        mapped = text.map(lambda v: table.get(v, v if default is ... else default) if v is not None else
                          table.get("", None))
        out[target] = mapped
    for target, value in mapping.fixed.items():
        out[target] = pd.Series([value] * len(gdf), index=gdf.index, dtype=object)
    frame = geopandas.GeoDataFrame(out, geometry=gdf.geometry.to_numpy(), index=gdf.index, crs=gdf.crs)
    return frame, notes
