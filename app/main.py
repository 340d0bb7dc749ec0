"""The Dash shell: pages, the language switch, the live-feed proxy, the basemap, the 3-D panel.

Why a proxy for the live feed: the browser's ``EventSource`` cannot send a
header, and the wall's key must not reach the browser; so ``/live`` on this
server opens the API's feed with the key and relays its bytes. The basemap
layers are served at ``/basemap/<layer>.geojson`` and the 3-D panel at
``/panel3d`` (:mod:`app.panel3d`) from a per-process cache
(:mod:`app.payloads`) with an ``ETag``, so the browser loads them directly,
not through a callback, and a reload costs a 304. The deck.gl bundles
vendored from npm in ``assets/vendor/`` are served at ``/vendor/<file>``
(and kept out of the pages' own scripts): nothing comes from a CDN.

Nobody gets past ``/login`` without signing in (:mod:`app.auth`): the feed,
the payloads and every callback are the signed-in person's, called on the
API with their session.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from pathlib import Path

import dash
import flask
import httpx
from dash import dcc, html

from app import auth, i18n, panel3d
from app.client import ApiClient, ApiError
from app.payloads import BASEMAP, Payload, PayloadCache, basemap_payload, district_box
from app.settings import WallSettings

__all__ = ["create_wall_app", "run_wall", "settings_of", "payloads_of", "ASSETS", "VENDOR"]

log = logging.getLogger(__name__)

#: the wall's static files, found the same way in a checkout and in an installed wheel: in the repository
#: ``app/assets`` is a link to the top-level ``assets/`` (where the card keeps them), and the wheel carries the files
#: themselves as ``app/assets`` (``[tool.setuptools.package-data]`` in pyproject.toml)
ASSETS = Path(__file__).resolve().parent / "assets"
VENDOR = ASSETS / "vendor"
PAGES = Path(__file__).resolve().parent / "pages"
_CONFIG_KEY = "GRIDWALL_WALL"
_CACHE_KEY = "gridwall_payloads"
#: assets the pages must not load themselves (Dash matches file names, not folders): the 3-D panel's bundles
_NOT_IN_PAGES = r"screenshots/.*|^deck\.gl-.*\.js$"


def settings_of() -> WallSettings:
    """The settings of the app serving the current request (for callbacks)."""
    return flask.current_app.config[_CONFIG_KEY]


def payloads_of() -> PayloadCache:
    """The payload cache of the app serving the current request."""
    return flask.current_app.extensions[_CACHE_KEY]


def _send(got: Payload, mimetype: str = "application/json") -> flask.Response:
    """A cached payload with its ETag; 304 when the browser holds it already."""
    headers = {"ETag": got.etag, "Cache-Control": f"private, max-age={got.max_age}"}
    if got.etag in [t.strip() for t in flask.request.headers.get("If-None-Match", "").split(",")]:
        return flask.Response(status=304, headers=headers)
    return flask.Response(got.body, mimetype=mimetype, headers=headers)


def _basemap(name: str) -> flask.Response:
    if name not in BASEMAP:
        flask.abort(404)
    return _send(basemap_payload(payloads_of(), settings_of(), name), "application/geo+json")


def _panel3d() -> flask.Response:
    lang = flask.request.args.get("lang", settings_of().language)
    lang = lang if lang in i18n.LANGUAGES else "zh"
    return flask.Response(panel3d.page(payloads_of(), settings_of(), lang), mimetype="text/html",
                          headers={"Cache-Control": "no-cache"})


def _panel3d_data(name: str) -> flask.Response:
    build, mimetype = {"buildings.bin": (panel3d.buildings, "application/octet-stream"),
                       "events.json": (panel3d.columns, "application/json")}.get(name, (None, ""))
    if build is None:
        flask.abort(404)
    return _send(build(payloads_of(), settings_of()), mimetype)


def _vendor(name: str) -> flask.Response:
    return flask.send_from_directory(VENDOR, name, mimetype="text/javascript", max_age=86_400)


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


def _shell(settings: WallSettings):
    def layout():
        who = auth.person() or {}
        opens = auth.PAGES_BY_ROLE.get(who.get("role", ""), ())
        links = [dcc.Link(id=f"shell-link-{page}", href=f"/{page}", style={} if f"/{page}" in opens
                          else {"display": "none"}) for page in ("wall", "console", "planner", "audit")]
        return html.Div([
            dcc.Location(id="shell-url"),
            dcc.Store(id="shell-lang", storage_type="local", data=settings.language),
            dcc.Store(id="shell-person", data=who),
            html.Nav([
                html.Span(id="shell-title", className="shell-title"),
                *links,
                html.Span(f"{who.get('name', '')}（{who.get('login', '')}）", id="shell-person-name",
                          className="shell-person"),
                html.Form([dcc.Input(type="hidden", name="csrf", value=flask.session.get("csrf", "")),
                           html.Button(id="shell-logout", type="submit", n_clicks=0)],
                          method="post", action="/logout", className="shell-logout"),
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
    dash.Output("shell-link-audit", "children"),
    dash.Output("shell-logout", "children"),
    dash.Output("shell-lang-toggle", "children"),
    dash.Input("shell-lang", "data"),
)
def _shell_labels(lang: str):
    return tuple(i18n.t(k, lang) for k in ("title", "wall", "console", "planner", "audit", "sign_out", "language"))


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
        assets_ignore=_NOT_IN_PAGES, suppress_callback_exceptions=True,
    )
    app.server.config[_CONFIG_KEY] = settings
    app.server.extensions[_CACHE_KEY] = PayloadCache()
    if settings.secret_key is None:
        log.warning("GRIDWALL_WALL_SECRET_KEY is not set: this process signs its cookies with a key of its own; "
                    "people sign in again after a restart")
    auth.install(app.server, settings.secret_key.get_secret_value() if settings.secret_key else secrets.token_hex(32),
                 secure_cookies=settings.secure_cookies, lifetime_s=settings.session_days * 86_400)
    app.layout = _shell(settings)
    app.server.add_url_rule("/live", "gridwall_live", _live)
    app.server.add_url_rule("/vendor/<name>", "gridwall_vendor", _vendor)
    app.server.add_url_rule("/basemap/<name>.geojson", "gridwall_basemap", _basemap)
    app.server.add_url_rule("/panel3d", "gridwall_panel3d", _panel3d)
    app.server.add_url_rule("/panel3d/<name>", "gridwall_panel3d_data", _panel3d_data)
    return app


def _warm(app: dash.Dash, settings: WallSettings, tries: int = 30) -> None:
    """Fill the payload cache (basemap, 3-D panel) so the first screen to connect does not wait for it."""
    cache = app.server.extensions[_CACHE_KEY]
    for attempt in range(tries):
        try:
            if district_box(cache, settings) is not None:
                for name in BASEMAP:
                    basemap_payload(cache, settings, name)
                panel3d.page(cache, settings, settings.language)
                panel3d.buildings(cache, settings)
                log.info("wall cache warm: basemap and 3-D panel")
                return
        except (ApiError, OSError, httpx.HTTPError) as exc:
            log.info("wall cache not warmed yet (%s)", exc)
        time.sleep(1.0 + attempt)  # the API is not up yet, or holds no district


def run_wall(settings: WallSettings | None = None, *, dev: bool = False, wrap=None,
             log_config: dict | None = None) -> None:
    """Serve the app until interrupted (``gridwall wall`` calls this).

    Under gunicorn (:func:`app.serving.serve`: worker processes of many
    threads, since each browser keeps one streaming ``/live`` connection
    open), or with ``dev`` under Werkzeug's threaded development server in
    this process. Both compress and set cache headers
    (:func:`app.serving.install`), and fill the payload cache in the
    background as they start. ``wrap`` is WSGI middleware the entry point
    puts around the app (its request log).
    """
    from werkzeug.serving import run_simple

    from app import serving

    settings = settings or WallSettings()
    log.info("wall on http://%s:%d (API %s)", settings.host, settings.port, settings.api_url)
    if not dev:
        serving.serve(settings, wrap=wrap, log_config=log_config)
        return
    app = create_wall_app(settings)
    serving.ready(app)
    threading.Thread(target=_warm, args=(app, settings), daemon=True, name="wall-warm").start()
    run_simple(settings.host, settings.port, wrap(app.server) if wrap else app.server, threaded=True,
               use_reloader=False)
