from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from starlette.responses import FileResponse, Response, StreamingResponse

from app.api.idempotency import ApiRoute
from app.auth.deps import Requires, ensure, get_principal, oauth2_scheme
from app.auth.permissions import Permission
from app.core.db import SessionDep
from app.core.errors import NotFound
from app.core.http import json_response
from app.models import Attachment
from app.schemas.hazards import AttachmentOut, AttachmentPhase
from app.services import attachment_links as links
from app.services import attachments as service
from app.services.attachment_content import IMAGE_TYPES
from app.services.hazards import service as hazard_service

router = APIRouter(tags=["attachments"], route_class=ApiRoute)
AttachmentId = Annotated[str, Path(max_length=64)]


@router.post(
    "/attachments",
    operation_id="upload_attachment",
    response_model=AttachmentOut,
    status_code=201,
    summary="Upload an attachment",
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
    """Uploads evidence (现场照片、整改材料) as `multipart/form-data` with one `file`: JPEG, PNG,
    WebP or PDF, judged by content rather than by name (415 `unsupported_media_type`
    otherwise; 413 `payload_too_large` over `ANJIAN_ATTACHMENT_MAX_BYTES`). Answers 201 with
    the attachment, its signed `download_url`/`thumbnail_url` and `Location`.

    Upload first, then cite the id in `attachment_ids` of a hazard registration or a transition
    (which binds it and sets its phase); or send `hazard_id` (and `phase`) to bind it to an
    open hazard in scope at once (an `attach` event records it; such a file may also be cited by
    the transition it supports). `phase=acceptance` only for whoever may accept the hazard.

    Who: roles with `attachments:write` (those who register and work hazards). Errors: 403
    `acceptance_evidence_forbidden`; 409 `invalid_transition` (the hazard is closed or voided);
    422 `unknown_hazard` (missing or outside scope), `image_too_large` (over
    `ANJIAN_ATTACHMENT_MAX_PIXELS`), `image_trailing_data`, `image_malformed`,
    `pdf_active_content` (scripts, automatic actions, embedded files), `pdf_encrypted`,
    `pdf_unreadable`, `pdf_too_complex`.
    """
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
        service.to_out(attachment, p, settings),
        status_code=201,
        location=f"/api/v1/attachments/{attachment.id}",
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
    "/attachments/{attachment_id}",
    operation_id="get_attachment",
    response_model=AttachmentOut,
    summary="Get an attachment",
)
async def get_attachment(
    request: Request,
    session: SessionDep,
    p: Requires(Permission.attachments_read),
    attachment_id: AttachmentId,
) -> Response:
    """An attachment's metadata (name, type, size, SHA-256, phase, hazard) with fresh signed
    `download_url`/`thumbnail_url`, valid for `ANJIAN_ATTACHMENT_URL_LIFETIME_SECONDS`
    (10 minutes): fetch again for new links. An attachment bound to a hazard follows the
    hazard's scope; an unbound one is visible to its uploader.

    Who: roles with `attachments:read`. Errors: 404 `not_found` when it does not exist or lies
    outside the caller's scope.
    """
    a = await service.get_visible(session, p, attachment_id)
    return json_response(service.to_out(a, p, request.app.state.settings))


@dataclass(frozen=True, slots=True)
class Access:
    attachment: Attachment
    link: links.Link | None  # None: the bearer path


LINK_QUERY = "With a signed link (`download_url`/`thumbnail_url`), instead of a bearer header"


def _reader(kind: links.FileKind) -> Callable[..., Awaitable[Access]]:
    """Bearer OR signed link, enforced here: a bearer header is checked as on every route
    (`attachments:read`, the caller's scope; 404 outside it); without one, the link's
    `expires`/`caller`/`sig` must verify for this attachment and this file, and its caller must
    still be active (403 `invalid_link`/`link_expired`); with neither, 401. Hence marked public
    for the route convention: the check lives in this dependency, not in ``Requires``."""

    async def dependency(
        request: Request,
        session: SessionDep,
        attachment_id: AttachmentId,
        token: Annotated[str | None, Depends(oauth2_scheme)],
        expires: Annotated[
            str | None, Query(max_length=20, description=f"{LINK_QUERY}: its expiry")
        ] = None,
        caller: Annotated[
            str | None,
            Query(max_length=links.MAX_CALLER_CHARS, description=f"{LINK_QUERY}: its caller"),
        ] = None,
        sig: Annotated[
            str | None, Query(max_length=64, description=f"{LINK_QUERY}: its signature")
        ] = None,
    ) -> Access:
        if token or (expires is None and caller is None and sig is None):
            p = await get_principal(request, session, token)  # 401 without a valid token
            ensure(p, Permission.attachments_read)
            return Access(await service.get_visible(session, p, attachment_id), None)
        settings = request.app.state.settings
        link = await links.verify(
            session, settings, attachment_id, kind, expires=expires, caller=caller, sig=sig
        )
        request.state.principal_id = link.caller
        return Access(await service.get_by_id(session, attachment_id), link)

    dependency.is_public = True  # type: ignore[attr-defined]
    return dependency


def _download(
    request: Request,
    key: str,
    media_type: str,
    filename: str,
    sha256: str | None,
    link: links.Link | None,
) -> Response:
    """Never rendered as a page: the browser must not sniff another type (``nosniff``), anything
    rendered runs sandboxed (no scripts, a unique origin), and only images are shown inline;
    every other kind is a download. A file on local disk is served with `Range` (206, 416) and
    `If-Range`; a signed link may be cached privately for the rest of its lifetime."""
    disposition = "inline" if media_type in IMAGE_TYPES else "attachment"
    headers = {
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{_quote(filename)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Cache-Control": f"private, max-age={link.remaining()}" if link else "private",
    }
    if sha256:
        headers["ETag"] = f'"{sha256}"'
    storage = request.app.state.storage
    path = storage.local_path(key)
    if path is not None:
        return FileResponse(path, media_type=media_type, headers=headers)
    return StreamingResponse(storage.stream(key), media_type=media_type, headers=headers)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


DOWNLOAD_DOC = """Works with a bearer header (`attachments:read`, in scope; 404 `not_found`
outside it) or, without one, with the signed link from `download_url`/`thumbnail_url`, so an
`<img src>` needs no header (403 `invalid_link` if it does not verify for this file,
`link_expired` after its expiry or once its caller is deactivated); with neither, 401.
Images are sent inline, other files as downloads, with `X-Content-Type-Options: nosniff`,
`Content-Security-Policy: sandbox`, `Cache-Control: private` and the SHA-256 as `ETag`.
Supports `Range` and `If-Range` (206; 416 when unsatisfiable)."""
# the bearer is optional here: a signed link (query parameters) stands in for it
BEARER_OR_LINK: dict[str, Any] = {"security": [{}]}  # added to the bearer requirement
RANGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    206: {"description": "The requested byte range (`Range`)"},
    403: {
        "description": "A signed link that is invalid (`invalid_link`) or expired (`link_expired`)"
    },
    416: {"description": "The `Range` cannot be satisfied"},
}


@router.get(
    "/attachments/{attachment_id}/content",
    operation_id="download_attachment",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        **RANGE_RESPONSES,
    },
    description=f"The file itself. {DOWNLOAD_DOC}",
    openapi_extra=BEARER_OR_LINK,
    summary="Download an attachment",
)
async def download_attachment(
    request: Request, access: Annotated[Access, Depends(_reader("content"))]
) -> Response:
    a = access.attachment
    return _download(request, a.storage_key, a.content_type, a.filename, a.sha256, access.link)


@router.get(
    "/attachments/{attachment_id}/thumbnail",
    operation_id="download_attachment_thumbnail",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "A JPEG thumbnail (images only)"},
        **RANGE_RESPONSES,
    },
    description="A JPEG thumbnail of an image attachment (404 `not_found` for files without "
    f"one, such as PDFs: see `has_thumbnail`). {DOWNLOAD_DOC}",
    openapi_extra=BEARER_OR_LINK,
    summary="Download an attachment's thumbnail",
)
async def download_thumbnail(
    request: Request, access: Annotated[Access, Depends(_reader("thumbnail"))]
) -> Response:
    a = access.attachment
    if a.thumbnail_key is None:
        raise NotFound("该附件没有缩略图", "This attachment has no thumbnail")
    return _download(request, a.thumbnail_key, "image/jpeg", f"thumb-{a.id}.jpg", None, access.link)
