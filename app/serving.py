"""What the wall's server adds in front of the pages: compression, cache headers, who asked (for the request log).

Measured (issue 21): the first render of the wall spent ~1.6 s loading and
parsing Dash's bundles, sent uncompressed by the development server. Here

- **compression**: every text answer (pages, callbacks, scripts, styles,
  GeoJSON) is sent brotli-compressed to a browser that accepts ``br``, gzip
  to one that accepts only ``gzip``. An answer that cannot change under its
  URL or its ``ETag`` (a fingerprinted Dash bundle, a vendored script, a
  payload of the cache) is compressed once per process and kept
  (:class:`CompressedCache`, bounded); the live feed (a stream) is never
  compressed, since a compressor holds bytes back and the wall would see
  events late;
- **cache headers**: Dash's fingerprinted component suites, ``/assets/``
  files asked with their ``?m=`` stamp and the vendored bundles (their
  names carry their version) are ``public, max-age`` of a year,
  ``immutable``: a reload asks for none of them again. The rest keep what
  their route said (an ``ETag``, ``no-cache``);
- **who asked**: the signed-in person's login in the WSGI environ
  (:data:`ACTOR_ENVIRON`), for the one-line request log the entry point
  wraps around the app.

:func:`install` is called on the Flask server by whichever entry point serves
the wall (``gridwall wall``, in production under gunicorn, or ``--dev``).
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict

import brotli
import flask

from app import auth
from app.settings import WallSettings

__all__ = ["ready", "install", "serve", "CompressedCache", "ACTOR_ENVIRON", "IMMUTABLE"]

#: the WSGI environ entry holding the signed-in person's login (read by the request log)
ACTOR_ENVIRON = "gridwall.actor"
IMMUTABLE = "public, max-age=31536000, immutable"
#: types worth compressing (binary payloads and images are left alone: they barely shrink)
_TEXT = frozenset({"text/html", "text/css", "text/javascript", "text/plain", "application/javascript",
                   "application/json", "application/geo+json", "image/svg+xml"})
_MIN_BYTES = 1024
_ENCODERS = {"br": lambda data: brotli.compress(data, quality=5), "gzip": lambda data: gzip.compress(data, 6)}


class CompressedCache:
    """Compressed bodies by (what identifies the body, encoding), least recently used dropped past ``max_bytes``.

    One per process, shared by its threads.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def put(self, key: tuple[str, str], body: bytes) -> None:
        with self._lock:
            if key in self._items or len(body) > self.max_bytes:
                return
            self._items[key] = body
            self.size += len(body)
            while self.size > self.max_bytes:
                self.size -= len(self._items.popitem(last=False)[1])


def _immutable(request: flask.Request) -> bool:
    path = request.path
    if path.startswith(("/_dash-component-suites/", "/vendor/")):
        return True  # fingerprinted by Dash (a version or hash in the name), versioned by us
    return path.startswith("/assets/") and "m" in request.args  # Dash stamps its asset links with the file's mtime


def _identity(request: flask.Request, response: flask.Response) -> str | None:
    """What names this body for good: its URL when the URL is fingerprinted, else its strong ETag; None when
    nothing does (a callback's answer, a page)."""
    if _immutable(request):
        return request.full_path
    etag, weak = response.get_etag()
    return f"{request.path}#{etag}" if etag and not weak else None


def _compress(response: flask.Response, cache: CompressedCache) -> None:
    if (response.status_code != 200 or response.mimetype not in _TEXT or "Content-Encoding" in response.headers
            or (response.is_streamed and not response.direct_passthrough)):  # a stream (the live feed) goes as is
        return
    response.vary.add("Accept-Encoding")
    encoding = flask.request.accept_encodings.best_match(tuple(_ENCODERS))
    if encoding is None:
        return
    identity = _identity(flask.request, response)
    body = cache.get((identity, encoding)) if identity else None
    if body is None:
        response.direct_passthrough = False  # a file: read it
        data = response.get_data()
        if len(data) < _MIN_BYTES:
            return
        body = _ENCODERS[encoding](data)
        if identity:
            cache.put((identity, encoding), body)
    else:
        response.close()  # the file it would have sent
    response.set_data(body)
    response.headers["Content-Encoding"] = encoding


def ready(dash_app) -> None:
    """Make the wall ready to serve: Dash set up before any request, then :func:`install` on its server.

    Dash sets itself up on a process's first request (it registers the bundles it may serve, then the callbacks)
    and flags that done before doing it: two threads' first requests at once had the second answer a bundle with
    a 500 ("dash is not a registered library"; seen under gunicorn, where a worker's first requests come together).
    """
    with dash_app.server.test_request_context("/"):
        dash_app._setup_server()
    install(dash_app.server)


def install(server: flask.Flask, cache: CompressedCache | None = None) -> None:
    """Compress the answers of ``server``, mark its fingerprinted files immutable and note who asked.

    Parameters
    ----------
    server:
        The wall's Flask server (``create_wall_app(...).server``).
    cache:
        Where compressed bodies are kept; a new one of 64 MB by default.
    """
    cache = cache or CompressedCache()

    @server.after_request
    def _serve(response: flask.Response) -> flask.Response:
        # only where the request read the session already: reading it marks the answer ``Vary: Cookie``, which
        # would tie the cached bundles to one sign-in
        who = auth.person() if flask.session.accessed else None
        if who:
            flask.request.environ[ACTOR_ENVIRON] = who.get("login")
        if response.status_code in (200, 304) and _immutable(flask.request):
            response.headers["Cache-Control"] = IMMUTABLE
        _compress(response, cache)
        return response


def _gunicorn_app(dash_app, settings: WallSettings, wsgi, options: dict):
    """A gunicorn application serving ``wsgi`` (built once, in the master) with gthread workers."""
    from gunicorn.app.base import BaseApplication

    def post_fork(_server, _worker) -> None:  # threads do not survive a fork: each worker fills its own cache
        from app.main import _warm

        threading.Thread(target=_warm, args=(dash_app, settings), daemon=True, name="wall-warm").start()

    class _Wall(BaseApplication):
        def load_config(self) -> None:
            for name, value in {**options, "post_fork": post_fork}.items():
                self.cfg.set(name, value)

        def load(self):
            return wsgi

    return _Wall()


def serve(settings: WallSettings, *, wrap=None, log_config: dict | None = None) -> None:
    """Serve the wall under gunicorn until stopped: ``settings.workers`` processes of ``settings.threads`` threads.

    The Dash app is built here, in the master process and on its main thread
    (Dash registers its pages on the main thread only), then the workers are
    forked with it (``preload_app``): they share its memory and start at
    once. Each worker fills its own payload cache in the background. Streams
    open at a stop are cut after 5 s (``graceful_timeout``), not held to the
    default 30.

    Parameters
    ----------
    settings:
        The wall's settings (host, port, workers, threads, the API).
    wrap:
        WSGI middleware put around the app (the entry point's request log).
    log_config:
        A ``logging.config.dictConfig`` for the master and the workers.
    """
    from app.main import create_wall_app

    dash_app = create_wall_app(settings)
    ready(dash_app)  # in the master: every worker is forked set up
    wsgi = wrap(dash_app.server) if wrap else dash_app.server
    options = {"bind": [f"{settings.host}:{settings.port}"], "worker_class": "gthread", "workers": settings.workers,
               "threads": settings.threads, "preload_app": True, "graceful_timeout": 5, "keepalive": 5,
               "proc_name": "gridwall-wall", "control_socket_disable": True, "logconfig_dict": log_config or {}}
    _gunicorn_app(dash_app, settings, wsgi, options).run()
