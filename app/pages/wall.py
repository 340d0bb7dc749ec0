"""/wall — the video wall: one map, KPIs, live ticker, heat, charts, 3-D panel.

Nobody touches the wall: it loads once, then new events arrive pushed from
the live feed (``assets/gridwall_live.js`` → ``wall-live`` store) and are
drawn by a clientside callback, so an event shows within a second of its
intake without reloading anything.

Why it loads in pieces (issue 6: first full render ≤ 3 s with 30,000
cameras): the basemap comes straight from this server's cache
(``/basemap/<layer>.geojson``, :mod:`app.payloads`), not through a callback;
the cameras are counted into clusters by the API for the map's zoom (a few
hundred badges instead of 12 MB of points); the KPIs have a callback of their
own, so the street charts' sixteen queries never hold them up; the 3-D
panel is a page of its own (:mod:`app.panel3d`) that loads beside the rest.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

import dash
import dash_leaflet as dl
from dash import Input, Output, State, dcc, html

from app import mapview
from app.client import ApiClient, labelled, vocabularies
from app.dataday import data_day
from app.figures import bar
from app.i18n import t
from app.main import payloads_of, settings_of
from app.payloads import district_box

__all__ = ["layout"]

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/wall", title="指挥大屏 · gridwall", order=0)
dash.register_page(__name__ + "_root", path="/", title="指挥大屏 · gridwall", layout=lambda **kw: layout(**kw))

KPI_KEYS = ("kpi_today", "kpi_closure", "kpi_ontime", "kpi_overdue", "kpi_camera", "kpi_workers")
#: from this zoom on the cameras are counted only around what the map shows (the whole district is too many cells)
_CELLS_IN_VIEW_ZOOM = 15
_EMPTY = {"type": "FeatureCollection", "features": []}


def layout(ratio: str = "16x9", **_query: str) -> html.Div:
    """The wall's layout (pure): ``?ratio=32x9`` for the wide wall."""
    ratio = "32x9" if ratio == "32x9" else "16x9"
    kpis = [html.Div([html.Div("—", id=f"wall-{k}-value", className="kpi-value"),
                      html.Div(id=f"wall-{k}-label", className="kpi-label")], className="kpi", id=f"wall-{k}")
            for k in KPI_KEYS]
    the_map = dl.Map(
        id="wall-map", center=mapview.DEFAULT_CENTER, zoom=13, zoomControl=False, attributionControl=False,
        preferCanvas=True, style={"height": "100%", "width": "100%", "background": mapview.DARK},
        children=[
            *mapview.basemap("wall", served=True),
            mapview.served_layer("wall", "grids", style=mapview.fn("styleGrid"),
                                 hideout={"color": "#2f7fd0", "weight": 0.8, "fillOpacity": 0.02}),
            dl.GeoJSON(id="wall-heat", data=None, style=mapview.fn("styleHeat"), hideout={"max": 1},
                       interactive=False),
            mapview.cell_layer("wall", "cameras", color="#37d67a", radius=3),
            mapview.cell_layer("wall", "workers", color="#ffd43b", radius=2, dots=True),
            mapview.point_layer("wall", "fresh", color="#ff3b30", radius=9),
        ])
    charts = [html.Div(id=f"wall-chart-{k}", className=f"wall-chart wall-chart-{k}") for k in ("class", "channel",
                                                                                                   "street")]
    return html.Div([
        dcc.Store(id="wall-boot", data=ratio),
        dcc.Store(id="wall-live", data=[]),
        dcc.Store(id="wall-classes", data={}),
        html.Div(id="wall-live-anchor", hidden=True),
        dcc.Interval(id="wall-tick", interval=1000),
        html.Header([html.H1(id="wall-title"), html.Div(id="wall-dataday", className="wall-dataday"),
                     html.Div(id="wall-clock", className="wall-clock")],
                    className="wall-header"),
        html.Div(kpis, className="wall-kpis", id="wall-kpis"),
        # the main row: charts | map | feed and 3-D; a panel with nothing to show gives its width to the map
        html.Div([
            html.Section(charts, className="wall-charts", id="wall-charts"),
            html.Div([the_map, html.Div(id="wall-legend", className="wall-legend")], className="wall-map",
                     id="wall-map-box"),
            html.Aside([
                html.Div([html.Div([html.H2(id="wall-ticker-title"), html.Ul(id="wall-ticker", className="ticker")],
                                   className="wall-ticker"),
                          html.Div(id="wall-hotspots", className="wall-hotspots")], className="wall-feed"),
                html.Div([html.H2(id="wall-3d-title"), html.Iframe(id="wall-deck", src="/panel3d",
                                                                   className="wall-deck")], className="wall-3d"),
            ], className="wall-side", id="wall-side"),
        ], className="wall-main"),
    ], className=f"wall wall-{ratio}", id="wall-root")


@dash.callback(
    Output("wall-title", "children"), Output("wall-ticker-title", "children"), Output("wall-3d-title", "children"),
    Output("wall-classes", "data"), Output("wall-deck", "src"),
    *[Output(f"wall-{k}-label", "children") for k in KPI_KEYS],
    Input("shell-lang", "data"),
)
def _labels(lang: str):
    classes = {f"{i:02d}": t(f"cls_{i:02d}", lang) for i in range(1, 8)}
    classes.update({f"st_{s}": name for s, name in vocabularies(settings_of(), lang).get("states", {}).items()})
    panel = "/panel3d" if lang == settings_of().language else f"/panel3d?lang={lang}"  # the layout's src: no reload
    return (t("title", lang), t("ticker", lang), t("panel3d", lang), classes, panel,
            *[t(k, lang) for k in KPI_KEYS])


@dash.callback(Output("wall-map", "viewport"), Input("wall-boot", "data"))
def _view(_ratio: str):
    """Fit the map to the district (its outline, else what the store holds; from the server's cache)."""
    return mapview.fit(district_box(payloads_of(), settings_of())) or dash.no_update


@dash.callback(Output("wall-cameras", "data"), Output("wall-workers", "data"),
              Input("wall-map", "zoom"), State("wall-map", "bounds"))
def _points(zoom: float | None, bounds: list | None):
    """Cameras and workers on duty, counted by the API into cells of the map's zoom (around the view when close).

    Asked again when the zoom changes, not on every move: the wall is not
    touched, and fitting the map to the district need not count twice.
    """
    z = max(0, min(int(round(zoom if zoom is not None else 13)), 22))
    common: dict = {"zoom": z}
    if z >= _CELLS_IN_VIEW_ZOOM and bounds:
        (s, w), (n, e) = bounds
        dy, dx = (n - s) / 2, (e - w) / 2
        common["bbox"] = f"{max(-180, w - dx):.6f},{max(-90, s - dy):.6f},{min(180, e + dx):.6f},{min(90, n + dy):.6f}"
    with ApiClient(settings_of()) as api, ThreadPoolExecutor(max_workers=2) as pool:
        workers = pool.submit(api.get_json, "clusters", params={**common, "cell_px": 20,
                                                                "filter": ["status:on_duty|busy"]}, layer="workers")
        cameras = api.get_json("clusters", params={**common, "cell_px": 64}, layer="cameras")
        return cameras or _EMPTY, workers.result() or _EMPTY


def _kpi_values(k: dict | None, on_duty: int | None) -> list[str]:
    k = k or {}

    def pct(v):
        return "—" if v is None else f"{100 * float(v):.1f}%"

    def num(v):
        return "—" if v is None else f"{int(v):,}"

    return [num(k.get("total")), pct(k.get("closure_rate")), pct(k.get("on_time_rate")), num(k.get("overdue")),
            pct(k.get("camera_online_rate")), num(on_duty)]


def _label_class(code: str, lang: str) -> str:
    return t(f"cls_{str(code)[:2]}", lang) if str(code)[:2].isdigit() else str(code)


@dash.callback(*[Output(f"wall-{k}-value", "children") for k in KPI_KEYS], Input("wall-boot", "data"))
def _kpis(_ratio: str):
    """The day's figures: two small questions, answered before anything heavy."""
    settings = settings_of()
    window = data_day(payloads_of(), settings).window()
    with ApiClient(settings) as api, ThreadPoolExecutor(max_workers=2) as pool:
        kpis_f = pool.submit(api.get_json, "kpis", params=window)
        workers = api.get_json("layer", params={"limit": 1, "filter": ["status:on_duty|busy"]}, layer="workers")
        return _kpi_values(kpis_f.result(), (workers or {}).get("numberMatched"))


@dash.callback(Output("wall-dataday", "children"), Input("shell-lang", "data"))
def _data_day(lang: str) -> str:
    """Which day the figures are about, when it is not today (a district's history, or a set day)."""
    return data_day(payloads_of(), settings_of()).label(lang)


@dash.callback(
    Output("wall-chart-class", "children"), Output("wall-chart-channel", "children"),
    Output("wall-chart-street", "children"),
    Output("wall-heat", "data"), Output("wall-heat", "hideout"),
    Input("wall-boot", "data"), Input("shell-lang", "data"),
)
def _figures(_ratio: str, lang: str):
    """Charts by class, channel and street, and the heat layer (a callback apart from the KPIs')."""
    settings = settings_of()
    window = data_day(payloads_of(), settings).window()
    with ApiClient(settings) as api, ThreadPoolExecutor(max_workers=4) as pool:
        kpis_f = pool.submit(api.get_json, "kpis", params=window)
        events_f = pool.submit(mapview.open_events, api, 3000)
        streets = api.layer("admin_areas", filters=["level:street"], limit=40).get("features", [])[:16]
        per_street = [(f, pool.submit(api.get_json, "kpis", params={**window, "level": "street",
                                                                     "area_id": f.get("id")})) for f in streets]
        kpis, events = kpis_f.result() or {}, events_f.result()
        by_street = {(f.get("properties") or {}).get("name") or str(f.get("id")): int((r.result() or {}).get("total")
                                                                                     or 0) for f, r in per_street}
    by_class: dict[str, int] = {}
    for code, n in (kpis.get("by_class") or {}).items():
        label = _label_class(code, lang)
        by_class[label] = by_class.get(label, 0) + n
    by_channel = {labelled(settings, "channels", c, lang): n for c, n in (kpis.get("by_channel") or {}).items()}
    by_street = dict(sorted(by_street.items(), key=lambda kv: -kv[1])[:12])
    heat = mapview.heat_classes(mapview.heat_cells(events))
    return (bar(by_class, t("by_class", lang)), bar(by_channel, t("by_channel", lang), "#37d67a"),
            bar(by_street, t("by_street", lang), "#ffb020"), heat, {"max": heat.pop("max")})


dash.clientside_callback(
    """
    function (items, labels) {
        items = items || [];
        labels = labels || {};
        const li = items.map(function (e) {
            const when = new Date(e._seen || Date.now()).toLocaleTimeString("zh-CN", {hour12: false});
            const cls = labels[String(e.category_code || "").slice(0, 2)] || e.category_code || "";
            const state = labels["st_" + e.state] || e.state || "";
            const text = [when, e.code || e.id, cls, state, e.department || ""].join("  ");
            return {namespace: "dash_html_components", type: "Li",
                    props: {children: text, className: "ticker-item" + (e.op === "insert" ? " new" : ""),
                            id: "wall-ticker-" + String(e.id !== undefined ? e.id : e.code)}};
        });
        const feats = items.filter(function (e) { return e.lon !== undefined && e.lon !== null; })
            .map(function (e) {
                return {type: "Feature", id: e.id, geometry: {type: "Point", coordinates: [e.lon, e.lat]},
                        properties: {id: e.id, fresh: true}};
            });
        return [li, {type: "FeatureCollection", features: feats}];
    }
    """,
    Output("wall-ticker", "children"), Output("wall-fresh", "data"),
    Input("wall-live", "data"), State("wall-classes", "data"), prevent_initial_call=True,
)


dash.clientside_callback(
    "function (n) { return new Date().toLocaleString('zh-CN', {hour12: false}); }",
    Output("wall-clock", "children"), Input("wall-tick", "n_intervals"),
)
