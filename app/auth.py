"""Sign-in for the wall, console and planner: who is at the screen, and the API called as them.

How it holds together:

- ``/login`` is a plain HTML form (no script needed). The Dash server hands
  the login and password to the API (``POST /auth/login``) and keeps the
  answer — the person's session token, who they are, when it ends — in
  Flask's session: a cookie signed with ``GRIDWALL_WALL_SECRET_KEY``,
  HTTP-only and ``SameSite=Strict``. The browser never sees a key.
- Every request but the sign-in page and static files needs that session
  (:func:`guard`): pages redirect to ``/login``, everything else
  (``/_dash-update-component``, ``/live``, the payloads) is answered 401.
- Every callback calls the API with the person's token
  (:func:`session_token`, read by :class:`app.client.ApiClient`), so the
  API's access rule decides what they see and the audit log names them.
- Callbacks are CSRF-safe twice over: the cookie is ``SameSite=Strict``, and
  every POST must carry the session's CSRF token in ``X-CSRFToken`` — which
  Dash's renderer sends by itself from the ``_csrf_token`` cookie set here
  (a page on another site can neither read that cookie nor set the header
  without a CORS preflight this server never grants).
- Which pages a role opens is :data:`PAGES_BY_ROLE`; what it may do on them
  is the API's to say.
"""

from __future__ import annotations

import hmac
import html
import logging
import secrets
from datetime import UTC, datetime
from urllib.parse import urlsplit

import flask

from app.client import ApiClient, ApiError
from app.i18n import t

__all__ = ["install", "session_token", "person", "PAGES_BY_ROLE", "CSRF_COOKIE", "home_of"]

log = logging.getLogger(__name__)

CSRF_COOKIE = "_csrf_token"  # the name Dash's renderer reads and sends back as X-CSRFToken
_CSRF_HEADER = "X-CSRFToken"
#: paths anyone may fetch: the sign-in page and static files (Dash's own bundles, the styles, vendored scripts)
_PUBLIC = ("/login", "/assets/", "/_dash-component-suites/", "/vendor/", "/_favicon.ico", "/favicon.ico")
#: the pages each role opens (the API decides, as ever, what it may see and do there)
PAGES_BY_ROLE: dict[str, tuple[str, ...]] = {
    "admin": ("/wall", "/console", "/planner", "/audit"),
    "operator": ("/wall", "/console"),
    "supervisor": ("/wall", "/console"),
    "department": ("/wall", "/console"),
    "grid_worker": ("/console",),
    "planner": ("/wall", "/planner"),
    "analyst": ("/wall", "/planner"),
    "wall": ("/wall",),
}
_PAGES = ("/wall", "/console", "/planner", "/audit")


def session_token() -> str | None:
    """The signed-in person's API token, when serving a request of theirs; ``None`` elsewhere (the server's own
    work, e.g. warming the payload cache, goes with the wall's key)."""
    if not flask.has_request_context():
        return None
    return flask.session.get("token")


def person() -> dict | None:
    """Who is signed in (login, name, role …), or ``None``."""
    return flask.session.get("person") if flask.has_request_context() else None


def home_of(role: str) -> str:
    """The first page a role lands on."""
    return PAGES_BY_ROLE.get(role, ("/wall",))[0]


def _expired() -> bool:
    ends = flask.session.get("expires_at")
    return ends is None or datetime.fromisoformat(ends) <= datetime.now(UTC)


def _still_signed_in() -> bool:
    """Whether the API still takes the session (asked when a page is opened: signed out elsewhere, disabled)."""
    try:
        with ApiClient(flask.current_app.config["GRIDWALL_WALL"]) as api:
            return api.get_json("me") is not None
    except ApiError:
        return False


def _refuse(status: int, message: str) -> flask.Response:
    return flask.Response(flask.json.dumps({"error": {"type": "Unauthorized" if status == 401 else "Forbidden",
                                                      "message": message}}),
                          status=status, mimetype="application/json")


def _wants_page() -> bool:
    return flask.request.method == "GET" and "text/html" in flask.request.headers.get("Accept", "")


def guard() -> flask.Response | None:
    """Before every request: a session for all but the public paths, the CSRF token on every POST, pages by role."""
    path = flask.request.path
    if path.startswith(_PUBLIC):
        return None
    if not flask.session.get("token") or _expired() or (_wants_page() and not _still_signed_in()):
        flask.session.clear()
        if _wants_page():
            return flask.redirect("/login?next=" + flask.request.full_path.rstrip("?"))
        return _refuse(401, "not signed in")
    if flask.request.method not in ("GET", "HEAD", "OPTIONS"):
        sent = flask.request.headers.get(_CSRF_HEADER) or flask.request.form.get("csrf", "")
        if not hmac.compare_digest(sent.encode(), flask.session.get("csrf", "").encode()):
            log.warning("refused %s %s without the session's CSRF token", flask.request.method, path)
            return _refuse(403, "missing or wrong CSRF token")
    role = (flask.session.get("person") or {}).get("role", "")
    if path in _PAGES and path not in PAGES_BY_ROLE.get(role, ()):
        return flask.redirect(home_of(role))
    if path == "/":
        return flask.redirect(home_of(role))
    return None


def _set_csrf_cookie(response: flask.Response) -> flask.Response:
    """After every request of a signed-in browser: the CSRF cookie Dash's renderer echoes back."""
    token = flask.session.get("csrf")
    if token and flask.request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="Strict",
                            secure=flask.current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


_FORM = """<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/gridwall.css"></head>
<body class="login-body"><form class="login-form" method="post" action="/login" id="login-form">
<h1>{title}</h1><p class="login-sub">{sub}</p>
<label for="login">{login_label}</label><input id="login" name="login" autocomplete="username" required
 value="{login}" autofocus>
<label for="password">{password_label}</label><input id="password" name="password" type="password"
 autocomplete="current-password" required>
<input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="next" value="{next}">
<p class="login-error" id="login-error">{error}</p>
<button type="submit" id="login-submit">{submit}</button></form></body></html>"""


def _form(error: str = "", login: str = "", status: int = 200) -> flask.Response:
    lang = flask.request.args.get("lang") or flask.current_app.config["GRIDWALL_WALL"].language
    flask.session.setdefault("csrf", secrets.token_urlsafe(24))
    body = _FORM.format(title=html.escape(t("title", lang)), sub=html.escape(t("sign_in_sub", lang)),
                        login_label=html.escape(t("login", lang)), password_label=html.escape(t("password", lang)),
                        submit=html.escape(t("sign_in", lang)), error=html.escape(error), login=html.escape(login),
                        csrf=flask.session["csrf"], next=html.escape(_local(flask.request.values.get("next"))))
    return flask.Response(body, status=status, mimetype="text/html",
                          headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY"})


def _local(target: str | None) -> str:
    """``target`` if it is a path on this server, else nothing (no open redirect)."""
    if not target:
        return ""
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else ""


def _login() -> flask.Response:
    if flask.request.method == "GET":
        return _form()
    form = flask.request.form
    lang = flask.current_app.config["GRIDWALL_WALL"].language
    if not hmac.compare_digest(form.get("csrf", "").encode(), flask.session.get("csrf", "").encode()):
        return _form(t("sign_in_again", lang), form.get("login", ""), status=403)
    try:
        with ApiClient(flask.current_app.config["GRIDWALL_WALL"], token="") as api:
            got = api.post_json("login", {"login": form.get("login", ""), "password": form.get("password", "")})
    except ApiError as exc:
        message = t("sign_in_wrong", lang) if exc.status == 401 else (
            t("sign_in_wait", lang) if exc.status == 429 else f"{exc.status}: {exc.detail}")
        return _form(message, form.get("login", ""), status=exc.status if exc.status < 500 else 503)
    flask.session.clear()  # a fresh session (and CSRF token) for the person: nothing carried over from before
    flask.session.permanent = True
    flask.session.update(token=got["token"], person=got["person"], expires_at=got["expires_at"],
                         csrf=secrets.token_urlsafe(24))
    log.info("signed in: %s (%s)", got["person"]["login"], got["person"]["role"])
    return flask.redirect(_local(form.get("next")) or home_of(got["person"]["role"]))


def _logout() -> flask.Response:
    """Sign out: the API ends the person's sessions (so a copy of this cookie is worth nothing), the cookie goes."""
    try:
        with ApiClient(flask.current_app.config["GRIDWALL_WALL"]) as api:
            api.post_json("logout")
    except ApiError as exc:  # already ended (401): nothing left to end
        log.info("sign-out: %s", exc)
    flask.session.clear()
    response = flask.redirect("/login")
    response.delete_cookie(CSRF_COOKIE)
    return response


def install(server: flask.Flask, secret_key: str, *, secure_cookies: bool, lifetime_s: float) -> None:
    """Put sign-in in front of every route of ``server`` (the Dash app's Flask server)."""
    from datetime import timedelta

    server.secret_key = secret_key
    server.config.update(SESSION_COOKIE_NAME="gridwall_session", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Strict", SESSION_COOKIE_SECURE=secure_cookies,
                         SESSION_REFRESH_EACH_REQUEST=False,
                         PERMANENT_SESSION_LIFETIME=timedelta(seconds=lifetime_s))
    server.before_request(guard)
    server.after_request(_set_csrf_cookie)
    server.add_url_rule("/login", "gridwall_login", _login, methods=["GET", "POST"])
    server.add_url_rule("/logout", "gridwall_logout", _logout, methods=["POST"])
