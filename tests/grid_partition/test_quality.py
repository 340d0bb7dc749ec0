"""Plan figures a count of grids cannot fool, and the verdict that one plan is worse than another."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from grid_partition import BandPartitioner, PartitionParams, plan_quality, worse_than


def _units(hh: list[float], zone: str = "outer") -> pd.DataFrame:
    hh = np.asarray(hh, float)
    return pd.DataFrame({"households": hh, "population": hh * 2.0, "zone": [zone] * len(hh)})


def test_figures_of_a_plan():
    # outer band: 300-500 households, 600-1,000 people
    units = _units([200, 200, 150, 150, 100, 100])
    q = plan_quality(units, ["a", "a", "b", "b", "c", "c"])
    assert (q.n_grids, q.n_in_band) == (3, 2)  # a 400 and b 300 in band, c 200 under
    assert q.share_in_band == pytest.approx(2 / 3, abs=1e-4)
    assert q.households_in_band_share == pytest.approx(700 / 900, abs=1e-4)
    assert q.worst_violation == pytest.approx((300 - 200) / 300, abs=1e-3)
    assert q.n_blobs == 0


def test_folding_grids_into_one_blob_is_worse_though_fewer_grids_are_out():
    units = _units([200] * 10)
    # five grids of 400 households, all in band, against everything folded into two grids
    good = plan_quality(units, [i // 2 for i in range(10)])
    folded = plan_quality(units, [0] * 9 + [1])
    assert good.n_in_band == 5 and folded.n_in_band == 0
    assert folded.n_blobs == 1 and folded.worst_violation > 1.0
    why = worse_than(folded, good)
    assert any("in band" in w for w in why) and any("twice their cap" in w for w in why)
    assert worse_than(good, folded) == []


def test_a_single_tower_over_its_cap_is_not_a_blob():
    q = plan_quality(_units([1500, 400]), [0, 1])
    assert q.n_blobs == 0 and q.worst_violation == pytest.approx(2.0, abs=1e-3)


def test_units_without_a_grid_are_left_out():
    q = plan_quality(_units([400, 400, 50]), ["a", "b", None])
    assert q.n_grids == 2 and q.households_in_band_share == 1.0


def test_a_rebalance_of_under_full_grids_draws_grids_in_band_not_a_blob(lattice):
    # a 4 x 12 block of 48 units of 100 households, all in 24 grids of two units (200: under the 300 floor)
    units, cells, adj = lattice(4, 12, [100] * 48)
    current = [(i // 12) * 6 + (i % 12) // 2 for i in range(48)]
    part = BandPartitioner(units, adj, PartitionParams(), cells=cells).rebalance(current)
    labels = part.labels_.reindex(units["unit_id"]).to_numpy()
    q, before = plan_quality(units, labels), plan_quality(units, current)
    assert before.n_in_band == 0
    assert q.n_blobs == 0 and q.worst_violation <= 0.25
    assert q.n_in_band >= 9 and 9 <= q.n_grids <= 16  # 4,800 households: 10 to 16 grids of 300-500
    assert worse_than(q, before) == []
