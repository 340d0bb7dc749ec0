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
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from sqlalchemy import ARRAY, Boolean, Connection, Text, TextClause, bindparam, text

from api.errors import Forbidden
from api.security import Principal
from command.intake import EventIn
from command.taxonomy import Taxonomy, current_taxonomy
from layers.errors import LoadError, NotFound

__all__ = [
    "SCOPED_LAYERS",
    "SEES_ALL",
    "DEPARTMENT_CHANNELS",
    "WORKER_CHANNELS",
    "WORKER_MOVES",
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

_ASSIGNED = ("EXISTS (SELECT 1 FROM assignment see_a JOIN grid_worker see_w ON see_w.id = see_a.worker_id"
             " WHERE see_a.event_id = {t}.id AND see_w.code = CAST(:see_worker AS text))")
_ALL = "CAST(:see_all AS boolean)"
#: per layer, the condition on a row of table or alias ``{t}``; NULL parameters grant nothing
_RULES = {
    "events": "(" + " OR ".join((
        _ALL,
        "{t}.department = ANY(CAST(:see_departments AS text[]))",
        "{t}.channel = ANY(CAST(:see_channels AS text[]))",
        _ASSIGNED,
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

    For events the worker's share (events it was sent to) needs the
    assignments, which a row does not carry: pass ``worker_codes`` (the
    codes of the workers ever sent to it) when known; without it the row is
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
        return layer == "events" and r.worker in (row.get("worker_codes") or ())
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
    SELECT e.id, e.department, e.state, e.channel, """ + condition_sql("events", "e") + """ AS seen,
           EXISTS (SELECT 1 FROM assignment a JOIN grid_worker w ON w.id = a.worker_id
                   WHERE a.event_id = e.id AND w.code = CAST(:see_worker AS text) AND a.released_at IS NULL) AS on_it
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


def check_move(conn: Connection, principal: Principal, event_id: int, to_state: str) -> None:
    """Check that ``principal`` may move event ``event_id`` to ``to_state``.

    A department moves its departments' events; a worker's phone only an
    event it is on now (not one it was released from), and only to
    :data:`WORKER_MOVES`; the roles that see everything and may move (the
    router lets in admin and operator) move any.

    Raises
    ------
    NotFound
        No such event.
    Forbidden
        The event is outside what the key may move, or the state is not one it may move to.
    """
    row = _event(conn, principal, event_id)
    if row is None:
        raise NotFound("no event {event_id}", event_id=event_id)
    if principal.role == "grid_worker":
        if not row.on_it:
            raise Forbidden("event {event_id} is not one worker {worker} is on; key '{key}' moves only those",
                            event_id=event_id, worker=principal.worker_code, key=principal.name)
        if to_state not in WORKER_MOVES:
            raise Forbidden("a grid worker may move an event to {moves}, not {to_state}", moves=WORKER_MOVES,
                            to_state=to_state)
    elif not row.seen:
        raise Forbidden("event {event_id} is not among the events of key '{key}' ({scope}); it may not move it",
                        event_id=event_id, key=principal.name, scope=_scope_words(principal))


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
