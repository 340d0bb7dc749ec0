"""gis_data.validation: fields, kinds, choices, ranges, geometries, the district."""

from __future__ import annotations

import copy
import pickle
import re

import geopandas
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from gis_data.coords import convert_geometries, wgs84_to_gcj02
from gis_data.readers import read_vector, to_wgs84
from gis_data.validation import LayerSpec, validate
from layers.errors import LoadError
from tests.gis_data.frames import CAMERAS, DISTRICT, GRIDS, REALDATA, cameras_frame, check, fault, grids_frame


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
    assert "lies 80 m outside the district (tolerance 50 m; --tolerance sets it) (and 1 more feature)" in str(err)
    check(gdf.iloc[[0, 3]], CAMERAS, district=DISTRICT, district_tolerance_m=50)
    check(gdf.iloc[[1]], CAMERAS, district=DISTRICT, district_tolerance_m=100)


def test_polygon_crossing_the_district_edge():
    gdf = grids_frame()
    gdf.loc[0, "geometry"] = box(118.77, 32.00, 118.80, 32.01)  # runs ~1.5 km past the east edge
    err = fault(gdf, GRIDS, district=DISTRICT)
    assert (err.feature, err.field) == (0, "geometry")
    assert re.search(r"reaches 1,[3-6]\d\d m beyond the district \(tolerance 50 m; --tolerance sets it\)", str(err))


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
