"""The store: one model per map layer, all geometry in EPSG:4326.

Measurements (lengths, areas, distances) are taken in the district's metric
CRS, kept on the district row of :class:`AdminArea` (``metric_srid``), never in
degrees.

Grids are versioned: every re-partition writes a new :class:`GridVersion` with
its own grid rows; exactly one version is current (a partial unique index holds
that). Buildings, components and cameras carry the id of their grid in the
current version; events keep the grid they were routed to at the time.

Who staffs a grid is recorded on the grid row (``grid.worker_id``), so each
version keeps its own staffing; a worker's home grid is the current version's
grid that names them (:func:`layers.grids.home_grids`).

Enumerations are TEXT with CHECK constraints rather than PostgreSQL enums, so
that adding a camera kind or an event state is a one-line migration.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "SRID",
    "ZONES",
    "CAMERA_KINDS",
    "RESOURCE_KINDS",
    "WORKER_STATUSES",
    "COMPONENT_STATES",
    "EVENT_CHANNELS",
    "EVENT_STATES",
    "ADMIN_LEVELS",
    "AdminArea",
    "Block",
    "Road",
    "Water",
    "GridVersion",
    "Grid",
    "Building",
    "Component",
    "Camera",
    "Resource",
    "GridWorker",
    "Event",
    "EventHistory",
    "AuditLog",
]

SRID = 4326

ADMIN_LEVELS = ("district", "street", "community")
ZONES = ("inner", "outer")
CAMERA_KINDS = ("bullet", "dome", "checkpoint", "epolice", "ptz")
RESOURCE_KINDS = ("fire_station", "hospital", "police_post", "shelter", "emergency_team", "supply_depot")
WORKER_STATUSES = ("on_duty", "busy", "off_duty")
COMPONENT_STATES = ("ok", "damaged", "missing", "occupied")
EVENT_CHANNELS = ("self_settled", "patrol", "hotline", "city_mgmt", "video")
EVENT_STATES = (
    "reported", "accepted", "dispatched", "in_progress", "handled", "verified", "closed",
    "returned", "rejected", "reopened",
)

_NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


def _geom(kind: str, nullable: bool = False) -> Mapped:
    return mapped_column(Geometry(kind, srid=SRID, spatial_index=True), nullable=nullable)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names for alembic."""

    metadata = MetaData(naming_convention=_NAMING)


class AdminArea(Base):
    """District → street (街道) → community (社区)."""

    __tablename__ = "admin_area"
    __table_args__ = (
        _one_of("level", ADMIN_LEVELS),
        CheckConstraint("(level = 'district') = (parent_id IS NULL)", name="parent_iff_not_district"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="RESTRICT"), index=True)
    metric_srid: Mapped[int | None] = mapped_column(Integer)
    geom = _geom("MULTIPOLYGON")


class Block(Base):
    """A street block (the land between streets); grids follow their edges."""

    __tablename__ = "block"
    __table_args__ = (_one_of("zone", ZONES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    zone: Mapped[str] = mapped_column(Text)
    btype: Mapped[str | None] = mapped_column(Text)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"), index=True)
    geom = _geom("MULTIPOLYGON")


class Road(Base):
    """Street centre-lines: the basemap and the network for dispatch distances."""

    __tablename__ = "road"
    __table_args__ = (_one_of("kind", ("arterial", "local")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)
    geom = _geom("MULTILINESTRING")


class Water(Base):
    """Rivers and lakes, for the offline basemap."""

    __tablename__ = "water"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    geom = _geom("MULTIPOLYGON")


class GridVersion(Base):
    """One drawing of the district's grids; exactly one is current."""

    __tablename__ = "grid_version"
    __table_args__ = (
        Index("uq_grid_version_one_current", "is_current", unique=True, postgresql_where=text("is_current")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(Text, server_default="system")
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict | None] = mapped_column(JSONB)
    is_current: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Grid(Base):
    """A base grid (基础网格) of one version."""

    __tablename__ = "grid"
    __table_args__ = (
        UniqueConstraint("version_id", "code"),
        UniqueConstraint("version_id", "worker_id"),
        _one_of("zone", ZONES),
        CheckConstraint("households >= 0 AND population >= 0", name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("grid_version.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(Text)
    zone: Mapped[str] = mapped_column(Text)
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    population: Mapped[int] = mapped_column(Integer, server_default="0")
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"), index=True)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("grid_worker.id", ondelete="SET NULL"))
    geom = _geom("MULTIPOLYGON")


class Building(Base):
    """A building unit: never split between grids."""

    __tablename__ = "building"
    __table_args__ = (
        _one_of("zone", ZONES),
        CheckConstraint("floors >= 0 AND households >= 0 AND population >= 0", name="counts_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("block.id"), index=True)
    btype: Mapped[str | None] = mapped_column(Text)
    floors: Mapped[int] = mapped_column(Integer, server_default="1")
    households: Mapped[int] = mapped_column(Integer, server_default="0")
    population: Mapped[int] = mapped_column(Integer, server_default="0")
    zone: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"), index=True)
    geom = _geom("MULTIPOLYGON")
    # the building's share of the tessellation (Voronoi cell clipped to its block):
    # grids are unions of cells, so they tile the district
    cell = _geom("MULTIPOLYGON", nullable=True)


class Component(Base):
    """A city component (城市部件), classed after GB/T 30428.2."""

    __tablename__ = "component"
    __table_args__ = (_one_of("state", COMPONENT_STATES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    class_code: Mapped[str] = mapped_column(Text, index=True)
    class_name: Mapped[str] = mapped_column(Text)
    owner_dept: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(Text, server_default="ok")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"), index=True)
    geom = _geom("POINT")


class Camera(Base):
    """A video channel (雪亮工程) with its view sector."""

    __tablename__ = "camera"
    __table_args__ = (
        _one_of("kind", CAMERA_KINDS),
        CheckConstraint("cam_class IN (1, 2, 3)", name="cam_class_allowed"),
        CheckConstraint("heading_deg IS NULL OR (heading_deg >= 0 AND heading_deg < 360)", name="heading_range"),
        CheckConstraint("fov_deg > 0 AND fov_deg <= 360", name="fov_range"),
        CheckConstraint("range_m > 0", name="range_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, index=True)
    heading_deg: Mapped[float | None] = mapped_column(Float)
    fov_deg: Mapped[float] = mapped_column(Float)
    range_m: Mapped[float] = mapped_column(Float)
    cam_class: Mapped[int] = mapped_column(SmallInteger)
    owner_dept: Mapped[str | None] = mapped_column(Text, index=True)
    online: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    last_seen: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"), index=True)
    geom = _geom("POINT")


class Resource(Base):
    """An emergency resource: a place and what it can take or send."""

    __tablename__ = "resource"
    __table_args__ = (_one_of("kind", RESOURCE_KINDS), CheckConstraint("capacity >= 0", name="capacity_not_negative"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, index=True)
    capacity: Mapped[int] = mapped_column(Integer, server_default="0")
    geom = _geom("POINT")


class GridWorker(Base):
    """A grid worker (网格员) and their live position."""

    __tablename__ = "grid_worker"
    __table_args__ = (_one_of("status", WORKER_STATUSES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, server_default="off_duty", index=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    geom = _geom("POINT", nullable=True)


class Event(Base):
    """One event in the register, whatever channel it came from."""

    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        _one_of("channel", EVENT_CHANNELS),
        _one_of("state", EVENT_STATES),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_event_state_reported", "state", "reported_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    channel: Mapped[str] = mapped_column(Text)
    external_id: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(Text, index=True)
    title: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid.id", ondelete="SET NULL"), index=True)
    community_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"), index=True)
    street_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id"), index=True)
    department: Mapped[str | None] = mapped_column(Text, index=True)
    priority: Mapped[int] = mapped_column(SmallInteger, server_default="2")
    state: Mapped[str] = mapped_column(Text, server_default="reported")
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"), index=True)
    duplicate_count: Mapped[int] = mapped_column(Integer, server_default="0")
    geom = _geom("POINT", nullable=True)


class EventHistory(Base):
    """Every state change of an event: who, when, from what to what, why."""

    __tablename__ = "event_history"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[str | None] = mapped_column(Text)
    to_state: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


class AuditLog(Base):
    """Every write anyone makes: who, what, on which thing."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(Text)
    entity_id: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict | None] = mapped_column(JSONB)
