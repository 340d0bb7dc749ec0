"""Everything the browser is served from assets/ stays on the machine: no internet address in any script or sheet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ASSETS = Path(__file__).resolve().parents[2] / "assets"
URL = re.compile(r"https?://[^\s\"'`)]+")
FILES = sorted(p for p in ASSETS.rglob("*") if p.suffix in (".js", ".css"))


def _code(path: Path) -> str:
    """The file without its leading licence comment (which may name where the package came from)."""
    text = path.read_text(encoding="utf-8")
    if text.startswith("/*"):
        text = text.split("*/", 1)[1]
    return text


def test_there_are_assets_to_check():
    assert any(p.parent.name == "vendor" for p in FILES), FILES


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ASSETS)) for p in FILES])
def test_no_internet_address_in_served_code(path):
    assert URL.findall(_code(path)) == []
