"""The console's event panel: what an event is, what the caller may do with it now, what happened to it.

Pure builders, no HTTP: the console's callbacks fetch ``GET /events/{id}``
and hand the answer here. The moves and actions offered are the API's
(``moves`` and ``actions`` of the event detail, for the caller's role and the
event's state); an API that does not list them yet gets every state as a
button and a visible warning, and the API's refusal (a 409 naming the moves
there are) is shown as it comes. Each move button carries what the move needs
(note, rating) in its id, so the callback that sends it checks them without
asking again. Every time is shown in the district's zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dash import dcc, html

from app.i18n import domain_label, t

__all__ = ["when", "moves_of", "actions_of", "event_panel", "work_controls", "register_form",
           "PANEL_ACTIONS"]

#: every state an event can be in (the fallback's buttons when the API lists no moves)
#: the actions the panel offers as buttons (the 一键派遣 lives with the candidates)
PANEL_ACTIONS: tuple[str, ...] = ("supervise", "cameras", "resources", "self_settle")
#: what an API that lists no actions is assumed to allow (it refuses the rest, and the refusal is shown)
_ASSUMED_ACTIONS = ("dispatch", "supervise", "merge", "split", "cameras", "resources")


def when(value: object, tz: str, fmt: str = "%m-%d %H:%M") -> str:
    """An API time (ISO text or datetime) as the district's clock shows it; ``""`` for none.

    Examples
    --------
    >>> when("2026-12-07T13:14:00+00:00", "Asia/Shanghai")
    '12-07 21:14'
    """
    if value in (None, ""):
        return ""
    at = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if at.tzinfo is None:  # the API always sends a zone; a naive time is taken as UTC rather than guessed
        at = at.replace(tzinfo=ZoneInfo("UTC"))
    return at.astimezone(ZoneInfo(tz)).strftime(fmt)


def moves_of(ev: dict) -> tuple[list[dict], bool]:
    """The moves the caller may make (the API's list: the screen never guesses the loop), and whether it was given."""
    return list(ev.get("moves") or []), "moves" in ev


def actions_of(ev: dict) -> tuple[set[str], bool]:
    """The actions the caller may take, and whether the API listed them."""
    if "actions" in ev:
        return set(ev.get("actions") or []), True
    return set(_ASSUMED_ACTIONS), False


def _btn(text: str, id_: dict, **kw) -> html.Button:
    return html.Button(text, id=id_, n_clicks=0, className="gw-btn", **kw)


def _moves(ev: dict, lang: str) -> list:
    moves, known = moves_of(ev)
    buttons = [_btn(domain_label("moves", m["to_state"], lang),
                    {"type": "console-move", "to": m["to_state"], "note": m.get("note") or "optional",
                     "rating": m.get("rating") or "none"}) for m in moves]
    out = [html.H3(t("moves", lang)), html.Div(buttons or t("no_moves", lang), id="console-moves")]
    if not known:
        out.append(html.Div(t("moves_unknown", lang), className="msg-warn", id="console-moves-unknown"))
    return out


def _actions(ev: dict, dups: list[dict], lang: str) -> list:
    allowed, _known = actions_of(ev)
    buttons = [_btn(t(f"act_{a}", lang), {"type": "console-act", "act": a}) for a in PANEL_ACTIONS if a in allowed]
    if any(a.get("kind") == "resource" and not a.get("released_at") for a in ev.get("assignments") or []):
        buttons.append(_btn(t("act_release", lang), {"type": "console-act", "act": "release"}))
    out = [html.H3(t("actions", lang)), html.Div(buttons, id="console-actions")]
    if "merge" in allowed or "split" in allowed or dups:
        rows = [html.Li([f"{d.get('code') or d['id']} · {domain_label('states', d.get('state'), lang)} ",
                         _btn(t("act_split", lang), {"type": "console-split", "event": d["id"]})
                         if d.get("split") else ""]) for d in dups]
        out += [html.H3(t("duplicates", lang)), html.Ul(rows, id="console-duplicates")]
    return out


def _assignments(ev: dict, lang: str, tz: str) -> html.Table:
    rows = [html.Tr([html.Td(domain_label("assignment_kinds", a.get("kind"), lang)),
                     html.Td(a.get("worker_code") or a.get("camera_code") or a.get("resource_code") or ""),
                     html.Td(when(a.get("assigned_at"), tz)), html.Td(when(a.get("released_at"), tz))])
            for a in ev.get("assignments") or []]
    return html.Table([html.Tbody(rows)], id="console-assignments")


def _history(ev: dict, lang: str, tz: str) -> html.Details:
    rows = [html.Tr([html.Td(when(h.get("at"), tz)), html.Td(domain_label("states", h.get("from_state"), lang)),
                     html.Td("→ " + domain_label("states", h.get("to_state"), lang)), html.Td(h.get("actor")),
                     html.Td(h.get("note") or "")]) for h in ev.get("history") or []]
    return html.Details([
        html.Summary(f"{t('history', lang)} · {t('deadline', lang)} {when(ev.get('deadline_at'), tz) or '—'}",
                     id="console-history-toggle"),
        html.Table([html.Tbody(rows)], id="console-history"),
    ], open=True)


def event_panel(ev: dict, dups: list[dict], lang: str, tz: str) -> list:
    """The selected event: head, moves, actions, duplicates, assignments, history (open)."""
    state = [f"{t('state', lang)}: {domain_label('states', ev.get('state'), lang)}",
             domain_label("channels", ev.get("channel"), lang), ev.get("department") or "",
             f"{t('reported', lang)} {when(ev.get('reported_at'), tz)}"]
    if ev.get("supervision_level"):
        state.append(f"{t('supervision', lang)} {ev['supervision_level']}")
    if ev.get("overdue_at"):
        state.append(t("overdue", lang))
    if ev.get("rating"):
        state.append(f"{t('rated', lang)} {ev['rating']}")
    return [html.Div(f"{t('event', lang)} {ev.get('code')} · {ev.get('title') or ''}", id="console-event-code"),
            html.Div(" · ".join(s for s in state if s), id="console-event-state"),
            html.Div(ev.get("address") or ""),
            *_moves(ev, lang), *_actions(ev, dups, lang),
            html.H3(t("assignments", lang)), _assignments(ev, lang, tz), _history(ev, lang, tz)]


def work_controls() -> html.Div:
    """What the moves and actions read: the note, the rating, the duplicate to merge (static: always there)."""
    return html.Div([
        html.Label(id="console-note-label"),
        dcc.Textarea(id="console-note", value="", style={"width": "100%", "height": "3em"}),
        html.Div([html.Label(id="console-rating-label"),
                  dcc.RadioItems(id="console-rating", options=[{"label": str(i), "value": i} for i in range(1, 6)],
                                 value=None, inline=True)], id="console-rating-box"),
        html.Label(id="console-merge-label"),
        html.Div([dcc.Input(id="console-merge-id", value="", type="text", debounce=False),
                  html.Button(id={"type": "console-act", "act": "merge"}, n_clicks=0, className="gw-btn")]),
    ], id="console-work", hidden=True)


def register_form() -> html.Details:
    """The hotline form (pure): words, class, address with suggestions or a map click, the caller."""
    def field(key: str, control) -> html.Div:
        return html.Div([html.Label(id=f"console-r-{key}-label"), control])

    return html.Details([
        html.Summary(id="console-register-toggle"),
        field("title", dcc.Input(id="console-r-title", value="", style={"width": "100%"})),
        field("words", dcc.Textarea(id="console-r-words", value="", style={"width": "100%", "height": "3em"})),
        field("class", dcc.Dropdown(id="console-r-class", options=[], value=None)),
        field("address", dcc.Input(id="console-r-address", value="", debounce=True, style={"width": "100%"})),
        html.Ul(id="console-r-suggestions", className="ticker"),
        html.Div(id="console-r-point"),
        field("contact", dcc.Input(id="console-r-contact", value="")),
        field("phone", dcc.Input(id="console-r-phone", value="", type="tel")),
        html.Button(id="console-r-submit", n_clicks=0, className="gw-btn"),
        html.Div(id="console-r-message"),
    ], id="console-register")
