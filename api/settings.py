"""API settings (env prefix ``GRIDWALL_API_``).

Secrets never live in code: API keys are read from a keys file named here
(stored as SHA-256 digests, see :mod:`api.security`), and an optional
bootstrap admin key comes from the environment. Outside ``development`` a
placeholder or short bootstrap key is refused at start, and so is a service
with no key at all (it could only answer ``/health``).
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from command.dispatch import FIX_MAX_AGE_S, NETWORK_TOP
from command.intake import PlausibleReportTimes
from grid_partition import PartitionParams

__all__ = ["ApiSettings", "PLACEHOLDER_SECRETS", "TILE_MAX_AGE"]

#: values a secret is left at by someone who copied an example file
PLACEHOLDER_SECRETS = frozenset({
    "", "changeme", "change-me", "change_me", "changethis", "secret", "password", "admin", "test", "example",
    "placeholder", "xxx", "todo",
})

#: seconds a client may keep a tile of each layer: moving things short, the built city long
TILE_MAX_AGE: dict[str, int] = {
    "events": 5, "workers": 5, "cameras": 60, "grids": 60, "components": 300, "resources": 300,
    "buildings": 86_400, "blocks": 86_400, "roads": 86_400, "water": 86_400, "admin_areas": 86_400,
}


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ApiSettings(BaseSettings):
    """Where the service listens, how much it accepts and whom it lets in.

    Attributes
    ----------
    environment:
        ``development`` allows placeholder secrets and no keys at all (then
        every caller is admin, so the service must listen on loopback);
        anything else refuses both at start.
    keys_file:
        A TOML file of API keys (hashed) with their roles (``GRIDWALL_API_KEYS_FILE``).
    admin_key:
        A bootstrap admin key from the environment, for a fresh install before
        a keys file exists (``GRIDWALL_API_ADMIN_KEY``).
    max_body_bytes:
        Larger request bodies are refused with 413 before they are read.
    max_batch:
        Most events in one batch intake, most fixes in one position batch.
    page_limit_max:
        Most features in one GeoJSON / OGC API page.
    tiles_recent_days:
        An events tile holds the open events and those reported in the last this many days
        (``GRIDWALL_API_TILES_RECENT_DAYS``); ``?all=true`` asks for every event.
    stream_heartbeat_s:
        Seconds between keep-alive comments on the live feed (proxies drop
        silent connections).
    event_earliest, event_future_s:
        An event's ``reported_at`` must lie between ``event_earliest`` and now
        plus ``event_future_s`` (a sender's clock may run a little fast);
        anything else is a 422 on ``reported_at``.
    fix_margin_m, fix_future_s:
        A worker's fix must lie within ``fix_margin_m`` metres of the district
        and be dated no later than now plus ``fix_future_s`` (a fix from 2099
        would make every real fix after it "stale").
    key_failures_max, key_failures_window_s:
        A client address that presents ``key_failures_max`` unknown keys within
        ``key_failures_window_s`` seconds is answered 429 (``Retry-After``)
        until the window has passed, even with a good key.
    max_headers, max_header_bytes:
        A request with more header lines, or more header bytes in all, is
        refused with 431 before any route runs.
    stream_key_recheck_s:
        How often an open live-feed stream checks that its key is still
        issued; a revoked key's stream ends within about this time.
    workers:
        Processes ``gridwall serve`` starts (``GRIDWALL_API_WORKERS``, or
        ``--workers``), each with its own pool of ``pool_size`` connections
        and its own listening connection for the live feed (LISTEN/NOTIFY,
        so every process's streams see every commit). One by default: on
        two cores a second process pays off only for CPU-bound work (tiles,
        big GeoJSON pages); see ``bench/bench_concurrency.py``.
    session_secret:
        Signs the session tokens of people who sign in (``GRIDWALL_API_SESSION_SECRET``); every process of one
        service needs the same. Unset, each process draws its own at start (fine for one process: ``gridwall
        up`` and ``serve`` keep one in the store's folder instead).
    session_ttl_s, display_session_ttl_s:
        How long a person's session lasts (a working shift and more); a ``wall`` person's (a display account of a
        wall left on for weeks) lasts the second.
    person_recheck_s:
        How stale the service's copy of a person may be: a disabled person's sessions end within this time.
    wall_key:
        The wall server's own key (``GRIDWALL_API_WALL_KEY``), role ``wall``: what the Dash server reads for the
        payloads it caches for everyone (basemap, 3-D panel). People's actions go with their own sessions.
    supervise_every_s:
        Seconds between the supervisor's rounds, which flag and escalate
        overdue events (督办) without anyone's call (:mod:`api.supervisor`);
        0 turns the schedule off (``POST /events/overdue`` still works).
        Every process runs it; an advisory lock lets one do each round.
    fix_max_age_s:
        A worker's position older than this is not used for dispatch: the
        worker is listed as position unknown, not ranked by distance.
    network_top:
        How many of the straight-line nearest workers dispatch re-ranks by
        street (network) distance.
    partition:
        The district's grid bands and search effort, used by a partition job
        whose request names no ``params`` (``GRIDWALL_API_PARTITION``, JSON,
        e.g. ``{"profiles": {...}, "repair_effort": 100}``).
    """

    model_config = SettingsConfigDict(env_prefix="GRIDWALL_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    title: str = "gridwall"
    environment: Literal["development", "production", "staging", "test"] = "development"
    keys_file: Path | None = None
    admin_key: SecretStr | None = None
    max_batch: int = Field(default=1000, ge=1, le=100_000)
    page_limit_max: int = Field(default=10_000, ge=10, le=100_000)
    page_limit_default: int = Field(default=100, ge=1, le=10_000)
    stream_heartbeat_s: float = Field(default=15.0, gt=0, le=300)
    stream_queue: int = Field(default=1000, ge=10, le=100_000)
    tile_max_age: dict[str, int] = Field(default_factory=lambda: dict(TILE_MAX_AGE))
    tiles_recent_days: float = Field(default=7.0, ge=0, le=3660)
    partition: PartitionParams = Field(default_factory=PartitionParams)
    event_earliest: datetime = datetime(2000, 1, 1, tzinfo=UTC)
    event_future_s: float = Field(default=300.0, ge=0, le=86_400)
    fix_margin_m: float = Field(default=2000.0, ge=0, le=100_000)
    fix_future_s: float = Field(default=120.0, ge=0, le=86_400)
    key_failures_max: int = Field(default=20, ge=1, le=100_000)
    key_failures_window_s: float = Field(default=60.0, gt=0, le=86_400)
    max_headers: int = Field(default=100, ge=10, le=1000)
    max_header_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    stream_key_recheck_s: float = Field(default=5.0, gt=0, le=300)
    supervise_every_s: float = Field(default=60.0, ge=0, le=86_400)
    fix_max_age_s: float = Field(default=FIX_MAX_AGE_S, gt=0, le=30 * 86_400)
    network_top: int = Field(default=NETWORK_TOP, ge=0, le=50)

    @property
    def report_times(self) -> PlausibleReportTimes:
        """The window an event's ``reported_at`` must fall in."""
        return PlausibleReportTimes(earliest=self.event_earliest, skew=timedelta(seconds=self.event_future_s))
    workers: int = Field(default=1, ge=1, le=32)
    session_secret: SecretStr | None = None
    session_ttl_s: float = Field(default=12 * 3600.0, ge=60, le=90 * 86_400)
    display_session_ttl_s: float = Field(default=31 * 86_400.0, ge=60, le=366 * 86_400)
    person_recheck_s: float = Field(default=5.0, gt=0, le=300)
    wall_key: SecretStr | None = None

    @model_validator(mode="after")
    def _secrets_not_left_at_placeholders(self) -> ApiSettings:
        if self.page_limit_default > self.page_limit_max:
            raise ValueError("page_limit_default is larger than page_limit_max")
        if self.event_earliest.tzinfo is None:
            raise ValueError("event_earliest needs a time zone (e.g. 2000-01-01T00:00:00Z)")
        if self.environment == "development":
            if self.admin_key is None and self.keys_file is None and not _is_loopback(self.host):
                raise ValueError(f"a development service without API keys lets every caller in as admin, so it "
                                 f"listens on loopback only, not on {self.host}; set GRIDWALL_API_KEYS_FILE "
                                 "(or GRIDWALL_API_ADMIN_KEY) to listen beyond this machine")
            return self
        if self.admin_key is not None:
            value = self.admin_key.get_secret_value()
            if value.strip().lower() in PLACEHOLDER_SECRETS or len(value) < 24:
                raise ValueError(
                    "GRIDWALL_API_ADMIN_KEY is a placeholder or shorter than 24 characters; "
                    "make one with `python -m api.security new admin`"
                )
        if self.admin_key is None and self.keys_file is None:
            raise ValueError(f"no API keys configured for environment '{self.environment}': set "
                             "GRIDWALL_API_KEYS_FILE (or GRIDWALL_API_ADMIN_KEY)")
        if self.keys_file is not None and not self.keys_file.is_file():
            raise ValueError(f"GRIDWALL_API_KEYS_FILE {self.keys_file} does not exist")
        return self
