"""app.i18n: labels in Chinese first, English switchable."""

from __future__ import annotations

from app.i18n import version_label


def test_a_version_is_labelled_with_its_day_state_share_and_currency():
    row = {"version_id": 12, "created_at": "2026-11-20T09:30:00+08:00", "state": "accepted", "is_current": True,
           "share_in_band": 0.9724, "n_grids": 145}
    assert version_label(row, "zh") == "v12 · 2026-11-20 · 已采纳 · 达标比例 97.2% · 现行网格"
    imported = row | {"version_id": 1, "state": "proposed", "is_current": False, "share_in_band": None}
    assert version_label(imported, "en") == "v1 · 2026-11-20 · Proposal"
