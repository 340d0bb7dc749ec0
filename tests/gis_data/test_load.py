"""Importers end to end: every format into the store, GCJ-02 on the way in,
and every kind of bad input refused with what and where, writing nothing."""

from __future__ import annotations

from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod
from sqlalchemy import func, select, text

from gis_data.coords import wgs84_to_gcj02
from gis_data.load import district_outline, load_file
from layers import models as m
from layers.errors import LoadError

SHARED = Path(__file__).resolve().parents[3] / "shared"
GEOD = Geod(ellps="WGS84")


def _inside_points(conn, n):
    """n points well inside the district (EPSG:4326)."""
    district = district_outline(conn)
    core = district.buffer(-0.15 * district.area ** 0.5)
    minx, miny, maxx, maxy = core.bounds
    rng = np.random.default_rng(3)
    pts = []
    while len(pts) < n:
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if core.contains(p):
            pts.append(p)
    return pts


def _cameras(conn, n=3):
    return geopandas.GeoDataFrame({
        "code": [f"IMP-{i}" for i in range(n)],
        "kind": ["bullet"] * n,
        "fov_deg": [60.0] * n,
        "range_m": [80.0] * n,
        "cam_class": [2] * n,
        "heading_deg": [90.0] * n,
        "owner_dept": ["公安分局"] * n,
    }, geometry=_inside_points(conn, n), crs="EPSG:4326")


def _count(conn, model):
    return conn.execute(select(func.count()).select_from(model)).scalar_one()


WRITERS = {
    "geojson": lambda gdf, p: gdf.to_file(p, driver="GeoJSON"),
    "gpkg": lambda gdf, p: gdf.to_file(p, driver="GPKG", layer="cams"),
    # shapefile field names stop at 10 characters: heading_deg would arrive truncated
    "shp": lambda gdf, p: gdf.drop(columns="heading_deg").to_file(p, driver="ESRI Shapefile"),
    "parquet": lambda gdf, p: gdf.to_parquet(p),
}


@pytest.mark.parametrize("ext", list(WRITERS))
def test_each_format_loads_into_the_store(conn, tmp_path, ext):
    gdf = _cameras(conn)
    path = tmp_path / f"cams.{ext}"
    WRITERS[ext](gdf, path)
    before = _count(conn, m.Camera)
    assert load_file(conn, path, "cameras") == 3
    assert _count(conn, m.Camera) == before + 3
    stored = conn.execute(text(
        "SELECT ST_X(geom), ST_Y(geom), grid_id FROM camera WHERE code = 'IMP-0'")).one()
    assert stored[0] == pytest.approx(gdf.geometry[0].x, abs=1e-9)
    assert stored[2] is not None  # re-homed into the current grid version


def test_loading_the_same_file_twice_does_not_double_it(conn, tmp_path):
    path = tmp_path / "cams.geojson"
    _cameras(conn).to_file(path)
    before = _count(conn, m.Camera)
    load_file(conn, path, "cameras")
    load_file(conn, path, "cameras")
    assert _count(conn, m.Camera) == before + 3


def test_a_projected_file_is_reprojected(conn, tmp_path):
    gdf = _cameras(conn).to_crs("EPSG:4547")
    path = tmp_path / "cams_gk.gpkg"
    gdf.to_file(path)
    load_file(conn, path, "cameras")
    x = conn.execute(text("SELECT ST_X(geom) FROM camera WHERE code = 'IMP-0'")).scalar()
    assert x == pytest.approx(_cameras(conn).geometry[0].x, abs=1e-7)


def test_a_gcj02_file_lands_within_a_metre_of_its_wgs84_place(conn, tmp_path):
    truth = _cameras(conn)
    lon, lat = wgs84_to_gcj02(truth.geometry.x.to_numpy(), truth.geometry.y.to_numpy())
    shifted = truth.set_geometry(geopandas.points_from_xy(lon, lat), crs="EPSG:4326")
    path = tmp_path / "amap.geojson"
    shifted.to_file(path)
    load_file(conn, path, "cameras", crs="gcj02")
    rows = conn.execute(text("SELECT code, ST_X(geom), ST_Y(geom) FROM camera WHERE code LIKE 'IMP-%' ORDER BY code"))
    for (code, x, y), want in zip(rows, truth.geometry):
        _, _, metres = GEOD.inv(x, y, want.x, want.y)
        assert metres < 1.0, code
    # and the raw GCJ-02 numbers were hundreds of metres off
    _, _, raw = GEOD.inv(lon[0], lat[0], truth.geometry[0].x, truth.geometry[0].y)
    assert raw > 100


def test_real_gcj02_points_load_onto_their_published_places(empty_engine, tmp_path):
    """Real Amap (GCJ-02) points of 200 Nanjing enterprises, published with WGS-84 twins.

    The published WGS-84 column was made with the common one-step inverse, which
    is off by up to a few metres; our exact inverse must map back onto the
    published GCJ-02 to within a centimetre, and sit within that one-step error
    (median under a metre) of the published WGS-84.
    """
    table = pd.read_csv(SHARED / "realdata" / "nanjing_jianye" / "jianye_enterprises_4071.csv").head(200)
    gdf = geopandas.GeoDataFrame(
        {"code": [f"NJ{i}" for i in range(len(table))], "name": table["name"], "kind": "supply_depot"},
        geometry=geopandas.points_from_xy(table["lon_gcj02"], table["lat_gcj02"]), crs="EPSG:4326",
    )
    path = tmp_path / "jianye_gcj02.gpkg"
    gdf.to_file(path)
    with empty_engine.begin() as conn:
        assert load_file(conn, path, "resources", crs="gcj02") == len(table)
        rows = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM resource ORDER BY id")).all()
    lon = np.array([r[0] for r in rows])
    lat = np.array([r[1] for r in rows])
    back_lon, back_lat = wgs84_to_gcj02(lon, lat)
    _, _, roundtrip = GEOD.inv(back_lon, back_lat, table["lon_gcj02"].to_numpy(), table["lat_gcj02"].to_numpy())
    assert np.max(roundtrip) < 0.01
    _, _, published = GEOD.inv(lon, lat, table["lon_wgs84"].to_numpy(), table["lat_wgs84"].to_numpy())
    assert np.median(published) < 1.0 and np.max(published) < 4.0


# -- bad input: the message says what and where; nothing is written -------------------------------
def _bad(conn, tmp_path, gdf, *, layer="cameras", name="bad.geojson", crs=None):
    path = tmp_path / name
    gdf.to_file(path)
    before = _count(conn, m.Camera), _count(conn, m.AuditLog)
    with pytest.raises(LoadError) as err:
        load_file(conn, path, layer, crs=crs)
    assert (_count(conn, m.Camera), _count(conn, m.AuditLog)) == before
    assert name in str(err.value)
    return err.value


def test_a_missing_field_is_named(conn, tmp_path):
    err = _bad(conn, tmp_path, _cameras(conn).drop(columns="range_m"))
    assert err.field == "range_m" and "range_m" in str(err)


def test_a_null_in_a_required_field_names_the_feature(conn, tmp_path):
    gdf = _cameras(conn)
    gdf.loc[1, "kind"] = None
    err = _bad(conn, tmp_path, gdf)
    assert err.feature == 1 and err.field == "kind"


def test_a_value_outside_the_allowed_kinds_lists_them(conn, tmp_path):
    gdf = _cameras(conn)
    gdf.loc[2, "kind"] = "periscope"
    err = _bad(conn, tmp_path, gdf)
    assert err.feature == 2 and "periscope" in str(err) and "dome" in str(err)


def test_a_wrong_geometry_type_is_refused(conn, tmp_path):
    gdf = _cameras(conn)
    gdf = gdf.set_geometry(geopandas.GeoSeries(shapely.buffer(gdf.geometry.to_numpy(), 1e-4), crs="EPSG:4326"))
    err = _bad(conn, tmp_path, gdf)
    assert err.feature == 0 and "Polygon" in str(err) and "Point" in str(err)


def test_a_self_intersecting_polygon_is_refused_with_the_reason(conn, tmp_path):
    x, y = _inside_points(conn, 1)[0].coords[0]
    bowtie = shapely.Polygon([(x, y), (x + 0.001, y + 0.001), (x + 0.001, y), (x, y + 0.001), (x, y)])
    good = shapely.box(x, y, x + 0.0005, y + 0.0005)
    gdf = geopandas.GeoDataFrame({"code": ["B1", "B2"], "zone": ["inner", "inner"]},
                                 geometry=[good, bowtie], crs="EPSG:4326")
    before = _count(conn, m.Building)
    path = tmp_path / "bowtie.geojson"
    gdf.to_file(path)
    with pytest.raises(LoadError) as err:
        load_file(conn, path, "buildings")
    assert err.value.feature == 1 and "self-intersection" in str(err.value).lower()
    assert _count(conn, m.Building) == before


def test_coordinates_outside_the_district_are_refused(conn, tmp_path):
    gdf = _cameras(conn)
    gdf.loc[1, "geometry"] = shapely.Point(116.39, 39.91)  # Beijing
    err = _bad(conn, tmp_path, gdf)
    assert err.feature == 1 and "district" in str(err)


def test_metres_declared_as_degrees_are_out_of_any_sane_range(conn, tmp_path):
    gdf = _cameras(conn).to_crs("EPSG:4547").set_crs("EPSG:4326", allow_override=True)
    err = _bad(conn, tmp_path, gdf, name="metres.geojson")
    assert err.feature == 0 and ("range" in str(err) or "longitude" in str(err))


def test_a_grids_file_becomes_a_new_current_version(conn, tmp_path):
    district = district_outline(conn)
    minx, miny, maxx, maxy = district.bounds
    mid = (minx + maxx) / 2
    halves = [district.intersection(shapely.box(minx, miny, mid, maxy)),
              district.intersection(shapely.box(mid, miny, maxx, maxy))]
    gdf = geopandas.GeoDataFrame({"code": ["G-W", "G-E"], "zone": ["inner", "outer"]},
                                 geometry=halves, crs="EPSG:4326")
    path = tmp_path / "grids.gpkg"
    gdf.to_file(path)
    old = conn.execute(text("SELECT id FROM grid_version WHERE is_current")).scalar()
    load_file(conn, path, "grids")
    new = conn.execute(text("SELECT id FROM grid_version WHERE is_current")).scalar()
    assert new != old
    assert conn.execute(text("SELECT count(*) FROM grid WHERE version_id = :v"), {"v": old}).scalar() > 2
    homeless = conn.execute(text("SELECT count(*) FROM building WHERE grid_id IS NULL")).scalar()
    assert homeless == 0
