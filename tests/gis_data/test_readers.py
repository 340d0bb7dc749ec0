"""Tests for gis_data.readers: reading files, coordinate systems, validation."""

from __future__ import annotations

import copy
import logging
import pickle
import re
import struct
import zipfile
from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from gis_data.coords import convert_geometries, wgs84_to_bd09, wgs84_to_gcj02
from gis_data.readers import LayerSpec, read_vector, to_wgs84, validate
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


# --------------------------------------------------------------------------- reading files


def write(gdf: geopandas.GeoDataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path)
    return path


@pytest.mark.parametrize("name", ["cams.geojson", "cams.gpkg", "cams.shp", "cams.parquet"])
def test_each_format_reads_back(tmp_path, name):
    src = cameras_frame()
    got = read_vector(write(src, tmp_path / name))
    assert isinstance(got, geopandas.GeoDataFrame)
    assert got.crs == "EPSG:4326"
    assert list(got.index) == [0, 1, 2, 3]
    assert list(got["code"]) == list(src["code"])
    assert list(got["channels"]) == [1, 2, 4, 8]
    assert got.geometry.geom_equals_exact(src.geometry, tolerance=1e-9).all()


def test_zipped_shapefile_in_a_folder(tmp_path):
    write(cameras_frame(), tmp_path / "cams.shp")
    archive = tmp_path / "delivery.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("cams.*"):
            z.write(part, f"export/{part.name}")
    got = read_vector(archive)
    assert list(got["kind"]) == ["dome", "bullet", "ptz", "dome"]
    with pytest.raises(LoadError, match="no shapefile 'roads'; it has: cams"):
        read_vector(archive, layer="roads")


def test_geopackage_layers_named_first_or_listed(tmp_path):
    path = tmp_path / "city.gpkg"
    cameras_frame().to_file(path, layer="cameras")
    grids_frame().to_file(path, layer="grids")
    assert len(read_vector(path, layer="grids")) == 3
    assert set(read_vector(path).columns) >= {"code", "kind"}  # the first layer
    with pytest.raises(LoadError) as info:
        read_vector(path, layer="roads")
    assert "no layer 'roads'; it has: cameras, grids" in str(info.value)
    assert info.value.source == str(path)


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("a.geojson", b"", "empty (0 bytes)"),
        ("a.gpkg", b"not a geopackage", "cannot be read as a GeoPackage"),
        ("a.geojson", b'{"type": "FeatureCollection", "features": []}', "holds no features"),
        ("a.csv", b"x,y\n1,2\n", "unknown format '.csv'"),
        ("a.parquet", b"PAR1 junk", "cannot be read as GeoParquet"),
    ],
)
def test_unreadable_files(tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LoadError, match=re.escape(says)) as info:
        read_vector(path)
    assert info.value.source == str(path)


def test_missing_file_and_plain_parquet(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        read_vector(tmp_path / "nope.gpkg")
    pd.DataFrame({"x": [1.0]}).to_parquet(tmp_path / "plain.parquet")
    with pytest.raises(LoadError, match="not GeoParquet"):
        read_vector(tmp_path / "plain.parquet")


def write_point_m_shapefile(path: Path, x: float, y: float, m: float) -> None:
    """A one-feature PointM shapefile, as ArcGIS writes them (pyogrio cannot write M)."""
    geopandas.GeoDataFrame({"a": [1]}, geometry=[Point(x, y)], crs=4326).to_file(path)
    header = bytearray(path.read_bytes()[:100])
    record = struct.pack(">2i", 1, 14) + struct.pack("<i3d", 21, x, y, m)  # shape type 21 = PointM
    header[24:28] = struct.pack(">i", (100 + len(record)) // 2)  # file length in 16-bit words
    header[32:36] = struct.pack("<i", 21)
    path.write_bytes(bytes(header) + record)
    shx = bytearray(path.with_suffix(".shx").read_bytes())
    shx[32:36] = struct.pack("<i", 21)
    shx[104:108] = struct.pack(">i", 14)
    path.with_suffix(".shx").write_bytes(bytes(shx))


def test_measured_shapefile_warning_is_logged_not_raised(tmp_path, caplog):
    # pyogrio warns that M values are dropped; that is about the user's file, so it goes to the log
    # (under -W error an escaped warning would abort the load).
    path = tmp_path / "m.shp"
    write_point_m_shapefile(path, 118.7, 32.0, 5.0)
    with caplog.at_level(logging.WARNING, logger="gis_data.readers"):
        got = read_vector(path)
    assert got.geometry.iloc[0].equals(Point(118.7, 32.0))
    assert "Measured (M) geometry types are not supported" in caplog.text


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_chinese_shapefile_without_cpg_is_not_garbled(tmp_path, encoding):
    # GDAL would decode a .cpg-less DBF as ISO-8859-1: '建邺区' would come back as '½¨Úþø'.
    names = ["建邺区网格一", "江心洲街道"]
    gdf = geopandas.GeoDataFrame({"name": names}, geometry=[Point(118.7, 32.0), Point(118.71, 32.0)], crs=4326)
    path = tmp_path / "grids.shp"
    gdf.to_file(path, encoding=encoding)
    path.with_suffix(".cpg").unlink()
    assert read_vector(path)["name"].tolist() == names
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("grids.*"):
            if part.suffix != ".zip":
                z.write(part, part.name)
    assert read_vector(archive)["name"].tolist() == names


def test_shapefile_text_in_an_unknown_encoding_is_refused(tmp_path):
    path = tmp_path / "odd.shp"
    gdf = geopandas.GeoDataFrame({"name": ["\xff\xfe\xff"]}, geometry=[Point(118.7, 32.0)], crs=4326)
    gdf.to_file(path, encoding="ISO-8859-1")
    path.with_suffix(".cpg").unlink()
    with pytest.raises(LoadError, match="neither UTF-8 nor GB18030: add a .cpg file"):
        read_vector(path)


# --------------------------------------------------------------------------- coordinate systems


def test_projected_file_is_reprojected(tmp_path):
    src = grids_frame()
    path = write(src.to_crs("EPSG:32650"), tmp_path / "utm.gpkg")
    got = to_wgs84(read_vector(path), None, source=str(path))
    assert got.crs == "EPSG:4326"
    assert got.geometry.geom_equals_exact(src.geometry, tolerance=1e-7).all()


def test_crs_given_for_a_file_without_one(tmp_path):
    src = grids_frame()
    path = write(src.to_crs("EPSG:4547"), tmp_path / "cgcs.shp")  # CGCS2000 / 3-degree GK CM 117E
    path.with_suffix(".prj").unlink()
    raw = read_vector(path)
    assert raw.crs is None
    with pytest.raises(LoadError, match="names no CRS.*give --crs") as info:
        to_wgs84(raw, None, source=str(path))
    assert info.value.feature == 0
    got = to_wgs84(raw, "EPSG:4547", source=str(path))
    # Shapefiles re-orient rings: compare normalised shapes.
    assert got.normalize().geom_equals_exact(src.normalize(), tolerance=1e-6).all()  # CGCS2000 ≈ WGS-84 here


def test_file_without_crs_in_lonlat_is_assumed_wgs84(tmp_path):
    src = cameras_frame()
    path = write(src, tmp_path / "cams.shp")
    path.with_suffix(".prj").unlink()
    got = to_wgs84(read_vector(path), None, source=str(path))
    assert got.crs == "EPSG:4326"
    assert got.geometry.geom_equals_exact(src.geometry, tolerance=1e-12).all()


@pytest.mark.parametrize(
    ("given", "shift"), [("gcj02", wgs84_to_gcj02), ("GCJ-02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)]
)
def test_chinese_datum_file_converts(tmp_path, given, shift):
    src = grids_frame()
    shifted = src.set_geometry(shapely.transform(src.geometry.to_numpy(), shift, interleaved=False), crs=4326)
    path = write(shifted, tmp_path / "amap.geojson")  # Amap exports claim EPSG:4326; the user knows better
    raw = read_vector(path)
    assert not raw.geometry.geom_equals_exact(src.geometry, tolerance=1e-4).any()
    got = to_wgs84(raw, given, source=str(path))
    assert got.crs == "EPSG:4326"
    assert got.geometry.geom_equals_exact(src.geometry, tolerance=1e-7).all()


def test_unknown_crs_and_metres_declared_as_degrees():
    with pytest.raises(LoadError, match="unknown CRS 'EPSG:99999'"):
        to_wgs84(grids_frame(), "EPSG:99999", source="g.geojson")
    metres = grids_frame().to_crs("EPSG:32650").set_crs("EPSG:4326", allow_override=True)
    with pytest.raises(LoadError, match=r"feature 0, field 'geometry': coordinate \(6") as info:
        to_wgs84(metres, None, source="g.geojson")
    assert "(and 2 more features)" in str(info.value)
    with pytest.raises(LoadError, match="--crs gcj02 says"):
        to_wgs84(metres, "gcj02", source="g.geojson")


# --------------------------------------------------------------------------- validation: the good path


def test_valid_frame_is_coerced_and_trimmed():
    gdf = cameras_frame()
    gdf["heading"] = ["0", "90", "180.5", "360"]  # text numbers, as a CSV-born GeoJSON has them
    gdf["online"] = ["是", "否", "yes", "0"]
    gdf["channels"] = [1.0, None, 4.0, 8.0]  # an int column with a null arrives as float
    gdf["installed"] = ["2021-03-01", "2022/07/15 10:00", None, "  "]
    out = check(gdf, CAMERAS, district=DISTRICT)
    assert list(out.columns) == ["code", "kind", "heading", "online", "installed", "channels", "geometry"]
    assert out["heading"].tolist() == [0.0, 90.0, 180.5, 360.0]
    assert out["online"].tolist() == [True, False, True, False]
    assert str(out["channels"].dtype) == "Int64" and out["channels"].isna().tolist() == [False, True, False, False]
    assert out["installed"].iloc[1] == pd.Timestamp("2022-07-15 10:00")
    assert out["installed"].isna().tolist() == [False, False, True, True]
    assert out.crs == "EPSG:4326"


def test_absent_optional_field_comes_back_null_and_case_is_forgiven():
    gdf = cameras_frame().drop(columns=["online", "channels"]).rename(columns={"code": "CODE"})
    out = check(gdf, CAMERAS)
    assert out["code"].tolist()[0] == "CAM000"
    assert out["online"].isna().all() and out["channels"].isna().all()


def test_polygons_are_promoted_to_multipolygons():
    out = check(grids_frame(), GRIDS)
    assert set(out.geom_type) == {"MultiPolygon"}
    assert out.geometry.iloc[0].geoms[0].equals(grids_frame().geometry.iloc[0])


def test_str_field_from_numbers_keeps_integers_whole():
    gdf = grids_frame()
    gdf["code"] = [320105001.0, 320105002.0, 320105003.5]
    assert check(gdf, GRIDS)["code"].tolist() == ["320105001", "320105002", "320105003.5"]


# --------------------------------------------------------------------------- validation: one test per fault


def test_missing_required_field_names_it_and_lists_the_fields():
    err = fault(grids_frame().drop(columns=["households"]), GRIDS)
    assert err.field == "households" and err.feature is None
    assert "missing required field households" in str(err)
    assert "the file has: code, people" in str(err)


def test_null_in_required_field():
    gdf = grids_frame()
    gdf["code"] = ["G1", None, " "]
    err = fault(gdf, GRIDS)
    assert (err.feature, err.field) == (1, "code")
    assert "required field code is null or empty (and 1 more feature)" in str(err)


@pytest.mark.parametrize(
    ("column", "values", "feature", "says"),
    [
        ("households", [520, "abc", "12x"], 1, "households: 'abc' is not an integer (and 1 more feature)"),
        ("households", [520, 2.5, 3], 1, "households: 2.5 is not an integer"),
        ("people", ["1200", "1e3", "lots"], 2, "people: 'lots' is not an integer"),
    ],
)
def test_wrong_kind_int(column, values, feature, says):
    gdf = grids_frame()
    gdf[column] = values
    err = fault(gdf, GRIDS)
    assert (err.feature, err.field) == (feature, column)
    assert says in str(err)


@pytest.mark.parametrize(
    ("column", "value", "says"),
    [
        ("heading", "north", "heading: 'north' is not a number"),
        ("online", "maybe", "online: 'maybe' is not a yes/no value"),
        ("installed", "last spring", "installed: 'last spring' is not a date/time"),
    ],
)
def test_wrong_kind_float_bool_datetime(column, value, says):
    gdf = cameras_frame()
    gdf[column] = gdf.get(column, pd.Series([None] * 4)).astype(object)
    gdf.loc[2, column] = value
    err = fault(gdf, CAMERAS)
    assert (err.feature, err.field) == (2, column)
    assert says in str(err)


def test_value_outside_choices_lists_the_allowed_ones():
    gdf = cameras_frame()
    gdf["kind"] = ["dome", "dome", "球型", "fisheye"]
    err = fault(gdf, CAMERAS)
    assert (err.feature, err.field) == (2, "kind")
    assert "kind: '球型' is not one of: bullet, dome, ptz (and 1 more feature)" in str(err)


@pytest.mark.parametrize(
    ("spec", "column", "values", "feature", "says"),
    [
        (CAMERAS, "heading", [10.0, 400.0, -1.0, 5.0], 1, "heading: 400 is out of range (must be >= 0 and <= 360)"),
        (CAMERAS, "channels", [1, 1, 0, 1], 2, "channels: 0 is out of range (must be >= 1)"),
        (GRIDS, "households", [-3, 10, 20], 0, "households: -3 is out of range (must be >= 0)"),
    ],
)
def test_value_outside_range(spec, column, values, feature, says):
    gdf = cameras_frame() if spec is CAMERAS else grids_frame()
    gdf[column] = values
    err = fault(gdf, spec)
    assert (err.feature, err.field) == (feature, column)
    assert says in str(err)


def test_missing_geometry():
    gdf = cameras_frame()
    gdf.loc[1, "geometry"] = None
    gdf.loc[3, "geometry"] = Point()
    err = fault(gdf, CAMERAS)
    assert (err.feature, err.field) == (1, "geometry")
    assert "has no geometry (null or empty) (and 1 more feature)" in str(err)


def test_wrong_geometry_type_says_found_and_expected():
    gdf = grids_frame()
    gdf.loc[2, "geometry"] = LineString([(118.71, 32.0), (118.72, 32.01)])
    err = fault(gdf, GRIDS)
    assert (err.feature, err.field) == (2, "geometry")
    assert "geometry is a LineString; layer grids expects MultiPolygon" in str(err)


def test_invalid_geometry_gives_the_reason_and_is_not_repaired():
    bowtie = Polygon([(118.71, 32.00), (118.72, 32.01), (118.72, 32.00), (118.71, 32.01)])
    gdf = grids_frame()
    gdf.loc[1, "geometry"] = bowtie
    err = fault(gdf, GRIDS)
    assert (err.feature, err.field) == (1, "geometry")
    assert "invalid geometry: Self-intersection[118.715 32.005]" in str(err)


@pytest.mark.parametrize(
    ("where", "says"),
    [
        (Point(500000.0, 3540000.0), "coordinate (500000, 3540000) is not a longitude/latitude"),
        (Point(118.7, np.nan), "coordinate (118.7, nan) is not a longitude/latitude"),
        (Point(118.7, 95.0), "coordinate (118.7, 95) is not a longitude/latitude"),
    ],
)
def test_coordinates_out_of_any_sane_range(where, says):
    gdf = cameras_frame()
    gdf.loc[3, "geometry"] = where
    err = fault(gdf, CAMERAS)
    assert (err.feature, err.field) == (3, "geometry")
    assert says in str(err)


def test_feature_outside_district_beyond_tolerance():
    gdf = cameras_frame()
    lat_step = 1 / 111_000  # ≈ 1 m of latitude in degrees
    gdf.loc[0, "geometry"] = Point(118.75, 31.98 - 30 * lat_step)  # 30 m south: within 50 m tolerance
    gdf.loc[1, "geometry"] = Point(118.75, 31.98 - 80 * lat_step)  # 80 m south
    gdf.loc[2, "geometry"] = Point(118.90, 32.00)  # ~11 km east
    err = fault(gdf, CAMERAS, district=DISTRICT)
    assert (err.feature, err.field) == (1, "geometry")
    assert "lies 80 m outside the district (tolerance 50 m) (and 1 more feature)" in str(err)
    check(gdf.iloc[[0, 3]], CAMERAS, district=DISTRICT, district_tolerance_m=50)
    check(gdf.iloc[[1]], CAMERAS, district=DISTRICT, district_tolerance_m=100)


def test_polygon_crossing_the_district_edge():
    gdf = grids_frame()
    gdf.loc[0, "geometry"] = box(118.77, 32.00, 118.80, 32.01)  # runs ~1.5 km past the east edge
    err = fault(gdf, GRIDS, district=DISTRICT)
    assert (err.feature, err.field) == (0, "geometry")
    assert "reaches more than 50 m beyond the district" in str(err)


def test_gcj02_file_loaded_as_wgs84_is_caught_by_the_district():
    gdf = cameras_frame()
    gdf["geometry"] = shapely.transform(gdf.geometry.to_numpy(), wgs84_to_gcj02, interleaved=False)
    gdf.loc[1:, "geometry"] = cameras_frame().geometry.iloc[1:]
    sw = Point(118.70, 31.98)  # move feature 0 to the corner so its ~550 m shift leaves the district
    gdf.loc[0, "geometry"] = Point(*wgs84_to_gcj02(sw.x, sw.y))
    err = fault(gdf, CAMERAS, district=DISTRICT, district_tolerance_m=50)
    assert err.feature == 0
    assert "try --crs gcj02 or bd09" in str(err)


def test_real_jianye_buildings_against_the_real_district_outline():
    """5,284 real footprints (WGS-84) against the DataV outline of 建邺区 (GCJ-02, converted here)."""
    outlines = read_vector(REALDATA / "datav_target_district_boundaries_gcj02.geojson")
    jianye_gcj = outlines.loc[outlines["adcode"] == 320105].geometry.iloc[0]
    jianye = convert_geometries(np.array([jianye_gcj]), "gcj02")[0]
    path = REALDATA / "nanjing_jianye/jianye_buildings_height_wgs84.geojson"
    buildings = to_wgs84(read_vector(path), None, source=str(path))
    assert len(buildings) == 5284
    spec = LayerSpec(name="buildings", geometry_types={"MultiPolygon"}, required={"height": "float"},
                     optional={"GEOCODE": "str"}, ranges={"height": (0, 700)})

    with pytest.raises(LoadError, match=r"feature 4501, field 'geometry': invalid geometry: Self-intersection\["):
        validate(buildings, spec, source=str(path), district=jianye)
    clean = buildings.drop(index=4501)
    out = validate(clean, spec, source=str(path), district=jianye)  # all within 50 m of the WGS-84 outline
    assert out["height"].between(3, 165).all()
    with pytest.raises(LoadError, match=r"m outside the district .*\(and \d{3} more features\)"):
        validate(clean, spec, source=str(path), district=jianye_gcj)  # the unconverted outline is ~500 m off


def test_frame_in_another_crs_is_refused():
    with pytest.raises(LoadError, match="not EPSG:4326"):
        check(grids_frame().to_crs("EPSG:32650"), GRIDS)


def test_first_fault_in_spec_order_wins():
    gdf = grids_frame()
    gdf["households"] = [1, "x", 3]
    gdf.loc[0, "geometry"] = None
    err = fault(gdf, GRIDS)
    assert err.field == "households"  # attribute checks run before geometry checks


def test_100k_points_validate(tmp_path):
    # Not a timing test (bench/ does that); checks the vectorised path works at scale.
    n = 100_000
    rng = np.random.default_rng(7)
    gdf = geopandas.GeoDataFrame(
        {
            "code": [f"C{i}" for i in range(n)],
            "kind": rng.choice(["dome", "bullet", "ptz"], n),
            "heading": rng.uniform(0, 360, n),
        },
        geometry=geopandas.points_from_xy(rng.uniform(118.71, 118.77, n), rng.uniform(31.99, 32.03, n)),
        crs=4326,
    )
    out = check(gdf, CAMERAS, district=DISTRICT)
    assert len(out) == n and out["online"].isna().all()


# --------------------------------------------------------------------------- LayerSpec itself


@pytest.mark.parametrize(
    "bad",
    [
        {"geometry_types": {"Polygon", "Blob"}},
        {"required": {"a": "text"}},
        {"required": {"a": "str"}, "optional": {"a": "int"}},
        {"choices": {"b": {"x"}}},
        {"required": {"a": "str"}, "ranges": {"a": (0, 1)}},
        {"required": {"a": "str"}, "choices": {"a": "abc"}},
    ],
)
def test_layer_spec_refuses_contradictions(bad):
    args = {"name": "x", "geometry_types": {"Point"}} | bad
    with pytest.raises(ValueError):
        LayerSpec(**args)


def test_layer_spec_is_frozen_and_hashable():
    assert hash(CAMERAS) == hash(LayerSpec(**{f: getattr(CAMERAS, f) for f in CAMERAS.__dataclass_fields__}))
    with pytest.raises(AttributeError):
        CAMERAS.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        CAMERAS.required["x"] = "str"  # type: ignore[index]
    assert list(CAMERAS.fields) == ["code", "kind", "heading", "online", "installed", "channels"]
    assert pickle.loads(pickle.dumps(CAMERAS)) == CAMERAS
    assert copy.deepcopy(GRIDS) == GRIDS
