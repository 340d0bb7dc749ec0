"""How good a plan is, by measures a count of grids cannot fool, and whether one plan is worse than another.

The share of grids in band alone rewards folding out-of-band grids into one another: ten grids out of band become
one, and the share rises while more people live in a grid far from its band.  So a plan is described by

* the grids in band (count and share), and the **households and people living in in-band grids** (shares);
* its **worst grid**: how far the grid furthest from its band lies outside it, as a share of the band edge it
  misses (0 inside, 1.0 a grid twice its cap);
* its **blobs**: grids of more than one unit holding over twice their zone's cap of households or people, which no
  band explains (a single tower over the cap is a fact of the city, not of the plan).

:func:`worse_than` says, in words, why a proposal is worse than the current plan.  It is a guard for people
adopting a plan, not an objective: a proposal that is worse needs an explicit decision.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from .params import PartitionParams
from .report import band_flags, band_violation, grid_zones
from .seeding import Bands

__all__ = ["PlanQuality", "plan_quality", "worse_than"]


class PlanQuality(BaseModel):
    """The figures of one plan (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    n_grids: int
    n_in_band: int
    share_in_band: float
    households_in_band_share: float
    population_in_band_share: float
    worst_violation: float
    n_blobs: int


def plan_quality(units: pd.DataFrame, labels: Sequence | np.ndarray, params: PartitionParams | None = None
                 ) -> PlanQuality:
    """Figures of the plan that puts unit ``i`` of ``units`` (``households``, ``population``, ``zone``) in grid
    ``labels[i]``; bands from ``params``.  Units without a grid (``None``/NaN) are left out."""
    params = params or PartitionParams()
    names = params.zone_names()
    lab = pd.Series(np.asarray(labels, dtype=object))
    keep = lab.notna().to_numpy()
    codes, _ = pd.factorize(lab[keep].astype(str))
    hh = units["households"].to_numpy(float)[keep]
    pop = units["population"].to_numpy(float)[keep]
    zone = pd.Index(names).get_indexer(units["zone"].astype(str).to_numpy()[keep])
    zone = np.where(zone < 0, 0, zone)
    G = int(codes.max()) + 1 if len(codes) else 0
    if G == 0:
        return PlanQuality(n_grids=0, n_in_band=0, share_in_band=0.0, households_in_band_share=0.0,
                           population_in_band_share=0.0, worst_violation=0.0, n_blobs=0)
    H, P = np.bincount(codes, hh, G), np.bincount(codes, pop, G)
    n_units = np.bincount(codes, minlength=G)
    gz = grid_zones(codes, hh, zone, G, len(names))
    prof = [params.profiles[z] for z in names]
    bands = Bands(lo_h=np.array([p.households.low for p in prof]), hi_h=np.array([p.households.high for p in prof]),
                  lo_p=np.array([p.population.low for p in prof]), hi_p=np.array([p.population.high for p in prof]))
    hok, pok = band_flags(H, P, gz, bands)
    inb = hok & pok
    viol = band_violation(H, P, gz, bands)
    blobs = (n_units > 1) & ((H > 2 * bands.hi_h[gz]) | (P > 2 * bands.hi_p[gz]))
    return PlanQuality(
        n_grids=G, n_in_band=int(inb.sum()), share_in_band=round(float(inb.mean()), 4),
        households_in_band_share=round(float(H[inb].sum() / max(H.sum(), 1e-9)), 4),
        population_in_band_share=round(float(P[inb].sum() / max(P.sum(), 1e-9)), 4),
        worst_violation=round(float(viol.max()), 3), n_blobs=int(blobs.sum()),
    )


def worse_than(proposed: PlanQuality, current: PlanQuality) -> list[str]:
    """Why ``proposed`` is worse than ``current`` (empty when it is not): fewer grids in band, fewer households
    living in in-band grids, or a grid of several units over twice its cap that the current plan does not have."""
    why = []
    if proposed.n_in_band < current.n_in_band:
        why.append(f"{proposed.n_in_band} grids in band, the current plan has {current.n_in_band}")
    if proposed.households_in_band_share < current.households_in_band_share - 0.005:
        why.append(f"{100 * proposed.households_in_band_share:.1f}% of households in in-band grids, the current "
                   f"plan {100 * current.households_in_band_share:.1f}%")
    if proposed.n_blobs > current.n_blobs:
        why.append(f"{proposed.n_blobs} grids of several buildings over twice their cap, the current plan has "
                   f"{current.n_blobs}")
    return why
