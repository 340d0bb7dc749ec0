"""The planner in Chromium: run a rebalance on the small district, see the proposal, accept it."""

from __future__ import annotations


def test_run_a_rebalance_and_accept_it(wall_url, api, page, shot):
    pg, outside = page
    before = api.get("/health").json()["current_grid_version"]
    pg.goto(f"{wall_url}/planner", wait_until="domcontentloaded")
    pg.wait_for_selector("#planner-bad-table", timeout=20_000)
    pg.locator("#planner-run").click()
    # the service runs the quick parameters (a few seconds); the timeout is a hang guard
    pg.wait_for_selector("#planner-job-state[data-state='done']", timeout=300_000)
    pg.wait_for_selector("#planner-grid-table tbody tr", timeout=20_000)
    # the current plan's figures beside the proposal's; a proposal no worse than today is accepted in one click
    guard = pg.locator("#planner-guard")
    assert guard.locator("tbody tr").count() == 5
    assert pg.locator("#planner-worse").count() == 0 and not pg.locator("#planner-force").is_visible()
    assert pg.locator("#planner-accept").is_enabled()
    shot(pg, "planner")
    pg.locator("#planner-accept").click()
    pg.wait_for_selector("#planner-decision-msg.msg-ok", timeout=20_000)
    after = api.get("/health").json()["current_grid_version"]
    assert after != before
    assert outside == [], f"requests left the server: {outside[:5]}"

