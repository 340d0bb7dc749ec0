"""Sign-in in front of the wall, console and planner (:mod:`app.auth`): nobody unsigned gets a page, a callback or
the live feed; a forged callback without the session's CSRF token is refused; a person's actions are theirs."""

from __future__ import annotations

import httpx
import pytest

from tests.app.conftest import PASSWORD, sign_in

#: a real callback of the shell (the language switch), as the renderer posts it
_CALLBACK = {"output": "shell-lang.data", "outputs": {"id": "shell-lang", "property": "data"},
             "inputs": [{"id": "shell-lang-toggle", "property": "n_clicks", "value": 1}],
             "state": [{"id": "shell-lang", "property": "data", "value": "zh"}],
             "changedPropIds": ["shell-lang-toggle.n_clicks"]}


@pytest.mark.parametrize("path", ["/_dash-update-component", "/live", "/basemap/roads.geojson", "/panel3d",
                                  "/_dash-layout", "/_dash-dependencies"])
def test_an_unsigned_request_to_any_callback_the_feed_or_a_payload_is_refused(wall_url, path):
    with httpx.Client(base_url=wall_url, timeout=10) as client:
        got = client.post(path, json=_CALLBACK) if path == "/_dash-update-component" else client.get(path)
    assert got.status_code == 401, (path, got.status_code, got.text[:200])


def test_an_unsigned_page_goes_to_the_sign_in_form_and_comes_back_after_it(wall_url, browser):
    context = browser.new_context()
    pg = context.new_page()
    try:
        pg.goto(f"{wall_url}/console", wait_until="domcontentloaded")
        assert "/login" in pg.url and pg.locator("#login-form").count() == 1
        pg.fill("#login", "op-li")
        pg.fill("#password", "not the password")
        pg.click("#login-submit")
        pg.wait_for_selector("#login-error:has-text('账号或密码错误')")
        pg.fill("#password", PASSWORD)
        with pg.expect_navigation(wait_until="domcontentloaded"):
            pg.click("#login-submit")
        assert pg.url.endswith("/console")
        pg.wait_for_selector("#shell-person-name:has-text('李调度')")
        assert pg.locator("#shell-link-planner").is_hidden()  # an operator does not open the planner
    finally:
        context.close()


def test_a_callback_without_the_session_s_csrf_token_is_refused(wall_url, browser):
    context = browser.new_context()
    pg = context.new_page()
    try:
        sign_in(pg, wall_url, "op-li", then="/console")
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        assert cookies.get("_csrf_token") and cookies.get("gridwall_session")
        with httpx.Client(base_url=wall_url, cookies={"gridwall_session": cookies["gridwall_session"]},
                          timeout=10) as client:
            forged = client.post("/_dash-update-component", json=_CALLBACK)
            honest = client.post("/_dash-update-component", json=_CALLBACK,
                                 headers={"X-CSRFToken": cookies["_csrf_token"]})
        assert forged.status_code == 403
        assert honest.status_code == 200 and '"en"' in honest.text
    finally:
        context.close()


def test_a_display_account_opens_the_wall_only(wall_url, browser):
    context = browser.new_context()
    pg = context.new_page()
    try:
        sign_in(pg, wall_url, "display")
        assert pg.url.endswith("/wall")
        pg.goto(f"{wall_url}/console", wait_until="domcontentloaded")
        assert pg.url.endswith("/wall")  # sent back to its one page
    finally:
        context.close()


def test_signing_out_ends_the_session(wall_url, browser):
    context = browser.new_context()
    pg = context.new_page()
    try:
        sign_in(pg, wall_url, "plan-sun")
        assert pg.url.endswith("/wall")
        pg.wait_for_selector("#shell-logout")
        with pg.expect_navigation(wait_until="domcontentloaded"):
            pg.click("#shell-logout")
        assert "/login" in pg.url
        pg.goto(f"{wall_url}/planner", wait_until="domcontentloaded")
        assert "/login" in pg.url
    finally:
        context.close()
