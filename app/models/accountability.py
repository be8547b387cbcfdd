from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime


class AccountabilityRecord(IdMixin, Base):
    """One action of the accountability ladder (问责: 函告 → 通报 → 约谈 → 曝光) against a town,
    a bureau or an enterprise. Immutable once written (services/accountability.py).

    ``ladder_year`` and ``ladder_seq`` place it on its target's ladder: the ladder restarts each
    local calendar year, and the unique (target, year, seq) pairs make two concurrent records for
    one target unable to both take the same place (the second is refused, never out of order).
    """

    __tablename__ = "accountability_records"

    target_org_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"))
    target_enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"))
    rung: Mapped[str] = mapped_column(String(16))
    ladder_year: Mapped[int] = mapped_column(Integer)
    ladder_seq: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    # The official document number of the letter or notice (文号), as the county issued it.
    document_number: Mapped[str | None] = mapped_column(String(100))
    # The figures at the time (open, overdue, rates ...) and the decider's free note.
    basis: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The hazards cited, as they were: [{id, number, title}] (a hazard's number and title never
    # change); they are not touched by the record.
    hazards: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    attachment_ids: Mapped[list[str]] = mapped_column(JSON)
    decided_by_kind: Mapped[str] = mapped_column(String(8))
    decided_by_id: Mapped[str] = mapped_column(String(36))
    decided_by_name: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(
            "(target_org_unit_id IS NULL) <> (target_enterprise_id IS NULL)",
            name="exactly_one_target",
        ),
        # NULLs are distinct in a unique constraint on both databases: each constraint binds
        # only the records of its kind of target.
        UniqueConstraint(
            "target_org_unit_id",
            "ladder_year",
            "ladder_seq",
            name="uq_accountability_records_org_unit_ladder",
        ),
        UniqueConstraint(
            "target_enterprise_id",
            "ladder_year",
            "ladder_seq",
            name="uq_accountability_records_enterprise_ladder",
        ),
        Index("ix_accountability_records_decided_at_id", "decided_at", "id"),
    )
