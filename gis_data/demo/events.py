"""A year of past events (事件) with their state histories, and the taxonomy they use.

Events end at a given moment ``end``: by default a fixed reference time
(:data:`REFERENCE_TIME`), so the demo (and every test and bench on it) is the same
every time it is made; ``gridwall demo`` and ``gridwall up`` pass the moment of
loading, so a newcomer's wall is alive. The weekly rhythm, the seasons, the
holidays and 调休 days of the taxonomy's calendar follow ``end``. Channels follow 开福区's mix; categories come
from ``gis_data/data/taxonomy.json``; places are near buildings, denser where people
live. Each event follows one closed loop of :data:`EVENT_TRANSITIONS`; the last weeks
hold open events in every state, some of them overdue. Everything is vectorised over
events: the loops run over channels, top classes and path templates only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from command.lifecycle import TRANSITIONS
from gis_data.demo.buildings import Buildings
from gis_data.demo.geom import largest_remainder, sample_in_cells

__all__ = [
    "REFERENCE_TIME",
    "TAXONOMY_PATH",
    "CHANNEL_SHARE",
    "EVENT_STATES",
    "PENDING_STATES",
    "EVENT_TRANSITIONS",
    "load_taxonomy",
    "taxonomy_leaves",
    "add_working_hours",
    "WorkCalendar",
    "EventPlaces",
    "make_events",
    "demo_end",
    "report_times",
    "sample_intakes",
]

#: The demo's "now": the end of the year of events (2026-10-31 23:59 in Changsha), in UTC.
REFERENCE_TIME = pd.Timestamp("2026-10-31 23:59:00", tz="Asia/Shanghai").tz_convert("UTC")
TAXONOMY_PATH = Path(__file__).resolve().parents[1] / "data" / "taxonomy.json"

#: Channel mix of 开福区: 53% self-settled, 33% patrol, 7% hotline, 5% city management, 2% video.
CHANNEL_SHARE = {"self_settled": 0.53, "patrol": 0.33, "hotline": 0.07, "city_mgmt": 0.05, "video": 0.02}
EVENT_STATES = ("reported", "accepted", "dispatched", "in_progress", "handled", "verified", "closed",
                "returned", "rejected", "reopened")
#: States of an event not finished yet (neither closed nor rejected); the demo holds some of each.
PENDING_STATES = ("reported", "accepted", "dispatched", "in_progress", "handled", "verified", "returned",
                  "reopened")

#: The closed loop, state -> states it may move to: the platform's own state machine
#: (:data:`command.lifecycle.TRANSITIONS`) plus ``None`` for the first report.
#: Demo histories only make moves from this table.
EVENT_TRANSITIONS: dict[str | None, tuple[str, ...]] = {None: ("reported",), **TRANSITIONS}

_R, _A, _D, _P, _H, _V, _C = "reported", "accepted", "dispatched", "in_progress", "handled", "verified", "closed"
_TEMPLATES: dict[str, tuple[str, ...]] = {
    "self": (_R, _A, _D, _P, _H, _V, _C),  # 自办自结: the worker dispatches the case to himself
    "self_reopen": (_R, _A, _D, _P, _H, "reopened", _D, _P, _H, _V, _C),
    "std": (_R, _A, _D, _P, _H, _V, _C),
    "returned": (_R, _A, _D, "returned", _D, _P, _H, _V, _C),
    "returned_late": (_R, _A, _D, _P, "returned", _A, _D, _P, _H, _V, _C),
    "reopen": (_R, _A, _D, _P, _H, "reopened", _D, _P, _H, _V, _C),
    "reopen_closed": (_R, _A, _D, _P, _H, _V, _C, "reopened", _D, _P, _H, _V, _C),
    "rejected": (_R, "rejected"),
    "returned_rejected": (_R, _A, _D, "returned", "rejected"),
}
_TEMPLATE_P = {
    "self_settled": {"self": 0.975, "self_reopen": 0.025},
    "hotline": {"std": 0.78, "returned": 0.05, "returned_late": 0.02, "reopen": 0.04, "reopen_closed": 0.02,
                "rejected": 0.07,
                "returned_rejected": 0.02},
    "other": {"std": 0.86, "returned": 0.04, "returned_late": 0.01, "reopen": 0.035, "reopen_closed": 0.01,
              "rejected": 0.035,
              "returned_rejected": 0.01},
}
# top-class mix by channel: 综合治理, 城市管理, 安全生产, 环境保护, 矛盾调处, 公共服务, 突发事件
_TOP_MIX = {
    "self_settled": [0.36, 0.30, 0.10, 0.07, 0.10, 0.06, 0.01],
    "patrol": [0.30, 0.34, 0.12, 0.10, 0.05, 0.07, 0.02],
    "hotline": [0.12, 0.18, 0.05, 0.15, 0.15, 0.30, 0.05],
    "city_mgmt": [0.03, 0.85, 0.02, 0.08, 0.0, 0.02, 0.0],
    "video": [0.15, 0.65, 0.05, 0.05, 0.0, 0.0, 0.10],
}
# reports per hour of the day (local time), by channel
_DAY = np.array([0, 0, 0, 0, 0, 0, 0.2, 0.6, 1.0, 1.0, 1.0, 0.8, 0.3, 0.5, 0.9, 1.0, 1.0, 0.8, 0.4, 0.2, 0.1, 0.05,
                 0, 0])
_HOURLY = {
    "self_settled": _DAY, "patrol": _DAY,
    "hotline": np.array([0.1, 0.05, 0.03, 0.02, 0.02, 0.05, 0.2, 0.5, 0.9, 1.0, 1.0, 0.9, 0.7, 0.7, 0.9, 1.0, 0.9,
                         0.8, 0.7, 0.8, 0.9, 0.7, 0.4, 0.2]),
    "city_mgmt": np.array([0, 0, 0, 0, 0, 0, 0.1, 0.5, 1, 1, 1, 0.9, 0.6, 0.7, 1, 1, 1, 0.9, 0.6, 0.3, 0.1, 0, 0, 0]),
    "video": np.array([0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 0.5, 0.8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0.9, 0.8, 0.7, 0.5,
                       0.4]),
}
_WEEKEND = {"self_settled": 0.4, "patrol": 0.45, "hotline": 0.8, "city_mgmt": 0.6, "video": 1.0}
_EXT_PREFIX = {"self_settled": "ZB", "patrol": "XC", "hotline": "12345-", "city_mgmt": "SZCG", "video": "AI"}
_NOTE = {
    _R: "上报", _A: "受理立案", _D: "派遣至", _P: "开始处置", _H: "处置完毕,反馈结果", _V: "核查通过",
    _C: "结案", "returned": "退回:非本单位职责", "rejected": "不予受理:重复或非管辖范围",
    "reopened": "核查未通过,重新处置",
}


@dataclass(frozen=True)
class WorkCalendar:
    """The taxonomy file's ``calendar`` with ``chinesecalendar``'s days, in the shape vectorised arithmetic wants.

    Defaults are those of :class:`command.workhours.WorkCalendar`: Monday to Friday,
    09:00–12:00 and 13:30–17:30, priority-1 leaves on clock hours.
    """

    utc_offset_s: int = 8 * 3600
    weekdays: tuple[int, ...] = (1, 2, 3, 4, 5)
    periods: tuple[tuple[int, int], ...] = ((9 * 3600, 12 * 3600), (13 * 3600 + 1800, 17 * 3600 + 1800))
    clock_priorities: tuple[int, ...] = (1,)
    holidays: tuple[int, ...] = ()  # days since the epoch
    extra_working_days: tuple[int, ...] = ()

    @classmethod
    def from_taxonomy(cls, taxonomy: dict) -> WorkCalendar:
        """Read ``taxonomy["calendar"]`` (absent: the defaults)."""
        cal = taxonomy.get("calendar") or {}
        tz = cal.get("timezone", "Asia/Shanghai")
        offset = int(pd.Timestamp("2026-01-01", tz=tz).utcoffset().total_seconds())

        def secs(hhmm: str) -> int:
            h, m = hhmm.split(":")[:2]
            return int(h) * 3600 + int(m) * 60

        def days(dates) -> tuple[int, ...]:
            return tuple(int(pd.Timestamp(d).value // (86400 * 10**9)) for d in dates)

        # the days of the maintained package, the file's own lists overriding them (command.holidays, less the
        # store's table: a demo is generated before any admin sets a day)
        from chinese_calendar import constants as cc

        file_off, file_work = set(cal.get("holidays", ())), set(cal.get("extra_working_days", ()))
        off = {d.isoformat() for d in cc.holidays} - file_work | file_off
        work = {d.isoformat() for d in cc.workdays} - file_off | file_work
        default = cls()
        return cls(
            utc_offset_s=offset,
            weekdays=tuple(cal.get("working_weekdays", default.weekdays)),
            periods=tuple((secs(a), secs(b)) for a, b in cal["working_periods"]) if "working_periods" in cal
            else default.periods,
            clock_priorities=tuple(cal.get("calendar_hours_priorities", default.clock_priorities)),
            holidays=days(sorted(off)), extra_working_days=days(sorted(work)),
        )


def load_taxonomy(path: Path | str | None = None) -> dict:
    """The event taxonomy (``version``, ``classes`` → ``children`` → leaf ``children``)."""
    with open(path or TAXONOMY_PATH, encoding="utf-8") as f:
        return json.load(f)


def taxonomy_leaves(taxonomy: dict | None = None) -> pd.DataFrame:
    """One row per leaf class, with its top and sub-class codes and every leaf field."""
    tax = taxonomy or load_taxonomy()
    rows = []
    for top in tax["classes"]:
        for sub in top["children"]:
            for leaf in sub["children"]:
                rows.append({**leaf, "top_code": top["code"], "sub_code": sub["code"], "top_name": top["name_zh"]})
    return pd.DataFrame(rows)


def add_working_hours(start_utc_s: np.ndarray, hours: np.ndarray, calendar: WorkCalendar | None = None,
                      clock: np.ndarray | None = None) -> np.ndarray:
    """``start + hours`` of working time, vectorised: when a deadline (时限) falls.

    Time outside the calendar's working periods, weekdays, holidays and 调休 days
    does not count: with the default calendar, an event reported on Friday evening
    with four hours is due on Monday at 14:30 (09:00–12:00, then one hour from 13:30). Rows flagged in
    ``clock`` count plain hours (emergencies). Same answers as
    :meth:`command.workhours.WorkCalendar.add_hours`.

    Parameters
    ----------
    start_utc_s
        Start times, seconds since the Unix epoch (UTC).
    hours
        Hours to add.
    calendar
        The working calendar; the default one when None.
    clock
        Boolean per row: count clock hours instead.

    Returns
    -------
    numpy.ndarray
        End times, seconds since the Unix epoch (UTC).
    """
    cal = calendar or WorkCalendar()
    start = np.asarray(start_utc_s, dtype=np.int64)
    add = np.round(np.asarray(hours, dtype=float) * 3600).astype(np.int64)
    local = start + cal.utc_offset_s
    p0 = np.asarray([p[0] for p in cal.periods], dtype=np.int64)
    p1 = np.asarray([p[1] for p in cal.periods], dtype=np.int64)
    per_day = int((p1 - p0).sum())
    d_first = int(local.min() // 86400) - 1
    span = int(local.max() // 86400) - d_first + 2 + int(np.ceil(add.max() / max(per_day, 1) * 7 / len(cal.weekdays)))
    day = d_first + np.arange(span + 60)
    iso = (day + 3) % 7 + 1  # 1970-01-01 was a Thursday (ISO 4)
    working = (np.isin(iso, cal.weekdays) & ~np.isin(day, cal.holidays)) | np.isin(day, cal.extra_working_days)
    before = np.r_[0, np.cumsum(working * per_day)]  # working seconds before each day
    k = local // 86400 - d_first
    sec = local % 86400
    inside = np.clip(sec[:, None] - p0[None, :], 0, (p1 - p0)[None, :]).sum(axis=1) * working[k]
    goal = before[k] + inside + add
    k2 = np.searchsorted(before, goal, side="left") - 1
    rest = goal - before[k2]  # in (0, per_day] on a working day
    upto = np.cumsum(p1 - p0)
    j = np.minimum(np.searchsorted(upto, rest, side="left"), len(upto) - 1)
    end = (d_first + k2) * 86400 + p0[j] + rest - (upto[j] - (p1 - p0)[j]) - cal.utc_offset_s
    end = np.where(add == 0, start, end)
    if clock is not None:
        end = np.where(clock, start + add, end)
    return end


@dataclass
class EventPlaces:
    """What events need to know about the buildings and the admin units they sit in."""

    bld: Buildings
    address: np.ndarray
    road_name: np.ndarray
    grid_code: np.ndarray  # per building
    comm_code: np.ndarray  # per building
    street_code: np.ndarray  # per building
    comm_name: np.ndarray  # per building
    worker_code: np.ndarray  # per building: its grid's worker, or None


def demo_end(end: pd.Timestamp | str | None = None) -> pd.Timestamp:
    """The moment the demo's events end, in UTC, to the second: :data:`REFERENCE_TIME` when ``None``.

    Examples
    --------
    >>> demo_end("2027-03-01T09:30:15+08:00")
    Timestamp('2027-03-01 01:30:15+0000', tz='UTC')
    >>> demo_end() == REFERENCE_TIME
    True
    """
    if end is None:
        return REFERENCE_TIME
    ts = pd.Timestamp(end)
    if ts.tzinfo is None:
        raise ValueError(f"the demo's end {end!r} needs a time zone (an offset such as +08:00, or Z)")
    return ts.tz_convert("UTC").floor("s")


def _working_day(days: np.ndarray, calendar: WorkCalendar) -> np.ndarray:
    """Whether each local day (days since the epoch) is a working day of ``calendar``: its weekdays, less its
    holidays, plus its 调休 days."""
    iso = (days + 3) % 7 + 1  # 1970-01-01 was a Thursday (ISO 4)
    return (np.isin(iso, calendar.weekdays) & ~np.isin(days, calendar.holidays)) | np.isin(
        days, calendar.extra_working_days)


def report_times(rng: np.random.Generator, channel: np.ndarray, n: int, end: pd.Timestamp,
                 calendar: WorkCalendar) -> np.ndarray:
    """Report times (UTC seconds) over the year ending at ``end``.

    Days off (weekends and holidays of ``calendar``) are quieter for the channels
    that work office hours; a 调休 Saturday is as busy as a weekday.
    """
    end_local = int(end.value // 10**9) + calendar.utc_offset_s
    end_day, end_sec = divmod(end_local, 86400)
    h_end, part = end_sec // 3600, (end_sec % 3600) / 3600  # the end's hour, and how much of it is before the end
    days = end_day - 364 + np.arange(365)
    month = pd.to_datetime(days, unit="D").month.to_numpy()
    season = 1.0 + 0.15 * np.sin((month - 4) / 12.0 * 2 * np.pi)  # busier in summer
    working = _working_day(days, calendar)
    out = np.empty(n, dtype=np.int64)
    for ch in CHANNEL_SHARE:
        m = np.flatnonzero(channel == ch)
        if m.size == 0:
            continue
        hp = _HOURLY[ch] / _HOURLY[ch].sum()
        # the end's own day holds only the reports of its hours before the end
        before = hp.copy()
        before[h_end + 1:] = 0.0
        before[h_end] *= part
        w = season * np.where(working, 1.0, _WEEKEND[ch])
        w[-1] *= before.sum()
        d = days[rng.choice(365, size=m.size, p=w / w.sum())]
        h = rng.choice(24, size=m.size, p=hp)
        last = np.flatnonzero(d == end_day)
        if last.size:
            h[last] = rng.choice(24, size=last.size, p=before / before.sum())
        sec = rng.integers(0, 3600, m.size)
        sec = np.where((d == end_day) & (h == h_end), np.floor(sec * part).astype(np.int64), sec)
        out[m] = d * 86400 + h * 3600 + sec
    return out - calendar.utc_offset_s


def _site_weights(bld: Buildings) -> dict[str, np.ndarray]:
    pop = bld.population.astype(float)
    kind = bld.block_kind[bld.block]
    nonres = (bld.btype == "nonres").astype(float)
    busy = np.isin(kind, ["market", "station", "square", "office"]).astype(float) * nonres
    factory = (kind == "factory").astype(float) * nonres
    village = (bld.btype == "village").astype(float)
    return {
        "01": pop + 20, "02": 0.5 * pop + 120 * busy + 40, "03": 0.3 * pop + 150 * nonres + 20,
        "04": 0.4 * pop + 100 * factory + 60 * village + 30, "05": pop + 5, "06": pop + 10, "07": 0.5 * pop + 50,
    }


def make_events(rng: np.random.Generator, places: EventPlaces, n: int, taxonomy: dict,
                end: pd.Timestamp | None = None):
    """``n`` events over the year before ``end`` (:data:`REFERENCE_TIME` when ``None``), and their histories.

    Nothing is reported or moved after ``end``; the last weeks hold the open
    events, so a district loaded at ``end = now`` has today's events on its wall.

    Returns
    -------
    events : pandas.DataFrame
        The event columns of the frame contract plus local ``x``, ``y`` (NaN without a point).
    history : pandas.DataFrame
        ``event_code, from_state, to_state, at, actor, note``.
    """
    bld = places.bld
    leaves = taxonomy_leaves(taxonomy)
    channels = list(CHANNEL_SHARE)
    channel = np.repeat(np.asarray(channels, dtype=object),
                        largest_remainder(np.array(list(CHANNEL_SHARE.values())), n))[rng.permutation(n)]
    # category: top class by channel, leaf within it (urgent leaves rarer outside emergencies)
    tops = sorted(leaves["top_code"].unique())
    top = np.empty(n, dtype=object)
    for ch in channels:
        m = channel == ch
        p = np.asarray(_TOP_MIX[ch], dtype=float)
        top[m] = np.asarray(tops, dtype=object)[rng.choice(len(tops), size=m.sum(), p=p / p.sum())]
    leaf = np.empty(n, dtype=np.int64)
    for t in tops:
        m = np.flatnonzero(top == t)
        cand = np.flatnonzero(leaves["top_code"].to_numpy() == t)
        w = np.where((leaves["priority"].to_numpy()[cand] == 1) & (t != "07"), 0.5, 1.0)
        leaf[m] = cand[rng.choice(cand.size, size=m.size, p=w / w.sum())]
    end = demo_end(end)
    calendar = WorkCalendar.from_taxonomy(taxonomy)
    reported = report_times(rng, channel, n, end, calendar)
    # flooded roads are a rainy-season matter: out of season most become fallen trees
    flood = np.flatnonzero(leaves["name_zh"].isin(["道路积水", "城市内涝"]).to_numpy())
    tree = np.flatnonzero(leaves["name_zh"].to_numpy() == "树木倒伏")
    if flood.size and tree.size:
        month = pd.to_datetime(reported + calendar.utc_offset_s, unit="s").month.to_numpy()
        dry = np.isin(leaf, flood) & ~np.isin(month, [4, 5, 6, 7, 8]) & (rng.random(n) < 0.7)
        leaf[dry] = tree[0]
    # place: a building chosen by category-specific weights, a point in its cell
    site = np.empty(n, dtype=np.int64)
    weights = _site_weights(bld)
    for t in tops:
        m = np.flatnonzero(top == t)
        w = weights.get(t, weights["01"])
        site[m] = np.searchsorted(np.cumsum(w), rng.random(m.size) * w.sum(), side="right").clip(0, len(w) - 1)
    # a few echoes: the same problem reported again through another channel within the duplicate window
    echo = np.flatnonzero(np.isin(channel, ["hotline", "city_mgmt", "video"]) & (rng.random(n) < 0.15))
    source = np.flatnonzero(np.isin(channel, ["self_settled", "patrol"]))
    if echo.size and source.size:
        src = source[rng.integers(0, source.size, echo.size)]
        leaf[echo], site[echo], top[echo] = leaf[src], site[src], top[src]
        window = leaves["dup_window_hours"].to_numpy()[leaf[src]] * 3600.0
        later = np.round(rng.uniform(0.05, 0.5, echo.size) * window).astype(np.int64)
        reported[echo] = np.minimum(reported[src] + later,
                                    int(end.value // 10**9) - 60)
    street_side = np.isin(top, ["02", "07"])  # street matters: anywhere in the cell, pavement included
    x, y = np.empty(n), np.empty(n)
    near = ~street_side
    x[near], y[near] = sample_in_cells(rng, bld.cell[site[near]], bld.x[site[near]], bld.y[site[near]],
                                       np.full(int(near.sum()), 8.0))
    x[~near], y[~near] = sample_in_cells(rng, bld.cell[site[~near]], bld.x[site[~near]], bld.y[site[~near]], None)
    no_point = (channel == "hotline") & (rng.random(n) < 0.3)
    x[no_point], y[no_point] = np.nan, np.nan

    lv = {c: leaves[c].to_numpy() for c in ("code", "name_zh", "department", "deadline_hours", "priority")}
    deadline = add_working_hours(reported, lv["deadline_hours"][leaf], calendar,
                                 clock=np.isin(lv["priority"][leaf], calendar.clock_priorities))
    # order by report time: codes and external ids follow it
    order = np.lexsort((np.arange(n), reported))
    channel, leaf, site, reported, deadline = channel[order], leaf[order], site[order], reported[order], deadline[order]
    x, y, no_point = x[order], y[order], no_point[order]
    day = pd.to_datetime(reported + calendar.utc_offset_s, unit="s").strftime("%Y%m%d").to_numpy()
    daily = pd.Series(day).groupby(day).cumcount().to_numpy() + 1
    code = "EV" + day + pd.Series(daily).map("{:05d}".format).to_numpy()
    per_ch = pd.Series(daily).groupby([channel, day]).cumcount().to_numpy() + 1
    ext = pd.Series(channel).map(_EXT_PREFIX).to_numpy() + day + pd.Series(per_ch).map("{:05d}".format).to_numpy()

    hist, state, closed_at = _histories(rng, channel, reported, deadline, code, lv["department"][leaf],
                                        places.worker_code[site], int(end.value // 10**9))
    closed = state == _C
    rating = pd.array(np.where(closed, rng.choice([1, 2, 3, 4, 5], size=n, p=[0.02, 0.03, 0.08, 0.27, 0.60]), 0),
                      dtype="Int64")
    rating[~closed] = pd.NA
    road = places.road_name[site]
    title = np.where(no_point, places.comm_name[site], road) + lv["name_zh"][leaf]
    events = pd.DataFrame({
        "code": code, "channel": channel, "external_id": ext, "category_code": lv["code"][leaf],
        "title": title, "address": np.where(no_point, None, places.address[site] + "附近"),
        "reported_at": _utc(reported), "deadline_at": _utc(deadline), "state": state,
        "closed_at": pd.to_datetime(closed_at, unit="s", utc=True).as_unit("us"), "rating": rating,
        "grid_code": np.where(no_point, None, places.grid_code[site]),
        "community_code": places.comm_code[site], "street_code": places.street_code[site],
        "department": lv["department"][leaf], "priority": lv["priority"][leaf].astype(np.int64),
        "x": x, "y": y,
    })
    return events, hist


def sample_intakes(rng: np.random.Generator, n: int, taxonomy: dict | None = None) -> pd.DataFrame:
    """``n`` new events as a channel would send them: ``channel``, ``category`` (a leaf code) and ``name``.

    Drawn with the demo's own mixes (:data:`CHANNEL_SHARE`, the top classes by
    channel, urgent leaves rarer outside emergencies), for a trickle of new
    events on a live demo (``gridwall simulate``).

    Examples
    --------
    >>> d = sample_intakes(np.random.default_rng(1), 3)
    >>> list(d.columns), len(d)
    (['channel', 'category', 'name'], 3)
    """
    leaves = taxonomy_leaves(taxonomy)
    tops = sorted(leaves["top_code"].unique())
    channel = np.asarray(list(CHANNEL_SHARE), dtype=object)[
        rng.choice(len(CHANNEL_SHARE), size=n, p=np.asarray(list(CHANNEL_SHARE.values())))]
    leaf = np.empty(n, dtype=np.int64)
    for i, ch in enumerate(channel):
        p = np.asarray(_TOP_MIX[ch], dtype=float)
        top = tops[rng.choice(len(tops), p=p / p.sum())]
        cand = np.flatnonzero(leaves["top_code"].to_numpy() == top)
        w = np.where((leaves["priority"].to_numpy()[cand] == 1) & (top != "07"), 0.5, 1.0)
        leaf[i] = cand[rng.choice(cand.size, p=w / w.sum())]
    return pd.DataFrame({"channel": channel, "category": leaves["code"].to_numpy()[leaf],
                         "name": leaves["name_zh"].to_numpy()[leaf]})


def _utc(seconds: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(seconds, unit="s", utc=True).as_unit("us"))


def _lognormal(rng: np.random.Generator, median_s: float, size: int, sigma: float = 0.8) -> np.ndarray:
    return np.maximum(np.round(median_s * rng.lognormal(0.0, sigma, size)), 30).astype(np.int64)


def _histories(rng, channel, reported, deadline, code, department, worker, ref: int):
    """Simulate each event's path, cut it at ``ref`` (UTC seconds), return rows, states, closing times."""
    n = len(channel)
    names = list(_TEMPLATES)
    tmpl = np.empty(n, dtype=np.int64)
    for group, probs in _TEMPLATE_P.items():
        m = (channel == group) if group != "other" else ~np.isin(channel, ["self_settled", "hotline"])
        keys = list(probs)
        tmpl[m] = np.asarray([names.index(k) for k in keys])[
            rng.choice(len(keys), size=int(m.sum()), p=np.asarray(list(probs.values())) / sum(probs.values()))]
    # a backlog: the fresher an event, the likelier it is still stuck somewhere on its way
    age_days = (ref - reported) / 86400.0
    stalled = rng.random(n) < np.where(age_days < 21, 0.5 * np.exp(-age_days / 3.0), 0.0)
    self_ch = channel == "self_settled"
    reporter = np.where(pd.isna(worker), "网格员", worker).astype(object)
    reporter = np.select([np.isin(channel, ["self_settled", "patrol"]), channel == "hotline", channel == "city_mgmt"],
                         [reporter, "12345热线", "数字城管监督员"], "视频智能分析").astype(object)
    frames = []
    stop = np.full(n, -1, dtype=np.int64)  # index (in template) of the last step kept
    for ti, name in enumerate(names):
        idx = np.flatnonzero(tmpl == ti)
        if idx.size == 0:
            continue
        steps = _TEMPLATES[name]
        L = len(steps)
        at = np.empty((idx.size, L), dtype=np.int64)
        at[:, 0] = reported[idx]
        seen_handled = False
        seen_dispatch = False
        for j in range(1, L):
            to = steps[j]
            s = self_ch[idx]
            if to == _A:
                d = np.where(channel[idx] == "hotline", _lognormal(rng, 1200, idx.size),
                             np.where(s, _lognormal(rng, 120, idx.size), _lognormal(rng, 480, idx.size)))
            elif to == _D:
                again = 7200 if seen_dispatch else 900
                d = np.where(s, _lognormal(rng, 60, idx.size), _lognormal(rng, again, idx.size))
                seen_dispatch = True
            elif to == _P:
                d = np.where(s, _lognormal(rng, 300, idx.size), _lognormal(rng, 5400, idx.size))
            elif to == _H and not seen_handled:
                frac = np.where(rng.random(idx.size) < 0.06, rng.uniform(1.05, 2.5, idx.size),
                                rng.beta(2.0, 3.5, idx.size))
                target = reported[idx] + np.round(frac * (deadline[idx] - reported[idx])).astype(np.int64)
                quick = reported[idx] + _lognormal(rng, 2400, idx.size)
                target = np.where(s, np.minimum(quick, target), target)
                d = np.maximum(target - at[:, j - 1], 300)
                seen_handled = True
            elif to == _H:
                d = _lognormal(rng, 86400, idx.size)
            elif to == _V:
                d = np.where(s, _lognormal(rng, 1800, idx.size), _lognormal(rng, 14400, idx.size))
            elif to == _C:
                d = _lognormal(rng, 3600, idx.size)
            elif to == "reopened":
                d = _lognormal(rng, 172800 if steps[j - 1] == _C else 3600 if name.startswith("self") else 86400,
                               idx.size)
            else:  # returned, rejected
                d = _lognormal(rng, 10800 if to == "returned" else 3600, idx.size)
            at[:, j] = at[:, j - 1] + d
        keep = (at <= ref).sum(axis=1) - 1  # steps are increasing in time
        st = stalled[idx]
        cut = np.where(st, rng.integers(0, np.maximum(L - 1, 1), idx.size), L - 1)
        keep = np.minimum(keep, cut)
        stop[idx] = keep
        frames.append((idx, steps, at))
    # every open state present: cut the most recent event that passes through it
    state_of = np.empty(n, dtype=object)
    for idx, steps, at in frames:
        state_of[idx] = np.asarray(steps, dtype=object)[stop[idx]]
    for want in PENDING_STATES:
        if (state_of == want).any():
            continue
        for idx, steps, at in frames:
            pos = [j for j, s in enumerate(steps) if s == want and j < len(steps) - 1]
            if not pos:
                continue
            j = pos[0]
            ok = idx[(at[:, j] <= ref) & (stop[idx] > j) & (reported[idx] >= ref - 21 * 86400)]
            if ok.size:
                e = ok[np.argmax(reported[ok])]
                stop[e] = j
                state_of[e] = want
                break
    rows_e, rows_from, rows_to, rows_at = [], [], [], []
    closed_at = np.full(n, np.nan)
    for idx, steps, at in frames:
        L = len(steps)
        k = stop[idx] + 1
        step = np.arange(L)[None, :].repeat(idx.size, axis=0)
        mask = step < k[:, None]
        ev = np.repeat(idx, k)
        stp = step[mask]
        rows_e.append(ev)
        rows_to.append(np.asarray(steps, dtype=object)[stp])
        rows_from.append(np.asarray((None,) + steps[:-1], dtype=object)[stp])
        rows_at.append(at[mask])
        last_closed = np.where(np.asarray(steps)[None, :] == _C, at, -1)
        last_closed = np.where(mask, last_closed, -1).max(axis=1)
        fin = state_of[idx] == _C
        closed_at[idx[fin]] = last_closed[fin]
    ev = np.concatenate(rows_e)
    to = np.concatenate(rows_to)
    frm = np.concatenate(rows_from)
    at = np.concatenate(rows_at)
    order = np.lexsort((at, ev))
    ev, to, frm, at = ev[order], to[order], frm[order], at[order]
    actor = np.select(
        [to == _R, np.isin(to, [_A, _D]) & self_ch[ev], np.isin(to, [_A, _D, _C, "rejected", "reopened"]),
         np.isin(to, [_P, _H, "returned"]) & ~self_ch[ev], np.isin(to, [_P, _H, _V]) & self_ch[ev]],
        [reporter[ev], reporter[ev], "区指挥中心", department[ev], reporter[ev]],
        "社区网格站",
    ).astype(object)
    note = pd.Series(to).map(_NOTE).to_numpy().astype(object)
    disp = (to == _D) & ~self_ch[ev]
    note[disp] = note[disp] + department[ev[disp]]
    note[(to == _D) & self_ch[ev]] = "网格员自行处置"
    history = pd.DataFrame({"event_code": code[ev], "from_state": frm, "to_state": to, "at": _utc(at),
                            "actor": actor, "note": note})
    return history, state_of, closed_at
