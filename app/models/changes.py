"""The change feed (issue 17): one row per object changed by a committed transaction.

``seq`` orders the rows of one database; on PostgreSQL ``xid`` is the writing transaction's id
(``pg_current_xact_id()``, the column's default), and the feed reads in ``(xid, seq)`` order
only the rows of transactions older than every one still running (docs/decisions.md, "Change
feed"). On SQLite writers are serialised, ``xid`` is 0 and ``seq`` alone is the order.

A row names the object (``type``, ``object_id``) and the scope it had after the change (the
enterprise columns the scope rule compares: the object's own for an enterprise, its
enterprise's for a hazard or an inspection, with an inspection's kind and start), and, when the change moved it, the scope it had before
(``prev_*``): who saw it before and who sees it now are both told. The representation is not
kept: the feed renders the object's current one for each reader when read.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime

# SQLite numbers a row only through an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
SEQ = BigInteger().with_variant(Integer(), "sqlite")


class Change(Base):
    __tablename__ = "changes"

    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=True)
    xid: Mapped[int] = mapped_column(BigInteger, server_default="0")
    type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str] = mapped_column(String(36))
    op: Mapped[str] = mapped_column(String(8), doc="upsert | delete (the object is gone)")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    enterprise_id: Mapped[str | None] = mapped_column(String(36))
    region_code: Mapped[str | None] = mapped_column(String(12))
    sector: Mapped[str | None] = mapped_column(String(40))
    department_id: Mapped[str | None] = mapped_column(String(36))
    prev_enterprise_id: Mapped[str | None] = mapped_column(String(36))
    prev_region_code: Mapped[str | None] = mapped_column(String(12))
    prev_sector: Mapped[str | None] = mapped_column(String(40))
    prev_department_id: Mapped[str | None] = mapped_column(String(36))
    # What an inspection's rule reads besides its enterprise: an enterprise sees its inspections
    # once started (or its own self-inspections); the others are left null.
    kind: Mapped[str | None] = mapped_column(String(24))
    # A public report's county (its rule: the county's staff, and the units it is routed to).
    county_code: Mapped[str | None] = mapped_column(String(6))
    # A task's: its list's status and issuer, its lead and splitting units.
    list_status: Mapped[str | None] = mapped_column(String(16))
    issuing_unit_id: Mapped[str | None] = mapped_column(String(36))
    lead_unit_id: Mapped[str | None] = mapped_column(String(36))
    split_by_unit_id: Mapped[str | None] = mapped_column(String(36))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_changes_order", "xid", "seq"),
        Index("ix_changes_changed_at", "changed_at"),
    )


class ChangeHorizon(Base):
    """One row: the last ``(xid, seq)`` deleted by retention. A cursor before it lost changes
    (410 ``cursor_expired``); a read without a cursor starts after it."""

    __tablename__ = "change_horizon"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    xid: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(BigInteger)
