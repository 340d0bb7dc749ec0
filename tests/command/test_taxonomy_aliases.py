"""A district's own crosswalk in the store: adding, resolving, surviving a new version, refusing, importing."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from command.intake import EventIn, intake
from command.taxonomy import (
    TAXONOMY_FILE,
    _candidates,
    add_aliases,
    current_taxonomy,
    import_aliases,
    last_taxonomy,
    list_aliases,
    load_taxonomy,
    remove_alias,
)
from layers.errors import LoadError, NotFound

SHENZHEN = "市容环卫/其他市容违法行为或影响市容事件/其他市容环境问题"  # EVENT_TYPE/MAIN_TYPE/SUB_TYPE of a real record


def _count(conn, sql: str, **params) -> int:
    return conn.execute(text(sql), params).scalar_one()


def test_the_sending_system_s_alias_comes_first_then_any_system_s(conn, taxonomy):
    written = add_aliases(conn, [("12345", "公平交易秩序", "020101"), ("*", "公平交易秩序", "010101")],
                          actor="planner-li")
    assert written == 2
    tax = current_taxonomy(conn)
    assert tax.resolve("公平交易秩序", "12345").code == "020101"
    assert tax.resolve("公平交易秩序", "dcm").code == "010101"
    assert tax.resolve("公平交易秩序").code == "010101"
    audited = conn.execute(text("SELECT actor, action, detail->>'code' FROM audit_log WHERE entity = 'district_alias'"
                                " ORDER BY id")).all()
    assert [tuple(r) for r in audited] == [("planner-li", "add_alias", "020101"), ("planner-li", "add_alias", "010101")]


def test_the_district_s_alias_wins_over_the_shipped_file_s(conn, taxonomy):
    tax = current_taxonomy(conn)
    assert tax.resolve("下水井盖", "12345").code == "020902"  # the file's 12345 alias
    add_aliases(conn, [("*", "下水井盖", "020901")], actor="planner")
    assert current_taxonomy(conn).resolve("下水井盖", "12345").code == "020901"


def test_an_alias_is_stored_normalised_and_matches_any_spelling(conn, taxonomy):
    add_aliases(conn, [("dcm", "  Ｆａｉｒ   Trade ", "020101")], actor="planner")
    assert [a["alias"] for a in list_aliases(conn, "dcm")] == ["fair trade"]
    assert current_taxonomy(conn).resolve("FAIR TRADE", "dcm").code == "020101"


def test_a_group_name_or_code_names_a_default_leaf(conn, taxonomy):
    tax = current_taxonomy(conn)
    with pytest.raises(LoadError, match="unknown event class '消防安全'"):
        tax.resolve("消防安全")  # the sub-class 0301's name: no leaf of its own
    with pytest.raises(LoadError, match="0301 .* is not a leaf class"):
        tax.resolve("0301")
    add_aliases(conn, [("*", "消防安全", "030101"), ("*", "0301", "030103")], actor="planner")
    tax = current_taxonomy(conn)
    assert tax.resolve("消防安全").code == "030101"
    assert tax.resolve("0301").code == "030103"
    with pytest.raises(LoadError, match="0201 .* is not a leaf class"):
        tax.resolve("0201")  # a group nobody mapped is still refused


def test_the_candidates_of_a_path_most_specific_first():
    assert _candidates("a/b/c") == ["a/b/c", "b/c", "c", "b", "a"]
    assert _candidates("a/b") == ["a/b", "b", "a"]
    assert _candidates("a") == ["a"]


def test_a_path_falls_back_from_the_sub_type_to_the_main_type_to_the_type(conn, taxonomy):
    with pytest.raises(LoadError) as refused:
        current_taxonomy(conn).resolve(SHENZHEN, "12345")
    message = str(refused.value)
    assert SHENZHEN in message and "gridwall taxonomy alias add" in message and "POST /taxonomy/aliases" in message
    assert "taxonomy_aliases.json" not in message
    steps = [("市容环卫", "020103"), ("其他市容违法行为或影响市容事件", "020102"), ("其他市容环境问题", "020401"),
             ("其他市容违法行为或影响市容事件/其他市容环境问题", "020402"), (SHENZHEN, "020403")]
    for alias, code in steps:  # each more specific alias takes over from the one before
        add_aliases(conn, [("12345", alias, code)], actor="planner")
        assert current_taxonomy(conn).resolve(SHENZHEN, "12345").code == code, alias
    assert current_taxonomy(conn).resolve("市容环卫/别的主类/别的子类", "12345").code == "020103"


def test_an_alias_survives_a_new_version_and_is_ignored_while_its_leaf_is_gone(conn, taxonomy, tmp_path):
    add_aliases(conn, [("*", "公平交易秩序", "010102"), ("*", "民政", "020103")], actor="planner")
    doc = json.loads(TAXONOMY_FILE.read_text(encoding="utf-8"))
    doc["version"] += 1
    security = doc["classes"][0]["children"][0]
    security["children"] = [leaf for leaf in security["children"] if leaf["code"] != "010102"]
    newer = tmp_path / "taxonomy.json"
    newer.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert load_taxonomy(conn, newer).made_current

    tax = current_taxonomy(conn)
    assert tax.resolve("民政").code == "020103"
    with pytest.raises(LoadError, match="unknown event class '公平交易秩序'"):
        tax.resolve("公平交易秩序")
    listed = {a["alias"]: (a["code"], a["leaf"], a["active"]) for a in list_aliases(conn)}
    assert listed == {"公平交易秩序": ("010102", None, False), "民政": ("020103", "暴露垃圾", True)}

    load_taxonomy(conn)  # the shipped version again: the leaf is back, and so is the alias
    assert current_taxonomy(conn).resolve("公平交易秩序").code == "010102"
    assert all(a["active"] for a in list_aliases(conn))


@pytest.mark.parametrize(("bad", "field", "fault"), [
    (("*", "公平交易秩序", "0201"), "code", "is the group 0201 .*not a leaf"),
    (("*", "公平交易秩序", "02"), "code", "is the group 02 "),
    (("*", "公平交易秩序", "999999"), "code", "'999999' names no class"),
    (("*", "   ", "020101"), "alias", "the alias is empty"),
    (("", "公平交易秩序", "020101"), "source", "the source is empty"),
    (("*", "暴露垃圾", "020101"), "alias", "already the code or name of leaf 020103"),
    (("*", "020103", "020101"), "alias", "already the code or name of leaf 020103"),
    (("*", "民政", "020102"), "alias", "maps to 020101 at row 0 and to 020102 here"),
])
def test_a_faulty_row_is_refused_with_its_index_and_field_and_nothing_is_written(conn, taxonomy, bad, field,
                                                                                 fault):
    rows = [("*", "民政", "020101"), bad]
    with pytest.raises(LoadError, match=fault) as err:
        add_aliases(conn, rows, actor="planner")
    assert (err.value.feature, err.value.field) == (1, field)
    assert _count(conn, "SELECT count(*) FROM district_alias") == 0


def _csv(path, body: str, bom: bool = True):
    path.write_bytes(("\ufeff" if bom else "").encode() + body.encode("utf-8"))
    return path


def test_import_is_all_or_nothing_and_names_file_line_field_and_fault(conn, taxonomy, tmp_path):
    path = _csv(tmp_path / "hangzhou.csv", "source,alias,code\r\n*,民政,010202\r\n\r\nhz,消防安全,030101\r\n"
                                           "hz,公平交易秩序,0201\r\n")
    with pytest.raises(LoadError) as err:
        import_aliases(conn, path, actor="planner")
    assert (err.value.source, err.value.feature, err.value.field) == ("hangzhou.csv", 2, "code")
    assert str(err.value).startswith("hangzhou.csv, feature 2, field 'code': line 5: code '0201' is the group 0201")
    assert _count(conn, "SELECT count(*) FROM district_alias") == 0

    _csv(path, "source,alias,code\n*,民政,010202\nhz,消防安全,030101\nhz,公平交易秩序,020101\n", bom=False)
    assert import_aliases(conn, path, actor="planner") == 3
    assert import_aliases(conn, path, actor="planner") == 0  # the same file again changes nothing
    assert current_taxonomy(conn).resolve("公平交易秩序", "hz").code == "020101"

    _csv(path, "source,alias,code\nhz,公平交易秩序,020102\n")
    assert import_aliases(conn, path, actor="director") == 1  # a changed code replaces the stored one
    assert current_taxonomy(conn).resolve("公平交易秩序", "hz").code == "020102"
    replaced = conn.execute(text("SELECT actor, detail FROM audit_log WHERE action = 'replace_alias'")).one()
    assert replaced.actor == "director"
    assert (replaced.detail["previous"], replaced.detail["code"]) == ("020101", "020102")


def test_import_refuses_a_file_without_the_columns(conn, taxonomy, tmp_path):
    path = _csv(tmp_path / "x.csv", "system,alias,code\n*,民政,010202\n")
    with pytest.raises(LoadError, match="missing: source") as err:
        import_aliases(conn, path, actor="planner")
    assert (err.value.source, err.value.field) == ("x.csv", "source")


def test_remove_is_audited_and_an_unknown_alias_is_not_found(conn, taxonomy):
    add_aliases(conn, [("*", "民政", "010202")], actor="planner")
    assert remove_alias(conn, "*", " 民政 ", actor="director")["code"] == "010202"
    with pytest.raises(LoadError):
        current_taxonomy(conn).resolve("民政")
    assert _count(conn, "SELECT count(*) FROM audit_log WHERE action = 'remove_alias' AND actor = 'director'") == 1
    with pytest.raises(NotFound, match="no district alias '民政' for source '\\*'"):
        remove_alias(conn, "*", "民政", actor="director")


def test_another_connection_uses_a_new_alias_at_once(engine, small_district):
    """A process that cached the taxonomy before the alias was committed takes in an event of that class."""
    name = f"新事件类型-{uuid.uuid4().hex[:6]}"
    with engine.connect() as other:
        tx = other.begin()
        lon, lat = other.execute(text(
            "SELECT ST_X(c), ST_Y(c) FROM (SELECT (ST_MaximumInscribedCircle(geom)).center AS c FROM grid"
            " WHERE version_id = (SELECT id FROM grid_version WHERE is_current) ORDER BY id LIMIT 1) g")).one()
        before = current_taxonomy(other)  # this process's copy, from before the alias
        try:
            with engine.begin() as admin:
                add_aliases(admin, [("*", name, "020103")], actor="alias-test")
            assert last_taxonomy(other) is before
            with pytest.raises(LoadError):
                before.resolve(name)
            event = EventIn(channel="patrol", external_id=f"alias-{uuid.uuid4().hex}", category=name, lon=lon,
                            lat=lat, reported_at=datetime.fromisoformat("2033-03-03T09:00:00+08:00")
                            + timedelta(minutes=1))
            result = intake(other, event, actor="alias-test")
            assert result.created and result.category_code == "020103"
            assert last_taxonomy(other).district_rev != before.district_rev
        finally:
            tx.rollback()
            with engine.begin() as admin:
                remove_alias(admin, "*", name, actor="alias-test")
                admin.execute(text("DELETE FROM audit_log WHERE actor = 'alias-test'"))
