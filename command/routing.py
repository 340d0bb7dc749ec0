"""Routing: where an event is, and so whose it is.

A point is routed by point-in-polygon (PostGIS, GiST-indexed) to the current
grid and its community, and to the community's street (the street covering it
when no community does); an address is first matched against the
buildings layer (:mod:`command.addresses`, the one home of address matching:
the district's own prefixes ignored, a room after the building's address
allowed, only a sure match routes);
a hotline record that names only a community or a street (or whose address
text contains one's name) is routed to that area without a grid: it is still
registered and can still be dispatched, to the area's nearest worker. A point
outside the district, or a location that matches nothing, is refused with the
reason; nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from command.addresses import SURE, normalise, search_addresses
from command.audit import sql
from layers.errors import LoadError

__all__ = ["far_from_district", "Location", "route_point", "match_address", "route_area", "locate"]


@dataclass(frozen=True)
class Location:
    """Where an event was placed and to which areas it was routed."""

    kind: str  # point | address | community | street
    lon: float | None
    lat: float | None
    grid_id: int | None
    community_id: int | None
    street_id: int | None
    building_id: int | None = None
    note: str | None = None  # how the place was found when it is not what was asked for (a fallback)


def route_point(conn: Connection, lon: float, lat: float, *, kind: str = "point",
                building_id: int | None = None) -> Location:
    """Route a WGS 84 point to the current grid, community and street.

    Raises
    ------
    LoadError
        With ``field='location'`` when the point is outside the district.
    """
    row = conn.execute(sql("route_point"), {"lon": lon, "lat": lat}).one()
    if not row.inside:
        raise LoadError("the point ({lon:.6f}, {lat:.6f}) is outside the district", lon=lon, lat=lat,
                        field="location")
    return Location(kind, lon, lat, row.grid_id, row.community_id, row.street_id, building_id)


def match_address(conn: Connection, address: str) -> tuple[int, float, float] | None:
    """``(building id, lon, lat)`` of the building an address names for sure, or ``None``.

    The best building :func:`command.addresses.search_addresses` finds, when
    it matched exactly, as the leading part of the address (a room or a
    floor after it) or as a building at that number (``民亭街6号`` →
    ``民亭街6号1栋``); a merely similar address routes nothing.
    """
    best = search_addresses(conn, address, limit=1, kinds=("building",))
    if not best or best[0].match not in SURE:
        return None
    return best[0].id, best[0].lon, best[0].lat


def _area(conn: Connection, level: str, name: str, parent_id: int | None = None) -> tuple[int, int | None]:
    rows = conn.execute(
        text("SELECT id, parent_id, name FROM admin_area WHERE level = :level AND (code = :v OR name = :v)"
             " AND (CAST(:parent AS integer) IS NULL OR parent_id = :parent) ORDER BY id"),
        {"level": level, "v": name.strip(), "parent": parent_id},
    ).all()
    if not rows:
        raise LoadError("no {level} called {name!r} in the district", level=level, name=name, field=level)
    if len(rows) > 1:
        raise LoadError("{count} {level}s are called {name!r}; give the street too, or a code", count=len(rows),
                        level=level, name=name, field=level)
    return rows[0].id, rows[0].parent_id


def route_area(conn: Connection, *, community: str | None = None, street: str | None = None) -> Location:
    """Route to a community and/or street given by name or code (no point, no grid).

    A community that is not found (or not in the street named with it) falls
    back to the street when one is named: a hotline record's community list is
    often newer or older than the district's, its street rarely is. The
    location's ``note`` says so.

    Raises
    ------
    LoadError
        When a name matches no area, matches several, or a community that is
        not found comes without a street.
    """
    street_id = _area(conn, "street", street)[0] if street else None
    if community:
        try:
            community_id, parent = _area(conn, "community", community, street_id)
        except LoadError as err:
            if street_id is None:
                raise
            # the street is known: the event is still the street's to handle, and says why
            return Location("street", None, None, None, None, street_id,
                            note=f"{err.message}: routed to the street {street!r}")
        return Location("community", None, None, None, community_id, parent)
    if street_id is None:
        raise LoadError("no community or street given", field="location")
    return Location("street", None, None, None, None, street_id)


def _area_in_text(conn: Connection, address: str) -> Location | None:
    """The community (else street) whose name the address text contains, longest name first."""
    row = conn.execute(
        text("SELECT id, parent_id, level FROM admin_area WHERE level IN ('community', 'street')"
             " AND length(name) >= 2 AND strpos(:address, name) > 0"
             " ORDER BY level = 'community' DESC, length(name) DESC, id LIMIT 1"),
        {"address": normalise(address)},
    ).first()
    if row is None:
        return None
    if row.level == "community":
        return Location("community", None, None, None, row.id, row.parent_id)
    return Location("street", None, None, None, None, row.id)


def locate(
    conn: Connection,
    *,
    lon: float | None = None,
    lat: float | None = None,
    address: str | None = None,
    community: str | None = None,
    street: str | None = None,
) -> Location:
    """Route whatever location an event carries, most precise first.

    A point wins; then an address matched to a building; then a community or
    street by name or code; then a community or street named inside the
    address text.

    Raises
    ------
    LoadError
        With the field at fault: a point outside the district, an area name
        that matches nothing, or an address that matches no building and names
        no area.
    """
    if lon is not None and lat is not None:
        return route_point(conn, lon, lat)
    if address:
        hit = match_address(conn, address)
        if hit is not None:
            building_id, b_lon, b_lat = hit
            return route_point(conn, b_lon, b_lat, kind="address", building_id=building_id)
    if community or street:
        return route_area(conn, community=community, street=street)
    if address:
        area = _area_in_text(conn, address)
        if area is not None:
            return area
        raise LoadError("the address {address!r} matches no building and names no community or street",
                        address=address, field="address")
    raise LoadError("the event has no location: give a point, an address, a community or a street",
                    field="location")


def far_from_district(conn: Connection, points: list[tuple[float, float]], margin_m: float) -> list[int]:
    """Indexes of the ``(lon, lat)`` points farther than ``margin_m`` metres from the district, in order.

    Why a margin: a worker on a boundary road, or a phone whose fix wobbles,
    is a few hundred metres out and still real; (0, 0) or New York is not.
    A store without a district refuses nothing.
    """
    if not points:
        return []
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return list(conn.execute(sql("points_far_from_district"),
                             {"lons": lons, "lats": lats, "margin_m": margin_m}).scalars())
