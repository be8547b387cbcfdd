"""The inbox: one row per person and message (app/services/notifications.py writes them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, UTCDateTime


class Notification(IdMixin, Base):
    """A message to one user. ``title`` and ``body`` are the Chinese text as written; ``kind``
    and ``data`` write them again in English at read time (app/services/messages.py). ``link``
    is the API path of the object it is about (``object_type``/``object_id``); ``read_at`` is
    set once, by the user."""

    __tablename__ = "notifications"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    object_type: Mapped[str | None] = mapped_column(String(24))
    object_id: Mapped[str | None] = mapped_column(String(36))
    link: Mapped[str | None] = mapped_column(String(300))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        # The inbox page, newest first (keyset on created_at, id within one user).
        Index("ix_notifications_user_id_created_at_id", "user_id", "created_at", "id"),
        # `unread_count` on /me: only the unread rows are in it, so it stays small.
        Index(
            "ix_notifications_unread",
            "user_id",
            postgresql_where=text("read_at IS NULL"),
            sqlite_where=text("read_at IS NULL"),
        ),
    )
