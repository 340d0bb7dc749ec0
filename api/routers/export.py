"""Downloads: a layer, or every area's figures, as a file an office opens (see :mod:`api.export`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from api.access import kpi_departments
from api.deps import Analyst, ConnDep, Reader
from api.export import TABLE_FORMATS, ExportFile, check_format, export_area_figures, export_layer, layer_frame
from api.features import SERVED, Scope, parse_filters, served
from api.params import BBoxDep, FiltersDep, Version, WindowDep
from command.kpi import AreaLevel, area_kpis

__all__ = ["router"]

router = APIRouter(prefix="/export", tags=["export"])

Format = Annotated[str, Query(max_length=20, description="csv, xlsx, gpkg, shp (a zip) or parquet (GeoParquet).")]
TableFormat = Annotated[str, Query(max_length=20, description="csv or xlsx.")]
Layer = Annotated[str, Path(max_length=64, description="A served map layer: " + ", ".join(SERVED) + ".")]
_FILE = {200: {"content": {"application/octet-stream": {}}, "description": "The file, as an attachment."}}


def _download(file: ExportFile) -> Response:
    return Response(file.content, media_type=file.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"'})


@router.get("/kpis", response_class=Response, responses=_FILE, summary="Figures of every area of a level as a file")
def export_kpis(window: WindowDep, conn: ConnDep, user: Analyst, level: AreaLevel, format: TableFormat = "csv",
                as_of: Annotated[datetime | None, Query(description="Judge overdue at this moment (aware)")] = None,
                ) -> Response:
    """The table of ``/kpis/areas`` (one row per street, community or grid), scoped the same way."""
    check_format(format, TABLE_FORMATS)
    figures = area_kpis(conn, level, window.start, window.end, as_of=as_of, departments=kpi_departments(user))
    return _download(export_area_figures(figures.areas, level, format))


@router.get("/{layer}", response_class=Response, responses=_FILE, summary="A whole layer as a file")
def export(layer: Layer, conn: ConnDep, user: Reader, box: BBoxDep, filters: FiltersDep, format: Format = "csv",
           version: Version = None) -> Response:
    """Every feature ``/layers/{layer}`` would page through for this key and these filters, in one file.

    An unknown layer is a 404 naming the layers there are (a plain name, not an enumeration: a download link
    with a typo should say "no such layer", not "invalid value").
    """
    sl = served(layer)
    check_format(format)
    frame = layer_frame(conn, sl, Scope(user, box.box, parse_filters(sl, filters.filter), version))
    return _download(export_layer(frame, sl.name, format))
