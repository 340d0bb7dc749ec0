"""KPIs on a hand-counted fixture: ten events in February 2031, three cameras."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from command.kpi import AreaRef, area_kpis, kpis
from layers.errors import NotFound

# (no, channel, leaf, state, reported (day, hour), deadline (day, hour), closed (day, hour), rating, duplicate of no)
ROWS = [
    (1, "patrol", "020103", "closed", (2, 10), (3, 10), (2, 20), 5, None),     # 10 h, on time
    (2, "hotline", "020202", "closed", (2, 12), (3, 12), (4, 12), 2, None),    # 48 h, late: overdue
    (3, "hotline", "070201", "in_progress", (5, 9), (5, 10), None, None, None),  # open past deadline: overdue
    (4, "video", "030101", "dispatched", (10, 9), (20, 9), None, None, None),  # open past its deadline by 1 March
    (5, "city_mgmt", "020103", "rejected", (11, 9), (12, 9), None, None, None),  # rejected: never overdue
    (6, "patrol", "020103", "reported", (2, 11), (3, 11), None, None, 1),      # duplicate of 1: counted apart
    (7, "self_settled", "050101", "closed", (20, 9), (21, 9), (20, 15), None, None),  # 6 h, on time, unrated
]


@pytest.fixture
def fixture(conn, quiet, kit):
    other_grid = conn.execute(text("SELECT id FROM grid WHERE version_id = (SELECT id FROM grid_version"
                                   " WHERE is_current) AND id <> :g ORDER BY id LIMIT 1"),
                              {"g": quiet.grid_id}).scalar_one()
    ids: dict[int, int] = {}

    def add(no, channel, leaf, state, rep, due, closed, rating, dup, *, grid=quiet.grid_id, areas=True,
            month=2):
        ids[no] = conn.execute(text("""
            INSERT INTO event (code, channel, external_id, category_code, grid_id, community_id, street_id, state,
                               reported_at, deadline_at, closed_at, rating, duplicate_of_id)
            VALUES (:code, :ch, :ext, :leaf, :grid, :c, :s, :state, :rep, :due, :closed, :rating, :dup)
            RETURNING id
        """), {"code": f"KPI-{no}", "ch": channel, "ext": f"kpi-{no}", "leaf": leaf, "grid": grid,
               "c": quiet.community_id if areas else None, "s": quiet.street_id if areas else None, "state": state,
               "rep": kit.at(*rep, month=month), "due": kit.at(*due, month=month),
               "closed": kit.at(*closed, month=month) if closed else None, "rating": rating,
               "dup": ids.get(dup)}).scalar_one()

    for row in ROWS:
        add(*row)
    add(8, "patrol", "020103", "closed", (31, 23), (31, 23), (31, 23), 1, None, month=1)  # before the window
    add(9, "patrol", "020103", "reported", (1, 0), (2, 0), None, None, None, month=3)     # end is exclusive
    add(10, "patrol", "020103", "reported", (14, 9), (15, 9), None, None, None, grid=other_grid, areas=False)
    conn.execute(text("DELETE FROM camera WHERE ST_Covers((SELECT geom FROM grid WHERE id = :g), geom)"),
                 {"g": quiet.grid_id})
    for i, online in enumerate((True, True, False)):
        kit.camera(f"T-K{i}", *kit.offset(quiet.lon, quiet.lat, 10 * i, 0), online=online)
    return ids


def _window(kit, level, area_id):
    return kpis(kit.conn, AreaRef(level=level, id=area_id), kit.at(1, 0, month=2), kit.at(1, 0, month=3),
                as_of=kit.at(1, 0, month=3))


def test_kpis_of_a_grid_by_hand(fixture, quiet, kit):
    k = _window(kit, "grid", quiet.grid_id)
    assert (k.total, k.duplicates, k.rejected, k.closed, k.closed_on_time) == (6, 1, 1, 3, 2)
    assert k.by_class == {"02": 3, "07": 1, "03": 1, "05": 1}
    assert k.by_subclass == {"0201": 2, "0202": 1, "0702": 1, "0301": 1, "0501": 1}
    assert k.by_channel == {"patrol": 1, "hotline": 2, "video": 1, "city_mgmt": 1, "self_settled": 1}
    assert k.by_state == {"closed": 3, "in_progress": 1, "dispatched": 1, "rejected": 1}
    assert k.closure_rate == pytest.approx(3 / 5)
    assert k.on_time_rate == pytest.approx(2 / 3)
    assert k.mean_hours_to_close == pytest.approx((10 + 48 + 6) / 3)
    assert k.overdue == 3  # 2 closed late, 3 and 4 still open past their deadlines
    assert (k.rated, k.satisfaction, k.satisfied_share) == (2, pytest.approx(3.5), pytest.approx(0.5))
    assert (k.cameras, k.cameras_online, k.camera_online_rate) == (3, 2, pytest.approx(2 / 3))


def test_kpis_of_community_street_and_district(fixture, quiet, kit):
    assert _window(kit, "community", quiet.community_id).total == 6
    assert _window(kit, "street", quiet.street_id).total == 6
    district = _window(kit, "district", None)
    assert (district.total, district.duplicates) == (7, 1)  # the event in the other grid counts here
    assert district.cameras == kit.count("SELECT count(*) FROM camera")


def test_every_area_of_a_level_in_one_query_by_hand(fixture, quiet, kit):
    window = (kit.at(1, 0, month=2), kit.at(1, 0, month=3))
    grids = area_kpis(kit.conn, "grid", *window, as_of=kit.at(1, 0, month=3)).areas
    assert len(grids) == kit.count("SELECT count(*) FROM grid WHERE version_id = "
                                   "(SELECT id FROM grid_version WHERE is_current)")
    mine = next(a for a in grids if a.id == quiet.grid_id)
    assert (mine.total, mine.closed, mine.overdue) == (6, 3, 3)  # as kpis() counts it alone
    assert (mine.closure_rate, mine.on_time_rate) == (pytest.approx(3 / 5), pytest.approx(2 / 3))
    assert grids[0].id == quiet.grid_id and sum(a.total for a in grids) == 7  # busiest first; event 10 elsewhere
    streets = area_kpis(kit.conn, "street", *window, as_of=kit.at(1, 0, month=3)).areas
    assert (streets[0].id, streets[0].total) == (quiet.street_id, 6)  # event 10 has no street
    assert all(a.total == 0 and a.closure_rate is None for a in streets[1:])
    early = area_kpis(kit.conn, "community", *window, as_of=kit.at(15, 0, month=2)).areas[0]
    assert (early.id, early.overdue) == (quiet.community_id, 2)  # event 4 is due on 20 February
    others = area_kpis(kit.conn, "grid", *window, departments=("nobody",)).areas
    assert all(a.total == 0 for a in others)


def test_an_open_event_becomes_overdue_as_time_passes(fixture, quiet, kit):
    early = kpis(kit.conn, AreaRef(level="grid", id=quiet.grid_id), kit.at(1, 0, month=2), kit.at(1, 0, month=3),
                 as_of=kit.at(15, 0, month=2))
    assert early.overdue == 2  # event 4 is due on 20 February
    later = kpis(kit.conn, AreaRef(level="grid", id=quiet.grid_id), kit.at(1, 0, month=2), kit.at(1, 0, month=3),
                 as_of=kit.at(21, 0, month=2))
    assert later.overdue == 3


def test_an_empty_window_has_no_rates(conn, quiet, kit):
    k = kpis(conn, AreaRef(level="grid", id=quiet.grid_id), kit.at(1, 0, month=6), kit.at(2, 0, month=6))
    assert (k.total, k.closure_rate, k.on_time_rate, k.mean_hours_to_close, k.satisfaction) == (0, None, None, None,
                                                                                              None)


def test_an_unknown_area_is_not_found(conn, taxonomy):
    with pytest.raises(NotFound, match="no community with id"):
        kpis(conn, AreaRef(level="community", id=10**9), *_two_days())


def _two_days():
    from datetime import UTC, datetime
    return datetime(2031, 1, 1, tzinfo=UTC), datetime(2031, 1, 3, tzinfo=UTC)
