"""The keys of reporters' identities (``anjian keys status | rotate``): which key each sealed
value is under, and re-sealing them all under the current one so an old secret can be dropped.

Rotation works in batches, each its own transaction, walking the table by id (keyset), so a
large table never holds one long transaction. Each row is re-sealed in one UPDATE, so a crash
midway leaves every row under either the old key or the new one, and both open while the old
secret stays in ``ANJIAN_PREVIOUS_SECRET_KEYS``; running it again finishes the work.

The UPDATE is optimistic: ``WHERE id = ? AND reporter_key_id = <old> AND reporter_sealed =
<old>``, so a value some other writer changed meanwhile is left as that writer wrote it (and
counted; a second run picks it up if it is still under an old key).

The UPDATE is a Core statement on the table that sets the two sealed columns only: it does not
bump ``version`` (the ORM's ``version_id_col``) nor ``updated_at``. Re-sealing changes how the
identity is stored, not what the report says: its ETag stays valid, a client's ``If-Match``
still holds, and the change feed sees nothing new. An ORM writer that loaded the row before
still saves, and cannot undo the re-seal: it writes only the columns it changed, and only
intake writes the sealed ones (on insert).

Nothing here prints or returns an identity: only counts and key ids (fingerprints of the
derived keys, app/core/sealing.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.sealing import (
    REPORTER_IDENTITY,
    InvalidTag,
    Keyring,
    Sealed,
    derive_key,
    key_id_of,
    reporter_keyring,
)
from app.models.public_reports import PublicReport

BATCH_SIZE = 500
NO_KEY_ID = "(none)"  # a sealed value without a key id: no key opens it

_reports = PublicReport.__table__
_id = _reports.c.id
_sealed = _reports.c.reporter_sealed
_key_id = _reports.c.reporter_key_id

KeyState = Literal["current", "previous", "unknown"]


@dataclass(frozen=True, slots=True)
class KeyCount:
    key_id: str
    state: KeyState
    count: int


@dataclass(frozen=True, slots=True)
class KeyStatus:
    current_id: str
    keys: list[KeyCount]  # the current key, the previous ones configured, then unknown ones

    @property
    def under_old_keys(self) -> int:
        """Values not under the current key (0: the previous secrets may be dropped)."""
        return sum(k.count for k in self.keys if k.state != "current")


@dataclass(slots=True)
class Rotation:
    current_id: str
    resealed: int = 0
    already_current: int = 0
    # Left as they were: under a key no configured secret derives (per key id) …
    unknown: Counter[str] = field(default_factory=Counter)
    # … under a known key but not opening (altered, or copied from another report) …
    unreadable: int = 0
    # … or changed by another writer between the read and the UPDATE.
    changed_meanwhile: int = 0
    # Values not under the current key once the pass is done (0: rotation complete).
    remaining: int = 0

    @property
    def complete(self) -> bool:
        return self.remaining == 0


def _configured_ids(settings: Settings) -> tuple[str, list[str]]:
    """The current key id and the previous ones, in the order of the settings."""
    ids = [
        key_id_of(derive_key(s, REPORTER_IDENTITY))
        for s in (settings.resolved_secret_key, *settings.previous_secret_keys)
    ]
    return ids[0], [i for i in dict.fromkeys(ids[1:]) if i != ids[0]]


def _not_under(current_id: str) -> ColumnElement[bool]:
    return (_sealed.is_not(None)) & or_(_key_id.is_(None), _key_id != current_id)


async def status(session: AsyncSession, settings: Settings) -> KeyStatus:
    """How many sealed identities each key holds, and which key is current."""
    current_id, previous_ids = _configured_ids(settings)
    rows = await session.execute(
        select(_key_id, func.count()).where(_sealed.is_not(None)).group_by(_key_id)
    )
    counts = {(key_id if key_id is not None else NO_KEY_ID): n for key_id, n in rows.all()}
    keys = [KeyCount(current_id, "current", counts.pop(current_id, 0))]
    keys += [KeyCount(i, "previous", counts.pop(i, 0)) for i in previous_ids]
    keys += [KeyCount(i, "unknown", n) for i, n in sorted(counts.items())]
    return KeyStatus(current_id, keys)


async def rotate(
    session: AsyncSession, settings: Settings, batch_size: int = BATCH_SIZE
) -> Rotation:
    """Re-seals every identity not under the current key, committing after each batch."""
    keyring = reporter_keyring(settings)
    result = Rotation(keyring.current_id)
    result.already_current = await _count(
        session, (_sealed.is_not(None)) & (_key_id == result.current_id)
    )
    await session.commit()
    after = ""
    while True:
        rows = (
            await session.execute(
                select(_id, _key_id, _sealed)
                .where(_not_under(result.current_id), _id > after)
                .order_by(_id)
                .limit(batch_size)
            )
        ).all()
        if not rows:
            break
        for report_id, key_id, sealed in rows:
            await reseal(session, keyring, result, report_id, key_id, sealed)
        await session.commit()
        after = rows[-1].id
    result.remaining = await _count(session, _not_under(result.current_id))
    await session.commit()
    return result


async def reseal(
    session: AsyncSession,
    keyring: Keyring,
    result: Rotation,
    report_id: str,
    key_id: str | None,
    sealed: str,
) -> None:
    """One row re-sealed under the current key, unless another writer changed it since it was
    read (then left as that writer wrote it)."""
    if key_id is None or not keyring.knows(key_id):
        result.unknown[key_id or NO_KEY_ID] += 1
        return
    try:
        plain = keyring.open(Sealed(key_id, sealed), report_id)
    except (InvalidTag, ValueError):  # altered, another row's, or not even base64
        result.unreadable += 1
        return
    fresh = keyring.seal(plain, report_id)
    done = await session.execute(
        update(_reports)
        .where(_id == report_id, _key_id == key_id, _sealed == sealed)
        # ``updated_at`` set to itself: its ``onupdate`` would otherwise stamp the row.
        .values(
            reporter_sealed=fresh.ciphertext,
            reporter_key_id=fresh.key_id,
            updated_at=_reports.c.updated_at,
        )
    )
    if done.rowcount == 1:
        result.resealed += 1
    else:
        result.changed_meanwhile += 1


async def _count(session: AsyncSession, where: ColumnElement[bool]) -> int:
    return int(
        (
            await session.execute(select(func.count()).select_from(_reports).where(where))
        ).scalar_one()
    )
