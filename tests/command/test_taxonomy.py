"""The taxonomy as data: its depth, loading it by version, resolving other systems' names."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import text

from command.taxonomy import ALIASES_FILE, TAXONOMY_FILE, current_taxonomy, load_taxonomy
from layers.errors import LoadError

REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "shenzhen_pingshan_minsheng_events_2018.csv"
TOP_CLASSES = {"01": "综合治理", "02": "城市管理", "03": "安全生产", "04": "环境保护", "05": "矛盾调处",
               "06": "公共服务", "07": "突发事件"}


def _doc() -> dict:
    return json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))


def test_the_file_has_the_seven_top_classes_and_real_depth():
    doc = _doc()
    assert {c["code"]: c["name_zh"] for c in doc["classes"]} == TOP_CLASSES
    subs = [s for c in doc["classes"] for s in c["children"]]
    leaves = [leaf for s in subs for leaf in s["children"]]
    assert 60 <= len(subs) <= 70
    assert 200 <= len(leaves) <= 300
    assert len({leaf["code"] for leaf in leaves}) == len(leaves)
    for leaf in leaves:
        assert {"department", "deadline_hours", "priority", "dup_radius_m", "dup_window_hours"} <= set(leaf)


def test_the_original_leaves_are_unchanged():
    leaf = next(x for c in _doc()["classes"] for s in c["children"] for x in s["children"] if x["code"] == "020103")
    assert leaf == {"code": "020103", "name_zh": "暴露垃圾", "name_en": "Exposed garbage", "department": "环卫处",
                    "deadline_hours": 8, "priority": 2, "dup_radius_m": 80, "dup_window_hours": 24}


def test_load_is_idempotent_by_version(conn, taxonomy):
    leaves = conn.execute(text("SELECT count(*) FROM event_class WHERE level = 3")).scalar_one()
    again = load_taxonomy(conn)
    assert (again.created, again.made_current) == (False, False)
    assert again.version_id == taxonomy.version_id
    assert conn.execute(text("SELECT count(*) FROM event_class WHERE level = 3")).scalar_one() == leaves
    assert conn.execute(text("SELECT count(*) FROM taxonomy_version WHERE is_current")).scalar_one() == 1
    stored = dict(conn.execute(text("SELECT level, count(*) FROM event_class WHERE version_id = :v GROUP BY level"),
                               {"v": taxonomy.version_id}).all())
    assert stored[1] == 7 and stored[2] >= 60 and stored[3] == taxonomy.leaves >= 200


def test_changed_content_under_the_same_version_is_refused(conn, taxonomy, tmp_path):
    doc = _doc()
    doc["classes"][0]["children"][0]["children"][0]["deadline_hours"] = 99
    changed = tmp_path / "taxonomy.json"
    changed.write_text(json.dumps(doc, ensure_ascii=False))
    with pytest.raises(LoadError, match="raise 'version'"):
        load_taxonomy(conn, changed)


def test_a_new_version_becomes_current_and_the_old_one_stays(conn, taxonomy, tmp_path):
    doc = _doc()
    doc["version"] += 1
    doc["classes"][0]["children"][0]["children"][0]["deadline_hours"] = 99
    newer = tmp_path / "taxonomy.json"
    newer.write_text(json.dumps(doc, ensure_ascii=False))
    loaded = load_taxonomy(conn, newer, actor="planner")
    assert loaded.created and loaded.version == doc["version"]
    current = current_taxonomy(conn)
    assert current.version_id == loaded.version_id
    assert current.leaves["010101"].deadline_hours == 99
    assert conn.execute(text("SELECT count(*) FROM taxonomy_version")).scalar_one() >= 2
    last = text("SELECT actor FROM audit_log WHERE action = 'load_taxonomy' ORDER BY id DESC LIMIT 1")
    assert conn.execute(last).scalar_one() == "planner"
    back = load_taxonomy(conn)  # the shipped version again: made current, nothing new written
    assert (back.created, back.made_current) == (False, True)


def test_an_alias_naming_no_leaf_is_refused(conn, tmp_path):
    doc = json.loads(ALIASES_FILE.read_text(encoding="utf-8"))
    doc["aliases"].append({"source": "12345", "alias": "某某", "code": "999999"})
    bad = tmp_path / "aliases.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False))
    with pytest.raises(LoadError, match="999999") as err:
        load_taxonomy(conn, aliases_path=bad)
    assert err.value.feature == len(doc["aliases"]) - 1 and err.value.field == "code"


def test_a_leaf_outside_its_sub_class_is_refused(conn, tmp_path):
    doc = _doc()
    doc["version"] += 5
    doc["classes"][0]["children"][0]["children"][0]["code"] = "020199"
    bad = tmp_path / "taxonomy.json"
    bad.write_text(json.dumps(doc, ensure_ascii=False))
    with pytest.raises(LoadError, match="not under 0101"):
        load_taxonomy(conn, bad)


@pytest.mark.parametrize(("name", "source", "code"), [
    ("020103", None, "020103"),
    ("暴露垃圾", None, "020103"),
    ("Exposed garbage", None, "020103"),
    ("下水井盖", "12345", "020902"),
    ("市政设施/公用部件/下水井盖", "12345", "020902"),
    ("路灯（灯光）井盖", "12345", "020904"),
    ("路灯&#40;灯光&#41;井盖", "12345", "020904"),
    ("市容城管/违法建设", "12345", "020703"),
    ("非法小广告", "dcm", "020104"),
    ("着火", "dcm", "070201"),
])
def test_names_and_codes_resolve_to_leaves(conn, taxonomy, name, source, code):
    assert current_taxonomy(conn).resolve(name, source).code == code


def test_an_alias_is_only_used_for_its_own_system(conn, taxonomy):
    tax = current_taxonomy(conn)
    assert tax.resolve("下水井盖", "12345").code == "020902"
    with pytest.raises(LoadError, match="unknown event class '下水井盖' from any system"):
        tax.resolve("下水井盖")


def test_a_sub_class_or_an_unknown_name_is_refused_clearly(conn, taxonomy):
    tax = current_taxonomy(conn)
    with pytest.raises(LoadError, match="0201 .* is not a leaf class") as err:
        tax.resolve("0201")
    assert err.value.field == "category"
    with pytest.raises(LoadError, match="unknown event class '市容城管/城市管理' from system '12345'"):
        tax.resolve("市容城管/城市管理", "12345")


def test_a_code_alias_from_another_system(conn, taxonomy):
    conn.execute(text("INSERT INTO event_class_alias (version_id, source, alias, code)"
                      " VALUES (:v, 'legacy', 'a-17', '070201')"), {"v": taxonomy.version_id})
    assert current_taxonomy(conn, cached=False).resolve("A-17", "legacy").code == "070201"


def test_leaf_rules_derived_at_load(conn, taxonomy):
    tax = current_taxonomy(conn)
    fire = tax.leaves["070201"]
    assert fire.calendar_hours and fire.priority == 1
    assert fire.resource_kinds == ("fire_station", "hospital")
    garbage = tax.leaves["020103"]
    assert not garbage.calendar_hours and garbage.resource_kinds == ()
    assert tax.leaves["070102"].resource_kinds == ("emergency_team", "shelter")


def test_most_real_hotline_events_map_onto_a_leaf(conn, taxonomy):
    """82 % of 9,990 real 民生诉求 (Shenzhen Pingshan, 2018) resolve by their main/sub type names."""
    tax = current_taxonomy(conn)
    with REALDATA.open(encoding="utf-8") as f:
        kinds = Counter((r["MAIN_TYPE_NAME"], r["SUB_TYPE_NAME"]) for r in csv.DictReader(f))
    resolved = 0
    for (main, sub), n in kinds.items():
        try:
            tax.resolve(f"{main}/{sub}", "12345")
        except LoadError:
            continue
        resolved += n
    assert resolved / sum(kinds.values()) >= 0.8
