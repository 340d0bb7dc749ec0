"""A living demo from the command line: `gridwall demo` ends its events when told, the simulator files new ones.

A database of its own: the simulator commits events through a real API, which
the shared small district's rolled-back tests must never see.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gridwall.cli import cli
from gridwall.simulate import SIMULATOR_KEY_NAME, Simulator, keys_file_entry
from layers.db import make_engine, migrate
from layers.settings import DatabaseSettings
from tests.app.conftest import KEY, serve_api

#: a Monday afternoon in Changsha
END = "2026-12-07T14:59:00+08:00"
SIM_KEY = "simulator-test-key-0123456789abcdef"


@pytest.fixture(scope="module")
def living_db(cluster):
    """A store holding the small demo district loaded through `gridwall demo --end`."""
    settings = DatabaseSettings(url=cluster.create_database("living_demo"), fsync=False)
    engine = make_engine(settings)
    migrate(engine)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDWALL_DATABASE_URL", settings.url)
        result = CliRunner().invoke(cli, ["demo", "--scale", "small", "--end", END])
    assert result.exit_code == 0, result.output
    yield settings, engine, result.output
    engine.dispose()


def test_demo_loads_events_ending_at_the_given_end(living_db):
    _, engine, output = living_db
    assert "events until 2026-12-07 06:59:00+00:00" in output
    with engine.connect() as conn:
        newest, oldest, moved = conn.execute(text(
            "SELECT max(reported_at), min(reported_at), (SELECT max(at) FROM event_history) FROM event")).one()
    end = pd.Timestamp(END)
    assert newest <= end and moved <= end
    assert newest > end - pd.Timedelta(hours=12) and oldest > end - pd.Timedelta(days=366)


def test_demo_refuses_an_end_without_a_zone(runner_env):
    result = CliRunner().invoke(cli, ["demo", "--scale", "small", "--end", "2026-12-07 14:59"])
    assert result.exit_code != 0 and "time zone" in result.output


@pytest.fixture
def runner_env(db_settings, monkeypatch):
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", db_settings.url)


def test_one_round_of_the_simulator_files_events_seen_through_the_api(living_db, tmp_path):
    import httpx

    settings, engine, _ = living_db
    keys = tmp_path / "keys.toml"
    keys.write_text(keys_file_entry(SIM_KEY))
    with serve_api(settings, keys_file=keys) as url, \
            httpx.Client(base_url=url, headers={"X-API-Key": SIM_KEY}, timeout=60) as sim_client, \
            httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=60) as admin:
        sim = Simulator(sim_client, seed=3)
        filed = sim.step(3)
        assert len(filed) == 3 and sim.sent == 3
        newest = admin.get("/events", params={"limit": 10}).json()
        listed = {e["id"] for e in newest["events"]}
        assert {e["id"] for e in filed} <= listed, newest
        one = admin.get(f"/events/{filed[0]['id']}").json()
        assert one["history"][0]["actor"] == f"operator:{SIMULATOR_KEY_NAME}"
        assert 20 <= sim.pause() <= 60
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT e.external_id, e.grid_id IS NOT NULL, a.actor FROM event e JOIN audit_log a "
            "ON a.entity = 'event' AND a.entity_id = e.id::text WHERE e.id = ANY(:ids)"),
            {"ids": [e["id"] for e in filed]}).all()
    assert rows and all(ext.startswith("SIM-") and actor == "operator:simulator" for ext, _, actor in rows)
    assert all(in_grid for _, in_grid, _ in rows), "a simulated event fell outside the district's grids"
