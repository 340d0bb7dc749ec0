"""gis_data.rasters: hand-made rasters with answers worked out by hand, and the real WorldPop files for Wuhan."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from rasterio.crs import CRS

from gis_data import rasters as R
from layers.errors import LoadError

WORLDPOP = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "wuhan_worldpop"
NODATA = -3.4028234663852886e38  # WorldPop's float32 nodata

# A 4×4 population raster of 0.01° pixels whose upper-left corner is 114.00°E 30.04°N (people per pixel).
#   row 0 (30.03–30.04):  10  20   30   40
#   row 1 (30.02–30.03):  50  60   70   80
#   row 2 (30.01–30.02):   4   8   12   16
#   row 3 (30.00–30.01): 100   0  n/a    2
PEOPLE = np.array([[10, 20, 30, 40], [50, 60, 70, 80], [4, 8, 12, 16], [100, 0, np.nan, 2]], dtype=np.float64)
ORIGIN = Affine(0.01, 0.0, 114.0, 0.0, -0.01, 30.04)


def _write(path: Path, bands: list[np.ndarray], transform: Affine = ORIGIN, crs: str = "EPSG:4326") -> Path:
    """A georeferenced float32 GeoTIFF with WorldPop's nodata (NaN cells become nodata)."""
    h, w = bands[0].shape
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=len(bands), dtype="float32", crs=crs,
                       transform=transform, nodata=NODATA) as dst:
        for i, band in enumerate(bands, start=1):
            dst.write(np.where(np.isnan(band), NODATA, band).astype("float32"), i)
    return path


def px(col: float, row: float) -> tuple[float, float]:
    """Longitude and latitude of a pixel-grid position (column, row) of the hand-made raster."""
    return 114.0 + 0.01 * col, 30.04 - 0.01 * row


def box(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    """The box between two pixel-grid positions."""
    (x0, y0), (x1, y1) = px(c0, r0), px(c1, r1)
    return shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


@pytest.fixture
def people(tmp_path: Path) -> R.Raster:
    return R.read_population(_write(tmp_path / "people.tif", [PEOPLE]))


def _zones(*geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [f"z{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs="EPSG:4326")


# -- reading and adding ----------------------------------------------------------------------------------------
def test_read_population_keeps_grid_and_marks_nodata(people: R.Raster) -> None:
    assert people.crs == CRS.from_epsg(4326)
    assert people.transform.almost_equals(ORIGIN)
    assert people.shape == (4, 4)
    assert np.isnan(people.data[3, 2]) and np.isnan(PEOPLE).sum() == 1
    assert people.total() == 502  # the sum of the people above, worked out by hand


def test_files_and_bands_add_up_on_one_grid(tmp_path: Path) -> None:
    a = np.array([[1, 2], [3, np.nan]])
    b = np.array([[10, np.nan], [30, np.nan]])
    c1, c2 = np.array([[100, 200], [300, 400]]), np.array([[5, 5], [5, 5]])
    t = Affine(0.5, 0, 110.0, 0, -0.5, 31.0)
    fa, fb = _write(tmp_path / "f.tif", [a], t), _write(tmp_path / "m.tif", [b], t)
    fc = _write(tmp_path / "two_bands.tif", [c1, c2], t)

    both = R.read_population([fa, fb])
    # a pixel missing in one file counts that file as zero; missing in every file stays missing
    np.testing.assert_array_equal(both.data, [[11, 2], [33, np.nan]])
    np.testing.assert_array_equal(R.read_population(fc).data, [[105, 205], [305, 405]])
    np.testing.assert_array_equal(R.read_population(fc, bands=[2]).data, [[5, 5], [5, 5]])
    assert R.read_population([fa, fb, fc]).total() == 11 + 2 + 33 + 105 + 205 + 305 + 405


def test_files_off_the_first_grid_are_refused(tmp_path: Path) -> None:
    a = np.ones((2, 2))
    first = _write(tmp_path / "a.tif", [a], Affine(0.5, 0, 110.0, 0, -0.5, 31.0))
    shifted = _write(tmp_path / "b.tif", [a], Affine(0.5, 0, 110.25, 0, -0.5, 31.0))
    with pytest.raises(LoadError, match="not on the pixel grid of a.tif") as err:
        R.read_population([first, shifted])
    assert err.value.source == "b.tif"
    with pytest.raises(LoadError, match="band 3 does not exist"):
        R.read_population(first, bands=[3])
    with pytest.raises(LoadError, match="no population raster"):
        R.read_population([])


def test_bounds_read_only_the_window_around_them(tmp_path: Path) -> None:
    path = _write(tmp_path / "people.tif", [PEOPLE])
    part = R.read_population(path, bounds=(114.015, 30.015, 114.025, 30.035))  # cols 1–2, rows 0–2
    assert part.shape == (3, 2)
    assert part.transform.almost_equals(Affine(0.01, 0, 114.01, 0, -0.01, 30.04))
    assert part.total() == 20 + 30 + 60 + 70 + 8 + 12
    with pytest.raises(LoadError, match="outside this raster"):
        R.read_population(path, bounds=(120.0, 30.0, 120.1, 30.1))


def test_densities_per_km2_become_people_per_pixel(tmp_path: Path) -> None:
    # 100 m pixels in a metric CRS: 1,000 people per km² is 10 people per pixel
    path = _write(tmp_path / "pd.tif", [np.full((3, 3), 1000.0)], Affine(100, 0, 500_000, 0, -100, 3_000_000),
                  crs="EPSG:4547")
    assert R.read_population(path, per_km2=True).total() == pytest.approx(90.0, abs=1e-9)
    # a geographic 0.01° pixel at the equator is (R·0.01·π/180)² km²
    geo = _write(tmp_path / "pd_geo.tif", [np.array([[1.0]])], Affine(0.01, 0, 10.0, 0, -0.01, 0.005))
    side = 6371.0088 * math.radians(0.01)
    assert R.read_population(geo, per_km2=True).total() == pytest.approx(side * side, rel=1e-6)


# -- zonal totals ----------------------------------------------------------------------------------------------
def test_fraction_zonal_sums_are_exact_to_the_person(people: R.Raster) -> None:
    zones = _zones(
        box(0, 0, 1.5, 2),  # col 0 and half of col 1, rows 0–1: 10 + 50 + (20 + 60) / 2
        shapely.Polygon([px(2, 0), px(4, 0), px(4, 1)]),  # a triangle over the first row's two right pixels
        box(1, 3, 4, 4),  # row 3, cols 1–3: 0 + (no data) + 2; a third of it has no data
        box(3.25, 1.25, 3.75, 1.75),  # a quarter of pixel (1,3): 80 / 4
        box(10, 10, 11, 11),  # outside the raster
    )
    got = R.zonal_sums(people, zones)
    # the triangle (2,0)-(4,0)-(4,1) covers pixel (0,3) three quarters and pixel (0,2) one quarter
    assert got["raster_pop"].round(6).tolist() == [100.0, 30 * 0.25 + 40 * 0.75, 2.0, 20.0, 0.0]
    assert got["covered_share"].round(6).tolist() == [1.0, 1.0, round(2 / 3, 6), 1.0, 0.0]
    assert got.index.equals(zones.index)


def test_fraction_sums_of_a_tiling_keep_every_person(people: R.Raster) -> None:
    # nine irregular strips tiling the raster: together they hold exactly the raster's people
    cuts = [0, 0.3, 1.7, 4]
    tiles = [box(c0, r0, c1, r1) for c0, c1 in zip(cuts, cuts[1:]) for r0, r1 in zip(cuts, cuts[1:])]
    got = R.zonal_sums(people, _zones(*tiles))
    assert got["raster_pop"].sum() == pytest.approx(people.total(), abs=1e-9)
    assert got["raster_pop"].min() > 0


def test_centre_weighting_takes_whole_pixels(people: R.Raster) -> None:
    zones = _zones(box(0, 0, 1.6, 2), box(3.0, 1.0, 3.45, 1.45), box(0.4, 0.4, 2.6, 1.6))
    got = R.zonal_sums(people, zones, method="centre")
    # whole pixels whose centre lies inside: columns 0–1 of rows 0–1; nothing for a corner of pixel (1, 3) that
    # misses its centre (the fractions give 80 × 0.45²); columns 0–2 of rows 0–1 for a box covering barely half
    # of the outer ones
    assert got["raster_pop"].tolist() == [10 + 20 + 50 + 60, 0.0, 10 + 20 + 30 + 50 + 60 + 70]
    assert R.zonal_sums(people, zones)["raster_pop"].iat[1] == pytest.approx(80 * 0.45 ** 2, abs=1e-6)
    with pytest.raises(ValueError, match="method"):
        R.zonal_sums(people, zones, method="nearest")


def test_zones_in_another_crs_are_reprojected(people: R.Raster) -> None:
    zone = _zones(box(0, 0, 2, 2)).to_crs("EPSG:3857")
    assert R.zonal_sums(people, zone)["raster_pop"].iat[0] == pytest.approx(10 + 20 + 50 + 60, abs=1e-6)


def test_population_table_estimates_grids_without_buildings(people: R.Raster) -> None:
    zones = _zones(box(0, 0, 2, 2), box(2, 0, 4, 2), box(0, 2, 2, 4), box(10, 10, 11, 11))
    zones["building_pop"] = [100, 120, 0, 0]
    zones["n_buildings"] = [3, 4, 0, 0]
    table = R.population_table(zones, people)
    assert table["raster_pop"].round(6).tolist() == [140.0, 220.0, 112.0, 0.0]
    assert table["diff"].round(6).tolist() == [40.0, 100.0, 112.0, 0.0]
    assert table["estimate"].tolist()[:3] == [100, 120, 112] and table["estimate"].isna().tolist()[3]
    assert table["estimate_source"].tolist() == ["buildings", "buildings", "raster", "none"]
    # shares: raster 140/472 vs buildings 100/220 → −15.8 percentage points
    assert table["share_diff_pp"].iat[0] == pytest.approx(100 * (140 / 472 - 100 / 220), abs=1e-9)
    worst = R.disagreements(table, 2)
    assert worst["code"].tolist() == ["z2", "z1"]  # the zone outside the raster is not "0 people"
    assert R.disagreements(table, 1, by="ratio")["code"].tolist() == ["z1"]


# -- the real WorldPop files for Wuhan (test-only data, read in place) ----------------------------------------
def test_wuhan_worldpop_files_add_up() -> None:
    files = sorted(WORLDPOP.glob("pop_*_wuhan.tif"))
    assert len(files) == 4, f"expected the four WorldPop files in {WORLDPOP}"
    window = (114.20, 30.50, 114.40, 30.70)  # central Wuhan, both banks of the Yangtze
    whole = R.read_population(files, bounds=window)
    parts = [R.read_population(f, bounds=window).total() for f in files]
    assert whole.total() > 100_000
    assert whole.total() == pytest.approx(sum(parts), rel=1e-12)
    assert all(p > 0 for p in parts)
    assert whole.shape == (241, 241)  # 3″ pixels
    # split the window into a 3×3 tiling: the exact fractions hand every person to one tile
    xs, ys = np.linspace(window[0], window[2], 4), np.linspace(window[1], window[3], 4)
    tiles = _zones(*[shapely.box(x0, y0, x1, y1) for x0, x1 in zip(xs, xs[1:]) for y0, y1 in zip(ys, ys[1:])])
    inside = R.zonal_sums(whole, tiles)["raster_pop"].sum()
    assert inside == pytest.approx(R.zonal_sums(whole, _zones(shapely.box(*window)))["raster_pop"].iat[0],
                                   rel=1e-9)
    assert 0 < inside <= whole.total()


# -- kernel density ----------------------------------------------------------------------------------------------
def _metric_points(xy: list[tuple[float, float]], **cols) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(cols, geometry=gpd.points_from_xy(*zip(*xy)), crs="EPSG:4547")


def test_density_has_the_right_crs_transform_and_total(tmp_path: Path) -> None:
    pts = _metric_points([(500_003, 3_000_004), (500_052, 3_000_001), (500_021, 3_000_043)])
    d = R.kernel_density(pts.to_crs("EPSG:4326"), crs=4547, cell_m=10, bandwidth_m=30)
    # extent: the points' cells (x 500000–500060, y 3000000–3000050) padded by the kernel radius (3 cells)
    assert d.crs == CRS.from_epsg(4547)
    assert d.transform.almost_equals(Affine(10, 0, 499_970, 0, -10, 3_000_080), precision=1e-6)
    assert d.shape == (11, 12)
    assert d.data.sum() * 10 * 10 / 1e6 == pytest.approx(3.0, abs=1e-9)
    assert d.units == "events/km²"
    path = d.write(tmp_path / "density.tif")
    with rasterio.open(path) as src:
        assert src.crs == CRS.from_epsg(4547)
        assert src.transform.almost_equals(d.transform)
        assert src.read(1).sum() * src.res[0] * src.res[1] / 1e6 == pytest.approx(3.0, abs=1e-9)
        assert src.tags()["units"] == "events/km²"


def test_one_event_spreads_as_the_quartic_kernel() -> None:
    d = R.kernel_density(_metric_points([(500_005, 3_000_005)]), crs=4547, cell_m=10, bandwidth_m=50)
    k = R.quartic_kernel(50, 10)
    assert k.shape == (11, 11) and k.sum() == pytest.approx(1.0)
    assert k[5, 5] == k.max() and k[5, 0] == 0.0  # exactly at the radius: zero
    peak = np.unravel_index(np.argmax(d.data), d.shape)
    x, y = d.transform.c + (peak[1] + 0.5) * 10, d.transform.f - (peak[0] + 0.5) * 10
    assert (x, y) == (500_005, 3_000_005)
    assert d.data.max() == pytest.approx(k[5, 5] / 1e-4)  # events per km² in a cell of 0.0001 km²
    np.testing.assert_allclose(d.data, d.data[::-1, ::-1])  # symmetric about the event


def test_density_bounds_and_weights() -> None:
    pts = _metric_points([(500_000, 3_000_000), (500_100, 3_000_100), (510_000, 3_000_000)], w=[2.0, 3.0, 7.0])
    d = R.kernel_density(pts, crs=4547, cell_m=20, bandwidth_m=100, bounds=(499_900, 2_999_900, 500_200, 3_000_200),
                         weights="w")
    assert d.data.sum() * 400 / 1e6 == pytest.approx(5.0)  # the third point lies outside the bounds
    assert d.tags["n_points"] == 2
    with pytest.raises(ValueError, match="metric CRS"):
        R.kernel_density(pts, crs=4326)


def test_hotspots_are_ranked_counted_and_named() -> None:
    a = [(500_000 + dx, 3_000_000 + dy) for dx, dy in [(0, 0), (10, 5), (-8, 3), (4, -9), (2, 2)]]
    b = [(501_000, 3_000_500), (501_010, 3_000_505)]
    pts = _metric_points(a + b)
    d = R.kernel_density(pts, crs=4547, cell_m=10, bandwidth_m=100)
    grids = gpd.GeoDataFrame({"code": ["G-A", "G-B"]}, geometry=[shapely.box(499_800, 2_999_800, 500_300, 3_000_300),
                                                                 shapely.box(500_800, 3_000_300, 501_300, 3_000_800)],
                             crs="EPSG:4547")
    spots = R.hotspots(d, pts, n=5, zones=grids)
    assert spots["rank"].tolist() == [1, 2]  # two clusters, a bandwidth apart at least
    assert spots["code"].tolist() == ["G-A", "G-B"]
    assert spots["events_within"].tolist() == [5, 2]
    assert spots.crs == CRS.from_epsg(4326)
    assert spots["density"].is_monotonic_decreasing


def test_overlay_is_a_transparent_heat_image(tmp_path: Path) -> None:
    pts = _metric_points([(500_000, 3_000_000)] * 3 + [(500_400, 3_000_300)])
    d = R.kernel_density(pts, crs=4547, cell_m=10, bandwidth_m=80)
    ov = R.overlay_image(d)
    assert ov.rgba.dtype == np.uint8 and ov.rgba.shape[2] == 4
    assert ov.rgba[0, 0, 3] == 0  # a corner is out of every kernel's reach: see-through
    assert ov.rgba[..., 3].max() >= 200
    (south, west), (north, east) = ov.bounds
    lon, lat = pts.to_crs(4326).geometry.x, pts.to_crs(4326).geometry.y
    assert (west < lon.min() < lon.max() < east) and (south < lat.min() < lat.max() < north)
    small = R.overlay_image(d, max_size=16)
    assert max(small.rgba.shape[:2]) <= 16
    assert R.png_bytes(ov)[:8] == b"\x89PNG\r\n\x1a\n"


# -- terrain and the flood watch list ---------------------------------------------------------------------------
# A 4×5 DEM of 10 m cells (EPSG:4547), upper-left corner at (500000, 3000040): heights in metres
DEM = np.array([
    [12.0, 11.0, 10.0, 10.5, 13.0],
    [9.0, 8.5, 10.0, 11.0, 12.0],
    [7.0, 9.5, 6.0, 10.0, 14.0],
    [8.0, 8.0, 9.0, np.nan, 15.0],
])


def _dem() -> R.Raster:
    return R.Raster(DEM, Affine(10, 0, 500_000, 0, -10, 3_000_040), CRS.from_epsg(4547), units="m")


def _cell(row: int, col: int) -> tuple[float, float]:
    return (500_000 + 10 * col + 5, 3_000_040 - 10 * row - 5)


def test_sample_raster_takes_the_pixel_a_point_is_in(tmp_path: Path) -> None:
    pts = _metric_points([_cell(0, 0), _cell(2, 2), (500_049.9, 3_000_000.1), _cell(3, 3), (499_990, 3_000_000)])
    expected = [12.0, 6.0, 15.0, np.nan, np.nan]  # the fourth is on nodata, the fifth off the DEM
    np.testing.assert_array_equal(R.sample_raster(_dem(), pts), expected)
    path = _dem().write(tmp_path / "dem.tif", dtype="float32")
    np.testing.assert_array_equal(R.sample_raster(path, pts.to_crs(4326)), expected)


def test_flood_watchlist_lists_the_lowest_covers_per_street() -> None:
    where = {  # code: (cell, street)
        "A1": ((0, 0), "S1"), "A2": ((1, 0), "S1"), "A3": ((2, 0), "S1"), "A4": ((3, 0), "S1"),
        "A5": ((3, 1), "S1"), "A6": ((0, 2), "S1"), "A7": ((1, 1), "S1"), "A8": ((1, 2), "S1"),
        "B1": ((2, 2), "S2"), "B2": ((0, 4), "S2"), "B3": ((2, 3), "S2"), "B4": ((3, 3), "S2"),
        "C1": ((0, 3), "S3"),
    }
    pts = _metric_points([_cell(*c) for c, _ in where.values()], code=list(where),
                         street_code=[s for _, s in where.values()])
    got = R.flood_watchlist(pts, _dem(), share=0.25, relief_radius_m=10)
    # S1: 8 points, ceil(0.25·8) = 2 → 7.0 (A3) and the tie at 8.0 (A4, A5) — ties are kept
    # S2: B4 is on nodata, so 3 points, ceil(0.75) = 1 → B1 at 6.0;  S3: one point, at least one
    assert got["code"].tolist() == ["A3", "A4", "A5", "B1", "C1"]
    assert got["elevation_m"].tolist() == [7.0, 8.0, 8.0, 6.0, 10.5]
    assert got["rank"].tolist() == [1, 2, 2, 1, 1]
    assert got["n_in_group"].tolist() == [8, 8, 8, 3, 1]
    assert got.loc[got["code"] == "B1", "street_median_m"].iat[0] == 10.0  # median of 6, 13, 10
    # B1 lies in a hollow: 6 m against the mean of its 3×3 neighbourhood, the nodata cell left out
    b1 = got.loc[got["code"] == "B1", "relief_m"].iat[0]
    assert b1 == pytest.approx(6.0 - np.mean([8.5, 10.0, 11.0, 9.5, 6.0, 10.0, 8.0, 9.0]))


def test_lowest_per_group_needs_a_share() -> None:
    frame = gpd.GeoDataFrame({"g": ["x", "x"], "v": [1.0, 2.0]})
    with pytest.raises(ValueError, match="share"):
        R.lowest_per_group(frame, "v", "g", share=0)
    assert R.lowest_per_group(frame, "v", "g", share=1.0)["rank"].tolist() == [1, 2]


def test_synthetic_dem_is_deterministic_and_rises_from_the_river() -> None:
    outline = shapely.box(0, 0, 2000, 1500)
    river = shapely.box(-500, -500, 0, 2000)  # along the west edge
    one = R.synthetic_dem(outline, crs=4547, river=river, cell_m=20, seed=3)
    again = R.synthetic_dem(outline, crs=4547, river=river, cell_m=20, seed=3)
    other = R.synthetic_dem(outline, crs=4547, river=river, cell_m=20, seed=4)
    np.testing.assert_array_equal(one.data, again.data)
    assert not np.array_equal(one.data, other.data)
    assert one.crs == CRS.from_epsg(4547) and one.units == "m"
    assert one.data[:, :10].mean() + 4 < one.data[:, -10:].mean()  # 3 m per km over 2 km, noise aside
    hollows = [tuple(map(float, h.split())) for h in one.tags["hollows"].split(";")]
    assert len(hollows) == 6 and all(outline.contains(shapely.Point(x, y)) for x, y, _ in hollows)
    relief = R.local_relief(one, 150)
    x, y, depth = max(hollows, key=lambda h: h[2])
    at = R.sample_raster(relief, _metric_points([(x, y)]))[0]
    assert at < -0.5  # the bottom of the deepest hollow lies well below its surroundings


def test_raster_round_trip_and_refusals(tmp_path: Path) -> None:
    r = R.Raster(np.array([[1.0, np.nan]]), Affine(5, 0, 0, 0, -5, 10), CRS.from_epsg(4547), units="m",
                 tags={"seed": 1})
    back = R.Raster.read(r.write(tmp_path / "r.tif"))
    assert back.units == "m" and back.transform == r.transform and np.isnan(back.data[0, 1])
    assert back.bounds == (0, 5, 10, 10) and back.cell_area == 25
    with pytest.raises(LoadError, match="north-up"):
        R.Raster(np.ones((1, 1)), Affine(5, 0, 0, 0, 5, 10), CRS.from_epsg(4547))
    with pytest.raises(ValueError, match="one band"):
        R.Raster(np.ones((1, 1, 1)), Affine(5, 0, 0, 0, -5, 10), CRS.from_epsg(4547))
