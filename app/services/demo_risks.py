"""3–10 demo risk points for each demo enterprise, assessed by the published methods so that the
enterprise's highest point has its colour. Deterministic (seeded); added once: nothing when
the county has risk points."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.ids import new_id
from app.models import Enterprise, RiskPoint, RiskPointEvent
from app.models.base import utcnow
from app.services.risks import checklist as risk_checklist
from app.services.risks.assessment import assess

SEED = 13861
# (name, kind, hazard factors, accident types, control measures, emergency measure)
TEMPLATES = (
    (
        "配电室",
        "place",
        ["2103"],
        ["electric_shock", "fire"],
        [("engineering", "配电柜可靠接地，设置绝缘垫"), ("management", "持证电工定期巡检")],
        "发生触电立即切断电源并实施心肺复苏",
    ),
    (
        "有限空间作业",
        "operation",
        ["2201", "12"],
        ["poisoning_asphyxiation"],
        [("management", "执行作业审批，先通风、再检测、后作业"), ("ppe", "配备正压式空气呼吸器")],
        "严禁盲目施救，立即报告并呼叫救援",
    ),
    (
        "动火作业",
        "operation",
        ["2109"],
        ["fire", "other_explosion"],
        [("management", "办理动火作业票，专人监护"), ("engineering", "清除周边可燃物")],
        "初起火灾使用灭火器扑救，人员撤离",
    ),
    (
        "冲压设备",
        "equipment",
        ["2101", "2102"],
        ["machinery_injury"],
        [("engineering", "安装光电保护装置"), ("training", "岗前安全操作培训")],
        "发生机械伤害立即停机、止血包扎并送医",
    ),
    (
        "危险化学品仓库",
        "place",
        ["2201", "2202"],
        ["fire", "poisoning_asphyxiation", "vessel_explosion"],
        [("engineering", "设置可燃气体检测报警"), ("management", "分类分区储存，双人双锁")],
        "泄漏时疏散下风向人员，启动应急预案",
    ),
    (
        "叉车作业",
        "operation",
        ["2108"],
        ["vehicle_injury"],
        [("management", "持证驾驶，限速行驶"), ("engineering", "设置行车警示标识")],
        "发生车辆伤害立即停车、救护并保护现场",
    ),
    (
        "行车（桥式起重机）",
        "equipment",
        ["2101"],
        ["lifting_injury", "object_strike"],
        [("management", "定期检验，吊索具每日检查"), ("training", "司索指挥持证上岗")],
        "吊物坠落立即停止作业、撤离危险区域",
    ),
    (
        "高处作业平台",
        "place",
        ["2102", "12"],
        ["fall_from_height"],
        [("engineering", "设置防护栏杆和安全网"), ("ppe", "系挂安全带")],
        "发生坠落勿随意移动伤员，立即呼叫急救",
    ),
    (
        "锅炉房",
        "place",
        ["2110"],
        ["boiler_explosion", "burn_scald"],
        [("management", "司炉持证，压力表安全阀定期校验"), ("engineering", "设置超压联锁")],
        "超压时紧急停炉并疏散人员",
    ),
    (
        "员工宿舍及食堂",
        "place",
        ["2109", "43"],
        ["fire"],
        [("management", "燃气软管定期更换，安装切断阀"), ("emergency", "配置灭火器并定期演练")],
        "发生火情立即报警、疏散并关闭燃气阀门",
    ),
)
# Inputs of each level, for each method (the published values; level checked by assess()).
BY_LEVEL: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "red": [("lec", {"l": 6, "e": 6, "c": 15}), ("ls", {"l": 5, "s": 4})],
    "orange": [("lec", {"l": 3, "e": 6, "c": 15}), ("ls", {"l": 3, "s": 5})],
    "yellow": [("lec", {"l": 3, "e": 6, "c": 7}), ("ls", {"l": 3, "s": 3})],
    "blue": [("lec", {"l": 1, "e": 6, "c": 7}), ("ls", {"l": 2, "s": 3})],
}
ORDER = ("red", "orange", "yellow", "blue")


def _assessment(method: str, inputs: dict[str, Any]) -> dict[str, Any]:
    done = assess(method, inputs)
    return {
        "method": done.method,
        "inputs": {k: str(v) if isinstance(v, Decimal) else v for k, v in done.inputs.items()},
        "score": str(done.score),
        "level": done.level,
        "grade": done.grade_zh,
    }


async def load_demo_risks(session: AsyncSession, enterprises: list[Enterprise]) -> int:
    ids = [e.id for e in enterprises]
    if not ids:
        return 0
    counted = select(func.count(RiskPoint.id)).where(RiskPoint.enterprise_id.in_(ids))
    if (await session.execute(counted)).scalar_one():
        return 0
    rng = random.Random(SEED)
    now = utcnow()
    points: list[RiskPoint] = []
    events: list[RiskPointEvent] = []
    for ent in enterprises:
        top = ent.risk_color if ent.risk_color in ORDER else "blue"
        below = ORDER[ORDER.index(top) :]
        templates = rng.sample(TEMPLATES, rng.randint(3, 10))
        for n, (name, kind, factors, accidents, measures, emergency) in enumerate(templates):
            level = top if n == 0 else rng.choice(below)
            method, inputs = rng.choice(BY_LEVEL[level])
            assessment = _assessment(method, inputs)
            assert assessment["level"] == level
            located = ent.lat is not None and ent.lng is not None
            point = RiskPoint(
                id=new_id(),
                enterprise_id=ent.id,
                name=name,
                kind=kind,
                location_text=f"{ent.address or ent.name}（{name}）",
                lat=round(ent.lat + rng.uniform(-0.0008, 0.0008), 6) if located else None,
                lng=round(ent.lng + rng.uniform(-0.0008, 0.0008), 6) if located else None,
                coordinate_system=(ent.coordinate_system or "wgs84") if located else None,
                hazard_factors=list(factors),
                assessment=assessment,
                level=level,
                control_level={"red": "company", "orange": "workshop"}.get(level, "team"),
                responsible_person=ent.principal_name or "安全负责人",
                responsible_post="主要负责人" if level == "red" else "车间主任",
                control_measures=[{"kind": k, "text": t} for k, t in measures],
                emergency_measures=[emergency],
                accident_types=list(accidents),
                reviewed_at=now,
                status="active",
                follow_up=level == "red" and rng.random() < 0.3,
                follow_up_note="重大风险管控措施落实情况需复核" if level == "red" else None,
                version=1,
                created_at=now,
                updated_at=now,
            )
            if not point.follow_up:
                point.follow_up_note = None
            points.append(point)
            events.append(
                RiskPointEvent(
                    id=new_id(),
                    risk_point_id=point.id,
                    action="create",
                    from_status=None,
                    to_status="active",
                    actor_kind="system",
                    payload={"level": level},
                    attachment_ids=[],
                    created_at=now,
                )
            )
    session.add_all(points)
    await session.flush()
    session.add_all(events)
    by_id = {e.id: e for e in enterprises}
    session.add_all(
        risk_checklist.version_of(
            pt, by_id[pt.enterprise_id].region_code, by_id[pt.enterprise_id].sector, 1
        )
        for pt in points
        if pt.control_measures
    )
    await session.flush()
    return len(points)
