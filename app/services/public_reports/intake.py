"""A report from anyone (no sign-in): where it goes (routing), its number and tracking code, the
reporter's identity sealed, the photos checked by content, the ``receive`` event.

Routing, decided once on intake and kept as route rows (the scope of a town or a bureau is the
reports routed to it, app/auth/scope.py):

- the county: of the region code given, else of the matched enterprise, else the deployment's
  only county (with several counties and nothing to tell them apart the report needs a
  ``region_code``: 422 ``region_required``);
- the town: the one whose code the region code given starts with, else the matched enterprise's
  town, else the county office (towns have no boundaries to test a point against);
- the bureaus: of the matched enterprise's sector, and its daily-enforcement department.

The enterprise is matched by credit code, else by its exact name when one enterprise of the
county has it; with a region code given, only inside that county.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.clock import local_today
from app.core.config import Settings
from app.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from app.core.ids import new_id
from app.core.sealing import reporter_keyring
from app.core.storage import Storage
from app.models import Enterprise, OrgUnit, PublicReport, PublicReportEvent, PublicReportRoute
from app.models.base import utcnow
from app.models.public_reports import PublicReportCounter
from app.schemas.public_reports import PublicReportCreate
from app.services import attachments, photo_metadata
from app.services.attachment_content import IMAGE_TYPES, inspect
from app.services.lifecycle import event_fields
from app.services.numbering import next_number
from app.services.public_reports import tracking

MAX_PHOTOS = 5
# Whoever sent a report: the uploader of its photos (never a person of the service).
PUBLIC = Principal(kind="public", id="report", name="公众", role=None, permissions=frozenset())


@dataclass(slots=True)
class Routing:
    county_code: str
    town_code: str | None = None
    enterprise: Any = None
    routes: dict[str, str] = field(default_factory=dict)  # unit id -> reason


async def _match_enterprise(
    session: AsyncSession, body: PublicReportCreate, county_code: str | None
) -> Any:
    cols = (
        Enterprise.id,
        Enterprise.name,
        Enterprise.region_code,
        Enterprise.sector,
        Enterprise.enforcement_department_id,
    )
    in_county = [Enterprise.region_code.like(county_code + "%")] if county_code is not None else []
    if body.credit_code:
        found = (
            await session.execute(
                select(*cols).where(Enterprise.credit_code == body.credit_code, *in_county)
            )
        ).first()
        if found is not None:
            return found
    if body.enterprise_name:
        named = (
            await session.execute(
                select(*cols)
                .where(Enterprise.name == body.enterprise_name.strip(), *in_county)
                .limit(2)
            )
        ).all()
        if len(named) == 1:
            return named[0]
    return None


async def route(session: AsyncSession, body: PublicReportCreate) -> Routing:
    county_code = body.region_code[:6] if body.region_code else None
    if county_code is not None:
        known = (
            await session.execute(
                select(OrgUnit.id).where(
                    OrgUnit.kind == "county", OrgUnit.county_code == county_code
                )
            )
        ).first()
        if known is None:
            raise ValidationFailed.field(
                "region_code",
                "该行政区划不在本平台受理范围内",
                "No county of this service has this region code",
                code="unknown_region",
            )
    ent = await _match_enterprise(session, body, county_code)
    if county_code is None and ent is not None:
        county_code = ent.region_code[:6]
    if county_code is None:
        counties = (
            await session.execute(
                select(OrgUnit.county_code).where(OrgUnit.kind == "county").limit(2)
            )
        ).all()
        if len(counties) != 1:
            raise ValidationFailed.field(
                "region_code",
                "请填写所在行政区划代码（县、镇或村）",
                "Give the region_code (county, town or village) where it is",
                code="region_required",
            )
        county_code = counties[0].county_code
    units = (
        await session.execute(
            select(OrgUnit.id, OrgUnit.kind, OrgUnit.region_code, OrgUnit.sectors).where(
                OrgUnit.county_code == county_code
            )
        )
    ).all()
    routing = Routing(county_code=county_code, enterprise=ent)
    towns = {u.region_code: u.id for u in units if u.kind == "town" and u.region_code}
    given_town = body.region_code[:9] if body.region_code and len(body.region_code) >= 9 else None
    if given_town in towns:
        routing.town_code = given_town
        routing.routes[towns[given_town]] = "region"
    elif ent is not None and ent.region_code[:9] in towns:
        routing.town_code = ent.region_code[:9]
        routing.routes[towns[ent.region_code[:9]]] = "enterprise_town"
    else:
        routing.town_code = given_town
        county_unit = next((u.id for u in units if u.kind == "county"), None)
        if county_unit is not None:
            routing.routes[county_unit] = "county"
    if ent is not None:
        for u in units:
            if u.kind == "bureau" and ent.sector in (u.sectors or ()):
                routing.routes.setdefault(u.id, "sector")
        if ent.enforcement_department_id:
            routing.routes.setdefault(ent.enforcement_department_id, "department")
    return routing


def seal_reporter(settings: Settings, report_id: str, name: str, phone: str) -> tuple[str, str]:
    """The reporter's identity sealed for this report (key id, sealed text)."""
    plain = json.dumps({"name": name, "phone": phone}, ensure_ascii=False).encode()
    sealed = reporter_keyring(settings).seal(plain, report_id)
    return sealed.key_id, sealed.ciphertext


async def submit(
    session: AsyncSession,
    settings: Settings,
    storage: Storage | None,
    body: PublicReportCreate,
    photos: list[tuple[str | None, bytes]],
    limiter: anyio.CapacityLimiter | None,
) -> tuple[PublicReport, str]:
    """Writes the report and answers it with its tracking code (never stored in clear)."""
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed.field(
            "photos",
            f"最多上传 {MAX_PHOTOS} 张照片",
            f"At most {MAX_PHOTOS} photos",
            code="too_many_photos",
        )
    routing = await route(session, body)
    now = utcnow()
    report_id = new_id()
    code = tracking.new_code()
    anonymous = body.reporter is None
    key_id = sealed = None
    if body.reporter is not None:
        key_id, sealed = seal_reporter(
            settings, report_id, body.reporter.name.strip(), body.reporter.phone
        )
    ent = routing.enterprise
    report = PublicReport(
        id=report_id,
        number=await next_number(
            session,
            routing.county_code,
            local_today(settings.timezone).year,
            counter=PublicReportCounter,
            prefix="R",
        ),
        county_code=routing.county_code,
        tracking_hash=tracking.digest(code),
        description=body.description,
        location_text=body.location_text,
        lat=body.location.lat if body.location else None,
        lng=body.location.lng if body.location else None,
        region_code=body.region_code,
        town_code=routing.town_code,
        enterprise_name=body.enterprise_name,
        credit_code=body.credit_code,
        sector=ent.sector if ent is not None else None,
        enterprise_id=ent.id if ent is not None else None,
        anonymous=anonymous,
        reporter_sealed=sealed,
        reporter_key_id=key_id,
        status="received",
        received_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(report)
    await session.flush()
    for unit_id, reason in routing.routes.items():
        session.add(
            PublicReportRoute(report_id=report_id, unit_id=unit_id, reason=reason, created_at=now)
        )
    photo_ids: list[str] = []
    for filename, data in photos:
        assert storage is not None and limiter is not None, "photos need a storage"
        if len(data) > settings.public_report_photo_max_bytes:
            raise PayloadTooLarge(
                "照片超过大小上限",
                f"A photo exceeds {settings.public_report_photo_max_bytes} bytes",
            )
        # Judged by content first (bombs and polyglots refused from the header), then its
        # metadata taken out (the owner's name, the device, GPS: 保密) before it is stored.
        checked = await anyio.to_thread.run_sync(
            inspect, data, settings.attachment_max_pixels, limiter=limiter
        )
        if checked.mime not in IMAGE_TYPES:
            raise UnsupportedMediaType(
                "举报照片须为 JPEG、PNG 或 WebP 图片",
                "A report's photos must be JPEG, PNG or WebP images",
            )
        clean = await anyio.to_thread.run_sync(
            photo_metadata.strip, data, checked.mime, limiter=limiter
        )
        stored = await attachments.store_upload(
            session,
            storage,
            PUBLIC,
            filename=filename,
            data=clean,
            max_bytes=settings.public_report_photo_max_bytes,
            max_pixels=settings.attachment_max_pixels,
            thumbnail_limiter=limiter,
        )
        stored.public_report_id = report_id
        photo_ids.append(stored.id)
    session.add(
        PublicReportEvent(
            report_id=report_id,
            **{
                **event_fields(
                    None,
                    "receive",
                    None,
                    "received",
                    at=now,
                    details={"routed_to": sorted(routing.routes)},
                    attachment_ids=photo_ids,
                ),
                "actor_kind": "public",  # whoever sent it: nothing of them is kept here
            },
        )
    )
    await session.flush()
    return report, code
