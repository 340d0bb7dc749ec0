"""Tests for gis_data.coords: the GCJ-02 / BD-09 datum shifts."""

from __future__ import annotations

from pathlib import Path

import geopandas
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon

from gis_data.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    convert_geometries,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# Test-only data beside the repository (../shared); present in CI, so a missing file fails the run.
ENTERPRISES = Path(__file__).resolve().parents[2].parent / "shared/realdata/nanjing_jianye/jianye_enterprises_4071.csv"
GEOD = pyproj.Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.fixture(scope="module")
def china_grid() -> tuple[np.ndarray, np.ndarray]:
    """A 0.37° × 0.29° lattice over mainland China's longitude/latitude span (≈ 33,000 points)."""
    lon, lat = np.meshgrid(np.arange(73.5, 135.0, 0.37), np.arange(18.2, 53.5, 0.29))
    return lon.ravel(), lat.ravel()


@pytest.fixture(scope="module")
def enterprises() -> pd.DataFrame:
    df = pd.read_csv(ENTERPRISES)  # FileNotFoundError if absent: a real failure, never a skip
    assert len(df) == 4071
    return df


def test_wgs84_gcj02_round_trip_under_1cm(china_grid):
    lon, lat = china_grid
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert np.median(metres(lon, lat, glon, glat)) > 100  # the shift really happened
    back = gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, *back).max() < 0.01


def test_gcj02_inverse_is_exact_not_one_step(china_grid):
    # Start from GCJ-02 numbers (what a user hands us): the inverse must reproduce them through the
    # forward formula to < 1e-7°; the common one-step inverse misses by up to ~3e-5°.
    glon, glat = china_grid
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    flon, flat = wgs84_to_gcj02(wlon, wlat)
    assert max(np.abs(flon - glon).max(), np.abs(flat - glat).max()) < 1e-7
    one_step = 2 * glon - wgs84_to_gcj02(glon, glat)[0]
    assert np.abs(one_step - wlon).max() > 1e-6


def test_bd09_round_trips_under_1cm(china_grid):
    lon, lat = china_grid
    blon, blat = wgs84_to_bd09(lon, lat)
    assert metres(lon, lat, blon, blat).min() > 100
    assert metres(lon, lat, *bd09_to_wgs84(blon, blat)).max() < 0.01
    g = wgs84_to_gcj02(lon, lat)
    assert metres(*g, *bd09_to_gcj02(*gcj02_to_bd09(*g))).max() < 0.01


def test_forward_formulas_match_published_reference():
    # Reference values printed by wandergis/coordtransform (test/app.js, README) and its ports.
    assert wgs84_to_gcj02(116.404, 39.915) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-12)
    assert gcj02_to_bd09(116.404, 39.915) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-12)


def test_real_enterprise_pairs(enterprises):
    """Each enterprise has GCJ-02 (from Amap) and WGS-84 coordinates.

    The WGS-84 column was derived upstream with the one-step inverse, which is itself off by up to a few
    metres; our exact inverse therefore lands within ~1 m (median) and < 4 m (max) of it, and the
    one-step inverse reproduces it to its 6-decimal rounding (< 0.15 m).
    """
    g = enterprises[["lon_gcj02", "lat_gcj02"]].to_numpy().T
    w = enterprises[["lon_wgs84", "lat_wgs84"]].to_numpy().T
    assert np.median(metres(*g, *w)) > 300  # the pairs really differ by the datum shift
    exact = gcj02_to_wgs84(*g)
    err = metres(*exact, *w)
    assert np.median(err) < 1.0
    assert err.max() < 4.0
    forward = wgs84_to_gcj02(*exact)
    assert metres(*forward, *g).max() < 0.001
    one_step = 2 * g - np.asarray(wgs84_to_gcj02(*g))
    assert metres(*one_step, *w).max() < 0.15


def test_outside_china_passes_through_unchanged():
    paris = (2.3522, 48.8566)
    assert out_of_china(*paris)
    assert wgs84_to_gcj02(*paris) == paris
    assert gcj02_to_wgs84(*paris) == paris
    assert not out_of_china(118.77, 32.04)
    lon = np.array([2.3522, 118.77])
    lat = np.array([48.8566, 32.04])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon[0] == lon[0] and glat[0] == lat[0]
    assert glon[1] != lon[1]


def test_scalars_give_floats_arrays_keep_shape_nan_propagates():
    lon, lat = gcj02_to_wgs84(118.7, 32.0)
    assert type(lon) is float and type(lat) is float
    arr_lon = np.array([[118.7, np.nan], [120.0, 121.0]])
    arr_lat = np.array([[32.0, 31.0], [np.nan, 30.0]])
    out_lon, out_lat = gcj02_to_wgs84(arr_lon, arr_lat)
    assert out_lon.shape == (2, 2)
    assert np.isnan(out_lon[0, 1]) and np.isnan(out_lat[1, 0])
    assert np.isfinite(out_lon[1, 1]) and out_lon[0, 0] == pytest.approx(lon)


def test_convert_polygon_and_multiline_geoseries():
    ring = [(118.70, 32.00), (118.75, 32.00), (118.75, 32.05), (118.70, 32.05), (118.70, 32.00)]
    lines = [[(118.70, 32.00), (118.72, 32.01)], [(118.80, 32.02), (118.81, 32.03), (118.82, 32.01)]]
    wgs = geopandas.GeoSeries([Polygon(ring), MultiLineString(lines), None], index=[10, 20, 30], crs=4326)
    # What a GCJ-02 source would hold: the same shapes, shifted forward.
    gcj = geopandas.GeoSeries(shapely.transform(wgs.to_numpy(), wgs84_to_gcj02, interleaved=False), index=wgs.index)

    back = convert_geometries(gcj, "gcj02")

    assert isinstance(back, geopandas.GeoSeries)
    assert back.crs == "EPSG:4326"
    assert list(back.index) == [10, 20, 30]
    assert list(back.geom_type[:2]) == ["Polygon", "MultiLineString"]
    assert back.iloc[2] is None
    assert not shapely.equals_exact(gcj.iloc[0], wgs.iloc[0], tolerance=1e-4)
    for got, want in zip(back.iloc[:2], wgs.iloc[:2], strict=True):
        assert shapely.equals_exact(got, want, tolerance=1e-9)


def test_convert_array_keeps_z_and_handles_bd09():
    wgs_pt = Point(118.78, 32.04, 17.5)
    blon, blat = wgs84_to_bd09(118.78, 32.04)
    line = LineString([(blon, blat, 3.0), (blon + 0.01, blat, 4.0)])
    out = convert_geometries(np.array([Point(blon, blat, 17.5), line, Point(blon, blat)]), "bd09")
    assert isinstance(out, np.ndarray)
    assert out[0].has_z and out[0].z == 17.5
    assert metres(out[0].x, out[0].y, wgs_pt.x, wgs_pt.y) < 0.01
    assert list(shapely.get_coordinates(out[1], include_z=True)[:, 2]) == [3.0, 4.0]
    assert not out[2].has_z


def test_convert_rejects_unknown_datum():
    with pytest.raises(ValueError, match="gcj02"):
        convert_geometries(np.array([Point(1, 2)]), "wgs84")  # type: ignore[arg-type]
