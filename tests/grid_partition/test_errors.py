"""Bad input is refused with a message that says what is wrong and where."""
from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from grid_partition import Band, BandPartitioner, PartitionInputError, PartitionParams


@pytest.fixture
def small(lattice):
    return lattice(1, 4, [180] * 4)


def test_error_is_a_value_error():
    assert issubclass(PartitionInputError, ValueError)


def test_missing_column(small):
    units, cells, adj = small
    with pytest.raises(PartitionInputError, match=r"units is missing column\(s\) \['households'\]"):
        BandPartitioner(units.drop(columns="households"), adj).solve()


def test_duplicate_unit_ids(small):
    units, cells, adj = small
    units = units.copy()
    units.loc[3, "unit_id"] = 1
    with pytest.raises(PartitionInputError, match=r"'unit_id' is not unique: \[1\] repeat \(rows \[1, 3\]\)"):
        BandPartitioner(units, adj).solve()


def test_adjacency_names_unknown_unit(small):
    units, cells, adj = small
    adj = pd.concat([adj, pd.DataFrame({"u": [2], "v": [99], "kind": ["block"], "border_m": [1.0]})],
                    ignore_index=True)
    with pytest.raises(PartitionInputError, match=r"adjacency column 'v' names unknown unit ids \[99\] \(rows \[3\]"):
        BandPartitioner(units, adj).solve()


def test_adjacency_unknown_kind(small):
    units, cells, adj = small
    adj = adj.copy()
    adj.loc[1, "kind"] = "highway"
    with pytest.raises(PartitionInputError, match="'highway' at row 1"):
        BandPartitioner(units, adj).solve()


def test_adjacency_self_loop(small):
    units, cells, adj = small
    adj = pd.concat([adj, pd.DataFrame({"u": [2], "v": [2]})], ignore_index=True)
    with pytest.raises(PartitionInputError, match="row 3 links unit 2 to itself"):
        BandPartitioner(units, adj).solve()


def test_zone_without_profile(small):
    units, cells, adj = small
    units = units.copy()
    units.loc[2, "zone"] = "middle"
    with pytest.raises(PartitionInputError, match=r"\['middle'\] \(first at row 2, unit_id 2\)"):
        BandPartitioner(units, adj).solve()


def test_negative_households(small):
    units, cells, adj = small
    units = units.copy()
    units.loc[1, "households"] = -5
    with pytest.raises(PartitionInputError, match=r"'households' must be finite and >= 0; row 1 \(unit_id 1\)"):
        BandPartitioner(units, adj).solve()


def test_current_plan_names_unknown_units(small):
    units, cells, adj = small
    current = pd.Series(["A", "A", "B", "B", "C"], index=[0, 1, 2, 3, 42])
    with pytest.raises(PartitionInputError, match=r"names 1 unknown unit ids, e.g. \[42\]"):
        BandPartitioner(units, adj).rebalance(current)


def test_band_must_be_ordered():
    with pytest.raises(ValidationError, match="below low"):
        Band(low=600, high=500)


def test_params_need_a_profile():
    with pytest.raises(ValidationError, match="at least one zone profile"):
        PartitionParams(profiles={})
