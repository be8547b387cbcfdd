"""Names of rows that an answer references (a user's unit, an enterprise's department).

They are read in the statement that loads or checks the referencing row, and remembered for the
request's session, so shaping the answer sends no statement of its own (the statement-count
test in tests/test_references.py fails if one is sent). Names, not entities: an extra versioned
row in the unit of work would confuse the lost-race handler (``app/core/db.py``), which looks
for the one row of the stale table."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.i18n import unit_name
from app.models import Enterprise, OrgUnit
from app.schemas.common import NamedRef

_KEY = "reference_names"


def unit_ref(
    unit_id: str | None, name: str | None, name_en: str | None, english: bool
) -> NamedRef | None:
    """An org unit as an answer references it: ``{id, name}`` in the caller's language
    (``name_en`` under English when the unit has one), or None without a unit."""
    ref = unit_dict(unit_id, name, name_en, english)
    return None if ref is None else NamedRef.model_construct(**ref)


def unit_dict(
    unit_id: str | None, name: str | None, name_en: str | None, english: bool
) -> dict[str, str] | None:
    """``unit_ref`` as the plain dict of an answer shaped without models (``app.core.http``)."""
    if unit_id is None:
        return None
    return {"id": unit_id, "name": unit_name(name or "", name_en, english)}


def remember(
    session: AsyncSession, row_id: str | None, name: str | None, name_en: str | None = None
) -> None:
    """Keeps the names of ``row_id`` (ids are unique across tables) for this session."""
    if row_id is not None and name is not None:
        session.info.setdefault(_KEY, {})[row_id] = (name, name_en)


async def unit_names(session: AsyncSession, unit_id: str) -> tuple[str, str | None]:
    """An org unit's (name, name_en): remembered, or else read (one statement)."""
    known = session.info.get(_KEY, {}).get(unit_id)
    if known is None:
        row = (
            await session.execute(
                select(OrgUnit.name, OrgUnit.name_en).where(OrgUnit.id == unit_id)
            )
        ).one_or_none()
        known = (row.name, row.name_en) if row else ("", None)
    return known


async def enterprise_name(session: AsyncSession, enterprise_id: str) -> str:
    """An enterprise's name: remembered, or else read (one statement)."""
    known = session.info.get(_KEY, {}).get(enterprise_id)
    if known is None:
        name = (
            await session.execute(select(Enterprise.name).where(Enterprise.id == enterprise_id))
        ).scalar_one_or_none()
        return name or ""
    return known[0]
