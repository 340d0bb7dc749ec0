"""Shared helpers for the benchmarks: a throwaway cluster, timing, medians."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from layers.cluster import LocalCluster  # noqa: E402


@contextmanager
def throwaway_cluster(*, fsync: bool = True) -> Iterator[LocalCluster]:
    """A private cluster for one benchmark run (fsync on by default, as in production)."""
    cluster = LocalCluster(Path(tempfile.mkdtemp(prefix="gridwall-bench-", dir="/tmp")), fsync=fsync)
    cluster.up()
    try:
        yield cluster
    finally:
        cluster.destroy()


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    """The median, the figure we quote."""
    return statistics.median(values)


def table(rows: list[tuple], header: tuple) -> str:
    """A plain fixed-width table."""
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
