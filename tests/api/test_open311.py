"""Open311 GeoReport v2: services from the taxonomy, a form-encoded request filed and followed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tests.api.conftest import unique


def test_services_are_the_leaf_classes_grouped_by_top_class(client, auth):
    services = client.get("/open311/v2/services.json", headers=auth("open311")).json()
    vending = next(s for s in services if s["service_code"] == "020101")
    assert vending["service_name"] == "占道经营" and vending["group"] == "城市管理"
    definition = client.get("/open311/v2/services/020101.json", headers=auth("open311")).json()
    assert definition == {"service_code": "020101", "attributes": []}
    assert client.get("/open311/v2/services/999999.json", headers=auth("open311")).status_code == 404


def test_the_round_trip_of_a_form_encoded_request(client, keys, place):
    ticket = unique("12345")
    form = {"api_key": keys["open311"], "service_code": "020101", "lat": str(place.lat), "long": str(place.lon),
            "description": "摊贩占道", "attribute[external_id]": ticket}
    filed = client.post("/open311/v2/requests.json", data=form)
    assert filed.status_code == 201
    [answer] = filed.json()
    code = answer["service_request_id"]
    assert code.startswith("EV") and "城管局" in answer["service_notice"]
    again = client.post("/open311/v2/requests.json", data=form).json()
    assert again[0]["service_request_id"] == code  # the same ticket is one event
    [req] = client.get(f"/open311/v2/requests/{code}.json", headers={"X-API-Key": keys["open311"]}).json()
    assert req["status"] == "open" and req["status_notes"] == "上报"
    assert req["service_code"] == "020101" and req["agency_responsible"] == "城管局"
    assert req["expected_datetime"] > req["requested_datetime"]
    assert abs(req["lat"] - place.lat) < 1e-9 and req["description"] == "摊贩占道"
    listed = client.get("/open311/v2/requests.json", params={"service_request_id": code, "status": "open"},
                        headers={"X-API-Key": keys["open311"]}).json()
    assert [r["service_request_id"] for r in listed] == [code]
    closed = client.get("/open311/v2/requests.json", params={"service_request_id": code, "status": "closed"},
                        headers={"X-API-Key": keys["open311"]}).json()
    assert closed == []


def test_the_notice_is_chinese_in_the_districts_time_the_same_on_a_retry_and_english_when_asked(client, keys,
                                                                                                 place):
    form = {"api_key": keys["open311"], "service_code": "020101", "lat": str(place.lat), "long": str(place.lon),
            "description": "摊贩占道", "attribute[external_id]": unique("12345")}
    [first] = client.post("/open311/v2/requests.json", data=form).json()
    [again] = client.post("/open311/v2/requests.json", data=form).json()
    assert again == first  # word for word, time zone included
    notice = first["service_notice"]
    assert re.fullmatch(r"城管局将于 \d{4}-\d\d-\d\d \d\d:\d\d 前办理", notice), notice
    [req] = client.get(f"/open311/v2/requests/{first['service_request_id']}.json",
                       headers={"X-API-Key": keys["open311"]}).json()
    local = datetime.fromisoformat(req["expected_datetime"])
    assert local.utcoffset() == timedelta(hours=8) and notice == f"城管局将于 {local:%Y-%m-%d %H:%M} 前办理"
    [english] = client.post("/open311/v2/requests.json", data=form, headers={"Accept-Language": "en"}).json()
    assert english["service_notice"] == f"城管局 will handle it by {local.isoformat(timespec='minutes')}"
    [req_en] = client.get(f"/open311/v2/requests/{first['service_request_id']}.json",
                          headers={"X-API-Key": keys["open311"], "Accept-Language": "en"}).json()
    assert req_en["status_notes"] == "reported"
    missing = client.get("/open311/v2/requests/EV-NOPE.json", headers={"X-API-Key": keys["open311"]}).json()
    assert missing["error"]["message"] == "服务请求 EV-NOPE 不存在"


def test_bad_requests_name_the_field_and_other_roles_are_refused(client, keys, auth, place):
    no_place = client.post("/open311/v2/requests.json", data={"api_key": keys["open311"], "service_code": "020101"})
    assert no_place.status_code == 422 and no_place.json()["error"]["source"] == "body"
    unknown = client.post("/open311/v2/requests.json", json={"service_code": "nope", "lat": place.lat,
                                                             "long": place.lon}, headers=auth("open311"))
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "service_code"
    assert client.post("/open311/v2/requests.json", data={"service_code": "020101"}).status_code in (401, 422)
    assert client.get("/open311/v2/services.json", headers=auth("wall")).status_code == 403
    assert client.get("/layers/cameras", headers=auth("open311")).status_code == 403
