"""/planner — run a partition or rebalance, watch it, compare, accept or discard; past versions.

The job runs in the API (its state lives in the store); the page polls the
job with a ``dcc.Interval`` enabled only while one runs — a progress bar,
not the wall's live data. The proposal is drawn over the current grids with
the changed ones highlighted; grids out of band today are outlined red.
"""

from __future__ import annotations

import logging

import dash
import dash_leaflet as dl
from dash import Input, Output, State, ctx, dcc, html

from app import mapview
from app.client import ApiClient, ApiError, labelled
from app.i18n import t, version_label
from app.main import payloads_of, settings_of
from app.payloads import basemap_payload, district_box

__all__ = ["layout", "BANDS", "out_of_band"]

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/planner", title="网格规划 · gridwall", order=2)

#: households and people per grid by zone (DOMAIN.md: inner 500–600 / 1,000–1,500; outer 300–500 / 600–1,000)
BANDS = {"inner": ((500, 600), (1000, 1500)), "outer": ((300, 500), (600, 1000))}


def out_of_band(props: dict) -> bool:
    """True when a grid's households or people fall outside its zone's band."""
    band = BANDS.get(str(props.get("zone")))
    if band is None:
        return False
    (hl, hh), (pl, ph) = band
    return not (hl <= (props.get("households") or 0) <= hh and pl <= (props.get("population") or 0) <= ph)


def layout(**_query: str) -> html.Div:
    """The planner's layout (pure)."""
    the_map = dl.Map(
        id="planner-map", center=mapview.DEFAULT_CENTER, zoom=14, preferCanvas=True, attributionControl=False,
        style={"height": "100%", "width": "100%", "background": mapview.DARK},
        children=[
            *mapview.basemap("planner"),
            dl.GeoJSON(id="planner-current", data=None, style=mapview.fn("styleGrid"), interactive=False,
                       hideout={"color": "#3fa7ff", "weight": 1, "bad": []}),
            dl.GeoJSON(id="planner-proposed", data=None, style=mapview.fn("styleGrid"), interactive=False,
                       hideout={"color": "#e5e7eb", "weight": 1.5, "dash": "4 4", "highlight": []}),
        ])
    return html.Div([
        dcc.Store(id="planner-boot", data=1),
        dcc.Store(id="planner-job", data=None),
        dcc.Store(id="planner-version", data=None),
        dcc.Interval(id="planner-poll", interval=1000, disabled=True),
        html.Div([
            dcc.RadioItems(id="planner-mode", value="rebalance", options=[], labelStyle={"display": "block"}),
            html.Button(id="planner-run", n_clicks=0, className="gw-btn"),
            html.Div(html.Div(id="planner-bar", style={"width": "0%", "height": "10px", "background": "#3fa7ff"}),
                     style={"background": "#1f3150", "margin": "6px 0"}),
            html.Div(id="planner-status"),
            html.Div([html.Button(id="planner-accept", n_clicks=0, className="gw-btn", disabled=True),
                      html.Button(id="planner-discard", n_clicks=0, className="gw-btn danger", disabled=True)]),
            # shown only for a proposal worse than the current plan: accepting it is then a decision of its own
            dcc.Checklist(id="planner-force", options=[], value=[], style={"display": "none"}),
            html.Div(id="planner-decision"),
            html.H3(id="planner-bad-title"), html.Div(id="planner-bad"),
            html.H3(id="planner-versions-title"),
            dcc.Dropdown(id="planner-versions", options=[], value=None, clearable=True),
            html.Div(id="planner-version-info"),
        ], className="desk-panel"),
        html.Div(the_map, className="desk-map"),
        html.Div([html.H3(id="planner-figures-title"), html.Div(id="planner-figures")], className="desk-panel"),
    ], className="desk", id="planner-root")


@dash.callback(
    Output("planner-mode", "options"), Output("planner-run", "children"), Output("planner-accept", "children"),
    Output("planner-discard", "children"), Output("planner-bad-title", "children"),
    Output("planner-versions-title", "children"), Output("planner-figures-title", "children"),
    Input("shell-lang", "data"),
)
def _labels(lang: str):
    modes = [{"label": t("mode_rebalance", lang), "value": "rebalance"},
             {"label": t("mode_partition", lang), "value": "partition"}]
    return (modes, t("run", lang), t("accept", lang), t("discard", lang), t("out_of_band", lang),
            t("versions", lang), t("proposed", lang))


@dash.callback(
    Output("planner-district", "data"), Output("planner-water", "data"), Output("planner-blocks", "data"),
    Output("planner-roads", "data"),
    Output("planner-current", "data"), Output("planner-current", "hideout"), Output("planner-map", "viewport"),
    Output("planner-bad", "children"), Output("planner-versions", "options"),
    Input("planner-boot", "data"), Input("planner-decision", "children"), State("shell-lang", "data"),
)
def _load(_boot, _decision, lang: str):
    outline = basemap_payload(payloads_of(), settings_of(), "district").data  # the server's cached copy
    with ApiClient(settings_of()) as api:
        base = [api.layer(n) for n in ("water", "blocks", "roads")]
        grids = mapview.slim(api.layer("grids"), ("code", "zone", "households", "population", "version_id"))
        listed = api.get_json("versions")
    bad = [f["properties"] for f in grids["features"] if out_of_band(f["properties"])]
    view = mapview.fit(district_box(payloads_of(), settings_of())) or dash.no_update
    zone = {z: labelled(settings_of(), "zones", z, lang) for z in ("inner", "outer")}
    table = html.Table([html.Tbody([html.Tr([html.Td(p.get("code")), html.Td(zone.get(p.get("zone"), p.get("zone"))),
                                             html.Td(f"{p.get('households'):,}"), html.Td(f"{p.get('population'):,}")],
                                            className="bad") for p in bad[:200]])], id="planner-bad-table")
    versions = [{"label": version_label(v, lang), "value": v["version_id"]} for v in listed or []]
    hide = {"color": "#3fa7ff", "weight": 1, "bad": [p.get("code") for p in bad]}
    return (outline, *base, grids, hide, view, [html.Div(f"{len(bad)} / {len(grids['features'])}"), table], versions)


@dash.callback(
    Output("planner-job", "data"), Output("planner-poll", "disabled", allow_duplicate=True),
    Input("planner-run", "n_clicks"), State("planner-mode", "value"),
    prevent_initial_call=True,
)
def _run(n: int, mode: str):
    if not n:
        return dash.no_update, dash.no_update
    with ApiClient(settings_of()) as api:
        job = api.post_json("jobs", {"mode": mode, "created_by": "planner"})
    return {"job_id": job["job_id"]}, False


@dash.callback(
    Output("planner-bar", "style"), Output("planner-status", "children"), Output("planner-version", "data"),
    Output("planner-poll", "disabled"),
    Input("planner-poll", "n_intervals"), State("planner-job", "data"), State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _poll(_n, job: dict | None, lang: str):
    if not job:
        return dash.no_update, dash.no_update, dash.no_update, True
    with ApiClient(settings_of()) as api:
        st = api.get_json("job", job_id=job["job_id"]) or {}
    progress = float(st.get("progress") or 0)
    state = st.get("state")
    done = state in ("done", "finished", "succeeded", "failed", "error") or st.get("version_id") is not None
    stage = st.get("stage") or ""
    named = labelled(settings_of(), "job_states", state, lang)
    text = f"{t('job_state', lang)}: {named} · {stage} · {100 * min(progress, 1):.0f}%"
    if st.get("error"):
        text += f" · {t('error', lang)}: {st['error']}"
    bar = {"width": f"{100 * min(progress, 1):.0f}%", "height": "10px", "background": "#3fa7ff"}
    version = st.get("version_id") if done else dash.no_update
    return bar, html.Span(text, id="planner-job-state", **{"data-state": str(state)}), version, done


def _cell(col: str, value, lang: str) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}"
    if col == "in_band":
        return t("yes" if value else "no", lang)
    if col in ("zone", "status") and value:
        return labelled(settings_of(), "zones", value, lang) if col == "zone" else t("gs_" + str(value), lang)
    return "" if value is None else str(value)


#: the guard's figures, current plan beside proposal: (key, label key, as a percentage)
_GUARD_ROWS = (("n_grids", "n_grids", False), ("n_in_band", "n_in_band", False),
               ("households_in_band_share", "hh_in_band", True), ("worst_violation", "worst_grid", True),
               ("n_blobs", "n_blobs", False))


def _guard(report: dict, lang: str) -> list:
    """The current plan's figures beside the proposal's, and why the proposal is worse, if it is."""
    guard = report.get("guard") or {}
    cur, new = guard.get("current") or {}, guard.get("proposed") or {}
    if not new:
        return []

    def cell(q: dict, key: str, pct: bool) -> str:
        v = q.get(key)
        return "" if v is None else (f"{100 * v:.1f}%" if pct else f"{v:,}")

    table = html.Table([
        html.Thead(html.Tr([html.Th(""), html.Th(t("plan_current", lang)), html.Th(t("plan_proposed", lang))])),
        html.Tbody([html.Tr([html.Td(t(label, lang)), html.Td(cell(cur, key, pct)), html.Td(cell(new, key, pct))])
                    for key, label, pct in _GUARD_ROWS]),
    ], id="planner-guard")
    hand = report.get("handover") or {}
    staffing = [html.Div(f"{t(key, lang)}: {len(hand[key])} {' '.join(hand[key][:12])}", id=f"planner-{key}")
                for key in ("grids_without_worker", "workers_without_grid") if hand.get(key)]
    worse = guard.get("worse") or []
    if not worse:
        return [table, *staffing]
    return [table, *staffing, html.Div([html.Strong(t("plan_worse", lang)), html.Ul([html.Li(w) for w in worse])],
                            className="msg-err", id="planner-worse")]


def _figures(report: dict, lang: str) -> list:
    summary = report.get("summary") or {}
    rows = report.get("grids") or []
    head = html.Div([
        html.Div(f"{t('n_grids', lang)}: {summary.get('n_grids', len(rows))}"),
        html.Div(f"{t('share_ok', lang)}: {100 * float(summary.get('share_grids_within_bounds') or 0):.1f}%"),
        html.Div(f"{t('n_changed', lang)}: {report.get('n_changed_grids', 0)}", id="planner-n-changed"),
        *_guard(report, lang),
    ])
    cols = ("code", "zone", "households", "population", "in_band", "status")
    table = html.Table([
        html.Thead(html.Tr([html.Th(t(c, lang)) for c in cols])),
        html.Tbody([html.Tr([html.Td(_cell(c, r.get(c), lang)) for c in cols],
                            className="changed" if r.get("changed") else ("bad" if not r.get("in_band") else ""))
                    for r in sorted(rows, key=lambda r: (not r.get("changed"), str(r.get("code"))))]),
    ], id="planner-grid-table")
    return [head, table]


@dash.callback(
    Output("planner-proposed", "data"), Output("planner-proposed", "hideout"), Output("planner-figures", "children"),
    Output("planner-accept", "disabled"), Output("planner-discard", "disabled"),
    Output("planner-force", "style"), Output("planner-force", "options"),
    Input("planner-version", "data"), Input("planner-force", "value"), State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _proposal(version_id: int | None, force: list, lang: str):
    hidden = {"display": "none"}
    if not version_id:
        return None, dash.no_update, [], True, True, hidden, []
    with ApiClient(settings_of()) as api:
        try:
            ver = api.get_json("version", version_id=version_id) or {}
        except ApiError as exc:
            return None, dash.no_update, [html.Span(exc.detail, className="msg-err")], True, True, hidden, []
        grids = mapview.slim(api.layer("grids", version=version_id), ("code", "zone", "households", "population"))
    report = ver.get("report") or {}
    changed = [r.get("code") for r in report.get("grids") or [] if r.get("changed")]
    open_ = ver.get("state") == "proposed"
    worse = open_ and bool((report.get("guard") or {}).get("worse"))
    hide = {"color": "#e5e7eb", "weight": 1.5, "dash": "4 4", "highlight": changed}
    options = [{"label": t("force_accept", lang), "value": "force"}]
    return (grids, hide, _figures(report, lang), not open_ or (worse and "force" not in (force or [])), not open_,
            {"display": "block"} if worse else hidden, options)


@dash.callback(
    Output("planner-decision", "children"),
    Input("planner-accept", "n_clicks"), Input("planner-discard", "n_clicks"), State("planner-version", "data"),
    State("planner-force", "value"), State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _decide(_a, _d, version_id, force, lang):
    which = "accept" if ctx.triggered_id == "planner-accept" else "discard"
    if not version_id or not (_a or _d):
        return dash.no_update
    try:
        with ApiClient(settings_of()) as api:
            forced = which == "accept" and "force" in (force or [])
            api.post_json(which, params={"actor": "planner", **({"force": "true"} if forced else {})},
                          version_id=version_id)
    except ApiError as exc:
        return html.Span(f"{t('error', lang)}: {exc.detail}", className="msg-err", id="planner-decision-msg")
    label = t("accepted" if which == "accept" else "discarded", lang)
    return html.Span(f"v{version_id} {label}", className="msg-ok", id="planner-decision-msg")


@dash.callback(
    Output("planner-version", "data", allow_duplicate=True),
    Input("planner-versions", "value"),
    prevent_initial_call=True,
)
def _browse(version_id):
    return version_id or dash.no_update
