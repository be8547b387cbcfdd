"""The inbox (通知): one notification per person, written by ``notify`` and read by its owner.

``notify`` is the one writer, for every kind (deadline warnings and overdue reminders now; task
lists, reports and inspections later): it renders the Chinese text from the kind's template
(app/services/messages.py) and writes one row for every active user of the given units and
enterprises (and the given users) in a single ``INSERT … SELECT``, in the caller's transaction,
so a notification exists exactly when its cause committed. Users are resolved when it is
written: someone who joins a unit later does not get its earlier notifications, and a
deactivated user gets none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.principal import Principal
from app.core import reads
from app.core.errors import NotFound
from app.core.ids import new_id
from app.core.pagination import PageResult, fetch_page, parse_sort
from app.models import Notification, User
from app.models.base import UTCDateTime, utcnow
from app.schemas.common import ListParams
from app.schemas.notifications import NotificationOut
from app.services.messages import localized, render

SORTS = {"created_at": Notification.created_at}
DEFAULT_SORT = "-created_at"

COLUMNS = (
    Notification.id,
    Notification.kind,
    Notification.title,
    Notification.body,
    Notification.data,
    Notification.object_type,
    Notification.object_id,
    Notification.link,
    Notification.read_at,
    Notification.created_at,
)
_table = Notification.__table__
# The row number of a recipient, as the last 8 hex digits of its notification's id.
_HEX_DIGITS = 8


def _row_ids(dialect: str) -> Any:
    """Ids for the rows of one ``INSERT … SELECT``, made by the database: the first 28
    characters of a fresh id (its time and 42 random bits, so ids stay time-ordered and
    distinct between calls) and the recipient's row number in hex."""
    n = func.row_number().over(order_by=User.id)
    digits = (
        func.lpad(func.to_hex(n), _HEX_DIGITS, "0")
        if dialect == "postgresql"
        else func.printf(f"%0{_HEX_DIGITS}x", n)
    )
    return literal(new_id()[: 36 - _HEX_DIGITS], String()).concat(digits)


async def notify(
    session: AsyncSession,
    kind: str,
    data: Mapping[str, Any],
    *,
    link: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    to_units: Iterable[str] = (),
    to_enterprises: Iterable[str] = (),
    to_users: Iterable[str] = (),
    now: datetime | None = None,
    once: bool = False,
) -> int:
    """Writes a notification of ``kind`` to every active user of ``to_units`` and
    ``to_enterprises`` and to the active ``to_users`` (each person once), in one statement in
    the caller's transaction; answers how many were written. ``once``: skip the people who
    already hold a notification of this kind about this object (a cause noticed by a daily job,
    such as a task part overdue, is told once)."""
    units, enterprises, users = (sorted(set(x)) for x in (to_units, to_enterprises, to_users))
    audience = [
        condition
        for ids, condition in (
            (units, User.org_unit_id.in_(units)),
            (enterprises, User.enterprise_id.in_(enterprises)),
            (users, User.id.in_(users)),
        )
        if ids
    ]
    if not audience:
        return 0
    text = render(kind, data, english=False)
    dialect = session.get_bind().dialect.name
    source = select(
        _row_ids(dialect),
        User.id,
        literal(kind, String()),
        literal(text.title, String()),
        literal(text.body, String()),
        literal(dict(data), JSON()),
        literal(object_type, String()),
        literal(object_id, String()),
        literal(link, String()),
        literal(now or utcnow(), UTCDateTime()),
    ).where(User.is_active.is_(True), or_(*audience))
    if once:
        told = aliased(Notification)
        source = source.where(
            ~select(told.id)
            .where(told.user_id == User.id, told.kind == kind, told.object_id == object_id)
            .exists()
        )
    columns = [
        "id",
        "user_id",
        "kind",
        "title",
        "body",
        "data",
        "object_type",
        "object_id",
        "link",
        "created_at",
    ]
    result = await session.execute(_table.insert().from_select(columns, source))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def to_out(row: Any, english: bool) -> NotificationOut:
    text = localized(row["kind"], row["data"], row["title"], row["body"], english)
    return NotificationOut.model_construct(
        id=row["id"],
        kind=row["kind"],
        title=text.title,
        body=text.body,
        link=row["link"],
        object_type=row["object_type"],
        object_id=row["object_id"],
        read_at=row["read_at"],
        created_at=row["created_at"],
    )


async def list_notifications(
    session: AsyncSession,
    p: Principal,
    params: ListParams,
    *,
    unread: bool | None,
    kind: list[str] | None,
) -> PageResult:
    """The caller's own notifications only (a person's inbox; nobody reads another's)."""
    sort = parse_sort(params.sort, SORTS, DEFAULT_SORT)
    stmt = select(*COLUMNS).where(Notification.user_id == p.id)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    if kind:
        stmt = stmt.where(Notification.kind.in_(kind))
    return await fetch_page(
        session,
        stmt,
        sort=sort,
        id_column=Notification.id,
        limit=params.limit,
        cursor=params.cursor,
        include_total=params.include_total,
    )


async def mark_read(session: AsyncSession, p: Principal, notification_id: str) -> Any:
    """Marks one of the caller's notifications read, once: reading it again keeps the first
    ``read_at``. Another person's notification is 404, exactly like a missing one. One
    statement (``UPDATE … RETURNING``)."""
    stmt = (
        update(_table)
        .where(_table.c.id == notification_id, _table.c.user_id == p.id)
        .values(read_at=func.coalesce(_table.c.read_at, literal(utcnow(), UTCDateTime())))
        .returning(*(_table.c[c.key] for c in COLUMNS))
    )
    row = (await session.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound("通知不存在", "No such notification")
    return row


async def mark_all_read(session: AsyncSession, p: Principal) -> int:
    """Marks every unread notification of the caller read; answers how many."""
    result = await session.execute(
        update(_table)
        .where(_table.c.user_id == p.id, _table.c.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def unread_count(session: AsyncSession, p: Principal) -> int | None:
    """For ``/me``: the caller's unread notifications (the partial index holds only those);
    None for a machine client, which has no inbox (and no statement is sent)."""
    if p.kind != "user":
        return None
    stmt = select(func.count().label("n")).where(
        Notification.user_id == p.id, Notification.read_at.is_(None)
    )
    return int((await reads.rows(session, stmt))[0]["n"])
