"""Rebalance: keep what is in band, re-draw what is not, change as little as possible."""
from __future__ import annotations

import numpy as np
import pandas as pd

from grid_partition import BandPartitioner, PartitionParams


def test_all_in_band_changes_nothing(lattice):
    rng = np.random.default_rng(2)
    hh = rng.integers(5, 60, 10 * 10)
    units, cells, adj = lattice(10, 10, hh)
    first = BandPartitioner(units, adj, PartitionParams(seed=1)).solve()
    assert first.report_.share_grids_within_bounds == 1.0
    again = BandPartitioner(units, adj, PartitionParams(seed=1)).rebalance(first.labels_)
    assert again.labels_.equals(first.labels_)
    rep = again.report_
    assert rep.mode == "rebalance"
    assert rep.n_changed_units == 0 and rep.changed_units_share == 0.0 and rep.changed_households_share == 0.0
    assert rep.changes == []
    assert rep.n_grids_kept == rep.n_grids == rep.n_grids_before and rep.n_grids_redrawn == 0
    assert all(r.status == "kept" and r.in_band_before for r in rep.grids)


def test_over_full_grid_is_split_and_the_others_kept(lattice, groups):
    units, cells, adj = lattice(1, 8, [180] * 8)
    current = pd.Series(["A", "A", "B", "B", "B", "B", "C", "C"], index=units["unit_id"])
    part = BandPartitioner(units, adj).rebalance(current)
    lab = part.labels_
    assert groups(lab) == {frozenset({0, 1}), frozenset({2, 3}), frozenset({4, 5}), frozenset({6, 7})}
    assert lab[0] == "A" and lab[6] == "C"
    rep = part.report_
    assert rep.share_grids_within_bounds == 1.0
    assert rep.n_changed_units == 2 and rep.changed_units_share == 0.25
    assert {c.grid_before for c in rep.changes} == {"B"}
    status = {r.grid_id: r.status for r in rep.grids}
    assert status["A"] == "kept" and status["C"] == "kept"
    assert sorted(status.values()) == ["adjusted", "kept", "kept", "new"]
    b = next(r for r in rep.grids if r.grid_id == "B")
    assert b.households_before == 720.0 and b.in_band_before is False and b.households == 360.0


def test_under_full_grid_takes_the_fewest_units(lattice, groups):
    units, cells, adj = lattice(1, 6, [120] * 6)
    current = pd.Series(["A", "A", "A", "B", "C", "C"], index=units["unit_id"])
    part = BandPartitioner(units, adj).rebalance(current)
    assert groups(part.labels_) == {frozenset({0, 1, 2}), frozenset({3, 4, 5})}
    rep = part.report_
    assert rep.share_grids_within_bounds == 1.0
    assert rep.n_changed_units == 1
    assert [(c.unit_id, c.grid_before, c.grid_after) for c in rep.changes] == [(3, "B", "C")]
    assert part.labels_[0] == "A"


def test_units_missing_from_the_plan_join_a_neighbour(lattice, groups):
    units, cells, adj = lattice(1, 4, [180] * 4)
    current = pd.Series(["A", "A", "B"], index=[0, 1, 2])  # unit 3 is new
    part = BandPartitioner(units, adj).rebalance(current)
    assert groups(part.labels_) == {frozenset({0, 1}), frozenset({2, 3})}
    assert part.labels_[3] == "B"
    assert part.report_.share_grids_within_bounds == 1.0


def test_rebalance_keeps_contiguity_and_reports_before_after(lattice):
    rng = np.random.default_rng(4)
    hh = rng.integers(5, 60, 12 * 12)
    units, cells, adj = lattice(12, 12, hh)
    # a deliberately poor plan: vertical stripes two columns wide
    current = pd.Series([f"S{(i % 12) // 2}" for i in range(144)], index=units["unit_id"])
    part = BandPartitioner(units, adj).rebalance(current)
    rep = part.report_
    assert rep.all_contiguous
    assert rep.share_grids_within_bounds > 0.9
    moved = {c.unit_id for c in rep.changes}
    assert len(moved) == rep.n_changed_units
    assert all((part.labels_[u] != current[u]) for u in moved)
    assert sum(r.units_gained or 0 for r in rep.grids) == rep.n_changed_units


def test_current_plan_given_in_unit_order(lattice, groups):
    units, cells, adj = lattice(1, 8, [180] * 8)
    part = BandPartitioner(units, adj).rebalance(["A", "A", "B", "B", "B", "B", "C", "C"])
    assert groups(part.labels_) == {frozenset({0, 1}), frozenset({2, 3}), frozenset({4, 5}), frozenset({6, 7})}
    assert part.report_.n_changed_units == 2


def test_dropped_wider_redraw_is_retried_one_ring_wider(lattice):
    # outer band 300-500 households and 600-1,000 people; 100 households (250 people) a unit, so 3 or 4 units make
    # an in-band grid.  A (2 units) is short; its neighbour B (3) has none to spare, so A and B alone (5 units)
    # cannot be drawn in band, but A, B and C (8 units) can: two grids of four.
    units, cells, adj = lattice(1, 12, [100] * 12)
    current = pd.Series(["A"] * 2 + ["B"] * 3 + ["C"] * 3 + ["D"] * 4, index=units["unit_id"])
    base = dict(neighbour_rings=0, restarts=0, max_moved_share=1.0)
    once = BandPartitioner(units, adj, PartitionParams(wider_redraws=1, **base)).rebalance(current)
    assert once.report_.share_grids_within_bounds < 1.0
    wider = BandPartitioner(units, adj, PartitionParams(wider_redraws=3, **base)).rebalance(current)
    rep = wider.report_
    assert rep.share_grids_within_bounds == 1.0 and rep.all_contiguous
    assert wider.labels_[11] == "D"  # D (in band, three rings away) is not touched


def test_restarts_stop_when_only_a_tower_is_left_out(lattice, caplog):
    # unit 0 (600 households) is over every cap: a grid of its own, out of band whatever the draw; the others
    # (180 each) pair up in band, so the first draw leaves nothing a restart could fix
    units, cells, adj = lattice(1, 5, [600, 180, 180, 180, 180])
    current = pd.Series(["T", "A", "A", "B", "B"], index=units["unit_id"])
    with caplog.at_level("INFO", logger="grid_partition.partitioner"):
        part = BandPartitioner(units, adj, PartitionParams(restarts=2)).rebalance(current)
    assert part.report_.n_out_of_band == 1 and part.report_.n_unresolved == 0
    draws = [r.getMessage() for r in caplog.records if "leaves" in r.getMessage()]
    assert len(draws) == 1 and draws[0].startswith("rebalance: draw 1 of 3")
