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

from datetime import date, datetime

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
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
    "VERSION_STATES",
    "JOB_STATES",
    "PARTITION_MODES",
    "PartitionJob",
    "Grid",
    "Building",
    "Component",
    "Camera",
    "Resource",
    "GridWorker",
    "Event",
    "EventHistory",
    "AuditLog",
    "LOCATION_KINDS",
    "ASSIGNMENT_KINDS",
    "AUDIT_ACTIONS",
    "TaxonomyVersion",
    "EventClass",
    "EventClassAlias",
    "DistrictAlias",
    "DistrictAliasRevision",
    "CalendarDay",
    "CalendarYear",
    "CalendarRevision",
    "Assignment",
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
        CheckConstraint("level <> 'district' OR geom IS NOT NULL", name="district_has_outline"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="RESTRICT"), index=True)
    metric_srid: Mapped[int | None] = mapped_column(Integer)
    # streets and communities may come as names only (an NBS list): events are still routed to them by name
    geom = _geom("MULTIPOLYGON", nullable=True)


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
    """Rivers and lakes, for the offline basemap: polygons, or centre lines where a source has only those."""

    __tablename__ = "water"
    __table_args__ = (
        CheckConstraint("GeometryType(geom) IN ('MULTIPOLYGON', 'MULTILINESTRING')", name="polygons_or_lines"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str | None] = mapped_column(Text)
    geom = _geom("GEOMETRY")


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
    # added by migration 0003: a partition run writes a *proposed* version that a
    # planner reviews (report: figures, per-grid rows, changes) and accepts or discards
    state: Mapped[str] = mapped_column(Text, server_default="accepted")
    report: Mapped[dict | None] = mapped_column(JSONB)


VERSION_STATES = ("proposed", "accepted", "discarded")
JOB_STATES = ("queued", "running", "done", "failed")
PARTITION_MODES = ("partition", "rebalance")
GridVersion.__table__.append_constraint(
    CheckConstraint("state IN ('proposed', 'accepted', 'discarded')", name="state_allowed")
)


class PartitionJob(Base):
    """A partition or rebalance run in the background; its result is a proposed grid version."""

    __tablename__ = "partition_job"
    __table_args__ = (
        _one_of("mode", PARTITION_MODES),
        _one_of("state", JOB_STATES),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)
    params: Mapped[dict | None] = mapped_column(JSONB)
    state: Mapped[str] = mapped_column(Text, server_default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, server_default="0")
    stage: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("grid_version.id", ondelete="SET NULL"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


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
    name: Mapped[str | None] = mapped_column(Text)
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
    # a history load's own verdict (the source's on-time flag); NULL: judged by closed_at <= deadline_at
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="SET NULL"), index=True)
    duplicate_count: Mapped[int] = mapped_column(Integer, server_default="0")
    geom = _geom("POINT", nullable=True)
    # added by the event loop (migration 0002): how the event was located, what class
    # name the channel sent, and supervision (督办) of overdue work
    location_kind: Mapped[str | None] = mapped_column(Text)
    source_class: Mapped[str | None] = mapped_column(Text)
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    supervision_level: Mapped[int] = mapped_column(SmallInteger, server_default="0")
    supervised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # migration 0011: the grid worker whose phone filed it (a worker settles only its own 自办自结 reports)
    reporter_worker_id: Mapped[int | None] = mapped_column(ForeignKey("grid_worker.id", ondelete="SET NULL"),
                                                           index=True)


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


# -- the event loop (migration 0002) --------------------------------------------------
LOCATION_KINDS = ("point", "address", "community", "street")
ASSIGNMENT_KINDS = ("worker", "camera", "resource")
#: every ``audit_log.action`` a writer uses (tests/api/test_labels.py holds the writers to this list)
AUDIT_ACTIONS = (
    "load", "load_demo", "import_history", "propose_grids", "accept_grids", "discard_grids", "load_taxonomy",
    "add_alias", "replace_alias", "remove_alias", "transition", "supervise", "release", "merge", "split",
    "dispatch_worker", "link_cameras", "dispatch_resources", "positions", "draw_cells", "start_partition_job",
    "cancel_partition_job", "fail_partition_job", "intake", "intake_duplicate", "overdue",
    "release_resources", "person_add", "person_disable", "person_enable", "person_password", "sign_in",
    "sign_in_failed", "sign_out", "calendar_load", "calendar_set",
)

# lookups the event loop makes many times a second (intake, dispatch, camera search)
# open events of a leaf class in a time window: the duplicate check at every intake (partial, so that
# the planner prefers it to ix_event_reported_at even when statistics lag behind the newest events)
Index(
    "ix_event_open_category_reported", Event.__table__.c.category_code, Event.__table__.c.reported_at,
    postgresql_where=text("state NOT IN ('closed', 'rejected')"),
)
Index("ix_building_address", Building.__table__.c.address)
Index("ix_camera_range_m", Camera.__table__.c.range_m)
# fuzzy search (migration 0009, pg_trgm): what people type to find a place (command.addresses) or an event
for _name, _table, _columns in (
    ("ix_building_address_trgm", Building.__table__, ("address",)),
    ("ix_resource_name_trgm", Resource.__table__, ("name",)),
    ("ix_admin_area_name_trgm", AdminArea.__table__, ("name",)),
    ("ix_event_search_trgm", Event.__table__, ("code", "title", "address", "description")),
):
    Index(_name, *(_table.c[c] for c in _columns), postgresql_using="gin",
          postgresql_ops={c: "gin_trgm_ops" for c in _columns})
del _name, _table, _columns
Event.__table__.append_constraint(
    CheckConstraint(
        "location_kind IS NULL OR location_kind IN ('point', 'address', 'community', 'street')",
        name="location_kind_allowed",
    )
)


class TaxonomyVersion(Base):
    """One loaded pair of taxonomy and alias files; exactly one is current.

    The key is the pair of file versions; the checksum of both files guards
    against a file edited without its version being raised.
    """

    __tablename__ = "taxonomy_version"
    __table_args__ = (
        UniqueConstraint("version", "aliases_version"),
        Index("uq_taxonomy_version_one_current", "is_current", unique=True, postgresql_where=text("is_current")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    aliases_version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(Text)
    calendar: Mapped[dict] = mapped_column(JSONB)
    loaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    loaded_by: Mapped[str] = mapped_column(Text, server_default="system")
    is_current: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class EventClass(Base):
    """A top class, sub-class or leaf class of one taxonomy version.

    Only leaves (level 3) carry the handling rules: department, deadline,
    priority, duplicate radius and window, the resource kinds an emergency
    calls for, and whether the deadline runs on clock hours.
    """

    __tablename__ = "event_class"
    __table_args__ = (
        UniqueConstraint("version_id", "code"),
        CheckConstraint("level IN (1, 2, 3)", name="level_allowed"),
        CheckConstraint(
            "(level = 3) = (department IS NOT NULL AND deadline_hours IS NOT NULL AND priority IS NOT NULL"
            " AND dup_radius_m IS NOT NULL AND dup_window_hours IS NOT NULL)",
            name="leaf_rules_iff_leaf",
        ),
        CheckConstraint(
            "deadline_hours IS NULL OR (deadline_hours > 0 AND dup_radius_m >= 0 AND dup_window_hours >= 0)",
            name="rules_positive",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_version.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(Text)
    level: Mapped[int] = mapped_column(SmallInteger)
    name_zh: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(Text)
    deadline_hours: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[int | None] = mapped_column(SmallInteger)
    dup_radius_m: Mapped[float | None] = mapped_column(Float)
    dup_window_hours: Mapped[float | None] = mapped_column(Float)
    calendar_hours: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    resource_kinds: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))


class EventClassAlias(Base):
    """A class name or code another system sends, mapped onto a leaf."""

    __tablename__ = "event_class_alias"
    __table_args__ = (UniqueConstraint("version_id", "source", "alias"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_version.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(Text)
    alias: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(Text)


class DistrictAlias(Base):
    """A district's own crosswalk entry: a class name another system sends, mapped onto a leaf code.

    Unlike :class:`EventClassAlias` (shipped in the package, one set per
    taxonomy version) these belong to the district and to no version: they
    survive loading a new taxonomy version. An alias whose leaf the current
    version lacks is ignored when resolving (and listed as such). ``alias``
    is stored normalised (``command.taxonomy.normalise_name``); ``source``
    is a system name (``12345``, ``dcm``, the district's own) or ``*``.
    """

    __tablename__ = "district_alias"
    __table_args__ = (
        UniqueConstraint("source", "alias"),
        CheckConstraint("source <> '' AND alias <> '' AND code <> ''", name="not_empty"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(Text)
    alias: Mapped[str] = mapped_column(Text)
    code: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DistrictAliasRevision(Base):
    """One row: set, in the same transaction, by every change to :class:`DistrictAlias`.

    Why: each process keeps the current taxonomy in memory, keyed by what
    the store says is current; the revision is part of that key (and of what
    intake verifies as it writes), so an alias added in one process is used
    by every other one at its next event, at the cost of one more row in the
    query that already asks which version is current. Each change draws a
    random 63-bit number, never ``rev + 1`` nor a sequence's next value: a
    number a rolled-back change used is not used again, and two stores never
    share one, so no process can hold aliases under a number that later (or
    elsewhere) means other ones.
    """

    __tablename__ = "district_alias_revision"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default=text("1"))
    rev: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class CalendarDay(Base):
    """A day an admin declared worked or not (a holiday, a 调休 day), overriding ``chinesecalendar``.

    Why in the store: the package lags the State Council's notice (published
    each November) and a district may close or open a day of its own; an admin
    sets it (``gridwall calendar``) without editing a package file.
    """

    __tablename__ = "calendar_day"
    __table_args__ = (CheckConstraint("set_by <> ''", name="named_actor"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(Text, server_default=text("''"))
    set_by: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CalendarYear(Base):
    """A year declared whole (its notice loaded): the calendar knows it even where the package does not."""

    __tablename__ = "calendar_year"
    __table_args__ = (
        CheckConstraint("year BETWEEN 1900 AND 2200", name="plausible"),
        CheckConstraint("declared_by <> ''", name="named_actor"),
    )

    year: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(Text, server_default=text("''"))
    declared_by: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CalendarRevision(Base):
    """One row, set to a fresh random number by every calendar change (as :class:`DistrictAliasRevision`)."""

    __tablename__ = "calendar_revision"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default=text("1"))
    rev: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


#: the roles a person (or an API key) may have; :mod:`api.access` says what each may see and do
PERSON_ROLES = ("admin", "operator", "supervisor", "planner", "analyst", "department", "grid_worker", "wall", "open311")


class Person(Base):
    """Someone who signs in to the wall, console or planner, with a role (the API's roles).

    The password is kept as an argon2 hash only (``api.people``). Disabling a
    person, or changing the password, bumps ``session_epoch``: the sessions
    given out before stop working at the next request. People are disabled,
    never deleted: the audit log names them.
    """

    __tablename__ = "person"
    __table_args__ = (
        CheckConstraint("login ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$'", name="login_shape"),
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in PERSON_ROLES) + ")", name="role"),
        CheckConstraint("(role = 'department') = (cardinality(departments) > 0)", name="departments_for_department"),
        CheckConstraint("(role = 'grid_worker') = (worker_code IS NOT NULL)", name="worker_for_grid_worker"),
        Index("uq_person_login_lower", text("lower(login)"), unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(Text)
    departments: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    worker_code: Mapped[str | None] = mapped_column(Text)
    password_hash: Mapped[str] = mapped_column(Text)
    session_epoch: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Assignment(Base):
    """Who or what was sent to an event: a worker, a camera or a resource.

    A worker has at most one active (unreleased) assignment: a partial unique
    index holds that across connections, behind the conditional status update
    that dispatch makes first. A resource too (it is busy while held): its
    partial unique index is what dispatch's insert skips on conflict.
    """

    __tablename__ = "assignment"
    __table_args__ = (
        _one_of("kind", ASSIGNMENT_KINDS),
        CheckConstraint(
            "(kind = 'worker') = (worker_id IS NOT NULL) AND (kind = 'camera') = (camera_id IS NOT NULL)"
            " AND (kind = 'resource') = (resource_id IS NOT NULL)",
            name="target_matches_kind",
        ),
        Index(
            "uq_assignment_active_worker", "worker_id", unique=True,
            postgresql_where=text("released_at IS NULL AND worker_id IS NOT NULL"),
        ),
        Index(
            "uq_assignment_active_resource", "resource_id", unique=True,
            postgresql_where=text("released_at IS NULL AND resource_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(Text)
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("grid_worker.id", ondelete="CASCADE"))
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("camera.id", ondelete="CASCADE"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resource.id", ondelete="CASCADE"))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    assigned_by: Mapped[str] = mapped_column(Text)
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    straight_m: Mapped[float | None] = mapped_column(Float)
    network_m: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
