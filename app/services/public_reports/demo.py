"""The demo county's public reports, made through the real services (intake as a citizen sends
one, the lifecycle as its officers would), and the record of the demo's hazards that say they
came from a substantiated report (``link_unrecorded_hazards``, the rule migration 0023 applied
to the hazards a database held before reports were recorded)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.models import (
    Enterprise,
    Hazard,
    OrgUnit,
    PublicReport,
    PublicReportEvent,
    PublicReportRoute,
    User,
)
from app.models.public_reports import PublicReportCounter
from app.schemas.public_reports import HazardFromReport, PublicReportCreate, ReportTransition
from app.services.demo_draws import principal_of
from app.services.lifecycle import event_fields
from app.services.numbering import next_number
from app.services.public_reports import intake, service

OUTCOME = "经调查，举报问题属实，已依法责令整改并销号。"
_STEPS = (
    ("investigate", {}),
    ("unsubstantiate", {"reason": "现场核查未发现举报所述情况"}),
    ("close", {"public_outcome": "经现场核查，未发现举报所述问题。感谢您对安全生产工作的监督。"}),
)


async def link_unrecorded_hazards(session: AsyncSession) -> int:
    """A report record for every ``public_report`` hazard without one: received when the hazard
    was found, substantiated (closed when the hazard is), anonymous, routed as intake routes.
    Its tracking code is random and given to nobody."""
    rows = (
        await session.execute(
            select(Hazard, Enterprise)
            .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
            .where(Hazard.source == "public_report", Hazard.public_report_id.is_(None))
            .order_by(Hazard.found_at, Hazard.id)
        )
    ).all()
    for hazard, ent in rows:
        body = PublicReportCreate(
            description=(hazard.description or hazard.title).ljust(10, "。")[:2000],
            credit_code=ent.credit_code,
            location_text=hazard.location,
        )
        routing = await intake.route(session, body)
        counter_year = hazard.found_at.year
        closed = hazard.status == "closed"
        report = PublicReport(
            number=await next_number(
                session, hazard.county_code, counter_year, counter=PublicReportCounter, prefix="R"
            ),
            county_code=hazard.county_code,
            tracking_hash=hashlib.sha256(os.urandom(32)).hexdigest(),
            description=body.description,
            location_text=hazard.location,
            region_code=ent.region_code,
            town_code=routing.town_code,
            enterprise_name=ent.name,
            credit_code=ent.credit_code,
            sector=ent.sector,
            enterprise_id=ent.id,
            anonymous=True,
            status="closed" if closed else "substantiated",
            hazard_id=hazard.id,
            public_outcome=OUTCOME if closed else None,
            received_at=hazard.found_at,
            substantiated_at=hazard.created_at,
            closed_at=hazard.closed_at if closed else None,
            created_at=hazard.found_at,
            updated_at=(hazard.closed_at if closed else None) or hazard.created_at,
        )
        session.add(report)
        await session.flush()
        for unit_id, reason in routing.routes.items():
            session.add(
                PublicReportRoute(
                    report_id=report.id, unit_id=unit_id, reason=reason, created_at=hazard.found_at
                )
            )
        steps = [("receive", None, "received", hazard.found_at)]
        steps.append(("substantiate", "received", "substantiated", hazard.created_at))
        if report.closed_at is not None:
            steps.append(("close", "substantiated", "closed", report.closed_at))
        for action, before, after, at in steps:
            fields = event_fields(
                None,
                action,
                before,
                after,
                at=at,
                details={"hazard_id": hazard.id} if action == "substantiate" else None,
            )
            session.add(PublicReportEvent(report_id=report.id, **fields))
        hazard.public_report_id = report.id
    await session.flush()
    return len(rows)


def _principal(users: dict[str, User], units: dict[str, OrgUnit], name: str) -> Any:
    user = users[name]
    unit = next((u for u in units.values() if u.id == user.org_unit_id), None)
    return principal_of(user, unit)


async def load_demo_reports(
    session: AsyncSession,
    settings: Settings,
    users: dict[str, User],
    county: OrgUnit,
    towns: dict[str, OrgUnit],
    bureaus: dict[str, OrgUnit],
    enterprises: list[Enterprise],
) -> int:
    """Five reports in every state of the lifecycle (once: none when the county has one made
    by intake), and the records of the demo's ``public_report`` hazards."""
    linked = await link_unrecorded_hazards(session)
    made = await session.scalar(
        select(func.count(PublicReport.id)).where(
            PublicReport.county_code == county.county_code, PublicReport.hazard_id.is_(None)
        )
    )
    needed = {"county_officer", "town_officer", "bureau_officer"}
    if made or not needed <= set(users) or "341302001" not in towns:
        return linked
    units = {"county": county, **towns, **bureaus}
    town = towns["341302001"]
    in_town = [e for e in enterprises if e.region_code.startswith(town.region_code or "")]
    if not in_town:
        return linked
    ent = in_town[0]
    county_officer = _principal(users, units, "county_officer")
    town_officer = _principal(users, units, "town_officer")

    async def new(**body: Any) -> PublicReport:
        report, _code = await intake.submit(
            session, settings, None, PublicReportCreate(**body), [], None
        )
        return report

    async def step(report: PublicReport, p: Any, action: str, **fields: Any) -> None:
        await service.transition(
            session, p, settings, report, ReportTransition(action=action, **fields)
        )

    await new(
        description="街道菜市场二楼餐馆使用液化气钢瓶，无报警装置，后厨油污严重",
        region_code="341302001",
        location_text="埇桥街道菜市场二楼",
    )
    named = await new(
        description=f"{ent.name}车间夜间加班，安全通道堆满货物，灭火器过期",
        credit_code=ent.credit_code,
        reporter={"name": "刘某某", "phone": "13800000001"},
    )
    await step(named, town_officer, "investigate")
    assigned = await new(
        description="某工地塔吊司机无证上岗，高处作业人员不系安全带",
        location_text="城南新区工地",
    )
    if bureaus:
        await step(assigned, county_officer, "assign", unit_ids=[next(iter(bureaus.values())).id])
    refuted = await new(
        description="小区地下车库有人违规存放汽油桶，存在火灾隐患", region_code="341302001"
    )
    for action, fields in _STEPS:
        await step(refuted, town_officer, action, **fields)
    proven = await new(
        description=f"{ent.name}仓库消防通道被堵，喷淋系统关闭",
        credit_code=ent.credit_code,
        reporter={"name": "陈某", "phone": "13900000002"},
    )
    await step(proven, town_officer, "investigate")
    await step(
        proven,
        town_officer,
        "substantiate",
        hazard=HazardFromReport(
            title="仓库消防通道堵塞、喷淋系统关闭",
            level="general",
            category="unsafe_condition",
        ),
    )
    await step(proven, county_officer, "reward", reward_yuan=500)
    await session.flush()
    return linked + 5
