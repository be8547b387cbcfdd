"""Upserts by external id (issue 17): ``PUT /api/v1/{enterprises|hazards}/by-external-id/
{system}/{external_id}`` creates the record another system knows by that id, or brings it to the
body, so a provincial client pushes its records without duplicates.

- The body is the create body (the same schema, rules and scope as the POST). It is the record as
  the sender knows it: an optional field omitted is cleared, as a create would leave it (except
  an enterprise's ``risk_color`` while its risk points decide it: omitted, it is kept).
- The same PUT again changes nothing: only fields that differ are written, so a repeat writes no
  row, bumps no version (same ``ETag``) and answers 200.
- Concurrent PUTs of one id: the unique ``(object_type, system, external_id)`` (and an
  enterprise's unique credit code) decides. Each attempt runs in a savepoint; the loser's
  ``IntegrityError`` rolls it back and the PUT runs again, finding the winner's record, so it
  becomes an update (of nothing). A concurrent update of the same record (``StaleDataError``)
  is retried the same way unless the caller sent ``If-Match``.
- An enterprise whose credit code the body names but that has no id of this system yet is that
  record: the id is bound to it and it is updated (the credit code is the natural key, as
  imports treat it). Had it another id of this system: 409 ``external_id_mismatch``.
- A hazard is created, or its descriptive fields (``title``, ``description``, ``location``) are
  changed; its lifecycle moves only through transitions. A field of the body the upsert may not
  change (``level``: the ``reclassify`` transition; ``deadline``: ``extend``; ``enterprise_id``,
  ``category``, ``source``, ``found_at``, ``judgment``, ``risk_point_id``, discovery
  ``attachment_ids``: fixed at registration) must be omitted or equal the hazard's, else 422
  ``field_not_writable`` naming each (never silently ignored). ``deadline_reason`` justifies the
  registered deadline and is read only when a hazard is created.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from app.auth.deps import ensure
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.scope import visible_enterprises
from app.core.config import Settings
from app.core.db import write_lock_first
from app.core.errors import Conflict, ValidationFailed
from app.core.http import check_if_match_header
from app.models import Attachment, Enterprise, ExternalId, Hazard
from app.schemas.enterprises import EnterpriseCreate, EnterpriseUpdate
from app.schemas.hazards import HazardCreate
from app.services import enterprises as enterprise_service
from app.services import external_ids, judgment_standards
from app.services.hazards import service as hazard_service

# A PUT meets at most a few concurrent writers of the same id; each retry finds their record.
ATTEMPTS = 5
HAZARD_TEXT = ("title", "description", "location")


class _Raced(Exception):
    """Another writer of the same record committed first: run the PUT again."""


async def _attempts(session: AsyncSession, once: Any, *, if_match: str | None) -> Any:
    """``once()`` (in a savepoint), again after losing a race (never a duplicate, never a
    500)."""
    await write_lock_first(session, ExternalId.__table__)
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        try:
            return await once()
        except _Raced:
            if last:
                break
        except StaleDataError:
            if if_match is not None or last:
                raise  # the session dependency answers 412 (If-Match) or 409 conflict
    raise Conflict(
        "该记录正被同时写入，请稍后重试",
        "The record is being written at the same time; retry",
        code="conflict",
    )


# ---- enterprises --------------------------------------------------------------------------


async def upsert_enterprise(
    session: AsyncSession,
    p: Principal,
    system: str,
    external_id: str,
    body: EnterpriseCreate,
    if_match: str | None,
) -> tuple[Enterprise, bool]:
    """The enterprise ``system`` knows as ``external_id``, brought to ``body``; and whether it
    was created."""

    async def once() -> tuple[Enterprise, bool]:
        async with session.begin_nested():
            return await _enterprise_once(session, p, system, external_id, body, if_match)

    return await _attempts(session, once, if_match=if_match)


async def _enterprise_once(
    session: AsyncSession,
    p: Principal,
    system: str,
    external_id: str,
    body: EnterpriseCreate,
    if_match: str | None,
) -> tuple[Enterprise, bool]:
    known = await external_ids.object_of(session, "enterprise", system, external_id)
    if known is not None:
        ent = await enterprise_service.get_visible(session, p, known)  # out of scope: 404
        check_if_match_header(if_match, ent.version)
        ensure(p, Permission.enterprises_update)
        await _bring_enterprise(session, p, ent, body)
        return ent, False
    named = (
        await session.execute(select(Enterprise).where(Enterprise.credit_code == body.credit_code))
    ).scalar_one_or_none()
    if named is not None:
        return await _bind_enterprise(session, p, named, system, external_id, body, if_match), False
    check_if_match_header(if_match, None)
    ensure(p, Permission.enterprises_create)
    try:
        ent = await enterprise_service.create_enterprise(session, p, body)
    except Conflict as exc:
        if exc.code == "duplicate_credit_code":  # registered at this moment by another writer
            raise _Raced from exc
        raise
    await _record(session, "enterprise", ent.id, system, external_id)
    return ent, True


async def _bind_enterprise(
    session: AsyncSession,
    p: Principal,
    named: Enterprise,
    system: str,
    external_id: str,
    body: EnterpriseCreate,
    if_match: str | None,
) -> Enterprise:
    """The body's credit code is a registered enterprise that ``system`` has not named yet."""
    if not await _enterprise_visible(session, p, named.id):
        # As a POST of that credit code answers: nothing more is revealed of it.
        raise Conflict(
            "该统一社会信用代码已登记",
            "An enterprise with this credit code already exists",
            code="duplicate_credit_code",
        )
    held = await external_ids.held_by(session, "enterprise", named.id, system)
    if held == external_id:  # bound by another writer since this attempt looked the id up
        raise _Raced
    if held is not None:
        raise Conflict(
            f"该统一社会信用代码的企业在系统 {system} 中已有另一外部编号",
            f"The enterprise with this credit code has another id in {system}",
            code="external_id_mismatch",
        )
    check_if_match_header(if_match, named.version)
    ensure(p, Permission.enterprises_update)
    await _bring_enterprise(session, p, named, body)
    await _record(session, "enterprise", named.id, system, external_id)
    return named


async def _enterprise_visible(session: AsyncSession, p: Principal, enterprise_id: str) -> bool:
    found = await session.execute(
        select(Enterprise.id).where(Enterprise.id == enterprise_id, visible_enterprises(p))
    )
    return found.first() is not None


async def _bring_enterprise(
    session: AsyncSession, p: Principal, ent: Enterprise, body: EnterpriseCreate
) -> None:
    """Writes the fields of ``body`` that differ, through the PATCH's checks; none: no write."""
    changes = {
        key: value
        for key, value in body.model_dump().items()
        if any(
            getattr(ent, column) != v
            for column, v in enterprise_service.column_values({key: value}).items()
        )
    }
    if (
        "risk_color" in changes
        and "risk_color" not in body.model_fields_set
        and await enterprise_service.has_risk_points(session, ent.id)
    ):
        del changes["risk_color"]  # derived from its risk points, and not sent: kept
    if changes:
        update = EnterpriseUpdate.model_validate(changes)
        await enterprise_service.update_enterprise(session, p, ent, update)


async def _record(
    session: AsyncSession,
    object_type: external_ids.ObjectType,
    object_id: str,
    system: str,
    external_id: str,
) -> None:
    try:
        await external_ids.record(session, object_type, object_id, system, external_id)
    except IntegrityError as exc:  # the same id recorded at this moment by another writer
        raise _Raced from exc


# ---- hazards ------------------------------------------------------------------------------


async def upsert_hazard(
    session: AsyncSession,
    p: Principal,
    settings: Settings,
    system: str,
    external_id: str,
    body: HazardCreate,
    if_match: str | None,
) -> tuple[Hazard, bool]:
    """The hazard ``system`` knows as ``external_id``: registered from ``body``, or its
    descriptive fields brought to it; and whether it was created."""

    async def once() -> tuple[Hazard, bool]:
        async with session.begin_nested():
            known = await external_ids.object_of(session, "hazard", system, external_id)
            if known is not None:
                hazard = await hazard_service.get_visible(session, p, known)  # out of scope: 404
                check_if_match_header(if_match, hazard.version)
                await _bring_hazard(session, hazard, body)
                return hazard, False
            check_if_match_header(if_match, None)
            hazard = await hazard_service.create_hazard(session, p, settings, body)
            await _record(session, "hazard", hazard.id, system, external_id)
            return hazard, True

    return await _attempts(session, once, if_match=if_match)


async def _bring_hazard(session: AsyncSession, hazard: Hazard, body: HazardCreate) -> None:
    refused = await _fixed_fields_changed(session, hazard, body)
    if refused:
        raise ValidationFailed(
            "隐患登记后只能修改描述信息（标题、描述、位置）；等级、期限等通过流转操作变更",
            "Only a hazard's title, description and location change by PUT; its level, deadline "
            "and status change through transitions",
            code="field_not_writable",
            errors=[
                {"field": f, "message_zh": zh, "message_en": en} for f, (zh, en) in refused.items()
            ],
        )
    sent = body.model_dump(include=set(HAZARD_TEXT))
    changes = {k: v for k, v in sent.items() if getattr(hazard, k) != v}
    if changes:
        for key, value in changes.items():
            setattr(hazard, key, value)
        await session.flush()


_FIXED = ("registered with the hazard", "登记后不可更改")
_BY_TRANSITION = {
    "level": ("use the reclassify transition", "请通过“重新定级”（reclassify）操作变更"),
    "deadline": ("use the extend transition", "请通过“延期”（extend）操作变更"),
}


async def _fixed_fields_changed(
    session: AsyncSession, hazard: Hazard, body: HazardCreate
) -> dict[str, tuple[str, str]]:
    """The fields sent that differ from the hazard but only a transition or nothing may change,
    each with its message (zh, en)."""
    sent = body.model_fields_set
    differs: list[str] = [
        f
        for f in ("enterprise_id", "level", "category", "source", "deadline", "risk_point_id")
        if f in sent and getattr(body, f) != getattr(hazard, f)
    ]
    if "found_at" in sent and body.found_at is not None and body.found_at != hazard.found_at:
        differs.append("found_at")
    if "judgment" in sent and _judgment_of(body) != (
        hazard.judgment_standard,
        hazard.judgment_clause,
        hazard.judgment_text,
    ):
        differs.append("judgment")
    if body.attachment_ids and not await _all_discovery_files(session, hazard, body):
        differs.append("attachment_ids")
    out: dict[str, tuple[str, str]] = {}
    for field in differs:
        en, zh = _BY_TRANSITION.get(field, _FIXED)
        out[field] = (f"不可通过 PUT 修改：{zh}", f"Not writable by PUT: {en}")
    return out


def _judgment_of(body: HazardCreate) -> tuple[str | None, str | None, str | None]:
    j = body.judgment
    if j is None:
        return None, None, None
    code = judgment_standards.normalise_clause(j.clause)
    found = judgment_standards.clause(j.standard, code)  # stored by its code, as registered
    return j.standard, found.code if found else code, j.text


async def _all_discovery_files(session: AsyncSession, hazard: Hazard, body: HazardCreate) -> bool:
    """The files cited are the hazard's discovery photos already (bound at registration)."""
    ids = set(body.attachment_ids)
    found = await session.execute(
        select(func.count(Attachment.id)).where(
            Attachment.id.in_(ids),
            Attachment.hazard_id == hazard.id,
            Attachment.phase == "discovery",
        )
    )
    return found.scalar_one() == len(ids)
