"""The one error family of gridwall.

Every error a user can cause or meet derives from :class:`GridwallError`. The
tree is flat on purpose: the API maps each class to one status code in one
table, and the command line prints ``str(err)`` and exits non-zero.

::

    GridwallError
    ├── ConfigError        settings that cannot work together (URL, folders, ports)
    ├── DatabaseError      the store is not there, not migrated, or refused us
    │   └── StoreBusy      no connection free in time, or a write lost to a concurrent one too often: retry
    ├── LoadError          an input file or frame is wrong: says file, feature, field
    ├── NotFound           a thing asked for by code or id does not exist
    ├── Conflict           the write would break a rule someone else's write holds
    ├── PartitionError     a partition or rebalance cannot run on what it was given
    └── InvalidTransition  an event cannot move from its state to the one asked for

``LoadError`` carries where the fault is (``source``, ``feature`` index,
``field``) so that a client can point at it; ``str()`` spells all of it out.
"""

from __future__ import annotations

__all__ = [
    "GridwallError",
    "ConfigError",
    "DatabaseError",
    "StoreBusy",
    "LoadError",
    "NotFound",
    "Conflict",
    "PartitionError",
    "InvalidTransition",
]


class GridwallError(Exception):
    """Base of every error gridwall raises on purpose."""


class ConfigError(GridwallError):
    """Settings that cannot work, alone or together."""


class DatabaseError(GridwallError):
    """The store is missing, not migrated, or refused an operation."""


class StoreBusy(DatabaseError):
    """The store is there but every connection is taken, or a write kept losing to concurrent ones: try again.

    Carries ``retry_after`` (seconds), which the API sends as ``Retry-After``.
    """

    def __init__(self, message: str, *, retry_after: int = 2) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class NotFound(GridwallError):
    """A thing asked for by code or id does not exist."""


class Conflict(GridwallError):
    """The write would break a rule that another write holds.

    Optionally carries where (``source``, ``feature``, ``field``) and what it
    conflicts with (e.g. ``event_id``, ``event_code``) in ``detail``, which
    the API adds to its answer so that a client can find the first write.
    """

    def __init__(self, message: str, *, source: str | None = None, feature: int | None = None,
                 field: str | None = None, **detail: object) -> None:
        self.message = message
        self.source = source
        self.feature = feature
        self.field = field
        self.detail = detail
        super().__init__(message)


class PartitionError(GridwallError):
    """A partition or rebalance cannot run on its input."""


class InvalidTransition(GridwallError):
    """An event cannot go from its current state to the one asked for.

    Carries ``event_id``, ``from_state``, ``to_state`` and the states that
    would have been allowed, so that a client can offer them.
    """

    def __init__(self, event_id: int, from_state: str, to_state: str, allowed: tuple[str, ...]) -> None:
        self.event_id = event_id
        self.from_state = from_state
        self.to_state = to_state
        self.allowed = allowed
        can = ", ".join(allowed) if allowed else "nothing (final state)"
        super().__init__(f"event {event_id} is '{from_state}' and cannot become '{to_state}'; it can become: {can}")


class LoadError(GridwallError):
    """An input file or frame is wrong.

    Parameters
    ----------
    message:
        What is wrong, in words a planner understands.
    source:
        The file (or layer) being read.
    feature:
        Zero-based index of the offending feature or row, when there is one.
    field:
        The offending attribute, when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        feature: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.feature = feature
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.source:
            where.append(str(self.source))
        if self.feature is not None:
            where.append(f"feature {self.feature}")
        if self.field:
            where.append(f"field '{self.field}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, object]:
        """The error as a JSON-ready dict (used by the API's error shape)."""
        return {
            "message": self.message,
            "source": self.source,
            "feature": self.feature,
            "field": self.field,
        }
