"""Strip outputs and execution counts from notebooks before committing: ``python notebooks/strip_outputs.py``.

The notebooks are committed empty (a test checks it): outputs hold the data of whichever store they last ran
on, and make every diff noise.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import nbformat

log = logging.getLogger("strip_outputs")


def strip(path: Path) -> bool:
    """Clear one notebook's outputs in place; True when it changed."""
    book = nbformat.read(path, as_version=4)
    changed = False
    for cell in book.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count, changed = [], None, True
        if "execution" in cell.metadata:
            del cell.metadata["execution"]
            changed = True
    if changed:
        nbformat.write(book, path)
    return changed


def main(paths: list[str]) -> None:
    """Strip the given notebooks, or all of this folder's."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    targets = [Path(p) for p in paths] or sorted(Path(__file__).parent.glob("*.ipynb"))
    for path in targets:
        if strip(path):
            log.info("stripped %s", path)


if __name__ == "__main__":
    main(sys.argv[1:])
