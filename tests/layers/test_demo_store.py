"""The small demo district as stored: counts, nesting, one grid per member."""

from __future__ import annotations

from sqlalchemy import text

from layers.grids import current_version, home_grids
from layers.queries import layer_counts


def test_counts_match_what_was_loaded(conn, small_district):
    counts = layer_counts(conn)
    for name, loaded in small_district.items():
        assert counts[name] == loaded, name
    assert counts["buildings"] > 1000 and counts["grids"] > 20 and counts["cameras"] > 100
    assert counts["grid_versions"] == 1


def test_every_building_falls_in_exactly_one_current_grid(conn):
    rows = conn.execute(text("""
        SELECT b.id, b.grid_id, array_agg(g.id) AS hits
        FROM building b
        LEFT JOIN grid g ON g.version_id = :v AND ST_Covers(g.geom, ST_PointOnSurface(b.geom))
        GROUP BY b.id, b.grid_id
    """), {"v": current_version(conn)}).all()
    assert rows
    assert all(len(r.hits) == 1 and r.hits[0] is not None for r in rows)
    assert all(r.grid_id == r.hits[0] for r in rows)


def test_every_component_falls_in_exactly_one_current_grid(conn):
    rows = conn.execute(text("""
        SELECT c.id, c.grid_id, count(g.id) AS n, min(g.id) AS hit
        FROM component c
        LEFT JOIN grid g ON g.version_id = :v AND ST_Intersects(g.geom, c.geom)
        GROUP BY c.id, c.grid_id
    """), {"v": current_version(conn)}).all()
    assert rows
    assert [r.id for r in rows if r.n != 1] == []
    assert all(r.grid_id == r.hit for r in rows)


def test_grids_tile_the_district(conn):
    district, grids, overlap = conn.execute(text("""
        WITH d AS (SELECT geom FROM admin_area WHERE level = 'district'),
             g AS (SELECT geom FROM grid WHERE version_id = (SELECT id FROM grid_version WHERE is_current))
        SELECT (SELECT ST_Area(geom::geography) FROM d),
               (SELECT sum(ST_Area(geom::geography)) FROM g),
               (SELECT coalesce(sum(ST_Area(ST_Intersection(a.geom, b.geom)::geography)), 0)
                  FROM g a JOIN g b ON a.geom && b.geom AND ST_Relate(a.geom, b.geom, '2********')
                 WHERE a.geom::text < b.geom::text)
    """)).one()
    assert abs(grids - district) / district < 1e-4
    assert overlap / district < 1e-6


def test_communities_nest_in_streets_and_streets_in_the_district(conn):
    orphans = conn.execute(text("""
        SELECT c.code FROM admin_area c JOIN admin_area p ON p.id = c.parent_id
        WHERE NOT ST_Covers(ST_Buffer(p.geom, 1e-6), c.geom)
    """)).scalars().all()
    assert orphans == []
    levels = dict(conn.execute(text("SELECT level, count(*) FROM admin_area GROUP BY level")).all())
    assert levels["district"] == 1 and levels["street"] >= 2 and levels["community"] > levels["street"]


def test_the_district_carries_its_metric_crs(conn):
    srid = conn.execute(text("SELECT metric_srid FROM admin_area WHERE level = 'district'")).scalar()
    assert srid == 4547
    # the metric CRS measures the district's area within 0.5% of the geodesic area
    planar, geodesic = conn.execute(text(
        "SELECT ST_Area(ST_Transform(geom, metric_srid)), ST_Area(geom::geography) "
        "FROM admin_area WHERE level = 'district'"
    )).one()
    assert abs(planar - geodesic) / geodesic < 0.005


def test_most_grids_have_a_worker_and_each_worker_one_home(conn):
    homes = home_grids(conn)
    housed = [h for h in homes if h["grid_id"] is not None]
    assert len(housed) >= 0.9 * len([h for h in homes])
    assert len({h["grid_id"] for h in housed}) == len(housed)


def test_event_histories_belong_to_stored_events(conn):
    orphans, events_without_history = conn.execute(text("""
        SELECT (SELECT count(*) FROM event_history h LEFT JOIN event e ON e.id = h.event_id WHERE e.id IS NULL),
               (SELECT count(*) FROM event e WHERE NOT EXISTS (SELECT 1 FROM event_history h WHERE h.event_id = e.id))
    """)).one()
    assert orphans == 0 and events_without_history == 0


def test_a_phones_own_reports_name_their_worker(conn):
    """Patrol and self-settled events whose first history row names a worker by code are that worker's reports."""
    rows = conn.execute(text("""
        SELECT e.channel, w.code AS first_actor_worker, r.code AS reporter
        FROM event e
        JOIN event_history h ON h.event_id = e.id AND h.from_state IS NULL
        LEFT JOIN grid_worker w ON w.code = h.actor
        LEFT JOIN grid_worker r ON r.id = e.reporter_worker_id
    """)).all()
    phones = [r for r in rows if r.channel in ("patrol", "self_settled") and r.first_actor_worker is not None]
    assert len(phones) > 100 and all(r.reporter == r.first_actor_worker for r in phones)
    assert all(r.reporter is None for r in rows if r.channel not in ("patrol", "self_settled"))
