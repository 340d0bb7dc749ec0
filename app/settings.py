"""Wall settings (env prefix ``GRIDWALL_WALL_``).

The wall server holds one API key of its own (role ``wall``: what it caches
for everyone, the basemap and the 3-D panel) and never shows it to the
browser; people sign in (:mod:`app.auth`) and act with their own sessions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["WallSettings"]

_PLACEHOLDERS = frozenset({"changeme", "change-me", "secret", "password", "admin", "test", "xxx", "todo"})


class WallSettings(BaseSettings):
    """Where the API is, which key to present, how the wall looks at start.

    Attributes
    ----------
    api_url:
        Base URL of the gridwall API (``GRIDWALL_WALL_API_URL``).
    api_key:
        Key sent as ``X-API-Key``; ``None`` when the API runs without keys
        (development).
    language:
        ``zh`` (default) or ``en``; switchable per browser.
    max_points:
        Most point features fetched for one layer (30,000 cameras fit).
    page_size:
        Features asked for per request (the API's ``page_limit_max`` caps it).
    max_buildings_3d:
        Buildings in the 3-D panel's first frame (the tallest); the rest are
        drawn a few seconds later, once the wall has settled: software WebGL
        on a wall PC takes ~3 s for a frame of 33,000, which held the wall's
        first render when drawn at once.
    timeout_s:
        HTTP timeout towards the API.
    as_of:
        The wall's "now" for the day's figures (``GRIDWALL_WALL_AS_OF``, with
        a zone). When unset, the clock — unless the data stop in the past
        (the newest event is over a day old: a demo, a district's history),
        when it is the newest event's time, and the wall says so
        (:mod:`app.dataday`).
    timezone:
        The day of "today's events" is this zone's day; every time shown is in this zone.
    secret_key:
        Signs the browser's session cookie (``GRIDWALL_WALL_SECRET_KEY``); every process serving the wall needs
        the same. Unset, a process draws its own (people sign in again after a restart).
    secure_cookies:
        Send the session cookie over HTTPS only (set it when the wall is served behind TLS).
    session_days:
        The longest a browser stays signed in; the API's own session (shorter, except for a ``wall`` display
        account) ends it sooner.
    workers, threads:
        Processes of the wall's server (gunicorn, ``GRIDWALL_WALL_WORKERS``) and threads in each
        (``GRIDWALL_WALL_THREADS``). Every open browser holds one thread for its live feed for as long as it is
        open, and a page's first render runs a handful of callbacks at once: ``workers × threads`` must be well
        above the screens and consoles open at once (2 × 32 by default). Each process keeps its own payload
        cache, filled when it starts, so more processes cost the API as many first loads.
    """

    model_config = SettingsConfigDict(env_prefix="GRIDWALL_WALL_", extra="ignore")

    api_url: str = "http://127.0.0.1:8000"
    api_key: SecretStr | None = None
    language: Literal["zh", "en"] = "zh"
    host: str = "127.0.0.1"
    port: int = Field(default=8050, ge=1, le=65535)
    environment: Literal["development", "production", "staging", "test"] = "development"
    max_points: int = Field(default=50_000, ge=100, le=500_000)
    page_size: int = Field(default=10_000, ge=100, le=100_000)
    max_buildings_3d: int = Field(default=3_000, ge=0, le=100_000)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    debug: bool = False
    as_of: datetime | None = None
    timezone: str = "Asia/Shanghai"
    secret_key: SecretStr | None = None
    secure_cookies: bool = False
    session_days: float = Field(default=31.0, gt=0, le=366)
    workers: int = Field(default=2, ge=1, le=32)
    threads: int = Field(default=32, ge=4, le=1000)

    @model_validator(mode="after")
    def _key_not_placeholder(self) -> WallSettings:
        self.api_url = self.api_url.rstrip("/")
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise ValueError("GRIDWALL_WALL_AS_OF needs a time zone, e.g. 2026-10-31T18:00+08:00")
        if self.environment != "development" and self.api_key is not None:
            if self.api_key.get_secret_value().strip().lower() in _PLACEHOLDERS:
                raise ValueError("GRIDWALL_WALL_API_KEY is a placeholder; issue a key with `python -m api.security`")
        return self
