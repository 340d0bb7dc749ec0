"""``gridwall serve --workers N``: each worker process rebuilds the settings the command line made."""

from __future__ import annotations

from api.settings import ApiSettings
from gridwall.cli import _environment_of


def test_a_worker_builds_from_the_environment_the_settings_the_command_line_made(monkeypatch):
    made = ApiSettings(port=18123, workers=3, admin_key="k" * 32, tile_max_age={"events": 1},
                       environment="staging")
    for name, value in _environment_of(made).items():
        monkeypatch.setenv(name, value)
    assert ApiSettings() == made
