"""A row of an inspections import: the result of a past inspection (检查记录), recorded through
the inspection service's own machinery, never by writing a status around its rules:
``create`` (``POST /inspections``: scope, conducting unit, people), then the transitions
``start`` (行政执法两人以上: an enforcement kind needs two listed inspectors holding a
certificate) and ``complete`` (the outcome: one decision, default ``no_issue``). An imported
record ends ``completed`` (已完成, 待签名): a signature is each listed inspector's own act, so
the import signs nothing, and the service asks the other inspectors to sign, as it does for a
visit completed through the API. The day the file gives is the record's ``planned_for``,
``started_at`` and ``completed_at`` (the figures count a past visit in its own month); the
events keep the moment of the import.

- The importer must be one of the listed inspectors (谁检查、谁负责: the lifecycle's rule for
  ``start`` and ``complete``), else ``importer_not_inspector``. Kinds the import cannot record:
  ``self_inspection`` (the enterprise records its own) and ``follow_up`` (it names the earlier
  inspection it follows): ``kind_not_importable``.
- Natural key: an external id (``external_ids.<system>`` columns, as hazards); a row without
  one records a new inspection with a new number. A known one gets its descriptive fields
  (campaign, result summary) while no one has signed it; a signed record changes only through
  ``amend`` (``inspection_locked``).
- Enterprise by credit code or name (in scope; one outside it is ``outside_scope``), inspectors
  by username or name (government staff of the county), conducting unit by name or id.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import or_, select

from app.auth.deps import ensure
from app.auth.permissions import Permission
from app.auth.scope import visible_inspections
from app.core.clock import local_today, zone
from app.core.errors import AppError
from app.models import Enterprise, Inspection, OrgUnit, User
from app.schemas.inspections import CompleteAction, InspectionCreate, StartAction
from app.services.imports.columns import split_list
from app.services.imports.rows import (
    RowContext,
    RowError,
    _enterprise_of,
    _validation,
    app_error,
    find_external,
    record_external,
    unit_by_ref,
)
from app.services.inspections import service as inspection_service
from app.services.inspections.service import INSPECTOR_ROLES, _event
from app.services.inspections.workflow import is_enforcement

NOT_IMPORTABLE = frozenset({"self_inspection", "follow_up"})
_FIELDS = {
    "enterprise_id": "enterprise",
    "conducting_unit_id": "conducting_unit",
    "outcome": "decision",
    "outcome.decisions": "decision",
    "experts": "inspectors",
}


async def inspection_row(
    ctx: RowContext, v: dict[str, Any], row: int, external: dict[str, str]
) -> str:
    ensure(ctx.p, Permission.inspections_write)
    for system, value in external.items():
        key = f"{system}\x1f{value}"
        if key in ctx.seen:
            raise RowError(
                f"external_ids.{system}",
                code="duplicate_in_file",
                zh="同一文件中该外部编号已出现过",
                en="The external id appears on an earlier row of this file",
            )
        ctx.seen.add(key)
    try:
        known = await find_external(ctx.session, "inspection", external)
        if known is not None:
            return await _update(ctx, v, known)
        return await _create(ctx, v, external)
    except ValidationError as exc:
        error = _validation(exc)
        error.field = _FIELDS.get((error.field or "").split(".")[0], error.field)
        raise error from None
    except AppError as exc:
        raise app_error(exc, _FIELDS) from None


async def _enterprise(ctx: RowContext, ref: Any) -> Enterprise:
    try:
        return await _enterprise_of(ctx, ref)
    except RowError:
        text = str(ref).strip()
        county = ctx.p.unit.county_code if ctx.p.unit else "-"
        elsewhere = (
            await ctx.session.execute(
                select(Enterprise.id)
                .where(
                    or_(Enterprise.credit_code == text.upper(), Enterprise.name == text),
                    Enterprise.region_code.startswith(county),
                )
                .limit(1)
            )
        ).first()
        if elsewhere is not None:
            raise RowError(
                "enterprise",
                code="outside_scope",
                zh="该企业不在本单位管辖范围内",
                en="The enterprise lies outside your jurisdiction",
            ) from None
        raise


async def _people(ctx: RowContext, text: str) -> list[str]:
    """Government staff of the county by username or display name (each name once)."""
    county = ctx.p.unit.county_code if ctx.p.unit else "-"
    names = split_list(text)
    rows = (
        await ctx.session.execute(
            select(User.id, User.username, User.display_name)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(
                or_(User.username.in_([n.lower() for n in names]), User.display_name.in_(names)),
                OrgUnit.county_code == county,
                User.role.in_(INSPECTOR_ROLES),
                User.is_active.is_(True),
            )
        )
    ).all()
    ids: list[str] = []
    for name in names:
        by_username = [r.id for r in rows if r.username == name.lower()]
        matches = by_username or [r.id for r in rows if r.display_name == name]
        if len(matches) != 1:
            raise RowError(
                "inspectors",
                code="unknown_inspector",
                zh=f"本县没有唯一的在职检查人员“{name}”（按用户名或姓名）",
                en=f"No single active government inspector {name} in the county",
            )
        ids.append(matches[0])
    return list(dict.fromkeys(ids))


def _outcome(v: dict[str, Any]) -> dict[str, Any]:
    decision: dict[str, Any] = {"kind": v.get("decision") or "no_issue"}
    if v.get("deadline") is not None:
        decision["deadline"] = v["deadline"]
    if v.get("fine_yuan") is not None:
        decision["entity_fine_yuan"] = Decimal(str(v["fine_yuan"]))
    return {"decisions": [decision], "note": v.get("summary")}


def _at(ctx: RowContext, day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone(ctx.settings.timezone))


async def _create(ctx: RowContext, v: dict[str, Any], external: dict[str, str]) -> str:
    p, kind = ctx.p, v.get("kind")
    if kind in NOT_IMPORTABLE:
        raise RowError(
            "kind",
            code="kind_not_importable",
            zh="企业自查由企业自行登记，回头检查须在系统中关联原检查，均不能导入",
            en="Self-inspections are recorded by the enterprise and follow-ups name the "
            "inspection they follow: neither is imported",
        )
    day: date | None = v.get("planned_for")
    done: date = v.get("completed_on") or day  # type: ignore[assignment]
    today = local_today(ctx.settings.timezone)
    if day is None or done > today or done < day:
        raise RowError(
            "completed_on" if v.get("completed_on") else "planned_for",
            code="validation_error",
            zh="检查日期须为已过去的日期，完成日期不早于检查日期",
            en="A past inspection's dates are not in the future, completion not before the visit",
        )
    ent = await _enterprise(ctx, v.get("enterprise") or "")
    inspectors = await _people(ctx, str(v.get("inspectors") or ""))
    if p.kind != "user" or p.id not in inspectors:
        raise RowError(
            "inspectors",
            code="importer_not_inspector",
            zh="导入人须是所列检查人员之一（谁检查、谁负责）",
            en="The importer must be one of the listed inspectors",
        )
    unit = (
        (
            await unit_by_ref(
                ctx,
                v["conducting_unit"],
                "conducting_unit",
                OrgUnit.county_code == (ctx.p.unit.county_code if ctx.p.unit else "-"),
            )
        ).id
        if v.get("conducting_unit")
        else None
    )
    body = InspectionCreate.model_validate(
        {
            "kind": kind,
            "enterprise_id": ent.id,
            "conducting_unit_id": unit,
            "planned_for": day,
            "inspectors": inspectors,
            "campaign": v.get("campaign"),
        }
    )
    complete = CompleteAction.model_validate({"action": "complete", "outcome": _outcome(v)})
    s, settings = ctx.session, ctx.settings
    insp = await inspection_service.create(s, p, settings, body)
    try:
        insp = await inspection_service.transition(
            s, p, settings, insp, StartAction(action="start")
        )
    except AppError as exc:
        if is_enforcement(str(kind)) and exc.code == "invalid_transition":
            raise RowError(
                "inspectors",
                code="certified_inspectors_required",
                zh=exc.detail_zh or exc.title_zh,
                en=exc.detail_en or exc.title_en,
            ) from None
        raise
    insp = await inspection_service.transition(s, p, settings, insp, complete)
    insp.started_at = _at(ctx, day, 9)
    insp.completed_at = max(_at(ctx, done, 17), insp.started_at)
    await s.flush()
    await record_external(s, "inspection", insp.id, external)
    return "created"


async def _update(ctx: RowContext, v: dict[str, Any], inspection_id: str) -> str:
    insp = (
        await ctx.session.execute(
            select(Inspection)
            .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
            .where(Inspection.id == inspection_id, visible_inspections(ctx.p))
        )
    ).scalar_one_or_none()
    if insp is None:
        raise RowError(
            None,
            code="outside_scope",
            zh="该检查记录不在本单位管辖范围内",
            en="The inspection is outside your jurisdiction",
        )
    outcome = dict(insp.outcome or {})
    changes: dict[str, Any] = {}
    if v.get("campaign") is not None and v["campaign"] != insp.campaign:
        changes["campaign"] = v["campaign"]
    if v.get("summary") is not None and v["summary"] != outcome.get("note"):
        changes["summary"] = v["summary"]
    if not changes:
        return "unchanged"
    if insp.signatures or insp.status != "completed":
        raise RowError(
            "summary" if "summary" in changes else "campaign",
            code="inspection_locked",
            zh="检查记录已签名（或不是已完成状态），只能通过更正（amend）修改",
            en="The record is signed (or not completed): it changes only through amend",
        )
    if "campaign" in changes:
        insp.campaign = changes["campaign"]
    if "summary" in changes:
        insp.outcome = {**outcome, "note": changes["summary"]}
    ctx.session.add(_event(insp, ctx.p, "update", insp.status, details={"import": changes}))
    await ctx.session.flush()
    return "updated"
