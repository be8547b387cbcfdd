from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class User(IdMixin, TimestampMixin, Base):
    """A person: government staff of one org unit, or staff of one enterprise."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    role: Mapped[str] = mapped_column(String(32))
    org_unit_id: Mapped[str | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    enterprise_id: Mapped[str | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # 执法证号: an inspector holding one may count as one of the two of an enforcement visit.
    enforcement_cert_no: Mapped[str | None] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # Carried in tokens as `cv`; bumped when sessions must end (password, activation, role,
    # unit). Distinct from `version` (the ETag), so editing a phone number signs no one out.
    credential_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(
            "(org_unit_id IS NULL) <> (enterprise_id IS NULL)", name="exactly_one_home"
        ),
    )


class ApiClient(IdMixin, TimestampMixin, Base):
    """A machine client (provincial exchange, import script) bound to one org unit."""

    __tablename__ = "api_clients"

    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    org_unit_id: Mapped[str] = mapped_column(ForeignKey("org_units.id"), index=True)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    credential_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # After a rotation the old secret still works until this instant (a configurable overlap).
    previous_secret_hash: Mapped[str | None] = mapped_column(String(200))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __mapper_args__ = {"version_id_col": version}


class RefreshToken(IdMixin, Base):
    """One refresh token of a user's sign-in (its `family`): single use, rotated on every
    refresh. Only the SHA-256 of the token is kept. Presenting a used token again revokes the
    whole family (a stolen copy was used), as does a sign-out (`/auth/revoke`). A token is only
    good while the user's `credential_version` is the one it was issued under."""

    __tablename__ = "refresh_tokens"

    family_id: Mapped[str] = mapped_column(String(36), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    credential_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PrincipalChange(Base):
    """A change that ends cached callers (app/auth/principal_cache.py): a user, client, org unit
    or session (`subject_id`) whose caller representation changed. Every worker polls the recent
    rows each second and drops what they name; rows older than the poll window are pruned."""

    __tablename__ = "principal_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject_id: Mapped[str] = mapped_column(String(36))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginThrottle(Base):
    """One counter per throttle key (a username from one address, a username, an address), in
    the database so throttling holds across workers and restarts. A sign-in reserves an attempt
    (``pending``) in one atomic statement before the password is verified and settles it after
    (a failure moves it to ``failures``), so concurrent attempts cannot overrun the limit.
    Reservations are counted in two aligned generations (the one that began at
    ``pending_since`` and the one before it), so a reservation that is never settled (a crash, a
    failed commit) stops counting after one to two generations instead of the whole window.
    ``failures`` are those of the aligned window that began at ``window_start``,
    ``failures_previous`` those of the aligned window just before it: together they make the
    sliding count (app/services/auth.py)."""

    __tablename__ = "login_throttles"

    # SHA-256 of the key: a username field often holds a mistyped password, never kept in clear.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    failures_previous: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    pending: Mapped[int] = mapped_column(Integer, default=0)  # reserved since pending_since
    pending_earlier: Mapped[int] = mapped_column(Integer, default=0)  # in the generation before
    pending_since: Mapped[datetime] = mapped_column(UTCDateTime())
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class IdempotencyRecord(IdMixin, Base):
    """The first response to a POST with an Idempotency-Key, replayed for retries."""

    __tablename__ = "idempotency_records"

    owner: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text)
    no_store: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (Index("uq_idempotency_records_owner_key", "owner", "key", unique=True),)
