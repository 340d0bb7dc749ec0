"""Address matching, the one rule behind the hotline form's search and intake's routing by address.

Hand-made buildings at 民亭街 (a street the demo district does not have) beside the spot, so that every answer
below is known: 6号, 60号, 8号1栋 and 8号2栋.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text

from command.addresses import address_forms, search_addresses
from command.routing import locate, match_address

from .conftest import Spot, offset


def _building(conn: Connection, code: str, address: str, lon: float, lat: float) -> int:
    return conn.execute(text(
        "INSERT INTO building (code, zone, address, geom) VALUES (:code, 'inner', :address,"
        " ST_Multi(ST_Expand(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 0.00005))) RETURNING id"
    ), {"code": code, "address": address, "lon": lon, "lat": lat}).scalar_one()


@pytest.fixture
def minting(conn: Connection, spot: Spot) -> dict[str, int]:
    """民亭街6号, 民亭街60号, 民亭街8号1栋 and 民亭街8号2栋, within 60 m of the spot (inside its grid)."""
    places = {"民亭街6号": (0, 0), "民亭街60号": (40, 0), "民亭街8号1栋": (0, 40), "民亭街8号2栋": (20, 40)}
    return {a: _building(conn, f"test-minting-{i}", a, *offset(spot.lon, spot.lat, *d))
            for i, (a, d) in enumerate(places.items())}


def _grid_code(conn: Connection, grid_id: int) -> str:
    return conn.execute(text("SELECT code FROM grid WHERE id = :g"), {"g": grid_id}).scalar_one()


def test_the_forms_drop_the_district_s_own_prefixes_and_keep_the_text_as_typed():
    assert address_forms("开福区民亭街6号", ("开福区",)) == ["民亭街6号", "开福区民亭街6号"]
    assert address_forms("湖南省 长沙市 开福区 民亭街６号", ("开福区",)) == ["民亭街6号", "湖南省长沙市开福区民亭街6号"]
    assert address_forms("长沙市民亭街6号", ("开福区",)) == ["民亭街6号", "长沙市民亭街6号"]
    assert address_forms("民亭街6号", ("开福区",)) == ["民亭街6号"]
    # another district's name is not ours: it stays (its 区 is not dropped as if it were a prefix of ours)
    assert address_forms("岳麓区民亭街6号", ("开福区",)) == ["岳麓区民亭街6号"]
    # the district's name is only a prefix when nothing but a province and a city stands before it
    assert address_forms("民亭街开福区6号", ("开福区",)) == ["民亭街开福区6号"]
    assert address_forms("  ", ("开福区",)) == []


@pytest.mark.parametrize("typed, match", [
    ("民亭街6号", "exact"),
    ("开福区民亭街6号", "exact"),
    ("湖南省长沙市开福区民亭街6号", "exact"),
    ("民亭街6号1栋2单元302室", "within"),
    ("开福区民亭街6号1栋2单元302室", "within"),
])
def test_every_form_of_the_address_finds_the_building_first(conn, spot, minting, typed, match):
    best = search_addresses(conn, typed)[0]
    assert (best.kind, best.id, best.address, best.match) == ("building", minting["民亭街6号"], "民亭街6号", match)
    assert best.grid_code == _grid_code(conn, spot.grid_id)
    assert best.score == 1.0 if match == "exact" else 0.6 <= best.score < 1.0
    assert match_address(conn, typed)[0] == minting["民亭街6号"]


def test_a_number_is_not_cut_short_and_a_bare_number_finds_its_buildings(conn, spot, minting):
    found = search_addresses(conn, "民亭街6号")
    sure = {p.address: p.match for p in found if p.match != "fuzzy"}
    assert sure == {"民亭街6号": "exact"}, "60号 is not 6号"
    eight = search_addresses(conn, "开福区民亭街8号")
    assert [(p.address, p.match) for p in eight[:2]] == [("民亭街8号1栋", "contains"), ("民亭街8号2栋", "contains")]
    place = locate(conn, address="开福区民亭街8号")
    assert (place.kind, place.building_id, place.grid_id) == ("address", minting["民亭街8号1栋"], spot.grid_id)


def test_a_wrong_character_is_found_but_routes_nothing(conn, spot, minting):
    found = search_addresses(conn, "民停街6号")
    assert found and found[0].match == "fuzzy" and found[0].address.startswith("民亭街")
    assert found[0].score < 0.6
    assert match_address(conn, "民停街6号") is None


def test_resources_and_areas_are_found_by_name(conn, spot):
    resource = conn.execute(text("SELECT id, name FROM resource ORDER BY id LIMIT 1")).one()
    best = search_addresses(conn, "开福区" + resource.name)[0]
    assert (best.kind, best.id, best.name, best.address, best.match) == (
        "resource", resource.id, resource.name, None, "exact")
    community = conn.execute(text("SELECT name FROM admin_area WHERE id = :c"), {"c": spot.community_id}).scalar()
    best = search_addresses(conn, community)[0]
    assert (best.kind, best.label, best.match) == ("community", community, "exact")
    assert {p.kind for p in search_addresses(conn, community, kinds=("building",))} <= {"building"}


def test_nothing_near_is_nothing(conn, spot):
    assert search_addresses(conn, "火星路1号") == []
    assert search_addresses(conn, "   ") == []
    assert search_addresses(conn, "100%_\\") == []  # LIKE's wildcards are the text, not patterns
