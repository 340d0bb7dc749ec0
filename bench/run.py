"""Run a benchmark of gridwall by name: each prints figures, medians and ratios.

    .venv/bin/python bench/run.py --list
    .venv/bin/python bench/run.py load --scale default --repeat 3
    .venv/bin/python bench/run.py partition --sizes 2000,10000

Every benchmark is a script ``bench/bench_<name>.py`` with its own ``--help``;
this runner finds them and passes the rest of the arguments through. Timings
are never asserted in tests/: they are printed here, beside a baseline run in
the same process (bare SQL, GeoPandas' own writer, spopt …).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _benchmarks() -> dict[str, Path]:
    return {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}


def main(argv: list[str]) -> int:
    found = _benchmarks()
    if not argv or argv[0] in ("-h", "--help", "--list"):
        print(__doc__)
        print("benchmarks:", ", ".join(found) or "none")
        return 0
    name, rest = argv[0], argv[1:]
    if name not in found:
        print(f"no benchmark '{name}'; there are: {', '.join(found)}", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, str(found[name]), *rest], cwd=HERE.parent)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
