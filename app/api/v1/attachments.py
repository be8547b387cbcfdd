from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from starlette.responses import Response, StreamingResponse

from app.auth.deps import Requires
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.http import json_response
from app.schemas.hazards import AttachmentOut, AttachmentPhase
from app.services import attachments as service
from app.services.hazards import service as hazard_service

router = APIRouter(tags=["attachments"])
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
    phase); or send `hazard_id` (and `phase`) to bind it to an open hazard at once."""
    settings = request.app.state.settings
    target = (
        await hazard_service.evidence_target(session, p, hazard_id, phase)
        if hazard_id
        else (None, None)
    )
    data = await file.read(settings.attachment_max_bytes + 1)
    attachment = await service.store_upload(
        session,
        request.app.state.storage,
        p,
        filename=file.filename,
        data=data,
        max_bytes=settings.attachment_max_bytes,
        hazard_id=target[0],
        phase=target[1],
    )
    return json_response(
        service.to_out(attachment), status_code=201, location=f"/api/v1/attachments/{attachment.id}"
    )


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
    headers = {
        "Content-Disposition": f"inline; filename*=UTF-8''{_quote(filename)}",
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
