"""Assemble the :class:`~grid_partition.report.PartitionReport` from final labels."""
from __future__ import annotations

import time

import numpy as np

from .feasibility import never_in_band, split_counts_exist, strands_a_neighbour, unit_fits_somewhere
from .graph import EDGE_KINDS, components
from .params import PartitionParams
from .report import (
    GridRow,
    PartitionReport,
    UnitChange,
    band_flags,
    changed_shares,
    cut_inside_blocks,
    grid_components,
    grid_zones,
    match_grids,
    miss_reason,
    polsby_popper,
)
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

    # reasons for grids out of band: only proven ones make a grid "infeasible" (see grid_partition.feasibility)
    infeasible = np.zeros(G, bool)
    reason: dict[int, str] = {}
    dead = never_in_band(hh, pop, t.zone, bands)
    for i in np.flatnonzero(dead):
        gi = int(labels[i])
        if inb[gi] or infeasible[gi]:
            continue
        zn = names[t.zone[i]]
        infeasible[gi] = True
        reason[gi] = (f"unit {t.unit_id[i]} alone holds {_fmt(hh[i])} households and {_fmt(pop[i])} people, over "
                      f"the {_band_text(zn, params.profiles[zn])}; a building is never split, so it is a grid of "
                      f"its own")
    _pocket_reasons(g, labels, hh, pop, t.zone, bands, dead, inb, infeasible, reason, names, params)
    order = np.argsort(labels, kind="stable")
    cuts = np.searchsorted(labels[order], np.arange(G + 1))
    for gi in np.flatnonzero(~inb & ~infeasible):
        members = order[cuts[gi]:cuts[gi + 1]]
        members = members[np.argsort(-hh[members], kind="stable")]
        for i in members:
            if unit_fits_somewhere(g, hh, pop, t.zone, bands, int(i), dead, max_sets=20_000) is not False:
                continue
            zn = names[t.zone[i]]
            infeasible[gi] = True
            reason[int(gi)] = (
                f"unit {t.unit_id[i]} ({_fmt(hh[i])} households, {_fmt(pop[i])} people) fits in no grid inside "
                f"any band: alone and in every connected group of units around it (units that can never be in band "
                f"left aside) it is below a floor or over a cap of the group's majority zone "
                f"({_band_text(zn, params.profiles[zn])} for its own zone)")
            break
    for gi in np.flatnonzero(~inb & ~infeasible):
        members = order[cuts[gi]:cuts[gi + 1]]
        members = members[np.argsort(-hh[members], kind="stable")][:4]
        for i in members:
            res = strands_a_neighbour(g, hh, pop, t.zone, bands, int(i), dead)
            if res is None:
                continue
            groups, wit = res
            wit = sorted(set(wit))
            others = set(labels[wit].tolist()) - {int(gi)}
            if not all(inb[o] for o in others):
                continue
            infeasible[gi] = True
            reason[int(gi)] = (
                f"unit {t.unit_id[i]} ({_fmt(hh[i])} households, {_fmt(pop[i])} people) fits in band in only "
                f"{len(groups)} connected group(s) of units, and each would leave a neighbouring unit (of units "
                f"{', '.join(str(t.unit_id[w]) for w in wit)}) in no in-band grid: whatever the cut, at least one "
                f"grid holding unit {t.unit_id[i]} or one of those units is out of band, and here this is the only "
                f"one")
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


def _pocket_reasons(g, labels, hh, pop, zone, bands, dead, inb, infeasible, reason, names, params) -> None:
    """Explain an out-of-band grid by the piece of the district it lies in, where that piece cannot be cut.

    A piece is a connected component of the district without the units that can never be in band.  No in-band
    grid leaves it, so if no numbers of grids per zone hold its totals in band
    (:func:`~grid_partition.feasibility.split_counts_exist`), at least one grid holding its units is out of band
    in every partition.  That explains one grid: the only out-of-band grid holding units of the piece.
    """
    nc, comp = components(g, node_mask=~dead)
    ok = comp >= 0
    ch = np.bincount(comp[ok], hh[ok], nc)
    cp = np.bincount(comp[ok], pop[ok], nc)
    cn = np.bincount(comp[ok], minlength=nc)
    pairs = np.unique(np.c_[comp[ok], labels[ok]], axis=0)
    out_pairs = pairs[~inb[pairs[:, 1]]]
    n_out = np.bincount(out_pairs[:, 0], minlength=nc)
    for c in np.flatnonzero(n_out == 1):
        gi = int(out_pairs[out_pairs[:, 0] == c][0, 1])
        has = np.bincount(zone[(comp == c) & (hh > 0)], minlength=len(bands.lo_h)) > 0
        if infeasible[gi] or split_counts_exist(float(ch[c]), float(cp[c]), bands, zones=has):
            continue
        infeasible[gi] = True
        zs = sorted({names[z] for z in np.unique(zone[comp == c])})
        bands_txt = "; ".join(_band_text(z, params.profiles[z]) for z in zs)
        what = (f"isolated pocket of {int(cn[c])} units ({_fmt(ch[c])} households, {_fmt(cp[c])} people) cut off "
                f"from any neighbour it could join (its only neighbours, if any, can never be in band)"
                if nc > 1 or dead.any() else
                f"the district as a whole ({int(cn[c])} units, {_fmt(ch[c])} households, {_fmt(cp[c])} people)")
        reason[gi] = (f"{what}: no number of grids fits the {bands_txt}, so at least one grid holding its units is "
                      f"out of band whatever the cut, and this is the only one")
