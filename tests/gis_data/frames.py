"""Frames and specs shared by the tests of gis_data's readers and validation."""

from __future__ import annotations

from pathlib import Path

import geopandas
import pytest
from shapely.geometry import Point, box

from gis_data.validation import LayerSpec, validate
from layers.errors import LoadError

# Test-only real data beside the repository (../shared); present in CI, so a missing file fails the run.
REALDATA = Path(__file__).resolve().parents[2].parent / "shared/realdata"
# A stand-in district: 8 km × 6 km in Nanjing 建邺区 (WGS-84).
DISTRICT = box(118.70, 31.98, 118.784, 32.034)

CAMERAS = LayerSpec(
    name="cameras",
    geometry_types={"Point"},
    required={"code": "str", "kind": "str", "heading": "float"},
    optional={"online": "bool", "installed": "datetime", "channels": "int"},
    choices={"kind": {"dome", "bullet", "ptz"}},
    ranges={"heading": (0, 360), "channels": (1, None)},
)
GRIDS = LayerSpec(
    name="grids",
    geometry_types={"MultiPolygon"},
    required={"code": "str", "households": "int"},
    optional={"people": "int"},
    ranges={"households": (0, None)},
)


def cameras_frame(n: int = 4) -> geopandas.GeoDataFrame:
    return geopandas.GeoDataFrame(
        {
            "code": [f"CAM{i:03d}" for i in range(n)],
            "kind": ["dome", "bullet", "ptz", "dome"][:n],
            "heading": [0.0, 90.0, 180.5, 360.0][:n],
            "online": [True, False, True, True][:n],
            "channels": [1, 2, 4, 8][:n],
            "note": ["x"] * n,
        },
        geometry=[Point(118.72 + 0.01 * i, 32.00 + 0.005 * i) for i in range(n)],
        crs="EPSG:4326",
    )


def grids_frame() -> geopandas.GeoDataFrame:
    cells = [box(118.71 + 0.01 * i, 32.00, 118.72 + 0.01 * i, 32.01) for i in range(3)]
    return geopandas.GeoDataFrame(
        {"code": ["G1", "G2", "G3"], "households": [520, 480, 0], "people": [1200, 990, 0]},
        geometry=cells,
        crs="EPSG:4326",
    )


def check(gdf: geopandas.GeoDataFrame, spec: LayerSpec, **kw) -> geopandas.GeoDataFrame:
    return validate(gdf, spec, source="in.gpkg", **kw)


def fault(gdf: geopandas.GeoDataFrame, spec: LayerSpec, **kw) -> LoadError:
    with pytest.raises(LoadError) as info:
        check(gdf, spec, **kw)
    assert info.value.source == "in.gpkg"
    assert str(info.value).startswith("in.gpkg")
    return info.value

