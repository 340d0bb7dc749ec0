"""gis_data.readers: reading every format, coordinate systems and Chinese datums."""

from __future__ import annotations

import logging
import re
import struct
import zipfile
from pathlib import Path

import geopandas
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from gis_data.coords import wgs84_to_bd09, wgs84_to_gcj02
from gis_data.readers import read_vector, to_wgs84
from layers.errors import LoadError
from tests.gis_data.frames import cameras_frame, grids_frame

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
        ("a.ods", b"x,y\n1,2\n", "unknown format '.ods'"),
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


# --------------------------------------------------------------------------- tables and KML


def test_csv_with_lonlat_wkt_or_no_geometry(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,经度,纬度,name\n1,120.16,30.27,甲\n2,,,乙\n", encoding="utf-8-sig")
    gdf = read_vector(path)
    assert gdf.geometry.iloc[0].equals(Point(120.16, 30.27)) and gdf.geometry.iloc[1] is None
    assert gdf["id"].tolist() == ["1", "2"]  # cells as text: codes keep their leading zeros
    path.write_text("code,wkt\n01,POINT (1 2)\n", encoding="gb18030")
    assert read_vector(path).geometry.iloc[0].equals(Point(1, 2))
    path.write_text("code,name\n01,坪山街道\n", encoding="gb18030")  # GBK text, no coordinates
    gdf = read_vector(path)
    assert gdf["name"].iloc[0] == "坪山街道" and gdf.geometry.isna().all()
    path.write_text("code,lon,lat\n1,120.1,x\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"t.csv, feature 0, field 'lat': lat: 'x' is not a number"):
        read_vector(path)
    path.write_text("code,wkt\n1,POINT (1\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"feature 0, field 'wkt': wkt: 'POINT \(1' is not WKT"):
        read_vector(path)


def test_xlsx_sheet_and_kml(tmp_path):
    path = tmp_path / "t.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"code": ["a"], "x": [1.5], "y": [2.5]}).to_excel(book, sheet_name="first", index=False)
        pd.DataFrame({"code": ["b", "c"], "lng": [3, 4], "lat": [5, 6]}).to_excel(book, sheet_name="second",
                                                                                index=False)
    assert read_vector(path).geometry.iloc[0].equals(Point(1.5, 2.5))
    second = read_vector(path, layer="second")
    assert second["code"].tolist() == ["b", "c"] and second.geometry.iloc[1].equals(Point(4, 6))
    with pytest.raises(LoadError, match=r"t.xlsx: cannot be read as XLSX"):
        read_vector(path, layer="third")
    kml = tmp_path / "t.kml"
    geopandas.GeoDataFrame({"Name": ["井盖"]}, geometry=[Point(120.1, 30.2)], crs="EPSG:4326").to_file(kml,
                                                                                                   driver="KML")
    back = read_vector(kml)
    assert back.geometry.iloc[0].equals(Point(120.1, 30.2)) and "井盖" in back.iloc[0].tolist()
