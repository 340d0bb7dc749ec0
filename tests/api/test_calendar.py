"""The working calendar over HTTP: a known year's days, a clear 503 for a year nobody loaded, /health's warning."""

from __future__ import annotations

from command.holidays import calendar_notices, today_in


def test_a_known_year_lists_its_holidays_and_tiaoxiu_days_with_their_source(client, auth):
    response = client.get("/calendar/2026", headers=auth("operator"))
    assert response.status_code == 200
    days = {d["day"]: d for d in response.json()["days"]}
    assert days["2026-10-01"]["working"] is False and days["2026-10-01"]["name"] == "国庆节"
    assert days["2026-10-10"]["working"] is True and days["2026-10-10"]["source"].startswith("chinesecalendar")


def test_a_year_the_calendar_does_not_know_is_a_404_that_says_how_to_load_it(client, auth):
    response = client.get("/calendar/2031", headers={**auth("operator"), "Accept-Language": "en"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "UnknownCalendarYear"
    assert "2031" in error["message"] and "gridwall calendar load" in error["message"]
    zh = client.get("/calendar/2031", headers=auth("operator")).json()["error"]["message"]
    assert "2031" in zh and "gridwall calendar load" in zh
    assert client.get("/calendar/2031").status_code == 401


def test_health_warns_a_keyed_caller_of_what_the_calendar_lacks(client, auth, api_engine):
    with api_engine.connect() as conn:
        expected = calendar_notices(conn, today_in())
    assert client.get("/health", headers=auth("wall")).json()["warnings"] == expected
