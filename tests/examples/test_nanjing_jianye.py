"""Nanjing 建邺区's worked example, and the shipped OSM buildings mapping."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import text

from tests.examples.common import REALDATA, ROOT, run_example


def test_nanjing_jianye_buildings_get_households_and_partition(cluster, tmp_path, quick_params):
    """The store partitions the estimated buildings: one draw, no final repair (what it can, not how well; the
    shipped search's figures on these footprints are in bench/bench_realdata_partition.py)."""
    from layers import partitioning

    engine, out = run_example("nanjing_jianye", cluster, tmp_path)
    one_draw = quick_params.model_copy(update={"repair_effort": 5, "final_repair_rings": 0, "wider_redraws": 0})
    try:
        with engine.begin() as conn:
            b = conn.execute(text("SELECT count(*) AS n, count(*) FILTER (WHERE households > 0) AS housed,"
                                  " max(households) AS most, min(floors) AS low FROM building")).one()
            version, report = partitioning.propose(conn, mode="partition", created_by="test", params=one_draw)
            grids = conn.execute(text("SELECT count(*) FROM grid WHERE version_id = :v"), {"v": version}).scalar()
    finally:
        engine.dispose()
    assert b.n == 5284  # the self-intersecting footprint repaired, on request
    assert b.housed / b.n > 0.95 and b.most == 5000 and b.low >= 1
    assert "over the cap of 5,000" in out
    print(f"Nanjing: {grids} grids proposed, {report['summary']['share_grids_within_bounds']:.1%} in band")
    assert grids > 100 and report["summary"]["all_contiguous"]


def test_the_shipped_osm_mapping_reads_tilezen_buildings(empty_engine):
    """Wuhan 光谷's OSM buildings (Tilezen tiles cut them: parts share an id) into 洪山区."""
    from command.taxonomy import load_taxonomy
    from gis_data.importer import ImportOptions, import_file, init_district
    from gis_data.mapping import read_mapping
    from gis_data.readers import read_vector

    mapping = read_mapping(ROOT / "examples/mappings/osm_buildings.toml")
    path = REALDATA / "wuhan_guanggu_osm_tilezen/buildings.geojson"
    source = read_vector(path)  # GDAL warns of the repeated ids; the reader logs it
    with empty_engine.begin() as conn:
        load_taxonomy(conn)
        init_district(conn, REALDATA / "datav_target_district_boundaries_gcj02.geojson", code="420111",
                      crs="gcj02")
        report, _ = import_file(conn, path, "buildings", ImportOptions(mapping=mapping))
        stored = conn.execute(text("SELECT count(*), count(*) FILTER (WHERE floors > 1) FROM building")).one()
    buildings = source[source["kind"] == "building"]
    assert report.written == stored[0] == buildings["id"].nunique()
    heights = pd.to_numeric(buildings.drop_duplicates("id")["height"], errors="coerce")  # the first part's fields
    assert stored[1] == (heights >= 4.5).sum() > 0  # round(h / 3 m) > 1
