"""The README's first command, end to end: `gridwall up` brings up a server that answers."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx


def test_up_starts_the_store_loads_the_demo_and_serves(tmp_path, up_home):
    home, port, wall_port, env = up_home.home, up_home.port, up_home.wall_port, up_home.env
    gridwall = Path(sys.executable).parent / "gridwall"
    log = tmp_path / "up.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(gridwall), "up", "--scale", "small"], env=env, cwd=tmp_path,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        body = None
        key_file = home / "api-admin-key"
        while time.monotonic() < deadline and proc.poll() is None:
            try:  # with a key: a stranger is told only up or down, not the grid version
                known = {"X-API-Key": key_file.read_text().strip()} if key_file.exists() else {}
                response = httpx.get(f"http://127.0.0.1:{port}/health", headers=known, timeout=2)
                if response.status_code == 200:
                    body = response.json()
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        assert body is not None, log.read_text()[-3000:]
        assert body["status"] == "ok" and body["current_grid_version"] is not None
        key = key_file.read_text().strip()
        counts = httpx.get(f"http://127.0.0.1:{port}/layers/counts", headers={"X-API-Key": key}, timeout=5).json()
        assert counts["buildings"] > 1000 and counts["grids"] > 20
        wall = None
        while time.monotonic() < deadline and wall is None:
            try:
                wall = httpx.get(f"http://127.0.0.1:{wall_port}/wall", headers={"Accept": "text/html"}, timeout=10)
            except httpx.TransportError:
                time.sleep(0.5)
        assert wall is not None and wall.status_code == 302 and "/login" in wall.headers["location"]
        # the newcomer signs in as the first admin, with the password the command put in a file of the owner's
        password = home / "first-admin-password"
        assert password.stat().st_mode & 0o077 == 0
        with httpx.Client(base_url=f"http://127.0.0.1:{wall_port}", timeout=30) as browser:
            csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/login").text)[1]
            signed = browser.post("/login", data={"login": "admin", "password": password.read_text().strip(),
                                                  "csrf": csrf, "next": "/wall"})
            assert signed.status_code == 302 and signed.headers["location"] == "/wall"
            wall = browser.get("/wall")
        assert wall.status_code == 200 and "_dash" in wall.text, log.read_text()[-3000:]
        printed = log.read_text()  # the URLs are printed for the newcomer
        assert f"http://127.0.0.1:{port}/" in printed and f"http://127.0.0.1:{wall_port}/" in printed
    finally:
        proc.terminate()
        proc.wait(timeout=30)
