"""The band partitioner: grids inside a min–max band of households *and* population, from scratch or as a
minimal-change rebalance of the current plan.

How a fresh partition is drawn:

1. A unit that alone exceeds its zone's upper band (a tower) becomes a grid of its own and never moves.  So does
   each connected group of units proven to fit in no in-band grid at all
   (:func:`grid_partition.feasibility.unit_fits_somewhere`): together they cost one grid out of band, not one each,
   and their neighbours are free to form grids in band.
2. The rest is cut into regions between arterial roads; a region too small or too awkward to form grids inside
   its band is merged with the neighbour across the arterial sharing the longest border, so grids cross an
   arterial only where they must.  Each region gets the number of grids that puts its mean grid deepest inside
   the band (:func:`grid_partition.seeding.best_k`).
3. Each region is cut into that many contiguous parts by recursive straight cuts; near the leaves every direction
   and position is scored at once and the cut whose two sides sit deepest in the band wins
   (:func:`grid_partition.seeding.split_units`).  This is what copes with high-rise towers of 100–400 households,
   which a cut by weight alone groups into grids no later move can fix.
4. The local search (:mod:`grid_partition.refine`) moves boundary units between neighbouring grids until the
   grids sit inside a safety margin of both bands and boundaries are short and follow streets.
5. Each grid still out of band is re-cut with one, then two rings of neighbours (into as many, one more or one
   fewer grids, or handing its units to the neighbours), then annealed with two rings of neighbours, then re-cut
   again; a change is kept only when it leaves fewer grids out of band or a lower cost
   (:mod:`grid_partition.repair`).  Where units are few and large, a grid and its neighbours are then re-drawn
   exactly: every in-band connected group is listed and the best exact cover is solved as a small integer programme
   (:mod:`grid_partition.exact`).  Last, a longer anneal over three rings of neighbours.
6. On a small district (``restart_max_units``) steps 3–5 are drawn ``restarts`` more times with other random
   tie-breaks, and the draw leaving fewest grids out of band is kept: among large units one path of moves can
   fit a grid that another cannot, and a small district can afford the time.

A rebalance starts from the current plan instead (:mod:`grid_partition.rebalance`): grids in band are frozen,
over-full grids are split, the local search runs on the out-of-band grids alone and then draws in one ring of
neighbours at a time, with a penalty on every unit that leaves its grid; the repairs keep a change only when it
leaves fewer grids out of band, and prefer the try that moves the fewest units.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .errors import PartitionInputError
from .exact import exact_clusters
from .feasibility import never_in_band, unit_fits_somewhere
from .geometry import cell_measures, dissolve_grids
from .graph import UnitGraph, UnitTable, build_graph, components, read_units
from .params import PartitionParams
from .rebalance import moved_share, rebalance_labels
from .refine import CostWeights, Refiner
from .repair import anneal_clusters, fix_contiguity, neighbour_grids, resplit_clusters
from .report import PartitionReport, band_flags, grid_zones
from .seeding import Bands, Region, plan_regions, split_units
from .summary import build_report

__all__ = ["BandPartitioner", "Progress"]

log = logging.getLogger(__name__)

#: ``progress(fraction_done, message)``
Progress = Callable[[float, str], None]


@dataclass
class _Problem:
    t: UnitTable
    g: UnitGraph
    bands: Bands
    weights: CostWeights
    cut_w: np.ndarray
    towers: np.ndarray
    area: np.ndarray | None
    ext: np.ndarray | None


class BandPartitioner:
    """Partition building units into grids whose households and population both sit inside their zone's band.

    Parameters
    ----------
    units
        GeoDataFrame, one row per building unit, with columns ``unit_id`` (unique), ``households``,
        ``population`` and ``zone`` (a key of ``params.profiles``).  Its geometry places the units; when no
        ``cells`` are given and the geometries are polygons they also serve as the cells.
    adjacency
        DataFrame ``u, v, kind, border_m``: unit ids of two neighbours, what their shared border crosses
        (``block``, ``street`` or ``arterial``) and its length.  See :func:`adjacency_from_cells`.
    params
        Bands per zone and search weights; defaults to :class:`PartitionParams()`.
    cells
        Optional tessellation, one polygon per unit in the order of ``units``: used for compactness and for the
        grid polygons.
    progress
        Optional callback ``progress(fraction, message)``.
    rng
        Random generator; defaults to ``numpy.random.default_rng(params.seed)``.

    Attributes
    ----------
    labels_ : pandas.Series
        Grid id of every unit, indexed by ``unit_id`` (after :meth:`solve` or :meth:`rebalance`).
    report_ : PartitionReport
        Per-grid rows and district figures.

    Examples
    --------
    >>> part = BandPartitioner(units, adjacency).solve()          # doctest: +SKIP
    >>> part.report_.share_grids_within_bounds                    # doctest: +SKIP
    0.99
    >>> part.rebalance(part.labels_).report_.n_changed_units      # doctest: +SKIP
    0
    """

    def __init__(self, units: pd.DataFrame, adjacency: pd.DataFrame, params: PartitionParams | None = None, *,
                 cells=None, progress: Progress | None = None, rng: np.random.Generator | None = None) -> None:
        self.units = units
        self.adjacency = adjacency
        self.params = params if params is not None else PartitionParams()
        self.cells = cells
        self.progress = progress
        self.rng = rng if rng is not None else np.random.default_rng(self.params.seed)
        self.labels_: pd.Series | None = None
        self.report_: PartitionReport | None = None
        self._codes: np.ndarray | None = None

    # ------------------------------------------------------------------ public
    def solve(self) -> "BandPartitioner":
        """Draw grids from scratch; fills :attr:`labels_` and :attr:`report_` and returns ``self``."""
        t0 = time.perf_counter()
        pb = self._prepare()
        dead = self._dead_units(pb)
        pb = replace(pb, towers=pb.towers | dead)
        self._tick(0.1, "regions")
        regions, region_of = plan_regions(pb.g, pb.t.households, pb.t.population, pb.t.zone, pb.bands,
                                          pb.towers, len(pb.t.zone_names))
        movable = (region_of[pb.g.u] == region_of[pb.g.v]) & (region_of[pb.g.u] >= 0)
        adj = pb.g.matrix(movable)
        self._tick(0.15, f"first cut of {len(regions)} regions")
        tries = 1 + (self.params.restarts if pb.g.n <= self.params.restart_max_units else 0)
        best = None
        rng0 = self.rng
        for k in range(tries):
            # the first draw uses the partitioner's generator; restarts their own, so that runs are reproducible
            self.rng = rng0 if k == 0 else np.random.default_rng([self.params.seed, k])
            span = (0.15 + 0.75 * k / tries, 0.15 + 0.75 * (k + 1) / tries)
            labels = self._draw(pb, dead, regions, region_of, movable, adj, span)
            n_out = self._n_out(pb, labels)
            log.info("partition: draw %d of %d leaves %d grids out of band", k + 1, tries, n_out)
            if best is None or n_out < best[0]:
                best = (n_out, labels)
            if n_out == 0:
                break
        self.rng = rng0
        labels = best[1]
        _, first = np.unique(labels, return_index=True)  # grids numbered in the order of their first unit
        remap = np.empty(len(first), np.int64)
        remap[np.argsort(first, kind="stable")] = np.arange(len(first))
        labels = remap[labels]
        self._tick(0.9, "report")
        self._finish(pb, labels, regions, region_of, t0, prev=None)
        return self

    def rebalance(self, current) -> "BandPartitioner":
        """Re-draw only what is out of band in the current plan, changing as few units as possible.

        Parameters
        ----------
        current
            The current grid of every unit: a Series indexed by ``unit_id``, or a sequence in the order of
            ``units``.  Units it does not cover join the neighbouring grid they share most border with.

        Returns
        -------
        BandPartitioner
            ``self``, with :attr:`labels_` and :attr:`report_` filled; the report lists every unit that changed
            grid and each grid before and after.
        """
        t0 = time.perf_counter()
        pb = self._prepare()
        prev, old_ids = self._read_current(current, pb)
        self._tick(0.1, "current plan")
        tries = 1 + (self.params.restarts if pb.g.n <= self.params.restart_max_units else 0)
        base = np.where(prev < 0, int(prev.max()) + 1, prev)
        best = None
        rng0, progress = self.rng, self.progress
        for k in range(tries):
            if k:  # restarts: own generator, progress shown once per restart
                self.rng = np.random.default_rng([self.params.seed, k])
                self._tick(0.75 + 0.1 * k / tries, f"rebalance: restart {k} of {tries - 1}")
                self.progress = None
            labels, regions, region_of, n_open = rebalance_labels(self, pb, prev)
            moved = moved_share(labels, base)
            score = (moved > self.params.max_moved_share, self._n_out(pb, labels), moved)
            log.info("rebalance: draw %d of %d leaves %d grids out of band, %.1f%% of units moved", k + 1, tries,
                     score[1], 100 * moved)
            if best is None or score < best[0]:
                best = (score, labels, regions, region_of)
            if score[:2] == (False, 0) or (not score[0] and n_open == 0 and score == best[0]):
                break  # every grid in band, or all left out are ones no re-draw can bring in
        self.rng, self.progress = rng0, progress
        _, labels, regions, region_of = best
        self._tick(0.9, "report")
        self._finish(pb, labels, regions, region_of, t0, prev=(prev, old_ids))
        return self

    def grid_polygons(self):
        """Dissolve the cells into one polygon per grid (``grid_id``, ``geometry``); needs :meth:`solve` first."""
        if self.labels_ is None:
            raise RuntimeError("call solve() or rebalance() first")
        cells = self.cells if self.cells is not None else self.units.geometry
        return dissolve_grids(cells, self.labels_.to_numpy())

    # ------------------------------------------------------------------ steps
    def _tick(self, frac: float, msg: str) -> None:
        log.debug("%.0f%% %s", 100 * frac, msg)
        if self.progress is not None:
            self.progress(frac, msg)

    def _prepare(self) -> _Problem:
        self._tick(0.0, "checking input")
        p = self.params
        names = p.zone_names()
        t = read_units(self.units, names)
        g = build_graph(t.unit_id, self.adjacency)
        prof = [p.profiles[z] for z in names]
        bands = Bands(lo_h=np.array([x.households.low for x in prof]), hi_h=np.array([x.households.high for x in prof]),
                      lo_p=np.array([x.population.low for x in prof]), hi_p=np.array([x.population.high for x in prof]))
        mh = np.maximum(p.safety_margin * (bands.hi_h - bands.lo_h), 1.0)
        mp = np.maximum(p.safety_margin * (bands.hi_p - bands.lo_p), 1.0)
        pos = g.border[g.border > 0]
        ref = float(np.median(pos)) if len(pos) else 1.0
        weights = CostWeights(margin_h=mh, margin_p=mp, alpha=p.compactness_weight / ref,
                              change=p.change_penalty)
        pen = np.array([0.0, p.street_crossing_penalty, p.arterial_crossing_penalty])
        cut_w = g.border * (1.0 - pen[g.kind])
        towers = bands.over(t.households, t.population, t.zone)
        cells = self.cells
        if cells is None and hasattr(self.units, "geometry") and "geometry" in self.units:
            types = set(self.units.geometry.geom_type.unique())
            cells = self.units.geometry if types <= {"Polygon", "MultiPolygon"} else None
        area = ext = None
        if cells is not None:
            area, ext = cell_measures(cells, g)
        return _Problem(t=t, g=g, bands=bands, weights=weights, cut_w=cut_w, towers=towers, area=area, ext=ext)

    def _draw(self, pb: _Problem, dead: np.ndarray, regions: list[Region], region_of: np.ndarray,
              movable: np.ndarray, adj, span: tuple[float, float] = (0.15, 0.9)) -> np.ndarray:
        """One fresh partition: first cut, local search and repairs; returns the labels."""
        lo, hi = span
        labels = np.full(pb.g.n, -1, dtype=np.int64)
        zones: list[int] = []
        for i in np.flatnonzero(pb.towers & ~dead):
            labels[i] = len(zones)
            zones.append(int(pb.t.zone[i]))
        if dead.any():  # units that fit in no in-band grid: each connected group of them is one grid
            _, comp = components(pb.g, node_mask=dead)
            for c in np.unique(comp[dead]):
                members = np.flatnonzero(comp == c)
                labels[members] = len(zones)
                zones.append(int(np.argmax(np.bincount(pb.t.zone[members], pb.t.households[members] + 1e-6))))
        for r in regions:
            for part in split_units(r.units, r.k, pb.t.households, pb.t.population, pb.t.xy, adj,
                                    self._band(pb, r.zone)):
                labels[part] = len(zones)
                zones.append(r.zone)
        R = self._refiner(pb, labels, np.array(zones), movable, home=None)
        self._tick(lo + 0.2 * (hi - lo), f"local search over {len(zones)} grids")
        moves = R.run(max_rounds=self.params.max_rounds)
        log.info("partition: %d grids, %d moves, %d out of band after local search",
                 len(zones), moves, int((~R.in_band() & (R.cnt > 0)).sum()))
        self._tick(lo + 0.6 * (hi - lo), "re-drawing grids out of band")
        skip = self._skip_grids(R, pb, regions, region_of)
        self._repair(R, pb, movable, adj, skip, allow=None)
        if self.params.final_repair_rings:
            self._final_repair(R, pb, movable, adj, skip)
        labels = fix_contiguity(pb.g, R.labels, movable, pb.towers)
        return labels

    def _final_repair(self, R: Refiner, pb: _Problem, movable: np.ndarray, adj, skip: set[int]) -> None:
        """The repairs once more, only over the grids still out of band and ``final_repair_rings`` rings of
        neighbours around them; kept only when fewer grids are out of band."""
        bad = np.array([b for b in np.flatnonzero(~R.in_band() & (R.cnt > 0)) if int(b) not in skip], np.int64)
        if len(bad) == 0:
            return
        near = bad
        for _ in range(self.params.final_repair_rings):
            near = np.r_[near, neighbour_grids(R, near, movable)]
        allow = np.zeros(R.n_grids, bool)
        allow[near] = True
        n0 = int((~R.in_band() & (R.cnt > 0)).sum())
        snap, zsnap = R.labels.copy(), R.zone.copy()
        self._repair(R, pb, movable, adj, skip, allow=allow)
        n1 = int((~R.in_band() & (R.cnt > 0)).sum())
        log.info("partition: repairs again over %d grids near the %d out of band: %d -> %d out of band", len(near),
                 len(bad), n0, n1)
        if n1 >= n0:
            R.set_labels(np.arange(pb.g.n), snap)
            R.zone[:len(zsnap)] = zsnap

    def _n_out(self, pb: _Problem, labels: np.ndarray) -> int:
        """Number of grids out of band (zone by majority of households, as in the report)."""
        G = int(labels.max()) + 1
        H = np.bincount(labels, pb.t.households, G)
        P = np.bincount(labels, pb.t.population, G)
        gz = grid_zones(labels, pb.t.households, pb.t.zone, G, len(pb.t.zone_names))
        hok, pok = band_flags(H, P, gz, pb.bands)
        return int((~(hok & pok)).sum())

    @staticmethod
    def _dead_units(pb: _Problem, max_sets: int = 300) -> np.ndarray:
        """Units, towers aside, proven to fit in no in-band grid
        (:func:`~grid_partition.feasibility.unit_fits_somewhere`).

        Only units holding at least a fifth of the smallest household floor are examined (small units always have
        room somewhere in practice, and the proof is costlier for them); a proof that runs out of ``max_sets``
        leaves the unit alone.
        """
        t, b = pb.t, pb.bands
        never = never_in_band(t.households, t.population, t.zone, b)
        dead = np.zeros(pb.g.n, bool)
        cand = np.flatnonzero(~pb.towers & ~never & (t.households >= 0.2 * float(b.lo_h.min())))
        for i in cand.tolist():
            if unit_fits_somewhere(pb.g, t.households, t.population, t.zone, b, i, never, max_sets) is False:
                dead[i] = True
        return dead

    def _repair(self, R: Refiner, pb: _Problem, movable: np.ndarray, adj, skip: set[int],
                allow: np.ndarray | None, strict: bool = False) -> None:
        budget = self.params.repair_effort * pb.g.n

        def split(units: np.ndarray, k: int, z: int, angle: float) -> list[np.ndarray]:
            return split_units(units, k, pb.t.households, pb.t.population, pb.t.xy, adj, self._band(pb, z),
                               angle=angle, n_angles=8)

        def resplit(rings: tuple[int, ...]) -> None:
            n = resplit_clusters(R, movable, skip, self.rng, split, allow=allow, budget=budget, strict=strict,
                                 n_angles=3, rings=rings, max_rounds=25)
            log.info("re-cut %d clusters, %d grids out of band", n, int((~R.in_band() & (R.cnt > 0)).sum()))

        def anneal() -> None:
            n = anneal_clusters(R, movable, skip, self.rng, allow=allow, budget=budget, strict=strict)
            log.info("annealed %d clusters, %d grids out of band", n, int((~R.in_band() & (R.cnt > 0)).sum()))

        def exact() -> None:
            n = exact_clusters(R, movable, skip, allow=allow, strict=strict, budget=min(5 * pb.g.n, 60_000))
            log.info("exact re-draws of %d clusters, %d grids out of band", n,
                     int((~R.in_band() & (R.cnt > 0)).sum()))

        # re-cut with one then two rings of neighbours, anneal what is left, re-cut again with one ring, then
        # solve what is still out of band exactly where units are few and large
        resplit((1, 2))
        anneal()
        resplit((1,))
        exact()
        if not strict:  # a fresh partition: a last, longer anneal over three rings of neighbours
            n = anneal_clusters(R, movable, skip, self.rng, allow=allow, budget=300_000,
                                strict=strict, rings=3, passes=(200, 600))
            log.info("annealed %d wider clusters, %d grids out of band", n, int((~R.in_band() & (R.cnt > 0)).sum()))

    @staticmethod
    def _band(pb: _Problem, z: int) -> tuple[float, float, float, float]:
        b = pb.bands
        return float(b.lo_h[z]), float(b.hi_h[z]), float(b.lo_p[z]), float(b.hi_p[z])

    def _refiner(self, pb: _Problem, labels: np.ndarray, zones: np.ndarray, movable: np.ndarray,
                 home: np.ndarray | None) -> Refiner:
        return Refiner(pb.g, pb.t.households, pb.t.population, labels, zones, pb.bands, pb.weights, pb.cut_w,
                       movable, pb.towers, pb.t.zone, home=home, rng=self.rng)

    def _skip_grids(self, R: Refiner, pb: _Problem, regions: list[Region], region_of: np.ndarray) -> set[int]:
        skip = set(int(x) for x in R.labels[pb.towers])
        iso = [i for i, r in enumerate(regions) if r.isolated]
        if iso:
            skip.update(int(x) for x in np.unique(R.labels[np.isin(region_of, iso)]))
        return skip

    def _read_current(self, current, pb: _Problem) -> tuple[np.ndarray, np.ndarray]:
        ids = pb.t.unit_id
        if isinstance(current, pd.Series):  # matched on unit ids
            if current.index.duplicated().any():
                d = current.index[current.index.duplicated()][:5].tolist()
                raise PartitionInputError(f"current assignment lists unit ids more than once: {d}")
            unknown = current.index.difference(pd.Index(ids))
            if len(unknown):
                raise PartitionInputError(f"current assignment names {len(unknown)} unknown unit ids, "
                                          f"e.g. {unknown[:5].tolist()}")
            cur = current.reindex(ids)
        else:  # one value per unit, in the order of the units
            values = np.asarray(current, dtype=object)
            if len(values) != len(ids):
                raise PartitionInputError(f"current assignment has {len(values)} values for {len(ids)} units")
            cur = pd.Series(values, index=ids)
        missing = cur.isna().to_numpy()
        vals = cur.astype(object).where(~cur.isna(), None)
        old_ids, codes = np.unique(np.array(["" if m else str(v) for m, v in zip(missing, vals)]),
                                   return_inverse=True)
        codes = codes.astype(np.int64)
        if missing.any():
            log.info("rebalance: %d units have no current grid", int(missing.sum()))
            codes[missing] = -1
            if "" in old_ids:  # drop the placeholder code
                keep = old_ids != ""
                remap = np.cumsum(keep) - 1
                codes[~missing] = remap[codes[~missing]]
                old_ids = old_ids[keep]
        return codes, old_ids

    @staticmethod
    def _attach_missing(g: UnitGraph, labels: np.ndarray, movable: np.ndarray) -> np.ndarray:
        while (labels < 0).any():
            a, b = np.r_[g.u, g.v], np.r_[g.v, g.u]
            w = np.r_[g.border, g.border]
            m = (labels[a] < 0) & (labels[b] >= 0) & np.r_[movable, movable]
            if not m.any():
                miss = np.flatnonzero(labels < 0)
                labels[miss] = labels.max() + 1 + np.arange(len(miss))
                break
            df = pd.DataFrame({"a": a[m], "lab": labels[b[m]], "w": w[m]})
            best = df.groupby(["a", "lab"])["w"].sum().reset_index().sort_values("w", ascending=False)
            best = best.drop_duplicates("a")
            labels[best["a"].to_numpy()] = best["lab"].to_numpy()
        return labels

    def _finish(self, pb: _Problem, labels: np.ndarray, regions: list[Region], region_of: np.ndarray,
                t0: float, prev) -> None:
        report, grid_ids = build_report(pb, labels, regions, region_of, self.params, mode="partition" if prev is None
                                        else "rebalance", prev=prev, t0=t0)
        self._codes = labels
        self.labels_ = pd.Series(grid_ids[labels], index=pd.Index(pb.t.unit_id, name="unit_id"), name="grid_id")
        self.report_ = report
        self._tick(1.0, f"{report.n_grids} grids, {100 * report.share_grids_within_bounds:.1f}% in band")
