"""gis_data.gridbench on a small district drawn by gridbench's own make_city, scored by its own evaluate."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from gis_data.gridbench import read_gridbench, run_partition_file, write_assignment_csv
from grid_partition import PartitionInputError, adjacency_from_cells

# the independent yardstick lives in shared/ beside the repository (CI has it too): missing it is a failure
GRIDBENCH = Path(os.environ.get("GRIDBENCH_DIR", Path(__file__).resolve().parents[3] / "shared" / "gridbench"))


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gridbench") / "city.gpkg"
    subprocess.run([sys.executable, str(GRIDBENCH / "make_city.py"), "--buildings", "600", "--seed", "3",
                    "--out", str(out)], check=True, capture_output=True)
    return out


def _evaluate(city: Path, csv: Path) -> dict:
    res = subprocess.run([sys.executable, str(GRIDBENCH / "evaluate.py"), str(city), str(csv)], check=True,
                         capture_output=True, text=True)
    return json.loads(res.stdout)


def test_read_gridbench(city):
    d = read_gridbench(city)
    n = len(d.units)
    assert n == 600
    assert {"unit_id", "households", "population", "zone", "block_id", "grid_prev"} <= set(d.units.columns)
    assert set(d.units["zone"]) == {"inner", "outer"}
    assert len(d.cells) == n and d.cells.index.equals(d.units.index)
    # every cell contains its own building's centre: the cells are aligned with the units
    inside = d.cells.contains(d.units.geometry.centroid, align=False)
    assert inside.mean() > 0.99
    assert set(d.adjacency["kind"]) == {"block", "street", "arterial"}


def test_partition_file_agrees_with_the_scorer(city, tmp_path):
    csv, rep_path = tmp_path / "a.csv", tmp_path / "r.json"
    seen = []
    rep = run_partition_file(city, csv, report_path=rep_path, progress=lambda f, m: seen.append(f))
    a = pd.read_csv(csv)
    assert list(a.columns) == ["unit_id", "grid_id"]
    assert len(a) == 600 and a["unit_id"].is_unique
    assert seen[-1] == 1.0
    score = _evaluate(city, csv)
    assert score["n_unassigned"] == 0
    assert score["n_grids"] == rep.n_grids
    assert score["share_grids_within_bounds"] == rep.share_grids_within_bounds
    assert score["share_grids_hh_ok"] == rep.share_grids_hh_ok
    assert score["share_grids_pop_ok"] == rep.share_grids_pop_ok
    assert score["all_contiguous"] is rep.all_contiguous is True
    assert score["mean_polsby_popper"] == pytest.approx(rep.mean_polsby_popper, abs=1e-4)
    assert score["share_cut_border_inside_blocks"] == pytest.approx(rep.share_cut_border_inside_blocks, abs=1e-4)
    saved = json.loads(rep_path.read_text())
    assert saved["share_grids_within_bounds"] == rep.share_grids_within_bounds
    assert len(saved["grids"]) == rep.n_grids


def test_rebalance_file_agrees_with_the_scorer(city, tmp_path):
    csv = tmp_path / "b.csv"
    rep = run_partition_file(city, csv, rebalance=True)
    assert rep.mode == "rebalance"
    score = _evaluate(city, csv)
    assert score["share_grids_within_bounds"] == rep.share_grids_within_bounds
    assert score["all_contiguous"] is rep.all_contiguous
    assert score["changed_units_share"] == pytest.approx(rep.changed_units_share, abs=1e-4)
    assert score["changed_households_share"] == pytest.approx(rep.changed_households_share, abs=1e-4)
    assert rep.n_changed_units == len(rep.changes)
    # the grids kept by the rebalance carry their old names
    prev = read_gridbench(city).units.set_index("unit_id")["grid_prev"]
    a = pd.read_csv(csv).set_index("unit_id")["grid_id"]
    kept = [r.grid_id for r in rep.grids if r.status == "kept"]
    assert kept and all(set(prev[a == g]) == {g} for g in kept)


def test_adjacency_from_cells_matches_the_generator(city):
    d = read_gridbench(city)
    cells = gpd.GeoSeries(d.cells.values, index=d.units["unit_id"].to_numpy())
    streets = pyogrio.read_dataframe(city, layer="streets")
    ours = adjacency_from_cells(cells, d.units["block_id"].to_numpy(),
                                streets.geometry[streets["kind"] == "arterial"])
    theirs = d.adjacency
    key = lambda df: set(zip(np.minimum(df["u"], df["v"]), np.maximum(df["u"], df["v"])))  # noqa: E731
    a, b = key(ours), key(theirs)
    assert len(a & b) / len(a | b) > 0.99
    m = ours.merge(theirs, on=["u", "v"], suffixes=("", "_gen"))
    assert (m["kind"] == m["kind_gen"])[m["kind_gen"] == "block"].all()
    assert (m["kind"] == m["kind_gen"]).mean() > 0.97
    assert np.allclose(m["border_m"], m["border_m_gen"], atol=0.05)


def test_missing_household_column_is_refused(city, tmp_path):
    units = pyogrio.read_dataframe(city, layer="units").drop(columns=["hh"])
    bad = tmp_path / "bad.gpkg"
    units.to_file(bad, layer="units", driver="GPKG", engine="pyogrio")
    with pytest.raises(PartitionInputError, match=r"missing column\(s\) \['hh'\]"):
        run_partition_file(bad, tmp_path / "x.csv")


def test_write_assignment_csv(tmp_path):
    write_assignment_csv(pd.Series(["G1", "G2"], index=pd.Index([5, 7], name="unit_id")), tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text().splitlines() == ["unit_id,grid_id", "5,G1", "7,G2"]
