"""What the API says, in Chinese by default and in English when the client prefers it.

Why one table and not translations at each ``raise``: an error carries its
English template and its values (:class:`layers.errors.GridwallError`), and
the service turns it into words once, at the edge, for the request's
language. The table :data:`ZH` maps each English template to its Chinese
one; values whose name says what they are (``state``, ``to_state``,
``channel``, ``status`` …, see :data:`LABELLED`) are written under their
labels from :mod:`api.labels`, and an error inside an error (a batch's event
refused) is said in the same language. A message with no translation yet is
framed in Chinese by its class (:data:`FRAMES`), so a Chinese reader always
learns what kind of fault it is::

    NotFound("no event {event_id}", event_id=7)
        en  no event 7
        zh  事件 7 不存在

The language is read once per request from ``Accept-Language``
(:func:`language`): Chinese unless English is preferred to it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from api.labels import label
from layers.errors import GridwallError, UnknownCalendarYear, fill

__all__ = ["LANGUAGES", "ZH", "FRAMES", "LABELLED", "negotiate", "language", "say", "render"]

LANGUAGES = ("zh", "en")

#: value names written under a label, and the vocabulary they come from
LABELLED: dict[str, str] = {
    "state": "states", "from_state": "states", "to_state": "states", "allowed": "states", "moves": "states",
    "channel": "channels", "channels": "channels",
    "worker_status": "worker_status",
    "resource_kind": "resource_kinds", "camera_kind": "camera_kinds", "assignment_kind": "assignment_kinds",
    "level": "admin_levels", "version_state": "version_states", "job_state": "job_states",
}

#: moves that are not states but are refused like them
_MOVES_ZH = {"supervised": "督办"}

#: English template → Chinese template (the same fields)
ZH: dict[str, str] = {
    # who may do what
    "no API key: send it in the X-API-Key header or as 'Authorization: Bearer <key>'":
        "未提供 API 密钥：请在 X-API-Key 请求头或 'Authorization: Bearer <密钥>' 中发送",
    "the API key is not one the service issued (or it was revoked)": "API 密钥无效（未签发或已吊销）",
    "role '{role}' may not {method} {path}; allowed: {roles}":
        "角色 {role} 无权访问 {method} {path}；允许的角色：{roles}",
    "key '{key}' (role {role}) gets no figures of the loop": "密钥 {key}（角色 {role}）无权查看事件统计",
    "event {event_id} is not one worker {worker} is on; key '{key}' moves only those":
        "事件 {event_id} 不是网格员 {worker} 正在处置的事件；密钥 {key} 只能办理自己的事件",
    "a grid worker may move an event to {moves}, not {to_state}": "网格员只能将事件办理为{moves}，不能办理为{to_state}",
    "event {event_id} is not among the events of key '{key}' ({scope}); it may not move it":
        "事件 {event_id} 不在密钥 {key} 的办理范围内（{scope}），无权办理",
    "role '{role}' files no events": "角色 {role} 无权上报事件",
    "role '{role}' moves no events": "角色 {role} 无权办理事件",
    "a {role} may move an event to {moves}, not {to_state}":
        "角色 {role} 只能将事件办理为{moves}，不能办理为{to_state}",
    "a move to {to_state} needs a note saying why": "办理为{to_state}需填写原因（办理意见）",
    "closing a {channel} event needs the satisfaction rating (1–5) from the call-back":
        "「{channel}」事件结案须填写回访满意度（1–5）",
    "a rating is given when closing, not on a move to {to_state}": "满意度仅在结案时填写，办理为{to_state}时不填",
    "event {event_id} was not reported by worker {worker}: a grid worker settles only the events it reported itself":
        "事件 {event_id} 不是网格员 {worker} 上报的：网格员只能自办自结本人上报的事件",
    "event {event_id} came in on channel {channel}, not self_settled: it goes through the hall's loop":
        "事件 {event_id} 来自「{channel}」渠道，不是自办自结事件，须按指挥中心流程办理",
    "event {event_id} is {state}: there is nothing to settle": "事件 {event_id} 当前为「{state}」，无需自办自结",
    "role '{role}' may not self-settle events": "角色 {role} 无权自办自结",
    "too many failed sign-ins for '{login}': wait {seconds} s": "账号 {login} 登录失败次数过多，请 {seconds} 秒后再试",
    "wrong login or password": "账号或密码错误",
    "the session has expired: sign in again": "会话已过期，请重新登录",
    "the session has ended (the person was disabled or given a new password): sign in again":
        "会话已结束（账号已停用或密码已更改），请重新登录",
    "the session token is not one this service issued": "会话令牌无效（非本服务签发）",
    "key '{key}' (role {role}) files events on {channels}, not on channel '{channel}'":
        "密钥 {key}（角色 {role}）只能通过{channels}上报事件，不能通过{channel}",
    "key '{key}' files events for {departments}; this one's class goes to {department}":
        "密钥 {key} 只能为{departments}上报事件；此事件的类别归{department}办理",
    "event {index}: {refusal}": "第 {index} 个事件：{refusal}",
    "key '{key}' may only report worker {worker}, not {others}":
        "密钥 {key} 只能上报网格员 {worker} 的位置，不能上报 {others}",
    "key '{key}' names worker {worker}, who is not in the store": "密钥 {key} 对应的网格员 {worker} 不存在",
    # not found
    "no event {event_id}": "事件 {event_id} 不存在",
    "no worker {worker_id}": "网格员 {worker_id} 不存在",
    "no grid worker '{code}'": "网格员 {code} 不存在",
    "no grid version {version_id}": "网格版本 {version_id} 不存在",
    "no map layer '{name}'; layers are: {layers}": "没有图层 {name}；现有图层：{layers}",
    "no feature {feature_id} in layer '{layer}'": "图层 {layer} 中没有要素 {feature_id}",
    "no {level} with id {area_id}": "没有编号为 {area_id} 的{level}",
    "no service '{code}': service codes are leaf class codes (see services.json)":
        "没有服务 {code}：服务代码为事件小类代码（见 services.json）",
    "no service request '{code}'": "服务请求 {code} 不存在",
    # the event loop
    "event {event_id} is '{from_state}' and cannot become '{to_state}'; it can become: {allowed}":
        "事件 {event_id} 当前为「{from_state}」，不能办理为「{to_state}」；可办理为：{allowed}",
    "event {event_id} is '{from_state}' and cannot become '{to_state}'":
        "事件 {event_id} 当前为「{from_state}」，不能办理为「{to_state}」",
    "a rating is 1 to 5 and is given when closing": "满意度评价为 1 到 5 分，仅在结案时给出",
    "worker {worker} is {worker_status}, not free: another dispatch took them first; choose another worker":
        "网格员 {worker} 当前{worker_status}，不能派遣（可能已被其他调度员派遣），请另选网格员",
    "worker {worker} already has an active assignment": "网格员 {worker} 已有正在处置的任务",
    "event {event_id} is a duplicate of event {root_id}: dispatch that one":
        "事件 {event_id} 是事件 {root_id} 的重复事件，请派遣原事件",
    "no worker is on duty and free near event {event_id}": "事件 {event_id} 附近没有在岗且空闲的网格员",
    "every candidate for event {event_id} was taken meanwhile: {refusals}":
        "事件 {event_id} 的候选网格员均已被派遣：{refusals}",
    "event {event_id} cannot be merged into itself or into one of its own duplicates":
        "事件 {event_id} 不能合并到自身或自己的重复事件",
    "event {event_id} is {state}: only open events can be merged": "事件 {event_id} 已{state}，只能合并未办结的事件",
    "event {event_id} has a worker on it: release or finish that dispatch before merging":
        "事件 {event_id} 已派遣网格员，请先释放或完成派遣再合并",
    "event {event_id} is not a duplicate: there is nothing to split": "事件 {event_id} 不是重复事件，无需拆分",
    "{source} was registered as event {event_code} with a different payload; a repeat must carry the same payload "
    "(a new event needs a new external_id)":
        "{source} 已登记为事件 {event_code}，但内容不同；重复提交须内容一致（新事件请使用新的 external_id）",
    "{source} comes twice in the batch (events {first} and {feature}) with different payloads":
        "{source} 在本批中出现两次（第 {first} 和第 {feature} 个），内容不同",
    # Open311 notices
    "{department} will handle it by {deadline}": "{department}将于 {deadline} 前办理",
    "{department} will handle it": "{department}将办理此事",
    "{name} needs a time zone (W3C format, e.g. 2031-01-01T00:00:00+08:00)":
        "{name} 需要带时区（W3C 格式，如 2031-01-01T00:00:00+08:00）",
    # grid plans
    "grid version {version_id} is {version_state}, not proposed: only a proposal can be accepted or discarded":
        "网格版本 {version_id} 当前为「{version_state}」，不是待定方案：只有方案可以采纳或放弃",
    "grid version {version_id} is worse than the current plan: {worse}. Discard it, or accept it with force if that "
    "is intended": "网格版本 {version_id} 不如现行网格：{worse}。请放弃，或确认后强制采纳",
    "partition job {job_id} by {actor} is {job_state}: one job runs at a time; wait for it or cancel it":
        "网格划分任务 {job_id}（{actor}）{job_state}：同一时间只运行一个任务，请等待或取消",
    "no partition job {job_id}": "网格划分任务 {job_id} 不存在",
    "partition job {job_id} is {job_state}: only a queued or running job can be cancelled":
        "网格划分任务 {job_id} {job_state}：只能取消排队中或运行中的任务",
    "mode must be one of {modes}, not '{mode}'": "mode 应为 {modes} 之一，而不是「{mode}」",
    "no district with a metric CRS in the store: load the district outline first":
        "数据库中没有带米制坐标系的辖区：请先导入辖区边界",
    "the store holds no buildings to partition": "数据库中没有可供划分的建筑",
    "{count} buildings have no tessellation cell (first: {code}); grids are unions of cells, so every building needs "
    "one": "有 {count} 栋建筑没有镶嵌单元（第一栋：{code}）；网格由单元合并而成，每栋建筑都需要单元",
    "no current grid version to rebalance: draw grids from scratch (mode 'partition') or load a grids file first":
        "没有可调整的现行网格版本：请从头划分（mode 'partition'）或先导入网格文件",
    # where an event is
    "reported_at {at} is before {earliest}: is the sender's clock right?":
        "上报时间 {at} 早于 {earliest}，请检查发送方的时钟",
    "reported_at {at} is more than {seconds:.0f} s in the future: is the sender's clock right?":
        "上报时间 {at} 超前当前时间 {seconds:.0f} 秒以上，请检查发送方的时钟",
    "reported_at {at} leaves no room for a deadline": "上报时间 {at} 之后无法再算出办结时限",
    "the point ({lon:.6f}, {lat:.6f}) is outside the district": "坐标 ({lon:.6f}, {lat:.6f}) 不在辖区内",
    "the point ({lon}, {lat}) is too far from the district to measure along its streets "
    "(more than {metres:.0f} m outside it)": "点（{lon}, {lat}）离辖区太远（超出辖区 {metres:.0f} 米），无法沿道路测距",
    "the point ({lon}, {lat}) is too far from the district to measure along its streets (EPSG:{srid} cannot hold it)":
        "坐标 ({lon}, {lat}) 离辖区太远，无法沿街道测距（EPSG:{srid} 无法表示）",
    "no {level} called {name!r} in the district": "辖区内没有名为 {name!r} 的{level}",
    "{count} {level}s are called {name!r}; give the street too, or a code":
        "有 {count} 个{level}名为 {name!r}，请同时给出街道或编码",
    "the address {address!r} matches no building and names no community or street":
        "地址 {address!r} 未匹配到建筑，也未指明社区或街道",
    "no community or street given": "未给出社区或街道",
    "the event has no location: give a point, an address, a community or a street":
        "事件没有位置：请给出坐标、地址、社区或街道",
    # values and parameters
    "a filter value cannot hold a NUL character": "筛选值不能包含 NUL 字符",
    "a code cannot hold a NUL character": "编号不能包含 NUL 字符",
    "layer '{layer}' has no property '{name}'; it has: {properties}":
        "图层 {layer} 没有属性 {name}；现有属性：{properties}",
    "'{raw}' is no value of {column}: {reason}": "「{raw}」不是 {column} 的有效值：{reason}",
    "a filter is property:value (or property:a|b), not '{item}'":
        "筛选条件应为 属性:值（或 属性:a|b），而不是「{item}」",
    "{name}={value} is outside zoom {z}, which has tiles 0 to {last}":
        "{name}={value} 超出第 {z} 级瓦片范围（0 到 {last}）",
    "bbox needs 4 numbers (minx,miny,maxx,maxy), got {count}":
        "bbox 需要 4 个数（minx,miny,maxx,maxy），收到 {count} 个",
    "bbox holds something that is not a number: {raw!r}": "bbox 含有非数字内容：{raw!r}",
    "bbox numbers must be finite": "bbox 的数值必须是有限数",
    "bbox is in WGS 84 degrees: longitudes within ±180, latitudes within ±90":
        "bbox 为 WGS 84 经纬度：经度在 ±180 以内，纬度在 ±90 以内",
    "bbox minima are larger than its maxima": "bbox 的最小值大于最大值",
    "{name} needs a time zone (e.g. +08:00)": "{name} 需要带时区（如 +08:00）",
    "end must come after start": "end 必须晚于 start",
    "until must come after since": "until 必须晚于 since",
    "at {at} is in the future (more than {seconds:.0f} s ahead): is the phone's clock right?":
        "时间 {at} 超前当前时间 {seconds:.0f} 秒以上，请检查手机时钟",
    "({lon}, {lat}) is more than {metres:.0f} m outside the district":
        "({lon}, {lat}) 位于辖区外 {metres:.0f} 米以上",
    "status is open or closed, not {status_values}": "status 应为 open 或 closed，而不是 {status_values}",
    "give both lat and long, or neither": "lat 和 long 须同时给出或同时省略",
    "a request needs lat and long, or an address_string": "请求需要 lat 和 long，或 address_string",
    # the store and the service
    "all {size} connections of this process stayed busy for {seconds:g} s; try again":
        "系统繁忙：本进程的 {size} 个数据库连接在 {seconds:g} 秒内均被占用，请稍后重试",
    "no connection to the store came free in time: {reason}":
        "系统繁忙：未能及时获得数据库连接，请稍后重试（{reason}）",
    "a concurrent write took the same rows; try again": "系统繁忙：同时有其他操作修改了相同的数据，请重试",
    "the store refused a value: {reason}": "数据库拒绝了一个值：{reason}",
    "the write breaks a rule of the store: {reason}": "写入违反数据库约束：{reason}",
    "the store is unreachable or the query took too long; try again": "数据库暂不可用或查询超时，请稍后重试",
    UnknownCalendarYear.TEMPLATE:
        "工作日历缺少 {year} 年的节假日和调休安排（chinesecalendar 未收录，库中也未声明）；请按国务院办公厅当年通知"
        "制作 CSV（表头 date,working,name）并执行：gridwall calendar load FILE.csv --actor 姓名",
    "the service failed on this request; it has been logged": "服务处理此请求时出错，已记录",
    "{size:,} bytes is more than the {limit:,} bytes a request may carry; send smaller batches":
        "请求体 {size:,} 字节，超过单个请求上限 {limit:,} 字节，请分批发送",
    "{count} header lines are more than the {limit} a request may carry": "请求头 {count} 行，超过上限 {limit} 行",
    "{size:,} bytes of headers are more than the {limit:,} a request may carry":
        "请求头 {size:,} 字节，超过上限 {limit:,} 字节",
    "{count} unknown API keys from {client} within {seconds:g} s: wait {wait} s before trying again":
        "{client} 在 {seconds:g} 秒内使用了 {count} 个无效 API 密钥，请 {wait} 秒后再试",
    "no such path: {path}": "没有此地址：{path}",
    "{method} is not allowed on {path}": "{path} 不支持 {method} 请求",
    "{problem} ({count} problem(s) in the request)": "{problem}（请求中共 {count} 处问题）",
}

#: how a message without a translation is framed in Chinese, by the error's type name
FRAMES: dict[str, str] = {
    "Unauthorized": "身份验证失败：{message}",
    "Forbidden": "无权操作：{message}",
    "NotFound": "未找到：{message}",
    "Conflict": "操作冲突：{message}",
    "InvalidTransition": "状态不允许此操作：{message}",
    "LoadError": "数据有误：{message}",
    "RequestValidationError": "请求有误：{message}",
    "InvalidValue": "数据有误：{message}",
    "PartitionError": "无法完成网格划分：{message}",
    "StoreBusy": "系统繁忙，请稍后重试：{message}",
    "DatabaseError": "数据库不可用：{message}",
    "UnknownCalendarYear": "未找到该年工作日历：{message}",
    "ConfigError": "服务配置有误：{message}",
    "PayloadTooLarge": "请求过大：{message}",
    "TooManyRequests": "请求过于频繁：{message}",
    "HeadersTooLarge": "请求头过大：{message}",
}
_FRAME = "请求未能完成：{message}"

#: pydantic's error types in Chinese (its ``ctx`` values are the fields)
PYDANTIC_ZH: dict[str, str] = {
    "missing": "缺少此项",
    "extra_forbidden": "不接受此项",
    "int_parsing": "应为整数", "int_type": "应为整数", "int_from_float": "应为整数",
    "float_parsing": "应为数字", "float_type": "应为数字", "finite_number": "应为有限数",
    "bool_parsing": "应为 true 或 false", "bool_type": "应为 true 或 false",
    "string_type": "应为文字", "list_type": "应为列表", "dict_type": "应为对象", "model_type": "应为对象",
    "string_too_short": "至少 {min_length} 个字符", "string_too_long": "最多 {max_length} 个字符",
    "too_short": "至少 {min_length} 项", "too_long": "最多 {max_length} 项",
    "greater_than": "应大于 {gt}", "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}", "less_than_equal": "应不大于 {le}",
    "literal_error": "应为以下之一：{expected}", "enum": "应为以下之一：{expected}",
    "string_pattern_mismatch": "格式不符（{pattern}）",
    "datetime_parsing": "不是有效的日期时间", "datetime_from_date_parsing": "不是有效的日期时间",
    "datetime_type": "不是有效的日期时间", "date_parsing": "不是有效的日期", "timezone_aware": "需要带时区",
    "json_invalid": "不是有效的 JSON", "json_type": "不是有效的 JSON",
    "uuid_parsing": "不是有效的 UUID",
}


def negotiate(header: str | None) -> str:
    """``"en"`` when ``Accept-Language`` prefers English to Chinese, else ``"zh"``.

    Each range's quality (``q``, 1 when absent) counts; ``*`` stands for
    Chinese when Chinese is not named; on equal quality the one listed first
    wins.

    Examples
    --------
    >>> negotiate(None), negotiate("en-US,en;q=0.9"), negotiate("zh-CN,en;q=0.8"), negotiate("en;q=0.3, *;q=0.5")
    ('zh', 'en', 'zh', 'zh')
    """
    best: dict[str, tuple[float, int]] = {}
    for i, part in enumerate((header or "").split(",")):
        tag, *options = (p.strip() for p in part.split(";"))
        q = 1.0
        for option in options:
            name, _, value = option.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0].lower()
        if primary in ("zh", "en", "*") and q > best.get(primary, (-1.0, 0))[0]:
            best[primary] = (q, -i)
    en = best.get("en", (0.0, 0))
    zh = best.get("zh") or best.get("*") or (0.0, 0)
    return "en" if en[0] > 0 and en > zh else "zh"


def language(scope: MutableMapping[str, Any]) -> str:
    """The request's language, read from its headers once and kept in the request's state.

    Takes the ASGI scope (``request.scope`` in a route or handler), so
    middleware that answers before any route says it in the same language.
    """
    state = scope.setdefault("state", {})
    if "lang" not in state:
        header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"accept-language"), None)
        state["lang"] = negotiate(header)
    return state["lang"]


def say(template: str, lang: str, kind: str | None = None, /, **params: object) -> str:
    """One message in ``lang``: the template's translation with the values bound (a framed one when none).

    Examples
    --------
    >>> say("no event {event_id}", "zh", "NotFound", event_id=7), say("no event {event_id}", "en", event_id=7)
    ('事件 7 不存在', 'no event 7')
    """
    if lang == "en":
        return fill(template, params, _shower("en"))
    zh = ZH.get(template)
    if zh is not None:
        return fill(zh, params, _shower("zh")) if params else zh
    english = fill(template, params, _shower("zh"))
    return FRAMES.get(kind or "", _FRAME).format(message=english)


def render(exc: GridwallError, lang: str) -> str:
    """What the error says in ``lang``."""
    return say(getattr(exc, "template", str(exc)), lang, type(exc).__name__, **getattr(exc, "params", {}))


def _shower(lang: str):
    """How values are written: labels in Chinese; in English the values themselves, as clients know them."""
    def show(name: str, value: object) -> object:
        if isinstance(value, GridwallError):
            return render(value, lang)
        if isinstance(value, (list, tuple, set, frozenset)):
            items = [str(show(name, v)) for v in value]
            return ("、" if lang == "zh" else ", ").join(items) if items else "—"
        vocabulary = LABELLED.get(name)
        if lang == "zh" and vocabulary is not None and isinstance(value, str):
            return _MOVES_ZH.get(value) or label(vocabulary, value, lang)
        return value
    return show
