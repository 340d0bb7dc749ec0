"""/wall — the video wall: one map, KPIs, live ticker, heat, charts, 3-D panel.

Nobody touches the wall: it loads once, then follows the live feed
(``assets/gridwall_live.js``). Each event change is pushed into the
``wall-live`` store and drawn at once by a clientside callback (the ticker,
the fresh points). The figures follow too, a few seconds behind: the live
script bumps ``wall-refresh`` at most ~2.5 s after an event change (one bump
for a burst of changes) and at once when the feed says ``resync`` (notices
were lost), and every callback that draws figures — KPIs, charts, heat, the
camera and worker layers — takes it as an Input. Worker moves bump
``wall-refresh-workers`` instead: a phone fix changes the worker layer and the
on-duty count, never the charts or the heat, and thousands of phones would
otherwise recount the whole wall every few seconds. The ticker starts with
the newest events of the register (``wall-backlog``), not empty.

Why it loads in pieces (issue 6: first full render ≤ 3 s with 30,000
cameras): the basemap comes straight from this server's cache
(``/basemap/<layer>.geojson``, :mod:`app.payloads`), not through a callback;
the cameras are counted into clusters by the API for the map's zoom (a few
hundred badges instead of 12 MB of points); the KPIs have a callback of their
own, so the charts never hold them up; the street chart is one request for
every street (``/kpis/areas``); the 3-D panel is a page of its own
(:mod:`app.panel3d`) that loads beside the rest.
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
from app.legend import legend
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
#: an image of one transparent pixel: the heat overlay before the API's heat map is in
_CLEAR_PNG = ("data:image/png;base64,"
              "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=")
#: the heat's pane: above Leaflet's overlay pane (400: the basemap and the canvas-drawn dots), under its marker
#: pane (600: cluster badges)
_HEAT_Z = 450
#: the points' pane (workers, fresh events, camera tint and badges): over the heat and the names (550), so a
#: worker or a new event is never hidden under either
_POINTS_Z = 560
#: hotspots listed on the wall
_HOTSPOTS = 5
#: the newest events the ticker starts with
_BACKLOG = 20
#: rows of the street chart (the busiest streets of the day)
_STREET_ROWS = 12


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
            # a pane of its own over the basemap's canvas (whose blocks are opaque), under the points' pane
            dl.Pane(dl.ImageOverlay(id="wall-heat", url=_CLEAR_PNG, bounds=mapview.DEFAULT_BOX, opacity=0.85,
                                    interactive=False), name="wall-heat-pane", style={"zIndex": _HEAT_Z}),
            dl.Pane([
                mapview.cell_layer("wall", "cameras", color=mapview.PALETTE["cameras"], radius=3, name="cameras",
                                   tint_below=mapview.CAMERA_BADGES_ZOOM, down=mapview.PALETTE["cameras_down"],
                                   badge="gw-cluster-cam"),
                mapview.cell_layer("wall", "workers", color=mapview.PALETTE["workers"], radius=2, dots=True),
                mapview.point_layer("wall", "fresh", color=mapview.PALETTE["fresh"], radius=9),
            ], name="wall-points-pane", style={"zIndex": _POINTS_Z}),
            mapview.label_layer("wall"),
        ])
    charts = [html.Div(id=f"wall-chart-{k}", className=f"wall-chart wall-chart-{k}") for k in ("class", "channel",
                                                                                                   "street")]
    return html.Div([
        dcc.Store(id="wall-boot", data=ratio),
        dcc.Store(id="wall-live", data=[]),
        dcc.Store(id="wall-backlog", data=[]),
        dcc.Store(id="wall-refresh", data=0),
        dcc.Store(id="wall-refresh-workers", data=0),
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


@dash.callback(Output("wall-legend", "children"), Input("shell-lang", "data"))
def _legend(lang: str) -> list:
    """The map's legend in the wall's language."""
    return legend(lang)


mapview.follow_zoom("wall")


@dash.callback(Output("wall-map", "viewport"), Input("wall-boot", "data"))
def _view(_ratio: str):
    """Fit the map to the district (its outline, else what the store holds; from the server's cache)."""
    return mapview.fit(district_box(payloads_of(), settings_of())) or dash.no_update


@dash.callback(Output("wall-cameras", "data"), Output("wall-workers", "data"),
              Input("wall-map", "zoom"), Input("wall-refresh", "data"), Input("wall-refresh-workers", "data"),
              State("wall-map", "bounds"))
def _points(zoom: float | None, _refresh: int, _workers: int, bounds: list | None):
    """Cameras and workers on duty, counted by the API into cells of the map's zoom (around the view when close).

    Asked again when the zoom changes, not on every move: the wall is not
    touched, and fitting the map to the district need not count twice; and
    when the feed moves a worker (the workers only) or asks for a refresh.
    """
    z = max(0, min(int(round(zoom if zoom is not None else 13)), 22))
    common: dict = {"zoom": z}
    if z >= _CELLS_IN_VIEW_ZOOM and bounds:
        (s, w), (n, e) = bounds
        dy, dx = (n - s) / 2, (e - w) / 2
        common["bbox"] = f"{max(-180, w - dx):.6f},{max(-90, s - dy):.6f},{min(180, e + dx):.6f},{min(90, n + dy):.6f}"
    workers_only = _workers_only()
    with ApiClient(settings_of()) as api, ThreadPoolExecutor(max_workers=2) as pool:
        workers = pool.submit(api.get_json, "clusters", params={**common, "cell_px": 20,
                                                                "filter": ["status:on_duty|busy"]}, layer="workers")
        cameras = dash.no_update if workers_only else (
            api.get_json("clusters", params={**common, "cell_px": 64}, layer="cameras") or _EMPTY)
        return cameras, workers.result() or _EMPTY


def _workers_only() -> bool:
    """Whether the callback runs only because the feed moved a worker (nothing else asked with it)."""
    return set(dash.ctx.triggered_prop_ids) == {"wall-refresh-workers.data"}


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


@dash.callback(*[Output(f"wall-{k}-value", "children") for k in KPI_KEYS],
              Input("wall-refresh", "data"), Input("wall-refresh-workers", "data"))
def _kpis(_refresh: int, _workers: int):
    """The day's figures: two small questions, answered before anything heavy (a worker's move: only the one)."""
    settings = settings_of()
    on_duty = {"limit": 1, "filter": ["status:on_duty|busy"]}
    if _workers_only():
        with ApiClient(settings) as api:
            workers = api.get_json("layer", params=on_duty, layer="workers")
        return *[dash.no_update] * (len(KPI_KEYS) - 1), _kpi_values(None, (workers or {}).get("numberMatched"))[-1]
    window = data_day(payloads_of(), settings).window()
    with ApiClient(settings) as api, ThreadPoolExecutor(max_workers=2) as pool:
        kpis_f = pool.submit(api.get_json, "kpis", params=window)
        workers = api.get_json("layer", params=on_duty, layer="workers")
        return _kpi_values(kpis_f.result(), (workers or {}).get("numberMatched"))


@dash.callback(Output("wall-dataday", "children"), Input("shell-lang", "data"), Input("wall-refresh", "data"))
def _data_day(lang: str, _refresh: int) -> str:
    """Which day the figures are about, when it is not today (a district's history, or a set day)."""
    return data_day(payloads_of(), settings_of()).label(lang)


@dash.callback(
    Output("wall-chart-class", "children"), Output("wall-chart-channel", "children"),
    Output("wall-chart-street", "children"),
    Input("wall-refresh", "data"), Input("shell-lang", "data"),
)
def _figures(_refresh: int, lang: str):
    """Charts by class, channel and street (a callback apart from the KPIs'; the heat has its own)."""
    settings = settings_of()
    window = data_day(payloads_of(), settings).window()
    with ApiClient(settings) as api, ThreadPoolExecutor(max_workers=2) as pool:
        kpis_f = pool.submit(api.get_json, "kpis", params=window)
        streets = api.get_json("kpis_areas", params={**window, "level": "street"}) or {}
        kpis = kpis_f.result() or {}
    by_class: dict[str, int] = {}
    for code, n in (kpis.get("by_class") or {}).items():
        label = _label_class(code, lang)
        by_class[label] = by_class.get(label, 0) + n
    by_channel = {labelled(settings, "channels", c, lang): n for c, n in (kpis.get("by_channel") or {}).items()}
    by_street = {a.get("name") or a.get("code"): int(a.get("total") or 0)
                 for a in (streets.get("areas") or [])[:_STREET_ROWS]}  # the busiest first
    return (bar(by_class, t("by_class", lang)), bar(by_channel, t("by_channel", lang), "#37d67a"),
            bar(by_street, t("by_street", lang), "#ffb020"))


@dash.callback(Output("wall-backlog", "data"), Input("wall-boot", "data"))
def _backlog(_ratio: str) -> list[dict]:
    """The newest events of the register, newest first: what the ticker shows before the feed brings more."""
    with ApiClient(settings_of()) as api:
        page = api.get_json("events", params={"limit": _BACKLOG}) or {}
    keep = ("id", "code", "category_code", "state", "department", "reported_at")
    return [{k: e.get(k) for k in keep} for e in page.get("events") or []]


dash.clientside_callback(
    """
    function (items, backlog, labels) {
        items = items || [];
        labels = labels || {};
        const key = function (e) { return String(e.id !== undefined ? e.id : e.code); };
        const seen = new Set(items.map(key));
        const rows = items.concat((backlog || []).filter(function (e) { return !seen.has(key(e)); }))
            .slice(0, 30);
        const li = rows.map(function (e) {
            const when = new Date(e._seen || e.reported_at || Date.now())
                .toLocaleTimeString("zh-CN", {hour12: false});
            const cls = labels[String(e.category_code || "").slice(0, 2)] || e.category_code || "";
            const state = labels["st_" + e.state] || e.state || "";
            const text = [when, e.code || e.id, cls, state, e.department || ""].join("  ");
            return {namespace: "dash_html_components", type: "Li",
                    props: {children: text, className: "ticker-item" + (e.op === "insert" ? " new" : ""),
                            id: "wall-ticker-" + key(e)}};
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
    Input("wall-live", "data"), Input("wall-backlog", "data"), Input("wall-classes", "data"),
    prevent_initial_call=True,
)


dash.clientside_callback(
    "function (n) { return new Date().toLocaleString('zh-CN', {hour12: false}); }",
    Output("wall-clock", "children"), Input("wall-tick", "n_intervals"),
)


def _hotspot_list(spots: list[dict], lang: str) -> list:
    """The hotspots panel: title, then one line per hotspot — grid code, street, events within a bandwidth."""
    items = [html.Li([html.Span(h.get("grid_code") or "—", className="hotspot-grid"), " · ",
                      html.Span(h.get("street") or "—", className="hotspot-street"), " · ",
                      html.Span(t("hotspot_events", lang).format(n=h.get("events", 0)), className="hotspot-n")],
                     className="hotspot") for h in spots[:_HOTSPOTS]]
    return [html.H2(t("hotspots", lang)), html.Ol(items, className="hotspots") if items
            else html.Div(t("no_data", lang), className="hotspots-empty")]


@dash.callback(
    Output("wall-heat", "url"), Output("wall-heat", "bounds"), Output("wall-hotspots", "children"),
    Input("wall-refresh", "data"), Input("shell-lang", "data"),
)
def _heat(_refresh: int | None, lang: str):
    """The API's heat map of the open events (``GET /heat``: one image) and its top hotspots, again on every refresh
    the live feed asks for."""
    with ApiClient(settings_of()) as api:
        heat = api.get_json("heat", params={"top": _HOTSPOTS}) or {}
    if not heat.get("image"):
        return _CLEAR_PNG, mapview.DEFAULT_BOX, _hotspot_list([], lang)
    return heat["image"], heat["bounds"], _hotspot_list(heat.get("hotspots") or [], lang)
