"""Proof rules of the report, on tiny districts with exact expected answers."""
from __future__ import annotations

import numpy as np
import pandas as pd

from grid_partition import BandPartitioner
from grid_partition.feasibility import can_still_fit, never_in_band, split_counts_exist, unit_fits_somewhere
from grid_partition.graph import build_graph
from grid_partition.seeding import Bands

# inner first, outer second, as in the default profiles
BANDS = Bands(np.array([500.0, 300.0]), np.array([600.0, 500.0]), np.array([1000.0, 600.0]),
              np.array([1500.0, 1000.0]))


def test_never_in_band_needs_every_zone_out_of_reach():
    hh = np.array([320.0, 260.0, 700.0, 200.0])
    pop = np.array([1010.0, 1010.0, 1900.0, 500.0])
    zone = np.array([1, 1, 0, 1])
    # 320 outer households: over the outer people cap, and as the minority of an inner grid that grid would hold
    # 640 > 600 households.  260 outer households could sit in an inner grid of 520; a 700 inner tower nowhere.
    assert never_in_band(hh, pop, zone, BANDS).tolist() == [True, False, True, False]


def test_can_still_fit_prunes_by_the_majority_zone():
    hi_h, hi_p = BANDS.hi_h.tolist(), BANDS.hi_p.tolist()
    assert not can_still_fit(420, 1059, [0.0, 420.0], hi_h, hi_p)  # outer: people over; inner: >= 840 households
    assert can_still_fit(250, 700, [0.0, 250.0], hi_h, hi_p)       # inner with >= 250 inner households: 500
    assert can_still_fit(350, 1100, [100.0, 250.0], hi_h, hi_p)  # inner with 150 more inner households: 600
    assert not can_still_fit(350, 1100, [0.0, 350.0], hi_h, hi_p)  # outer: people over; inner: >= 700


def test_split_counts():
    assert split_counts_exist(1100, 2700, BANDS)       # two inner grids
    assert not split_counts_exist(460, 1160, BANDS)    # one grid: too many people; two: too few households
    assert split_counts_exist(920, 2060, BANDS)        # e.g. three outer grids
    # 850 households, 2,380 people: one inner and one outer grid would do, but with outer households only no
    # grid can be inner (two outer grids: too many people; three: too few households)
    assert split_counts_exist(850, 2380, BANDS)
    assert not split_counts_exist(850, 2380, BANDS, zones=np.array([False, True]))


def _path(hh, pop, edges, zone="outer"):
    n = len(hh)
    units = pd.DataFrame({"unit_id": np.arange(n), "households": np.asarray(hh, float),
                          "population": np.asarray(pop, float), "zone": [zone] * n,
                          "x": np.arange(n) * 100.0, "y": np.zeros(n)})
    adj = pd.DataFrame({"u": [a for a, _ in edges], "v": [b for _, b in edges], "kind": "street",
                        "border_m": 100.0})
    return units, adj


def test_unit_that_fits_nowhere_is_proven():
    # unit 0: 280 households alone is under the outer floor, with unit 1 (150, 420) over the people cap; the
    # district as a whole could be cut into three in-band grids (980 households, 2,520 people)
    units, adj = _path([280, 150, 150, 200, 200], [780, 420, 420, 450, 450], [(0, 1), (1, 2), (2, 3), (3, 4)])
    g = build_graph(units["unit_id"].to_numpy(), adj)
    hh, pop = units["households"].to_numpy(), units["population"].to_numpy()
    zone = np.ones(5, np.int64)
    blocked = np.zeros(5, bool)
    assert unit_fits_somewhere(g, hh, pop, zone, BANDS, 0, blocked) is False
    assert unit_fits_somewhere(g, hh, pop, zone, BANDS, 2, blocked) is True
    part = BandPartitioner(units, adj).solve()
    rep = part.report_
    lab = part.labels_
    assert lab[1] == lab[2] and lab[3] == lab[4] and len({lab[0], lab[1], lab[3]}) == 3
    row = next(r for r in rep.grids if r.grid_id == lab[0])
    assert row.infeasible and "unit 0 (280 households, 780 people) fits in no grid" in row.reason
    assert rep.n_out_of_band == 1 and rep.n_unresolved == 0


def test_neighbouring_units_that_fit_nowhere_share_one_grid():
    # units 0 and 1 fit in no in-band grid (alone under the floor, with any neighbour over a cap): they become one
    # grid, so only one grid is out of band; units 2, 3 and 4, 5 make in-band grids
    units, adj = _path([280, 270, 150, 150, 200, 200], [780, 760, 420, 420, 450, 450],
                       [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)])
    part = BandPartitioner(units, adj).solve()
    lab = part.labels_
    assert lab[0] == lab[1] and lab[2] == lab[3] and lab[4] == lab[5] and len({lab[0], lab[2], lab[4]}) == 3
    rep = part.report_
    assert rep.n_grids == 3 and rep.n_out_of_band == 1 and rep.n_infeasible == 1
    assert "fits in no grid" in next(r for r in rep.grids if not r.in_band).reason


def test_a_unit_whose_every_group_strands_a_neighbour():
    # a - b - c with d - e hanging off b.  c fits in band only with b ({b, c}: 310, 780), which leaves a (150)
    # with no neighbour; a likewise only with b.  So whatever the cut one grid holding a or c is out of band,
    # although the district as a whole could be cut into grids in band (920 households, 2,060 people).
    units, adj = _path([150, 160, 150, 230, 230], [380, 400, 380, 450, 450], [(0, 1), (1, 2), (1, 3), (3, 4)])
    part = BandPartitioner(units, adj).solve()
    rep = part.report_
    lab = part.labels_
    assert lab[3] == lab[4]
    assert rep.n_out_of_band == 1 and rep.n_infeasible == 1 and rep.n_unresolved == 0
    bad = next(r for r in rep.grids if not r.in_band)
    assert "connected group(s) of units, and each would leave a neighbouring unit" in bad.reason
    assert "this is the only one" in bad.reason


def test_pocket_that_cannot_be_cut():
    # two units joined to nothing else hold 460 households and 1,160 people: one grid has too many people, two
    # too few households
    units, adj = _path([150, 310, 180, 180], [380, 780, 450, 450], [(0, 1), (2, 3)])
    part = BandPartitioner(units, adj).solve()
    rep = part.report_
    lab = part.labels_
    assert lab[0] != lab[2]
    bad = [r for r in rep.grids if not r.in_band]
    assert len(bad) == 1 and bad[0].infeasible
    assert bad[0].reason.startswith("isolated pocket of 2 units (460 households, 1,160 people)")


def test_exact_cover_of_a_small_cluster():
    from grid_partition.exact import in_band_groups, solve_cover, zone_caps
    # a path 0-1-2-3 of outer units: in band are {0, 1} (310, 780), {1, 2} (320, 800) and {2, 3} (310, 780);
    # {0, 1, 2} has too many people, single units too few households
    nbrs = [[1], [0, 2], [1, 3], [2]]
    hh, pop, zone = [150.0, 160.0, 160.0, 150.0], [380.0, 400.0, 400.0, 380.0], [1, 1, 1, 1]
    groups = in_band_groups(nbrs, hh, pop, zone, zone_caps(BANDS), budget=1000)
    assert sorted(groups) == [(0, 1), (1, 2), (2, 3)]
    chosen = solve_cover(4, groups, np.zeros(len(groups)), np.full(4, 1000.0))
    assert sorted(chosen) == [(0, 1), (2, 3)]
