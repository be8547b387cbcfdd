"""The accountability ladder (问责: 函告 → 通报 → 约谈 → 曝光) and who may climb it.

- A target's ladder restarts every local calendar year (Asia/Shanghai): its first record of a
  year is ``notice_letter``; each next record repeats the last rung or takes the next one; after
  ``exposed`` only ``exposed`` again. Anything else (a skipped rung, a step back) is 409
  ``rung_out_of_order``.
- Who decides: admins and the managers and officers of the county office, about any town,
  bureau or enterprise of the county; a town's managers and officers about the enterprises in
  its scope (not about units); bureaus, inspectors, viewers, enterprises and machine clients
  only read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.core import reads
from app.models import AccountabilityRecord
from app.services.catalog_data import ACCOUNTABILITY_RUNGS

R = AccountabilityRecord
RUNGS: tuple[str, ...] = tuple(e.code for e in ACCOUNTABILITY_RUNGS)


def allowed_after(last: str | None) -> list[str]:
    """The rungs a target's next record may take, its last record of the year being ``last``."""
    if last is None:
        return [RUNGS[0]]
    i = RUNGS.index(last)
    return list(RUNGS[i : i + 2])


def may_decide(p: Principal, target_type: str) -> bool:
    """Whether ``p`` may write records about targets of this type (``org_unit`` or
    ``enterprise``) at all; which targets is its scope's question."""
    unit = p.unit
    if unit is None or not p.can(Permission.accountability_write):
        return False
    if p.is_admin or unit.kind == "county":
        return True
    return unit.kind == "town" and target_type == "enterprise"


def allowed_rungs(p: Principal, target_type: str, latest: Any | None, year: int) -> list[str]:
    """What ``p`` may record for a target now: the ladder's next rungs (this year's), or none
    when ``p`` may not decide about such targets. ``latest`` is the target's latest record of
    any year (``ladder_year``, ``rung``), or None."""
    if not may_decide(p, target_type):
        return []
    same_year = latest is not None and latest["ladder_year"] == year
    return allowed_after(latest["rung"] if same_year else None)


async def latest_for_units(session: reads.Reader, unit_ids: Sequence[str]) -> dict[str, Any]:
    """The latest record (of any year) about each of these org units, in one statement."""
    if not unit_ids:
        return {}
    place = (
        func.row_number()
        .over(
            partition_by=R.target_org_unit_id,
            order_by=(R.ladder_year.desc(), R.ladder_seq.desc()),
        )
        .label("place")
    )
    ranked = (
        select(
            R.target_org_unit_id.label("unit_id"),
            R.id,
            R.rung,
            R.ladder_year,
            R.decided_at,
            place,
        )
        .where(R.target_org_unit_id.in_(list(unit_ids)))
        .subquery()
    )
    rows = await reads.rows(session, select(ranked).where(ranked.c.place == 1))
    return {row["unit_id"]: row for row in rows}
