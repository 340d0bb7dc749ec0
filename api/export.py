"""Layers and area figures as files an office opens: CSV, Excel, GeoPackage, Shapefile, GeoParquet.

Why through :func:`api.features.feature_page`: an export is the same rows as
``/layers/{layer}`` — the same filters, bbox, grid version and the same
access rule (:mod:`api.access`) — only all of them and in another form, so
it reads them page by page down the one path the layer reads take and never
learns a second way to select rows. CSV and Excel carry the geometry as WKT;
GeoPackage, Shapefile (zipped: a Shapefile is several files) and GeoParquet
carry it as geometry, in WGS 84.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, DateTime

from api.features import Scope, ServedLayer, feature_page
from layers.errors import LoadError

__all__ = ["FORMATS", "TABLE_FORMATS", "ExportFile", "check_format", "layer_frame", "export_layer", "export_table",
           "export_area_figures"]

#: format → (media type, file suffix)
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
    "shp": ("application/zip", "shp.zip"),
    "parquet": ("application/vnd.apache.parquet", "parquet"),
}
#: the formats of a table without geometry (area figures)
TABLE_FORMATS = ("csv", "xlsx")
#: the columns of an area's figures (``command.kpi.area_kpis``), in the order of the file
_AREA_COLUMNS = ["id", "code", "name", "total", "closed", "overdue", "closure_rate", "on_time_rate"]
_PAGE = 10_000


@dataclass(frozen=True)
class ExportFile:
    """A file to hand over: its bytes, media type and a download name."""

    content: bytes
    media_type: str
    filename: str


def check_format(fmt: str, allowed: tuple[str, ...] = tuple(FORMATS)) -> str:
    """``fmt`` if it is one of ``allowed``, else LoadError naming the ``format`` field and the choices."""
    if fmt not in allowed:
        why = " (a table without geometry has no GeoPackage, Shapefile or GeoParquet form)" \
            if fmt in FORMATS else ""
        raise LoadError("no export format '{fmt}'{why}; formats are: {formats}", fmt=fmt, why=why,
                        formats=allowed, field="format")
    return fmt


def layer_frame(conn: Connection, layer: ServedLayer, scope: Scope) -> gpd.GeoDataFrame:
    """Every feature of ``layer`` in ``scope``, id order, as a GeoDataFrame (EPSG:4326); JSON values as text."""
    features: list[dict] = []
    offset = 0
    while True:
        page = feature_page(conn, layer, scope, limit=_PAGE, offset=offset)
        features.extend(json.loads(f) for f in page.features)
        if not page.has_next:
            break
        offset += _PAGE
    rows = [{c: _flat(f["properties"].get(c)) for c in layer.properties} for f in features]
    from shapely.geometry import shape

    geoms = [shape(f["geometry"]) if f["geometry"] else None for f in features]
    frame = gpd.GeoDataFrame(rows, columns=list(layer.properties), geometry=geoms, crs="EPSG:4326")
    frame.attrs["times"] = [c for c in layer.properties if isinstance(layer.table.c[c].type, DateTime)]
    return frame


def _flat(value: object) -> object:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value


def export_layer(frame: gpd.GeoDataFrame, name: str, fmt: str) -> ExportFile:
    """``frame`` (of layer ``name``) written in ``fmt``."""
    media, suffix = FORMATS[check_format(fmt)]
    if fmt in TABLE_FORMATS:
        table = frame.drop(columns="geometry")
        table["geometry"] = [g.wkt if g is not None else None for g in frame.geometry]
        return export_table(list(table.columns), table.itertuples(index=False), name, fmt)
    frame = frame.copy()
    for column in frame.attrs.get("times", ()):
        # typed in the formats that carry a time (CSV and Excel keep the ISO text, offset and all)
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    with tempfile.TemporaryDirectory() as tmp:
        if fmt == "parquet":
            buf = io.BytesIO()
            frame.to_parquet(buf, index=False)
            content = buf.getvalue()
        elif fmt == "gpkg":
            path = Path(tmp) / f"{name}.gpkg"
            frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
            content = path.read_bytes()
        else:
            content = _shapefile_zip(frame, name, Path(tmp))
    return ExportFile(content, media, f"{name}.{suffix}")


def _shapefile_zip(frame: gpd.GeoDataFrame, name: str, tmp: Path) -> bytes:
    with warnings.catch_warnings():
        # a Shapefile's field names are 10 characters; GDAL shortens longer ones and says so
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)
        frame.to_file(tmp / f"{name}.shp", driver="ESRI Shapefile", engine="pyogrio", encoding="UTF-8")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(tmp.glob(f"{name}.*")):
            zf.write(part, part.name)
    return buf.getvalue()


def _cell(value: object) -> object:
    """NaN (pandas' missing number) → an empty cell."""
    return None if isinstance(value, float) and value != value else value


def export_table(columns: list[str], rows, name: str, fmt: str) -> ExportFile:
    """A plain table (header ``columns``, then ``rows``) as CSV (UTF-8 with BOM, for Excel) or xlsx."""
    media, suffix = FORMATS[check_format(fmt, TABLE_FORMATS)]
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(columns)
        writer.writerows([_cell(v) for v in row] for row in rows)
        return ExportFile(("\ufeff" + text.getvalue()).encode(), media, f"{name}.{suffix}")
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(name[:31])
    sheet.append(columns)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    return ExportFile(buf.getvalue(), media, f"{name}.{suffix}")


def export_area_figures(areas, level: str, fmt: str) -> ExportFile:
    """Every area's figures (``area_kpis(...).areas``) of ``level`` as one table, a row an area."""
    return export_table(_AREA_COLUMNS, [[getattr(a, c) for c in _AREA_COLUMNS] for a in areas], f"kpis_{level}", fmt)
