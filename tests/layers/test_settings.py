"""Database settings: the pool checks are settings, off by default, and the engine honours them; the embedded store
lives in the gridwall home, per user, wherever the command or the notebook runs."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from layers.db import make_engine
from layers.settings import DatabaseSettings, HomeSettings, default_home


def test_pool_pre_ping_is_off_by_default_and_set_from_the_environment(monkeypatch, db_settings):
    monkeypatch.delenv("GRIDWALL_DATABASE_POOL_PRE_PING", raising=False)
    assert DatabaseSettings(url=db_settings.url).pool_pre_ping is False
    monkeypatch.setenv("GRIDWALL_DATABASE_POOL_PRE_PING", "true")
    monkeypatch.setenv("GRIDWALL_DATABASE_POOL_RECYCLE_S", "600")
    on = DatabaseSettings(url=db_settings.url)
    assert on.pool_pre_ping is True and on.pool_recycle_s == 600


def test_the_engine_pings_only_when_asked(db_settings):
    for ping in (False, True):
        engine = make_engine(db_settings.model_copy(update={"pool_pre_ping": ping, "pool_recycle_s": 900}))
        try:
            assert engine.pool._pre_ping is ping and engine.pool._recycle == 900
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
        finally:
            engine.dispose()


def test_the_store_is_found_from_any_folder_in_the_gridwall_home(monkeypatch, tmp_path):
    """A notebook opened in notebooks/ and a command run at the top of the checkout find the same store."""
    monkeypatch.delenv("GRIDWALL_DATABASE_DATA_DIR", raising=False)
    monkeypatch.setenv("GRIDWALL_HOME", str(tmp_path / "home"))
    found = set()
    for folder in (tmp_path, tmp_path / "notebooks"):
        folder.mkdir(exist_ok=True)
        monkeypatch.chdir(folder)
        found.add(DatabaseSettings().data_dir)
    assert found == {tmp_path / "home" / "pg"}
    assert HomeSettings().secret("api-admin-key") == tmp_path / "home" / "api-admin-key"


def test_the_cluster_folder_may_live_elsewhere_while_the_secrets_stay_home(monkeypatch, tmp_path):
    monkeypatch.setenv("GRIDWALL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GRIDWALL_DATABASE_DATA_DIR", str(tmp_path / "disk" / "pg"))
    assert DatabaseSettings().data_dir == tmp_path / "disk" / "pg"
    assert HomeSettings().secret("session-secret") == tmp_path / "home" / "session-secret"


def test_a_relative_home_is_made_absolute_once(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRIDWALL_HOME", "var")
    assert HomeSettings().home == tmp_path / "var"


def test_the_default_home_is_per_user(monkeypatch, tmp_path):
    """``$XDG_DATA_HOME/gridwall``; without it ``~/.local/share/gridwall``, or /var/lib/gridwall for root (whose home
    the postgres user running the embedded cluster cannot enter)."""
    monkeypatch.delenv("GRIDWALL_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_home() == HomeSettings().home == tmp_path / "data" / "gridwall"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    mine = Path("/var/lib/gridwall") if os.geteuid() == 0 else tmp_path / "me" / ".local" / "share" / "gridwall"
    assert default_home() == mine
    monkeypatch.setenv("XDG_DATA_HOME", "relative/data")  # the XDG rule: a relative value is ignored
    assert default_home() == mine
