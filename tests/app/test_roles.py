"""Named people work the loop in Chromium, each signed in as themselves (issue #19's "done when").

An operator registers a hotline call by a fuzzy address and dispatches, meeting the conflict when another operator
took the worker first; a grid worker settles their own report (自办自结); a supervisor verifies and closes with a
rating; the admin finds each of these steps on the audit page under the person's name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.app.conftest import PASSWORD, sign_in
from tests.app.test_console import _grid_centre, _Panel


@contextmanager
def _desk(browser, wall_url: str, login: str) -> Iterator[object]:
    """A browser of its own, signed in as ``login`` (each person their own session)."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = context.new_page()
    try:
        sign_in(pg, wall_url, login, then="/console")
        yield pg
    finally:
        context.close()


def _as(api_url: str, login: str) -> httpx.Client:
    """The API as a signed-in person (another desk, a phone): their own session token."""
    token = httpx.post(f"{api_url}/auth/login", json={"login": login, "password": PASSWORD}).json()["token"]
    return httpx.Client(base_url=api_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _open(pg, code: str) -> None:
    """Find an event by its code in the console's search and open it."""
    pg.wait_for_selector("#console-search", timeout=20_000)
    pg.locator("#console-search").fill(code)
    pg.locator("#console-search").press("Enter")
    hit = pg.locator("[id*='console-hit']", has_text=code).first  # this search's answer, not a list before it
    hit.wait_for(timeout=20_000)
    hit.click()
    pg.wait_for_function(f"(document.querySelector('#console-event-code') || {{}}).innerText?.includes('{code}')",
                         timeout=20_000)


def _history(api, event_id: int) -> list[tuple[str, str]]:
    return [(h["to_state"], h["actor"]) for h in api.get(f"/events/{event_id}").json()["history"]]


def test_an_operator_registers_a_call_by_a_fuzzy_address_and_meets_the_conflict(wall_url, api, api_url, browser):
    leaf = next(s for s in api.get("/open311/v2/services.json").json() if s["service_code"] == "030101")
    address = next(f["properties"]["address"] for f in api.get("/layers/buildings", params={
        "limit": 50, "offset": 400}).json()["features"] if "号" in (f["properties"].get("address") or ""))
    street_number = address[:address.index("号") + 1]
    with _desk(browser, wall_url, "op-li") as pg:
        pg.locator("#console-register-toggle").click()
        pg.locator("#console-r-title").fill("路灯不亮")
        pg.locator("#console-r-class").click()
        pg.locator(".dash-dropdown-search").fill(leaf["service_name"])
        pg.locator(".dash-dropdown-option", has_text=leaf["service_name"]).first.click()
        pg.keyboard.press("Escape")
        pg.locator("#console-r-address").fill("长沙市开福区" + street_number)  # as the caller says it
        pg.locator("#console-r-address").press("Enter")
        pg.wait_for_selector("[id*='console-addr']", timeout=20_000)
        pg.locator("[id*='console-addr']").first.click()
        pg.wait_for_function("document.querySelector('#console-r-point').innerText.includes('.')", timeout=20_000)
        pg.locator("#console-r-submit").click()
        pg.wait_for_selector("#console-r-done", timeout=20_000)
        code = pg.locator("#console-r-done").inner_text().split(":")[-1].strip()
        pg.wait_for_function(f"(document.querySelector('#console-event-code') || {{}}).innerText?.includes('{code}')",
                             timeout=20_000)
        event_id = api.get("/events", params={"q": code}).json()["events"][0]["id"]
        _Panel(pg).move("accepted")
        pg.wait_for_selector("#console-candidates button[data-worker]", timeout=20_000)
        worker_id = int(pg.locator("#console-candidates button[data-worker]").first.get_attribute("data-worker"))

        # another operator, at another desk, sends that very worker elsewhere first
        with _as(api_url, "op-wang") as wang:
            lon, lat = _grid_centre(api, 11)
            other = wang.post("/events", json={"channel": "hotline", "external_id": f"roles-{time.time_ns()}",
                                               "category": "030101", "lon": lon, "lat": lat, "title": "另一起"})
            assert other.status_code == 201, other.text
            wang.post(f"/events/{other.json()['id']}/transitions", json={"to_state": "accepted"})
            taken = wang.post(f"/events/{other.json()['id']}/dispatch/worker", json={"worker_id": worker_id})
            assert taken.status_code == 200, taken.text

        pg.locator(f"#console-candidates button[data-worker='{worker_id}']").click()
        pg.wait_for_selector("#console-dispatch-message.msg-warn", timeout=20_000)  # the conflict, said as such
        pg.locator(".console-send-best").click()
        pg.wait_for_selector("#console-dispatch-message.msg-ok", timeout=20_000)
    detail = api.get(f"/events/{event_id}").json()
    assert detail["channel"] == "hotline" and detail["state"] == "dispatched"
    assert [a["assigned_by"] for a in detail["assignments"] if a["kind"] == "worker"] == ["operator:op-li"]
    assert {actor for _, actor in _history(api, event_id)} == {"operator:op-li"}
    assert all(a["worker_id"] != worker_id for a in detail["assignments"] if a["kind"] == "worker")


def test_a_grid_worker_settles_their_own_report(wall_url, api, api_url, browser):
    with _as(api_url, "worker-chen") as phone:
        me = phone.get("/workers/me").json()
        lon, lat = _grid_centre(api, 13)
        filed = phone.post("/events", json={"channel": "self_settled", "external_id": f"settle-{time.time_ns()}",
                                            "category": "030101", "lon": lon, "lat": lat, "title": "占道堆物已清理"})
        assert filed.status_code == 201, filed.text
    event_id, code = filed.json()["id"], filed.json()["code"]
    with _desk(browser, wall_url, "worker-chen") as pg:
        assert pg.url.endswith("/console")
        _open(pg, code)
        _Panel(pg).press("#console-actions button[id*='self_settle']")
        pg.wait_for_function("document.querySelector('#console-event-state').innerText.includes('结案')",
                             timeout=20_000)
    assert api.get(f"/events/{event_id}").json()["state"] == "closed"
    assert {actor for _, actor in _history(api, event_id)} == {"grid_worker:worker-chen"}
    assert me["code"]  # the person is the worker whose phone filed it


def test_a_supervisor_verifies_and_closes_with_a_rating(wall_url, api, browser):
    lon, lat = _grid_centre(api, 15)
    filed = api.post("/events", json={"channel": "hotline", "external_id": f"verify-{time.time_ns()}",
                                      "category": "030101", "lon": lon, "lat": lat, "title": "井盖已更换"})
    event_id, code = filed.json()["id"], filed.json()["code"]
    api.post(f"/events/{event_id}/transitions", json={"to_state": "accepted"})
    assert api.post(f"/events/{event_id}/dispatch/worker", json={}).status_code == 200
    for to_state in ("in_progress", "handled"):
        assert api.post(f"/events/{event_id}/transitions", json={"to_state": to_state}).status_code == 200
    with _desk(browser, wall_url, "sup-zhao") as pg:
        _open(pg, code)
        panel = _Panel(pg)
        panel.move("verified")
        pg.locator("#console-note").fill("回访：群众满意")
        pg.locator("#console-rating label", has_text="5").click()
        panel.move("closed")
        assert pg.locator("#console-actions button[id*='dispatch']").count() == 0  # a supervisor sends nobody
    detail = api.get(f"/events/{event_id}").json()
    assert (detail["state"], detail["rating"]) == ("closed", 5)
    assert _history(api, event_id)[-2:] == [("verified", "supervisor:sup-zhao"), ("closed", "supervisor:sup-zhao")]


def test_the_audit_page_shows_each_step_under_the_person_s_name(wall_url, api, page):
    pg, outside = page
    pg.goto(f"{wall_url}/audit", wait_until="domcontentloaded")
    pg.wait_for_selector("#audit-rows tr", timeout=20_000)
    for who, name in (("op-li", "李调度"), ("worker-chen", "陈网格"), ("sup-zhao", "赵监督"), ("op-wang", "王调度")):
        pg.fill("#audit-actor", who)
        pg.press("#audit-actor", "Enter")
        try:
            pg.wait_for_function(
                "[...document.querySelectorAll('#audit-rows .audit-actor')].length > 0 && [...document."
                f"querySelectorAll('#audit-rows .audit-actor')].every(td => td.innerText.includes('{who}'))",
                timeout=15_000)
        except Exception as exc:  # say what the page shows instead
            direct = api.get("/audit", params={"actor": who}).json()
            raise AssertionError(f"{who}: {pg.locator('#audit-root').inner_text()[:600]} / the API: "
                                 f"{str(direct)[:600]}") from exc
        actors = pg.locator("#audit-rows .audit-actor").all_inner_texts()
        assert all(a.startswith(name) for a in actors), actors
        actions = pg.locator("#audit-rows .audit-action").all_inner_texts()
        assert actions, who
    assert outside == [], f"requests left the server: {outside[:5]}"
