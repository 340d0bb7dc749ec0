"""Partition jobs over HTTP: planners run and decide, everyone else may only watch."""

from __future__ import annotations

import time


def test_only_planners_and_admins_start_a_run(client, auth):
    for role in ("wall", "operator", "analyst", "department", "grid_worker"):
        response = client.post("/partition/jobs", json={"mode": "partition"}, headers=auth(role))
        assert response.status_code == 403, role
        assert response.json()["error"]["message"]


def test_a_planner_runs_a_partition_watches_it_and_discards_it(client, auth):
    started = client.post("/partition/jobs", json={"mode": "partition"}, headers=auth("planner"))
    assert started.status_code == 202
    job_url = started.json()["href"]
    deadline = time.monotonic() + 120
    job = client.get(job_url, headers=auth("wall")).json()
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = client.get(job_url, headers=auth("wall")).json()
    assert job["state"] == "done", job
    assert job["created_by"] == "planner-key" and job["progress"] == 1.0

    preview = client.get(f"/partition/versions/{job['version_id']}", headers=auth("analyst")).json()
    assert preview["state"] == "proposed" and preview["is_current"] is False
    assert preview["report"]["summary"]["all_contiguous"] is True
    assert len(preview["report"]["grids"]) == preview["report"]["summary"]["n_grids"]

    refused = client.post(f"/partition/versions/{job['version_id']}/accept", headers=auth("analyst"))
    assert refused.status_code == 403
    discarded = client.post(f"/partition/versions/{job['version_id']}/discard", headers=auth("planner"))
    assert discarded.json() == {"version_id": job["version_id"], "state": "discarded"}
    again = client.post(f"/partition/versions/{job['version_id']}/accept", headers=auth("planner"))
    assert again.status_code == 409 and "discarded" in again.json()["error"]["message"]


def test_an_unknown_job_is_a_404(client, auth):
    response = client.get("/partition/jobs/999999", headers=auth("planner"))
    assert response.status_code == 404 and "999999" in response.json()["error"]["message"]
