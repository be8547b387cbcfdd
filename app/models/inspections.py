"""Inspections and enforcement (检查/执法): the record, its events and decisions, the checklists
it follows, the double-random draws that plan it, and what it decides about the enterprise
(the blacklist). Lifecycle rules live in services/inspections/workflow."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, EventMixin, IdMixin, TimestampMixin, UTCDateTime


class Checklist(IdMixin, TimestampMixin, Base):
    """One version of a named list of check items. A version used by a signed inspection never
    changes (``locked``): editing it makes the next version, same ``code``.

    ``items``: ``[{code, text, basis, major_if_failed, judgment_standard, judgment_clause}]``.
    ``county_code`` null: a starter checklist shipped for every county."""

    __tablename__ = "checklists"

    code: Mapped[str] = mapped_column(String(64))
    version_no: Mapped[int] = mapped_column(Integer, default=1)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(40))
    county_code: Mapped[str | None] = mapped_column(String(6))
    items: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(48))
    # Set on the checklist generated from a risk point's control measures
    # (app/services/risks/checklist.py): read in the point's scope, never edited here.
    risk_point_id: Mapped[str | None] = mapped_column(ForeignKey("risk_points.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("code", "version_no", name="uq_checklists_code_version_no"),)


class Draw(IdMixin, TimestampMixin, Base):
    """A double-random draw (双随机): its inputs, the pools in canonical order, and the picks.

    ``criteria``: the enterprise pool's filters, the sample size or rate (exact decimal text),
    ``checklist_id``, ``campaign``, ``drawn_by {kind, id, name}``, and what 回避 read at the
    draw: ``enterprise_region_codes {id: code}``, ``inspector_town_codes {id: town code|null}``.
    ``enterprise_pool``/``inspector_pool``: ids in canonical order. ``picks``, in rank order:
    ``[{enterprise_id, inspector_ids, inspection_id}]``. The algorithm:
    app/services/draws/algorithm.py."""

    __tablename__ = "draws"

    county_code: Mapped[str] = mapped_column(String(6))
    conducting_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    seed: Mapped[str] = mapped_column(String(200))
    algorithm: Mapped[str] = mapped_column(String(64))
    algorithm_version: Mapped[int] = mapped_column(Integer)
    criteria: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    enterprise_pool: Mapped[list[str]] = mapped_column(JSON, default=list)
    inspector_pool: Mapped[list[str]] = mapped_column(JSON, default=list)
    picks: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    planned_for: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(48))


class Inspection(IdMixin, TimestampMixin, Base):
    """One inspection or enforcement visit, from plan to the signed record (谁检查、谁签名、谁负责).

    ``inspectors``/``experts``: user ids. ``results``: ``[{item_code, result, note,
    attachment_ids}]``. ``outcome``: ``{decisions: [...], note}`` as the API shows it (fines in
    fen inside); the decisions are also rows of ``inspection_decisions`` for the figures.
    ``signatures``: ``[{user_id, name, enforcement_cert_no, signed_at}]``. ``signed_snapshot``:
    the record as signed, which never changes; ``amendments``: ``[{reason, author_id,
    author_name, at, changes: {field: {from, to}}}]``. ``rectification_checks`` (a follow-up):
    ``[{hazard_id, rectified, note}]``."""

    __tablename__ = "inspections"

    number: Mapped[str] = mapped_column(String(20))
    county_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(24))
    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    conducting_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    campaign: Mapped[str | None] = mapped_column(String(200))
    planned_for: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    inspectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    experts: Mapped[list[str]] = mapped_column(JSON, default=list)
    checklist_id: Mapped[str | None] = mapped_column(ForeignKey("checklists.id"))
    results: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    outcome: Mapped[dict[str, object] | None] = mapped_column(JSON)
    signatures: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    signed_snapshot: Mapped[dict[str, object] | None] = mapped_column(JSON)
    amendments: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    follows_inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"))
    rectification_checks: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    draw_id: Mapped[str | None] = mapped_column(ForeignKey("draws.id"), index=True)
    # The findings in the order added: ``[{hazard_id, item_code, exempt}]`` (the hazards point
    # back through ``hazards.inspection_id``); ``exempt``: an already-known hazard linked.
    findings: Mapped[list[dict[str, object]]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    # Denormalised for the list's filters and the figures: findings (hazards created or linked),
    # of them major, of them exempt (依法不予处罚: the enterprise's own, on schedule), and fines.
    findings_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    major_findings_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    exempt_findings_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    entity_fine_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    person_fine_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(48))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("county_code", "number", name="uq_inspections_county_code_number"),
        Index("ix_inspections_planned_for_id", "planned_for", "id"),
        Index("ix_inspections_completed_at_id", "completed_at", "id"),
        Index("ix_inspections_updated_at_id", "updated_at", "id"),
        Index("ix_inspections_enterprise_id_status", "enterprise_id", "status"),
        Index("ix_inspections_kind_status", "kind", "status"),
    )


class InspectionCounter(Base):
    """Per county and year, the last inspection number handed out (J2026-000123)."""

    __tablename__ = "inspection_counters"

    county_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class InspectionAssignee(Base):
    """Who an inspection lists (``role`` inspector or expert): the scope of experts and of
    inspectors on a visit outside their own scope reads it by user (app/auth/scope.py).
    Kept in step with ``Inspection.inspectors``/``experts`` by the inspection service."""

    __tablename__ = "inspection_assignees"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))

    __table_args__ = (Index("ix_inspection_assignees_user_id", "user_id", "inspection_id"),)


class InspectionEvent(IdMixin, EventMixin, Base):
    """One row per action, written in the same transaction as the change
    (app/services/lifecycle.py: event_fields)."""

    __tablename__ = "inspection_events"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), index=True)


class InspectionDecision(IdMixin, Base):
    """One decision of an inspection's outcome (责令整改, 停产整顿, 罚款, 关闭, 移送, 黑名单, 无问题),
    kept as rows so the enforcement figures count and sum them in SQL. Replaced as a whole when
    the outcome is set (``complete``) or amended."""

    __tablename__ = "inspection_decisions"

    inspection_id: Mapped[str] = mapped_column(ForeignKey("inspections.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    entity_fine_fen: Mapped[int | None] = mapped_column(BigInteger)
    person_fine_fen: Mapped[int | None] = mapped_column(BigInteger)
    person_name: Mapped[str | None] = mapped_column(String(100))
    deadline: Mapped[date | None] = mapped_column(Date)
    from_date: Mapped[date | None] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_inspection_decisions_kind", "kind"),)


class BlacklistEntry(IdMixin, Base):
    """An enterprise on the joint-punishment blacklist (联合惩戒), by an inspection's decision;
    ``removed_at`` set by credit repair (信用修复) with its reason. Current entries have none."""

    __tablename__ = "blacklist_entries"

    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    listed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    decided_by_inspection_id: Mapped[str | None] = mapped_column(ForeignKey("inspections.id"))
    decided_by_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"))
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    removed_reason: Mapped[str | None] = mapped_column(Text)
    removed_by: Mapped[str | None] = mapped_column(String(48))

    __table_args__ = (
        Index("ix_blacklist_entries_removed_at_listed_at", "removed_at", "listed_at"),
        # At most one current entry per enterprise (migration 0017).
        Index(
            "uq_blacklist_entries_current_enterprise_id",
            "enterprise_id",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )


class MajorHazardInstallation(IdMixin, TimestampMixin, Base):
    """A 重大危险源 of an enterprise (GB 18218): its name, grade 1–4 (一级–四级) and substances."""

    __tablename__ = "major_hazard_installations"

    enterprise_id: Mapped[str] = mapped_column(ForeignKey("enterprises.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    grade: Mapped[int] = mapped_column(Integer)
    substances: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # 0017

    __mapper_args__ = {"version_id_col": version}
