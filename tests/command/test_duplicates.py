"""Duplicates across channels: inside and outside radius and window, counted, not dispatched, merged and split."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from command.dispatch import dispatch_worker
from command.duplicates import duplicates_of, merge, split
from command.intake import EventIn, intake
from command.lifecycle import transition
from layers.errors import Conflict

GARBAGE = "020103"  # 暴露垃圾: radius 80 m, window 24 h


def _report(conn, kit, spot, ext, *, east=0.0, north=0.0, when=None, channel="patrol", category=GARBAGE):
    lon, lat = kit.offset(spot.lon, spot.lat, east, north)
    return intake(conn, EventIn(channel=channel, external_id=ext, category=category, lon=lon, lat=lat,
                                reported_at=when or kit.at(7, 10)))


def test_a_report_inside_radius_and_window_from_another_channel_is_a_duplicate(conn, spot, kit):
    first = _report(conn, kit, spot, "p-1")
    second = _report(conn, kit, spot, "h-1", east=50, when=kit.at(7, 20), channel="hotline")
    third = _report(conn, kit, spot, "v-1", north=-60, when=kit.at(8, 9), channel="video")
    assert first.duplicate_of is None
    assert second.duplicate_of == first.id and third.duplicate_of == first.id
    assert kit.event_row(first.id).duplicate_count == 2
    assert duplicates_of(conn, first.id) == [second.id, third.id]
    assert conn.execute(text("SELECT action FROM audit_log WHERE entity = 'event' AND entity_id = :id"),
                        {"id": str(second.id)}).scalar_one() == "intake_duplicate"


def test_outside_the_radius_is_a_new_event(conn, spot, kit):
    first = _report(conn, kit, spot, "p-1")
    far = _report(conn, kit, spot, "p-2", east=120)
    assert far.duplicate_of is None and kit.event_row(first.id).duplicate_count == 0


def test_outside_the_window_either_side_is_a_new_event(conn, spot, kit):
    first = _report(conn, kit, spot, "p-1", when=kit.at(7, 10))
    later = _report(conn, kit, spot, "p-2", when=kit.at(8, 10, 1))   # 24 h and a minute later
    earlier = _report(conn, kit, spot, "p-3", when=kit.at(6, 9, 59))  # back-filled, a day and a minute before
    assert later.duplicate_of is None and earlier.duplicate_of is None
    within = _report(conn, kit, spot, "p-4", when=kit.at(8, 9, 59))
    assert within.duplicate_of == first.id


def test_another_leaf_or_a_finished_event_is_not_matched(conn, spot, kit):
    first = _report(conn, kit, spot, "p-1")
    other_leaf = _report(conn, kit, spot, "p-2", category="020102")
    assert other_leaf.duplicate_of is None
    conn.execute(text("UPDATE event SET state = 'closed' WHERE id = :id"), {"id": first.id})
    after_close = _report(conn, kit, spot, "p-3", when=kit.at(7, 12))
    assert after_close.duplicate_of is None


def test_a_duplicate_of_a_duplicate_points_at_the_first(conn, spot, kit):
    first = _report(conn, kit, spot, "p-1")
    second = _report(conn, kit, spot, "p-2", east=70)
    third = _report(conn, kit, spot, "p-3", east=140)  # 140 m from the first, 70 m from the second
    assert second.duplicate_of == first.id and third.duplicate_of == first.id
    assert kit.event_row(first.id).duplicate_count == 2


def test_a_duplicate_is_not_dispatched(conn, quiet, kit):
    first = _report(conn, kit, quiet, "p-1")
    dup = _report(conn, kit, quiet, "h-1", channel="hotline")
    kit.worker("T-W1", quiet.lon, quiet.lat)
    with pytest.raises(Conflict, match=f"duplicate of event {first.id}"):
        dispatch_worker(conn, dup.id, actor="op")


def test_merge_and_split_by_hand(conn, spot, kit):
    a = _report(conn, kit, spot, "p-1")
    b = _report(conn, kit, spot, "p-2", east=-150)
    c = _report(conn, kit, spot, "p-3", east=-150, north=40)
    assert c.duplicate_of == b.id
    assert merge(conn, b.id, a.id, actor="op", note="same pile, two addresses") == a.id
    assert kit.event_row(b.id).duplicate_of_id == a.id
    assert kit.event_row(c.id).duplicate_of_id == a.id  # b's duplicates follow it
    assert (kit.event_row(a.id).duplicate_count, kit.event_row(b.id).duplicate_count) == (2, 0)
    assert split(conn, b.id, actor="op") == a.id
    assert kit.event_row(b.id).duplicate_of_id is None and kit.event_row(a.id).duplicate_count == 1
    actions = conn.execute(text("SELECT action FROM audit_log WHERE entity = 'event' AND entity_id = :id"
                                " AND action IN ('merge', 'split') ORDER BY id"), {"id": str(b.id)}).scalars().all()
    assert actions == ["merge", "split"]


def test_merge_and_split_refusals(conn, spot, kit):
    a = _report(conn, kit, spot, "p-1")
    b = _report(conn, kit, spot, "p-2", east=-150)
    with pytest.raises(Conflict, match="itself"):
        merge(conn, a.id, a.id, actor="op")
    with pytest.raises(Conflict, match="not a duplicate"):
        split(conn, a.id, actor="op")
    transition(conn, b.id, "rejected", actor="op")
    with pytest.raises(Conflict, match="only open events"):
        merge(conn, b.id, a.id, actor="op")
