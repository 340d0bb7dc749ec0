"""What the wall's server adds in front of the pages: compression, cache headers (exact, on a tiny Flask app)."""

from __future__ import annotations

import gzip

import brotli
import flask
import pytest

from app.serving import IMMUTABLE, CompressedCache, install

BUNDLE = b"window.dash = {};\n" * 2000


@pytest.fixture
def client():
    server = flask.Flask(__name__)

    @server.route("/_dash-component-suites/dash/<name>")
    def suite(name):
        return flask.Response(BUNDLE, mimetype="text/javascript")

    @server.route("/live")
    def live():
        return flask.Response((b"data: {}\n\n" for _ in range(300)), mimetype="text/event-stream")

    @server.route("/small")
    def small():
        return flask.jsonify(ok=True)

    @server.route("/payload")
    def payload():
        return flask.Response(BUNDLE, mimetype="application/json", headers={"ETag": '"v1"'})

    server.extensions["cache"] = cache = CompressedCache()
    install(server, cache)
    return server.test_client()


def test_a_bundle_goes_brotli_or_gzip_as_the_browser_accepts_and_is_kept_a_year(client):
    got = client.get("/_dash-component-suites/dash/x.v1_0m1.min.js", headers={"Accept-Encoding": "gzip, br"})
    assert got.headers["Content-Encoding"] == "br" and brotli.decompress(got.data) == BUNDLE
    assert got.headers["Cache-Control"] == IMMUTABLE and "Accept-Encoding" in got.headers["Vary"]
    assert "Cookie" not in got.headers["Vary"]
    got = client.get("/_dash-component-suites/dash/x.v1_0m1.min.js", headers={"Accept-Encoding": "gzip;q=1, br;q=0"})
    assert got.headers["Content-Encoding"] == "gzip" and gzip.decompress(got.data) == BUNDLE
    plain = client.get("/_dash-component-suites/dash/x.v1_0m1.min.js")
    assert "Content-Encoding" not in plain.headers and plain.data == BUNDLE


def test_bodies_named_for_good_are_compressed_once(client):
    cache = client.application.extensions["cache"]
    for _ in range(3):
        client.get("/payload", headers={"Accept-Encoding": "br"})
        client.get("/_dash-component-suites/dash/x.v1_0m1.min.js", headers={"Accept-Encoding": "br"})
    assert sorted(cache._items) == [("/_dash-component-suites/dash/x.v1_0m1.min.js?", "br"), ("/payload#v1", "br")]
    got = client.get("/payload", headers={"Accept-Encoding": "br"})
    assert got.headers["ETag"] == '"v1"' and brotli.decompress(got.data) == BUNDLE  # the ETag stays: 304s go on


def test_the_live_feed_and_small_answers_go_as_they_are(client):
    live = client.get("/live", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in live.headers and live.data.startswith(b"data: {}")
    small = client.get("/small", headers={"Accept-Encoding": "br, gzip"})
    assert "Content-Encoding" not in small.headers and small.json == {"ok": True}
    assert client.application.extensions["cache"]._items == {}


def test_the_cache_drops_the_least_recently_used_past_its_bound():
    cache = CompressedCache(max_bytes=10)
    cache.put(("a", "br"), b"12345")
    cache.put(("b", "br"), b"12345")
    assert cache.get(("a", "br")) == b"12345"  # a used last: b goes first
    cache.put(("c", "br"), b"123")
    assert cache.get(("b", "br")) is None and cache.get(("a", "br")) and cache.get(("c", "br"))
