"""Two demo double-random draws (双随机) of the bureau of emergency management, made through the
real services: one last quarter whose inspections were all carried out and signed (its
published view is open), and one for next week whose inspections are planned (404 in public).
Loaded once: nothing is added when the county has a draw."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import ROLE_PERMISSIONS, Role
from app.auth.principal import Principal, UnitInfo
from app.core.clock import local_today
from app.core.config import Settings
from app.models import Draw, OrgUnit, User
from app.schemas.draws import DrawCreate
from app.schemas.inspections import CompleteAction, SignAction, StartAction
from app.services.draws import service as draws
from app.services.inspections import service as inspections

POOL = (
    "bureau_manager",
    "bureau_officer",
    "bureau_inspector",
    "county_manager",
    "county_officer",
    "town_officer",
    "town_inspector",
    "town_inspector2",
)


def principal_of(user: User, unit: OrgUnit | None) -> Principal:
    """The caller a demo person is, as a request would resolve it."""
    role = Role(user.role)
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=role,
        permissions=ROLE_PERMISSIONS[role],
        unit=UnitInfo.of(unit) if unit else None,
        enterprise_id=user.enterprise_id,
        display_name=user.display_name,
    )


async def load_demo_draws(
    session: AsyncSession, settings: Settings, users: dict[str, User], bureau: OrgUnit | None
) -> int:
    if bureau is None or "bureau_manager" not in users:
        return 0
    counted = select(func.count(Draw.id)).where(Draw.county_code == bureau.county_code)
    if (await session.execute(counted)).scalar_one():
        return 0
    units = {u.id: u for u in (await session.execute(select(OrgUnit))).scalars()}
    people = {n: principal_of(u, units.get(u.org_unit_id or "")) for n, u in users.items()}
    manager = people["bureau_manager"]
    pool = [users[n].id for n in POOL if n in users and users[n].enforcement_cert_no]
    today = local_today(settings.timezone)
    done = await draws.create(
        session,
        manager,
        settings,
        DrawCreate(
            name="2026年第三季度工贸企业双随机抽查",
            sector=["industry_trade"],
            inspector_ids=pool,
            sample_size=4,
            seed="2026Q3-工贸-0715",
            planned_for=today - timedelta(days=60),
            campaign="双随机一公开",
        ),
        False,
    )
    by_id = {p.id: p for p in people.values()}
    for pick in done["picks"]:
        insp = await inspections.get_visible(session, manager, pick["inspection"]["id"])
        team = [by_id[u] for u in insp.inspectors]
        await inspections.transition(session, team[0], settings, insp, StartAction(action="start"))
        await inspections.transition(
            session, team[0], settings, insp, CompleteAction(action="complete")
        )
        for person in team:
            await inspections.transition(session, person, settings, insp, SignAction(action="sign"))
    await draws.create(
        session,
        manager,
        settings,
        DrawCreate(
            name="2026年第四季度危险化学品企业双随机抽查",
            sector=["hazardous_chemicals"],
            inspector_ids=pool,
            sample_size=3,
            seed="2026Q4-危化-1201",
            planned_for=today + timedelta(days=7),
            campaign="双随机一公开",
        ),
        False,
    )
    await session.flush()
    return 2
