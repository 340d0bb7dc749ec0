"""/console — the operator: layers and filters, click to see what is around, dispatch in one more click.

Filters and layer switches only rewrite each layer's ``hideout``: the
browser re-filters what it already holds (30,000 clustered cameras stay
smooth). A click on an event (map or queue) or on any map point sets the
``console-selected`` store; the panel then asks the API what is around it,
and a dispatch answered 409 (someone else took that worker) is shown as the
conflict it is, with fresh candidates.

The queue of incoming events is live: ``assets/gridwall_live.js`` pushes
each change from the feed into the ``console-live`` store, and a clientside
callback merges it into the list loaded at start — a new event goes on top, an
event closed elsewhere leaves — without a reload.
"""

from __future__ import annotations

import logging

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, State, ctx, dcc, html

from app import mapview
from app.client import ApiClient, ApiError, labelled
from app.i18n import t
from app.main import payloads_of, settings_of
from app.payloads import basemap_payload, district_box

__all__ = ["layout", "PENDING"]

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/console", title="调度台 · gridwall", order=1)

#: the states of an event still to be worked on (what the operator's map shows)
PENDING = mapview.OPEN_STATES
POINT_LAYERS = {"cameras": "#37d67a", "workers": "#ffd43b", "resources": "#c084fc", "components": "#94a3b8",
                "events": "#ff6b3d"}
_NEAR = 0.0004  # degrees: the box that finds the grid under a click


def layout(**_query: str) -> html.Div:
    """The console's layout (pure)."""
    def drop(key: str, multi: bool = True) -> html.Div:
        return html.Div([html.Label(id=f"console-{key}-label"),
                         dcc.Dropdown(id=f"console-{key}", multi=multi, options=[], value=[])])

    the_map = dl.Map(
        id="console-map", center=mapview.DEFAULT_CENTER, zoom=14, preferCanvas=True, attributionControl=False,
        style={"height": "100%", "width": "100%", "background": mapview.DARK},
        children=[
            *mapview.basemap("console"),
            dl.GeoJSON(id="console-grids", data=None, style=mapview.fn("styleGrid"), interactive=False,
                       hideout={"color": "#3fa7ff", "weight": 1}),
            mapview.point_layer("console", "components", cluster=True, color=POINT_LAYERS["components"], radius=3,
                                hidden=True),
            mapview.point_layer("console", "resources", color=POINT_LAYERS["resources"], radius=6),
            mapview.point_layer("console", "cameras", cluster=True, color=POINT_LAYERS["cameras"], radius=4),
            mapview.point_layer("console", "workers", color=POINT_LAYERS["workers"], radius=5),
            mapview.point_layer("console", "events", color=POINT_LAYERS["events"], radius=7),
            dl.LayerGroup(id="console-marks"),
        ])
    return html.Div([
        dcc.Store(id="console-boot", data=1),
        dcc.Store(id="console-selected", data=None),
        dcc.Store(id="console-dispatch-result", data=None),
        dcc.Store(id="console-queue-data", data=[]),
        dcc.Store(id="console-live", data=[]),
        dcc.Store(id="console-classes", data={}),
        dcc.Store(id="console-pending", data=list(PENDING)),
        html.Div(id="console-live-anchor", hidden=True),
        html.Div([
            html.H3(id="console-layers-title"),
            dcc.Checklist(id="console-layers", value=["grids", "cameras", "workers", "resources", "events"],
                          options=[], labelStyle={"display": "block"}),
            html.H3(id="console-filters-title"),
            drop("class"), drop("department"), drop("state"), drop("kind"),
            html.Div([html.Label(id="console-online-label"),
                      dcc.RadioItems(id="console-online", value="all", options=[], inline=True)]),
            html.H3(id="console-queue-title"),
            html.Ul(id="console-queue", className="ticker"),
        ], className="desk-panel"),
        html.Div(the_map, className="desk-map"),
        html.Div([html.H3(id="console-around-title"), html.Div(id="console-around")], className="desk-panel",
                 id="console-around-panel"),
    ], className="desk", id="console-root")


@dash.callback(
    Output("console-layers-title", "children"), Output("console-filters-title", "children"),
    Output("console-queue-title", "children"), Output("console-around-title", "children"),
    Output("console-class-label", "children"), Output("console-department-label", "children"),
    Output("console-state-label", "children"), Output("console-kind-label", "children"),
    Output("console-online-label", "children"), Output("console-layers", "options"),
    Output("console-class", "options"), Output("console-state", "options"), Output("console-online", "options"),
    Output("console-classes", "data"),
    Input("shell-lang", "data"),
)
def _labels(lang: str):
    layers = [{"label": t(k, lang), "value": k} for k in ("grids", *POINT_LAYERS)]
    classes = [{"label": t(f"cls_{i:02d}", lang), "value": f"{i:02d}"} for i in range(1, 8)]
    states = [{"label": labelled(settings_of(), "states", s, lang), "value": s} for s in PENDING]
    online = [{"label": t(k, lang), "value": k} for k in ("all", "online", "offline")]
    return (t("layers", lang), t("filters", lang), t("events", lang), t("around", lang), t("f_class", lang),
            t("f_department", lang), t("f_state", lang), t("f_kind", lang), t("f_online", lang), layers, classes,
            states, online, {c["value"]: c["label"] for c in classes})


@dash.callback(
    Output("console-district", "data"), Output("console-water", "data"), Output("console-blocks", "data"),
    Output("console-roads", "data"),
    Output("console-grids", "data"), Output("console-map", "viewport"),
    Output("console-cameras", "data"), Output("console-workers", "data"), Output("console-resources", "data"),
    Output("console-components", "data"), Output("console-events", "data"),
    Output("console-department", "options"), Output("console-kind", "options"), Output("console-queue-data", "data"),
    Input("console-boot", "data"),
)
def _load(_boot: int):
    outline = basemap_payload(payloads_of(), settings_of(), "district").data  # the server's cached copy
    with ApiClient(settings_of()) as api:
        base = [api.layer(n) for n in ("water", "blocks", "roads")]
        grids = mapview.slim(api.layer("grids"), ("code", "worker_id", "households", "population"))
        points = {n: mapview.slim(api.layer(n, filters=["state:" + "|".join(PENDING)] if n == "events" else None,
                                            limit=5000 if n == "events" else None), mapview.POINT_KEEP[n])
                  for n in POINT_LAYERS}
    for f in points["events"]["features"]:
        f["properties"]["cls"] = str(f["properties"].get("category_code") or "")[:2]
    view = mapview.fit(district_box(payloads_of(), settings_of())) or dash.no_update
    depts = sorted({p for n in ("cameras", "events") for f in points[n]["features"]
                    if (p := f["properties"].get("owner_dept") or f["properties"].get("department"))})
    kinds = sorted({f["properties"].get("kind") for f in points["cameras"]["features"]} - {None})
    newest = sorted(points["events"]["features"], key=lambda f: str(f["properties"].get("reported_at")))[-40:][::-1]
    queue = [{"id": f["id"], "text": f"{str(p.get('reported_at', ''))[5:16]}  {p.get('code')}  {p.get('title') or ''}"}
             for f in newest if (p := f["properties"])]
    return (outline, *base, grids, view, *(points[n] for n in POINT_LAYERS), depts, kinds, queue)


dash.clientside_callback(
    """
    function (loaded, live, classes, pending) {
        /* the live changes (newest first) over the queue loaded at start: new on top, no longer pending out */
        const out = [], seen = {};
        const pad = function (n) { return String(n).padStart(2, "0"); };
        (live || []).forEach(function (e) {
            if (e.id === undefined || seen[e.id]) { return; }
            seen[e.id] = true;
            if ((pending || []).indexOf(e.state) < 0) { return; }
            const d = new Date(e._seen || Date.now());
            const when = pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":"
                + pad(d.getMinutes());
            const cls = (classes || {})[String(e.category_code || "").slice(0, 2)] || e.category_code || "";
            out.push({id: e.id, text: when + "  " + (e.code || e.id) + "  " + cls, fresh: e.op === "insert"});
        });
        (loaded || []).forEach(function (q) { if (!seen[q.id]) { seen[q.id] = true; out.push(q); } });
        return out.slice(0, 40).map(function (q) {
            return {namespace: "dash_html_components", type: "Li",
                    props: {children: q.text, id: {type: "console-queue-item", event: q.id}, n_clicks: 0,
                            className: "ticker-item" + (q.fresh ? " new" : ""), style: {cursor: "pointer"}}};
        });
    }
    """,
    Output("console-queue", "children"),
    Input("console-queue-data", "data"), Input("console-live", "data"),
    State("console-classes", "data"), State("console-pending", "data"),
)


@dash.callback(
    *[Output(f"console-{n}", "hideout") for n in POINT_LAYERS], Output("console-grids", "hideout"),
    Input("console-layers", "value"), Input("console-class", "value"), Input("console-department", "value"),
    Input("console-state", "value"), Input("console-kind", "value"), Input("console-online", "value"),
)
def _filters(shown, classes, depts, states, kinds, online):
    """Every filter is a hideout: the browser re-filters, no data moves."""
    shown = set(shown or [])
    flt = {
        "cameras": {"kind": kinds or [], "owner_dept": depts or [],
                    "online": [] if online == "all" else ["true" if online == "online" else "false"]},
        "events": {"cls": classes or [], "department": depts or [], "state": states or []},
        "components": {"owner_dept": depts or []},
    }
    out = [{"color": c, "radius": {"events": 7, "workers": 5, "resources": 6}.get(n, 4),
            "filters": flt.get(n, {}), "hidden": n not in shown} for n, c in POINT_LAYERS.items()]
    grids = {"color": "#3fa7ff", "weight": 1, "fillOpacity": 0.02 if "grids" in shown else 0}
    if "grids" not in shown:
        grids.update(color="rgba(0,0,0,0)", weight=0)
    return (*out, grids)


@dash.callback(
    Output("console-selected", "data"),
    Input("console-events", "clickData"), Input("console-map", "clickData"),
    Input({"type": "console-queue-item", "event": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def _select(event_click, map_click, _queue):
    trig = ctx.triggered_id
    if isinstance(trig, dict) and trig.get("type") == "console-queue-item":
        if not any(_queue or []):
            return dash.no_update
        return {"event_id": trig["event"]}
    if trig == "console-events" and event_click:
        return {"event_id": event_click.get("id") or (event_click.get("properties") or {}).get("id")}
    if trig == "console-map" and map_click:
        ll = map_click["latlng"]
        lat, lon = (ll["lat"], ll["lng"]) if isinstance(ll, dict) else (ll[0], ll[1])
        return {"lon": lon, "lat": lat}
    return dash.no_update


def _rows(items: list[dict], cols: tuple[str, ...], kinds: str, lang: str) -> html.Table:
    """A table of ``cols``; the ``kind`` column under the labels of the ``kinds`` vocabulary."""
    def cell(i: dict, c: str) -> str:
        return labelled(settings_of(), kinds, i.get(c), lang) if c == "kind" else _fmt(i.get(c))
    return html.Table([html.Tbody([html.Tr([html.Td(cell(i, c)) for c in cols]) for i in items])])


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:,.0f}"
    return "" if v is None else str(v)


def _grid_here(api: ApiClient, lon: float, lat: float, lang: str) -> list:
    """The grid under a point and its worker, from the layers (a tiny bbox)."""
    fc = api.get_json("layer", params={"bbox": f"{lon - _NEAR},{lat - _NEAR},{lon + _NEAR},{lat + _NEAR}",
                                       "limit": 1}, layer="grids") or {}
    if not fc.get("features"):
        return []
    p = fc["features"][0]["properties"]
    worker = None
    if p.get("worker_id"):
        try:
            worker = (api.get_json("feature", layer="workers", feature_id=p["worker_id"]) or {}).get("properties")
        except ApiError:
            worker = None
    status = labelled(settings_of(), "worker_status", worker.get("status"), lang) if worker else ""
    w = f"{worker.get('name')}（{worker.get('code')}，{status}）" if worker else "—"
    return [html.Div(f"{p.get('code')} · {_fmt(p.get('households'))} 户 · {_fmt(p.get('population'))} 人",
                     id="console-grid-code"), html.Div(w, id="console-grid-worker")]


def _event_block(api: ApiClient, event_id: int, lang: str) -> tuple[list, float | None, float | None]:
    ev = api.get_json("event", event_id=event_id) or {}
    hist = ev.get("history") or []

    def state(value: object) -> str:
        return labelled(settings_of(), "states", value, lang)

    history = html.Details([
        html.Summary(f"{t('history', lang)} · {t('deadline', lang)} {str(ev.get('deadline_at') or '—')[:16]}",
                     id="console-history-toggle"),
        html.Table([html.Tbody([html.Tr([html.Td(str(h.get("at", ""))[5:16]), html.Td(state(h.get("from_state"))),
                                         html.Td("→ " + state(h.get("to_state"))), html.Td(h.get("actor")),
                                         html.Td(h.get("note") or "")]) for h in hist])], id="console-history"),
    ])
    head = [html.Div(f"{t('event', lang)} {ev.get('code')} · {ev.get('title') or ''}", id="console-event-code"),
            html.Div(f"{t('state', lang)}: {state(ev.get('state'))} · {ev.get('department') or ''}",
                     id="console-event-state"),
            html.Div(ev.get("address") or ""), history]
    return head, ev.get("lon"), ev.get("lat")


@dash.callback(
    Output("console-around", "children"), Output("console-marks", "children"),
    Input("console-selected", "data"), Input("console-dispatch-result", "data"), State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _around(sel: dict | None, result: dict | None, lang: str):
    if not sel:
        return html.P(t("click_map", lang)), []
    out, marks = [], []
    with ApiClient(settings_of()) as api:
        if sel.get("event_id"):
            head, lon, lat = _event_block(api, sel["event_id"], lang)
            out += head
            sugg = api.get_json("suggestions", event_id=sel["event_id"]) or {}
            workers, cams, res = sugg.get("workers", []), sugg.get("cameras", []), sugg.get("resources", [])
        else:
            lon, lat = sel["lon"], sel["lat"]
            pt = {"lon": lon, "lat": lat}
            workers = api.get_json("near_workers", params=pt) or []
            cams = api.get_json("near_cameras", params=pt) or []
            res = api.get_json("near_resources", params=pt) or []
        if lon is not None:
            out += [html.H3(t("grid_worker", lang)), *_grid_here(api, lon, lat, lang)]
            marks = [dl.CircleMarker(center=[lat, lon], radius=14, color="#ffffff", weight=3, fill=False)]
    if result and ctx.triggered_id == "console-dispatch-result":
        cls = "msg-ok" if result.get("ok") else "msg-warn"
        title = t("dispatched", lang) if result.get("ok") else t("conflict", lang)
        out.append(html.Div(f"{title}: {result.get('text')}", className=cls, id="console-dispatch-message"))
    if sel.get("event_id"):
        out += [html.Button(t("dispatch", lang), id={"type": "console-send", "worker": 0}, n_clicks=0,
                            className="gw-btn console-send-best")]
    out += [html.H3(t("candidates", lang)),
            html.Table([html.Tbody([html.Tr([
                html.Td(w.get("name")), html.Td(w.get("code")),
                html.Td(f"{_fmt(w.get('network_m') or w.get('straight_m'))} m"),
                html.Td(html.Button(t("dispatch", lang), n_clicks=0, className="gw-btn",
                                    **{"data-worker": str(w.get("worker_id"))},
                                    id={"type": "console-send", "worker": w.get("worker_id")})
                        if sel.get("event_id") else ""),
            ]) for w in workers])], id="console-candidates"),
            html.H3(t("seeing_cameras", lang)),
            _rows(cams, ("code", "name", "kind", "distance_m"), "camera_kinds", lang),
            html.H3(t("nearest_resources", lang)),
            _rows(res, ("name", "kind", "distance_m"), "resource_kinds", lang)]
    return out, marks


@dash.callback(
    Output("console-dispatch-result", "data"),
    Input({"type": "console-send", "worker": ALL}, "n_clicks"),
    State("console-selected", "data"), State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _dispatch(clicks, sel, lang):
    """Send the worker clicked (0: the best free one); a 409 is the conflict answer, shown as such."""
    trig = ctx.triggered_id
    if not isinstance(trig, dict) or not any(clicks or []) or not sel or not sel.get("event_id"):
        return dash.no_update
    body = {"worker_id": trig["worker"] or None}
    try:
        with ApiClient(settings_of(), lang=lang) as api:  # the conflict said in the screen's language
            got = api.post_json("dispatch", body, event_id=sel["event_id"])
    except ApiError as exc:
        if exc.status == 409:
            return {"ok": False, "text": exc.detail, "status": 409}
        return {"ok": False, "text": f"{exc.status} {exc.detail}", "status": exc.status}
    w = got.get("worker") or {}
    moved = " → ".join(labelled(settings_of(), "states", got.get(k), lang) for k in ("from_state", "state"))
    return {"ok": True, "text": f"{w.get('name', '')}（{w.get('code', '')}） · {moved}", "status": 200,
            "worker_id": w.get("worker_id")}
