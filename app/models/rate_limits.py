from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime


class RateLimit(Base):
    """Requests counted per client address and bucket (``public`` for the open endpoints) in
    aligned windows, kept in the database so that every worker and instance counts together
    (app/services/rate_limit.py writes it with one atomic upsert; housekeeping prunes ended
    windows)."""

    __tablename__ = "rate_limits"

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    # SHA-256 of the client address (or its IPv6 /64): addresses are not kept in clear.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
