"""What the command-line tests share: a gridwall home of their own for `gridwall up`."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from layers.cluster import LocalCluster, free_port


@dataclass
class UpHome:
    home: Path           # GRIDWALL_HOME: the cluster in pg/, this machine's secrets beside it
    port: int            # the API's
    wall_port: int
    env: dict[str, str]  # the environment a `gridwall up` runs with: no GRIDWALL_* of the caller's but these


@pytest.fixture
def up_home() -> Iterator[UpHome]:
    """A home under /tmp (never the machine's default one) and two free ports; the cluster and the home are
    removed afterwards."""
    home = Path(tempfile.mkdtemp(prefix="gridwall-up-", dir="/tmp"))
    home.chmod(0o711)  # the postgres user walks through it to its data folder
    port, wall_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWALL_")}
    env |= {"GRIDWALL_HOME": str(home), "GRIDWALL_API_PORT": str(port), "GRIDWALL_WALL_PORT": str(wall_port)}
    try:
        yield UpHome(home, port, wall_port, env)
    finally:
        if (home / "pg").exists():
            LocalCluster(home / "pg").destroy()
        shutil.rmtree(home, ignore_errors=True)
