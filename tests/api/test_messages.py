"""api.messages: every error said in Chinese by default and in English on Accept-Language: en, from one table."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import text

from api.messages import FRAMES, ZH, negotiate, render
from layers.errors import Conflict, InvalidTransition, NotFound, StoreBusy
from tests.api.conftest import event_body, unique

ROOT = Path(__file__).resolve().parents[2]
EN = {"Accept-Language": "en"}
FAMILY = {"GridwallError", "ConfigError", "DatabaseError", "StoreBusy", "LoadError", "NotFound", "Conflict",
          "PartitionError", "InvalidTransition", "Unauthorized", "Forbidden", "PayloadTooLarge", "TooManyRequests",
          "HeadersTooLarge"}
#: modules whose every message is a template with a translation (the rest are framed until they are)
TRANSLATED = ["api/access.py", "api/deps.py", "api/errors.py", "api/features.py", "api/middleware.py",
              "api/open311.py", "api/params.py", "api/store.py", "api/routers", "command/dispatch.py",
              "command/duplicates.py", "command/lifecycle.py", "command/kpi.py", "command/network.py",
              "command/routing.py", "layers/partitioning.py"]


def _chinese(s: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in s)


@pytest.mark.parametrize(("header", "lang"), [
    (None, "zh"), ("", "zh"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
    ("en-GB,en;q=0.9,zh;q=0.8", "en"), ("zh;q=0.5,en;q=0.6", "en"), ("en;q=0.5,*;q=0.8", "zh"), ("fr", "zh"),
    ("en;q=0", "zh"), ("en, zh", "en"), ("zh, en", "zh"), ("en;q=oops", "zh"),
])
def test_the_language_is_chinese_unless_english_is_preferred(header, lang):
    assert negotiate(header) == lang


def _messages(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in FAMILY and node.args:
            yield node.lineno, node.args[0]


def test_every_message_of_the_translated_modules_is_a_template_with_its_chinese():
    untranslated = []
    for name in TRANSLATED:
        for path in sorted((ROOT / name).rglob("*.py")) if (ROOT / name).is_dir() else [ROOT / name]:
            for line, arg in _messages(path):
                if isinstance(arg, ast.JoinedStr):
                    untranslated.append(f"{path.relative_to(ROOT)}:{line} is an f-string: give a template and values")
                elif isinstance(arg, ast.Constant) and arg.value not in ZH:
                    untranslated.append(f"{path.relative_to(ROOT)}:{line} has no Chinese: {arg.value!r}")
    assert not untranslated, "\n".join(untranslated)


def test_the_chinese_templates_have_the_english_ones_fields():
    import string
    fields = lambda s: {f for _, f, _, _ in string.Formatter().parse(s) if f}  # noqa: E731
    wrong = {en: zh for en, zh in ZH.items() if fields(en) != fields(zh) or not _chinese(zh)}
    assert not wrong, wrong


def test_states_channels_and_statuses_are_said_under_their_labels():
    moved = InvalidTransition(7, "reported", "closed", ("accepted", "rejected"))
    assert render(moved, "zh") == "事件 7 当前为「上报」，不能办理为「结案」；可办理为：受理、不予受理"
    assert render(moved, "en") == str(moved) == ("event 7 is 'reported' and cannot become 'closed'; it can become: "
                                                 "accepted, rejected")
    taken = Conflict("worker {worker} is {worker_status}, not free: another dispatch took them first; choose "
                     "another worker", worker="W-1", worker_status="off_duty")
    assert "离岗" in render(taken, "zh") and "off_duty" not in render(taken, "zh")
    busy = StoreBusy("a concurrent write took the same rows; try again", retry_after=1)
    assert render(busy, "zh").startswith("系统繁忙")
    nested = Conflict("every candidate for event {event_id} was taken meanwhile: {refusals}", event_id=3,
                      refusals=(taken, taken))
    assert render(nested, "zh").count("离岗") == 2 and "W-1 is off_duty" in render(nested, "en")


def test_a_message_without_a_translation_is_framed_by_its_kind():
    free = NotFound("no such thing as a {thing}", thing="unicorn")
    assert render(free, "zh") == FRAMES["NotFound"].format(message="no such thing as a unicorn")
    assert render(free, "en") == "no such thing as a unicorn"
    sentence = Conflict("a finished sentence with {braces} of a client's id", event_id=1)  # values all the same
    assert str(sentence) == "a finished sentence with {braces} of a client's id"
    assert render(sentence, "zh").endswith("a finished sentence with {braces} of a client's id")


def test_unauthorized_forbidden_and_not_found_in_both_languages(client, auth):
    anonymous = client.get("/events")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["message"].startswith("未提供 API 密钥")
    assert client.get("/events", headers=EN).json()["error"]["message"].startswith("no API key")
    wrong = client.get("/events", headers={"X-API-Key": "nobody-issued-this"}).json()["error"]
    assert wrong["message"] == "API 密钥无效（未签发或已吊销）" and wrong["type"] == "Unauthorized"
    refused = client.get("/taxonomy/aliases", headers=auth("wall")).json()["error"]
    assert refused["type"] == "Forbidden" and refused["message"].startswith("角色 wall 无权访问 GET /taxonomy/aliases")
    missing = client.get("/events/987654321", headers=auth("operator"))
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "事件 987654321 不存在"
    en = client.get("/events/987654321", headers={**auth("operator"), "Accept-Language": "en-US,en;q=0.9"})
    assert en.json()["error"]["message"] == "no event 987654321"
    nowhere = client.get("/nowhere", headers=auth("wall")).json()["error"]
    assert nowhere["message"] == "没有此地址：/nowhere" and set(nowhere) >= {"type", "source", "feature", "field"}


def test_an_invalid_transition_names_the_states_in_chinese(client, auth, place):
    event = client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
    refused = client.post(f"/events/{event}/transitions", json={"to_state": "closed"}, headers=auth("operator"))
    error = refused.json()["error"]
    assert refused.status_code == 409 and error["type"] == "InvalidTransition"
    assert error["message"].startswith(f"事件 {event} 当前为「上报」，不能办理为「结案」；可办理为：")
    assert "受理" in error["message"] and "reported" not in error["message"]
    assert error["allowed"] and set(error["allowed"]) <= {"accepted", "rejected", "returned"}  # codes for machines
    en = client.post(f"/events/{event}/transitions", json={"to_state": "closed"},
                     headers={**auth("operator"), **EN}).json()["error"]
    assert en["message"].startswith(f"event {event} is 'reported' and cannot become 'closed'")
    assert en["allowed"] == error["allowed"] and en["field"] == error["field"] == "to_state"


def test_the_dispatch_conflict_is_said_in_chinese_with_the_workers_status(client, auth, place, api_engine):
    code = unique("W")
    with api_engine.begin() as conn:
        wid = conn.execute(text(
            "INSERT INTO grid_worker (code, name, status, updated_at, geom) VALUES (:c, :c, 'on_duty', now(),"
            " ST_SetSRID(ST_MakePoint(:lon + 0.00002, :lat), 4326)) RETURNING id"
        ), {"c": code, "lon": place.lon, "lat": place.lat}).scalar_one()
    first, second = (client.post("/events", json=event_body(place), headers=auth("operator")).json()["id"]
                     for _ in range(2))
    assert client.post(f"/events/{first}/dispatch/worker", json={"worker_id": wid},
                       headers=auth("operator")).status_code == 200
    taken = client.post(f"/events/{second}/dispatch/worker", json={"worker_id": wid}, headers=auth("operator"))
    error = taken.json()["error"]
    assert taken.status_code == 409 and error["type"] == "Conflict"
    assert error["message"] == f"网格员 {code} 当前任务中，不能派遣（可能已被其他调度员派遣），请另选网格员"
    en = client.post(f"/events/{second}/dispatch/worker", json={"worker_id": wid},
                     headers={**auth("operator"), **EN}).json()["error"]
    assert en["message"].startswith(f"worker {code} is busy, not free")


def test_validation_errors_in_chinese_name_the_field(client, auth):
    zh = client.post("/events", json={"channel": "patrol"}, headers=auth("operator")).json()["error"]
    assert zh["type"] == "RequestValidationError" and zh["source"] == "body" and zh["field"]
    assert "缺少此项" in zh["message"] and "处问题" in zh["message"] and _chinese(zh["details"][0]["msg"])
    en = client.post("/events", json={"channel": "patrol"}, headers={**auth("operator"), **EN}).json()["error"]
    assert "Field required" in en["message"] and "problem(s) in the request" in en["message"]
    assert (en["source"], en["field"]) == (zh["source"], zh["field"])
    bad = client.get("/layers/cameras", params={"bbox": "1,2,3"}, headers=auth("wall")).json()["error"]
    assert bad["message"] == "bbox 需要 4 个数（minx,miny,maxx,maxy），收到 3 个" and bad["field"] == "bbox"


def test_middleware_refusals_are_said_in_the_requests_language(client, auth):
    many = {f"X-Filler-{i}": "x" for i in range(200)}
    zh = client.get("/health", headers={**auth("wall"), **many})
    assert zh.status_code == 431 and zh.json()["error"]["message"].startswith("请求头")
    en = client.get("/health", headers={**auth("wall"), **many, **EN})
    assert en.status_code == 431 and "header lines" in en.json()["error"]["message"]
