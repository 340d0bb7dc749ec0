"""api.labels: one table of domain labels, complete for the store's vocabularies, served at GET /labels."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from api.labels import LABELS, VOCABULARIES, label
from layers import models as m

ROOT = Path(__file__).resolve().parents[2]


def test_every_value_of_every_vocabulary_has_a_chinese_and_an_english_label():
    assert set(LABELS) == set(VOCABULARIES)
    for name, values in VOCABULARIES.items():
        assert set(LABELS[name]) == set(values), name  # no value left out, none that the store does not know
        for value in values:
            zh, en = LABELS[name][value]
            assert zh and en and zh != value and any("\u4e00" <= c <= "\u9fff" for c in zh), (name, value, zh)


def test_the_contract_vocabularies_come_from_the_store_lists():
    assert VOCABULARIES["states"] is m.EVENT_STATES and VOCABULARIES["channels"] is m.EVENT_CHANNELS
    assert VOCABULARIES["worker_status"] is m.WORKER_STATUSES and VOCABULARIES["actions"] is m.AUDIT_ACTIONS
    assert label("worker_status", "off_duty") == "离岗"
    assert label("resource_kinds", "fire_station", "en") == "fire station"
    assert label("states", "no_such_state") == "no_such_state"


def _audited_actions() -> set[str]:
    """Every literal action a writer of audit_log passes: ``audit(..., action="x")``, or the third argument of the
    private writers (``_audit(conn, actor, "x", …)``, ``_audit_entity(…)``)."""
    found: set[str] = set()
    for path in [*ROOT.glob("layers/**/*.py"), *ROOT.glob("command/**/*.py"), *ROOT.glob("api/**/*.py"),
                 *ROOT.glob("gis_data/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if "audit" not in name:
                continue
            values = [k.value for k in node.keywords if k.arg == "action"] + node.args[2:3]
            for v in values:
                if isinstance(v, ast.IfExp):
                    v = [v.body, v.orelse]
                for c in v if isinstance(v, list) else [v]:
                    if isinstance(c, ast.Constant) and isinstance(c.value, str):
                        found.add(c.value)
    return found | _sql_actions()


_SQL_AUDIT = re.compile(r"INSERT INTO audit_log \(actor, action.*?SELECT\s+:actor,(.*?)'\w+',\s*\w+\.id", re.S)


def _sql_actions() -> set[str]:
    """The actions the ``.sql`` writers put in audit_log (the literals of the SELECT's second column)."""
    found: set[str] = set()
    for path in ROOT.glob("*/sql/*.sql"):
        for action in _SQL_AUDIT.findall(path.read_text(encoding="utf-8")):
            found.update(re.findall(r"'(\w+)'", action))
    return found


def test_every_audited_action_is_in_the_store_list_and_so_has_labels():
    actions = _audited_actions()
    assert {"transition", "dispatch_worker", "merge", "accept_grids", "draw_cells",  # the scan finds the writers
            "intake", "intake_duplicate", "overdue"} <= actions
    assert actions <= set(m.AUDIT_ACTIONS), actions - set(m.AUDIT_ACTIONS)


def test_labels_are_served_in_the_language_asked_for(client, auth):
    zh = client.get("/labels", params={"lang": "zh"}, headers=auth("wall"))
    assert zh.status_code == 200
    body = zh.json()
    assert {"states", "channels", "worker_status", "resource_kinds", "camera_kinds", "assignment_kinds",
            "actions"} <= set(body)
    assert body["states"]["dispatched"] == "派遣" and body["worker_status"]["off_duty"] == "离岗"
    assert body["resource_kinds"]["fire_station"] == "消防站" and body["actions"]["supervise"] == "督办"
    en = client.get("/labels", params={"lang": "en"}, headers=auth("operator")).json()
    assert en["states"]["in_progress"] == "in progress" and en["channels"]["hotline"] == "12345 hotline"
    # without lang the request's Accept-Language decides
    assert client.get("/labels", headers={**auth("wall"), "Accept-Language": "en-GB,en;q=0.9"}).json() == en
    assert client.get("/labels", headers=auth("wall")).json() == body
    assert client.get("/labels", params={"lang": "fr"}, headers=auth("wall")).status_code == 422
    assert client.get("/labels").status_code == 401
