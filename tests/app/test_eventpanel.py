"""app.eventpanel and app.eventactions: the district's clock, the moves offered, the body of a hotline call."""

from __future__ import annotations

from app.eventactions import hotline_body, missing
from app.eventpanel import event_panel, moves_of, when
from app.i18n import domain_label


def test_times_are_on_the_districts_clock():
    assert when("2026-12-07T13:14:00+00:00", "Asia/Shanghai") == "12-07 21:14"
    assert when("2026-12-07T23:59:00Z", "Asia/Shanghai") == "12-08 07:59"
    assert when(None, "Asia/Shanghai") == ""


def test_the_moves_are_the_apis_and_never_guessed():
    listed = [{"to_state": "closed", "note": "optional", "rating": "required"}]
    assert moves_of({"state": "verified", "moves": listed}) == (listed, True)
    assert moves_of({"state": "verified", "moves": []}) == ([], True)
    assert moves_of({"state": "verified"}) == ([], False)


def test_a_move_says_what_it_lacks():
    assert missing({"type": "console-move", "note": "required", "rating": "none"}, None, None) == "note_required"
    assert missing({"type": "console-move", "note": "optional", "rating": "required"}, "ok", None) == "rating_required"
    assert missing({"type": "console-move", "note": "required", "rating": "required"}, "ok", 5) is None
    assert missing({"type": "console-act", "act": "supervise"}, None, None) is None


def test_a_hotline_call_needs_words_a_class_and_a_place():
    point = {"lon": 112.98, "lat": 28.25, "address": "民亭街6号"}
    body = hotline_body("井盖缺失", "", "020101", "", point, "王先生", "13800000000")
    assert body["channel"] == "hotline" and body["external_id"].startswith("console-")
    assert (body["category"], body["lon"], body["lat"], body["address"]) == ("020101", 112.98, 28.25, "民亭街6号")
    assert body["description"] == "来电人：王先生 13800000000"
    assert hotline_body("井盖缺失", "", "020101", "", point, "", "")["external_id"] != body["external_id"]
    assert hotline_body("", "", "020101", "", point, "", "") is None
    assert hotline_body("井盖缺失", "", None, "", point, "", "") is None
    assert hotline_body("井盖缺失", "", "020101", "", None, "", "") is None
    assert "lon" not in hotline_body("井盖缺失", "", "020101", "民亭街6号", None, "", "")


def test_states_and_kinds_are_shown_through_labels():
    assert domain_label("moves", "closed", "zh") == "结案" and domain_label("moves", "returned", "en") == "Return"
    assert domain_label("states", "unheard_of", "en") == "unheard_of"  # outside a request: the value as it is
    panel = str(event_panel({"code": "EV1", "state": "handled", "history": [
        {"at": "2026-12-07T13:14:00+00:00", "from_state": "reported", "to_state": "accepted", "actor": "a"}]},
        [], "en", "Asia/Shanghai"))
    assert "12-07 21:14" in panel and "State: handled" in panel
