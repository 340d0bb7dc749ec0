"""What the console's buttons send: an event's moves and actions, a hotline call, the duplicates to show.

The HTTP half of the event panel (:mod:`app.eventpanel` builds, this sends):
each function takes an open :class:`~app.client.ApiClient`, calls the routes
of :data:`app.client.ROUTES` and lets an :class:`~app.client.ApiError`
through, which the page shows as the API's own refusal.
"""

from __future__ import annotations

import uuid

from app.client import ApiClient, ApiError
from app.i18n import domain_label, t

__all__ = ["hotline_body", "missing", "send_action", "event_id_of", "duplicates", "listed"]


def hotline_body(title, words, cls, address, point, contact, phone) -> dict | None:
    """The intake body of a hotline call; None when it lacks words, a class or a place."""
    title, words, address = (title or "").strip(), (words or "").strip(), (address or "").strip()
    if not (title or words) or not cls or not (point or address):
        return None
    caller = " ".join(x for x in ((contact or "").strip(), (phone or "").strip()) if x)
    description = "\n".join(x for x in (words, f"来电人：{caller}" if caller else "") if x) or None
    body = {"channel": "hotline", "external_id": f"console-{uuid.uuid4().hex}", "category": cls,
            "title": (title or words)[:500], "description": description,
            "address": (point or {}).get("address") or address or None}
    if point:
        body.update(lon=point["lon"], lat=point["lat"])
    return body


def missing(trig: dict, note: str | None, rating: int | None) -> str | None:
    """What a move lacks that its button says it needs (the label key of the warning)."""
    if trig.get("type") != "console-move":
        return None
    if trig.get("note") == "required" and not note:
        return "note_required"
    if trig.get("rating") == "required" and not rating:
        return "rating_required"
    return None


def send_action(api: ApiClient, trig: dict, event_id: int, note, rating, merge_id, lang: str) -> str:
    """Send one action; what was done, in words. Raises ApiError as the API answers."""
    kind = trig["type"]
    if kind == "console-move":
        body = {"to_state": trig["to"], "note": note}
        if rating and trig.get("rating") != "none":
            body["rating"] = int(rating)
        got = api.post_json("move", body, event_id=event_id)
        return f"{domain_label('states', got['from_state'], lang)} → {domain_label('states', got['state'], lang)}"
    if kind == "console-split":
        api.post_json("split", {"note": note}, event_id=trig["event"])
        return t("act_split", lang)
    act = trig["act"]
    if act == "merge":
        api.post_json("merge", {"into": event_id, "note": note}, event_id=event_id_of(api, merge_id))
    elif act == "supervise":
        got = api.post_json("supervise", {"note": note}, event_id=event_id)
        return f"{t('act_supervise', lang)} · {t('supervision', lang)} {got.get('supervision_level')}"
    elif act in ("cameras", "resources"):
        got = api.post_json("link_cameras" if act == "cameras" else "call_resources", {}, event_id=event_id)
        return f"{t('act_' + act, lang)} · {len(got or [])}"
    else:
        api.post_json({"release": "release_resources", "self_settle": "self_settle"}[act],
                      {"note": note} if act == "self_settle" else None, event_id=event_id)
    return t(f"act_{act}", lang)


def event_id_of(api: ApiClient, text: str | None) -> int:
    """An event id from what the operator typed: the id itself, or a code found by ``GET /events?q=``."""
    text = (text or "").strip()
    if text.isdigit():
        return int(text)
    page = api.get_json("events", params={"q": text, "limit": 5}) if text else None
    rows = listed(page)
    for r in rows:
        if r.get("code") == text:
            return int(r["id"])
    raise ApiError(404, f"{text or '—'}: {t('no_event', 'zh')}")


def duplicates(api: ApiClient, event_id: int) -> list[dict]:
    """The event's duplicates with their codes, states and whether the caller may split each off (its own
    ``actions``: the API's word, for that duplicate), the first ten."""
    ids = (api.get_json("duplicates", event_id=event_id) or {}).get("duplicates") or []
    out = []
    for d in ids[:10]:
        dup_id = d if isinstance(d, int) else d.get("id")
        try:
            got = api.get_json("event", event_id=dup_id) or {}
        except ApiError:
            got = {}
        out.append({"id": dup_id, "code": got.get("code"), "state": got.get("state"),
                    "split": "split" in (got.get("actions") or [])})
    return out


def listed(page: dict | list | None) -> list[dict]:
    """The rows of a ``GET /events`` page (``events``), whatever else it carries."""
    if isinstance(page, dict):
        return list(page.get("events") or [])
    return list(page or [])
