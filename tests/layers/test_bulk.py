"""The bulk writer: repeatable, all or nothing, codes checked against the store."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select, text

from layers import models as m
from layers.bulk import write_frame
from layers.errors import LoadError
from layers.registry import layer


def _resources(codes, capacity=10):
    return pd.DataFrame({
        "code": codes,
        "name": [f"站点{c}" for c in codes],
        "kind": ["shelter"] * len(codes),
        "capacity": [capacity] * len(codes),
        "geom": [shapely.Point(112.98 + i * 1e-4, 28.25) for i in range(len(codes))],
    })


def _count(conn, model):
    return conn.execute(select(func.count()).select_from(model)).scalar_one()


def test_writing_the_same_rows_twice_updates_in_place(conn):
    before = _count(conn, m.Resource)
    assert write_frame(conn, layer("resources"), _resources(["T1", "T2"]), source="t") == 2
    assert write_frame(conn, layer("resources"), _resources(["T1", "T2"], capacity=99), source="t") == 2
    assert _count(conn, m.Resource) == before + 2
    caps = conn.execute(select(m.Resource.capacity).where(m.Resource.code.in_(["T1", "T2"]))).scalars().all()
    assert caps == [99, 99]


def test_a_code_repeated_in_the_file_names_the_second_feature(conn):
    with pytest.raises(LoadError) as err:
        write_frame(conn, layer("resources"), _resources(["A", "B", "A"]), source="dup.geojson")
    assert err.value.feature == 2 and err.value.field == "code"
    assert "appears twice" in str(err.value) and "dup.geojson" in str(err.value)


def test_an_unknown_reference_is_refused_and_nothing_is_written(conn):
    before = _count(conn, m.Block)
    community = conn.execute(text("SELECT code FROM admin_area WHERE level = 'community' LIMIT 1")).scalar()
    frame = pd.DataFrame({
        "code": ["BX1", "BX2", "BX3"],
        "zone": ["inner"] * 3,
        "community_code": [community, "NO-SUCH-COMMUNITY", "ALSO-MISSING"],
        "geom": [shapely.box(112.98, 28.25, 112.981, 28.251)] * 3,
    })
    with pytest.raises(LoadError) as err:
        write_frame(conn, layer("blocks"), frame, source="blocks.gpkg")
    assert err.value.feature == 1 and err.value.field == "community_code"
    assert "NO-SUCH-COMMUNITY" in str(err.value) and "1 more" in str(err.value)
    # the savepoint rolled back: nothing written, and the transaction still works
    assert _count(conn, m.Block) == before


def test_references_resolve_to_foreign_keys(conn):
    street = conn.execute(text("SELECT id, code FROM admin_area WHERE level = 'street' LIMIT 1")).one()
    frame = pd.DataFrame({
        "code": ["C-NEW"], "name": ["新社区"], "level": ["community"], "parent_code": [street.code],
        "geom": [shapely.MultiPolygon([shapely.box(112.98, 28.25, 112.981, 28.251)])],
    })
    write_frame(conn, layer("admin_areas"), frame, source="t")
    parent = conn.execute(text("SELECT parent_id FROM admin_area WHERE code = 'C-NEW'")).scalar()
    assert parent == street.id


def test_single_polygons_are_stored_as_multipolygons(conn):
    frame = pd.DataFrame({"code": ["W-T"], "name": ["湖"], "geom": [shapely.box(112.9, 28.2, 112.91, 28.21)]})
    write_frame(conn, layer("water"), frame, source="t")
    kind = conn.execute(text("SELECT GeometryType(geom) FROM water WHERE code = 'W-T'")).scalar()
    assert kind == "MULTIPOLYGON"
