"""`gridwall up --production`: the store, the API under uvicorn workers and the wall under gunicorn, in one command."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx


def _answers(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
        return True
    except httpx.TransportError:
        return False


def test_up_production_serves_the_api_with_workers_and_the_wall_with_gunicorn_and_stops_both(tmp_path, up_home):
    port, wall_port, env = up_home.port, up_home.wall_port, {**up_home.env, "GRIDWALL_DATABASE_POOL_SIZE": "4"}
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
    assert not _answers(f"http://127.0.0.1:{wall_port}/login"), "the wall outlived `gridwall up`"
