"""Database settings: the pool checks are settings, off by default, and the engine honours them."""

from __future__ import annotations

from sqlalchemy import text

from layers.db import make_engine
from layers.settings import DatabaseSettings


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
