"""The basemap's labels: road, street and community names, each with where and from which zoom it is written.

Why the store computes them: the wall draws its basemap offline from the
district's own rows (no tile server, no font atlas), so the names are DOM
labels the browser places at anchors. Where an anchor goes (the middle of
a road's merged piece, once per ``spacing_m``; a point on an area's surface),
its angle along the road and its ``minzoom`` (a name is shown only once it
fits its road or area on screen) are spatial questions for PostGIS
(``api/sql/basemap_labels.sql``), asked once and cached by the wall.

Examples
--------
>>> LabelRules().params()["arterial_z"]
14
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import Connection

from api.store import sql

__all__ = ["LabelRules", "LABEL_RULES", "labels"]


@dataclass(frozen=True)
class LabelRules:
    """From which zoom each kind of name is written, and how big a name is on screen.

    ``street_maxz`` is exclusive: from it on, the communities' names have
    the map (a street covers the whole screen there). ``top_z`` caps a
    ``minzoom`` (a name that fits nowhere is written from there on).
    """

    street_z: int = 12
    street_maxz: int | None = 16
    community_z: int = 14
    arterial_z: int = 14
    local_z: int = 15
    top_z: int = 18
    char_px: float = 14.0
    pad_px: float = 8.0
    spacing_m: float = 1500.0
    tangent_m: float = 30.0

    def params(self) -> dict:
        """The rules as the query's bound parameters."""
        return asdict(self)


LABEL_RULES = LabelRules()


def labels(conn: Connection, rules: LabelRules = LABEL_RULES) -> dict:
    """Every label of the basemap as a GeoJSON FeatureCollection of points, most important first.

    Each feature's properties: ``layer`` (``road``, ``street``,
    ``community``), ``name``, ``kind`` (a road's), ``angle`` (screen degrees
    clockwise from east, in (-90, 90]), ``minzoom``, ``maxzoom`` (exclusive,
    ``None`` for none) and ``rank`` (the lower wins where two overlap).
    """
    rows = conn.execute(sql("basemap_labels"), rules.params()).mappings().all()
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
              "properties": {k: r[k] for k in ("layer", "name", "kind", "angle", "minzoom", "maxzoom", "rank")}}
             for r in rows]
    return {"type": "FeatureCollection", "features": feats}
