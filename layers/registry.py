"""The map layers the store holds, by the names users type.

One :class:`LayerDef` per layer says which table holds it, which plain columns
a file may fill, and which ``*_code`` columns of a file name rows of another
layer (resolved to foreign keys on load). Importers, the API and the command
line all read this one table of layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Table

from layers import models as m
from layers.errors import NotFound

__all__ = ["Ref", "LayerDef", "LAYERS", "layer", "layer_names"]


@dataclass(frozen=True)
class Ref:
    """A file column holding another layer's code, stored as a foreign key.

    ``current_grid`` resolves grid codes among the current version's grids
    (grid codes are only unique within a version).
    """

    column: str
    target: str
    table: Table
    current_grid: bool = False


@dataclass(frozen=True)
class LayerDef:
    """How one map layer is stored."""

    name: str
    table: Table
    columns: tuple[str, ...]
    geometry: str = "geom"
    refs: tuple[Ref, ...] = ()
    key: tuple[str, ...] = ("code",)
    extra_geometry: tuple[str, ...] = field(default=())
    grid_member: bool = False

    @property
    def ref_columns(self) -> tuple[str, ...]:
        """The ``*_code`` columns a file may carry for this layer."""
        return tuple(r.column for r in self.refs)


_admin = m.AdminArea.__table__
_grid = m.Grid.__table__

LAYERS: dict[str, LayerDef] = {
    d.name: d
    for d in (
        LayerDef(
            "admin_areas", _admin, ("code", "name", "level", "metric_srid"),
            refs=(Ref("parent_code", "parent_id", _admin),),
        ),
        LayerDef(
            "blocks", m.Block.__table__, ("code", "zone", "btype"),
            refs=(Ref("community_code", "community_id", _admin),),
        ),
        LayerDef("roads", m.Road.__table__, ("code", "name", "kind")),
        LayerDef("water", m.Water.__table__, ("code", "name")),
        LayerDef("workers", m.GridWorker.__table__, ("code", "name", "status", "updated_at")),
        LayerDef(
            "grids", _grid, ("code", "name", "zone", "households", "population"),
            refs=(
                Ref("community_code", "community_id", _admin),
                Ref("worker_code", "worker_id", m.GridWorker.__table__),
            ),
            key=(),
        ),
        LayerDef(
            "buildings", m.Building.__table__,
            ("code", "btype", "floors", "households", "population", "zone", "address"),
            refs=(
                Ref("block_code", "block_id", m.Block.__table__),
                Ref("community_code", "community_id", _admin),
            ),
            extra_geometry=("cell",),
            grid_member=True,
        ),
        LayerDef(
            "components", m.Component.__table__, ("code", "class_code", "class_name", "owner_dept", "state"),
            grid_member=True,
        ),
        LayerDef(
            "cameras", m.Camera.__table__,
            ("code", "name", "kind", "heading_deg", "fov_deg", "range_m", "cam_class", "owner_dept", "online",
             "last_seen"),
            grid_member=True,
        ),
        LayerDef("resources", m.Resource.__table__, ("code", "name", "kind", "capacity")),
        LayerDef(
            "events", m.Event.__table__,
            ("code", "channel", "external_id", "category_code", "title", "address", "department", "priority",
             "state", "reported_at", "deadline_at", "closed_at", "rating", "on_time"),
            refs=(
                Ref("grid_code", "grid_id", _grid, current_grid=True),
                Ref("community_code", "community_id", _admin),
                Ref("street_code", "street_id", _admin),
            ),
        ),
        LayerDef(
            "event_history", m.EventHistory.__table__, ("from_state", "to_state", "at", "actor", "note"),
            geometry="",
            refs=(Ref("event_code", "event_id", m.Event.__table__),),
            key=(),
        ),
    )
}


def layer(name: str) -> LayerDef:
    """The layer called ``name``, or NotFound listing the ones there are."""
    try:
        return LAYERS[name]
    except KeyError:
        raise NotFound(f"no layer '{name}'; layers are: {', '.join(LAYERS)}") from None


def layer_names() -> list[str]:
    """Names of all layers, in load order."""
    return list(LAYERS)
