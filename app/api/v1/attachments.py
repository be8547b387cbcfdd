from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from starlette.responses import Response, StreamingResponse

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.http import json_response
from app.schemas.hazards import AttachmentOut, AttachmentPhase
from app.services import attachments as service
from app.services.attachment_content import IMAGE_TYPES
from app.services.hazards import service as hazard_service

router = APIRouter(tags=["attachments"], route_class=ApiRoute)
AttachmentId = Annotated[str, Path(max_length=64)]


@router.post(
    "/attachments", operation_id="upload_attachment", response_model=AttachmentOut, status_code=201
)
async def upload_attachment(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.attachments_write),
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or PDF; judged by content")],
    hazard_id: Annotated[
        str | None, Form(max_length=64, description="Bind to this hazard at once")
    ] = None,
    phase: Annotated[
        AttachmentPhase | None,
        Form(description="With hazard_id; defaults to the hazard's current step"),
    ] = None,
) -> Response:
    """Upload, then reference the id from a hazard or a transition (which binds it and sets its
    phase); or send `hazard_id` (and `phase`) to bind it to an open hazard at once (an `attach`
    event records it; such a file may also be cited by the transition it supports).
    `phase=acceptance` only for whoever may accept the hazard (403 otherwise). Images over
    `ANJIAN_ATTACHMENT_MAX_PIXELS` are 422 `image_too_large`; data after the end of an image is
    422 `image_trailing_data`; PDFs with scripts, automatic actions or embedded files are 422
    `pdf_active_content`."""
    settings = request.app.state.settings
    target = (
        await hazard_service.evidence_target(session, p, settings, hazard_id, phase)
        if hazard_id
        else None
    )
    data = await file.read(settings.attachment_max_bytes + 1)
    attachment = await service.store_upload(
        session,
        request.app.state.storage,
        p,
        filename=file.filename,
        data=data,
        max_bytes=settings.attachment_max_bytes,
        max_pixels=settings.attachment_max_pixels,
        thumbnail_limiter=_thumbnail_limiter(request),
        hazard_id=target[0].id if target else None,
        phase=target[1] if target else None,
    )
    if target:
        await hazard_service.record_attachment(session, p, target, attachment.id)
    return json_response(
        service.to_out(attachment), status_code=201, location=f"/api/v1/attachments/{attachment.id}"
    )


def _thumbnail_limiter(request: Request) -> anyio.CapacityLimiter:
    """One limiter per app (so per worker process), made on first use: thumbnails decode whole
    images, and how many run at once bounds the worker's memory."""
    state = request.app.state
    limiter = getattr(state, "thumbnail_limiter", None)
    if limiter is None:
        limiter = anyio.CapacityLimiter(state.settings.attachment_thumbnail_workers)
        state.thumbnail_limiter = limiter
    return limiter


@router.get(
    "/attachments/{attachment_id}", operation_id="get_attachment", response_model=AttachmentOut
)
async def get_attachment(
    session: SessionDep, p: Requires(Permission.attachments_read), attachment_id: AttachmentId
) -> Response:
    return json_response(service.to_out(await service.get_visible(session, p, attachment_id)))


def _download(
    request: Request, key: str, media_type: str, filename: str, sha256: str | None
) -> StreamingResponse:
    """Never rendered as a page: the browser must not sniff another type (``nosniff``), anything
    rendered runs sandboxed (no scripts, a unique origin), and only images are shown inline;
    every other kind is a download."""
    disposition = "inline" if media_type in IMAGE_TYPES else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": "private",
    }
    if sha256:
        headers["ETag"] = f'"{sha256}"'
    return StreamingResponse(
        request.app.state.storage.stream(key), media_type=media_type, headers=headers
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


@router.get(
    "/attachments/{attachment_id}/content",
    operation_id="download_attachment",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "The file"}},
)
async def download_attachment(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.attachments_read),
    attachment_id: AttachmentId,
) -> StreamingResponse:
    a = await service.get_visible(session, p, attachment_id)
    return _download(request, a.storage_key, a.content_type, a.filename, a.sha256)


@router.get(
    "/attachments/{attachment_id}/thumbnail",
    operation_id="download_attachment_thumbnail",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "A JPEG thumbnail (images only)"}
    },
)
async def download_thumbnail(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.attachments_read),
    attachment_id: AttachmentId,
) -> StreamingResponse:
    a = await service.get_visible(session, p, attachment_id)
    if a.thumbnail_key is None:
        raise NotFound("该附件没有缩略图", "This attachment has no thumbnail")
    return _download(request, a.thumbnail_key, "image/jpeg", f"thumb-{a.id}.jpg", None)
