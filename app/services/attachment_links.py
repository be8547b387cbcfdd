"""Signed download links for attachments (issue 9, item 11): what an ``<img src>`` can fetch
without a bearer header. A link names one attachment, one file of it (the content or the
thumbnail), the caller it was issued to and its expiry, and is signed with HMAC-SHA256 under a
key derived from the secret key for this purpose alone (a token's signature never verifies as
a link, nor the reverse)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.errors import Forbidden
from app.models import ApiClient, User

FileKind = Literal["content", "thumbnail"]
PURPOSE = b"attachment-url"
MAX_CALLER_CHARS = 80


def now() -> float:
    """The clock links are issued and checked against (tests replace it)."""
    return time.time()


def _key(settings: Settings) -> bytes:
    return hmac.new(settings.resolved_secret_key.encode(), PURPOSE, hashlib.sha256).digest()


def _signature(settings: Settings, attachment_id: str, kind: str, caller: str, expires: int) -> str:
    message = f"{attachment_id}\n{kind}\n{caller}\n{expires}".encode()
    digest = hmac.new(_key(settings), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def expiry(settings: Settings) -> int:
    """At least the configured lifetime from now, rounded up to a step (a tenth of the lifetime,
    at most a minute): the same caller gets the same URL for a while, so a browser re-rendering
    a list reuses its cached image instead of fetching a new URL each time."""
    lifetime = settings.attachment_url_lifetime_seconds
    step = min(60, max(1, lifetime // 10))
    deadline = int(now()) + lifetime
    return -(-deadline // step) * step


def url(settings: Settings, attachment_id: str, kind: FileKind, caller: str, expires: int) -> str:
    query = urlencode(
        {
            "expires": expires,
            "caller": caller,
            "sig": _signature(settings, attachment_id, kind, caller, expires),
        }
    )
    return f"/api/v1/attachments/{attachment_id}/{kind}?{query}"


@dataclass(frozen=True, slots=True)
class Link:
    caller: str
    expires: int

    def remaining(self) -> int:
        return max(0, self.expires - int(now()))


def _invalid() -> Forbidden:
    return Forbidden(
        "下载链接无效", "The download link is invalid for this file", code="invalid_link"
    )


async def verify(
    session: AsyncSession,
    settings: Settings,
    attachment_id: str,
    kind: FileKind,
    *,
    expires: str | None,
    caller: str | None,
    sig: str | None,
) -> Link:
    """The link's signature, then its expiry, then whether its caller is still active: all
    before the attachment is looked up, so a refused link says nothing about whether the file
    exists. 403 ``invalid_link`` or ``link_expired``."""
    if not (expires and caller and sig) or not expires.isdigit() or len(expires) > 12:
        raise _invalid()
    expected = _signature(settings, attachment_id, kind, caller, int(expires))
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise _invalid()
    link = Link(caller=caller, expires=int(expires))
    if link.expires <= now():
        raise Forbidden(
            "下载链接已过期，请重新获取附件信息",
            "The download link has expired; fetch the attachment again for a new one",
            code="link_expired",
        )
    kind_, _, subject = caller.partition(":")
    model = {"user": User, "client": ApiClient}.get(kind_)
    active = (
        await session.execute(select(model.is_active).where(model.id == subject))
        if model is not None
        else None
    )
    if active is None or not active.scalar_one_or_none():
        raise _invalid()
    return link
