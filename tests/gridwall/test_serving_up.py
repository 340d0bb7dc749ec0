"""`gridwall up --production`: the store, the API under uvicorn workers and the wall under gunicorn, in one command."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from layers.cluster import LocalCluster, free_port


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
        return True
    except httpx.TransportError:
        return False


def test_up_production_serves_the_api_with_workers_and_the_wall_with_gunicorn_and_stops_both(tmp_path):
    home = Path(tempfile.mkdtemp(prefix="gridwall-up-prod-", dir="/tmp"))
    home.chmod(0o711)  # the postgres user walks through it to its data folder
    data_dir = home / "pg"
    port, wall_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWALL_")}
    env |= {"GRIDWALL_DATABASE_DATA_DIR": str(data_dir), "GRIDWALL_API_PORT": str(port),
            "GRIDWALL_WALL_PORT": str(wall_port), "GRIDWALL_DATABASE_POOL_SIZE": "4"}
    log = tmp_path / "up.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "gridwall"), "up", "--production", "--scale",
                                 "small"], env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while not (_answers(f"http://127.0.0.1:{port}/health") and _answers(f"http://127.0.0.1:{wall_port}/login")):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.5)
        printed = log.read_text()
        assert "2 worker(s)" in printed and "Using worker: gthread" in printed, printed[-3000:]
        httpx.get(f"http://127.0.0.1:{wall_port}/login", params={"key": "SECRET"}, timeout=10)
        while "GET /login?key=*** 200 " not in log.read_text():  # the wall's request log, keys redacted
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        assert "SECRET" not in log.read_text()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        try:
            assert not _answers(f"http://127.0.0.1:{wall_port}/login"), "the wall outlived `gridwall up`"
        finally:
            LocalCluster(data_dir).destroy()
            for secret in ("api-admin-key", "api-wall-key", "session-secret", "wall-cookie-secret",
                           "first-admin-password"):
                (home / secret).unlink(missing_ok=True)
