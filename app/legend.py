"""The wall map's legend: one line per layer, its swatch drawn in the layer's own colours.

Why built from :data:`app.mapview.PALETTE`: a legend that keeps its own copy
of the colours drifts the day a layer is restyled; here the swatch and the
layer read the same value. The words are :mod:`app.i18n`'s (``lg_*``).

Examples
--------
>>> [item.key for item in LEGEND][:3]
['lg_district', 'water', 'blocks']
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dash import html

from app.i18n import t
from app.mapview import CAMERA_BADGES_ZOOM, PALETTE

__all__ = ["LegendItem", "LEGEND", "legend"]


@dataclass(frozen=True)
class LegendItem:
    """A line of the legend: the label's key, the swatch's shape (a ``gw-swatch-*`` class), its style and the key of
    the text it shows (if any)."""

    key: str
    swatch: str
    style: dict = field(default_factory=dict)
    text: str = ""


def _line(color: str, width: int, casing: str | None = None) -> dict:
    style = {"borderTopWidth": f"{width}px", "borderTopColor": color}
    return style | ({"boxShadow": f"0 0 0 1px {casing}"} if casing else {})


#: the wall's layers, bottom first (the names last: they are written over everything)
LEGEND: tuple[LegendItem, ...] = (
    LegendItem("lg_district", "fill", {"background": PALETTE["district_fill"],
                                       "border": f"2px solid {PALETTE['district']}"}),
    LegendItem("water", "fill", {"background": PALETTE["water"], "border": f"1px solid {PALETTE['water_edge']}"}),
    LegendItem("blocks", "fill", {"background": PALETTE["blocks"], "border": f"1px solid {PALETTE['blocks_edge']}"}),
    LegendItem("lg_arterial", "line", _line(PALETTE["arterial"], 5, PALETTE["casing"])),
    LegendItem("lg_local", "line", _line(PALETTE["local"], 2, PALETTE["casing"])),
    LegendItem("grids", "line", _line(PALETTE["grids"], 1)),
    LegendItem("heat", "heat"),
    LegendItem("lg_cam_cover", "tint", {"background": PALETTE["cameras"], "opacity": 0.45}),
    LegendItem("lg_cam_badge", "badge", {"background": PALETTE["cameras"]}),
    LegendItem("lg_cam_down", "tint", {"background": PALETTE["cameras_down"], "opacity": 0.6}),
    LegendItem("lg_workers", "dot", {"background": PALETTE["workers"]}),
    LegendItem("lg_fresh", "dot", {"background": PALETTE["fresh"], "boxShadow": f"0 0 0 2px {PALETTE['fresh']}55"}),
    LegendItem("lg_names", "text", {}, "lg_sample"),
)


def legend(lang: str) -> list:
    """The legend's children in ``lang``: a title, then one line per layer of the wall's map."""
    rows = [html.Div(t("lg_title", lang), className="gw-legend-title")]
    for item in LEGEND:
        label = t(item.key, lang).format(zoom=CAMERA_BADGES_ZOOM)
        swatch = html.Span(t(item.text, lang) if item.text else None, className=f"gw-swatch gw-swatch-{item.swatch}",
                           style=item.style)
        rows.append(html.Div([swatch, html.Span(label, className="gw-legend-label")],
                             className="gw-legend-item", id=f"wall-legend-{item.key}"))
    return rows
