"""About 2,000 demo hazards over the demo enterprises, in every state, with their events.

Dated relative to the day the demo is loaded, so there are always overdue ones; hazards found
before the stock cut-off are mostly cleared, a few still open. Deterministic (seeded) and loaded
once: nothing is added when the county already has hazards.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import local_today, zone
from app.core.ids import new_id
from app.models import Enterprise, Hazard, HazardCounter, HazardEvent, User
from app.services.hazards import rollup
from app.services.hazards.workflow import ESCALATION_LADDER

SEED = 20240101
COUNT = 2000
TZ = "Asia/Shanghai"

TITLES = {
    "unsafe_condition": (
        "配电箱未可靠接地",
        "消防通道堆放杂物",
        "安全出口指示灯损坏",
        "灭火器过期未更换",
        "砂轮机防护罩缺失",
        "皮带传动部位无防护罩",
        "有限空间未设置警示标识",
        "仓库通风设施故障",
        "燃气管道锈蚀",
        "脚手架连墙件缺失",
        "临边防护栏杆缺失",
        "叉车制动失灵",
        "电气线路私拉乱接",
        "压力表未按期校验",
        "应急照明不亮",
    ),
    "unsafe_behavior": (
        "作业人员未佩戴安全帽",
        "动火作业未办理审批",
        "特种作业人员无证上岗",
        "高处作业未系安全带",
        "违章指挥冒险作业",
        "检修时未执行挂牌上锁",
    ),
    "management_defect": (
        "未建立隐患排查治理台账",
        "安全培训记录不全",
        "应急预案未按期演练",
        "全员安全生产责任制未落实",
        "危险作业未安排专人监护",
        "外包单位安全管理协议缺失",
    ),
    "environment": ("厂区照明不足", "雨季排水沟堵塞", "作业场所粉尘积聚", "仓库地面湿滑"),
}
MAJOR = {
    "industry_trade": (
        "industry_trade",
        "11.3",
        "粉尘爆炸危险场所干式除尘系统未采取控爆措施",
    ),
    "metallurgy": ("industry_trade", "4.4", "炼钢炉水冷元件未设置出水温度监测报警装置"),
    "hazardous_chemicals": (
        "chemicals",
        "4",
        "涉及重点监管危险化工工艺的装置未实现自动化控制",
    ),
    "non_coal_mining": ("metal_nonmetal_mines", "3.1", "井下安全出口不符合要求"),
    "fireworks": ("fireworks", "5", "工房超量存放药物"),
    "construction": ("housing_municipal", "5.3", "深基坑未按规定进行监测"),
    "urban_gas": ("gas", "7.2", "餐饮用户未安装可燃气体报警装置"),
    "road_transport": ("road_transport", "3.3", "车辆动态监控系统未正常运行"),
}
# Every cited clause is one of its standard's (tests/test_judgment_clauses.py checks it).
FIRE = ("fire", "5.5", "人员密集场所安全出口数量不足")
PLACES = (
    "一号车间",
    "二号车间",
    "原料仓库",
    "成品库",
    "配电房",
    "锅炉房",
    "办公楼一层",
    "厂区东侧",
    "施工现场",
    "地下车库",
)


def _at(day: date, rng: random.Random) -> datetime:
    local = datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=zone(TZ))
    return local.astimezone(UTC)


async def load_demo_hazards(
    session: AsyncSession, enterprises: list[Enterprise], users: dict[str, User]
) -> int:
    county = enterprises[0].region_code[:6] if enterprises else None
    if county is None:
        return 0
    if (
        await session.execute(select(func.count(Hazard.id)).where(Hazard.county_code == county))
    ).scalar_one():
        return 0
    rng = random.Random(SEED)
    today = local_today(TZ)
    start = date(2023, 3, 1)
    span = (today - start).days
    gov = [
        users[n]
        for n in ("county_officer", "town_officer", "bureau_officer", "town_inspector")
        if n in users
    ]
    supervisor = users.get("county_officer")
    hazards: list[Hazard] = []
    events: list[HazardEvent] = []
    per_year: Counter[int] = Counter()
    weights = [3 if e.risk_color in ("red", "orange") else 1 for e in enterprises]

    def event(
        h: Hazard,
        action: str,
        frm: str | None,
        to: str,
        at: datetime,
        who: tuple[str | None, str],
        **kw: Any,
    ) -> None:
        events.append(
            HazardEvent(
                id=new_id(),
                hazard_id=h.id,
                action=action,
                from_status=frm,
                to_status=to,
                actor_kind="user",
                actor_id=who[0],
                actor_name=who[1],
                note=kw.get("note"),
                payload=kw.get("payload", {}),
                attachment_ids=[],
                created_at=at,
            )
        )

    for _ in range(COUNT):
        ent = rng.choices(enterprises, weights)[0]
        age = int(span * (rng.random() ** 1.6))  # more recent than old
        found_day = today - timedelta(days=max(age, 1))
        found_at = _at(found_day, rng)
        major = (rng.random() < 0.05 and ent.sector in MAJOR) or rng.random() < 0.01
        source = rng.choices(
            ("self_inspection", "inspection", "assigned", "public_report"), (55, 35, 6, 4)
        )[0]
        category = rng.choices(list(TITLES), (50, 20, 20, 10))[0]
        judgment = MAJOR.get(ent.sector, FIRE) if major else None
        title = judgment[2] if judgment else rng.choice(TITLES[category])
        deadline = found_day + timedelta(days=rng.randint(30, 120) if major else rng.randint(7, 45))
        finder = (None, f"{ent.name}安全管理员") if source == "self_inspection" else _gov(rng, gov)
        enterprise_actor = (None, f"{ent.name}安全管理员")
        per_year[found_day.year] += 1
        h = Hazard(
            id=new_id(),
            number=f"{found_day.year}-{per_year[found_day.year]:06d}",
            county_code=ent.region_code[:6],
            enterprise_id=ent.id,
            title=title,
            description=f"{title}，需按要求整改。",
            location=rng.choice(PLACES),
            level="major" if major else "general",
            source=source,
            category=category,
            found_at=found_at,
            found_by_id=finder[0],
            found_by_name=finder[1],
            deadline=deadline,
            status="registered",
            escalation="none",
            judgment_standard=judgment[0] if judgment else None,
            judgment_clause=judgment[1] if judgment else None,
            judgment_text=judgment[2] if judgment else None,
            version=1,
            created_at=found_at,
            updated_at=found_at,
        )
        hazards.append(h)
        event(h, "register", None, "registered", found_at, finder)
        roll = rng.random()
        p_closed = 0.97 if age > 150 else 0.55 if age > 40 else 0.25
        if roll < 0.02:
            h.status = "voided"
            event(
                h,
                "void",
                "registered",
                "voided",
                found_at + timedelta(hours=3),
                _gov(rng, gov),
                note="重复登记",
            )
            continue
        if not major and source == "self_inspection" and rng.random() < 0.3 and roll < p_closed:
            h.status, h.closed_at = "closed", found_at + timedelta(hours=rng.randint(1, 6))
            event(
                h,
                "fix_on_spot",
                "registered",
                "closed",
                h.closed_at,
                enterprise_actor,
                note="立查立改",
            )
            h.updated_at = h.closed_at
            continue
        if rng.random() < 0.12 and roll >= p_closed:
            continue  # still registered
        planned = found_at + timedelta(days=rng.randint(1, 4))
        h.plan_responsible_person, h.plan_measures = (
            f"{ent.principal_name or '企业负责人'}",
            f"针对“{title}”制定整改措施并落实",
        )
        h.plan_deadline, h.plan_funds_fen = deadline, rng.randint(5, 500) * 10000
        if major:
            h.plan_contingency_plan, h.plan_interim_measures = (
                "专项应急预案",
                "设置警戒区域，停止相关作业",
            )
            h.plan_equipment_out_of_service = True
        h.status = "rectifying"
        event(h, "plan", "registered", "rectifying", planned, enterprise_actor)
        h.updated_at = planned
        if roll >= p_closed and rng.random() < 0.6:
            continue  # rectifying
        done = planned + timedelta(days=rng.randint(2, max(3, (deadline - found_day).days + 10)))
        if done.date() >= today:
            continue
        h.status = "awaiting_acceptance"
        event(h, "complete", "rectifying", "awaiting_acceptance", done, enterprise_actor)
        h.updated_at = done
        if roll >= p_closed:
            continue
        accepted = done + timedelta(days=rng.randint(1, 7))
        if accepted.date() >= today:
            continue
        accepter = (
            enterprise_actor
            if (not major and source == "self_inspection" and rng.random() < 0.7)
            else _gov(rng, gov)
        )
        h.status, h.closed_at, h.updated_at = "closed", accepted, accepted
        event(
            h,
            "accept",
            "awaiting_acceptance",
            "closed",
            accepted,
            accepter,
            note="验收合格，予以销号",
        )

    for h in hazards:
        open_ = h.status in ("registered", "rectifying", "awaiting_acceptance")
        if open_ and h.level == "major" and supervisor is not None and rng.random() < 0.7:
            listed = h.found_at + timedelta(days=2)
            h.supervision_org_unit_id, h.supervision_supervisor_user_id = (
                supervisor.org_unit_id,
                supervisor.id,
            )
            h.supervision_listed_at, h.supervision_disclosed = listed, rng.random() < 0.3
            event(
                h,
                "supervise",
                h.status,
                h.status,
                listed,
                (supervisor.id, supervisor.display_name),
                payload={"supervisor_user_id": supervisor.id},
            )
        if open_ and h.deadline < today:
            h.overdue_marked_on = h.deadline + timedelta(days=1)
            event(
                h,
                "mark_overdue",
                h.status,
                h.status,
                _at(h.overdue_marked_on, rng),
                (None, "系统"),
                note=f"已超过整改期限 {h.deadline.isoformat()}",
            )
            rungs = (
                rng.choices((0, 1, 2, 3), (50, 30, 15, 5))[0]
                if (today - h.deadline).days > 20
                else 0
            )
            for step in range(1, rungs + 1):
                h.escalation = ESCALATION_LADDER[step]
                event(
                    h,
                    "escalate",
                    h.status,
                    h.status,
                    _at(h.deadline + timedelta(days=10 * step), rng),
                    _gov(rng, gov[:1]),
                    note="逾期未整改，依规问责",
                    payload={"level": h.escalation},
                )
    session.add_all(hazards)
    await session.flush()
    by_id = {e.id: rollup.dims_of(e) for e in enterprises}
    await rollup.apply(session, ((None, rollup.key_of(h, by_id[h.enterprise_id])) for h in hazards))
    session.add_all(events)
    for year, last in per_year.items():
        session.add(HazardCounter(county_code=county, year=year, last=last))
    await session.flush()
    return len(hazards)


def _gov(rng: random.Random, gov: list[User]) -> tuple[str | None, str]:
    if not gov:
        return (None, "监管人员")
    user = rng.choice(gov)
    return (user.id, user.display_name)
