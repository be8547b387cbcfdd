from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin


class OrgUnit(IdMixin, TimestampMixin, Base):
    """A government unit: the county office, a town/street, or a sectoral bureau."""

    __tablename__ = "org_units"

    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # The English name shown under `Accept-Language: en`; optional (Chinese when absent).
    name_en: Mapped[str | None] = mapped_column(String(200))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    # Counties: 6 digits; towns: 9 digits; bureaus have no territory of their own (null).
    region_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    # The county this unit belongs to, so every scope rule can stay inside one county.
    county_code: Mapped[str] = mapped_column(String(6), index=True)
    sectors: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
