"""Parameters of the band partitioner: bands and zone profiles are data, not code.

The defaults are the 开福区 sizes: an inner-street grid holds 500–600 households and 1,000–1,500 people, an
outer-street grid 300–500 households and 600–1,000 people.  A district sets its own by passing other profiles.

>>> p = PartitionParams()
>>> p.profiles["inner"].households
Band(low=500.0, high=600.0)
>>> custom = PartitionParams(profiles={"core": ZoneProfile(households=Band(low=400, high=480),
...                                                        population=Band(low=900, high=1300))})
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Band", "ZoneProfile", "PartitionParams", "default_profiles"]


class Band(BaseModel):
    """A closed interval ``[low, high]`` that a grid total must fall in."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low: float = Field(ge=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> "Band":
        if self.high < self.low:
            raise ValueError(f"band high ({self.high}) is below low ({self.low})")
        return self

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low

    def contains(self, value: float) -> bool:
        """Whether ``low <= value <= high``."""
        return self.low <= value <= self.high

    def __repr__(self) -> str:  # short form used in reports and doctests
        return f"Band(low={self.low}, high={self.high})"


class ZoneProfile(BaseModel):
    """The bands one zone's grids must meet: households and population at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    households: Band
    population: Band


def default_profiles() -> dict[str, ZoneProfile]:
    """The default inner-street and outer-street profiles (inner first: it wins zone ties)."""
    return {
        "inner": ZoneProfile(households=Band(low=500, high=600), population=Band(low=1000, high=1500)),
        "outer": ZoneProfile(households=Band(low=300, high=500), population=Band(low=600, high=1000)),
    }


class PartitionParams(BaseModel):
    """Everything that steers :class:`grid_partition.BandPartitioner`.

    Parameters
    ----------
    profiles
        Band profile per zone value found in the units' ``zone`` column.  Order matters only to break ties when a
        grid holds exactly as many households of two zones.
    street_crossing_penalty
        Cost of a grid spanning a local street, as a share of the shared border length (0 = streets are ignored,
        1 = a border along a street costs nothing).  Makes grid boundaries follow streets rather than cut blocks.
    arterial_crossing_penalty
        The same for arterial roads; above 1 a grid actively avoids spanning an arterial.  Units on two sides of an
        arterial are only grouped when a pocket between arterials cannot form grids of its own.
    compactness_weight
        Weight of the boundary length against band slack: the cost of one typical unit border added to a grid
        boundary, in units of "one safety margin outside the band".
    safety_margin
        Share of each band's width that the search tries to keep between a grid total and the band edges, so that
        later drift does not push grids out at once.
    change_penalty
        Rebalance only: cost of moving one unit away from its current grid, in the same units as the band costs.
        Higher keeps more units in place and leaves more grids out of band (on gridbench's 10,000-building district
        2.0 gave 97.9% in band with 20.2% of units moved, 4.0 95.6% with 19.8%).
    neighbour_rings
        Rebalance only: how many rings of in-band grids may be drawn in, one ring at a time, when the out-of-band
        grids cannot be fixed among themselves; each ring is the in-band grids nearest to those still out of band.
    max_moved_share
        Rebalance: after the rings, on a small district (``restart_max_units``), the grids still out of band and
        the rings around them are re-drawn again as in a fresh partition (``wider_redraws``); a re-draw is kept
        only if it leaves fewer grids out of band and at most this share of units away from their grid.  Restarts of a
        rebalance prefer a draw within this share before one with fewer grids out of band.
    wider_redraws
        Rebalance on a small district (``restart_max_units``): how many of those re-draws are tried; one that is
        dropped is tried again one ring of neighbours wider.
    final_repair_rings
        Partition: after the repairs, they run once more over the grids still out of band (proven cases aside) and
        this many rings of neighbours around them, kept only when fewer grids are out of band (0 = off).
    max_rounds
        Cap on the rounds of the local search (each round moves many units).
    repair_effort
        Work allowed, per unit of the district, for each stage that re-draws grids the local search leaves out of
        band (units re-cut, or moves proposed while annealing).  A count, not a time, so runs are reproducible.
    restarts
        Further fresh partitions drawn (each with its own generator, seeded from ``seed``) on districts of up to
        ``restart_max_units`` units; the draw leaving fewest grids out of band is kept.  The local search and
        repairs take different paths with different random tie-breaks, and on a small district of large units one
        path can fit a grid another cannot.
    restart_max_units
        Largest district (in units) that gets the restarts; bigger ones are drawn once, to keep within time.
    seed
        Seed of the random generator (used for tie-breaking and for alternative cut directions in repairs).

    Every count and weight is bounded, so a request cannot ask for a run that never ends.
    """

    model_config = ConfigDict(extra="forbid")

    profiles: dict[str, ZoneProfile] = Field(default_factory=default_profiles, max_length=50)
    street_crossing_penalty: float = Field(default=0.3, ge=0.0, le=1.0)
    arterial_crossing_penalty: float = Field(default=3.0, ge=0.0, le=1_000.0)
    compactness_weight: float = Field(default=0.3, ge=0.0, le=1_000.0)
    safety_margin: float = Field(default=0.15, gt=0.0, lt=0.5)
    change_penalty: float = Field(default=2.0, ge=0.0, le=1_000.0)
    neighbour_rings: int = Field(default=2, ge=0, le=20)
    max_moved_share: float = Field(default=0.2, ge=0.0, le=1.0)
    wider_redraws: int = Field(default=5, ge=0, le=50)
    final_repair_rings: int = Field(default=3, ge=0, le=20)
    max_rounds: int = Field(default=400, ge=1, le=10_000)
    repair_effort: int = Field(default=300, ge=0, le=10_000)
    restarts: int = Field(default=2, ge=0, le=20)
    restart_max_units: int = Field(default=5_000, ge=0, le=1_000_000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)

    @model_validator(mode="after")
    def _has_profiles(self) -> "PartitionParams":
        if not self.profiles:
            raise ValueError("at least one zone profile is required")
        return self

    def zone_names(self) -> list[str]:
        """Zone names in profile order."""
        return list(self.profiles)
