"""The demo county's task lists, made through the real services (as its managers would):

- the 2026 campaign list of 安全生产治本攻坚三年行动 "十大行动" (the seeds' 实施方案, 三、主要任务),
  each action a task with its lead unit, issued to the towns and bureaus, quarterly reports;
  the first town splits 动态清零 down to its enterprises and has moved some of its parts;
- the 2026 monthly dispatch list (月度调度) with twelve computed indicators and two manual ones,
  issued to every town and the three main bureaus.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models import Enterprise, OrgUnit, TaskList, User
from app.schemas.tasks import AssigneeIn, IndicatorIn, TaskCreate, TaskListCreate, TaskTransition
from app.services.demo_draws import principal_of
from app.services.tasks import service

BASIS = "《安全生产治本攻坚三年行动方案(2024-2026年)》"
# 十大行动: (title, lead bureau or None for the county office, to the towns too)
ACTIONS = (
    ("开展生产经营单位主要负责人安全教育培训行动", "区应急管理局", True),
    ("开展重大事故隐患判定标准体系提升行动", "区应急管理局", False),
    ("开展重大事故隐患动态清零行动", "区应急管理局", True),
    ("开展安全科技支撑和工程治理行动", "区住房和城乡建设局", False),
    ("开展危险作业安全专项整治行动", "区应急管理局", True),
    ("开展生产经营单位从业人员安全素质能力提升行动", "区应急管理局", True),
    ("开展生产经营单位安全管理体系建设行动", "区应急管理局", False),
    ("开展安全生产精准执法和帮扶行动", "区应急管理局", True),
    ("开展全民安全素质提升行动", "区教育局", True),
    ("开展安全发展示范城市创建行动", None, True),
)
MAIN_BUREAUS = ("区应急管理局", "区住房和城乡建设局", "区交通运输局")
INDICATORS: tuple[tuple[str, str, str | None, str], ...] = (
    ("hazards_found", "排查发现隐患数", None, "hazards_found"),
    ("major_found", "排查发现重大事故隐患数", None, "major_hazards_found"),
    ("hazards_closed", "整改销号隐患数", None, "hazards_closed"),
    ("rectification_rate", "隐患整改率", None, "rectification_rate"),
    ("overdue_open", "逾期未整改隐患数", None, "hazards_overdue_open"),
    ("major_supervised", "挂牌督办重大事故隐患数", None, "major_hazards_supervised"),
    ("stock_cleared", "存量隐患整改销号数", None, "stock_hazards_cleared"),
    ("inspections", "开展检查（执法）次数", None, "inspections_completed"),
    ("enterprises_inspected", "检查企业数", None, "enterprises_inspected"),
    ("key_coverage", "重点企业检查覆盖率", None, "key_enterprise_coverage"),
    ("fines_decided", "作出罚款决定数", None, "decisions_fine"),
    ("fines_entity", "单位罚款金额", None, "fines_entity"),
    ("committee_meetings", "召开安委会（专题）会议", "次", "manual"),
    ("trained", "开展安全培训", "人次", "manual"),
)


async def load_demo_tasks(
    session: AsyncSession,
    settings: Settings,
    users: dict[str, User],
    county: OrgUnit,
    towns: dict[str, OrgUnit],
    bureaus: dict[str, OrgUnit],
    enterprises: list[Enterprise],
) -> int:
    """Adds the two lists once (none while the county has any list); answers how many."""
    there = select(func.count(TaskList.id)).where(TaskList.county_code == county.county_code)
    if (await session.execute(there)).scalar_one() or "county_manager" not in users:
        return 0
    boss = principal_of(users["county_manager"], county)
    town_list = sorted(towns.values(), key=lambda u: u.region_code or "")
    first_town = town_list[0]

    def unit(u: OrgUnit) -> AssigneeIn:
        return AssigneeIn(unit_id=u.id)

    campaign = await service.create_list(
        session,
        boss,
        TaskListCreate(
            kind="campaign",
            title="安全生产治本攻坚三年行动2026年重点任务",
            year=2026,
            basis=BASIS,
            period_from=date(2026, 1, 1),
            period_to=date(2026, 12, 31),
        ),
    )
    tasks: dict[int, Any] = {}
    for n, (title, lead, to_towns) in enumerate(ACTIONS, start=1):
        lead_unit = bureaus.get(lead) if lead else county
        assignees = [unit(b) for name, b in bureaus.items() if name in MAIN_BUREAUS]
        if to_towns:
            assignees += [unit(t) for t in town_list]
        tasks[n] = await service.create_task(
            session,
            boss,
            settings,
            TaskCreate(
                task_list_id=campaign.id,
                code=str(n),
                title=title,
                basis=f"{BASIS}三、主要任务（{n}）",
                lead_unit_id=lead_unit.id if lead_unit else None,
                deadline=date(2026, 12, 31),
                cycle="quarterly",
                assignees=assignees,
            ),
        )
    await service.transition_list(session, boss, campaign, "issue", None)

    dispatch = await service.create_list(
        session,
        boss,
        TaskListCreate(
            kind="dispatch",
            title="2026年安全生产月度调度",
            year=2026,
            basis="县安委办月度调度通知",
            period_from=date(2026, 1, 1),
            period_to=date(2026, 12, 31),
            indicators=[
                IndicatorIn(code=code, name_zh=name, unit=unit_, source=source)  # type: ignore[arg-type]
                for code, name, unit_, source in INDICATORS
            ],
        ),
    )
    await service.create_task(
        session,
        boss,
        settings,
        TaskCreate(
            task_list_id=dispatch.id,
            code="1",
            title="按月报送安全生产调度指标",
            description="每月5日前报送上月调度指标；计算指标由平台预填，手工指标据实填报。",
            deadline=date(2026, 12, 31),
            cycle="monthly",
            assignees=[unit(t) for t in town_list]
            + [unit(b) for name, b in bureaus.items() if name in MAIN_BUREAUS],
        ),
    )
    await service.transition_list(session, boss, dispatch, "issue", None)

    # The first town works its parts: training under way, hazardous work done, 动态清零 split.
    if "town_officer" in users:
        town = principal_of(users["town_officer"], first_town)
        for n, action in ((1, "start"), (5, "complete")):
            task = await service.get_task(session, town, tasks[n].id)
            await service.transition_task(
                session, town, settings, task, TaskTransition(action=action)
            )
        own = [e for e in enterprises if e.region_code.startswith(first_town.region_code or "-")][
            :3
        ]
        if own:
            await service.create_task(
                session,
                town,
                settings,
                TaskCreate(
                    parent_task_id=tasks[3].id,
                    code="3.1",
                    title="企业重大事故隐患自查自改、动态清零",
                    description="对照重大事故隐患判定标准全面自查，发现即报告、即整改。",
                    deadline=date(2026, 11, 30),
                    assignees=[AssigneeIn(enterprise_id=e.id) for e in own],
                ),
            )
    return 2
