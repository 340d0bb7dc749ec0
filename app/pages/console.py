"""/console — the operator works the whole loop: register a call, find an event, move it, dispatch, close.

The left panel registers a hotline call (class from the taxonomy, address
from ``GET /addresses`` or a click on the map) and finds events by code,
address or words; the right panel is the selected event (:mod:`app.eventpanel`:
the moves and actions the API lists for the caller, history, assignments)
over what is around it. After any action the panel and the queue refresh.
Every time is in the district's zone (``WallSettings.timezone``), every state
and kind goes through :func:`app.i18n.domain_label`, and the panel re-renders
when the language switches.

Filters and layer switches only rewrite each layer's ``hideout``: the
browser re-filters what it already holds (30,000 clustered cameras stay
smooth). A click on an event (map or queue) or on any map point sets the
``console-selected`` store; the panel then asks the API what is around it,
and a dispatch answered 409 (someone else took that worker) is shown as the
conflict it is, with fresh candidates.

The queue of incoming events is live: ``assets/gridwall_live.js`` pushes
each change from the feed into the ``console-live`` store, and a clientside
callback merges it into the list loaded at start — a new event goes on top, an
event closed elsewhere leaves — without a reload. The workers follow the feed
the same way: each worker's latest notice (it carries the position and the
status) is laid over the layer loaded at start, in the browser; only a bulk
change or a lost feed (``resync``) makes the page ask the API for the layer
again. The map writes the district's names (:func:`app.mapview.label_layer`),
each from its zoom.
"""

from __future__ import annotations

import logging

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, State, ctx, dcc, html

from app import eventactions, eventpanel, mapview
from app.client import ApiClient, ApiError
from app.eventpanel import when
from app.i18n import domain_label, t
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
#: the point layers loaded once at start (the workers follow the feed: see ``_workers``)
_LOADED = tuple(n for n in POINT_LAYERS if n != "workers")
#: the layers that follow the map's zoom (the console fills its roads itself: no casing)
_ZOOMED = tuple(n for n in mapview.ZOOMED if n != "roads-casing")


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
            mapview.label_layer("console"),
        ])
    return html.Div([
        dcc.Store(id="console-boot", data=1),
        dcc.Store(id="console-selected", data=None),
        dcc.Store(id="console-dispatch-result", data=None),
        dcc.Store(id="console-queue-data", data=[]),
        dcc.Store(id="console-live", data=[]),
        dcc.Store(id="console-classes", data={}),
        dcc.Store(id="console-pending", data=list(PENDING)),
        dcc.Store(id="console-tz", data=None),
        dcc.Store(id="console-point", data=None),
        dcc.Store(id="console-hits", data=[]),
        dcc.Store(id="console-action-result", data=None),
        dcc.Store(id="console-refresh", data=0),
        dcc.Store(id="console-workers-loaded", data=None),
        dcc.Store(id="console-worker-moves", data=[]),
        dcc.Store(id="console-refresh-workers", data=0),
        html.Div(id="console-live-anchor", hidden=True),
        html.Div([
            eventpanel.register_form(),
            html.Label(id="console-search-label"),
            dcc.Input(id="console-search", type="search", value="", debounce=True, style={"width": "100%"}),
            html.Ul(id="console-search-results", className="ticker"),
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
        html.Div([html.Div(id="console-event"), eventpanel.work_controls(), html.H3(id="console-around-title"),
                  html.Div(id="console-around")], className="desk-panel", id="console-around-panel"),
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
    states = [{"label": domain_label("states", s, lang), "value": s} for s in PENDING]
    online = [{"label": t(k, lang), "value": k} for k in ("all", "online", "offline")]
    return (t("layers", lang), t("filters", lang), t("events", lang), t("around", lang), t("f_class", lang),
            t("f_department", lang), t("f_state", lang), t("f_kind", lang), t("f_online", lang), layers, classes,
            states, online, {c["value"]: c["label"] for c in classes})


@dash.callback(
    Output("console-district", "data"), Output("console-water", "data"), Output("console-blocks", "data"),
    Output("console-roads", "data"),
    Output("console-grids", "data"), Output("console-map", "viewport"),
    *[Output(f"console-{n}", "data") for n in _LOADED],
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
                  for n in _LOADED}
    for f in points["events"]["features"]:
        f["properties"]["cls"] = str(f["properties"].get("category_code") or "")[:2]
    view = mapview.fit(district_box(payloads_of(), settings_of())) or dash.no_update
    depts = sorted({p for n in ("cameras", "events") for f in points[n]["features"]
                    if (p := f["properties"].get("owner_dept") or f["properties"].get("department"))})
    kinds = sorted({f["properties"].get("kind") for f in points["cameras"]["features"]} - {None})
    newest = sorted(points["events"]["features"], key=lambda f: str(f["properties"].get("reported_at")))[-40:][::-1]
    queue = [_queue_item(f["id"], p) for f in newest if (p := f["properties"])]
    return (outline, *base, grids, view, *(points[n] for n in _LOADED), depts, kinds, queue)


@dash.callback(Output("console-workers-loaded", "data"),
               Input("console-boot", "data"), Input("console-refresh-workers", "data"))
def _workers(_boot: int, _refresh: int) -> dict:
    """The workers as the API has them now: at start, and again after a bulk change or a lost feed."""
    with ApiClient(settings_of()) as api:
        return mapview.slim(api.layer("workers"), (*mapview.POINT_KEEP["workers"], "updated_at"))


dash.clientside_callback(
    """
    function (loaded, moves) {
        /* each worker's latest notice from the feed over the layer loaded: its position and status; a worker
           added since is drawn, a deleted one leaves; a notice older than the load (a refetch) is passed over */
        if (!loaded) { return window.dash_clientside.no_update; }
        const latest = {};
        (moves || []).forEach(function (m) { latest[String(m.id)] = m; });
        const stamp = function (s) { const t = Date.parse(s || ""); return isNaN(t) ? -Infinity : t; };
        const moved = function (m, props) {
            const at = m.lon === null || m.lon === undefined ? null : {type: "Point", coordinates: [m.lon, m.lat]};
            return {type: "Feature", id: m.id, geometry: at,
                    properties: Object.assign({}, props, {id: m.id, code: m.code, status: m.status,
                                                          updated_at: m.updated_at})};
        };
        const out = [];
        (loaded.features || []).forEach(function (f) {
            const m = latest[String(f.id)];
            delete latest[String(f.id)];
            if (!m || stamp(m.updated_at) < stamp((f.properties || {}).updated_at)) { out.push(f); }
            else if (m.op !== "delete") { out.push(moved(m, f.properties)); }
        });
        Object.keys(latest).forEach(function (k) {
            if (latest[k].op !== "delete") { out.push(moved(latest[k], {})); }
        });
        return Object.assign({}, loaded, {features: out});
    }
    """,
    Output("console-workers", "data"),
    Input("console-workers-loaded", "data"), Input("console-worker-moves", "data"),
)
mapview.follow_zoom("console", _ZOOMED)


dash.clientside_callback(
    """
    function (loaded, live, classes, pending, tz) {
        /* the live changes (newest first) over the queue loaded at start: new on top, no longer pending out */
        const out = [], seen = {};
        const pad = function (n) { return String(n).padStart(2, "0"); };
        (live || []).forEach(function (e) {
            if (e.id === undefined || seen[e.id]) { return; }
            seen[e.id] = true;
            if ((pending || []).indexOf(e.state) < 0) { return; }
            /* the district's clock, not the browser's: "2026-12-07 21:14:05" in sv-SE, cut to "12-07 21:14" */
            const d = new Date(e._seen || Date.now());
            const when = tz ? d.toLocaleString("sv-SE", {timeZone: tz}).slice(5, 16)
                : pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
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
    State("console-classes", "data"), State("console-pending", "data"), State("console-tz", "data"),
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
    Input({"type": "console-hit", "event": ALL}, "n_clicks"),
    prevent_initial_call=True,
)
def _select(event_click, map_click, _queue, _hits):
    trig = ctx.triggered_id
    if isinstance(trig, dict):  # a queue item or a search hit: only a real click (new items come with 0)
        return {"event_id": trig["event"]} if ctx.triggered[0].get("value") else dash.no_update
    if trig == "console-events" and event_click:
        return {"event_id": event_click.get("id") or (event_click.get("properties") or {}).get("id")}
    if trig == "console-map" and map_click:
        return _latlon(map_click)
    return dash.no_update


def _latlon(map_click: dict) -> dict:
    ll = map_click["latlng"]
    lat, lon = (ll["lat"], ll["lng"]) if isinstance(ll, dict) else (ll[0], ll[1])
    return {"lon": lon, "lat": lat}


def _rows(items: list[dict], cols: tuple[str, ...], lang: str = "zh") -> html.Table:
    kinds = {"kind": "camera_kinds" if "code" in cols else "resource_kinds"}
    return html.Table([html.Tbody([html.Tr([html.Td(domain_label(kinds[c], i.get(c), lang) if c in kinds
                                                    else _fmt(i.get(c))) for c in cols]) for i in items])])


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
    w = (f"{worker.get('name')}（{worker.get('code')}，{domain_label('worker_status', worker.get('status'), lang)}）"
         if worker else "—")
    return [html.Div(f"{p.get('code')} · {_fmt(p.get('households'))} {t('households', lang)} · "
                     f"{_fmt(p.get('population'))} {t('population', lang)}", id="console-grid-code"),
            html.Div(w, id="console-grid-worker")]


@dash.callback(
    Output("console-event", "children"), Output("console-work", "hidden"), Output("console-rating-box", "hidden"),
    Output("console-around", "children"), Output("console-marks", "children"),
    Input("console-selected", "data"), Input("console-dispatch-result", "data"),
    Input("console-action-result", "data"), Input("shell-lang", "data"),
    prevent_initial_call=True,
)
def _around(sel: dict | None, result: dict | None, acted: dict | None, lang: str):
    """The selected event (or point) and what is around it; again after any action and in a new language."""
    if not sel:
        return [], True, True, html.P(t("click_map", lang)), []
    tz = settings_of().timezone
    head, out, marks, ev = [], [], [], {}
    with ApiClient(settings_of()) as api:
        if sel.get("event_id"):
            ev = api.get_json("event", event_id=sel["event_id"]) or {}
            head = eventpanel.event_panel(ev, eventactions.duplicates(api, sel["event_id"]), lang, tz)
            lon, lat = ev.get("lon"), ev.get("lat")
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
    if acted and ctx.triggered_id == "console-action-result":
        head.insert(0, html.Div(f"{t('done' if acted['ok'] else 'failed', lang)}: {acted['text']}",
                                className="msg-ok" if acted["ok"] else "msg-warn", **{"data-n": str(acted["n"])},
                                id="console-action-done" if acted["ok"] else "console-action-refused"))
    if result and ctx.triggered_id == "console-dispatch-result":
        cls = "msg-ok" if result.get("ok") else "msg-warn"
        title = t("dispatched", lang) if result.get("ok") else t("conflict", lang)
        moved = (f" · {domain_label('states', result['from_state'], lang)} → "
                 f"{domain_label('states', result['state'], lang)}" if result.get("state") else "")
        out.append(html.Div(f"{title}: {result.get('text')}{moved}", className=cls, id="console-dispatch-message"))
    can_send = bool(sel.get("event_id")) and "dispatch" in eventpanel.actions_of(ev)[0]
    if can_send:
        out += [html.Button(t("dispatch", lang), id={"type": "console-send", "worker": 0}, n_clicks=0,
                            className="gw-btn console-send-best")]
    out += [html.H3(t("candidates", lang)),
            html.Table([html.Tbody([html.Tr([
                html.Td(w.get("name")), html.Td(w.get("code")),
                html.Td(f"{_fmt(w.get('network_m') or w.get('straight_m'))} m"),
                html.Td(html.Button(t("dispatch", lang), n_clicks=0, className="gw-btn",
                                    **{"data-worker": str(w.get("worker_id"))},
                                    id={"type": "console-send", "worker": w.get("worker_id")})
                        if can_send else ""),
            ]) for w in workers])], id="console-candidates"),
            html.H3(t("seeing_cameras", lang)),
            _rows(cams, ("code", "name", "kind", "distance_m"), lang),
            html.H3(t("nearest_resources", lang)),
            _rows(res, ("name", "kind", "distance_m"), lang)]
    rated = any(m.get("rating") not in (None, "none") for m in eventpanel.moves_of(ev)[0]) if ev else False
    return head, not sel.get("event_id"), not rated, out, marks


@dash.callback(
    Output("console-dispatch-result", "data"), Output("console-refresh", "data", allow_duplicate=True),
    Input({"type": "console-send", "worker": ALL}, "n_clicks"),
    State("console-selected", "data"), State("console-refresh", "data"), State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _dispatch(clicks, sel, refresh, lang):
    """Send the worker clicked (0: the best free one); a 409 is the conflict answer, shown as such."""
    trig = ctx.triggered_id
    if not isinstance(trig, dict) or not ctx.triggered[0].get("value") or not sel or not sel.get("event_id"):
        return dash.no_update, dash.no_update
    body = {"worker_id": trig["worker"] or None}
    try:
        with ApiClient(settings_of(), lang=lang) as api:  # the conflict said in the screen's language
            got = api.post_json("dispatch", body, event_id=sel["event_id"])
    except ApiError as exc:
        if exc.status == 409:
            return {"ok": False, "text": exc.detail, "status": 409}, dash.no_update
        return {"ok": False, "text": f"{exc.status} {exc.detail}", "status": exc.status}, dash.no_update
    w = got.get("worker") or {}
    already = f" · {t('already_sent', lang)}" if got.get("already") else ""  # 一键派遣 twice: the worker on it
    return ({"ok": True, "text": f"{w.get('name', '')}（{w.get('code', '')}）{already}", "status": 200,
             "from_state": got.get("from_state"), "state": got.get("state"), "worker_id": w.get("worker_id")},
            (refresh or 0) + 1)


def _queue_item(event_id: int, p: dict) -> dict:
    """One line of the queue: reported time on the district's clock, code, title."""
    return {"id": event_id, "text": f"{when(p.get('reported_at'), settings_of().timezone)}  {p.get('code')}  "
                                    f"{p.get('title') or ''}"}


@dash.callback(
    Output("console-queue-data", "data", allow_duplicate=True),
    Input("console-refresh", "data"),
    prevent_initial_call=True,
)
def _requeue(_n: int):
    """After an action: the newest events still to be worked on, from the register."""
    with ApiClient(settings_of()) as api:
        page = api.get_json("events", params={"limit": 200}) or {}
    rows = eventactions.listed(page)
    return [_queue_item(r["id"], r) for r in rows if r.get("state") in PENDING][:40]


@dash.callback(
    Output("console-register-toggle", "children"), Output("console-r-title-label", "children"),
    Output("console-r-words-label", "children"), Output("console-r-class-label", "children"),
    Output("console-r-address-label", "children"), Output("console-r-contact-label", "children"),
    Output("console-r-phone-label", "children"), Output("console-r-submit", "children"),
    Output("console-search-label", "children"), Output("console-note-label", "children"),
    Output("console-rating-label", "children"), Output("console-merge-label", "children"),
    Output({"type": "console-act", "act": "merge"}, "children"),
    Output("console-r-class", "options"), Output("console-tz", "data"),
    Input("shell-lang", "data"),
)
def _form_labels(lang: str):
    with ApiClient(settings_of()) as api:
        services = api.get_json("services") or []
    classes = [{"label": f"{t('cls_' + s['service_code'][:2], lang)} / "
                         f"{s['service_name'] if lang == 'zh' else s.get('description') or s['service_name']}",
                "value": s["service_code"]} for s in services]
    return (*(t(k, lang) for k in ("register", "r_title", "r_words", "r_class", "r_address", "r_contact", "r_phone",
                                   "r_submit", "search", "note", "rating", "merge_code", "act_merge")),
            sorted(classes, key=lambda c: c["value"]), settings_of().timezone)


@dash.callback(
    Output("console-hits", "data"), Output("console-r-suggestions", "children"),
    Input("console-r-address", "value"), State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _suggest(text: str, lang: str):
    """Fuzzy address suggestions (``GET /addresses``); says so when the API has none."""
    if not (text or "").strip():
        return [], []
    with ApiClient(settings_of()) as api:
        hits = api.get_json("addresses", params={"q": text.strip(), "limit": 10})
    if hits is None:
        return [], [html.Li(t("no_addresses", lang), className="msg-warn", id="console-r-no-addresses")]
    return hits, [html.Li(h.get("label") or h.get("address"), n_clicks=0, className="ticker-item",
                          id={"type": "console-addr", "i": i}, style={"cursor": "pointer"})
                  for i, h in enumerate(hits)] or [html.Li(t("no_hits", lang))]


@dash.callback(
    Output("console-point", "data"), Output("console-r-address", "value"),
    Input("console-map", "clickData"), Input({"type": "console-addr", "i": ALL}, "n_clicks"),
    State("console-hits", "data"),
    prevent_initial_call=True,
)
def _point(map_click, _picks, hits):
    """The new event's point: a picked suggestion (with its address), or a click on the map."""
    trig = ctx.triggered_id
    if isinstance(trig, dict):
        if not ctx.triggered[0].get("value") or trig["i"] >= len(hits or []):
            return dash.no_update, dash.no_update
        h = hits[trig["i"]]
        return {"lon": h["lon"], "lat": h["lat"], "address": h.get("address")}, h.get("label") or h.get("address")
    return (_latlon(map_click), dash.no_update) if map_click else (dash.no_update, dash.no_update)


@dash.callback(
    Output("console-r-point", "children"),
    Input("console-point", "data"), Input("shell-lang", "data"),
)
def _point_text(point: dict | None, lang: str) -> str:
    if not point:
        return t("r_point_none", lang)
    return f"{t('r_point', lang)}: {point['lon']:.6f}, {point['lat']:.6f} {point.get('address') or ''}"


@dash.callback(
    Output("console-selected", "data", allow_duplicate=True), Output("console-r-message", "children"),
    Output("console-refresh", "data", allow_duplicate=True),
    Input("console-r-submit", "n_clicks"),
    State("console-r-title", "value"), State("console-r-words", "value"), State("console-r-class", "value"),
    State("console-r-address", "value"), State("console-point", "data"), State("console-r-contact", "value"),
    State("console-r-phone", "value"), State("console-refresh", "data"), State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _register(_n, title, words, cls, address, point, contact, phone, refresh, lang):
    """POST the call as a hotline event with a fresh external id; the new event is selected."""
    body = eventactions.hotline_body(title, words, cls, address, point, contact, phone)
    if body is None:
        return dash.no_update, html.Div(t("r_need", lang), className="msg-warn"), dash.no_update
    try:
        with ApiClient(settings_of()) as api:
            got = api.post_json("events", body)
    except ApiError as exc:
        return dash.no_update, html.Div(f"{exc.status} {exc.detail}", className="msg-warn"), dash.no_update
    msg = html.Div(f"{t('r_done', lang)}: {got.get('code')}", className="msg-ok", id="console-r-done")
    return {"event_id": got["id"]}, msg, (refresh or 0) + 1


@dash.callback(
    Output("console-search-results", "children"),
    Input("console-search", "value"), State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _search(q: str, lang: str):
    """Events by code, address or words (``GET /events?q=``); each hit selects its event."""
    if not (q or "").strip():
        return []
    with ApiClient(settings_of()) as api:
        page = api.get_json("events", params={"q": q.strip(), "limit": 20})
    if page is None:
        return [html.Li(t("no_search", lang), className="msg-warn")]
    rows = eventactions.listed(page)
    tz = settings_of().timezone
    return [html.Li(f"{when(r.get('reported_at'), tz)}  {r.get('code')}  {domain_label('states', r.get('state'), lang)}"
                    f"  {r.get('title') or r.get('address') or ''}", n_clicks=0, className="ticker-item",
                    id={"type": "console-hit", "event": r["id"]}, style={"cursor": "pointer"})
            for r in rows] or [html.Li(t("no_hits", lang))]


@dash.callback(
    Output("console-action-result", "data"), Output("console-note", "value"),
    Output("console-refresh", "data", allow_duplicate=True),
    Input({"type": "console-move", "to": ALL, "note": ALL, "rating": ALL}, "n_clicks"),
    Input({"type": "console-act", "act": ALL}, "n_clicks"), Input({"type": "console-split", "event": ALL}, "n_clicks"),
    State("console-selected", "data"), State("console-note", "value"), State("console-rating", "value"),
    State("console-merge-id", "value"), State("console-action-result", "data"), State("console-refresh", "data"),
    State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _act(_moves, _acts, _splits, sel, note, rating, merge_id, last, refresh, lang):
    """A move, 督办, merge, split, cameras, resources: sent, answered, then the panel and the queue refresh.

    The answer is shown by the panel as it re-renders (numbered, so a screen or a test knows it is fresh).
    """
    trig = ctx.triggered_id
    if not isinstance(trig, dict) or not ctx.triggered[0].get("value") or not (sel or {}).get("event_id"):
        return (dash.no_update,) * 3
    n = (last or {}).get("n", 0) + 1
    note = (note or "").strip() or None
    missing = eventactions.missing(trig, note, rating)
    if missing:
        return {"ok": False, "text": t(missing, lang), "n": n}, dash.no_update, dash.no_update
    try:
        with ApiClient(settings_of()) as api:
            done = eventactions.send_action(api, trig, sel["event_id"], note, rating, merge_id, lang)
    except ApiError as exc:
        return {"ok": False, "text": f"{exc.status} {exc.detail}", "n": n}, dash.no_update, dash.no_update
    return {"ok": True, "text": done, "n": n}, "", (refresh or 0) + 1
