"""API settings (env prefix ``GRIDWALL_API_``).

Secrets never live in code: API keys are read from a keys file named here
(stored as SHA-256 digests, see :mod:`api.security`), and an optional
bootstrap admin key comes from the environment. Outside ``development`` a
placeholder or short bootstrap key is refused at start, and so is a service
with no key at all (it could only answer ``/health``).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    stream_heartbeat_s:
        Seconds between keep-alive comments on the live feed (proxies drop
        silent connections).
    workers:
        Processes ``gridwall serve`` starts (``GRIDWALL_API_WORKERS``, or
        ``--workers``), each with its own pool of ``pool_size`` connections
        and its own listening connection for the live feed (LISTEN/NOTIFY,
        so every process's streams see every commit). One by default: on
        two cores a second process pays off only for CPU-bound work (tiles,
        big GeoJSON pages); see ``bench/bench_concurrency.py``.
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
    partition: PartitionParams = Field(default_factory=PartitionParams)
    workers: int = Field(default=1, ge=1, le=32)

    @model_validator(mode="after")
    def _secrets_not_left_at_placeholders(self) -> ApiSettings:
        if self.page_limit_default > self.page_limit_max:
            raise ValueError("page_limit_default is larger than page_limit_max")
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
