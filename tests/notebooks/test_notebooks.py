"""The analysts' notebooks run top to bottom against the small demo district, and are committed without outputs.

Each notebook runs in a fresh kernel of this interpreter (a kernel spec written to a temporary Jupyter path,
so nothing needs ``ipykernel install``), with ``GRIDWALL_DATABASE_URL`` pointing at the test store and its
working folder in ``tmp_path`` (the files a notebook writes land there). The test store is shared by the
session, so a notebook must leave no writes behind: the audit log and the grid versions are counted before
and after.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from sqlalchemy import Engine, text

from grid_partition import PartitionParams
from layers.settings import DatabaseSettings

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
BOOKS = sorted(NOTEBOOKS.glob("*.ipynb"))
#: a hang guard, not a speed check: the slowest cell takes seconds with the quick partition parameters
CELL_TIMEOUT_S = 600


def test_there_are_notebooks() -> None:
    assert {p.name[:2] for p in BOOKS} >= {"01", "02", "03", "04", "05", "06"}


@pytest.mark.parametrize("path", BOOKS, ids=[p.stem for p in BOOKS])
def test_committed_notebook_has_no_outputs(path: Path) -> None:
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    dirty = [i for i, c in enumerate(book.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; run notebooks/strip_outputs.py before committing"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Jupyter data folder with a kernel spec that runs this very interpreter."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "gridwall-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gridwall tests", "language": "python",
    }))
    return root


def _store_writes(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.execute(text(
            "SELECT (SELECT count(*) FROM audit_log), (SELECT count(*) FROM grid_version),"
            " (SELECT coalesce(sum(population), 0) FROM building)"
        )).one())


@pytest.mark.parametrize("path", BOOKS, ids=[p.stem for p in BOOKS])
def test_notebook_runs_against_the_demo_district(path: Path, kernel_path: Path, db_settings: DatabaseSettings,
                                                 engine: Engine, small_district: dict, tmp_path: Path,
                                                 quick_params: PartitionParams,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("GRIDWALL_DATABASE_URL", db_settings.url)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("GRIDWALL_NOTEBOOK_PARTITION", quick_params.model_dump_json())
    book = nbformat.read(path, as_version=4)
    before = _store_writes(engine)
    NotebookClient(book, kernel_name="gridwall-test", timeout=CELL_TIMEOUT_S,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert _store_writes(engine) == before, f"{path.name} left writes in the store"
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert all(c.execution_count for c in book.cells if c.cell_type == "code")
