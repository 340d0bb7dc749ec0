"""People who sign in: their passwords, their session tokens, and who they are to the access rule.

Why people in the store and keys in a file: a key belongs to a machine (a
gateway, a phone, a wall PC), a person to the hall's staff list, which an
administrator keeps with ``gridwall user add|list|disable`` and which the
audit log names. A person signs in with a login and a password (kept only as
an argon2 hash, from ``argon2-cffi``) and is given a **session token**: the
person's id and ``session_epoch``, signed with the service's session secret
and dated (``itsdangerous``). The wall keeps the token in its own signed,
HTTP-only cookie and calls the API with it, so every write is the person's
and every read goes through the same access rule as a key's
(:class:`~api.security.Principal` built from the person).

A token is refused when its signature or age is wrong, when the person is
disabled, or when the person's epoch moved on (disabled and enabled again, or
a new password): the service re-reads a person at most every
``person_recheck_s`` seconds (:class:`PersonCache`), so a disabled person's
session ends within that time, open live feeds included.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from api.errors import Unauthorized
from api.security import Principal
from command.audit import audit
from layers import models as m
from layers.errors import LoadError, NotFound

__all__ = ["Person", "TOKEN_PREFIX", "MIN_PASSWORD", "hash_password", "add_person", "list_people", "find_person",
           "set_disabled", "set_password", "end_sessions", "authenticate", "SessionTokens", "PersonCache", "PeopleGate"]

log = logging.getLogger(__name__)

#: what a session token starts with (an API key never does: ``gw_``)
TOKEN_PREFIX = "gwp_"
#: the shortest password taken
MIN_PASSWORD = 10
_SALT = "gridwall-person-session"
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
#: verified when no such login exists, so that a wrong login costs as long as a wrong password
_DUMMY_HASH = _HASHER.hash("no such person, no such password")


@dataclass(frozen=True)
class Person:
    """A person as the service knows them (never with the hash)."""

    id: int
    login: str
    name: str
    role: str
    departments: tuple[str, ...]
    worker_code: str | None
    session_epoch: int
    disabled: bool

    def principal(self) -> Principal:
        """The caller this person is to :mod:`api.access` (``actor`` is ``role:login``)."""
        return Principal(self.login, self.role, self.departments, self.worker_code, person=self.name,
                         person_id=self.id, epoch=self.session_epoch)

    def public(self) -> dict:
        """What a client may be told about the person signed in."""
        return {"login": self.login, "name": self.name, "role": self.role, "departments": list(self.departments),
                "worker_code": self.worker_code}


def _person(row) -> Person:
    return Person(row.id, row.login, row.name, row.role, tuple(row.departments or ()), row.worker_code,
                  row.session_epoch, row.disabled_at is not None)


_COLUMNS = (m.Person.id, m.Person.login, m.Person.name, m.Person.role, m.Person.departments, m.Person.worker_code,
            m.Person.session_epoch, m.Person.disabled_at)


def hash_password(password: str) -> str:
    """The argon2id hash a password is kept as.

    Raises
    ------
    LoadError
        Shorter than :data:`MIN_PASSWORD` characters.
    """
    if len(password) < MIN_PASSWORD:
        raise LoadError(f"a password has at least {MIN_PASSWORD} characters", field="password")
    return _HASHER.hash(password)


def add_person(conn: Connection, *, login: str, name: str, role: str, password: str, actor: str,
               departments: tuple[str, ...] = (), worker_code: str | None = None) -> Person:
    """Add a person; audited.

    Raises
    ------
    LoadError
        A login in use (in any letter case), a role the service does not know, a department person without
        departments (or another role with some), a grid worker without a worker code (or another role with one),
        an unknown worker code, a short password.
    """
    if role not in m.PERSON_ROLES:
        raise LoadError(f"role '{role}' is not one of {', '.join(m.PERSON_ROLES)}", field="role")
    if (role == "department") != bool(departments):
        raise LoadError("a department person needs departments, and only they have some", field="departments")
    if (role == "grid_worker") != (worker_code is not None):
        raise LoadError("a grid worker person needs the worker's code, and only they have one", field="worker")
    if worker_code is not None and conn.execute(
            select(m.GridWorker.id).where(m.GridWorker.code == worker_code)).first() is None:
        raise LoadError(f"no grid worker with code '{worker_code}'", field="worker")
    hashed = hash_password(password)
    try:
        with conn.begin_nested():
            row = conn.execute(insert(m.Person).values(
                login=login, name=name, role=role, departments=list(departments), worker_code=worker_code,
                password_hash=hashed, created_by=actor).returning(*_COLUMNS)).one()
    except IntegrityError as exc:
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", "") or ""
        if "login" in constraint:
            raise LoadError(f"login '{login}' is taken" if "lower" in constraint
                            else f"login '{login}' is not a login: letters, digits, '.', '_' or '-', at most 64",
                            field="login") from None
        raise LoadError(f"person '{login}' refused by the store: {constraint or exc.orig}") from None
    audit(conn, actor=actor, action="person_add", entity="person", entity_id=login,
          detail={"name": name, "role": role, "departments": list(departments), "worker": worker_code})
    return _person(row)


def list_people(conn: Connection) -> list[Person]:
    """Everyone, by login."""
    return [_person(r) for r in conn.execute(select(*_COLUMNS).order_by(m.Person.login))]


def find_person(conn: Connection, person_id: int) -> Person | None:
    """A person by id, or ``None``."""
    row = conn.execute(select(*_COLUMNS).where(m.Person.id == person_id)).first()
    return _person(row) if row else None


def set_disabled(conn: Connection, login: str, disabled: bool, *, actor: str) -> Person:
    """Disable (or enable again) a person; their sessions end either way; audited.

    Raises
    ------
    NotFound
        No such login.
    """
    row = conn.execute(update(m.Person).where(func.lower(m.Person.login) == login.lower()).values(
        disabled_at=func.now() if disabled else None, session_epoch=m.Person.session_epoch + 1,
    ).returning(*_COLUMNS)).first()
    if row is None:
        raise NotFound(f"no person with login '{login}'")
    audit(conn, actor=actor, action="person_disable" if disabled else "person_enable", entity="person",
          entity_id=row.login)
    return _person(row)


def set_password(conn: Connection, login: str, password: str, *, actor: str) -> Person:
    """A new password; the sessions given before end; audited (without the password).

    Raises
    ------
    NotFound
        No such login.
    LoadError
        A short password.
    """
    row = conn.execute(update(m.Person).where(func.lower(m.Person.login) == login.lower()).values(
        password_hash=hash_password(password), session_epoch=m.Person.session_epoch + 1,
    ).returning(*_COLUMNS)).first()
    if row is None:
        raise NotFound(f"no person with login '{login}'")
    audit(conn, actor=actor, action="person_password", entity="person", entity_id=row.login)
    return _person(row)


def end_sessions(conn: Connection, principal: Principal) -> None:
    """Sign a person out everywhere (their epoch moves on); audited."""
    conn.execute(update(m.Person).where(m.Person.id == principal.person_id)
                 .values(session_epoch=m.Person.session_epoch + 1))
    audit(conn, actor=principal.actor, action="sign_out", entity="person", entity_id=principal.name)


def authenticate(conn: Connection, login: str, password: str) -> Person | None:
    """The person whose login and password these are, if enabled; ``None`` otherwise (the same for every cause)."""
    row = conn.execute(select(*_COLUMNS, m.Person.password_hash)
                       .where(func.lower(m.Person.login) == login.strip().lower())).first()
    try:
        _HASHER.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    return _person(row)


class SessionTokens:
    """Signs and reads session tokens: ``gwp_`` + a dated signature over (person id, epoch).

    Parameters
    ----------
    secret:
        The service's session secret; every API process of one service shares it.
    """

    def __init__(self, secret: str) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt=_SALT)

    def issue(self, person: Person, ttl_s: float) -> tuple[str, datetime]:
        """A token for ``person`` and when it expires."""
        token = TOKEN_PREFIX + self._signer.dumps([person.id, person.session_epoch])
        return token, datetime.now(UTC) + timedelta(seconds=ttl_s)

    def read(self, token: str, ttl_s: float) -> tuple[int, int, float]:
        """(person id, epoch, age in seconds) of a token issued at most ``ttl_s`` ago.

        Raises
        ------
        Unauthorized
            Not a token this service signed, or an expired one.
        """
        try:
            (person_id, epoch), signed = self._signer.loads(token.removeprefix(TOKEN_PREFIX), max_age=ttl_s,
                                                            return_timestamp=True)
        except SignatureExpired:
            raise Unauthorized("the session has expired: sign in again") from None
        except (BadSignature, ValueError, TypeError):
            raise Unauthorized("the session token is not one this service issued") from None
        return int(person_id), int(epoch), (datetime.now(UTC) - signed).total_seconds()


class PersonCache:
    """People by id, each re-read from the store at most every ``recheck_s`` seconds.

    Why a cache: the caller is found on every request, on the event loop; a
    query per request would cost a connection and a thread hop. A disabled
    person, or one whose epoch moved on, is refused within ``recheck_s``.
    """

    def __init__(self, recheck_s: float) -> None:
        self._recheck_s = recheck_s
        self._lock = threading.Lock()
        self._seen: dict[int, tuple[float, Person | None]] = {}

    def fresh(self, person_id: int) -> Person | None | bool:
        """The cached person if read recently (``None`` when there was none); ``False`` when it must be read."""
        got = self._seen.get(person_id)
        if got is None or time.monotonic() - got[0] > self._recheck_s:
            return False
        return got[1]

    def load(self, engine: Engine, person_id: int) -> Person | None:
        """Read a person from the store (in a worker thread) and remember it."""
        with engine.connect() as conn:
            person = find_person(conn, person_id)
        with self._lock:
            self._seen[person_id] = (time.monotonic(), person)
        return person

    def forget(self, person_id: int) -> None:
        """Drop a person from the cache (after this process changed them)."""
        with self._lock:
            self._seen.pop(person_id, None)


class PeopleGate:
    """Signs people in and finds the person behind a session token, for one API process.

    Parameters
    ----------
    engine:
        The store.
    secret:
        The session secret (``GRIDWALL_API_SESSION_SECRET``).
    ttl_s, display_ttl_s:
        How long a session lasts; a ``wall`` person's (a display left on for
        weeks) lasts ``display_ttl_s``.
    recheck_s:
        How stale a cached person may be.
    max_failures, window_s:
        A login that failed ``max_failures`` times within ``window_s`` seconds
        is refused (429) until the window has passed: counted per login, not
        per address, since every person at the wall signs in through the same
        wall server.
    """

    def __init__(self, engine: Engine, secret: str, *, ttl_s: float, display_ttl_s: float, recheck_s: float,
                 max_failures: int = 5, window_s: float = 300.0) -> None:
        self.engine = engine
        self.tokens = SessionTokens(secret)
        self.ttl_s = ttl_s
        self.display_ttl_s = display_ttl_s
        self.cache = PersonCache(recheck_s)
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def ttl_for(self, role: str) -> float:
        """How long a session of ``role`` lasts."""
        return self.display_ttl_s if role == "wall" else self.ttl_s

    def blocked_for(self, login: str) -> float:
        """Seconds until ``login`` may try again; 0 when it may now."""
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._failures.get(login.lower(), []) if t > now - self.window_s]
            self._failures[login.lower()] = recent
            return recent[0] + self.window_s - now if len(recent) >= self.max_failures else 0.0

    def failed(self, login: str) -> None:
        """Count a failed sign-in of ``login``."""
        with self._lock:
            self._failures.setdefault(login.lower(), []).append(time.monotonic())
            if len(self._failures) > 10_000:  # bounded: the oldest logins forgotten
                for stale in list(self._failures)[:1000]:
                    del self._failures[stale]

    def sign_in(self, conn: Connection, login: str, password: str) -> tuple[Person, str, datetime]:
        """The person, a fresh token and its expiry; audited either way.

        Raises
        ------
        Unauthorized
            Wrong login or password, or a disabled person (one message for all).
        """
        person = authenticate(conn, login, password)
        if person is None:
            self.failed(login)
            audit(conn, actor="anonymous", action="sign_in_failed", entity="person", entity_id=login[:64])
            raise Unauthorized("wrong login or password")
        token, expires = self.tokens.issue(person, self.ttl_for(person.role))
        audit(conn, actor=person.principal().actor, action="sign_in", entity="person", entity_id=person.login)
        return person, token, expires

    async def principal(self, token: str) -> Principal:
        """The signed-in person behind ``token``.

        Raises
        ------
        Unauthorized
            A token this service did not sign, an expired one, or one of a person since disabled or given a new
            password.
        """
        person_id, epoch, age = self.tokens.read(token, max(self.ttl_s, self.display_ttl_s))
        person = self.cache.fresh(person_id)
        if person is False:
            person = await anyio.to_thread.run_sync(self.cache.load, self.engine, person_id)
        if person is None or person.disabled or person.session_epoch != epoch:
            raise Unauthorized("the session has ended (the person was disabled or given a new password): sign in "
                               "again")
        if age > self.ttl_for(person.role):
            raise Unauthorized("the session has expired: sign in again")
        return person.principal()

    async def still_valid(self, principal: Principal) -> bool:
        """Whether a signed-in person's session still holds (for open streams)."""
        if principal.person_id is None:
            return True
        person = self.cache.fresh(principal.person_id)
        if person is False:
            person = await anyio.to_thread.run_sync(self.cache.load, self.engine, principal.person_id)
        return person is not None and not person.disabled and person.session_epoch == principal.epoch
