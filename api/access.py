"""Who may see and write what: the one home of the access rules.

Every reader asks here which rows of a layer a key's principal sees — as a
bound SQL condition for the store (:func:`condition`, :func:`condition_params`,
:func:`where`) and as a Python predicate for the live feed (:func:`visible`) —
and every writer asks here whether the principal may write (:func:`check_report`,
:func:`check_move`, :func:`check_fixes`). No other module decides by role
which rows are shown; routers only gate whole endpoints by role
(:mod:`api.deps`).

Why in ``api/`` and not ``command/``: the rules are about API keys — a
:class:`~api.security.Principal` and the :class:`~api.errors.Forbidden` a
refusal maps to (403) — which the event loop below knows nothing of; the loop
takes plain filters (``command.kpi.kpis(departments=…)``) and stays
role-agnostic.

Who sees what (``layers`` not named are seen whole by every reader):

=============================  ===================  ==================  ==============
role                           events               cameras             workers
=============================  ===================  ==================  ==============
admin, operator, planner,      all                  all                 all
analyst, wall
department                     its departments'     its departments'    none
grid_worker                    those it was sent    all                 itself
                               to (ever assigned)
                               or reported itself
open311                        the hotline channel  none                none
=============================  ===================  ==================  ==============

KPIs: a department's figures count its departments' events and cameras
(:func:`kpi_departments`); a grid worker gets none (403 at the router): its
event scope is the handful it was sent to, and figures of those would be a
rating of one person nobody designed, while its grid's figures would count
events its scope does not show.

A read outside the scope is a 404, the same answer as for an id that does
not exist, on every endpoint (``/events/{id}``, ``/layers/events/{id}``, OGC
items): a key does not learn what others' rows exist. A write refused is a 403
naming what was refused.

The SQL condition is one bound-parameter fragment per layer (:data:`_RULES`,
with the row's table or alias); its parameters say what the principal is
granted, NULL for what it is not, so one prepared statement serves every key.

Who may make which move (:data:`ROLE_MOVES`, over
:data:`command.lifecycle.TRANSITIONS`; the move must also be legal from the
event's state):

===========  ==========================================  =========================
role         moves to                                    on
===========  ==========================================  =========================
admin,       every state                                 every event
operator
supervisor   verified, closed, reopened, returned        every event
department   every state                                 its departments' events
grid_worker  in_progress, handled, returned              the events it is on now
===========  ==========================================  =========================

What a move needs (:func:`move_needs`): a note for ``rejected``,
``returned`` and ``reopened`` — the reason is what the next hand reads — and
for closing a 12345 event a satisfaction rating (:data:`RATED_CHANNELS`).
Which other actions a key may take on an event is :data:`ACTION_ROLES` (the
routes let in exactly these roles) and what the event's state allows.
:func:`event_options` tells a client its moves and actions on one event from
these same rules, so what a console offers is what the service lets through.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from sqlalchemy import ARRAY, Boolean, Connection, Text, TextClause, bindparam, text

from api.errors import Forbidden
from api.security import Principal
from command.dispatch import DISPATCH_STATES
from command.duplicates import UNMERGEABLE_STATES
from command.intake import EventIn
from command.lifecycle import OPEN_STATES, TRANSITIONS, allowed_moves
from command.taxonomy import Taxonomy, current_taxonomy
from layers.errors import Conflict, LoadError, NotFound

__all__ = [
    "SCOPED_LAYERS",
    "SEES_ALL",
    "DEPARTMENT_CHANNELS",
    "WORKER_CHANNELS",
    "WORKER_MOVES",
    "ROLE_MOVES",
    "MOVERS",
    "NOTE_REQUIRED",
    "RATED_CHANNELS",
    "ACTION_ROLES",
    "ACTIONS",
    "Reach",
    "reach",
    "condition",
    "condition_sql",
    "condition_params",
    "where",
    "visible",
    "kpi_departments",
    "event_visible",
    "check_report",
    "check_intake",
    "check_move",
    "check_fixes",
    "move_needs",
    "event_options",
    "check_self_settle",
    "reporter_of",
]

#: roles that see every row of every layer
SEES_ALL = frozenset({"admin", "operator", "supervisor", "planner", "analyst", "wall"})
#: channels a department key files on: its own systems (digital city management, its video analytics); patrol and
#: self_settled are grid workers' own reports, the hotline is the 12345 gateway's (the open311 key)
DEPARTMENT_CHANNELS = ("city_mgmt", "video")
#: channels a grid worker's phone files on
WORKER_CHANNELS = ("patrol", "self_settled")
#: states a grid worker may move an event it is on to
WORKER_MOVES = ("in_progress", "handled", "returned")
#: the open311 key's events: the requests it files
_OPEN311_CHANNELS = ("hotline",)

_EVERY_STATE = frozenset(to for targets in TRANSITIONS.values() for to in targets)
#: who may make which move: role → the states it may move an event to (on the events :func:`check_move` lets it)
ROLE_MOVES: dict[str, frozenset[str]] = {
    "admin": _EVERY_STATE,
    "operator": _EVERY_STATE,
    # the command centre's 监督: it judges work done (verify, close, send back) and reopens; it does not take in
    # or hand out work, which is the operators' and the departments'
    "supervisor": frozenset({"verified", "closed", "reopened", "returned"}),
    "department": _EVERY_STATE,
    "grid_worker": frozenset(WORKER_MOVES),
}
#: the roles that move events at all
MOVERS = tuple(ROLE_MOVES)
#: moves that need a note: a rejection, a hand-back and a reopening are read by the next hand, who needs the reason
NOTE_REQUIRED = frozenset({"rejected", "returned", "reopened"})
#: channels on which closing needs a satisfaction rating (see :func:`move_needs`)
RATED_CHANNELS = ("hotline",)
#: who may take which action on an event; the routes let in exactly these roles (:mod:`api.deps`)
ACTION_ROLES: dict[str, tuple[str, ...]] = {
    "dispatch": ("admin", "operator"),
    "supervise": ("admin", "operator", "supervisor"),
    "merge": ("admin", "operator"),
    "split": ("admin", "operator"),
    "cameras": ("admin", "operator"),
    "resources": ("admin", "operator"),
    "self_settle": ("admin", "operator", "grid_worker"),  # a worker only the self-settled events it reported
}
ACTIONS = tuple(ACTION_ROLES)
#: states a self-settled event is not settled from: settled already, or refused by the hall
_NOT_SETTLEABLE = ("closed", "rejected")

_ASSIGNED = ("EXISTS (SELECT 1 FROM assignment see_a JOIN grid_worker see_w ON see_w.id = see_a.worker_id"
             " WHERE see_a.event_id = {t}.id AND see_w.code = CAST(:see_worker AS text))")
_REPORTED = ("EXISTS (SELECT 1 FROM grid_worker see_r WHERE see_r.id = {t}.reporter_worker_id"
             " AND see_r.code = CAST(:see_worker AS text))")
_ALL = "CAST(:see_all AS boolean)"
#: per layer, the condition on a row of table or alias ``{t}``; NULL parameters grant nothing
_RULES = {
    "events": "(" + " OR ".join((
        _ALL,
        "{t}.department = ANY(CAST(:see_departments AS text[]))",
        "{t}.channel = ANY(CAST(:see_channels AS text[]))",
        _ASSIGNED,
        _REPORTED,
    )) + ")",
    "cameras": f"({_ALL} OR {{t}}.owner_dept = ANY(CAST(:see_departments AS text[])))",
    "workers": f"({_ALL} OR {{t}}.code = CAST(:see_worker AS text))",
}
#: the layers no role outside :data:`SEES_ALL` sees whole
SCOPED_LAYERS = tuple(_RULES)
_TYPES = {"see_all": Boolean(), "see_departments": ARRAY(Text), "see_channels": ARRAY(Text), "see_worker": Text()}


@dataclass(frozen=True)
class Reach:
    """What of one layer a principal sees: everything, or rows of these departments, channels or this worker.

    A field left ``None`` grants nothing; a reach with every field empty sees nothing.
    """

    everything: bool = False
    departments: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    worker: str | None = None

    def params(self) -> dict[str, object]:
        """The bound values of the layer's condition (``see_*``)."""
        return {"see_all": self.everything,
                "see_departments": list(self.departments) if self.departments is not None else None,
                "see_channels": list(self.channels) if self.channels is not None else None,
                "see_worker": self.worker}


_EVERYTHING = Reach(everything=True)
_NOTHING = Reach()


def reach(principal: Principal, layer: str) -> Reach:
    """What of ``layer`` (a served layer's name: ``events``, ``cameras``, ``workers`` …) ``principal`` sees.

    Examples
    --------
    >>> reach(Principal("f", "department", ("消防",)), "events").departments
    ('消防',)
    """
    if layer not in _RULES or principal.role in SEES_ALL:
        return _EVERYTHING
    if principal.role == "department":
        return Reach(departments=principal.departments) if layer in ("events", "cameras") else _NOTHING
    if principal.role == "grid_worker":
        return _EVERYTHING if layer == "cameras" else Reach(worker=principal.worker_code)
    if principal.role == "open311" and layer == "events":
        return Reach(channels=_OPEN311_CHANNELS)
    return _NOTHING


def condition_sql(layer: str, table: str) -> str:
    """The condition's SQL text on rows of ``layer`` in ``table`` (a table name or alias), for ``.sql`` files.

    Its parameters are ``:see_all``, ``:see_departments``, ``:see_channels``
    and ``:see_worker`` (values from :func:`condition_params`). ``.sql`` files
    loaded by :func:`api.store.sql` write ``/* sees LAYER ALIAS */`` where it goes.
    """
    if layer not in _RULES:
        raise ValueError(f"layer '{layer}' is seen whole: it has no access condition")
    if not table.isidentifier():  # a constant of the caller's code, never a user value
        raise ValueError(f"'{table}' is not a table name or alias")
    return _RULES[layer].format(t=table)


@cache
def condition(layer: str, table: str) -> TextClause | None:
    """The bound condition on rows of ``layer`` in ``table`` (a table name or alias), or ``None`` when unscoped.

    Its parameters (``see_*``, typed) are unset: give them with
    :func:`condition_params` at execution, or use :func:`where` to bind them.
    Built once per (layer, table): the statements that hold it are built and
    compiled once for every key.
    """
    if layer not in _RULES:
        return None
    return text(condition_sql(layer, table)).bindparams(*[bindparam(k, type_=_TYPES[k]) for k in _used(layer)])


def condition_params(principal: Principal, layer: str) -> dict[str, object]:
    """The values of :func:`condition`'s parameters for ``principal`` (empty for an unscoped layer)."""
    if layer not in _RULES:
        return {}
    values = reach(principal, layer).params()
    return {k: values[k] for k in _used(layer)}


@cache
def _used(layer: str) -> tuple[str, ...]:
    """The ``see_*`` parameters the layer's condition holds."""
    return tuple(k for k in _TYPES if k in set(re.findall(r":(see_\w+)", _RULES[layer])))


def where(principal: Principal, layer: str, table: str) -> TextClause | None:
    """:func:`condition` with ``principal``'s values bound: a clause for ``select(…).where(…)``."""
    cond = condition(layer, table)
    return None if cond is None else cond.params(**condition_params(principal, layer))


def visible(principal: Principal, layer: str, row: Mapping) -> bool:
    """The Python twin of :func:`condition`: whether a row (a dict of its columns) of ``layer`` is seen.

    For events the worker's share (events it was sent to, events it
    reported) needs the assignments and the reporter's code, which a row
    does not carry: pass ``worker_codes`` (the codes of the workers ever
    sent to it) and ``reporter_code`` when known; without them the row is
    not seen by a worker's key — the live feed tells a phone of its
    assignments instead.
    """
    r = reach(principal, layer)
    if r.everything:
        return True
    column = {"events": "department", "cameras": "owner_dept"}.get(layer)
    if r.departments is not None and column is not None and row.get(column) in r.departments:
        return True
    if r.channels is not None and layer == "events" and row.get("channel") in r.channels:
        return True
    if r.worker is not None:
        if layer == "workers":
            return row.get("code") == r.worker
        return layer == "events" and (r.worker in (row.get("worker_codes") or ())
                                      or row.get("reporter_code") == r.worker)
    return False


def kpi_departments(principal: Principal) -> tuple[str, ...] | None:
    """The departments whose figures a KPI answer counts for ``principal``, or ``None`` for all of them.

    Raises
    ------
    Forbidden
        A role whose event scope is not a set of departments (the router
        already refuses them; this is the rule's own guard).
    """
    r = reach(principal, "events")
    if r.everything:
        return None
    if r.departments is not None and r.channels is None and r.worker is None:
        return r.departments
    raise Forbidden("key '{key}' (role {role}) gets no figures of the loop", key=principal.name, role=principal.role)


_EVENT = text("""
    SELECT e.id, e.department, e.state, e.channel, e.duplicate_of_id, e.geom IS NOT NULL AS located,
           """ + condition_sql("events", "e") + """ AS seen,
           EXISTS (SELECT 1 FROM assignment a JOIN grid_worker w ON w.id = a.worker_id
                   WHERE a.event_id = e.id AND w.code = CAST(:see_worker AS text) AND a.released_at IS NULL) AS on_it,
           EXISTS (SELECT 1 FROM assignment a
                   WHERE a.event_id = e.id AND a.kind = 'worker' AND a.released_at IS NULL) AS worked,
           EXISTS (SELECT 1 FROM grid_worker r
                   WHERE r.id = e.reporter_worker_id AND r.code = CAST(:see_worker AS text)) AS reported_it
    FROM event e WHERE e.id = :id
""")


def _event(conn: Connection, principal: Principal, event_id: int):
    return conn.execute(_EVENT, {"id": event_id, **condition_params(principal, "events")}).first()


def event_visible(conn: Connection, principal: Principal, event_id: int) -> None:
    """Check that ``principal`` sees event ``event_id``.

    Raises
    ------
    NotFound
        No such event, or one outside the principal's scope (the same answer).
    """
    row = _event(conn, principal, event_id)
    if row is None or not row.seen:
        raise NotFound("no event {event_id}", event_id=event_id)


def check_move(conn: Connection, principal: Principal, event_id: int, to_state: str, *,
               note: str | None = None, rating: int | None = None) -> None:
    """Check that ``principal`` may move event ``event_id`` to ``to_state``, with what the move needs.

    Who may make which move is :data:`ROLE_MOVES`: a department moves its
    departments' events; a worker's phone only an event it is on now (not
    one it was released from), and only to :data:`WORKER_MOVES`; a
    supervisor verifies, closes, reopens and sends back; admin and operator
    make every move. A legal move (from the event's state) also needs what
    :func:`move_needs` says; an illegal one is left to the loop's 409.

    Raises
    ------
    NotFound
        No such event.
    Forbidden
        The event is outside what the key may move, or the state is not one it may move to.
    LoadError
        A note or a rating the move needs is missing (422, ``field`` names it).
    """
    row = _event(conn, principal, event_id)
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    refusal = _move_refusal(principal, row, to_state)
    if refusal is not None:
        raise Forbidden(refusal[0], **refusal[1])
    if to_state not in allowed_moves(row.state):
        return
    needs = move_needs(to_state, row.channel)
    where = f"event {event_id}"
    if needs["note"] == "required" and not (note and note.strip()):
        raise LoadError("a move to {to_state} needs a note saying why", source=where, field="note", to_state=to_state)
    if needs["rating"] == "required" and rating is None:
        raise LoadError("closing a {channel} event needs the satisfaction rating (1–5) from the call-back",
                        source=where, field="rating", channel=row.channel)
    if needs["rating"] == "none" and rating is not None:
        raise LoadError("a rating is given when closing, not on a move to {to_state}", source=where, field="rating",
                        to_state=to_state)


def _move_refusal(principal: Principal, row, to_state: str) -> tuple[str, dict] | None:
    """Why ``principal`` may not move the event of ``row`` (:data:`_EVENT`) to ``to_state`` (a template and its
    values, :mod:`api.messages`); ``None`` if it may."""
    allowed = ROLE_MOVES.get(principal.role)
    if allowed is None:
        return "role '{role}' moves no events", {"role": principal.role}
    if principal.role == "grid_worker":
        if not row.on_it:
            return ("event {event_id} is not one worker {worker} is on; key '{key}' moves only those",
                    {"event_id": row.id, "worker": principal.worker_code, "key": principal.name})
    elif not row.seen:
        return ("event {event_id} is not among the events of key '{key}' ({scope}); it may not move it",
                {"event_id": row.id, "key": principal.name, "scope": _scope_words(principal)})
    if to_state not in allowed:
        return ("a {role} may move an event to {moves}, not {to_state}",
                {"role": principal.role, "moves": sorted(allowed), "to_state": to_state})
    return None


def move_needs(to_state: str, channel: str) -> dict[str, str]:
    """What a move of an event on ``channel`` to ``to_state`` needs: ``{"note": …, "rating": …}``.

    ``note`` is ``required`` for :data:`NOTE_REQUIRED`, else ``optional``;
    ``rating`` is ``none`` except when closing.

    Why a rating is required to close a hotline (12345) event and optional
    on the other channels: a 12345 hall closes a citizen's request only
    after the call-back (回访), in which the caller rates the handling
    (满意度); that rating is the hall's own measure and what the city grades
    it by, so a close without it leaves a hole in the figures nobody can fill
    later. Patrol, self-settled, city-management and video events have no
    caller to ring back: a rating there is an inspector's judgement, given
    when there is one. A caller the call-back cannot reach is the hall's to
    rate by its own rule (many count three failed tries as satisfied); the
    service does not guess it.

    Examples
    --------
    >>> move_needs("closed", "hotline")
    {'note': 'optional', 'rating': 'required'}
    >>> move_needs("returned", "patrol")
    {'note': 'required', 'rating': 'none'}
    """
    rating = "none"
    if to_state == "closed":
        rating = "required" if channel in RATED_CHANNELS else "optional"
    return {"note": "required" if to_state in NOTE_REQUIRED else "optional", "rating": rating}


def _action_refusal(principal: Principal, row, action: str) -> str | None:
    """Why ``principal`` may not take ``action`` on the event of ``row`` now; ``None`` if it may.

    The role first (what the route lets in), then what the event's state
    allows (what the loop would refuse with a 409).
    """
    if principal.role not in ACTION_ROLES[action]:
        return f"role '{principal.role}' may not {action.replace('_', '-')} events"
    if action == "dispatch" and (row.duplicate_of_id is not None or row.state not in DISPATCH_STATES):
        return f"event {row.id} is {row.state}{' (a duplicate)' if row.duplicate_of_id else ''}: nobody is sent"
    if action == "supervise" and row.state not in OPEN_STATES:
        return f"event {row.id} is {row.state}: there is nothing left to chase"
    if action == "merge" and (row.state in UNMERGEABLE_STATES or row.worked):
        return f"event {row.id} is {row.state}{' with a worker on it' if row.worked else ''}: it is not merged"
    if action == "split" and row.duplicate_of_id is None:
        return f"event {row.id} is not a duplicate: there is nothing to split"
    if action in ("cameras", "resources") and not row.located:
        return f"event {row.id} has no point: nothing is near it"
    if action == "resources" and row.duplicate_of_id is not None:
        return f"event {row.id} is a duplicate of event {row.duplicate_of_id}: call for that one"
    if action == "self_settle":
        refusal = _settle_refusal(principal, row)[1]
        return refusal[0] if refusal else None
    return None


def _settle_refusal(principal: Principal, row) -> tuple[type[Exception], tuple[str, dict] | None]:
    """Why ``principal`` may not self-settle the event of ``row`` (a template and its values), and the error that
    says so."""
    if principal.role == "grid_worker" and not row.reported_it:
        return Forbidden, ("event {event_id} was not reported by worker {worker}: a grid worker settles only the "
                           "events it reported itself", {"event_id": row.id, "worker": principal.worker_code})
    if row.channel != "self_settled":
        return Conflict, ("event {event_id} came in on channel {channel}, not self_settled: it goes through the "
                          "hall's loop", {"event_id": row.id, "channel": row.channel})
    if row.state in _NOT_SETTLEABLE:
        return Conflict, ("event {event_id} is {state}: there is nothing to settle",
                          {"event_id": row.id, "state": row.state})
    return Conflict, None


def event_options(conn: Connection, principal: Principal, event_id: int) -> dict[str, list]:
    """The moves and actions ``principal`` may take on event ``event_id`` now: ``{"moves": […], "actions": […]}``.

    ``moves`` are the states it may move the event to from its current
    state, each with what the move needs (:func:`move_needs`); ``actions``
    a subset of :data:`ACTIONS`. Both come from the rules that refuse a
    request (:func:`check_move`, :data:`ACTION_ROLES`, :func:`check_self_settle`),
    so every one offered is let through and nothing else is.

    Raises
    ------
    NotFound
        No such event.
    """
    row = _event(conn, principal, event_id)
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    moves = [{"to_state": to, **move_needs(to, row.channel)} for to in allowed_moves(row.state)
             if _move_refusal(principal, row, to) is None]
    return {"moves": moves, "actions": [a for a in ACTIONS if _action_refusal(principal, row, a) is None]}


def check_self_settle(conn: Connection, principal: Principal, event_id: int) -> None:
    """Check that ``principal`` may settle event ``event_id`` itself (自办自结).

    A grid worker settles an event on channel ``self_settled`` that it
    reported (the event's ``reporter_worker_id``: the worker, not the key or
    login it used); admin and operator any self-settled event. Not from
    closed or rejected: a rejection is the hall's word, which a worker does
    not overturn by settling.

    Raises
    ------
    NotFound
        No such event.
    Forbidden
        A role that does not settle, or a worker that did not report the event.
    Conflict
        Not a self-settled event, or one closed or rejected.
    """
    row = _event(conn, principal, event_id)
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    if principal.role not in ACTION_ROLES["self_settle"]:
        raise Forbidden("role '{role}' may not self-settle events", role=principal.role)
    error, refusal = _settle_refusal(principal, row)
    if refusal is not None:
        raise error(refusal[0], **refusal[1])


def reporter_of(principal: Principal) -> str | None:
    """The worker an event filed by ``principal`` is recorded as reported by (its code), or ``None``.

    A grid worker's phone reports as its worker, whatever key or login it
    uses: the record survives the actor's name changing.
    """
    return principal.worker_code if principal.role == "grid_worker" else None


def check_report(principal: Principal, channel: str, department: str | None) -> None:
    """Check that ``principal`` may file an event on ``channel`` that goes to ``department``.

    ``department`` is the one the event's class routes it to (the taxonomy
    leaf's). A department key files on :data:`DEPARTMENT_CHANNELS`, for its
    own departments only; a worker's phone on :data:`WORKER_CHANNELS`; the
    open311 key on the hotline (its route files nothing else); admin and
    operator anything.

    Raises
    ------
    Forbidden
        Naming the channel or the department refused.
    """
    allowed = {"department": DEPARTMENT_CHANNELS, "grid_worker": WORKER_CHANNELS,
               "open311": _OPEN311_CHANNELS}.get(principal.role)
    if principal.role in ("admin", "operator"):
        return
    if allowed is None:
        raise Forbidden("role '{role}' files no events", role=principal.role)
    if channel not in allowed:
        raise Forbidden("key '{key}' (role {role}) files events on {channels}, not on channel '{channel}'",
                        key=principal.name, role=principal.role, channels=tuple(allowed), channel=channel)
    if principal.role == "department" and department not in principal.departments:
        raise Forbidden("key '{key}' files events for {departments}; this one's class goes to {department}",
                        key=principal.name, departments=tuple(principal.departments),
                        department=department or "—")


def check_intake(conn: Connection, principal: Principal, events: list[EventIn],
                 taxonomy: Taxonomy | None = None) -> None:
    """:func:`check_report` for each event of a request, before anything is written.

    The department an event goes to is its class's; a class that resolves to
    no leaf is left for intake to refuse (422, naming the field). The taxonomy
    is read only for department keys (admin's and operator's intake stays one
    round trip).

    Raises
    ------
    Forbidden
        The first event refused, with its index when there are several.
    """
    for i, event in enumerate(events):
        department = None
        if principal.role == "department":
            taxonomy = taxonomy or current_taxonomy(conn)
            try:
                department = taxonomy.resolve(event.category, event.source).department
            except LoadError:
                continue
        try:
            check_report(principal, event.channel, department)
        except Forbidden as refused:
            if len(events) > 1:
                raise Forbidden("event {index}: {refusal}", index=i, refusal=refused) from None
            raise


def check_fixes(principal: Principal, workers: set[str]) -> None:
    """Check that ``principal`` may report the positions of ``workers`` (codes): a phone only its own.

    Raises
    ------
    Forbidden
        A worker's key reporting another worker.
    """
    if principal.role == "grid_worker" and workers - {principal.worker_code}:
        raise Forbidden("key '{key}' may only report worker {worker}, not {others}", key=principal.name,
                        worker=principal.worker_code, others=tuple(sorted(workers - {principal.worker_code})))


def _scope_words(principal: Principal) -> str:
    r = reach(principal, "events")
    if r.departments is not None:
        return "departments " + ", ".join(r.departments)
    if r.channels is not None:
        return "channel " + ", ".join(r.channels)
    return "none"
