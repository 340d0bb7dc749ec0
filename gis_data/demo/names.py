"""Chinese names for the demo district: streets offices, communities, roads, people, places.

Street offices (街道) are the 16 of 开福区 with their statistical codes (NBS 2023), so
that the demo reads like the real district; every other name is made up from a few
syllable pools. Person names are random surname + given-name draws: they belong to
no one.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DISTRICT_CODE",
    "DISTRICT_NAME",
    "STREET_OFFICES",
    "ARTERIAL_NAMES",
    "ring_road_names",
    "community_names",
    "local_road_names",
    "person_names",
    "place_stems",
]

DISTRICT_CODE = "430105"
DISTRICT_NAME = "开福区"

#: (code, name) of the street offices of 开福区, statistical codes of 2023.
STREET_OFFICES: tuple[tuple[str, str], ...] = (
    ("430105001", "芙蓉北路街道"), ("430105002", "东风路街道"), ("430105003", "清水塘街道"),
    ("430105004", "望麓园街道"), ("430105005", "湘雅路街道"), ("430105006", "伍家岭街道"),
    ("430105009", "新河街道"), ("430105010", "通泰街街道"), ("430105012", "四方坪街道"),
    ("430105013", "洪山街道"), ("430105014", "浏阳河街道"), ("430105015", "月湖街道"),
    ("430105016", "秀峰街道"), ("430105019", "沙坪街道"), ("430105020", "捞刀河街道"),
    ("430105021", "青竹湖街道"),
)

#: Names for the long arterials, longest road first (Changsha-like).
ARTERIAL_NAMES: tuple[str, ...] = (
    "芙蓉中路", "三一大道", "湘江北路", "芙蓉北路", "营盘路", "湘春路", "中山路", "车站北路", "五一大道",
    "福城路", "开福寺路", "新河路", "捞刀河大道", "金泰路", "晴岚路", "鸭子铺路", "马栏山路", "北辰路",
    "兴联路", "青竹湖路", "万家丽北路", "洪山路", "月湖路", "秀峰路", "沙坪大道", "广胜路", "蔡锷北路",
    "黄兴北路", "湘雅路", "东风路", "德雅路", "浏阳河路", "潘家坪路", "国庆路", "松桂路", "四方坪路",
    "伍家岭路", "戥子桥路", "盛世路", "凤亭路", "陡岭路", "通泰街", "荷花池路", "清水塘路", "北站路",
    "丝茅冲路", "湘府北路", "开元路", "长荣路", "江湾大道",
)

_RING = {"N": "北二环", "E": "东二环", "S": "南二环", "W": "西二环"}

_COMMUNITY_STEMS = (
    "湘春巷", "松桂园", "福庆街", "荷花池", "清水塘", "望麓园", "留芳岭", "德雅村", "金泰", "沙河",
    "戥子桥", "楠木厅", "丝茅冲", "陡岭", "砚瓦池", "马栏山", "鸭子铺", "凤亭", "新河", "晴岚",
    "浏阳河", "月湖", "洪西", "四方坪", "伍家岭", "三角塘", "潘家坪", "北辰", "兴业", "福城",
    "中山路", "蔡锷北", "湘雅", "东风", "长荣", "开元", "盛世", "国庆", "湘江", "鸭嘴洲",
    "秀峰", "沙坪", "捞刀河", "青竹湖", "彭家巷", "桃花", "龙湖", "银杏", "芙蓉", "锦泰",
    "华夏", "紫竹", "香樟", "石门", "黄花", "北山", "枫林", "金霞", "新康", "和平",
    "车站北", "营盘", "学堂坡", "教育街", "藩城堤", "通泰门", "西园", "上大垅", "下大垅", "竹山",
    "麻园", "塘湾", "庄家桥", "湾塘", "高岭", "汉回", "青山", "竹林", "蓝天", "新安",
    "广胜", "福元", "丰泽", "万福", "百善台", "德峰", "兴联", "双拥", "月华", "湖光",
    "清竹", "云亭", "桂花", "春华", "长兴", "嘉园", "泰和", "杨家山", "荷叶塘", "文昌阁",
    "白沙井", "水渡河", "观沙岭", "苗圃", "花园", "金鹰", "陈家湖", "汇金", "瑞丰", "同升",
)

_ROAD_A = tuple("春华福荷桂兴德安康泰和平新民永宁文明清金银松竹梅兰湘雅丰乐长庆育英建东西南北盛昌吉祥嘉双")
_ROAD_B = tuple("源香花隆园湖桥山林塘坪岭洲阳城岗湾亭台泉苑里冲溪")
_ROAD_SUFFIX = ("路", "街", "巷")

_SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏付方邹熊秦邱江尹易龙贺向汤颜戴"
)
_GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲红建文斌宇浩凯鹏辉林雪梅琳晨欣怡佳俊峰志坤")

_PLACE_STEMS = (
    "湘春", "福城", "新河", "荷花", "金泰", "德雅", "松桂", "北辰", "凤亭", "兴业", "洪西", "沙坪",
    "月湖", "马栏", "四方", "汉城", "晴岚", "陡岭", "潘家", "国庆", "中山", "三角", "砚瓦", "清水",
    "望麓", "伍岭", "湘雅", "东风", "芙蓉", "秀峰", "青竹", "捞刀", "丝茅", "鸭子", "楠木", "留芳",
)


def ring_road_names() -> dict[str, str]:
    """Names of the ring road's four quarters, by compass letter (N, E, S, W)."""
    return dict(_RING)


def community_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct community names ("…社区"), drawn without replacement."""
    stems = list(_COMMUNITY_STEMS)
    order = rng.permutation(len(stems))
    names = [stems[i] + "社区" for i in order[: min(n, len(stems))]]
    k = 0
    while len(names) < n:  # more communities than stems: 第二…, still distinct
        names.append(stems[order[k % len(stems)]] + ("第二", "第三", "第四")[k // len(stems) % 3] + "社区")
        k += 1
    return names


def local_road_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct made-up local street names ("福源路", "荷香巷" …)."""
    pool = [a + b + c for c in _ROAD_SUFFIX for a in _ROAD_A for b in _ROAD_B]
    pool = [p for p in dict.fromkeys(pool) if p not in ARTERIAL_NAMES]
    order = rng.permutation(len(pool))
    names = [pool[i] for i in order[: min(n, len(pool))]]
    k = 0
    while len(names) < n:  # more streets than the pool: 福源一路, 福源二路 …
        base = pool[order[k % len(pool)]]
        names.append(base[:-1] + "一二三四五六七八九"[(k // len(pool)) % 9] + base[-1])
        k += 1
    return names


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` synthetic Chinese person names: a surname and one or two given-name characters."""
    sur = np.asarray(_SURNAMES, dtype=object)[rng.integers(0, len(_SURNAMES), n)]
    g1 = np.asarray(_GIVEN, dtype=object)[rng.integers(0, len(_GIVEN), n)]
    g2 = np.asarray(_GIVEN, dtype=object)[rng.integers(0, len(_GIVEN), n)]
    two = rng.random(n) < 0.7
    return np.where(two, sur + g1 + g2, sur + g1)


def place_stems(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` two-character place stems for schools, hospitals, markets … (may repeat)."""
    return np.asarray(_PLACE_STEMS, dtype=object)[rng.integers(0, len(_PLACE_STEMS), n)]
