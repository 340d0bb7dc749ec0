"""Sign-in for people: a login and a password for a session token (:mod:`api.people`).

The wall, console and planner sign their users in here (the Dash server
calls it and keeps the token in its own cookie); any other client of
people (a phone page) may too. A token is sent like a key
(``Authorization: Bearer gwp_…``). Every sign-in, and every failed one, is
in the audit log. A login that keeps failing is refused for a while (429).
"""

from __future__ import annotations

import math
from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentUser, TxDep
from api.errors import TooManyRequests
from api.people import PeopleGate, end_sessions

__all__ = ["router", "SignIn", "Session"]

router = APIRouter(prefix="/auth", tags=["sign-in"])


class SignIn(BaseModel):
    """A person's login and password."""

    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Session(BaseModel):
    """A session: the token to send as ``Authorization: Bearer``, when it ends, and who it is."""

    token: str
    expires_at: datetime
    person: dict


@router.post("/login", summary="Sign a person in")
def login(body: SignIn, request: Request, tx: TxDep) -> Session:
    """A session token for a person's login and password; 401 (one message for every cause) when wrong."""
    gate: PeopleGate = request.app.state.people
    wait = gate.blocked_for(body.login)
    if wait > 0:
        raise TooManyRequests("too many failed sign-ins for '{login}': wait {seconds} s", login=body.login,
                              seconds=math.ceil(wait))
    person, token, expires = gate.sign_in(tx, body.login, body.password)
    return Session(token=token, expires_at=expires, person=person.public())


@router.post("/logout", summary="End the caller's sessions")
def logout(request: Request, tx: TxDep, user: CurrentUser) -> dict:
    """Sign a person out everywhere: every token given to them so far stops working (a key is not affected)."""
    if user.person_id is None:
        return {"ended": False}
    end_sessions(tx, user)
    request.app.state.people.cache.forget(user.person_id)
    return {"ended": True}


@router.get("/me", summary="Who is calling")
async def me(user: CurrentUser) -> dict:
    """The caller as the access rule sees it: a person signed in, or a key."""
    return {"login": user.name, "name": user.person or user.name, "role": user.role,
            "departments": list(user.departments), "worker_code": user.worker_code, "actor": user.actor,
            "person": user.person_id is not None}
