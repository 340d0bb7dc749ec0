"""Partition jobs over HTTP: planners run and decide, everyone else may only watch."""

from __future__ import annotations

import threading
import time


def test_only_planners_and_admins_start_a_run(client, auth):
    for role in ("wall", "operator", "analyst", "department", "grid_worker"):
        response = client.post("/partition/jobs", json={"mode": "partition"}, headers=auth(role))
        assert response.status_code == 403, role
        assert response.json()["error"]["message"]


def _wait(client, auth, job_url: str) -> dict:
    deadline = time.monotonic() + 600  # a hang guard, many times a quick run's few seconds
    job = client.get(job_url, headers=auth("wall")).json()
    while job["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        job = client.get(job_url, headers=auth("wall")).json()
    return job


def test_a_planner_runs_a_partition_watches_it_and_discards_it(client, auth, api_settings):
    started = client.post("/partition/jobs", json={"mode": "partition"}, headers=auth("planner"))
    assert started.status_code == 202
    job = _wait(client, auth, started.json()["href"])
    assert job["state"] == "done", job
    assert job["created_by"] == "planner-key" and job["progress"] == 1.0
    # a request naming no parameters runs with the district's configured ones
    assert job["params"] == api_settings.partition.model_dump(mode="json")

    preview = client.get(f"/partition/versions/{job['version_id']}", headers=auth("analyst")).json()
    assert preview["state"] == "proposed" and preview["is_current"] is False
    assert preview["report"]["summary"]["all_contiguous"] is True
    assert len(preview["report"]["grids"]) == preview["report"]["summary"]["n_grids"]

    refused = client.post(f"/partition/versions/{job['version_id']}/accept", headers=auth("analyst"))
    assert refused.status_code == 403
    discarded = client.post(f"/partition/versions/{job['version_id']}/discard", headers=auth("planner"))
    assert discarded.json() == {"version_id": job["version_id"], "state": "discarded"}
    again = client.post(f"/partition/versions/{job['version_id']}/accept", headers=auth("planner"))
    assert again.status_code == 409 and "「已放弃」" in again.json()["error"]["message"]
    assert "is discarded, not proposed" in client.post(f"/partition/versions/{job['version_id']}/accept", headers={
        **auth("planner"), "Accept-Language": "en"}).json()["error"]["message"]


def test_a_request_may_name_its_own_parameters(client, auth, quick_params):
    own = quick_params.model_copy(update={"seed": 11, "repair_effort": 5})
    started = client.post("/partition/jobs", json={"mode": "rebalance", "params": own.model_dump(mode="json")},
                          headers=auth("planner"))
    assert started.status_code == 202
    job = _wait(client, auth, started.json()["href"])
    assert job["state"] == "done", job
    assert job["params"]["seed"] == 11 and job["params"]["repair_effort"] == 5
    client.post(f"/partition/versions/{job['version_id']}/discard", headers=auth("planner"))


def test_an_unknown_job_is_a_404(client, auth):
    response = client.get("/partition/jobs/999999", headers=auth("planner"))
    assert response.status_code == 404 and "999999" in response.json()["error"]["message"]


def test_versions_are_listed_newest_first_with_the_current_one_marked(client, auth):
    listed = client.get("/partition/versions", headers=auth("wall"))
    assert listed.status_code == 200
    rows = listed.json()
    ids = [r["version_id"] for r in rows]
    assert ids == sorted(ids, reverse=True)
    current = [r for r in rows if r["is_current"]]
    assert len(current) == 1 and current[0]["state"] == "accepted" and current[0]["n_grids"] > 0
    grids = client.get("/layers/grids", params={"version": current[0]["version_id"], "limit": 1}, headers=auth("wall"))
    assert grids.json()["features"][0]["properties"]["version_id"] == current[0]["version_id"]


def test_versions_filter_by_state_and_refuse_a_bad_one(client, auth):
    proposed = client.get("/partition/versions", params={"state": "proposed"}, headers=auth("planner"))
    assert proposed.status_code == 200 and all(r["state"] == "proposed" for r in proposed.json())
    bad = client.get("/partition/versions", params={"state": "current"}, headers=auth("planner"))
    assert bad.status_code == 422 and "state" in bad.text


def test_a_worse_proposal_is_refused_without_force(cluster, api_settings, auth):
    # a database of its own: the forced accept changes the current plan, which the other API tests stand on
    from fastapi.testclient import TestClient
    from sqlalchemy import text

    from api.main import create_app
    from layers.db import make_engine
    from tests.api.conftest import fresh_database

    db = fresh_database(cluster, "api_force")
    with TestClient(create_app(api_settings, db)) as own:
        started = own.post("/partition/jobs", json={"mode": "rebalance"}, headers=auth("planner"))
        job = _wait(own, auth, started.json()["href"])
        assert job["state"] == "done", job
        version = job["version_id"]
        guard = own.get(f"/partition/versions/{version}", headers=auth("planner")).json()["report"]["guard"]
        assert guard["current"]["n_grids"] > 0 and guard["proposed"]["n_grids"] > 0
        engine = make_engine(db)
        with engine.begin() as conn:  # as if the run had come out worse than today's plan
            conn.execute(text("UPDATE grid_version SET report = jsonb_set(report, '{guard,worse}', "
                              "'[\"2 grids in band, the current plan has 20\"]') WHERE id = :v"), {"v": version})
        engine.dispose()
        refused = own.post(f"/partition/versions/{version}/accept", headers={**auth("planner"),
                                                                             "Accept-Language": "en"})
        assert refused.status_code == 409
        assert "worse than the current plan: 2 grids in band" in refused.json()["error"]["message"]
        forced = own.post(f"/partition/versions/{version}/accept", params={"force": "true"}, headers=auth("planner"))
        assert forced.status_code == 200 and forced.json()["state"] == "accepted"


def test_unbounded_parameters_are_refused(client, auth):
    response = client.post("/partition/jobs", json={"mode": "partition", "params": {"restarts": 10**19}},
                           headers=auth("planner"))
    assert response.status_code == 422 and "restarts" in response.text


def test_one_job_at_a_time_and_a_cancel_stops_it(client, auth, api_engine):
    from sqlalchemy import text

    first = client.post("/partition/jobs", json={"mode": "partition"}, headers=auth("planner"))
    assert first.status_code == 202
    second = client.post("/partition/jobs", json={"mode": "rebalance"}, headers=auth("planner"))
    assert second.status_code == 409 and f"网格划分任务 {first.json()['job_id']}（" in second.json()["error"]["message"]
    cancelled = client.post(f"{first.json()['href']}/cancel", headers=auth("planner"))
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "failed" and cancelled.json()["error"] == "cancelled by planner-key"
    runner = [t for t in threading.enumerate() if t.name == f"partition-job-{first.json()['job_id']}"]
    for thread in runner:  # it stops at its next progress step, before the session's store goes away
        thread.join(600)
    job = _wait(client, auth, first.json()["href"])
    assert job["state"] == "failed" and job["version_id"] is None  # it proposed nothing
    again = client.post(f"{first.json()['href']}/cancel", headers=auth("planner"))
    assert again.status_code == 409
    with api_engine.connect() as conn:
        actions = conn.execute(text("SELECT action, actor FROM audit_log WHERE entity = 'partition_job' "
                                    "AND entity_id = :j ORDER BY id"), {"j": str(first.json()["job_id"])}).all()
    assert [tuple(a) for a in actions] == [("start_partition_job", "planner-key"),
                                           ("cancel_partition_job", "planner-key")]


def test_a_job_left_running_by_a_gone_process_is_marked_failed(api_engine):
    from sqlalchemy import text

    from layers import partitioning

    with api_engine.begin() as conn:  # as a process killed mid-run leaves it: running, and nobody holds its lock
        job_id = conn.execute(text("INSERT INTO partition_job (mode, params, created_by, state) "
                                   "VALUES ('partition', '{}', 'ghost', 'running') RETURNING id")).scalar_one()
    assert partitioning.fail_orphaned_jobs(api_engine) == 1
    with api_engine.connect() as conn:
        state, error = conn.execute(text("SELECT state, error FROM partition_job WHERE id = :j"), {"j": job_id}).one()
    assert state == "failed" and "stopped while the job ran" in error
