from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class Enterprise(IdMixin, TimestampMixin, Base):
    """A 生产经营单位; its region code and sector decide who may see it."""

    __tablename__ = "enterprises"

    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    region_code: Mapped[str] = mapped_column(String(12))
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    # The coordinate system the location was given in (wgs84 | gcj02): stored as given.
    coordinate_system: Mapped[str | None] = mapped_column(String(8))
    sector: Mapped[str] = mapped_column(String(40), index=True)
    industry_code: Mapped[str | None] = mapped_column(String(5))
    enforcement_department_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), index=True)
    scale: Mapped[str | None] = mapped_column(String(16))
    risk_color: Mapped[str | None] = mapped_column(String(8))
    standardization_grade: Mapped[str | None] = mapped_column(String(16))
    principal_name: Mapped[str | None] = mapped_column(String(50))
    principal_phone: Mapped[str | None] = mapped_column(String(20))
    actual_controller_name: Mapped[str | None] = mapped_column(String(50))
    actual_controller_phone: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="operating")
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_enterprises_name_id", "name", "id"),
        # Prefix matches (scope, region filters) use it on PostgreSQL whatever the collation.
        Index(
            "ix_enterprises_region_code",
            "region_code",
            postgresql_ops={"region_code": "varchar_pattern_ops"},
        ),
        Index("ix_enterprises_updated_at_id", "updated_at", "id"),
    )
