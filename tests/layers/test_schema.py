"""The migrated schema: every layer table, GiST on every geometry, rules enforced."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from layers import models as m
from layers.registry import LAYERS

GEOMETRY_COLUMNS = [
    (t.name, c.name)
    for t in m.Base.metadata.sorted_tables
    for c in t.columns
    if c.type.__class__.__name__ == "Geometry"
]


def test_every_layer_has_a_table(conn):
    tables = set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
    assert {ld.table.name for ld in LAYERS.values()} | {"grid_version", "audit_log"} <= tables


@pytest.mark.parametrize(("table", "column"), GEOMETRY_COLUMNS)
def test_geometry_is_4326_with_a_gist_index(conn, table, column):
    srid = conn.execute(
        text("SELECT srid FROM geometry_columns WHERE f_table_name = :t AND f_geometry_column = :c"),
        {"t": table, "c": column},
    ).scalar()
    assert srid == 4326
    gist = conn.execute(
        text("SELECT count(*) FROM pg_indexes WHERE tablename = :t AND indexdef ILIKE :pat"),
        {"t": table, "pat": f"%USING gist ({column})%"},
    ).scalar()
    assert gist == 1


def test_a_camera_of_unknown_kind_is_refused(conn):
    with pytest.raises(IntegrityError, match="kind_allowed"):
        with conn.begin_nested():
            conn.execute(text(
                "INSERT INTO camera (code, kind, fov_deg, range_m, cam_class, geom) "
                "VALUES ('x', 'periscope', 40, 50, 1, ST_SetSRID(ST_Point(112.98, 28.25), 4326))"
            ))


def test_only_one_grid_version_can_be_current(conn):
    with pytest.raises(IntegrityError, match="uq_grid_version_one_current"):
        with conn.begin_nested():
            conn.execute(text("INSERT INTO grid_version (source, is_current) VALUES ('test', true)"))


def test_the_same_channel_and_external_id_is_one_event(conn):
    row = conn.execute(text("SELECT channel, external_id FROM event LIMIT 1")).one()
    with pytest.raises(IntegrityError, match="uq_event_channel_external_id"):
        with conn.begin_nested():
            conn.execute(
                text("INSERT INTO event (code, channel, external_id, category_code, reported_at) "
                     "VALUES ('dup', :c, :e, '010101', now())"),
                {"c": row.channel, "e": row.external_id},
            )
