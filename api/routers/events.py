"""The event register over HTTP: intake, one event, moves through the loop, supervision.

The register lists newest first, within a window of reported time. Intake
is idempotent on ``(channel, external_id)``: a repeat answers 200 with
the first registration, a new event 201, and a repeat that says something
else (another class, place, time …) 409 naming the first event. A
``reported_at`` before ``event_earliest`` or in the future is refused. Batch intake is all or nothing by
default (the index of the refused event is in the error), or per event with
``atomic=false``. Moves follow :data:`command.lifecycle.TRANSITIONS`; an
impossible move is a 409 that lists the moves there are. Who may make which
move, what a move needs (a note, a rating) and which other actions a key may
take are :mod:`api.access`'s; an event's detail lists those open to the caller.
A grid worker settles the self-settled events it reported in one request
(自办自结, ``/self-settle``).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.access import check_intake, check_move, check_self_settle, event_visible, reporter_of
from api.deps import (
    ConnDep,
    EngineDep,
    Lang,
    Mover,
    Operator,
    Reader,
    Reporter,
    RetriesDep,
    SelfSettler,
    SettingsDep,
    Supervisor,
    TxDep,
    autocommit,
)
from api.params import BigId, PagingDep, ReportedDep, TextDep
from api.security import Principal
from api.store import BatchOutcome, EventPage, event_detail, intake_batch, list_events
from command.intake import EventIn, IntakeResult, intake
from command.lifecycle import flag_overdue, supervise, transition, walk
from layers import models as m
from layers.db import retried

__all__ = ["router", "Move", "Moved", "Settled", "Batch", "Note"]

router = APIRouter(prefix="/events", tags=["events"])

State = Literal[m.EVENT_STATES]  # type: ignore[valid-type]


class Batch(BaseModel):
    """Several events in one request (a channel's gateway catching up)."""

    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(min_length=1, max_length=1000)
    atomic: bool = Field(default=True, description="All or nothing; false registers what it can.")


class Move(BaseModel):
    """A move of an event to another state."""

    model_config = ConfigDict(extra="forbid")
    to_state: State
    note: str | None = Field(default=None, max_length=2000)
    rating: int | None = Field(default=None, ge=1, le=5, description="Satisfaction, when closing.")


class Moved(BaseModel):
    """Where a move took the event from and to."""

    event_id: int
    from_state: str
    state: str


class Settled(Moved):
    """A self-settled event: the states it passed through on its way to closed, in order."""

    steps: list[str]


class Note(BaseModel):
    """A note for an audited action."""

    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)


@router.post("", status_code=201, responses={200: {"description": "Already registered: the first registration"}},
             summary="Register one event (intake)")
async def intake_one(event: EventIn, engine: EngineDep, user: Reporter, settings: SettingsDep,
                     response: Response) -> IntakeResult:
    """Classify, route, deadline and duplicate-check one event, and register it once (403 if the key may not file
    it: :func:`api.access.check_intake`).

    A repeat of ``(channel, external_id)`` with the same payload answers 200 with the first registration; with a
    different payload 409, naming the first event (``event_id``, ``event_code``).
    """
    settings.report_times.check([event])
    result = await run_in_threadpool(_register, engine, event, user)
    if not result.created:
        response.status_code = 200
    return result


def _register(engine: Engine, event: EventIn, user: Principal) -> IntakeResult:
    """Intake committed before the answer goes out, in as few round trips as it takes.

    The hot path (hundreds a second). The route is async and hands this one
    function to the thread pool, where a sync route with a transaction
    dependency would hop there four times (dependency in, route, response
    validation, dependency out). The connection is in autocommit: intake
    writes an event with its history and audit rows in one statement, atomic
    on its own, so a ``BEGIN`` and a ``COMMIT`` would only add two round trips
    (a point event then costs one).
    """
    with autocommit(engine) as conn:
        check_intake(conn, user, [event])
        return intake(conn, event, actor=user.actor, reporter=reporter_of(user))


@router.post("/batch", summary="Register a batch of events")
def intake_many(batch: Batch, tx: TxDep, user: Reporter, settings: SettingsDep, retries: RetriesDep,
                lang: Lang) -> BatchOutcome:
    """Register events in order; all or nothing unless ``atomic`` is false.

    Two batches sharing external ids in different orders deadlock; the one
    PostgreSQL aborts is taken again (:func:`layers.db.retried`) and finds
    the other's events registered, as a repeat would.
    """
    check_intake(tx, user, batch.events)
    settings.report_times.check(batch.events)
    return retried(tx, lambda: intake_batch(tx, batch.events, actor=user.actor, atomic=batch.atomic,
                                            reporter=reporter_of(user), lang=lang), retries=retries)


@router.get("", summary="List events, newest first, optionally within a reported-time window or by words")
def list_register(conn: ConnDep, user: Reader, window: ReportedDep, page: PagingDep, search: TextDep) -> EventPage:
    """Events reported in ``[since, until)`` (either end may be left open), newest first (reported time, then id).

    A department key lists only its departments' events, a worker's phone only
    the events it was sent to. ``q`` keeps those whose code, title, address or description hold each of its
    words. Page with ``limit`` and ``offset``; the answer's ``next_offset`` is null on the last page.
    """
    return list_events(conn, user, since=window.since, until=window.until, limit=page.limit, offset=page.offset,
                       q=search.q)


@router.get("/{event_id}", summary="One event with its history, assignments and what the caller may do with it")
def get_event(event_id: BigId, conn: ConnDep, user: Reader) -> dict:
    """The event, if the caller sees it (:mod:`api.access`); 404 as for no event otherwise.

    ``moves``: the states the caller may move it to now, each with ``note``
    (``required``/``optional``) and ``rating`` (``required``/``optional``/``none``);
    ``actions``: which of dispatch, supervise, merge, split, cameras,
    resources and self_settle the caller may take on it now.
    """
    event_visible(conn, user, event_id)
    return event_detail(conn, event_id, user)


@router.post("/{event_id}/transitions", summary="Move an event through the loop")
def move(event_id: BigId, body: Move, tx: TxDep, user: Mover) -> Moved:
    """Accept, hand back, handle, verify, close (with a rating), reopen …; a worker moves only its own events."""
    check_move(tx, user, event_id, body.to_state, note=body.note, rating=body.rating)
    came_from = transition(tx, event_id, body.to_state, actor=user.actor, note=body.note, rating=body.rating)
    return Moved(event_id=event_id, from_state=came_from, state=body.to_state)


@router.post("/{event_id}/self-settle", summary="Settle an event one reported oneself (自办自结)")
def self_settle(event_id: BigId, body: Note, tx: TxDep, user: SelfSettler) -> Settled:
    """Accept, handle and close a self-settled event in one go, each step in its history under the caller.

    A grid worker settles the events on channel ``self_settled`` it reported;
    admin and operator any (:func:`api.access.check_self_settle`: 403, or 409
    for another channel, a closed or a rejected event).
    """
    check_self_settle(tx, user, event_id)
    came_from, steps = walk(tx, event_id, "closed", actor=user.actor, note=_settled_note(body.note))
    return Settled(event_id=event_id, from_state=came_from, state="closed", steps=list(steps))


def _settled_note(note: str | None) -> str:
    """The history note of each step: marked as settled by the reporter, with the caller's words."""
    return f"自办自结: {note}" if note and note.strip() else "自办自结"


@router.post("/{event_id}/supervise", summary="Raise an event's supervision level (督办)")
def raise_supervision(event_id: BigId, body: Note, tx: TxDep, user: Supervisor) -> dict:
    """One level up for an open event; audited."""
    return {"event_id": event_id, "supervision_level": supervise(tx, event_id, actor=user.actor, note=body.note)}


@router.post("/overdue", summary="Flag overdue events now")
def overdue(tx: TxDep, user: Operator) -> list[dict]:
    """Flag open events past their deadline and escalate their supervision; returns those raised."""
    return [{"event_id": i, "supervision_level": lv} for i, lv in flag_overdue(tx, actor=user.actor)]
