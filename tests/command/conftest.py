"""Fixtures for the event loop: the taxonomy loaded, a known spot in the small district, hand-made places.

Everything is written inside the ``conn`` fixture's transaction and vanishes
with it; a ``quiet`` spot sends the demo district's workers off duty and its
cameras offline first, so that answers near the spot depend only on what a
test places there itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, text

from command.taxonomy import TaxonomyLoad, load_taxonomy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point ``east_m`` east and ``north_m`` north of (lon, lat), good to centimetres over a few hundred metres."""
    return (lon + east_m / (111_320.0 * math.cos(math.radians(lat))), lat + north_m / 110_574.0)


def at(day: int, hour: int, minute: int = 0, *, month: int = 1, year: int = 2031) -> datetime:
    """A moment in Shanghai time, by default in January 2031 (far from the demo events)."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Spot:
    """A point well inside one current grid, with the areas it routes to."""

    lon: float
    lat: float
    grid_id: int
    community_id: int
    street_id: int
    radius_m: float


@pytest.fixture
def taxonomy(conn: Connection) -> TaxonomyLoad:
    """The shipped taxonomy loaded into the test transaction (a no-op if the district load did it)."""
    return load_taxonomy(conn)


@pytest.fixture
def spot(conn: Connection, taxonomy: TaxonomyLoad) -> Spot:
    """The centre of the largest circle inside any current grid: tests place things within 150 m of it."""
    row = conn.execute(text("""
        SELECT g.id, ST_X(c.g) AS lon, ST_Y(c.g) AS lat, c.r * 111320.0 * cos(radians(ST_Y(c.g))) AS radius_m
        FROM grid g
        CROSS JOIN LATERAL (SELECT (ST_MaximumInscribedCircle(g.geom)).center AS g,
                                   (ST_MaximumInscribedCircle(g.geom)).radius AS r) AS c
        WHERE g.version_id = (SELECT id FROM grid_version WHERE is_current)
        ORDER BY c.r DESC, g.id LIMIT 1
    """)).one()
    areas = conn.execute(text("""
        SELECT (SELECT id FROM admin_area WHERE level = 'community' AND ST_Covers(geom, p) ORDER BY id LIMIT 1) AS c,
               (SELECT id FROM admin_area WHERE level = 'street' AND ST_Covers(geom, p) ORDER BY id LIMIT 1) AS s
        FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS p) q
    """), {"lon": row.lon, "lat": row.lat}).one()
    assert row.radius_m > 160, "the tests place things up to 150 m from the spot, inside its grid"
    return Spot(row.lon, row.lat, row.id, areas.c, areas.s, row.radius_m)


@pytest.fixture
def quiet(conn: Connection, spot: Spot) -> Spot:
    """The spot with every demo worker off duty, every demo camera offline and every demo event closed."""
    conn.execute(text("UPDATE grid_worker SET status = 'off_duty'"))
    conn.execute(text("UPDATE camera SET online = false"))
    conn.execute(text("UPDATE event SET state = 'closed' WHERE state <> 'closed'"))
    return spot


class Kit:
    """Hand-made places and moments for one test, bound to its connection."""

    zone = SHANGHAI

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    offset = staticmethod(offset)
    at = staticmethod(at)

    def worker(self, code: str, lon: float, lat: float, status: str = "on_duty", *,
               fix_age_s: float | None = 0.0) -> int:
        """A worker at (lon, lat) whose fix is ``fix_age_s`` seconds old by the store's clock (``None``: a fix of
        unknown time); returns the id."""
        return self.conn.execute(text(
            "INSERT INTO grid_worker (code, name, status, updated_at, geom)"
            " VALUES (:code, :code, :status, now() - make_interval(secs => CAST(:age AS float8)),"
            " ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"
        ), {"code": code, "status": status, "lon": lon, "lat": lat, "age": fix_age_s}).scalar_one()

    def camera(self, code: str, lon: float, lat: float, *, kind: str = "bullet", heading: float | None = 0.0,
               fov: float = 60.0, range_m: float = 100.0, online: bool = True) -> int:
        """A camera; returns the id."""
        return self.conn.execute(text(
            "INSERT INTO camera (code, kind, heading_deg, fov_deg, range_m, cam_class, online, geom)"
            " VALUES (:code, :kind, :h, :fov, :r, 1, :online, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326))"
            " RETURNING id"
        ), {"code": code, "kind": kind, "h": heading, "fov": fov, "r": range_m, "online": online, "lon": lon,
            "lat": lat}).scalar_one()

    def staff(self, grid_id: int, worker_id: int | None) -> None:
        """Make ``worker_id`` the worker of ``grid_id`` (taking them off any other grid)."""
        if worker_id is not None:
            self.conn.execute(text("UPDATE grid SET worker_id = NULL WHERE worker_id = :w"), {"w": worker_id})
        self.conn.execute(text("UPDATE grid SET worker_id = :w WHERE id = :g"), {"w": worker_id, "g": grid_id})

    def status(self, worker_id: int) -> str:
        """A worker's status now."""
        return self.conn.execute(text("SELECT status FROM grid_worker WHERE id = :w"), {"w": worker_id}).scalar_one()

    def event_row(self, event_id: int):
        """The event's row."""
        return self.conn.execute(text("SELECT * FROM event WHERE id = :id"), {"id": event_id}).one()

    def count(self, sql: str, **params) -> int:
        """A count(*) query's answer."""
        return self.conn.execute(text(sql), params).scalar_one()


@pytest.fixture
def kit(conn: Connection) -> Kit:
    """Helpers for hand-made fixtures in this test's transaction."""
    return Kit(conn)
