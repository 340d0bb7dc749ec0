"""The Dash shell: pages, the language switch, the live-feed proxy, the deck.gl bundle.

Why a proxy for the live feed: the browser's ``EventSource`` cannot send a
header, and the wall's key must not reach the browser; so ``/live`` on this
server opens the API's feed with the key and relays its bytes. The deck.gl
bundle pydeck ships is served from its wheel at ``/vendor/deckgl.js`` so
the 3-D panel loads nothing from a CDN.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dash
import flask
import httpx
from dash import dcc, html

from app import i18n
from app.client import ApiClient, ApiError
from app.settings import WallSettings

__all__ = ["create_wall_app", "run_wall", "settings_of", "ASSETS", "deckgl_bundle"]

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parents[1] / "assets"
PAGES = Path(__file__).resolve().parent / "pages"
_CONFIG_KEY = "GRIDWALL_WALL"


def deckgl_bundle() -> Path:
    """The deck.gl JupyterWidget bundle inside the installed pydeck wheel."""
    import pydeck

    return Path(pydeck.__file__).resolve().parent / "nbextension" / "static" / "index.js"


def settings_of() -> WallSettings:
    """The settings of the app serving the current request (for callbacks)."""
    return flask.current_app.config[_CONFIG_KEY]


def _live() -> flask.Response:
    settings = settings_of()

    def relay():
        try:
            with ApiClient(settings) as api:
                yield from api.stream()
        except (ApiError, OSError, httpx.HTTPError) as exc:  # the API went away or refused the key
            log.warning("live feed ended: %s", exc)
            yield b"event: error\ndata: {}\n\n"

    return flask.Response(flask.stream_with_context(relay()), mimetype="text/event-stream",
                          headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _deckgl() -> flask.Response:
    return flask.send_file(deckgl_bundle(), mimetype="text/javascript", max_age=86_400)


def _shell(settings: WallSettings):
    def layout():
        return html.Div([
            dcc.Location(id="shell-url"),
            dcc.Store(id="shell-lang", storage_type="local", data=settings.language),
            html.Nav([
                html.Span(id="shell-title", className="shell-title"),
                dcc.Link(id="shell-link-wall", href="/wall"),
                dcc.Link(id="shell-link-console", href="/console"),
                dcc.Link(id="shell-link-planner", href="/planner"),
                html.Button(id="shell-lang-toggle", className="shell-lang", n_clicks=0),
            ], className="shell-nav", id="shell-nav"),
            dash.page_container,
        ], id="shell")
    return layout


@dash.callback(
    dash.Output("shell-lang", "data"),
    dash.Input("shell-lang-toggle", "n_clicks"),
    dash.State("shell-lang", "data"),
    prevent_initial_call=True,
)
def _toggle_language(_n: int, lang: str) -> str:
    return "en" if lang == "zh" else "zh"


@dash.callback(
    dash.Output("shell-title", "children"),
    dash.Output("shell-link-wall", "children"),
    dash.Output("shell-link-console", "children"),
    dash.Output("shell-link-planner", "children"),
    dash.Output("shell-lang-toggle", "children"),
    dash.Input("shell-lang", "data"),
)
def _shell_labels(lang: str):
    return tuple(i18n.t(k, lang) for k in ("title", "wall", "console", "planner", "language"))


def create_wall_app(settings: WallSettings | None = None) -> dash.Dash:
    """Build the wall, console and planner app.

    Parameters
    ----------
    settings:
        Where the API is; read from ``GRIDWALL_WALL_*`` when omitted.

    Returns
    -------
    dash.Dash
        Serve ``app.server`` (a Flask app) with any WSGI server.
    """
    settings = settings or WallSettings()
    app = dash.Dash(
        __name__, use_pages=True, pages_folder=str(PAGES), assets_folder=str(ASSETS),
        serve_locally=True, title=i18n.t("title", settings.language), update_title=None,
        assets_ignore=r"screenshots/.*", suppress_callback_exceptions=True,
    )
    app.server.config[_CONFIG_KEY] = settings
    app.layout = _shell(settings)
    app.server.add_url_rule("/live", "gridwall_live", _live)
    app.server.add_url_rule("/vendor/deckgl.js", "gridwall_deckgl", _deckgl)
    return app


def run_wall(settings: WallSettings | None = None) -> None:
    """Serve the app until interrupted (``gridwall wall`` calls this).

    Uses a threaded WSGI server: each browser keeps one streaming ``/live``
    connection open, so requests must not wait on each other.
    """
    from werkzeug.serving import run_simple

    settings = settings or WallSettings()
    app = create_wall_app(settings)
    log.info("wall on http://%s:%d (API %s)", settings.host, settings.port, settings.api_url)
    run_simple(settings.host, settings.port, app.server, threaded=True, use_reloader=False)
