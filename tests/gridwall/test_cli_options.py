"""The command line's own options: ``--version`` from the installed package's metadata, and ``-v`` the only way to
see the migration tool's chatter."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from click.testing import CliRunner

from gridwall.cli import cli

REPO = Path(__file__).resolve().parents[2]


def _gridwall(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``python -m gridwall ARGS`` in a process of its own (logging is set up once per process, by the command)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GRIDWALL_")}
    return subprocess.run([sys.executable, "-m", "gridwall", *args], env=clean | {"PYTHONPATH": str(REPO)} | env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_version_is_the_installed_package_s():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output == f"gridwall {version('gridwall')}\n"


def test_store_commands_print_no_migration_noise_unless_verbose(cluster):
    env = {"GRIDWALL_DATABASE_URL": cluster.create_database("cli_quiet")}
    quiet = _gridwall("db", "migrate", env=env)  # a new database: every migration runs
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "schema migrated\n" and "alembic" not in quiet.stderr, quiet.stderr
    verbose = _gridwall("-v", "db", "migrate", env=env)
    assert verbose.returncode == 0, verbose.stderr
    assert "alembic.runtime.migration" in verbose.stderr


def test_a_folder_that_shadows_one_of_the_packages_is_refused_by_name(cluster, tmp_path):
    """``python -m gridwall`` puts the working folder first on sys.path: an ``app/`` there is not the wall's."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    shadowed = subprocess.run([sys.executable, "-m", "gridwall", "db", "migrate"], cwd=tmp_path,
                              env=os.environ | {"PYTHONPATH": str(REPO),
                                                "GRIDWALL_DATABASE_URL": cluster.create_database("cli_shadow")},
                              capture_output=True, text=True, timeout=120, check=False)
    assert shadowed.returncode == 1
    assert f"the package 'app' is {tmp_path / 'app'}, not gridwall's (in {REPO})" in shadowed.stderr
