"""The one answer to "what may this caller see". Every query of every domain goes through it.

- admins and county staff: every enterprise in their county;
- a town: enterprises whose region code starts with the town's code (属地管理);
- a bureau: enterprises of its sectors in its county, plus those naming it as their
  daily-enforcement department (管行业必须管安全);
- enterprise users: their own enterprise.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from app.auth.principal import Principal
from app.models import Enterprise, OrgUnit, User


def _prefix(column, code: str) -> ColumnElement[bool]:  # type: ignore[no-untyped-def]
    # A plain LIKE with a digits-only prefix uses the btree index on both databases.
    return column.like(code + "%") if code.isdigit() else false()


def visible_enterprises(p: Principal) -> ColumnElement[bool]:
    """A filter over ``Enterprise`` that admits exactly the caller's scope."""
    if p.enterprise_id is not None:
        return Enterprise.id == p.enterprise_id
    unit = p.unit
    if unit is None:
        return false()
    if p.is_admin or unit.kind == "county":
        return _prefix(Enterprise.region_code, unit.county_code)
    if unit.kind == "town" and unit.region_code:
        return _prefix(Enterprise.region_code, unit.region_code)
    if unit.kind == "bureau":
        in_sectors = (
            and_(
                Enterprise.sector.in_(unit.sectors),
                _prefix(Enterprise.region_code, unit.county_code),
            )
            if unit.sectors
            else false()
        )
        return or_(in_sectors, Enterprise.enforcement_department_id == unit.id)
    return false()


def visible_enterprise_ids(p: Principal) -> Select[tuple[str]]:
    return select(Enterprise.id).where(visible_enterprises(p))


def enterprise_would_be_visible(
    p: Principal, *, region_code: str, sector: str, enforcement_department_id: str | None
) -> bool:
    """The same rule as ``visible_enterprises``, for an enterprise not yet written."""
    if p.enterprise_id is not None:
        return False
    unit = p.unit
    if unit is None:
        return False
    if p.is_admin or unit.kind == "county":
        return region_code.startswith(unit.county_code)
    if unit.kind == "town":
        return bool(unit.region_code) and region_code.startswith(unit.region_code or "")
    if unit.kind == "bureau":
        return (sector in unit.sectors and region_code.startswith(unit.county_code)) or (
            enforcement_department_id == unit.id
        )
    return False


def visible_org_units(p: Principal) -> ColumnElement[bool]:
    """Government staff see the units of their own county."""
    if p.unit is None:
        return false()
    return OrgUnit.county_code == p.unit.county_code


def visible_users(p: Principal) -> ColumnElement[bool]:
    """Admins: every user of the county. Managers: their own unit and enterprises in scope."""
    if p.unit is None:
        return false()
    in_scope_enterprise = User.enterprise_id.in_(visible_enterprise_ids(p))
    if p.is_admin:
        county_units = select(OrgUnit.id).where(OrgUnit.county_code == p.unit.county_code)
        return or_(User.org_unit_id.in_(county_units), in_scope_enterprise)
    return or_(User.org_unit_id == p.unit.id, in_scope_enterprise)
