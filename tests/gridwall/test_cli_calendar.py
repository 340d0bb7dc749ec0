"""gridwall calendar load | set | show against the test store (committed, and removed again)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from gridwall.cli import cli
from layers.errors import LoadError, UnknownCalendarYear

# a far year no other test counts deadlines in; the dates are this test's own, not an official notice
YEAR_2040 = "date,working,name\n2040-01-01,off,元旦\n2040-02-11,休,春节\n2040-02-18,班,春节调休\n"


@pytest.fixture
def runner(db_settings, monkeypatch, engine, small_district):
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", db_settings.url)
    yield CliRunner()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM calendar_day WHERE day BETWEEN '2039-12-01' AND '2040-12-31'"))
        conn.execute(text("DELETE FROM calendar_year WHERE year = 2040"))
        conn.execute(text("DELETE FROM audit_log WHERE actor = 'cli-calendar-test'"))
        conn.execute(text("UPDATE calendar_revision SET rev = CAST(floor(random() * 9.2e18) AS bigint)"))


def test_load_set_and_show_a_year_each_write_audited(runner, engine, tmp_path):
    unknown = runner.invoke(cli, ["calendar", "show", "--year", "2040"])
    assert isinstance(unknown.exception, UnknownCalendarYear) and unknown.exception.year == 2040
    path = tmp_path / "2040.csv"
    path.write_text(YEAR_2040, encoding="utf-8")
    loaded = runner.invoke(cli, ["calendar", "load", str(path), "--actor", "cli-calendar-test"])
    assert loaded.exit_code == 0, loaded.output
    assert "2040 declared from 2040.csv: 2 days off, 1 调休 days worked" in loaded.output
    result = runner.invoke(cli, ["calendar", "set", "2040-02-13", "--off", "--name", "春节",
                                 "--actor", "cli-calendar-test"])
    assert result.exit_code == 0 and "2040-02-13: off (春节)" in result.output
    shown = runner.invoke(cli, ["calendar", "show", "--year", "2040"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith("2040-01-01 日  休  元旦\tstore: cli-calendar-test")
    assert any(line.startswith("2040-02-18 六  班  春节调休") for line in lines)
    assert lines[-1] == "2040: 3 days off, 1 调休 days worked"
    with engine.connect() as conn:
        actions = conn.execute(text("SELECT action, entity_id FROM audit_log WHERE actor = 'cli-calendar-test' "
                                    "ORDER BY id")).all()
    assert [tuple(a) for a in actions] == [("calendar_load", "2040"), ("calendar_set", "2040-02-13")]


def test_writes_need_a_named_actor_and_a_readable_file(runner, tmp_path):
    result = runner.invoke(cli, ["calendar", "set", "2040-02-13", "--off"])
    assert result.exit_code != 0 and "--actor" in result.output
    path = tmp_path / "bad.csv"
    path.write_text("day,off\n2040-01-01,1\n", encoding="utf-8")
    result = runner.invoke(cli, ["calendar", "load", str(path), "--actor", "cli-calendar-test"])
    assert isinstance(result.exception, LoadError) and "date,working,name" in str(result.exception)
