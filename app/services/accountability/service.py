"""Accountability records (问责): writing one on its target's ladder, and reading them in scope.

A record is immutable once written: it is the record of a decision taken (a letter sent, a
notice circulated), and a later record, never an edit, says what followed. Its ``basis`` holds
the target's figures when it was written, computed as ``GET /api/v1/statistics/units`` does
(``app.services.unit_statistics``); the hazards it cites are checked and named, never changed.
The rules of the ladder and of who decides are in ``ladder``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.auth.scope import (
    accountable_units,
    unit_enterprises,
    visible_accountability,
    visible_enterprises,
)
from app.core import reads
from app.core.clock import local_date, start_of_local_day
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.core.ids import new_id
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import AccountabilityRecord, Attachment, Enterprise, Hazard, OrgUnit
from app.models.base import utcnow
from app.schemas.accountability import AccountabilityCreate
from app.schemas.common import ListParams
from app.services import attachments as attachment_service
from app.services.accountability import ladder
from app.services.refs import unit_dict
from app.services.unit_statistics import UNIT_COLUMNS, figures_by_scope, unit_info

R = AccountabilityRecord
SORTS = {"decided_at": R.decided_at}
DEFAULT_SORT = "-decided_at"
# Aliases: the scope subqueries select from ``org_units`` and ``enterprises`` and must never be
# correlated with the target joined for its name.
TargetUnit = aliased(OrgUnit, name="target_unit")
TargetEnterprise = aliased(Enterprise, name="target_enterprise")
_COLUMNS = (
    *R.__table__.c,
    TargetUnit.name.label("unit_name"),
    TargetUnit.name_en.label("unit_name_en"),
    TargetEnterprise.name.label("enterprise_name"),
)
_BASE = (
    select(*_COLUMNS)
    .select_from(R)
    .outerjoin(TargetUnit, TargetUnit.id == R.target_org_unit_id)
    .outerjoin(TargetEnterprise, TargetEnterprise.id == R.target_enterprise_id)
)
# A record has no lifecycle: its representation never changes, so its ETag never does.
VERSION = 1


@dataclass(frozen=True)
class RecordFilters:
    target_type: tuple[str, ...] | None = None
    target_org_unit_id: str | None = None
    target_enterprise_id: str | None = None
    rung: tuple[str, ...] | None = None
    decided_at_from: datetime | date | None = None
    decided_at_to: datetime | date | None = None


# ---- shaping -------------------------------------------------------------------------------------


def _target(row: Any, english: bool) -> dict[str, str]:
    if row["target_org_unit_id"] is not None:
        unit = unit_dict(row["target_org_unit_id"], row["unit_name"], row["unit_name_en"], english)
        assert unit is not None
        return {"type": "org_unit", **unit}
    return {"type": "enterprise", "id": row["target_enterprise_id"], "name": row["enterprise_name"]}


def summary(row: Any, english: bool) -> dict[str, Any]:
    """A list item (``AccountabilitySummary``) from a row of ``_COLUMNS`` (or the same names)."""
    basis = dict(row["basis"] or {})
    return {
        "id": row["id"],
        "target": _target(row, english),
        "rung": row["rung"],
        "year": row["ladder_year"],
        "sequence": row["ladder_seq"],
        "reason": row["reason"],
        "document_number": row["document_number"],
        "basis": {
            "as_of": basis.get("as_of"),
            **{k: basis.get(k, 0) for k in _FIGURES},
            "note": basis.get("note"),
        },
        "hazard_ids": [h["id"] for h in row["hazards"] or ()],
        "attachment_ids": list(row["attachment_ids"] or ()),
        "decided_by": {"id": row["decided_by_id"], "name": row["decided_by_name"]},
        "decided_at": row["decided_at"],
        "created_at": row["created_at"],
    }


_FIGURES = (
    "found",
    "closed",
    "open",
    "overdue",
    "major_open",
    "major_overdue",
    "rectification_rate",
    "overdue_rate",
)


def _detail(
    row: Any, files: list[Any], p: Principal, settings: Settings, english: bool
) -> dict[str, Any]:
    out = summary(row, english)
    order = {a: i for i, a in enumerate(out["attachment_ids"])}
    files = sorted(files, key=lambda a: order.get(a.id, len(order)))
    out["hazards"] = [dict(h) for h in row["hazards"] or ()]
    out["attachments"] = [attachment_service.to_out(a, p, settings) for a in files]
    return out


# ---- reads -----------------------------------------------------------------------------------------


def _lower(value: datetime | date, tz: str) -> datetime:
    return value if isinstance(value, datetime) else start_of_local_day(value, tz)


def _conditions(p: Principal, f: RecordFilters, tz: str) -> list[ColumnElement[bool]]:
    out = [visible_accountability(p)]
    if f.target_type:
        kinds = set(f.target_type)
        if kinds == {"org_unit"}:
            out.append(R.target_org_unit_id.is_not(None))
        elif kinds == {"enterprise"}:
            out.append(R.target_enterprise_id.is_not(None))
    if f.target_org_unit_id:
        out.append(R.target_org_unit_id == f.target_org_unit_id)
    if f.target_enterprise_id:
        out.append(R.target_enterprise_id == f.target_enterprise_id)
    if f.rung:
        out.append(R.rung.in_(f.rung))
    if f.decided_at_from is not None:
        out.append(R.decided_at >= _lower(f.decided_at_from, tz))
    if f.decided_at_to is not None:
        end = f.decided_at_to
        if isinstance(end, datetime):
            out.append(R.decided_at <= end)
        else:  # the whole local day (dates come through app.schemas.dates: years to 2999)
            out.append(R.decided_at < start_of_local_day(end + timedelta(days=1), tz))
    return out


async def list_records(
    session: AsyncSession, p: Principal, settings: Settings, params: ListParams, f: RecordFilters
) -> PageResult:
    """One statement a page: the records in scope with their targets' names."""
    return await fetch_page(
        session,
        _BASE.where(*_conditions(p, f, settings.timezone)),
        sort=parse_sort(params.sort, SORTS, DEFAULT_SORT),
        id_column=R.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


async def read_detail(
    session: AsyncSession, p: Principal, settings: Settings, record_id: str, english: bool
) -> dict[str, Any]:
    """The record in scope with its target's name (one statement) and its files (a second);
    404 outside the caller's scope exactly as for a missing id."""
    found = await reads.rows(session, _BASE.where(R.id == record_id, visible_accountability(p)))
    if not found:
        raise NotFound("问责记录不存在", "Accountability record not found")
    files = await reads.rows(
        session,
        select(*Attachment.__table__.c)
        .where(Attachment.accountability_id == record_id)
        .order_by(Attachment.created_at, Attachment.id),
    )
    return _detail(found[0], files, p, settings, english)


# ---- writes ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    type: str
    id: str
    name: str
    name_en: str | None
    # The target's enterprises (a filter over ``Enterprise``): the unit's scope, or itself.
    scope: ColumnElement[bool]


async def _lock_target(session: AsyncSession, p: Principal, body: AccountabilityCreate) -> _Target:
    """The target, row-locked (PostgreSQL) until the commit, so that records about one target
    are written one after the other and each is checked against the one before; 422 when it
    does not exist or lies outside what the caller sees."""
    unit_id, enterprise_id = body.target.org_unit_id, body.target.enterprise_id
    if unit_id is not None:
        rows = await reads.rows(
            session,
            select(*UNIT_COLUMNS)
            .where(OrgUnit.id == unit_id, accountable_units(p))
            .with_for_update(),
        )
        if not rows:
            raise ValidationFailed.field(
                "target.org_unit_id",
                "单位不存在，或不是本县的乡镇/街道或行业部门",
                "Unknown org unit: not a town or bureau of your county",
                code="unknown_org_unit",
            )
        u = rows[0]
        info = unit_info(u)
        return _Target("org_unit", u["id"], u["name"], u["name_en"], unit_enterprises(info))
    assert enterprise_id is not None
    rows = await reads.rows(
        session,
        select(Enterprise.id, Enterprise.name)
        .where(Enterprise.id == enterprise_id, visible_enterprises(p))
        .with_for_update(),
    )
    if not rows:
        raise ValidationFailed.field(
            "target.enterprise_id", "企业不存在", "Unknown enterprise", code="unknown_enterprise"
        )
    e = rows[0]
    return _Target("enterprise", e["id"], e["name"], None, Enterprise.id == e["id"])


def _column(target: _Target) -> Any:
    return R.target_org_unit_id if target.type == "org_unit" else R.target_enterprise_id


async def _cited_hazards(
    session: AsyncSession, p: Principal, target: _Target, hazard_ids: list[str]
) -> list[dict[str, str]]:
    """The hazards cited, in the order given: each must be in the caller's scope and the
    target's (the unit's scope, or the enterprise's own), else 422 ``unknown_hazard``."""
    unique = list(dict.fromkeys(hazard_ids))
    if not unique:
        return []
    rows = await reads.rows(
        session,
        select(Hazard.id, Hazard.number, Hazard.title)
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .where(Hazard.id.in_(unique), visible_enterprises(p), target.scope),
    )
    by_id = {r["id"]: r for r in rows}
    missing = [h for h in unique if h not in by_id]
    if missing:
        raise ValidationFailed.field(
            "hazard_ids",
            f"隐患不存在、不在管辖范围内或不属于问责对象：{', '.join(missing)}",
            f"Hazards unknown, outside your scope or not the target's: {', '.join(missing)}",
            code="unknown_hazard",
        )
    return [{"id": h, "number": by_id[h]["number"], "title": by_id[h]["title"]} for h in unique]


async def create(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    body: AccountabilityCreate,
    english: bool,
) -> dict[str, Any]:
    """Writes the next record of the target's ladder and answers its representation. 403 when
    the caller may not decide about such targets, 422 for an unknown target, hazard or file,
    409 ``rung_out_of_order`` off the ladder."""
    target_type = "org_unit" if body.target.org_unit_id is not None else "enterprise"
    if not ladder.may_decide(p, target_type):
        raise Forbidden(
            "问责由县级单位作出；乡镇/街道可对辖区内企业问责；行业部门、检查和只读人员只能查看",
            "Accountability is decided by the county's managers and officers; a town's may hold "
            "enterprises in its scope to account; bureaus, inspectors and viewers only read",
        )
    target = await _lock_target(session, p, body)
    now = utcnow()
    today = local_date(now, settings.timezone)
    column = _column(target)
    last = await reads.rows(
        session,
        select(R.rung, R.ladder_seq)
        .where(column == target.id, R.ladder_year == today.year)
        .order_by(R.ladder_seq.desc())
        .limit(1),
    )
    allowed = ladder.allowed_after(last[0]["rung"] if last else None)
    if body.rung not in allowed:
        choices = ", ".join(allowed)
        raise Conflict(
            f"问责须逐级进行（函告、通报、约谈、曝光）：该对象本年度的下一次问责只能是 {choices}",
            "Accountability climbs one rung at a time (notice_letter, circulated, summoned, "
            f"exposed): this target's next record this year may be {choices}",
            code="rung_out_of_order",
        )
    hazards = await _cited_hazards(session, p, target, body.hazard_ids)
    figures = (await figures_by_scope(session, p, settings, [(target.id, target.scope)], today))[
        target.id
    ]
    record = R(
        id=new_id(),
        target_org_unit_id=target.id if target.type == "org_unit" else None,
        target_enterprise_id=target.id if target.type == "enterprise" else None,
        rung=body.rung,
        ladder_year=today.year,
        ladder_seq=(last[0]["ladder_seq"] + 1) if last else 1,
        reason=body.reason,
        document_number=body.document_number,
        basis={
            "as_of": today.isoformat(),
            **figures.as_dict(),
            "note": body.basis.note if body.basis else None,
        },
        hazards=hazards,
        attachment_ids=list(dict.fromkeys(body.attachment_ids)),
        decided_by_kind=p.kind,
        decided_by_id=p.id,
        decided_by_name=p.display_name or p.name,
        decided_at=now,
        created_at=now,
    )
    session.add(record)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Only the ladder's unique places can collide: a record for this target was written
        # at the same moment (SQLite, or the lock not taken). Nothing was written; retry.
        raise Conflict(
            "该对象同时有另一条问责记录写入，请刷新后重试",
            "Another record for this target was written at the same time; fetch and retry",
            code="conflict",
        ) from exc
    files = await attachment_service.bind_to_accountability(
        session, p, record.id, record.attachment_ids
    )
    row = {
        **{c.key: getattr(record, c.key) for c in R.__table__.c},
        "unit_name": target.name if target.type == "org_unit" else None,
        "unit_name_en": target.name_en,
        "enterprise_name": target.name if target.type == "enterprise" else None,
    }
    return _detail(row, files, p, settings, english)
