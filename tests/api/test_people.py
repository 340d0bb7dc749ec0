"""People sign in (:mod:`api.people`, ``/auth``): argon2 hashes, signed session tokens, the person in the audit log,
disabled people and new passwords ending sessions, guessed passwords throttled, forged tokens refused."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from api.people import TOKEN_PREFIX, add_person, set_disabled, set_password
from layers.errors import LoadError
from tests.api.conftest import event_body

PASSWORD = "correct horse battery"


def _person(api_engine, role: str = "operator", **extra) -> str:
    login = f"p{uuid.uuid4().hex[:10]}"
    with api_engine.begin() as conn:
        add_person(conn, login=login, name=f"张{login[-3:]}", role=role, password=PASSWORD, actor="test", **extra)
    return login


def _sign_in(client, login: str, password: str = PASSWORD):
    return client.post("/auth/login", json={"login": login, "password": password})


def test_a_person_signs_in_and_every_write_names_them(client, api_engine, place):
    login = _person(api_engine)
    got = _sign_in(client, login.upper())  # logins are matched without letter case
    assert got.status_code == 200, got.text
    token = got.json()["token"]
    assert token.startswith(TOKEN_PREFIX) and got.json()["person"]["role"] == "operator"
    bearer = {"Authorization": f"Bearer {token}"}
    me = client.get("/auth/me", headers=bearer).json()
    assert me["actor"] == f"operator:{login}" and me["person"] is True and me["name"].startswith("张")
    made = client.post("/events", json=event_body(place, channel="hotline"), headers=bearer)
    assert made.status_code == 201, made.text
    moved = client.post(f"/events/{made.json()['id']}/transitions", json={"to_state": "accepted"}, headers=bearer)
    assert moved.status_code == 200, moved.text
    with api_engine.connect() as conn:
        actors = conn.execute(text("SELECT actor FROM event_history WHERE event_id = :e ORDER BY id"),
                              {"e": made.json()["id"]}).scalars().all()
        signed = conn.execute(text("SELECT count(*) FROM audit_log WHERE action = 'sign_in' AND entity_id = :l"),
                              {"l": login}).scalar_one()
    assert actors == [f"operator:{login}"] * 2
    assert signed == 1


def test_the_password_is_kept_as_an_argon2_hash_only(api_engine):
    login = _person(api_engine)
    with api_engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM person WHERE login = :l"), {"l": login}).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_passwords_unknown_logins_and_disabled_people_get_one_answer(client, api_engine):
    login = _person(api_engine)
    disabled = _person(api_engine)
    with api_engine.begin() as conn:
        set_disabled(conn, disabled, True, actor="test")
    answers = [_sign_in(client, login, "wrong password!"), _sign_in(client, f"nobody-{login}"),
               _sign_in(client, disabled)]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert len({a.json()["error"]["message"] for a in answers}) == 1


def test_a_disabled_person_or_a_new_password_ends_the_sessions_given_before(client, api_engine):
    login = _person(api_engine)
    token = _sign_in(client, login).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/events?limit=1", headers=bearer).status_code == 200
    with api_engine.begin() as conn:
        set_password(conn, login, "another long password", actor="test")
    client.app.state.people.cache.forget(client.app.state.people.tokens.read(token, 3600)[0])
    assert client.get("/events?limit=1", headers=bearer).status_code == 401
    fresh = _sign_in(client, login, "another long password").json()["token"]
    with api_engine.begin() as conn:
        set_disabled(conn, login, True, actor="test")
    client.app.state.people.cache.forget(client.app.state.people.tokens.read(fresh, 3600)[0])
    assert client.get("/events?limit=1", headers={"Authorization": f"Bearer {fresh}"}).status_code == 401


def test_a_forged_or_tampered_token_is_refused(client, api_engine):
    login = _person(api_engine)
    token = _sign_in(client, login).json()["token"]
    for forged in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), TOKEN_PREFIX + "WzEsMF0.abc.def"):
        assert client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_a_person_sees_and_does_what_their_role_may(client, api_engine, worker_code, place):
    wall = _sign_in(client, _person(api_engine, "wall")).json()["token"]
    worker = _sign_in(client, _person(api_engine, "grid_worker", worker_code=worker_code)).json()["token"]
    assert client.post("/events", json=event_body(place, channel="hotline"),
                       headers={"Authorization": f"Bearer {wall}"}).status_code == 403
    assert client.get("/workers/me", headers={"Authorization": f"Bearer {worker}"}).json()["code"] == worker_code


def test_guessing_a_login_s_password_is_throttled_per_login(client, api_engine):
    login = _person(api_engine)
    other = _person(api_engine)
    statuses = [_sign_in(client, login, f"guess number {i}").status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    assert _sign_in(client, login).status_code == 429  # the right password waits too
    assert _sign_in(client, other).status_code == 200  # another login is not held up


@pytest.mark.parametrize(("extra", "field"), [
    ({"role": "department"}, "departments"),
    ({"role": "operator", "worker_code": "W-NONE"}, "worker"),
    ({"role": "grid_worker", "worker_code": "NO-SUCH-WORKER"}, "worker"),
    ({"role": "root"}, "role"),
    ({"role": "operator", "password": "short"}, "password"),
])
def test_a_person_the_rules_refuse_is_not_added(api_engine, extra, field):
    args = {"login": f"x{uuid.uuid4().hex[:8]}", "name": "X", "password": PASSWORD, "actor": "test", **extra}
    with pytest.raises(LoadError) as refused, api_engine.begin() as conn:
        add_person(conn, **args)
    assert refused.value.field == field


def test_a_login_is_taken_in_any_letter_case(api_engine):
    login = _person(api_engine)
    with pytest.raises(LoadError, match="taken"), api_engine.begin() as conn:
        add_person(conn, login=login.upper(), name="Y", role="analyst", password=PASSWORD, actor="test")


def test_signing_out_ends_every_session_of_the_person(client, api_engine):
    login = _person(api_engine)
    first, second = (_sign_in(client, login).json()["token"] for _ in range(2))
    assert client.post("/auth/logout", headers={"Authorization": f"Bearer {first}"}).json() == {"ended": True}
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    assert _sign_in(client, login).status_code == 200  # and may sign in again


def test_the_audit_log_names_the_person_and_finds_them_by_name(client, api_engine, auth, place):
    login = _person(api_engine, "operator")
    token = _sign_in(client, login).json()["token"]
    made = client.post("/events", json=event_body(place, channel="hotline"),
                       headers={"Authorization": f"Bearer {token}"})
    rows = client.get("/audit", params={"entity": "event", "entity_id": str(made.json()["id"])},
                      headers=auth("admin")).json()["items"]
    assert [(r["actor"], r["person"]) for r in rows] == [(f"operator:{login}", f"张{login[-3:]}")]
    by_name = client.get("/audit", params={"actor": f"张{login[-3:]}", "action": "sign_in"}, headers=auth("admin"))
    assert [r["actor"] for r in by_name.json()["items"]] == [f"operator:{login}"]
