"""Load files and the demo district into the store.

A file load is: read → bring to WGS 84 (GCJ-02/BD-09 converted) → validate
against the layer's spec and the district outline → one bulk write. The caller
owns the transaction; the write itself takes a savepoint, so a bad file leaves
the store untouched. A grids file becomes a new grid version and is made
current. Every load is written to the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import geopandas
import pandas as pd
import shapely
from sqlalchemy import Connection, func, insert, select, text

from gis_data.specs import spec_for
from gis_data.validation import validate
from layers import grids as grid_versions
from layers import models as m
from layers.bulk import write_frame
from layers.registry import layer as layer_def

__all__ = ["load_file", "load_frame", "load_frame_checked", "load_demo", "load_district", "store_is_empty",
           "district_outline", "audit"]

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]


def _noop(_share: float, _stage: str) -> None:
    return None


def store_is_empty(conn: Connection) -> bool:
    """True when no district has been loaded yet."""
    return conn.execute(select(func.count()).select_from(m.AdminArea)).scalar_one() == 0


def district_outline(conn: Connection) -> shapely.Geometry | None:
    """The district polygon (EPSG:4326), or ``None`` when none is loaded."""
    wkb = conn.execute(
        select(func.ST_AsBinary(m.AdminArea.geom)).where(m.AdminArea.level == "district").limit(1)
    ).scalar()
    return shapely.from_wkb(bytes(wkb)) if wkb is not None else None


def audit(conn: Connection, *, actor: str, action: str, entity: str, entity_id: str | None, detail: dict) -> None:
    """One row in the audit log."""
    conn.execute(insert(m.AuditLog).values(actor=actor, action=action, entity=entity, entity_id=entity_id,
                                           detail=detail))


def _to_store_frame(gdf: geopandas.GeoDataFrame, geometry_column: str) -> pd.DataFrame:
    """Drop optional columns the file did not fill; name the geometry as stored."""
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    frame = frame.loc[:, frame.notna().any(axis=0)]
    frame[geometry_column] = gdf.geometry.to_numpy()
    return frame


def load_frame(
    conn: Connection,
    gdf: geopandas.GeoDataFrame,
    layer: str,
    *,
    source: str,
    actor: str = "system",
    progress: Progress = _noop,
) -> int:
    """Validate a GeoDataFrame (EPSG:4326) and write it into ``layer``.

    The analysts' write-back uses this too, so a frame meets the same checks
    as a file. Returns the number of features written.
    """
    spec = spec_for(layer)
    district = None if layer in ("admin_areas", "water") else district_outline(conn)
    clean = validate(gdf, spec, source=source, district=district)
    progress(0.5, "validated")
    written = load_frame_checked(conn, clean, layer, source=source, actor=actor)
    progress(0.95, "written")
    return written


def load_frame_checked(conn: Connection, clean: geopandas.GeoDataFrame, layer: str, *, source: str,
                       actor: str = "system") -> int:
    """Write a frame :func:`~gis_data.validation.validate` has passed into ``layer``, and audit it."""
    ld = layer_def(layer)
    frame = _to_store_frame(clean, ld.geometry)
    if layer == "grids":
        written = _load_grid_version(conn, ld, frame, source=source, actor=actor)
    elif layer == "admin_areas":
        written = _load_admin_levels(conn, ld, frame, source=source)
    else:
        written = write_frame(conn, ld, frame, source=source)
        if ld.grid_member and (version := grid_versions.current_version(conn)) is not None:
            grid_versions.assign_members(conn, version)
    audit(conn, actor=actor, action="load", entity=layer, entity_id=None, detail={"source": source, "rows": written})
    return written


def load_file(
    conn: Connection,
    path: Path,
    layer: str,
    *,
    crs: str | None = None,
    source_layer: str | None = None,
    actor: str = "system",
    progress: Progress = _noop,
) -> int:
    """Read ``path`` and load it into ``layer``; all or nothing (see :mod:`gis_data.importer` for the rest)."""
    from gis_data.importer import ImportOptions, import_file

    report, _ = import_file(conn, path, layer, ImportOptions(crs=crs, source_layer=source_layer, actor=actor),
                            progress=progress)
    return report.written


def _load_grid_version(conn: Connection, ld, frame: pd.DataFrame, *, source: str, actor: str) -> int:
    version = grid_versions.create_version(conn, source="import", created_by=actor, note=f"loaded from {source}")
    written = write_frame(conn, ld, frame, source=source, fixed={"version_id": version})
    grid_versions.make_current(conn, version)
    return written


def _load_admin_levels(conn: Connection, ld, frame: pd.DataFrame, *, source: str) -> int:
    """Districts first, then streets, then communities: parents before children."""
    written = 0
    for level in m.ADMIN_LEVELS:
        part = frame[frame["level"] == level]
        if level == "district" and not part.empty and "metric_srid" not in part.columns:
            part = part.assign(metric_srid=[_gauss_kruger_srid(g) for g in part["geom"]])
        written += write_frame(conn, ld, part, source=source)
    return written


def _gauss_kruger_srid(geom: shapely.Geometry) -> int:
    """CGCS2000 3-degree Gauss–Krüger zone (EPSG:4534–4554) of a geometry's centre.

    The metric CRS Chinese surveying uses; within a district its scale error is
    far below a metre per kilometre.
    """
    lon = shapely.centroid(geom).x
    meridian = min(max(round(lon / 3) * 3, 75), 135)
    return 4534 + (meridian - 75) // 3


# -- the demo district ---------------------------------------------------------------
#: a phone's own reports name the worker who filed them (a worker settles only its own 自办自结 reports): the demo's
#: history names that worker by code as the first actor (migration 0011 does the same for a store's older events)
_REPORTERS = text("""
    UPDATE event e SET reporter_worker_id = w.id
    FROM event_history h JOIN grid_worker w ON w.code = h.actor
    WHERE h.event_id = e.id AND h.from_state IS NULL AND e.channel IN ('patrol', 'self_settled')
""")
_DEMO_ORDER = ("admin_areas", "water", "roads", "blocks", "workers", "grids", "buildings", "components",
               "cameras", "resources", "events")


def load_demo(conn: Connection, *, scale: str = "default", seed: int = 7, progress: Progress = _noop,
              end=None) -> dict:
    """Generate the demo district, its events ending at ``end`` (the fixed reference time when ``None``), and write
    every layer of it; returns counts."""
    from gis_data.demo import generate_district

    progress(0.0, f"generating the {scale} demo district")
    return load_district(conn, generate_district(scale, seed=seed, end=end), progress=progress)


def load_district(conn: Connection, district, *, progress: Progress = _noop) -> dict:
    """Write a generated :class:`~gis_data.demo.DemoDistrict` into an empty store."""
    frames = {
        "admin_areas": district.admin.assign(
            metric_srid=[district.metric_epsg if lv == "district" else None for lv in district.admin["level"]]
        ),
        "water": district.water,
        "roads": district.roads,
        "blocks": district.blocks,
        "workers": district.workers,
        "grids": district.grids,
        "buildings": district.buildings,
        "components": district.components,
        "cameras": district.cameras,
        "resources": district.resources,
        "events": district.events,
    }
    from command.taxonomy import load_taxonomy

    scale, seed = str(getattr(district.scale, "name", district.scale)), district.seed
    load_taxonomy(conn, actor="system")  # events name its leaves; idempotent by version
    counts: dict[str, int] = {}
    version = grid_versions.create_version(conn, source="demo", note=f"demo district {scale}, seed {seed}",
                                           params={"scale": scale, "seed": seed})
    for i, name in enumerate(_DEMO_ORDER):
        progress(0.1 + 0.85 * i / len(_DEMO_ORDER), f"writing {name}")
        ld = layer_def(name)
        frame = _demo_frame(frames[name], ld)
        if name == "admin_areas":
            counts[name] = _load_admin_levels(conn, ld, frame, source="demo")
        elif name == "grids":
            counts[name] = write_frame(conn, ld, frame, source="demo", fixed={"version_id": version})
            grid_versions.make_current(conn, version, hand_over=False)
        else:
            counts[name] = write_frame(conn, ld, frame, source="demo")
    counts["event_history"] = write_frame(conn, layer_def("event_history"), district.event_history,
                                          source="demo")
    conn.execute(_REPORTERS)
    grid_versions.assign_members(conn, version)
    audit(conn, actor="system", action="load_demo", entity="district", entity_id=None,
          detail={"scale": scale, "seed": seed, "counts": counts})
    progress(1.0, "demo district loaded")
    return counts


def _demo_frame(gdf: geopandas.GeoDataFrame, ld) -> pd.DataFrame:
    """A generated frame in the bulk writer's shape (the generator is trusted)."""
    keep = [c for c in (*ld.columns, *ld.ref_columns, *ld.extra_geometry) if c in gdf.columns]
    frame = pd.DataFrame({c: gdf[c] for c in keep})
    if ld.geometry:
        frame[ld.geometry] = gdf.geometry.to_numpy()
    for extra in ld.extra_geometry:
        if extra in gdf.columns:
            frame[extra] = geopandas.GeoSeries(gdf[extra]).to_numpy()
    return frame
