"""Swagger UI at ``/docs`` and ReDoc at ``/redoc``, from files carried in the package.

Why: FastAPI's own pages load Swagger UI and ReDoc from jsDelivr (and ReDoc's fonts from Google), so on a
government network with no internet they come up blank. The scripts and styles are vendored in ``api/static/``
(``scripts/vendor_api_docs.sh``, versions in ``api/static/VERSIONS``) and served under ``/docs/static``; the
pages name no other host (no favicon from fastapi.tiangolo.com, no Google fonts, Swagger's online validator off).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["STATIC", "install_docs"]

#: the vendored Swagger UI and ReDoc files (in the wheel: pyproject package-data)
STATIC = Path(__file__).parent / "static"
_ASSETS = "/docs/static"


def install_docs(app: FastAPI) -> None:
    """Add ``/docs``, ``/redoc`` and their static files to an app built with ``docs_url=None, redoc_url=None``."""
    app.mount(_ASSETS, StaticFiles(directory=STATIC), name="docs-static")
    title = app.title

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{title} – API",
                                   swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{_ASSETS}/favicon-32x32.png",
                                   swagger_ui_parameters={"validatorUrl": None})

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url, title=f"{title} – API",
                              redoc_js_url=f"{_ASSETS}/redoc.standalone.js",
                              redoc_favicon_url=f"{_ASSETS}/favicon-32x32.png", with_google_fonts=False)
