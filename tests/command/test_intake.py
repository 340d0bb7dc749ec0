"""Intake: one register, idempotent per channel and external id, nothing stored half."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from command.intake import EventIn, PlausibleReportTimes, intake, intake_many
from layers.errors import Conflict, LoadError


def _count(conn) -> int:
    return conn.execute(text("SELECT count(*) FROM event")).scalar_one()


def test_an_event_is_routed_and_given_department_priority_and_deadline(conn, spot, kit):
    reported = kit.at(3, 16, 30)  # Friday 3 January 2031
    got = intake(conn, EventIn(channel="patrol", external_id="p-1", category="020103", lon=spot.lon, lat=spot.lat,
                               reported_at=reported), actor="worker-7")
    assert got.created and got.category_code == "020103"
    assert (got.grid_id, got.community_id, got.street_id) == (spot.grid_id, spot.community_id, spot.street_id)
    assert (got.department, got.priority, got.location_kind) == ("环卫处", 2, "point")
    # 8 working hours from Friday 16:30: 1 h on Friday, 7 h on Monday -> Monday 17:30
    assert got.deadline_at == kit.at(6, 17, 30)
    row = kit.event_row(got.id)
    assert (row.state, row.channel, row.source_class, row.grid_id) == ("reported", "patrol", "020103", spot.grid_id)
    history = conn.execute(text("SELECT from_state, to_state, actor FROM event_history WHERE event_id = :id"),
                           {"id": got.id}).all()
    assert [tuple(h) for h in history] == [(None, "reported", "worker-7")]
    audit = conn.execute(text("SELECT action, actor, detail FROM audit_log WHERE entity = 'event' AND entity_id = :id"),
                         {"id": str(got.id)}).one()
    assert (audit.action, audit.actor, audit.detail["leaf"]) == ("intake", "worker-7", "020103")


def test_a_priority_one_leaf_runs_on_clock_hours_through_the_weekend(conn, spot, kit):
    got = intake(conn, EventIn(channel="video", external_id="v-9", category="070201", lon=spot.lon, lat=spot.lat,
                               reported_at=kit.at(3, 17, 0)))
    assert got.deadline_at == kit.at(3, 18, 0)


def test_a_deadline_skips_the_national_day_holiday_of_the_shipped_calendar(conn, spot, kit):
    # Wed 30 Sep 2026 16:00 + 8 working hours: 1.5 h on Wednesday; 1-7 October are off (国庆);
    # Thu 8 October 3 h (4.5) and 3.5 h after 13:30 -> 17:00
    got = intake(conn, EventIn(channel="patrol", external_id="p-nd", category="020103", lon=spot.lon, lat=spot.lat,
                               reported_at=kit.at(30, 16, month=9, year=2026)))
    assert got.deadline_at == kit.at(8, 17, month=10, year=2026)


def test_the_same_channel_and_external_id_twice_is_one_event(conn, spot, kit):
    first = intake(conn, EventIn(channel="hotline", external_id="12345-0001", category="暴露垃圾", lon=spot.lon,
                                 lat=spot.lat, reported_at=kit.at(6, 10)))
    before = _count(conn)
    again = intake(conn, EventIn(channel="hotline", external_id="12345-0001", category="暴露垃圾", lon=spot.lon,
                                 lat=spot.lat, reported_at=kit.at(6, 10)))
    assert (again.id, again.code, again.created) == (first.id, first.code, False)
    assert again.deadline_at == first.deadline_at
    assert _count(conn) == before
    # a repeat that says something else (another time; a class and place that would be refused) is a conflict
    # naming the first event, not a silent 200 as if it had been taken
    for other in (dict(category="暴露垃圾", lon=spot.lon, lat=spot.lat, reported_at=kit.at(6, 11)),
                  dict(category="no such class", street="x")):
        with pytest.raises(Conflict) as caught:
            intake(conn, EventIn(channel="hotline", external_id="12345-0001", **other))
        assert caught.value.detail == {"event_id": first.id, "event_code": first.code}
        assert caught.value.field == "external_id"
    assert _count(conn) == before
    # the same external id on another channel is another event
    other = intake(conn, EventIn(channel="patrol", external_id="12345-0001", category="暴露垃圾", lon=spot.lon,
                                 lat=spot.lat, reported_at=kit.at(20, 10)))
    assert other.created and other.id != first.id


def test_a_hotline_record_with_only_a_community_is_routed_not_refused(conn, spot):
    name = conn.execute(text("SELECT name FROM admin_area WHERE id = :c"), {"c": spot.community_id}).scalar_one()
    got = intake(conn, EventIn(channel="hotline", external_id="h-77", category="下水井盖", community=name))
    assert got.created and got.category_code == "020902"  # resolved through the 12345 alias table
    assert (got.location_kind, got.grid_id, got.community_id, got.street_id) == (
        "community", None, spot.community_id, spot.street_id)
    assert _geom_is_null(conn, got.id)


def _geom_is_null(conn, event_id: int) -> bool:
    return conn.execute(text("SELECT geom IS NULL FROM event WHERE id = :id"), {"id": event_id}).scalar_one()


def test_refusals_store_nothing(conn, spot):
    before = _count(conn)
    with pytest.raises(LoadError, match="unknown event class") as err:
        intake(conn, EventIn(channel="city_mgmt", external_id="dcm-1", category="飞碟降落", lon=spot.lon, lat=spot.lat))
    assert (err.value.field, err.value.source) == ("category", "city_mgmt:dcm-1")
    west = conn.execute(text("SELECT ST_XMin(geom) - 0.02, ST_YMin(geom) FROM admin_area"
                             " WHERE level = 'district'")).one()
    with pytest.raises(LoadError, match="outside the district"):
        intake(conn, EventIn(channel="video", external_id="v-1", category="020103", lon=west[0], lat=west[1]))
    assert _count(conn) == before
    assert conn.execute(text("SELECT count(*) FROM audit_log WHERE detail->>'external_id' IN ('dcm-1', 'v-1')")
                        ).scalar_one() == 0


def test_incoming_events_are_validated():
    with pytest.raises(ValidationError, match="needs a location"):
        EventIn(channel="hotline", external_id="x", category="020103")
    with pytest.raises(ValidationError, match="both lon and lat"):
        EventIn(channel="hotline", external_id="x", category="020103", lon=113.0)
    with pytest.raises(ValidationError):
        EventIn(channel="fax", external_id="x", category="020103", street="s")


def test_a_batch_is_taken_in_order(conn, spot, kit):
    events = [EventIn(channel="patrol", external_id=f"b-{i}", category="020202",
                      lon=kit.offset(spot.lon, spot.lat, 100.0 * i, 0)[0], lat=spot.lat, reported_at=kit.at(7, 10))
              for i in range(-1, 2)]
    got = intake_many(conn, events, actor="gateway")
    assert [g.created for g in got] == [True, True, True]
    assert len({g.id for g in got}) == 3 and all(g.duplicate_of is None for g in got)


def test_a_burst_is_registered_like_single_events(conn, spot, kit):
    def ev(ext, east, north=0.0, category="020103", channel="video", hour=10):
        lon, lat = kit.offset(spot.lon, spot.lat, east, north)
        return EventIn(channel=channel, external_id=ext, category=category, lon=lon, lat=lat,
                       reported_at=kit.at(7, hour))

    stored = intake(conn, ev("s-1", -100))
    burst = [
        ev("b-1", 0), ev("b-2", 40), ev("b-3", 130), ev("b-4", -90), ev("s-1", -100),
        ev("b-1", 0), ev("b-5", 0, category="070201"), ev("b-6", 10, channel="patrol", hour=9),
    ]
    got = intake_many(conn, burst, actor="gateway")
    assert [g.created for g in got] == [True, True, True, True, False, False, True, True]
    first, second, third, fourth, repeat, again, fire, earlier = got
    assert second.duplicate_of == first.id  # 40 m from b-1, earlier in the same burst
    assert third.duplicate_of is None  # 130 m from b-1, 90 m from b-2
    assert fourth.duplicate_of == stored.id  # 10 m from a stored event
    assert repeat.id == stored.id and again.id == first.id
    assert fire.duplicate_of is None and fire.priority == 1 and fire.deadline_at == kit.at(7, 11)
    assert earlier.duplicate_of == first.id  # the batch's own order decides, as it would one by one
    assert (first.grid_id, first.community_id, first.street_id) == (spot.grid_id, spot.community_id, spot.street_id)
    assert kit.event_row(first.id).duplicate_count == 2 and kit.event_row(stored.id).duplicate_count == 1
    assert kit.event_row(first.id).code == first.code
    assert kit.count("SELECT count(*) FROM event_history WHERE event_id = ANY(:ids)",
                     ids=[g.id for g in got if g.created]) == 6
    assert kit.count("SELECT count(*) FROM audit_log WHERE actor = 'gateway' AND entity = 'event'") == 6


def test_a_burst_with_one_bad_event_stores_nothing(conn, spot, kit):
    before = _count(conn)
    good = EventIn(channel="video", external_id="g-1", category="020103", lon=spot.lon, lat=spot.lat)
    bad = EventIn(channel="video", external_id="g-2", category="飞碟降落", lon=spot.lon, lat=spot.lat)
    with pytest.raises(LoadError, match="unknown event class") as err:
        intake_many(conn, [good, bad])
    assert err.value.feature == 1
    outside = EventIn(channel="video", external_id="g-3", category="020103", lon=spot.lon + 1.0, lat=spot.lat)
    with pytest.raises(LoadError, match="outside the district") as err:
        intake_many(conn, [good, outside])
    assert err.value.feature == 1
    assert _count(conn) == before


def test_a_batch_with_events_without_a_point_is_taken_one_by_one(conn, spot):
    name = conn.execute(text("SELECT name FROM admin_area WHERE id = :c"), {"c": spot.community_id}).scalar_one()
    got = intake_many(conn, [
        EventIn(channel="hotline", external_id="m-1", category="下水井盖", community=name),
        EventIn(channel="patrol", external_id="m-2", category="020202", lon=spot.lon, lat=spot.lat),
    ])
    assert [(g.created, g.location_kind) for g in got] == [(True, "community"), (True, "point")]
    with pytest.raises(LoadError, match="no community called") as err:
        intake_many(conn, [EventIn(channel="hotline", external_id="m-3", category="020202", community="不存在社区")])
    assert err.value.feature == 0


def _statements(conn):
    """A list that fills with every statement ``conn`` sends, for counting round trips."""
    from sqlalchemy import event

    sent: list[str] = []
    event.listen(conn, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def test_a_point_event_costs_one_statement_once_the_taxonomy_is_known(conn, spot, kit):
    intake(conn, EventIn(channel="patrol", external_id="rt-0", category="020103", lon=spot.lon, lat=spot.lat,
                         reported_at=kit.at(7, 10)))  # reads the current taxonomy if this process has none yet
    sent = _statements(conn)
    got = intake(conn, EventIn(channel="patrol", external_id="rt-1", category="020103", lon=spot.lon, lat=spot.lat,
                               reported_at=kit.at(14, 10)))
    assert got.created and len(sent) == 1  # lookup, event, history, audit: one statement
    assert (kit.event_row(got.id).state, _count_history(conn, got.id)) == ("reported", 1)
    sent.clear()
    again = intake(conn, EventIn(channel="patrol", external_id="rt-1", category="020103", lon=spot.lon, lat=spot.lat,
                                 reported_at=kit.at(14, 10)))
    assert again.id == got.id and not again.created and len(sent) == 2  # a repeat reads the first registration


def _count_history(conn, event_id: int) -> int:
    return conn.execute(text("SELECT count(*) FROM event_history WHERE event_id = :i"), {"i": event_id}).scalar_one()


def test_a_taxonomy_loaded_after_this_process_read_one_is_used_at_once(conn, spot, kit, tmp_path):
    import json

    from command.taxonomy import TAXONOMY_FILE, load_taxonomy

    before = intake(conn, EventIn(channel="patrol", external_id="tx-1", category="020103", lon=spot.lon,
                                  lat=spot.lat, reported_at=kit.at(7, 10)))
    assert before.department == "环卫处"
    doc = json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    doc["version"] += 1
    leaf = next(x for c in doc["classes"] for s in c["children"] for x in s["children"] if x["code"] == "020103")
    leaf["department"] = "新环卫中心"
    newer = tmp_path / "taxonomy.json"
    newer.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    load_taxonomy(conn, newer)
    after = intake(conn, EventIn(channel="patrol", external_id="tx-2", category="020103", lon=spot.lon,
                                 lat=spot.lat, reported_at=kit.at(21, 10)))
    assert after.created and after.department == "新环卫中心"
    assert kit.event_row(after.id).department == "新环卫中心"


def test_a_batch_repeating_an_external_id_with_another_payload_is_a_conflict_at_its_index(conn, spot, kit):
    same = dict(channel="video", category="暴露垃圾", lon=spot.lon, lat=spot.lat)
    first = intake(conn, EventIn(external_id="cam-9", reported_at=kit.at(6, 10), **same))
    again = intake_many(conn, [EventIn(external_id="cam-9", reported_at=kit.at(6, 10), **same)])
    assert (again[0].id, again[0].created) == (first.id, False)  # the same payload stays idempotent
    with pytest.raises(Conflict) as stored:
        intake_many(conn, [EventIn(external_id="cam-10", reported_at=kit.at(6, 10), **same),
                           EventIn(external_id="cam-9", reported_at=kit.at(6, 12), **same)])
    assert (stored.value.feature, stored.value.field, stored.value.detail["event_id"]) == (1, "external_id", first.id)
    with pytest.raises(Conflict) as inside:
        intake_many(conn, [EventIn(external_id="cam-11", reported_at=kit.at(6, 10), **same),
                           EventIn(external_id="cam-11", reported_at=kit.at(6, 12), **same)])
    assert (inside.value.feature, inside.value.field) == (1, "external_id")


def test_a_reported_time_at_the_end_of_the_calendar_is_refused_by_field_not_overflowed(conn, spot):
    late = datetime(9999, 12, 31, 22, tzinfo=UTC)
    with pytest.raises(LoadError) as point:
        intake(conn, EventIn(channel="patrol", external_id="p-9999", category="暴露垃圾", lon=spot.lon, lat=spot.lat,
                             reported_at=late))
    assert point.value.field == "reported_at" and "no room for a deadline" in point.value.message


def test_plausible_report_times_refuse_1900_and_2099_by_index_and_field():
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    window = PlausibleReportTimes(earliest=datetime(2000, 1, 1, tzinfo=UTC), skew=timedelta(minutes=5))
    ok = EventIn(channel="patrol", external_id="a", category="x", street="s", reported_at=now + timedelta(minutes=4))
    window.check([ok, ok.model_copy(update={"reported_at": None})], now=now)  # a fast clock and "now" are fine
    for at, why in ((datetime(1900, 1, 1, tzinfo=UTC), "before 2000-01-01"),
                    (datetime(2099, 1, 1, tzinfo=UTC), "300 s in the future")):
        with pytest.raises(LoadError) as caught:
            window.check([ok, ok.model_copy(update={"reported_at": at})], now=now)
        assert (caught.value.feature, caught.value.field) == (1, "reported_at") and why in caught.value.message
