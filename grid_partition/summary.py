"""Assemble the :class:`~grid_partition.report.PartitionReport` from final labels."""
from __future__ import annotations

import time

import numpy as np

from .feasibility import unit_fits_somewhere
from .graph import EDGE_KINDS
from .params import PartitionParams
from .report import (GridRow, PartitionReport, UnitChange, band_flags, changed_shares, cut_inside_blocks,
                     grid_components, grid_zones, match_grids, miss_reason, polsby_popper)
from .seeding import Region

__all__ = ["build_report"]


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def _band_text(zname: str, p) -> str:
    return (f"{zname} band: households {_fmt(p.households.low)}–{_fmt(p.households.high)}, "
            f"population {_fmt(p.population.low)}–{_fmt(p.population.high)}")


def build_report(pb, labels: np.ndarray, regions: list[Region], region_of: np.ndarray, params: PartitionParams,
                 mode: str, prev, t0: float) -> tuple[PartitionReport, np.ndarray]:
    """Per-grid rows, district figures and (for a rebalance) the diff against ``prev = (codes, old_ids)``.

    Returns the report and the grid id of every label code.
    """
    t, g, bands = pb.t, pb.g, pb.bands
    names = list(t.zone_names)
    G = int(labels.max()) + 1
    hh, pop = t.households, t.population
    H = np.bincount(labels, hh, G)
    P = np.bincount(labels, pop, G)
    cnt = np.bincount(labels, minlength=G)
    gz = grid_zones(labels, hh, t.zone, G, len(names))
    hok, pok = band_flags(H, P, gz, bands)
    inb = hok & pok
    ncomp = grid_components(g, labels, G)
    pp = polsby_popper(g, labels, G, pb.area, pb.ext)
    same = labels[g.u] == labels[g.v]
    art = same & (g.kind == EDGE_KINDS.index("arterial"))
    crosses = np.bincount(labels[g.u[art]], minlength=G) > 0

    # reasons for grids out of band
    infeasible = np.zeros(G, bool)
    reason: dict[int, str] = {}
    for i in np.flatnonzero(pb.towers):
        gi = int(labels[i])
        if inb[gi]:
            continue
        zn = names[t.zone[i]]
        infeasible[gi] = True
        reason[gi] = (f"unit {t.unit_id[i]} alone holds {_fmt(hh[i])} households and {_fmt(pop[i])} people, over "
                      f"the {_band_text(zn, params.profiles[zn])}; a building is never split, so it is a grid of "
                      f"its own")
    iso = {ri for ri, r in enumerate(regions) if r.isolated}
    if iso:
        for gi in np.flatnonzero(~inb & ~infeasible):
            units = np.flatnonzero(labels == gi)
            rs = set(region_of[units].tolist())
            if rs and rs <= iso:
                r = regions[next(iter(rs))]
                zn = names[r.zone]
                infeasible[gi] = True
                reason[int(gi)] = (
                    f"isolated pocket of {len(r.units)} units ({_fmt(r.households)} households, "
                    f"{_fmt(r.population)} people) cut off from any neighbour it could join: no number of grids "
                    f"fits the {_band_text(zn, params.profiles[zn])}")
    left = np.flatnonzero(~inb & ~infeasible)
    if len(left):
        order = np.argsort(labels, kind="stable")
        cuts = np.searchsorted(labels[order], np.arange(G + 1))
        for gi in left:
            members = order[cuts[gi]:cuts[gi + 1]]
            members = members[np.argsort(-hh[members], kind="stable")][:5]
            for i in members:
                if hh[i] <= 0 or unit_fits_somewhere(g, hh, pop, t.zone, bands, int(i), pb.towers,
                                                      max_sets=5000) is not False:
                    continue
                zn = names[t.zone[i]]
                infeasible[gi] = True
                reason[int(gi)] = (
                    f"unit {t.unit_id[i]} ({_fmt(hh[i])} households, {_fmt(pop[i])} people) fits in no grid inside "
                    f"the band: every connected group of units around it misses the band of its zone "
                    f"({_band_text(zn, params.profiles[zn])}) — too few households without a neighbour, too many "
                    f"with one")
                break
    for gi in np.flatnonzero(~inb & ~infeasible):
        zn = names[gz[gi]]
        pr = params.profiles[zn]
        reason[int(gi)] = "not balanced: " + miss_reason(H[gi], P[gi], zn, pr.households.low, pr.households.high,
                                                         pr.population.low, pr.population.high)

    # grid ids, and the diff against the previous plan
    extra: dict = {}
    changes: list[UnitChange] = []
    status = [None] * G
    before = [None] * G
    if prev is None:
        grid_ids = np.array([f"G{i + 1:05d}" for i in range(G)], dtype=object)
    else:
        old, old_ids = prev
        none = (old < 0).any()
        if none:  # units without a grid before form one pseudo-grid, which no new grid inherits
            old = np.where(old < 0, len(old_ids), old)
            old_ids = np.r_[old_ids, np.array(["(none)"], dtype=object)]
        match = match_grids(labels, old)
        if none:
            match[match == len(old_ids) - 1] = -1
        grid_ids = np.empty(G, dtype=object)
        k = 0
        used = set(old_ids.tolist())
        for gi in range(G):
            if match[gi] >= 0:
                grid_ids[gi] = str(old_ids[match[gi]])
            else:
                k += 1
                while f"N{k:05d}" in used:
                    k += 1
                grid_ids[gi] = f"N{k:05d}"
        changed = match[labels] != old
        Go = len(old_ids)
        Ho, Po = np.bincount(old, hh, Go), np.bincount(old, pop, Go)
        zo = grid_zones(old, hh, t.zone, Go, len(names))
        ho, po = band_flags(Ho, Po, zo, bands)
        gained = np.bincount(labels[changed], minlength=G)
        lost_old = np.bincount(old[changed], minlength=Go)
        for gi in range(G):
            if match[gi] < 0:
                status[gi] = "new"
                before[gi] = (None, None, None, int(gained[gi]), 0)
            else:
                o = match[gi]
                st = "kept" if gained[gi] == 0 and lost_old[o] == 0 else "adjusted"
                status[gi] = st
                before[gi] = (float(Ho[o]), float(Po[o]), bool(ho[o] & po[o]), int(gained[gi]), int(lost_old[o]))
        for i in np.flatnonzero(changed):
            changes.append(UnitChange(unit_id=t.unit_id[i].item() if hasattr(t.unit_id[i], "item") else t.unit_id[i],
                                      households=float(hh[i]), grid_before=str(old_ids[old[i]]),
                                      grid_after=str(grid_ids[labels[i]])))
        n_ch = int(changed.sum())
        old_names = np.where(old < len(prev[1]), old_ids[old], "__none__") if none else old_ids[old]
        cu, chh = changed_shares(grid_ids[labels], old_names, hh)
        extra = dict(changed_units_share=round(cu, 4), changed_households_share=round(chh, 4),
                     n_changed_units=n_ch, n_changed_households=float(hh[changed].sum()),
                     n_grids_before=int(Go), n_grids_kept=int(sum(s == "kept" for s in status)),
                     n_grids_redrawn=int(sum(s != "kept" for s in status)))

    rows = []
    for gi in range(G):
        b = before[gi]
        rows.append(GridRow(
            grid_id=str(grid_ids[gi]), zone=names[gz[gi]], n_units=int(cnt[gi]), households=float(H[gi]),
            population=float(P[gi]), households_ok=bool(hok[gi]), population_ok=bool(pok[gi]),
            in_band=bool(inb[gi]), infeasible=bool(infeasible[gi]), reason=reason.get(gi),
            contiguous=bool(ncomp[gi] == 1),
            polsby_popper=None if np.isnan(pp[gi]) else round(float(pp[gi]), 4),
            crosses_arterial=bool(crosses[gi]), status=status[gi],
            households_before=None if b is None else b[0], population_before=None if b is None else b[1],
            in_band_before=None if b is None else b[2], units_gained=None if b is None else b[3],
            units_lost=None if b is None else b[4]))
    out = ~inb
    n_out, n_inf = int(out.sum()), int(infeasible.sum())
    ppv = pp[~np.isnan(pp)]
    report = PartitionReport(
        mode=mode, n_units=int(len(labels)), n_grids=G,
        n_grids_by_zone={z: int((gz == i).sum()) for i, z in enumerate(names)},
        share_grids_within_bounds=round(float(inb.mean()), 4), share_grids_hh_ok=round(float(hok.mean()), 4),
        share_grids_pop_ok=round(float(pok.mean()), 4),
        share_households_in_ok_grids=round(float(H[inb].sum() / max(hh.sum(), 1)), 4),
        n_out_of_band=n_out, n_infeasible=n_inf, n_unresolved=n_out - n_inf,
        share_out_of_band_explained=round(n_inf / n_out, 4) if n_out else 1.0,
        all_contiguous=bool((ncomp == 1).all()), n_noncontiguous_grids=int((ncomp > 1).sum()),
        mean_polsby_popper=round(float(ppv.mean()), 4) if len(ppv) else None,
        median_polsby_popper=round(float(np.median(ppv)), 4) if len(ppv) else None,
        p10_polsby_popper=round(float(np.percentile(ppv, 10)), 4) if len(ppv) else None,
        share_cut_border_inside_blocks=round(cut_inside_blocks(g, labels), 4),
        n_grids_crossing_arterial=int(crosses.sum()),
        runtime_seconds=round(time.perf_counter() - t0, 3), grids=rows, changes=changes, **extra)
    return report, grid_ids
