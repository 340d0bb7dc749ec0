"""/docs and /redoc come from the package: they render the operations in a browser with no request leaving
127.0.0.1, and the wheel's package data carries the files they load."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from api.docs import STATIC

ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = {"127.0.0.1", "localhost"}


@pytest.fixture
def docs_page(browser):
    """A page whose every request to a host other than loopback is aborted and recorded."""
    outside: list[str] = []
    context = browser.new_context()

    def guard(route) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOOPBACK:
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    context.route("**/*", guard)
    try:
        yield context.new_page(), outside
    finally:
        context.close()


def test_swagger_ui_renders_operations_offline(live_server, docs_page):
    pg, outside = docs_page
    pg.goto(f"{live_server.url}/docs", wait_until="domcontentloaded")
    pg.wait_for_selector(".opblock-summary-path", timeout=60_000)
    paths = pg.locator(".opblock-summary-path").all_inner_texts()
    assert any(p.startswith("/ogc/collections") for p in paths)
    assert "网格化管理指挥平台" in pg.locator(".info").inner_text()
    assert outside == []


def test_redoc_renders_operations_offline(live_server, docs_page):
    pg, outside = docs_page
    pg.goto(f"{live_server.url}/redoc", wait_until="domcontentloaded")
    pg.wait_for_selector("h2:has-text('Features of a collection')", timeout=60_000)
    assert "redoc.standalone.js" in pg.content()
    assert outside == []


def test_docs_pages_name_no_other_host(client):
    for url in ("/docs", "/redoc"):
        html = client.get(url).text
        assert "cdn.jsdelivr.net" not in html and "fonts.googleapis" not in html and "tiangolo" not in html
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200


def test_the_wheel_carries_the_vendored_files():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["api"]
    files = [p.relative_to(STATIC.parent).as_posix() for p in STATIC.iterdir()]
    assert {"static/swagger-ui-bundle.js", "static/swagger-ui.css", "static/redoc.standalone.js"} <= set(files)
    assert all(any(fnmatch(f, pat) for pat in patterns) for f in files)
