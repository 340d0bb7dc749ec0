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
    ├── InvalidTransition  an event cannot move from its state to the one asked for
    └── UnknownCalendarYear  the working calendar holds no holidays for a year a deadline runs into

``LoadError`` carries where the fault is (``source``, ``feature`` index,
``field``) so that a client can point at it; ``str()`` spells all of it out.

Messages are templates with their values bound, not finished sentences::

    raise NotFound("no event {event_id}", event_id=event_id)

``str()`` is the English sentence (what the command line prints); the
template and the values stay on the error (``template``, ``params``) so that
the API can say the same in Chinese from its one table of translations
(:mod:`api.messages`), with states, channels and kinds under their labels.
A message written as a finished sentence still works: it has no
translation and the API frames it.
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
    "UnknownCalendarYear",
    "fill",
]


class GridwallError(Exception):
    """Base of every error gridwall raises on purpose.

    Parameters
    ----------
    message:
        An English template (``str.format`` fields), or a finished sentence when no values are given.
    **params:
        The values of the template's fields; a list or tuple is written comma-separated.

    Examples
    --------
    >>> err = NotFound("no event {event_id}", event_id=7)
    >>> str(err), err.template, err.params
    ('no event 7', 'no event {event_id}', {'event_id': 7})
    """

    def __init__(self, message: str = "", /, **params: object) -> None:
        self.template = message
        self.params = params
        super().__init__(fill(message, params))


def fill(template: str, params: dict[str, object], show=None) -> str:
    """The template with its values written in (``show`` writes one value; lists are joined by default).

    A template that does not fit its values (a finished sentence holding braces, given values all the same) is
    returned as it is: raising an error must never raise another one.
    """
    if not params:
        return template
    show = show or _show
    try:
        return template.format(**{k: show(k, v) for k, v in params.items()})
    except (KeyError, IndexError, ValueError, AttributeError):
        return template


def _show(name: str, value: object) -> object:
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple, set, frozenset)) else value


class ConfigError(GridwallError):
    """Settings that cannot work, alone or together."""


class DatabaseError(GridwallError):
    """The store is missing, not migrated, or refused an operation."""


class StoreBusy(DatabaseError):
    """The store is there but every connection is taken, or a write kept losing to concurrent ones: try again.

    Carries ``retry_after`` (seconds), which the API sends as ``Retry-After``.
    """

    def __init__(self, message: str, /, *, retry_after: int = 2, **params: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, **params)


class NotFound(GridwallError):
    """A thing asked for by code or id does not exist."""


class Conflict(GridwallError):
    """The write would break a rule that another write holds.

    Optionally carries where (``source``, ``feature``, ``field``) and what it
    conflicts with (e.g. ``event_id``, ``event_code``) in ``detail``, which
    the API adds to its answer so that a client can find the first write.
    The template's values are the detail and where (``{source}`` …).
    """

    def __init__(self, message: str, /, *, source: str | None = None, feature: int | None = None,
                 field: str | None = None, **detail: object) -> None:
        self.source = source
        self.feature = feature
        self.field = field
        self.detail = detail
        super().__init__(message, source=source, feature=feature, field=field, **detail)
        self.message = str(self)


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
        super().__init__("event {event_id} is '{from_state}' and cannot become '{to_state}'; it can become: {allowed}"
                         if allowed else "event {event_id} is '{from_state}' and cannot become '{to_state}'",
                         event_id=event_id, from_state=from_state, to_state=to_state, allowed=tuple(allowed))


class LoadError(GridwallError):
    """An input file or frame is wrong.

    Parameters
    ----------
    message:
        What is wrong, in words a planner understands (a template when ``params`` are given).
    source:
        The file (or layer) being read.
    feature:
        Zero-based index of the offending feature or row, when there is one.
    field:
        The offending attribute, when there is one.
    **params:
        The template's values.
    """

    def __init__(
        self,
        message: str,
        /,
        *,
        source: str | None = None,
        feature: int | None = None,
        field: str | None = None,
        **params: object,
    ) -> None:
        self.message = fill(message, params)
        self.source = source
        self.feature = feature
        self.field = field
        super().__init__(message, **params)
        self.args = (self._render(),)

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


class UnknownCalendarYear(GridwallError):
    """A deadline (or a calendar query) runs into a year whose holidays and 调休 days nobody has given.

    Neither the ``chinesecalendar`` package nor a year declared in the store
    covers ``year``; counting it on weekdays alone would treat its holidays
    as working days. Carries ``year``; the message says how to load it.
    """

    TEMPLATE = ("the working calendar does not know {year}: its holidays and 调休 days are neither in the "
                "chinesecalendar package nor declared in the store; load the year's State Council notice with: "
                "gridwall calendar load FILE.csv --actor NAME (a CSV with header date,working,name listing every "
                "holiday and 调休 day of {year})")

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(self.TEMPLATE, year=year)
