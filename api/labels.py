"""The one table of domain labels: every state, channel, status, kind and audit action in Chinese and English.

Why here and only here: the wall, the console, Open311 notices and the API's
own error messages all name states and kinds, and each used to carry its own
copy (some in English in a Chinese screen). The vocabularies themselves are
the store's (:mod:`layers.models`); :data:`VOCABULARIES` points at them, so a
state added there without a label here fails ``tests/api/test_labels.py``
rather than showing up untranslated. Clients read the table at
``GET /labels?lang=`` (:mod:`api.routers.labels`).

A value without a label (an old row, a value from a newer store) is shown as
itself: a label never breaks an answer.
"""

from __future__ import annotations

from layers import models as m

__all__ = ["VOCABULARIES", "LABELS", "LANGUAGES", "label", "labels"]

LANGUAGES = ("zh", "en")

#: each served vocabulary and the store's list of its values
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "states": m.EVENT_STATES,
    "channels": m.EVENT_CHANNELS,
    "worker_status": m.WORKER_STATUSES,
    "resource_kinds": m.RESOURCE_KINDS,
    "camera_kinds": m.CAMERA_KINDS,
    "assignment_kinds": m.ASSIGNMENT_KINDS,
    "actions": m.AUDIT_ACTIONS,
    "location_kinds": m.LOCATION_KINDS,
    "admin_levels": m.ADMIN_LEVELS,
    "zones": m.ZONES,
    "component_states": m.COMPONENT_STATES,
    "job_states": m.JOB_STATES,
    "version_states": m.VERSION_STATES,
}

#: vocabulary → value → (Chinese, English)
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "states": {
        "reported": ("上报", "reported"),
        "accepted": ("受理", "accepted"),
        "dispatched": ("派遣", "dispatched"),
        "in_progress": ("处置中", "in progress"),
        "handled": ("已处置", "handled"),
        "verified": ("已核查", "verified"),
        "closed": ("结案", "closed"),
        "returned": ("退回", "returned"),
        "rejected": ("不予受理", "rejected"),
        "reopened": ("重新办理", "reopened"),
    },
    "channels": {
        "self_settled": ("自办自结", "Self-settled"),
        "patrol": ("网格员巡查", "Patrol"),
        "hotline": ("12345热线", "12345 hotline"),
        "city_mgmt": ("数字城管", "City management"),
        "video": ("视频智能分析", "Video analytics"),
    },
    "worker_status": {
        "on_duty": ("在岗", "on duty"),
        "busy": ("任务中", "busy"),
        "off_duty": ("离岗", "off duty"),
    },
    "resource_kinds": {
        "fire_station": ("消防站", "fire station"),
        "hospital": ("医院", "hospital"),
        "police_post": ("警务站", "police post"),
        "shelter": ("应急避难场所", "shelter"),
        "emergency_team": ("应急救援队", "emergency team"),
        "supply_depot": ("应急物资库", "supply depot"),
    },
    "camera_kinds": {
        "bullet": ("枪机", "bullet"),
        "dome": ("半球机", "dome"),
        "checkpoint": ("卡口", "checkpoint"),
        "epolice": ("电子警察", "e-police"),
        "ptz": ("云台球机", "PTZ"),
    },
    "assignment_kinds": {
        "worker": ("网格员", "grid worker"),
        "camera": ("摄像头", "camera"),
        "resource": ("应急资源", "resource"),
    },
    "actions": {
        "load": ("导入图层", "load a layer"),
        "load_demo": ("导入示范数据", "load the demo district"),
        "import_history": ("导入历史事件", "import past events"),
        "propose_grids": ("提出网格方案", "propose grids"),
        "accept_grids": ("采纳网格方案", "accept grids"),
        "discard_grids": ("放弃网格方案", "discard grids"),
        "load_taxonomy": ("导入事件分类", "load the taxonomy"),
        "add_alias": ("新增分类别名", "add an alias"),
        "replace_alias": ("替换分类别名", "replace an alias"),
        "remove_alias": ("删除分类别名", "remove an alias"),
        "calendar_load": ("导入节假日安排", "load a year's holidays"),
        "calendar_set": ("设置节假日或调休", "set a holiday or working day"),
        "transition": ("状态流转", "move an event"),
        "supervise": ("督办", "supervise"),
        "release": ("释放网格员", "release a worker"),
        "merge": ("合并重复事件", "merge duplicates"),
        "split": ("拆分事件", "split an event"),
        "dispatch_worker": ("派遣网格员", "dispatch a worker"),
        "link_cameras": ("关联摄像头", "link cameras"),
        "dispatch_resources": ("调用应急资源", "call resources"),
        "positions": ("上报位置", "report positions"),
        "draw_cells": ("生成建筑单元", "draw building cells"),
        "start_partition_job": ("启动网格划分任务", "start a partition job"),
        "cancel_partition_job": ("取消网格划分任务", "cancel a partition job"),
        "fail_partition_job": ("网格划分任务失败", "a partition job failed"),
        "intake": ("登记事件", "register an event"),
        "intake_duplicate": ("登记重复事件", "register a duplicate"),
        "overdue": ("超期督办", "flag overdue"),
        "release_resources": ("释放资源", "release resources"),
        "person_add": ("添加人员", "add a person"),
        "person_disable": ("停用人员", "disable a person"),
        "person_enable": ("启用人员", "enable a person"),
        "person_password": ("更改密码", "change a password"),
        "sign_in": ("登录", "sign in"),
        "sign_in_failed": ("登录失败", "failed sign-in"),
        "sign_out": ("退出登录", "sign out"),
    },
    "location_kinds": {
        "point": ("坐标", "point"),
        "address": ("地址", "address"),
        "community": ("社区", "community"),
        "street": ("街道", "street"),
    },
    "admin_levels": {
        "district": ("区", "district"),
        "street": ("街道", "street"),
        "community": ("社区", "community"),
    },
    "zones": {
        "inner": ("内街", "inner street"),
        "outer": ("外街", "outer street"),
    },
    "component_states": {
        "ok": ("完好", "ok"),
        "damaged": ("损坏", "damaged"),
        "missing": ("缺失", "missing"),
        "occupied": ("占用", "occupied"),
    },
    "job_states": {
        "queued": ("排队中", "queued"),
        "running": ("运行中", "running"),
        "done": ("已完成", "done"),
        "failed": ("失败", "failed"),
    },
    "version_states": {
        "proposed": ("方案", "proposal"),
        "accepted": ("已采纳", "accepted"),
        "discarded": ("已放弃", "discarded"),
    },
}


def label(vocabulary: str, value: object, lang: str = "zh") -> str:
    """The label of one value, or the value itself when it has none.

    Examples
    --------
    >>> label("states", "dispatched"), label("worker_status", "off_duty", "en"), label("states", "lost")
    ('派遣', 'off duty', 'lost')
    """
    pair = LABELS.get(vocabulary, {}).get(str(value))
    if pair is None:
        return str(value)
    return pair[1] if lang == "en" else pair[0]


def labels(lang: str = "zh") -> dict[str, dict[str, str]]:
    """Every vocabulary in one language, as ``GET /labels`` serves it."""
    i = 1 if lang == "en" else 0
    return {name: {value: pair[i] for value, pair in table.items()} for name, table in LABELS.items()}
