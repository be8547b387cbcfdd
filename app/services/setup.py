"""First-run set-up of a deployment: its county and first administrator."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.password_policy import check_new_password
from app.auth.passwords import hash_password, in_hashing_thread
from app.auth.permissions import Role
from app.models import OrgUnit, User


class AlreadyInitialised(Exception):
    pass


async def initialise(
    session: AsyncSession,
    *,
    county_code: str,
    county_name: str,
    admin_username: str,
    admin_password: str,
) -> tuple[OrgUnit, User]:
    if (await session.execute(select(OrgUnit.id).where(OrgUnit.kind == "county").limit(1))).first():
        raise AlreadyInitialised("a county already exists in this database")
    if not re.fullmatch(r"\d{6}", county_code):
        raise ValueError("county code must be 6 digits (GB/T 2260)")
    if not re.fullmatch(r"[A-Za-z0-9_.@-]{3,64}", admin_username):
        raise ValueError("admin username must be 3-64 letters, digits or _.@-")
    try:
        check_new_password(admin_password)
    except ValueError as exc:
        raise ValueError("admin password: " + str(exc).partition("|")[0].lower()) from None
    admin_username = admin_username.lower()
    county = OrgUnit(
        kind="county",
        name=county_name,
        region_code=county_code,
        county_code=county_code,
        sectors=[],
    )
    session.add(county)
    await session.flush()
    admin = User(
        username=admin_username,
        password_hash=await in_hashing_thread(hash_password, admin_password),
        display_name="系统管理员",
        role=Role.admin.value,
        org_unit_id=county.id,
        is_active=True,
    )
    session.add(admin)
    await session.flush()
    return county, admin
