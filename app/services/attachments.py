"""Evidence files: checked by content, hashed, stored behind the Storage seam, thumbnailed."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import anyio
import filetype
from PIL import Image, UnidentifiedImageError
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.scope import visible_enterprise_ids
from app.core.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from app.core.ids import new_id
from app.core.storage import Storage
from app.models import Attachment, Hazard
from app.models.base import utcnow
from app.schemas.hazards import AttachmentOut

ALLOWED_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
THUMBNAIL_SIZE = (320, 320)
Image.MAX_IMAGE_PIXELS = 80_000_000  # refuse decompression bombs


def to_out(a: Any) -> AttachmentOut:
    return AttachmentOut(
        id=a.id,
        hazard_id=a.hazard_id,
        phase=a.phase,
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        sha256=a.sha256,
        has_thumbnail=a.thumbnail_key is not None,
        created_at=a.created_at,
    )


def sniff(data: bytes) -> str:
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind else None
    if mime not in ALLOWED_TYPES:
        raise UnsupportedMediaType(
            "仅支持 JPEG、PNG、WebP 图片和 PDF 文件（按文件内容判断）",
            "Only JPEG, PNG, WebP and PDF files are accepted (judged by content)",
        )
    return mime  # type: ignore[return-value]


def _thumbnail(data: bytes) -> bytes | None:
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def _clean_filename(name: str | None, ext: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c for c in name if c.isprintable())[:200]
    return name or f"attachment.{ext}"


async def store_upload(
    session: AsyncSession,
    storage: Storage,
    p: Principal,
    *,
    filename: str | None,
    data: bytes,
    max_bytes: int,
    hazard_id: str | None = None,
    phase: str | None = None,
) -> Attachment:
    """Stores the file; with ``hazard_id`` (checked by the caller) it is bound at once."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"文件超过大小上限（{max_bytes // (1024 * 1024)} MB）",
            f"The file exceeds {max_bytes} bytes",
        )
    if not data:
        raise ValidationFailed.field("file", "文件为空", "The file is empty")
    mime = sniff(data)
    digest = hashlib.sha256(data).hexdigest()
    attachment_id = new_id()
    key = f"attachments/{attachment_id[:8]}/{attachment_id}.{ALLOWED_TYPES[mime]}"
    await storage.put(key, data)
    thumb_key = None
    if mime in IMAGE_TYPES:
        thumb = await anyio.to_thread.run_sync(_thumbnail, data)
        if thumb is not None:
            thumb_key = f"thumbnails/{attachment_id[:8]}/{attachment_id}.jpg"
            await storage.put(thumb_key, thumb)
    attachment = Attachment(
        id=attachment_id,
        filename=_clean_filename(filename, ALLOWED_TYPES[mime]),
        content_type=mime,
        size=len(data),
        sha256=digest,
        storage_key=key,
        thumbnail_key=thumb_key,
        uploaded_by=p.audit_id,
        created_at=utcnow(),
        hazard_id=hazard_id,
        phase=phase,
    )
    session.add(attachment)
    await session.flush()
    return attachment


def visible_attachments(p: Principal):  # type: ignore[no-untyped-def]
    """Bound files follow their hazard's scope; unbound ones are the uploader's alone."""
    in_scope_hazards = select(Hazard.id).where(Hazard.enterprise_id.in_(visible_enterprise_ids(p)))
    return or_(
        Attachment.hazard_id.in_(in_scope_hazards),
        (Attachment.hazard_id.is_(None)) & (Attachment.uploaded_by == p.audit_id),
    )


async def get_visible(session: AsyncSession, p: Principal, attachment_id: str) -> Attachment:
    found = (
        await session.execute(
            select(Attachment).where(Attachment.id == attachment_id, visible_attachments(p))
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("附件不存在", "Attachment not found")
    return found


async def bind(
    session: AsyncSession, p: Principal, hazard_id: str, attachment_ids: list[str], phase: str
) -> list[Attachment]:
    """Attaches the caller's own unbound uploads to a hazard in one phase."""
    if not attachment_ids:
        return []
    unique = list(dict.fromkeys(attachment_ids))
    rows = (
        (
            await session.execute(
                select(Attachment).where(
                    Attachment.id.in_(unique),
                    Attachment.hazard_id.is_(None),
                    Attachment.uploaded_by == p.audit_id,
                )
            )
        )
        .scalars()
        .all()
    )
    found = {a.id for a in rows}
    missing = [a for a in unique if a not in found]
    if missing:
        raise ValidationFailed.field(
            "attachment_ids",
            f"附件不存在、已被使用或不是您上传的：{', '.join(missing)}",
            f"Attachments unknown, already used or not uploaded by you: {', '.join(missing)}",
            code="invalid_attachment",
        )
    for a in rows:
        a.hazard_id = hazard_id
        a.phase = phase
    await session.flush()
    return list(rows)
