"""Evidence files: checked by content, hashed, stored behind the Storage seam, thumbnailed."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import anyio
from PIL import Image, UnidentifiedImageError
from sqlalchemy import ColumnElement, and_, false, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.scope import (
    visible_accountability,
    visible_enterprise_ids,
    visible_inspections,
    visible_reports,
    visible_task_report_ids,
)
from app.core.config import Settings
from app.core.db import on_rollback
from app.core.errors import NotFound, PayloadTooLarge, ValidationFailed
from app.core.ids import new_id
from app.core.storage import Storage
from app.models import (
    AccountabilityRecord,
    Attachment,
    Enterprise,
    Hazard,
    Inspection,
    PublicReport,
)
from app.models.base import utcnow
from app.schemas.hazards import AttachmentOut
from app.services import attachment_links as links
from app.services.attachment_content import ALLOWED_TYPES, IMAGE_TYPES, inspect

THUMBNAIL_EDGE = 320
# Pillow's own guard stays as a backstop; uploads are refused earlier, at the configured
# ANJIAN_ATTACHMENT_MAX_PIXELS, from the header alone.
Image.MAX_IMAGE_PIXELS = 80_000_000
BAND_BYTES = 8 * 1024 * 1024  # converted and reduced a band at a time: no second full-size copy
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg", ".jpe"),
    "image/png": (".png",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
}


def to_out(a: Any, p: Principal, settings: Settings) -> AttachmentOut:
    """With download links signed for ``p`` (see ``attachment_links``)."""
    expires = links.expiry(settings)
    return AttachmentOut(
        id=a.id,
        hazard_id=a.hazard_id,
        accountability_id=a.accountability_id,
        inspection_id=a.inspection_id,
        phase=a.phase,
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        sha256=a.sha256,
        has_thumbnail=a.thumbnail_key is not None,
        created_at=a.created_at,
        download_url=links.url(settings, a.id, "content", p.audit_id, expires),
        thumbnail_url=links.url(settings, a.id, "thumbnail", p.audit_id, expires)
        if a.thumbnail_key is not None
        else None,
    )


def _band_reduce(img: Image.Image, factor: int) -> Image.Image:
    """``img`` as RGB (or L), made ``factor`` times smaller by averaging, transparent parts on
    white. Works through horizontal bands, so besides the decoded image only one band and the
    small result are in memory."""
    alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        img.mode == "P" and "transparency" in img.info
    )
    mode = "L" if img.mode in ("1", "L", "LA", "La", "I", "I;16", "F") else "RGB"
    width, height = img.size
    rows = max(factor, BAND_BYTES // (width * 4) // factor * factor)
    out = Image.new(mode, (-(-width // factor), -(-height // factor)), "white")
    for top in range(0, height, rows):
        band = img.crop((0, top, width, min(height, top + rows)))
        if alpha:
            rgba = band.convert("RGBA")
            band = Image.new("RGBA", band.size, "white")
            band.alpha_composite(rgba)
        band = band.convert(mode)
        out.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return out


# EXIF orientation -> the transposition that makes the picture upright (as ImageOps.exif_transpose)
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _thumbnail(data: bytes) -> bytes | None:
    """A JPEG of at most 320 px, upright per EXIF. JPEGs are decoded at 1/2 to 1/8 scale
    (``draft``); other formats are decoded whole (their size passed the pixel limit), then
    reduced band by band (``reduce``) before the final resampling. CPU- and memory-bound: run
    it in a worker thread under the shared limiter."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            orientation = img.getexif().get(0x0112)
            img.draft(None, (THUMBNAIL_EDGE * 2, THUMBNAIL_EDGE * 2))  # JPEG only
            img.load()
            small = _band_reduce(img, max(1, max(img.size) // (THUMBNAIL_EDGE * 2)))
        if orientation in _UPRIGHT:
            small = small.transpose(_UPRIGHT[orientation])
        small.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
        return out.getvalue()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def _clean_filename(name: str | None, mime: str) -> str:
    """The base name, printable, and ending in an extension of the real type: an ``.html`` name on
    a PNG is saved as ``….html.png``, so a downloaded file never opens as something else."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(c for c in name if c.isprintable())[:200]
    extensions = EXTENSIONS[mime]
    if not name:
        return f"attachment{extensions[0]}"
    return name if name.lower().endswith(extensions) else name + extensions[0]


async def store_upload(
    session: AsyncSession,
    storage: Storage,
    p: Principal,
    *,
    filename: str | None,
    data: bytes,
    max_bytes: int,
    max_pixels: int,
    thumbnail_limiter: anyio.CapacityLimiter,
    hazard_id: str | None = None,
    phase: str | None = None,
) -> Attachment:
    """Checks and stores the file; with ``hazard_id`` (checked by the caller) it is bound at
    once. Images over ``max_pixels`` are refused from their header, before anything decodes
    them. Content checks and thumbnails run in worker threads, at most as many at once as the
    limiter allows."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"文件超过大小上限（{max_bytes // (1024 * 1024)} MB）",
            f"The file exceeds {max_bytes} bytes",
        )
    if not data:
        raise ValidationFailed.field("file", "文件为空", "The file is empty")
    # the content checks (a PDF's object streams are inflated) share the bounded pool
    inspected = await anyio.to_thread.run_sync(inspect, data, max_pixels, limiter=thumbnail_limiter)
    mime = inspected.mime
    digest = hashlib.sha256(data).hexdigest()
    attachment_id = new_id()
    key = f"attachments/{attachment_id[:8]}/{attachment_id}.{ALLOWED_TYPES[mime]}"
    await storage.put(key, data)
    on_rollback(session, lambda: storage.delete(key))  # no file without its row
    thumb_key = None
    # a progressive or multi-scan JPEG over a quarter of the limit would cost more than
    # the bound to decode (see ``inspect``): kept as evidence, without a thumbnail
    if mime in IMAGE_TYPES and inspected.thumbnail:
        thumb = await anyio.to_thread.run_sync(_thumbnail, data, limiter=thumbnail_limiter)
        if thumb is not None:
            thumb_key = f"thumbnails/{attachment_id[:8]}/{attachment_id}.jpg"
            await storage.put(thumb_key, thumb)
            on_rollback(session, lambda: storage.delete(str(thumb_key)))
    attachment = Attachment(
        id=attachment_id,
        filename=_clean_filename(filename, mime),
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


def _unbound_of(p: Principal) -> ColumnElement[bool]:
    """The caller's own uploads that nothing cites yet (no hazard, accountability record,
    inspection or progress report)."""
    return and_(
        Attachment.hazard_id.is_(None),
        Attachment.accountability_id.is_(None),
        Attachment.inspection_id.is_(None),
        Attachment.task_report_id.is_(None),
        Attachment.public_report_id.is_(None),
        Attachment.uploaded_by == p.audit_id,
    )


def visible_attachments(p: Principal) -> ColumnElement[bool]:
    """Bound files follow their hazard's, accountability record's, inspection's or progress
    report's scope; unbound ones are the uploader's alone."""
    in_scope_hazards = select(Hazard.id).where(Hazard.enterprise_id.in_(visible_enterprise_ids(p)))
    bound = [Attachment.hazard_id.in_(in_scope_hazards)]
    if p.can(Permission.accountability_read):  # a record's files need the right to read it
        in_scope_records = select(AccountabilityRecord.id).where(visible_accountability(p))
        bound.append(Attachment.accountability_id.in_(in_scope_records))
    if p.can(Permission.inspections_read):  # checklist results' photos: the inspection's scope
        in_scope_inspections = (
            select(Inspection.id)
            .join(Enterprise, Enterprise.id == Inspection.enterprise_id)
            .where(visible_inspections(p))
        )
        bound.append(Attachment.inspection_id.in_(in_scope_inspections))
    if p.can(Permission.tasks_read):  # a progress report's evidence: whoever reads the report
        bound.append(Attachment.task_report_id.in_(visible_task_report_ids(p)))
    if p.can(Permission.reports_read):  # a public report's photos: whoever handles the report
        bound.append(
            Attachment.public_report_id.in_(select(PublicReport.id).where(visible_reports(p)))
        )
    return or_(*bound, _unbound_of(p))


async def bind_to_task_report(
    session: AsyncSession, p: Principal, report_id: str, ids: list[str]
) -> None:
    """The caller's own unbound uploads a progress report cites, bound to it (so the lead unit
    and the issuer read them with the report); files bound elsewhere stay where they are."""
    if ids:
        await session.execute(
            update(Attachment)
            .where(Attachment.id.in_(ids), _unbound_of(p))
            .values(task_report_id=report_id)
            .execution_options(synchronize_session="fetch")
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


async def get_by_id(session: AsyncSession, attachment_id: str) -> Attachment:
    """For a verified signed link: its signer saw the file when the link was issued."""
    found = await session.get(Attachment, attachment_id)
    if found is None:
        raise NotFound("附件不存在", "Attachment not found")
    return found


async def bind(
    session: AsyncSession, p: Principal, hazard_id: str, attachment_ids: list[str], phase: str
) -> list[Attachment]:
    """The evidence an action cites, bound to the hazard in ``phase``. Valid citations: the
    caller's own unbound uploads (bound now), and files already bound to this very hazard in
    this phase (an upload sent with ``hazard_id``; left as they are). Anything else (another
    hazard's file, another phase, someone else's unbound upload, an unknown id) is 422."""
    already = and_(Attachment.hazard_id == hazard_id, Attachment.phase == phase)
    return await _claim(
        session, p, attachment_ids, {"hazard_id": hazard_id, "phase": phase}, already
    )


async def bind_to_accountability(
    session: AsyncSession, p: Principal, record_id: str, attachment_ids: list[str]
) -> list[Attachment]:
    """The files an accountability record cites (the letter, the notice), bound to it: the
    caller's own unbound uploads only (a record is written once, so nothing is bound to it
    before). Anything else is 422 ``invalid_attachment``, as for a hazard."""
    return await _claim(session, p, attachment_ids, {"accountability_id": record_id}, false())


async def bind_to_inspection(
    session: AsyncSession, p: Principal, inspection_id: str, attachment_ids: list[str]
) -> list[Attachment]:
    """The photos and documents a checklist result cites, bound to the inspection: the
    caller's own unbound uploads, or files already bound to this inspection (cited again)."""
    return await _claim(
        session,
        p,
        attachment_ids,
        {"inspection_id": inspection_id},
        Attachment.inspection_id == inspection_id,
    )


async def _claim(
    session: AsyncSession,
    p: Principal,
    attachment_ids: list[str],
    owner: dict[str, str],
    already: ColumnElement[bool],
) -> list[Attachment]:
    """Binds the caller's unbound uploads among ``attachment_ids`` to ``owner`` (the columns to
    set); files matching ``already`` are valid citations left as they are; any other id is 422."""
    if not attachment_ids:
        return []
    unique = list(dict.fromkeys(attachment_ids))
    unbound_mine = _unbound_of(p)
    rows = (
        (
            await session.execute(
                select(Attachment).where(Attachment.id.in_(unique), or_(unbound_mine, already))
            )
        )
        .scalars()
        .all()
    )
    found = {a.id for a in rows}
    missing = [a for a in unique if a not in found]
    to_bind = [
        a.id
        for a in rows
        if a.hazard_id is None
        and a.accountability_id is None
        and a.inspection_id is None
        and a.task_report_id is None
    ]
    if to_bind and not missing:
        # Claimed with a conditional UPDATE: of two requests citing one unbound upload for two
        # hazards (or records) at once, the second finds it bound (its row lock waits on
        # PostgreSQL).
        claimed = await session.execute(
            update(Attachment)
            .where(Attachment.id.in_(to_bind), unbound_mine)
            .values(**owner)
            .execution_options(synchronize_session="fetch")
        )
        if claimed.rowcount != len(to_bind):  # type: ignore[attr-defined]
            missing = to_bind
    if missing:
        raise ValidationFailed.field(
            "attachment_ids",
            f"附件不存在、已被使用或不是您上传的：{', '.join(missing)}",
            f"Attachments unknown, already used or not uploaded by you: {', '.join(missing)}",
            code="invalid_attachment",
        )
    await session.flush()
    return list(rows)
