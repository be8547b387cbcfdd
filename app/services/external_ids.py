"""The ids other systems give our records (``external_ids: {"system": "id"}``, issue 16), as the
representations of enterprises, hazards and inspections show them and their lists filter on.

- ``gathered``: a correlated scalar subquery (app/core/json_agg.py) aggregating the record's
  rows of ``external_ids`` into one JSON object, added to the record's own statement: a list
  page or a detail stays one statement. It reads the unique index on
  ``(object_type, object_id, system)``.
- ``out``: that column as the dict sent (``{}`` when the record has none).
- ``named``: the list filter ``external_id=<system>:<id>``, one lookup on the unique index on
  ``(object_type, system, external_id)``.

- ``object_of``, ``held_by``, ``record``: one system's id, for the upserts by external id
  (app/services/upserts.py).

Exports show them as ``system:id; system2:id2`` (the column kind ``pairs`` of
app/services/exports.py). Written by imports (app/services/imports/rows.py ``record_external``)
and by ``PUT /…/by-external-id/{system}/{external_id}`` (``record``).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import ColumnElement, Label, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import json_agg
from app.models import ExternalId
from app.models.base import utcnow

ObjectType = Literal["enterprise", "hazard", "inspection"]
COLUMN = "external_ids_json"
# A system as an import's header names it (``external_ids.<system>``), then ``:`` and the id.
FILTER_PATTERN = r"^[A-Za-z0-9_.-]{1,32}:.{1,100}$"
# The same two parts as path segments of the upserts (an id: no control characters).
SYSTEM_PATTERN = r"^[A-Za-z0-9_.-]{1,32}$"
ID_PATTERN = r"^[^\x00-\x1f\x7f]{1,100}$"
FILTER_DESCRIPTION = (
    "`<system>:<id>`: the record another system knows by this id (its `external_ids`)"
)


def gathered(object_type: ObjectType, object_id: ColumnElement[Any]) -> Label[str]:
    """The record's external ids as a JSON object (text), labelled ``external_ids_json``;
    ``object_id`` is the record's id column (correlated) or a value."""
    return (
        select(json_agg.json_pairs(ExternalId.system, ExternalId.external_id))
        .where(ExternalId.object_type == object_type, ExternalId.object_id == object_id)
        .correlate_except(ExternalId)
        .scalar_subquery()
        .label(COLUMN)
    )


def out(text: str | None) -> dict[str, str]:
    """``external_ids`` of a representation: by system, ``{}`` when none."""
    return json_agg.parse_object(text)


def named(
    object_type: ObjectType, object_id: ColumnElement[Any], value: str
) -> ColumnElement[bool]:
    """The records another system knows by ``<system>:<id>`` (at most one, the ids being unique
    per system)."""
    system, _, external_id = value.partition(":")
    return object_id.in_(
        select(ExternalId.object_id).where(
            ExternalId.object_type == object_type,
            ExternalId.system == system,
            ExternalId.external_id == external_id,
        )
    )


async def objects_named(
    session: AsyncSession, object_type: str, external: dict[str, str]
) -> set[str]:
    """The records of ``object_type`` that any of ``external`` (system → id) names: one
    statement (each id is unique per system, so at most one record per pair)."""
    if not external:
        return set()
    found = await session.execute(
        select(ExternalId.object_id).where(
            ExternalId.object_type == object_type,
            or_(
                *(
                    (ExternalId.system == system) & (ExternalId.external_id == external_id)
                    for system, external_id in external.items()
                )
            ),
        )
    )
    return set(found.scalars())


async def object_of(
    session: AsyncSession, object_type: ObjectType, system: str, external_id: str
) -> str | None:
    """The record ``system`` knows as ``external_id`` (unique per system), or None."""
    found = await objects_named(session, object_type, {system: external_id})
    return found.pop() if found else None


async def held_by(
    session: AsyncSession, object_type: ObjectType, object_id: str, system: str
) -> str | None:
    """The id ``system`` gives the record (one per system), or None."""
    found = await session.execute(
        select(ExternalId.external_id).where(
            ExternalId.object_type == object_type,
            ExternalId.object_id == object_id,
            ExternalId.system == system,
        )
    )
    return found.scalar_one_or_none()


async def record(
    session: AsyncSession, object_type: ObjectType, object_id: str, system: str, external_id: str
) -> None:
    """Writes the id and flushes: the unique constraints decide between concurrent writers (the
    caller catches the loser's ``IntegrityError``)."""
    session.add(
        ExternalId(
            object_type=object_type,
            system=system,
            external_id=external_id,
            object_id=object_id,
            created_at=utcnow(),
        )
    )
    await session.flush()
