"""Who sees which change on the live feed (the fan-out rules, without a socket)."""

from __future__ import annotations

import pytest

from api.live import visible
from api.security import Principal

WALL = Principal("w", "wall")
DEPT = Principal("d", "department", ("城管局",))
PHONE = Principal("p", "grid_worker", worker_code="W1")

EVENT = {"kind": "event", "op": "insert", "department": "城管局"}
OTHER_EVENT = {"kind": "event", "op": "insert", "department": "公安分局"}
WORKER = {"kind": "worker", "op": "update", "code": "W1"}
OTHER_WORKER = {"kind": "worker", "op": "update", "code": "W2"}
ASSIGNED = {"kind": "assignment", "op": "insert", "worker_code": "W1"}
BULK_EVENTS = {"kind": "event", "op": "bulk", "count": 5000}
RESYNC = {"kind": "resync"}


@pytest.mark.parametrize(("who", "change", "seen"), [
    (WALL, EVENT, True), (WALL, OTHER_WORKER, True), (WALL, BULK_EVENTS, True),
    (DEPT, EVENT, True), (DEPT, OTHER_EVENT, False), (DEPT, WORKER, False), (DEPT, BULK_EVENTS, True),
    (PHONE, WORKER, True), (PHONE, OTHER_WORKER, False), (PHONE, ASSIGNED, True), (PHONE, EVENT, False),
    (PHONE, BULK_EVENTS, True), (PHONE, RESYNC, True), (DEPT, RESYNC, True),
])
def test_who_sees_what(who, change, seen):
    assert visible(who, change) is seen
