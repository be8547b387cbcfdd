"""Shared steps for hazard tests: register, upload evidence, act."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PIL import Image

from app.core.config import Settings
from tests.conftest import World


def png_bytes(color: str = "red", size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


async def upload(
    client, world: World, actor: str, data: bytes | None = None, name: str = "photo.png"
) -> str:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/attachments",
        files={"file": (name, data or png_bytes(), "image/png")},
        headers=world.h(actor),
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


JUDGMENT = {
    "standard": "industry_trade",
    "clause": "11.3",
    "text": "粉尘爆炸危险场所未按规定设置泄爆装置",
}
MAJOR_PLAN = {
    "responsible_person": "张主任",
    "measures": "停用设备，加装泄爆装置",
    "funds_yuan": 52000.5,
    "deadline": "2099-01-31",
    "contingency_plan": "粉尘爆炸专项应急预案",
    "interim_measures": "设置警戒区，停止相关作业",
    "equipment_out_of_service": True,
}
GENERAL_PLAN = {"responsible_person": "李工", "measures": "更换破损护栏", "deadline": "2099-01-31"}


async def register(  # type: ignore[no-untyped-def]
    client, world: World, actor: str = "town_a_officer", enterprise: str = "ent_a1", **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "enterprise_id": world[enterprise],
        "title": "车间防护栏破损",
        "level": "general",
        "source": "inspection",
        "category": "unsafe_condition",
        "deadline": "2099-12-31",
    }
    if actor.startswith("ent_"):
        body["source"] = "self_inspection"
        del body["deadline"]  # enterprise deadlines are bounded: the default (30 days)
    else:
        body["deadline_reason"] = "整改工程量大，需较长期限"  # government beyond the bound says why
    body.update(fields)
    if body.get("deadline_reason", "") is None:  # deadline_reason=None: send none
        del body["deadline_reason"]
    if body.get("level") == "major" and "judgment" not in fields:
        body["judgment"] = JUDGMENT
    r = await client.post("/api/v1/hazards", json=body, headers=world.h(actor))
    assert r.status_code == 201, r.text
    return r.json()


async def act(client, world: World, actor: str, hazard_id: str, action: str, **payload: Any):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/hazards/{hazard_id}/transitions",
        json={"action": action, **payload},
        headers=world.h(actor),
    )


@contextmanager
def enterprise_bounds_lifted(settings: Settings) -> Iterator[None]:
    """For a data set dated in the past: while it is registered, enterprise users may register
    old findings with far deadlines (the bounds themselves are tested in test_deadline_bounds)."""
    names = (
        "enterprise_found_at_max_age_days",
        "enterprise_deadline_max_days_general",
        "enterprise_deadline_max_days_major",
    )
    saved = {name: getattr(settings, name) for name in names}
    try:
        for name in names:
            setattr(settings, name, 3650 * 10)
        yield
    finally:
        for name, value in saved.items():
            setattr(settings, name, value)
