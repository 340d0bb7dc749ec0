"""Running a worked example of README's "Bring your own district" as a user runs it.

Each ``examples/<district>/load.sh`` is run with bash against a fresh database
of the test cluster, reading the real files in ``../shared/realdata`` unchanged
(they are for tests only and never copied into the repository). One file per
example, so that the test workers share them out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from layers.db import make_engine
from layers.settings import DatabaseSettings

ROOT = Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata"


def run_example(name: str, cluster, tmp_path: Path):
    """Run one example's load.sh against a fresh database; return an engine on it and the script's output."""
    url = cluster.create_database(f"example_{name}")
    env = {**os.environ, "GRIDWALL_DATABASE_URL": url, "REALDATA": str(REALDATA), "REJECTS_DIR": str(tmp_path),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("GRIDWALL_DATABASE_DATA_DIR", None)
    done = subprocess.run(["bash", f"examples/{name}/load.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return make_engine(DatabaseSettings(url=url, fsync=False)), done.stdout
