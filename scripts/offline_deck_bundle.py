"""Take every internet address out of the code of a deck.gl bundle: gridwall runs offline.

luma.gl's debug helpers (Spector.js, webgl-debug) and loaders.gl's worker pool default to unpkg/jsDelivr URLs. The
3-D panel uses none of them, but a URL in the shipped code is one wrong flag away from a request leaving the hall:
the debug URLs become empty (loading fails locally, inside luma's own try), loaders.gl's workers are switched off
and asking for one throws. Every replacement must match exactly once, so a new deck.gl version cannot slip by.

    python scripts/offline_deck_bundle.py assets/vendor/deck.gl-wall-9.1.14.min.js
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPLACEMENTS = [
    ('"https://cdn.jsdelivr.net/npm/spectorjs@0.9.30/dist/spector.bundle.js"', '""'),
    ('"https://unpkg.com/webgl-debug@2.0.1/index.js"', '""'),
    ('CDN:"https://unpkg.com/@loaders.gl"', "CDN:null"),
    ("`https://unpkg.com/@loaders.gl/${t.module}${a}/dist/${i}`",
     '(()=>{throw new Error("loaders.gl workers are not in this offline bundle")})()'),
    (",worker:!0,maxConcurrency:3,", ",worker:!1,maxConcurrency:3,"),
]
URL = re.compile(r"https?://[^\s\"'`)]+")


def main(path: str) -> int:
    file = Path(path)
    text = file.read_text(encoding="utf-8")
    head, sep, code = text.partition("*/\n")  # the licence header may name the npm registry; the code may not
    for old, new in REPLACEMENTS:
        if code.count(old) != 1:
            print(f"{path}: expected {old!r} once, found it {code.count(old)} times", file=sys.stderr)
            return 1
        code = code.replace(old, new)
    if left := URL.findall(code):
        print(f"{path}: internet addresses left in the code: {left}", file=sys.stderr)
        return 1
    file.write_text(head + sep + code, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
