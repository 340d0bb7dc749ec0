"""/audit — the admin reads who did what: every write of the loop, newest first, filtered.

A table of ``GET /audit`` rows (the API lets admins only; another key is
told so on the page), filtered by who (any part of the actor), what (the
action), which event (its code or id) and a range of days; times are shown
in the district's time zone (:attr:`app.settings.WallSettings.timezone`),
and the days of the range are that zone's days. A page holds
:data:`PAGE` rows; older and newer pages are one click away.
"""

from __future__ import annotations

import json
import logging

import dash
from dash import Input, Output, State, ctx, dcc, html

from app.auditlog import action_label, local_time, query_params
from app.client import ApiClient, ApiError
from app.i18n import t
from app.main import settings_of

__all__ = ["layout", "PAGE"]

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/audit", title="审计日志 · gridwall", order=3)

#: rows on one page of the table
PAGE = 50
_COLUMNS = ("audit_at", "audit_actor", "audit_action", "audit_entity", "audit_entity_id", "audit_detail")


def layout(**_query: str) -> html.Div:
    """The page's layout (pure)."""
    def field(key: str, **kwargs) -> html.Div:
        return html.Div([html.Label(id=f"audit-{key}-label", htmlFor=f"audit-{key}"),
                         dcc.Input(id=f"audit-{key}", type="text", debounce=True, value="", **kwargs)],
                        className="audit-field")

    return html.Div([
        dcc.Store(id="audit-page", data={"offset": 0, "next_offset": None}),
        html.H3(id="audit-title"),
        html.Div([
            field("actor"), field("action"), field("event"),
            html.Div([html.Label(id="audit-days-label"),
                      dcc.DatePickerRange(id="audit-days", display_format="YYYY-MM-DD", clearable=True)],
                     className="audit-field"),
            html.Button(id="audit-apply", n_clicks=0, className="audit-apply"),
        ], className="audit-filters"),
        html.Div(id="audit-message"),
        html.Table([html.Thead(html.Tr(id="audit-head")), html.Tbody(id="audit-rows")], id="audit-table",
                   className="audit-table"),
        html.Div([html.Button(id="audit-newer", n_clicks=0), html.Button(id="audit-older", n_clicks=0)],
                 className="audit-paging"),
    ], className="audit", id="audit-root")


@dash.callback(
    Output("audit-title", "children"), Output("audit-actor-label", "children"),
    Output("audit-action-label", "children"), Output("audit-event-label", "children"),
    Output("audit-days-label", "children"), Output("audit-apply", "children"), Output("audit-head", "children"),
    Output("audit-newer", "children"), Output("audit-older", "children"),
    Input("shell-lang", "data"),
)
def _labels(lang: str):
    return (t("audit", lang), t("audit_actor", lang), t("audit_action", lang), t("audit_event", lang),
            t("audit_days", lang), t("audit_apply", lang), [html.Th(t(c, lang)) for c in _COLUMNS],
            t("audit_newer", lang), t("audit_older", lang))


def _event_id(api: ApiClient, typed: str) -> int | None:
    """The id of the event a code or an id names; ``None`` when none does."""
    typed = typed.strip()
    if typed.isdigit():
        return int(typed)
    page = api.get_json("events", params={"q": typed, "limit": 5}) or {}
    return next((e["id"] for e in page.get("events", []) if e["code"] == typed), None)


def _row(item: dict, zone: str, lang: str) -> html.Tr:
    detail = json.dumps(item.get("detail") or {}, ensure_ascii=False)
    return html.Tr([
        html.Td(local_time(item["at"], zone), className="audit-at"),
        html.Td(f"{item['person']}（{item['actor']}）" if item.get("person") else item["actor"],
                className="audit-actor"),
        html.Td(action_label(item["action"], lang), className="audit-action", title=item["action"]),
        html.Td(item["entity"]),
        html.Td(item.get("entity_id") or ""),
        html.Td(detail if len(detail) <= 160 else detail[:157] + "…", title=detail, className="audit-detail"),
    ], id={"type": "audit-row", "id": item["id"]})


@dash.callback(
    Output("audit-rows", "children"), Output("audit-message", "children"), Output("audit-message", "className"),
    Output("audit-page", "data"),
    Input("audit-apply", "n_clicks"), Input("audit-older", "n_clicks"), Input("audit-newer", "n_clicks"),
    Input("audit-actor", "value"), Input("audit-action", "value"), Input("audit-event", "value"),
    Input("audit-days", "start_date"), Input("audit-days", "end_date"), Input("shell-lang", "data"),
    State("audit-page", "data"),
)
def _rows(_apply, _older, _newer, actor, action, event, first_day, last_day, lang, page):
    settings = settings_of()
    page = page or {"offset": 0, "next_offset": None}
    offset = {"audit-older": page.get("next_offset") or page["offset"],
              "audit-newer": max(0, page["offset"] - PAGE)}.get(ctx.triggered_id, 0)
    if ctx.triggered_id == "shell-lang":
        offset = page["offset"]
    try:
        with ApiClient(settings) as api:
            event_id = _event_id(api, event) if (event or "").strip() else None
            if (event or "").strip() and event_id is None:
                return [], t("audit_no_event", lang).format(event=event.strip()), "msg-warn", page
            params = query_params(actor, action, event_id, first_day, last_day, settings.timezone)
            answer = api.get_json("audit", params={**params, "limit": PAGE, "offset": offset})
    except ApiError as err:
        log.info("audit page refused: %s", err)
        return [], f"{t('error', lang)}: {err.detail}", "msg-warn", page
    if answer is None:
        return [], t("no_data", lang), "msg-warn", page
    rows = [_row(item, settings.timezone, lang) for item in answer["items"]]
    shown = t("audit_shown", lang).format(first=offset + 1 if rows else 0, last=offset + len(rows))
    return rows, shown, "msg-ok", {"offset": offset, "next_offset": answer.get("next_offset")}
