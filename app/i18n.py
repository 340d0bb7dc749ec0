"""The UI's own words in Chinese first, English switchable.

Domain labels (event states, channels, worker statuses, resource and camera
kinds, zones, job states) are not here: they are the API's one table, read
through :func:`app.client.labelled`, so that a state the store gains is
labelled everywhere at once.

Why tables and not gettext: the wall has a few hundred labels, all visible at
once, and switches language without reloading; a lookup ``t(key, lang)`` in
a callback is all it needs. A key missing from a table falls back to the
Chinese label, then to the key itself, so a new label never breaks a page.
"""

from __future__ import annotations

__all__ = ["LABELS", "t", "LANGUAGES", "version_label", "domain_label"]

LANGUAGES = ("zh", "en")

LABELS: dict[str, dict[str, str]] = {
    "title": {"zh": "网格化管理指挥平台", "en": "Grid governance command platform"},
    "wall": {"zh": "指挥大屏", "en": "Video wall"},
    "console": {"zh": "调度台", "en": "Operator console"},
    "planner": {"zh": "网格规划", "en": "Grid planner"},
    "language": {"zh": "English", "en": "中文"},
    "audit": {"zh": "审计日志", "en": "Audit log"},
    # sign-in
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_out": {"zh": "退出", "en": "Sign out"},
    "sign_in_sub": {"zh": "请使用本人账号登录，所有操作记录在审计日志中", "en": "Sign in as yourself: every action is "
                    "recorded under your name"},
    "login": {"zh": "账号", "en": "Login"},
    "password": {"zh": "密码", "en": "Password"},
    "sign_in_wrong": {"zh": "账号或密码错误", "en": "Wrong login or password"},
    "sign_in_wait": {"zh": "失败次数过多，请稍后再试", "en": "Too many failed attempts: try again later"},
    "sign_in_again": {"zh": "页面已过期，请重新登录", "en": "The page expired: sign in again"},
    # KPIs
    "kpi_today": {"zh": "今日事件", "en": "Events today"},
    "kpi_closure": {"zh": "结案率", "en": "Closure rate"},
    "kpi_ontime": {"zh": "按期办结率", "en": "On-time rate"},
    "kpi_overdue": {"zh": "超期事件", "en": "Overdue"},
    "kpi_camera": {"zh": "摄像头在线率", "en": "Cameras online"},
    "kpi_workers": {"zh": "在岗网格员", "en": "Workers on duty"},
    "ticker": {"zh": "实时事件", "en": "Live events"},
    "data_day": {"zh": "数据日 {day}", "en": "Data day {day}"},
    "historical": {"zh": "（历史数据）", "en": " (historical data)"},
    "by_class": {"zh": "按大类", "en": "By class"},
    "by_channel": {"zh": "按渠道", "en": "By channel"},
    "by_street": {"zh": "按街道", "en": "By street"},
    "panel3d": {"zh": "三维态势", "en": "3-D view"},
    "map": {"zh": "一张图", "en": "One map"},
    "no_data": {"zh": "暂无数据", "en": "No data"},
    "layout": {"zh": "布局", "en": "Layout"},
    # layers
    "water": {"zh": "水系", "en": "Water"},
    "blocks": {"zh": "街区", "en": "Blocks"},
    "roads": {"zh": "道路", "en": "Roads"},
    "buildings": {"zh": "建筑", "en": "Buildings"},
    "grids": {"zh": "基础网格", "en": "Base grids"},
    "components": {"zh": "城市部件", "en": "City components"},
    "resources": {"zh": "应急资源", "en": "Emergency resources"},
    "cameras": {"zh": "摄像头", "en": "Cameras"},
    "workers": {"zh": "网格员", "en": "Grid workers"},
    "events": {"zh": "事件", "en": "Events"},
    "heat": {"zh": "事件热力", "en": "Event heat"},
    "hotspots": {"zh": "热点网格", "en": "Hotspots"},
    "hotspot_events": {"zh": "{n} 件", "en": "{n} events"},
    "legend_buildings": {"zh": "建筑（高度按层数）", "en": "Buildings (height: floors)"},
    "legend_hotspots": {"zh": "事件热点（高度按件数）", "en": "Event hotspots (height: events)"},
    "layers": {"zh": "图层", "en": "Layers"},
    # the wall map's legend (app/legend.py); English short: it sits over the map's corner
    "lg_title": {"zh": "图例", "en": "Legend"},
    "lg_district": {"zh": "区界", "en": "District"},
    "lg_arterial": {"zh": "主干道", "en": "Main roads"},
    "lg_local": {"zh": "支路", "en": "Minor roads"},
    "lg_cam_cover": {"zh": "摄像头覆盖", "en": "Camera cover"},
    "lg_cam_badge": {"zh": "摄像头数（{zoom}级起）", "en": "Cameras (zoom {zoom}+)"},
    "lg_cam_down": {"zh": "在线率低于80%", "en": "Under 80% online"},
    "lg_workers": {"zh": "在岗网格员", "en": "Workers on duty"},
    "lg_fresh": {"zh": "新上报事件", "en": "New events"},
    "lg_names": {"zh": "路名、街道、社区", "en": "Road & area names"},
    "lg_sample": {"zh": "路", "en": "Rd"},
    "filters": {"zh": "筛选", "en": "Filters"},
    "f_class": {"zh": "事件大类", "en": "Event class"},
    "f_department": {"zh": "部门", "en": "Department"},
    "f_state": {"zh": "状态", "en": "State"},
    "f_kind": {"zh": "摄像头类型", "en": "Camera kind"},
    "f_online": {"zh": "在线状态", "en": "Online"},
    "online": {"zh": "在线", "en": "Online"},
    "offline": {"zh": "离线", "en": "Offline"},
    "all": {"zh": "全部", "en": "All"},
    # console
    "around": {"zh": "周边情况", "en": "What is around"},
    "grid_worker": {"zh": "所在网格及网格员", "en": "Grid and its worker"},
    "seeing_cameras": {"zh": "可视摄像头", "en": "Cameras that see it"},
    "nearest_resources": {"zh": "最近资源", "en": "Nearest resources"},
    "candidates": {"zh": "推荐派遣", "en": "Suggested workers"},
    "dispatch": {"zh": "一键派遣", "en": "Dispatch"},
    "dispatched": {"zh": "已派遣", "en": "Dispatched"},
    "conflict": {"zh": "派遣冲突", "en": "Dispatch conflict"},
    "history": {"zh": "办理过程", "en": "History"},
    "deadline": {"zh": "办结时限", "en": "Deadline"},
    "click_map": {"zh": "点击地图上的事件或任意位置", "en": "Click an event or any point on the map"},
    "event": {"zh": "事件", "en": "Event"},
    "state": {"zh": "状态", "en": "State"},
    # planner
    "run": {"zh": "运行", "en": "Run"},
    "mode_rebalance": {"zh": "调整（再平衡）", "en": "Rebalance"},
    "mode_partition": {"zh": "重新划分", "en": "Partition"},
    "progress": {"zh": "进度", "en": "Progress"},
    "accept": {"zh": "采纳", "en": "Accept"},
    "discard": {"zh": "放弃", "en": "Discard"},
    "accepted": {"zh": "已采纳", "en": "Accepted"},
    "discarded": {"zh": "已放弃", "en": "Discarded"},
    "proposed": {"zh": "方案", "en": "Proposal"},
    "current": {"zh": "现行网格", "en": "Current grids"},
    "changed": {"zh": "变动网格", "en": "Changed grids"},
    "out_of_band": {"zh": "今日超出标准的网格", "en": "Grids out of band today"},
    "versions": {"zh": "历史版本", "en": "Past versions"},
    "households": {"zh": "户数", "en": "Households"},
    "population": {"zh": "人口", "en": "Population"},
    "zone": {"zh": "类型", "en": "Zone"},
    "code": {"zh": "编号", "en": "Code"},
    "status": {"zh": "情况", "en": "Status"},
    "in_band": {"zh": "达标", "en": "In band"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "n_grids": {"zh": "网格数", "en": "Grids"},
    "share_ok": {"zh": "达标比例", "en": "Share in band"},
    "plan_current": {"zh": "现行网格", "en": "Current plan"},
    "plan_proposed": {"zh": "调整方案", "en": "Proposal"},
    "n_in_band": {"zh": "达标网格数", "en": "Grids in band"},
    "hh_in_band": {"zh": "达标网格户数占比", "en": "Households in in-band grids"},
    "worst_grid": {"zh": "最差网格偏离", "en": "Worst grid outside its band"},
    "n_blobs": {"zh": "超上限两倍的多楼网格", "en": "Multi-building grids over twice the cap"},
    "plan_worse": {"zh": "方案劣于现行网格,采纳需确认:", "en": "This proposal is worse than the current plan:"},
    "grids_without_worker": {"zh": "采纳后无网格员的网格", "en": "Grids left without a worker"},
    "workers_without_grid": {"zh": "采纳后无网格的网格员", "en": "Workers left without a grid"},
    "force_accept": {"zh": "仍要采纳(强制)", "en": "Accept anyway (force)"},
    "n_changed": {"zh": "变动网格数", "en": "Changed grids"},
    "job_state": {"zh": "任务状态", "en": "Job state"},
    "error": {"zh": "错误", "en": "Error"},
    # audit log
    "audit_actor": {"zh": "操作人", "en": "Who"},
    "audit_action": {"zh": "操作", "en": "Action"},
    "audit_event": {"zh": "事件编号或ID", "en": "Event code or id"},
    "audit_days": {"zh": "日期范围", "en": "Days"},
    "audit_apply": {"zh": "查询", "en": "Search"},
    "audit_at": {"zh": "时间", "en": "Time"},
    "audit_entity": {"zh": "对象", "en": "Object"},
    "audit_entity_id": {"zh": "对象ID", "en": "Object id"},
    "audit_detail": {"zh": "详情", "en": "Detail"},
    "audit_newer": {"zh": "较新", "en": "Newer"},
    "audit_older": {"zh": "较早", "en": "Older"},
    "audit_shown": {"zh": "第 {first}–{last} 条", "en": "Rows {first}–{last}"},
    "audit_no_event": {"zh": "没有编号为 {event} 的事件", "en": "No event {event}"},
    # top event classes (taxonomy codes)
    "cls_01": {"zh": "综合治理", "en": "Governance"},
    "cls_02": {"zh": "城市管理", "en": "City management"},
    "cls_03": {"zh": "安全生产", "en": "Work safety"},
    "cls_04": {"zh": "环境保护", "en": "Environment"},
    "cls_05": {"zh": "矛盾调处", "en": "Disputes"},
    "cls_06": {"zh": "公共服务", "en": "Public service"},
    "cls_07": {"zh": "突发事件", "en": "Emergencies"},
    "gs_kept": {"zh": "保持", "en": "kept"},
    "gs_adjusted": {"zh": "调整", "en": "adjusted"},
    "gs_redrawn": {"zh": "重划", "en": "redrawn"},
    "gs_new": {"zh": "新增", "en": "new"},
    # console: the whole loop
    "register": {"zh": "热线登记", "en": "Register a hotline call"},
    "r_title": {"zh": "来电事由", "en": "Caller's words (title)"},
    "r_words": {"zh": "详细描述", "en": "Details"},
    "r_class": {"zh": "事件分类", "en": "Class"},
    "r_address": {"zh": "地址（输入后选择）", "en": "Address (type, then pick)"},
    "r_point": {"zh": "位置", "en": "Point"},
    "r_point_none": {"zh": "未定位：选择地址或点击地图", "en": "No point: pick an address or click the map"},
    "r_contact": {"zh": "来电人", "en": "Caller"},
    "r_phone": {"zh": "联系电话", "en": "Phone"},
    "r_submit": {"zh": "登记", "en": "Register"},
    "r_done": {"zh": "已登记", "en": "Registered"},
    "r_need": {"zh": "请填写事由、分类和位置", "en": "Give the words, a class and a place"},
    "no_addresses": {"zh": "地址检索暂不可用，请点击地图定位", "en": "Address search unavailable: click the map"},
    "search": {"zh": "事件检索（编号、地址、内容）", "en": "Find an event (code, address, words)"},
    "no_search": {"zh": "事件检索暂不可用", "en": "Event search unavailable"},
    "no_hits": {"zh": "无结果", "en": "Nothing found"},
    "moves": {"zh": "办理", "en": "Moves"},
    "moves_unknown": {"zh": "服务未提供可办理操作，按钮可能被拒绝",
                      "en": "The API does not list the moves; a button may be refused"},
    "no_moves": {"zh": "当前无可办理操作", "en": "No move for you here"},
    "note": {"zh": "办理意见", "en": "Note"},
    "rating": {"zh": "满意度评价", "en": "Rating"},
    "note_required": {"zh": "此操作需填写办理意见", "en": "This move needs a note"},
    "rating_required": {"zh": "此操作需选择满意度", "en": "This move needs a rating"},
    "actions": {"zh": "处置", "en": "Actions"},
    "duplicates": {"zh": "重复事件", "en": "Duplicates"},
    "merge_code": {"zh": "重复事件编号或ID", "en": "Duplicate's code or id"},
    "no_event": {"zh": "未找到事件", "en": "No such event"},
    "assignments": {"zh": "派遣记录", "en": "Assignments"},
    "already_sent": {"zh": "已在处置，未重复派遣", "en": "already on it; nobody added"},
    "done": {"zh": "已完成", "en": "Done"},
    "failed": {"zh": "未完成", "en": "Refused"},
    "supervision": {"zh": "督办级别", "en": "Supervision level"},
    "overdue": {"zh": "已超期", "en": "overdue"},
    "rated": {"zh": "评价", "en": "Rating"},
    "act_supervise": {"zh": "督办", "en": "Supervise (督办)"},
    "act_merge": {"zh": "并入本事件", "en": "Merge into this event"},
    "act_split": {"zh": "拆分", "en": "Split off"},
    "act_cameras": {"zh": "关联摄像头", "en": "Link cameras"},
    "act_resources": {"zh": "调用资源", "en": "Call resources"},
    "act_release": {"zh": "释放资源", "en": "Release resources"},
    "act_dispatch": {"zh": "派遣", "en": "Dispatch"},
    "act_self_settle": {"zh": "自办自结", "en": "Self-settle"},
    "mv_accepted": {"zh": "受理", "en": "Accept"},
    "mv_rejected": {"zh": "不予受理", "en": "Reject"},
    "mv_dispatched": {"zh": "派遣", "en": "Dispatch"},
    "mv_in_progress": {"zh": "开始处置", "en": "Start work"},
    "mv_handled": {"zh": "处置完毕", "en": "Mark handled"},
    "mv_verified": {"zh": "核查通过", "en": "Verify"},
    "mv_closed": {"zh": "结案", "en": "Close"},
    "mv_returned": {"zh": "退回", "en": "Return"},
    "mv_reopened": {"zh": "重新办理", "en": "Reopen"},
}


def t(key: str, lang: str = "zh") -> str:
    """The label of ``key`` in ``lang`` (Chinese, then the key, when missing).

    Examples
    --------
    >>> t("wall", "en")
    'Video wall'
    """
    row = LABELS.get(key)
    if row is None:
        return key
    return row.get(lang) or row.get("zh") or key


#: the domain vocabularies and the key prefix of their labels (the names of ``GET /labels``' groups)
def domain_label(kind: str, value: object, lang: str = "zh") -> str:
    """A state, channel, status, kind or audit action as shown: the API's label (``GET /labels``), or for ``moves``
    the verb on the button (``mv_*`` here: what the operator does, not what the store calls the state).

    Why the API's: the vocabulary is the store's, so its labels live with it (``api/labels.py``) and the screens
    ask rather than re-declare them. Outside a request (a unit test, a script) and for an unknown value, the value
    is shown as it is.

    Examples
    --------
    >>> domain_label("moves", "closed", "en")
    'Close'
    """
    if value is None or value == "":
        return ""
    if kind == "moves":
        key = f"mv_{value}"
        return t(key, lang) if key in LABELS else str(value)
    import flask

    if not flask.has_request_context():
        return str(value)
    from app.client import labelled

    return labelled(flask.current_app.config["GRIDWALL_WALL"], kind, value, lang)


def version_label(v: dict, lang: str) -> str:
    """``v12 · 2026-11-20 · 已采纳 · 达标比例 97.2% · 现行网格`` for one row of ``/partition/versions``."""
    parts = [f"v{v['version_id']}", str(v.get("created_at", ""))[:10], t(v["state"], lang)]
    if v.get("share_in_band") is not None:
        parts.append(f"{t('share_ok', lang)} {v['share_in_band']:.1%}")
    if v.get("is_current"):
        parts.append(t("current", lang))
    return " · ".join(parts)
