"""Read a vector file and bring it to EPSG:4326.

This is the database-free first half of ``gridwall load``: :func:`read_vector`
opens the file (GeoPackage, GeoJSON, Shapefile — zipped or not, with Chinese
attribute encodings —, GeoParquet, KML, and tables: CSV and XLSX with
longitude/latitude columns, a WKT column or no geometry at all, for records
located by name), :func:`to_wgs84` resolves its coordinate
system, including the Chinese GCJ-02/BD-09 datums. The second half,
:func:`gis_data.validation.validate`, checks it against the layer's spec.
Faults raise :class:`~layers.errors.LoadError` naming the file and feature.

Example
-------
>>> gdf = read_vector("grids.gpkg", layer="grids")       # doctest: +SKIP
>>> gdf = to_wgs84(gdf, "gcj02", source="grids.gpkg")    # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import glob
import logging
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from gis_data.coords import DATUMS, convert_geometries
from gis_data.validation import check_lonlat
from layers.errors import LoadError

__all__ = ["read_vector", "to_wgs84", "TableGeometry"]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- reading


def read_vector(path: str | Path, *, layer: str | None = None,
                columns: TableGeometry | None = None) -> geopandas.GeoDataFrame:
    """Read a GeoJSON, GeoPackage, Shapefile (or zipped one), GeoParquet, KML, CSV or XLSX file.

    The format is chosen by extension so that a wrong file gives a message
    about the format the user meant, not GDAL's guess. Rows keep file order
    with a fresh 0..n-1 index: that index is the "feature N" of every later
    message.

    Parameters
    ----------
    path : str or Path
        ``.geojson``/``.json``, ``.gpkg``, ``.shp``, ``.zip`` (holding a
        shapefile) or ``.parquet``/``.geoparquet``.
    layer : str, optional
        GeoPackage layer, shapefile name (without ``.shp``) inside a zip, or
        XLSX sheet. Default: the only, or else the first, layer (logged).
    columns : TableGeometry, optional
        For CSV and XLSX: the columns holding longitude and latitude, or WKT.
        Default: found by name (``lon``/``lng``/``longitude``/``x``/``经度``
        and ``lat``/``latitude``/``y``/``纬度``; ``wkt``/``geometry``); a table
        with none of them has no geometry (every row's is null).

    Returns
    -------
    geopandas.GeoDataFrame
        In the file's own CRS (possibly none); see :func:`to_wgs84`.

    Raises
    ------
    LoadError
        Missing, empty, unreadable or unknown-format file; an absent layer
        (the message lists the layers there are); no geometry; no features.
    """
    p = Path(path)
    source = str(p)
    if not p.is_file():
        raise LoadError("no such file" if not p.exists() else "is a folder, not a file", source=source)
    if p.stat().st_size == 0:
        raise LoadError("the file is empty (0 bytes)", source=source)
    suffix = p.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        known = ", ".join(sorted(_READERS))
        raise LoadError(f"unknown format '{suffix or p.name}': expected one of {known}", source=source)
    gdf = reader(p, layer, source) if suffix not in _TABLES else _read_table(p, layer, source, columns)
    if not isinstance(gdf, geopandas.GeoDataFrame) or gdf.active_geometry_name is None:
        raise LoadError("the file has no geometry column", source=source)
    if len(gdf) == 0:
        raise LoadError("the file holds no features", source=source)
    logger.info("%s: read %d features, CRS %s", source, len(gdf), gdf.crs.to_string() if gdf.crs else "none")
    return gdf.reset_index(drop=True)


@contextlib.contextmanager
def _warnings_caught() -> Iterator[list[warnings.WarningMessage]]:
    """Collect reader warnings (M values dropped, text recoding…) instead of emitting them.

    They are about the user's file, not our code, so they belong in the load
    log (see :func:`_log_warnings`); left as warnings they would also break
    runs with ``-W error``. ``catch_warnings`` is process-wide in Python 3.11,
    so keep the window short.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _log_warnings(source: str, caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        logger.warning("%s: %s", source, w.message)


def _read_ogr(
    target: str, layer: str | None, source: str, what: str, encodings: tuple[str | None, ...] = (None,)
) -> geopandas.GeoDataFrame:
    """Read through pyogrio, trying each text encoding in turn; errors become LoadError.

    An encoding fails when Python cannot decode the text or GDAL reports that
    it could not recode it (a warning, and replacement characters, otherwise).
    """
    for encoding in encodings:
        try:
            with _warnings_caught() as caught:
                gdf = geopandas.read_file(target, layer=layer, engine="pyogrio", encoding=encoding)
        except UnicodeDecodeError:
            continue
        except shapely.errors.GEOSException as err:  # a shape GEOS cannot even build: find and name the feature
            raise _unbuildable(target, layer, encoding, source, err) from err
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as err:
            raise LoadError(f"cannot be read as {what}: {err}", source=source) from err
        if encoding is not None and any("converted correctly" in str(w.message) for w in caught):
            continue
        _log_warnings(source, caught)
        if encoding is not None:
            logger.info("%s: no .cpg file; text read as %s", source, encoding)
        return gdf
    named = [e for e in encodings if e]
    fault = f"its text is neither {' nor '.join(named)}" if named else "its text cannot be decoded"
    raise LoadError(f"{fault}: add a .cpg file naming the encoding", source=source)


#: GEOS's words for shapes it cannot build, and what a planner should look for
_UNBUILDABLE = {
    "do not form a closed linestring": "a ring is not closed (its last point must repeat its first)",
    "Invalid number of points in LinearRing": "a ring has fewer than 4 points (3 corners and the first again)",
    "Invalid number of points in LineString": "a line has fewer than 2 points",
}


def _geos_reason(err: Exception) -> str:
    said = str(err).split(": ", 1)[-1]
    return next((plain for key, plain in _UNBUILDABLE.items() if key in said), said)


def _unbuildable(target: str, layer: str | None, encoding: str | None, source: str, err: Exception) -> LoadError:
    """The first feature whose geometry GEOS cannot build (an unclosed ring, a two-point ring), as a LoadError.

    Why read again: geopandas builds every shape in one call and its error
    names no feature; the raw read gives each feature's WKB to build alone.
    """
    try:
        with _warnings_caught():  # "Non closed ring detected" again: it is what we are looking for
            _meta, _fids, wkbs, _fields = pyogrio.raw.read(target, layer=layer, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError):
        wkbs = []
    for i, wkb in enumerate(wkbs if wkbs is not None else []):
        if wkb is None:
            continue
        try:
            shapely.from_wkb(wkb)
        except shapely.errors.GEOSException as exc:
            return LoadError(f"the geometry cannot be built: {_geos_reason(exc)}; fix it in the source",
                             source=source, feature=i, field="geometry")
    return LoadError(f"a geometry cannot be built: {_geos_reason(err)}; fix it in the source", source=source,
                     field="geometry")


def _shapefile_encodings(cpg: bool, dbf_head: bytes) -> tuple[str | None, ...]:
    """Encodings to try for a shapefile's text.

    Without a ``.cpg`` file or a code page byte in the DBF header, GDAL decodes
    text as ISO-8859-1, which silently garbles Chinese (UTF-8 or GBK) names.
    Chinese shapefiles very often come without ``.cpg``: try strict UTF-8,
    then GB18030 (a superset of GBK), and fail rather than guess further.
    """
    if cpg or (len(dbf_head) > 29 and dbf_head[29] != 0):
        return (None,)  # GDAL knows the encoding
    return ("UTF-8", "GB18030")


def _layer_names(target: str, source: str, what: str) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(target)]
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as err:
        raise LoadError(f"cannot be read as {what}: {err}", source=source) from err


def _pick(names: list[str], layer: str | None, source: str, kind: str) -> str:
    if not names:
        raise LoadError(f"holds no {kind}s", source=source)
    if layer is None:
        if len(names) > 1:
            logger.info("%s: %d %ss (%s); reading the first, %r", source, len(names), kind, ", ".join(names), names[0])
        return names[0]
    if layer not in names:
        raise LoadError(f"has no {kind} {layer!r}; it has: {', '.join(names)}", source=source)
    return layer


def _read_single(p: Path, layer: str | None, source: str) -> geopandas.GeoDataFrame:
    if layer is not None:
        logger.debug("%s: the file has a single layer; ignoring layer=%r", source, layer)
    if p.suffix.lower() != ".shp":
        return _read_ogr(str(p), None, source, "GeoJSON")
    siblings = {q.suffix.lower(): q for q in p.parent.glob(f"{glob.escape(p.stem)}.*")}
    dbf = siblings.get(".dbf")
    head = dbf.read_bytes()[:32] if dbf else b""
    return _read_ogr(str(p), None, source, "a Shapefile", _shapefile_encodings(".cpg" in siblings, head))


def _read_gpkg(p: Path, layer: str | None, source: str) -> geopandas.GeoDataFrame:
    name = _pick(_layer_names(str(p), source, "a GeoPackage"), layer, source, "layer")
    return _read_ogr(str(p), name, source, "a GeoPackage")


def _read_zip(p: Path, layer: str | None, source: str) -> geopandas.GeoDataFrame:
    try:
        with zipfile.ZipFile(p) as z:
            names = [m for m in z.namelist() if not m.startswith("__MACOSX/")]
            shps = {Path(m).stem: m for m in names if m.lower().endswith(".shp")}
            shp = shps[_pick(list(shps), layer, source, "shapefile")]
            base = shp[:-4]
            sidecars = {m[-4:].lower(): m for m in names if m[:-4] == base}
            head = b""
            if ".dbf" in sidecars:
                with z.open(sidecars[".dbf"]) as dbf:
                    head = dbf.read(32)
    except zipfile.BadZipFile as err:
        raise LoadError(f"is not a readable zip archive: {err}", source=source) from err
    encodings = _shapefile_encodings(".cpg" in sidecars, head)
    return _read_ogr(f"/vsizip/{p.resolve()}/{shp}", None, source, "a zipped Shapefile", encodings)


def _read_parquet(p: Path, layer: str | None, source: str) -> geopandas.GeoDataFrame:
    import pyarrow  # geopandas needs it for parquet anyway

    try:
        with _warnings_caught() as caught:
            gdf = geopandas.read_parquet(p)
    except ValueError as err:
        if "geo metadata" in str(err):
            raise LoadError("is plain Parquet, not GeoParquet (no 'geo' metadata)", source=source) from err
        raise LoadError(f"cannot be read as GeoParquet: {err}", source=source) from err
    except (OSError, pyarrow.ArrowException) as err:
        raise LoadError(f"cannot be read as GeoParquet: {err}", source=source) from err
    except shapely.errors.GEOSException as err:
        raise LoadError(f"a geometry cannot be built: {_geos_reason(err)}; fix it in the source", source=source,
                        field="geometry") from err
    _log_warnings(source, caught)
    return gdf


def _read_kml(p: Path, layer: str | None, source: str) -> geopandas.GeoDataFrame:
    names = _layer_names(str(p), source, "KML")
    return _read_ogr(str(p), _pick(names, layer, source, "folder"), source, "KML")


@dataclass(frozen=True)
class TableGeometry:
    """Where a CSV or XLSX table keeps its geometry: longitude and latitude columns, or one WKT column."""

    lon: str | None = None
    lat: str | None = None
    wkt: str | None = None


_LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度")
_LAT_NAMES = ("lat", "latitude", "y", "纬度")
_WKT_NAMES = ("wkt", "geometry", "geom", "the_geom")


def _read_table(p: Path, sheet: str | None, source: str, columns: TableGeometry | None) -> geopandas.GeoDataFrame:
    """A CSV (UTF-8, with or without BOM, else GB18030) or an XLSX sheet, every cell as text."""
    if p.suffix.lower() == ".xlsx":
        try:
            import openpyxl  # noqa: F401  (pandas' engine; named here so a missing one says so)

            frame = pd.read_excel(p, sheet_name=sheet if sheet is not None else 0, dtype=str)
        except (ValueError, KeyError, OSError, zipfile.BadZipFile) as err:
            raise LoadError(f"cannot be read as XLSX: {err}", source=source) from err
    else:
        frame = None
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                frame = pd.read_csv(p, dtype=str, encoding=encoding, skipinitialspace=True)
                break
            except UnicodeDecodeError:
                continue
            except (pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as err:
                raise LoadError(f"cannot be read as CSV: {err}", source=source) from err
        if frame is None:
            raise LoadError("its text is neither UTF-8 nor GB18030", source=source)
    frame.columns = [str(c).strip() for c in frame.columns]
    geometry = _table_geometry(frame, columns or TableGeometry(), source)
    return geopandas.GeoDataFrame(frame, geometry=geometry, crs=None)


def _find(frame: pd.DataFrame, given: str | None, names: tuple[str, ...], source: str) -> str | None:
    if given is not None:
        if given not in frame.columns:
            raise LoadError(f"has no column {given!r}; it has: {', '.join(frame.columns)}", source=source,
                            field=given)
        return given
    lower = {c.lower(): c for c in frame.columns}
    return next((lower[n] for n in names if n in lower), None)


def _table_geometry(frame: pd.DataFrame, columns: TableGeometry, source: str) -> geopandas.GeoSeries:
    wkt = _find(frame, columns.wkt, () if columns.lon else _WKT_NAMES, source)
    if wkt is not None:
        text_values = frame[wkt].where(frame[wkt].notna() & (frame[wkt].str.strip() != ""), None)
        try:
            geoms = shapely.from_wkt(text_values.to_numpy(dtype=object), on_invalid="raise")
        except shapely.errors.GEOSException:
            bad = [i for i, v in enumerate(text_values) if v is not None and shapely.from_wkt(v, on_invalid="ignore")
                   is None]
            raise LoadError(f"{wkt}: {text_values.iloc[bad[0]]!r:.60} is not WKT", source=source, feature=bad[0],
                            field=wkt) from None
        return geopandas.GeoSeries(geoms, index=frame.index)
    lon = _find(frame, columns.lon, _LON_NAMES, source)
    lat = _find(frame, columns.lat, _LAT_NAMES, source)
    if lon is None or lat is None:
        logger.info("%s: no longitude/latitude or WKT column: the rows have no geometry", source)
        return geopandas.GeoSeries([None] * len(frame), index=frame.index)
    xy = {}
    for name in (lon, lat):
        raw = frame[name]
        values = pd.to_numeric(raw.str.strip(), errors="coerce")
        bad = raw.notna() & (raw.str.strip() != "") & values.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise LoadError(f"{name}: {raw.iloc[i]!r} is not a number", source=source, feature=i, field=name)
        xy[name] = values.to_numpy(dtype=float)
    have = ~(np.isnan(xy[lon]) | np.isnan(xy[lat]))
    geoms = np.full(len(frame), None, dtype=object)
    geoms[have] = shapely.points(xy[lon][have], xy[lat][have])
    return geopandas.GeoSeries(geoms, index=frame.index)


_TABLES = (".csv", ".txt", ".xlsx")

_READERS: dict[str, Callable[[Path, str | None, str], geopandas.GeoDataFrame]] = {
    ".geojson": _read_single,
    ".json": _read_single,
    ".shp": _read_single,
    ".gpkg": _read_gpkg,
    ".zip": _read_zip,
    ".parquet": _read_parquet,
    ".geoparquet": _read_parquet,
    ".kml": _read_kml,
    ".csv": _read_table,  # read by _read_table, which also takes the geometry columns
    ".txt": _read_table,
    ".xlsx": _read_table,
}


# --------------------------------------------------------------------------- coordinate systems


def to_wgs84(gdf: geopandas.GeoDataFrame, crs: str | None, *, source: str) -> geopandas.GeoDataFrame:
    """Bring a frame to EPSG:4326, honouring a user-given CRS or Chinese datum.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        As read by :func:`read_vector`.
    crs : str or None
        Overrides the file's CRS. ``"gcj02"`` or ``"bd09"`` (also spelt
        ``GCJ-02``/``BD-09``): the numbers are longitude/latitude in that
        datum and are shifted to WGS-84. Anything else (``"EPSG:32650"``, a
        WKT, a PROJ string…) is parsed by pyproj and reprojected from. None:
        use the file's CRS, or assume EPSG:4326 when it names none.
    source : str
        The file, for messages.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4326.

    Raises
    ------
    LoadError
        Unknown CRS; numbers taken as longitude/latitude that cannot be
        (projected metres in a file that names no CRS or a geographic one);
        a reprojection that gives non-finite or out-of-range coordinates.
    """
    datum = crs.strip().lower().replace("-", "").replace("_", "") if crs else None
    if datum in DATUMS:
        if gdf.crs is not None and not gdf.crs.is_geographic:
            logger.warning("%s: declared CRS %s overridden: numbers taken as %s lon/lat", source, gdf.crs, datum)
        check_lonlat(gdf.geometry.to_numpy(), source, f"--crs {crs} says they are {datum} longitude/latitude")
        out = gdf.set_geometry(convert_geometries(gdf.geometry, datum))  # type: ignore[arg-type]
        return out.set_crs("EPSG:4326", allow_override=True)
    if crs is not None:
        try:
            declared = pyproj.CRS.from_user_input(crs)
        except pyproj.exceptions.CRSError as err:
            hint = "try EPSG:4326, EPSG:4490, EPSG:32650, gcj02, bd09"
            raise LoadError(f"unknown CRS {crs!r} ({hint})", source=source) from err
        gdf = gdf.set_crs(declared, allow_override=True)
        why = f"--crs {crs} says they are in {declared.name}"
    elif gdf.crs is None:
        logger.info("%s: the file names no CRS; assuming EPSG:4326", source)
        gdf = gdf.set_crs("EPSG:4326")
        why = "the file names no CRS, so they were taken as longitude/latitude; give --crs EPSG:xxxx"
    else:
        why = f"the file says they are in {gdf.crs.name}; if that is wrong, give --crs EPSG:xxxx"
    if gdf.crs.is_geographic:  # degrees in, degrees out: check the numbers as given
        check_lonlat(gdf.geometry.to_numpy(), source, why)
        return gdf.to_crs("EPSG:4326")
    out = gdf.to_crs("EPSG:4326")
    check_lonlat(out.geometry.to_numpy(), source, f"after reprojection: {why}")
    return out


