"""The app factory: nothing is built at import.

``create_app(api_settings, db_settings)`` returns a FastAPI app whose engine
opens in the lifespan hook and lives on ``app.state.engine``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.routers import health
from api.settings import ApiSettings
from layers.db import make_engine
from layers.settings import DatabaseSettings

__all__ = ["create_app"]


def create_app(settings: ApiSettings | None = None, db: DatabaseSettings | None = None) -> FastAPI:
    """Build the service.

    Parameters
    ----------
    settings:
        API settings; read from the environment when omitted.
    db:
        Database settings; read from the environment when omitted.
    """
    settings = settings or ApiSettings()
    db = db or DatabaseSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.engine = make_engine(db)
        try:
            yield
        finally:
            app.state.engine.dispose()

    app = FastAPI(title=settings.title, lifespan=lifespan)
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health.router)
    return app
