"""What the audit page shows, as pure functions: the API's filters of its fields, times and action labels.

Apart from :mod:`app.pages.audit` so that they can be used (and tested)
without a Dash app: a page module registers itself on import.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.i18n import domain_label

__all__ = ["local_time", "query_params", "action_label"]


def local_time(at: str, zone: str) -> str:
    """An API time (ISO 8601, aware) as ``YYYY-MM-DD HH:MM:SS`` in ``zone``.

    Examples
    --------
    >>> local_time("2026-12-07T13:14:05.123+00:00", "Asia/Shanghai")
    '2026-12-07 21:14:05'
    """
    return datetime.fromisoformat(at).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def query_params(actor: str | None, action: str | None, event_id: int | None, first_day: str | None,
                 last_day: str | None, zone: str) -> dict:
    """The ``GET /audit`` filters of the page's fields: days are whole days of ``zone``, the last one included.

    Examples
    --------
    >>> query_params(" ops ", "", 12, "2026-12-01", "2026-12-01", "Asia/Shanghai")
    {'actor': 'ops', 'entity': 'event', 'entity_id': '12', 'since': '2026-12-01T00:00:00+08:00', \
'until': '2026-12-02T00:00:00+08:00'}
    """
    tz = ZoneInfo(zone)
    params: dict[str, str] = {}
    if (actor or "").strip():
        params["actor"] = actor.strip()
    if (action or "").strip():
        params["action"] = action.strip()
    if event_id is not None:
        params.update(entity="event", entity_id=str(event_id))
    if first_day:
        params["since"] = datetime.combine(date.fromisoformat(first_day[:10]), time(), tz).isoformat()
    if last_day:
        params["until"] = datetime.combine(date.fromisoformat(last_day[:10]) + timedelta(days=1), time(),
                                           tz).isoformat()
    return params


def action_label(action: str, lang: str) -> str:
    """An audit action's label (the API's ``actions`` vocabulary), or the action itself when it has none."""
    return domain_label("actions", action, lang)
