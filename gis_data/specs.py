"""What each store layer accepts from a file.

Choices come from the model's constants, so a file is checked against exactly
what the database's CHECK constraints would allow, before a row is written.
"""

from __future__ import annotations

from gis_data.validation import LayerSpec
from layers import models as m
from layers.errors import NotFound
from layers.registry import layer as layer_def

__all__ = ["SPECS", "spec_for"]

_POLY = frozenset({"Polygon", "MultiPolygon"})
_LINE = frozenset({"LineString", "MultiLineString"})
_POINT = frozenset({"Point"})

SPECS: dict[str, LayerSpec] = {
    s.name: s
    for s in (
        LayerSpec(
            "admin_areas", _POLY,
            required={"code": "str", "name": "str", "level": "str"},
            optional={"parent_code": "str", "metric_srid": "int"},
            choices={"level": m.ADMIN_LEVELS},
            geometry_optional=True,  # streets and communities may be names only; a district needs its outline
        ),
        LayerSpec(
            "blocks", _POLY,
            required={"code": "str", "zone": "str"},
            optional={"btype": "str", "community_code": "str"},
            choices={"zone": m.ZONES},
        ),
        LayerSpec(
            "roads", _LINE,
            required={"code": "str", "kind": "str"},
            optional={"name": "str"},
            choices={"kind": ("arterial", "local")},
        ),
        LayerSpec("water", _POLY | _LINE, required={"code": "str"}, optional={"name": "str"}),
        LayerSpec(
            "workers", _POINT,
            required={"code": "str", "name": "str"},
            optional={"status": "str", "updated_at": "datetime"},
            choices={"status": m.WORKER_STATUSES},
        ),
        LayerSpec(
            "grids", _POLY,
            required={"code": "str", "zone": "str"},
            optional={"name": "str", "households": "int", "population": "int", "community_code": "str",
                      "worker_code": "str"},
            choices={"zone": m.ZONES},
            ranges={"households": (0, None), "population": (0, None)},
        ),
        LayerSpec(
            "buildings", _POLY,
            required={"code": "str", "zone": "str"},
            optional={
                "floors": "int", "households": "int", "population": "int", "btype": "str", "address": "str",
                "block_code": "str", "community_code": "str",
            },
            choices={"zone": m.ZONES},
            ranges={"floors": (0, 200), "households": (0, 5000), "population": (0, 20000)},
        ),
        LayerSpec(
            "components", _POINT,
            required={"code": "str", "class_code": "str", "class_name": "str"},
            optional={"owner_dept": "str", "state": "str"},
            choices={"state": m.COMPONENT_STATES},
        ),
        LayerSpec(
            "cameras", _POINT,
            required={"code": "str", "kind": "str", "fov_deg": "float", "range_m": "float", "cam_class": "int"},
            optional={
                "name": "str", "heading_deg": "float", "owner_dept": "str", "online": "bool",
                "last_seen": "datetime",
            },
            choices={"kind": m.CAMERA_KINDS, "cam_class": ("1", "2", "3")},
            ranges={"fov_deg": (1, 360), "range_m": (1, 5000), "heading_deg": (0, 359.999)},
        ),
        LayerSpec(
            "resources", _POINT,
            required={"code": "str", "name": "str", "kind": "str"},
            optional={"capacity": "int"},
            choices={"kind": m.RESOURCE_KINDS},
            ranges={"capacity": (0, None)},
        ),
        LayerSpec(
            "events", _POINT,
            required={
                "code": "str", "channel": "str", "external_id": "str", "category_code": "str",
                "reported_at": "datetime",
            },
            optional={
                "title": "str", "address": "str", "department": "str", "priority": "int", "state": "str",
                "deadline_at": "datetime", "closed_at": "datetime", "rating": "int",
                "grid_code": "str", "community_code": "str", "street_code": "str",
            },
            choices={"channel": m.EVENT_CHANNELS, "state": m.EVENT_STATES},
            ranges={"rating": (1, 5), "priority": (1, 3)},
        ),
    )
}


def spec_for(layer: str) -> LayerSpec:
    """The spec of a loadable layer (every layer but ``event_history``)."""
    layer_def(layer)  # an unknown name fails the same way everywhere
    if layer not in SPECS:
        raise NotFound(f"layer '{layer}' is not loaded from files; loadable layers: {', '.join(SPECS)}")
    return SPECS[layer]
