#!/usr/bin/env python
"""Benchmark of grid_partition on gridbench districts, scored by gridbench's own evaluate.py.

    .venv/bin/python bench/bench_partition.py                          # 2k, 10k, 50k + spopt on 2k
    .venv/bin/python bench/bench_partition.py --sizes 2000 --no-spopt  # quick look

For every size: make_city.py draws the district (cached in bench/out/), then our partition and our rebalance
(from the generator's ``grid_prev`` plan, drawn before the household drift) each run in a fresh subprocess,
``--runs`` times (``--runs-large`` times from 50,000 buildings up), the median time is printed with the number of
runs, and the peak memory of the subprocess comes from ``os.wait4``.  evaluate.py scores every assignment, and the
table shows our report's figures beside the scorer's.  On the 2,000-building district PySAL spopt's MaxPHeuristic
runs with a household floor (each zone with its own floor and adjacency; 10 constructions and 2 annealing rounds by
default, ``--spopt-iters``: spopt's own defaults of 99 and 10 take about ten times longer), side by side.

The machine may be shared: the CPU column (user + system time of the subprocess) is less sensitive to other load
than the wall-clock columns.

Times: ``solve`` is the partitioner alone (the report's runtime_seconds), ``file`` is run_partition_file (read
the GeoPackage, solve, write the CSV), ``process`` the whole subprocess including interpreter start and imports.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TARGETS = {10_000: 15.0, 50_000: 60.0}


# ---------------------------------------------------------------------------------------------- workers
def _worker(argv: list[str]) -> None:
    """Run one job in this (child) process and print its figures as JSON on the last line."""
    kind, gpkg, csv = argv[0], argv[1], argv[2]
    sys.path.insert(0, str(ROOT))
    t0 = time.perf_counter()
    if kind == "spopt":
        res = _run_spopt(gpkg, csv, int(argv[3]), int(argv[4]))
    else:
        from gis_data.gridbench import run_partition_file
        report_path = argv[3]
        rep = run_partition_file(gpkg, csv, rebalance=kind == "rebalance", report_path=report_path)
        res = {"solve_s": rep.runtime_seconds}
    res["file_s"] = round(time.perf_counter() - t0, 3)
    print(json.dumps(res))


def _run_spopt(gpkg: str, csv: str, constructions: int, sa: int) -> dict:
    """spopt MaxPHeuristic with a household floor: each zone on its own, with its zone's floor."""
    import warnings

    import numpy as np
    import pandas as pd
    import pyogrio
    from libpysal.weights import W
    from spopt.region import MaxPHeuristic

    warnings.simplefilter("ignore")
    units = pyogrio.read_dataframe(gpkg, layer="units").sort_values("unit_id").reset_index(drop=True)
    adj = pyogrio.read_dataframe(gpkg, layer="adjacency", read_geometry=False)
    floors = {1: 500, 0: 300}
    labels = np.empty(len(units), dtype=object)
    t0 = time.perf_counter()
    for z, floor in floors.items():
        sub = units[units["inner"] == z].reset_index(drop=True)
        pos = pd.Series(np.arange(len(sub)), index=sub["unit_id"].to_numpy())
        m = adj["u"].isin(pos.index) & adj["v"].isin(pos.index)
        a, b = pos[adj["u"][m]].to_numpy(), pos[adj["v"][m]].to_numpy()
        nbrs = {i: [] for i in range(len(sub))}
        for i, j in zip(a.tolist(), b.tolist()):
            nbrs[i].append(j)
            nbrs[j].append(i)
        w = W(nbrs, silence_warnings=True)
        model = MaxPHeuristic(sub, w, ["hh", "pop"], "hh", floor, top_n=2,
                              max_iterations_construction=constructions, max_iterations_sa=sa)
        model.solve()
        labels[(units["inner"] == z).to_numpy()] = [f"{z}-{x}" for x in model.labels_]
    secs = time.perf_counter() - t0
    pd.DataFrame({"unit_id": units["unit_id"], "grid_id": labels}).to_csv(csv, index=False)
    return {"solve_s": round(secs, 3)}


# ---------------------------------------------------------------------------------------------- parent
def _spawn(args: list[str]) -> tuple[dict, float, float, float]:
    """Run a worker subprocess; returns its JSON, wall seconds, CPU seconds and peak resident memory in MB."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--worker", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out_text = proc.stdout.read()
    err_text = proc.stderr.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args[0]} failed:\n{err_text[-3000:]}")
    return (json.loads(out_text.strip().splitlines()[-1]), wall, ru.ru_utime + ru.ru_stime,
            ru.ru_maxrss / 1024.0)


def _city(gridbench: Path, n: int, seed: int) -> Path:
    path = OUT / f"city{n}_seed{seed}.gpkg"
    if not path.exists():
        print(f"  drawing a {n:,}-building district (make_city, seed {seed}) ...", flush=True)
        subprocess.run([sys.executable, str(gridbench / "make_city.py"), "--buildings", str(n), "--seed",
                        str(seed), "--out", str(path)], check=True, capture_output=True)
    return path


def _evaluate(gridbench: Path, city: Path, csv: Path) -> dict:
    res = subprocess.run([sys.executable, str(gridbench / "evaluate.py"), str(city), str(csv)], check=True,
                         capture_output=True, text=True)
    return json.loads(res.stdout)


def _job(gridbench: Path, city: Path, n: int, kind: str, runs: int, extra: tuple[str, ...] = ()) -> dict:
    tag = f"{city.stem}_{kind}"
    csv, rep_path = OUT / f"{tag}.csv", OUT / f"{tag}_report.json"
    times, walls, cpus, mems, files = [], [], [], [], []
    for r in range(runs):
        res, wall, cpu, mem = _spawn([kind, str(city), str(csv), *(extra or (str(rep_path),))])
        times.append(res["solve_s"])
        files.append(res["file_s"])
        walls.append(wall)
        cpus.append(cpu)
        mems.append(mem)
        print(f"  {kind:<9} {n:>6,} run {r + 1}/{runs}: solve {res['solve_s']:.1f} s, process {wall:.1f} s "
              f"({cpu:.1f} s CPU), {mem:,.0f} MB", flush=True)
    score = _evaluate(gridbench, city, csv)
    ours = json.loads(rep_path.read_text()) if kind != "spopt" else {}
    return {"n": n, "kind": kind, "runs": runs, "solve": statistics.median(times),
            "file": statistics.median(files), "process": statistics.median(walls), "cpu": statistics.median(cpus),
            "mem": max(mems),
            "score": score, "ours": {k: v for k, v in ours.items() if k not in ("grids", "changes")}}


def _fmt_pair(ours, theirs, pct=True) -> str:
    def f(x):
        if x is None:
            return "—"
        if isinstance(x, bool):
            return "yes" if x else "NO"
        return f"{100 * x:.1f}%" if pct else f"{x:.3f}"
    if ours is None or ours == {}:
        return f(theirs)
    return f"{f(ours)} / {f(theirs)}"


def _table(rows: list[dict]) -> None:
    head = ("size", "mode", "runs", "solve s", "file s", "process s", "CPU s", "peak MB", "grids",
            "in band (ours/scorer)", "contig.", "mean PP (ours/scorer)", "changed units", "changed hh",
            "explained")
    lines = [head]
    for r in rows:
        s, o = r["score"], r["ours"]
        lines.append((
            f"{r['n']:,}", r["kind"], str(r["runs"]), f"{r['solve']:.1f}", f"{r['file']:.1f}",
            f"{r['process']:.1f}", f"{r['cpu']:.1f}", f"{r['mem']:,.0f}", str(s["n_grids"]),
            _fmt_pair(o.get("share_grids_within_bounds"), s["share_grids_within_bounds"]),
            _fmt_pair(o.get("all_contiguous"), s["all_contiguous"]),
            _fmt_pair(o.get("mean_polsby_popper"), s["mean_polsby_popper"], pct=False),
            _fmt_pair(o.get("changed_units_share"), s.get("changed_units_share")),
            _fmt_pair(o.get("changed_households_share"), s.get("changed_households_share")),
            "—" if not o else f"{o['n_infeasible']}/{o['n_out_of_band']} proven"))
    widths = [max(len(x[i]) for x in lines) for i in range(len(head))]
    for k, line in enumerate(lines):
        print("  ".join(c.rjust(w) if i < 9 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def _verdict(rows: list[dict]) -> None:
    print("\ntargets (2 cores):")
    for r in rows:
        s, o = r["score"], r["ours"]
        if r["kind"] == "partition":
            t = TARGETS.get(r["n"])
            if t:
                print(f"  {r['n']:>6,} partition time {r['file']:.1f} s wall (read+solve+write, median of "
                      f"{r['runs']}; {r['cpu']:.1f} s CPU for the whole process) <= {t:.0f} s: "
                      f"{'met' if r['file'] <= t else 'NOT met'}")
            if r["n"] >= 50_000:
                print(f"  {r['n']:>6,} peak memory {r['mem']:,.0f} MB <= 4,096 MB: "
                      f"{'met' if r['mem'] <= 4096 else 'NOT met'}")
            ib = s["share_grids_within_bounds"]
            print(f"  {r['n']:>6,} partition in band {100 * ib:.1f}% >= 97%: {'met' if ib >= 0.97 else 'NOT met'}; "
                  f"{o['n_out_of_band']} out of band, {o['n_infeasible']} proven infeasible, "
                  f"{o['n_unresolved']} unresolved")
            print(f"  {r['n']:>6,} contiguity {s['all_contiguous']}, mean PP {s['mean_polsby_popper']:.3f} >= 0.45: "
                  f"{'met' if s['all_contiguous'] and s['mean_polsby_popper'] >= 0.45 else 'NOT met'}")
            if s.get("changed_units_share") is not None:
                print(f"  {r['n']:>6,} a fresh partition changes {100 * s['changed_units_share']:.1f}% of units "
                      f"against the existing plan")
        elif r["kind"] == "rebalance":
            ib, ch = s["share_grids_within_bounds"], s["changed_units_share"]
            ok = ib >= 0.97 and ch <= 0.20
            print(f"  {r['n']:>6,} rebalance in band {100 * ib:.1f}% (>= 97%), units changed {100 * ch:.1f}% "
                  f"(<= 20%): {'met' if ok else 'NOT met'}; time {r['file']:.1f} s")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        _worker(argv[1:])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 50000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3, help="runs per job below 50,000 buildings (median)")
    ap.add_argument("--runs-large", type=int, default=1, help="runs per job from 50,000 buildings up")
    ap.add_argument("--no-rebalance", action="store_true")
    ap.add_argument("--no-spopt", action="store_true", help="skip spopt MaxPHeuristic on the 2,000 district")
    ap.add_argument("--spopt-iters", type=int, nargs=2, default=[10, 2], metavar=("CONSTRUCTIONS", "SA"),
                    help="MaxPHeuristic max_iterations_construction and max_iterations_sa (spopt's defaults are 99 "
                         "and 10, about ten times longer)")
    shared = Path(__file__).resolve().parents[2] / "shared"
    ap.add_argument("--gridbench", type=Path, default=Path(os.environ.get("GRIDBENCH_DIR", shared / "gridbench")))
    a = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    spopt_row = None
    for n in a.sizes:
        city = _city(a.gridbench, n, a.seed)
        runs = a.runs if n < 50_000 else a.runs_large
        rows.append(_job(a.gridbench, city, n, "partition", runs))
        if not a.no_rebalance:
            rows.append(_job(a.gridbench, city, n, "rebalance", runs))
        if n == 2000 and not a.no_spopt:
            spopt_row = _job(a.gridbench, city, n, "spopt", 1,
                             extra=(str(a.spopt_iters[0]), str(a.spopt_iters[1])))
            rows.append(spopt_row)
    print()
    _table(rows)
    existing = {}
    for n in a.sizes:
        city = _city(a.gridbench, n, a.seed)
        existing[n] = _evaluate(a.gridbench, city, Path("column:grid_prev"))
    print("\nexisting plan (grid_prev) scored on today's households: " + ", ".join(
        f"{n:,}: {100 * e['share_grids_within_bounds']:.1f}% in band" for n, e in existing.items()))
    if spopt_row is not None:
        ours = next(r for r in rows if r["n"] == 2000 and r["kind"] == "partition")
        print(f"\nspopt MaxPHeuristic (household floor) vs ours on 2,000 buildings: "
              f"{spopt_row['solve']:.1f} s vs {ours['solve']:.1f} s solve (x{spopt_row['solve'] / ours['solve']:.0f}), "
              f"{100 * spopt_row['score']['share_grids_within_bounds']:.1f}% vs "
              f"{100 * ours['score']['share_grids_within_bounds']:.1f}% of grids in both bands, "
              f"PP {spopt_row['score']['mean_polsby_popper']:.2f} vs {ours['score']['mean_polsby_popper']:.2f}")
    _verdict(rows)


if __name__ == "__main__":
    main()
