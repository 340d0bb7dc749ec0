"""Pure figure builders: bar charts for the wall, the 3-D panel's HTML.

Why the 3-D panel is an ``iframe`` ``srcdoc``: pydeck's HTML template links
CDN scripts and stylesheets; here the page is written from scratch around
the deck.gl JSON pydeck makes, with the one script tag pointing at this
server's ``/vendor/deckgl.js`` (the bundle inside pydeck's wheel). No map
provider, so no basemap tiles are asked for.
"""

from __future__ import annotations

import json
from collections import Counter

import plotly.graph_objects as go

from app.i18n import t

__all__ = ["bar", "deck_srcdoc", "counts_by", "EMPTY_FIGURE"]

_FONT = {"color": "#dbe7ff", "size": 18}
EMPTY_FIGURE: dict = {"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}}


def counts_by(features: list[dict], key, label) -> dict[str, int]:
    """Counts of features by ``key(properties)``, labelled by ``label(value)``, largest first."""
    c = Counter(key(f.get("properties") or {}) for f in features)
    c.pop(None, None)
    return {label(k): n for k, n in c.most_common(12)}


def bar(counts: dict[str, int], title: str, color: str = "#3fa7ff") -> go.Figure:
    """A horizontal bar chart readable from across the hall."""
    labels = list(counts)[::-1]
    fig = go.Figure(go.Bar(x=[counts[k] for k in labels], y=labels, orientation="h", marker_color=color,
                           text=[f"{counts[k]:,}" for k in labels], textposition="auto"))
    fig.update_layout(title={"text": title, "font": {"size": 22, "color": "#ffffff"}}, font=_FONT,
                      paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
                      margin={"l": 10, "r": 10, "t": 44, "b": 10}, xaxis={"visible": False},
                      yaxis={"automargin": True}, showlegend=False)
    return fig


def deck_srcdoc(buildings: list[dict], columns: list[dict], center: tuple[float, float], lang: str = "zh") -> str:
    """The 3-D panel: buildings extruded by floors, event counts as columns.

    Parameters
    ----------
    buildings:
        ``{"polygon": [[lon, lat], …], "floors": n}`` per building.
    columns:
        ``{"position": [lon, lat], "n": count}`` per event cell.
    center:
        (lon, lat) the camera looks at.
    """
    import orjson
    import pydeck as pdk

    layers = [
        pdk.Layer("PolygonLayer", data=[], get_polygon="polygon", extruded=True, wireframe=False,
                  get_elevation="floors * 3.2", get_fill_color=[70, 110, 160, 210], get_line_color=[0, 0, 0, 0],
                  pickable=False, id="buildings"),
        pdk.Layer("ColumnLayer", data=[], get_position="position", get_elevation="n", elevation_scale=6,
                  radius=45, get_fill_color=[255, 90, 60, 230], extruded=True, pickable=True, id="events"),
    ]
    view = pdk.ViewState(longitude=center[0], latitude=center[1], zoom=13.6, pitch=50, bearing=-20)
    deck = pdk.Deck(layers=layers, initial_view_state=view, map_provider=None, map_style=None,
                    tooltip={"text": t("events", lang) + ": {n}"})
    # pydeck writes the spec; the data go in after, with orjson (pydeck's own encoder is slow on 3,000 polygons)
    spec = json.loads(deck.to_json())
    data = {"buildings": buildings, "events": columns}
    for layer in spec.get("layers", []):
        layer["data"] = data.get(layer.get("id"), [])
    spec_text = orjson.dumps(spec).decode().replace("</", "<\\/")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<style>html,body,#deck-container{margin:0;height:100%;width:100%;background:#0b1220;overflow:hidden}"
        "</style><script src='/vendor/deckgl.js'></script></head><body><div id='deck-container'></div><script>"
        "const spec=" + spec_text + ";"
        "createDeck({container:document.getElementById('deck-container'),jsonInput:spec,"
        "tooltip:" + json.dumps({"text": t("events", lang) + ": {n}"}) + ",customLibraries:null,configuration:null});"
        "document.body.setAttribute('data-ready','1');</script></body></html>"
    )
    return page
