"""The one answer to "what may this caller see". Every query of every domain goes through it.

- admins and county staff: every enterprise in their county;
- a town: enterprises whose region code starts with the town's code (属地管理);
- a bureau: enterprises of its sectors in its county, plus those naming it as their
  daily-enforcement department (管行业必须管安全);
- enterprise users: their own enterprise.

Accountability (问责) is about units as well as enterprises: ``accountable_units`` says which
towns and bureaus a caller sees figures and records of, ``unit_enterprises`` what a unit's own
scope is (the rule above, for a user of that unit).
"""

from __future__ import annotations

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    exists,
    false,
    or_,
    select,
)

from app.auth.permissions import Permission
from app.auth.principal import Principal, UnitInfo
from app.models import (
    AccountabilityRecord,
    Checklist,
    Draw,
    Enterprise,
    Inspection,
    InspectionAssignee,
    OrgUnit,
    PublicReport,
    PublicReportRoute,
    RiskPoint,
    Task,
    TaskAssignee,
    TaskList,
    TaskReport,
    User,
)

# The caller's scope over enterprises as a shape (which rule; how many sectors) and its values:
# statements are built once per shape and take the values per call (app/core/reads.py).
ScopeShape = tuple[object, ...]


def enterprise_scope(p: Principal) -> tuple[ScopeShape, dict[str, object]]:
    """Which enterprises ``p`` may see: the shape of the rule and the values it compares."""
    if p.enterprise_id is not None:
        return ("enterprise",), {"scope_enterprise_id": p.enterprise_id}
    if p.unit is None or p.is_expert:  # an expert sees no enterprise, only its assignments
        return ("none",), {}
    return unit_scope(p.unit, admin=p.is_admin)


def unit_scope(unit: UnitInfo, *, admin: bool = False) -> tuple[ScopeShape, dict[str, object]]:
    """What the staff of a government unit see (``enterprise_scope`` of its people): also the
    scope of one bureau in the statistics by bureau, so the rule is never written twice."""
    if admin or unit.kind == "county":
        return _prefix_scope(unit.county_code)
    if unit.kind == "town" and unit.region_code:
        return _prefix_scope(unit.region_code)
    if unit.kind == "bureau":
        values: dict[str, object] = {"scope_unit_id": unit.id}
        # A plain LIKE with a digits-only prefix uses the btree index on both databases.
        county = unit.county_code.isdigit()
        sectors = list(unit.sectors) if county else []
        values.update({f"scope_sector_{i}": sector for i, sector in enumerate(sectors)})
        if sectors:
            values["scope_prefix"] = unit.county_code + "%"
        return ("bureau", len(sectors)), values
    return ("none",), {}


def _prefix_scope(code: str) -> tuple[ScopeShape, dict[str, object]]:
    if not code.isdigit():
        return ("none",), {}
    return ("prefix",), {"scope_prefix": code + "%"}


def scope_condition(
    shape: ScopeShape, values: dict[str, object] | None = None
) -> ColumnElement[bool]:
    """The filter over ``Enterprise`` of a scope shape: with ``values`` bound, or (None) with
    parameters named ``scope_*`` for a statement built once."""

    def value(name: str) -> BindParameter[str]:
        if values is None:
            return bindparam(name, type_=String())
        return bindparam(name, values[name], type_=String(), unique=True)

    kind = shape[0]
    if kind == "enterprise":
        return Enterprise.id == value("scope_enterprise_id")
    if kind == "prefix":
        return Enterprise.region_code.like(value("scope_prefix"))
    if kind == "bureau":
        n = int(shape[1])  # type: ignore[call-overload]
        in_sectors = (
            and_(
                Enterprise.sector.in_([value(f"scope_sector_{i}") for i in range(n)]),
                Enterprise.region_code.like(value("scope_prefix")),
            )
            if n
            else false()
        )
        return or_(in_sectors, Enterprise.enforcement_department_id == value("scope_unit_id"))
    return false()


def visible_enterprises(p: Principal) -> ColumnElement[bool]:
    """A filter over ``Enterprise`` that admits exactly the caller's scope."""
    return scope_condition(*enterprise_scope(p))


def unit_enterprises(unit: UnitInfo) -> ColumnElement[bool]:
    """A filter over ``Enterprise`` that admits exactly what the unit's staff see."""
    return scope_condition(*unit_scope(unit))


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
    if not p.is_government:
        return false()
    return OrgUnit.county_code == p.unit.county_code


def visible_users(p: Principal) -> ColumnElement[bool]:
    """Admins: every user of the county. Managers: their own unit and enterprises in scope."""
    if not p.is_government:
        return false()
    in_scope_enterprise = User.enterprise_id.in_(visible_enterprise_ids(p))
    if p.is_admin:
        county_units = select(OrgUnit.id).where(OrgUnit.county_code == p.unit.county_code)
        return or_(User.org_unit_id.in_(county_units), in_scope_enterprise)
    return or_(User.org_unit_id == p.unit.id, in_scope_enterprise)


UNIT_KINDS_ACCOUNTABLE = ("town", "bureau")


def accountable_units(p: Principal) -> ColumnElement[bool]:
    """The towns and bureaus (a filter over ``OrgUnit``) whose unit figures and accountability
    records the caller sees: admins and county staff every town and bureau of their county; a
    town or a bureau itself; enterprise users none."""
    unit = p.unit
    if unit is None or not p.is_government:
        return false()
    kinds = OrgUnit.kind.in_(UNIT_KINDS_ACCOUNTABLE)
    if county_wide(p):
        return and_(kinds, OrgUnit.county_code == unit.county_code)
    return and_(kinds, OrgUnit.id == unit.id)


def visible_accountability(p: Principal) -> ColumnElement[bool]:
    """Accountability records (a filter over ``AccountabilityRecord``) the caller sees: those
    about a unit of ``accountable_units`` and those about an enterprise in its scope (an
    enterprise user: the records about its own enterprise)."""
    return or_(
        AccountabilityRecord.target_org_unit_id.in_(select(OrgUnit.id).where(accountable_units(p))),
        AccountabilityRecord.target_enterprise_id.in_(visible_enterprise_ids(p)),
    )


def assigned_inspections(user_id: str) -> Select[tuple[str]]:
    """The inspections a person is listed on (as an inspector or an expert)."""
    return select(InspectionAssignee.inspection_id).where(InspectionAssignee.user_id == user_id)


def visible_inspections(p: Principal) -> ColumnElement[bool]:
    """Inspections (a filter over ``Inspection`` joined with its ``Enterprise``) the caller sees.

    - government: those of the enterprises in its scope (属地 and 行业, as for hazards), and
      those it is listed on as an inspector (a cross-regional visit outside its own scope);
    - an expert: only those it is assigned to;
    - an enterprise user: its own enterprise's once started (an inspection is never announced
      by the system before it begins: planned, unannounced and double-random ones not yet
      started do not exist for it), and its own self-inspections from the plan on.
    """
    if p.kind == "user" and p.is_expert:
        return Inspection.id.in_(assigned_inspections(p.id))
    if p.enterprise_id is not None:
        return and_(
            Enterprise.id == p.enterprise_id,
            or_(Inspection.started_at.is_not(None), Inspection.kind == "self_inspection"),
        )
    in_scope = visible_enterprises(p)
    if p.kind == "user" and p.is_government:
        return or_(in_scope, Inspection.id.in_(assigned_inspections(p.id)))
    return in_scope


# ---- double-random draws (双随机, issue 12) ----


def visible_draws(p: Principal) -> ColumnElement[bool]:
    """Draws (a filter over ``Draw``) the caller sees: admins and county staff every draw of
    their county; a town or bureau the draws it conducts; nobody else (enterprise users and
    experts hold no permission to read draws; the published view is ``/public/draws``)."""
    unit = p.unit
    if unit is None or not p.is_government:
        return false()
    if county_wide(p):
        return Draw.county_code == unit.county_code
    return Draw.conducting_unit_id == unit.id


# ---- issue 12, checklists (i12-check) --------------------------------------------------------
def caller_county(p: Principal) -> str | None:
    """The county a caller works in: its unit's, or its enterprise's (the 6-digit prefix)."""
    if p.unit is not None:
        return p.unit.county_code
    if p.enterprise_region_code:
        return p.enterprise_region_code[:6]
    return None


def visible_checklists(p: Principal) -> ColumnElement[bool]:
    """Checklists (a filter over ``Checklist``) the caller sees: the starter ones (no county)
    and those of its own county, for government and enterprise users alike (an enterprise
    inspects itself with its county's lists); a checklist generated from a risk point only by
    those who see the point (another enterprise's register is not a county list)."""
    county = caller_county(p)
    starters = Checklist.county_code.is_(None)
    if county is None:
        return starters
    points_seen = (
        select(RiskPoint.id)
        .join(Enterprise, Enterprise.id == RiskPoint.enterprise_id)
        .where(visible_risk_points(p))
    )
    return or_(
        starters,
        and_(
            Checklist.county_code == county,
            or_(Checklist.risk_point_id.is_(None), Checklist.risk_point_id.in_(points_seen)),
        ),
    )


def visible_risk_points(p: Principal) -> ColumnElement[bool]:
    """Risk points (a filter over ``RiskPoint`` joined with its ``Enterprise``): those of the
    enterprises in the caller's scope (an enterprise user: its own; an expert: none)."""
    return visible_enterprises(p)


# ---- task lists and tasks (清单与调度, issue 14) ----


def county_wide(p: Principal) -> bool:
    """Admins and the county office's staff (县安委办): the callers who see and act for their
    whole county (every issued task list whole, every public report, the audit of who saw a
    reporter). Experts belong to the county unit but are not staff; enterprise users have no
    unit. The one statement of this rule: every "the county's staff" check asks it."""
    return p.is_government and (p.is_admin or p.unit.kind == "county")


def county_wide_in(p: Principal, county_code: str) -> bool:
    """``county_wide`` for the county ``county_code`` (a record of another county is not its)."""
    return county_wide(p) and p.unit.county_code == county_code


def _whole_list(p: Principal) -> ColumnElement[bool]:
    """Lists (a filter over ``TaskList``) the caller sees whole: those its unit issued (drafts
    included), and for the county every list of the county once issued (drafts too for
    admins)."""
    if not p.is_government:
        return false()
    own = TaskList.issuing_unit_id == p.unit.id
    if not county_wide(p):
        return own
    county = TaskList.county_code == p.unit.county_code
    return or_(own, county if p.is_admin else and_(county, TaskList.status != "draft"))


def assigned_task_ids(p: Principal) -> Select[tuple[str]]:
    """The tasks with a part of the caller's own unit or enterprise."""
    if p.enterprise_id is not None:
        return select(TaskAssignee.task_id).where(TaskAssignee.enterprise_id == p.enterprise_id)
    if p.is_government:
        return select(TaskAssignee.task_id).where(TaskAssignee.unit_id == p.unit.id)
    return select(TaskAssignee.task_id).where(false())


def _own_tasks(p: Principal) -> ColumnElement[bool]:
    """Tasks (a filter over ``Task``) that are the caller's in an issued list: assigned to it,
    led by its unit, or split by its unit from its own part."""
    if p.kind == "user" and p.is_expert:
        return false()
    conds: list[ColumnElement[bool]] = [Task.id.in_(assigned_task_ids(p))]
    if p.is_government:
        conds += [Task.lead_unit_id == p.unit.id, Task.split_by_unit_id == p.unit.id]
    return or_(*conds)


def visible_tasks(p: Principal) -> ColumnElement[bool]:
    """Tasks (a filter over ``Task`` joined with its ``TaskList``) the caller sees: every task
    of a list it sees whole, and its own tasks of issued lists."""
    return or_(_whole_list(p), and_(TaskList.status != "draft", _own_tasks(p)))


def visible_task_lists(p: Principal) -> ColumnElement[bool]:
    """Lists (a filter over ``TaskList``) the caller sees: those it sees whole, and the issued
    ones holding a task of its own (it then sees only those tasks)."""
    has_own = exists(select(Task.id).where(Task.task_list_id == TaskList.id, _own_tasks(p)))
    return or_(_whole_list(p), and_(TaskList.status != "draft", has_own))


def sees_every_part(
    p: Principal, issuing_unit_id: str, county_code: str, lead_unit_id: str | None
) -> bool:
    """Whether the caller sees every assignee's part of a task (the issuer, the county, the
    lead unit) or only its own (an assignee never sees another's)."""
    if not p.is_government:
        return False
    if p.unit.id in (issuing_unit_id, lead_unit_id):
        return True
    return county_wide_in(p, county_code)


def assignable_units(unit: UnitInfo) -> ColumnElement[bool]:
    """Units (a filter over ``OrgUnit``) a unit may assign tasks to: the county office, the
    other units of its county (towns and bureaus, below and beside it); a town or a bureau
    none (it assigns its enterprises)."""
    if unit.kind != "county":
        return false()
    return and_(OrgUnit.county_code == unit.county_code, OrgUnit.id != unit.id)


def visible_task_report_ids(p: Principal) -> Select[tuple[str]]:
    """Progress reports the caller reads: on tasks it sees, every part's where it sees every
    part (the issuer, the county, the lead unit, the splitter), else its own part's only."""
    own: list[ColumnElement[bool]] = []
    if p.enterprise_id is not None:
        own.append(TaskAssignee.enterprise_id == p.enterprise_id)
    if p.is_government:
        unit = p.unit.id
        own += [
            TaskAssignee.unit_id == unit,
            TaskList.issuing_unit_id == unit,
            Task.lead_unit_id == unit,
            Task.split_by_unit_id == unit,
        ]
        if county_wide(p):
            own.append(TaskList.county_code == p.unit.county_code)
    return (
        select(TaskReport.id)
        .join(TaskAssignee, TaskAssignee.id == TaskReport.assignee_id)
        .join(Task, Task.id == TaskReport.task_id)
        .join(TaskList, TaskList.id == Task.task_list_id)
        .where(visible_tasks(p), or_(*own) if own else false())
    )


# ---- public reports (群众举报, issue 15) ----


def routed_reports(unit_id: str) -> Select[tuple[str]]:
    """The reports routed to a unit (on intake, or assigned to it)."""
    return select(PublicReportRoute.report_id).where(PublicReportRoute.unit_id == unit_id)


def visible_reports(p: Principal) -> ColumnElement[bool]:
    """Public reports (a filter over ``PublicReport``) the caller sees: the county office's staff
    and admins every report of their county; a town or a bureau the reports routed to it;
    nobody else. Enterprise users and experts never see a report, not even one that became
    their hazard; staff without ``reports:read`` (inspectors, viewers) see none either."""
    if not p.is_government or not p.can(Permission.reports_read):
        return false()
    unit = p.unit
    if county_wide(p):
        return PublicReport.county_code == unit.county_code
    return PublicReport.id.in_(routed_reports(unit.id))
