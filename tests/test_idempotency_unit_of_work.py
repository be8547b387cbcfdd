"""Idempotency-Key records commit with the request's own writes (issue 8, items 5 and 6): an
acknowledged POST never runs twice, and a POST that failed never blocks its key."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from app.api import idempotency
from app.models import Enterprise, IdempotencyRecord
from app.models.base import utcnow
from tests.conftest import World, credit
from tests.test_enterprises import ENTERPRISES, enterprise_payload


def keyed(world: World, key: str, actor: str = "admin") -> dict[str, str]:
    return world.h(actor, **{"Idempotency-Key": key})


async def enterprises_with_code(app, code: str) -> int:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        return (
            await s.execute(
                select(func.count()).select_from(Enterprise).where(Enterprise.credit_code == code)
            )
        ).scalar_one()


async def records(app, key: str) -> list[IdempotencyRecord]:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        return list(
            (await s.execute(select(IdempotencyRecord).where(IdempotencyRecord.key == key)))
            .scalars()
            .all()
        )


def failing_recorder(*args):  # type: ignore[no-untyped-def]
    """Stands in for ``idempotency._recorder``: the connection drops as the answer is recorded."""

    async def hook(session):  # type: ignore[no-untyped-def]
        raise ConnectionResetError("connection reset by peer")

    return hook


@pytest.fixture
def blip_when_recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The database drops the connection just as the answer is being recorded (before the
    commit): the old middleware had already sent the 201 at that point."""

    monkeypatch.setattr(idempotency, "_recorder", failing_recorder)
    yield


async def test_the_answer_is_recorded_before_the_response_is_sent(client, world, app) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        ENTERPRISES, json=enterprise_payload(world, 401), headers=keyed(world, "k-401")
    )
    assert r.status_code == 201
    [record] = await records(app, "k-401")
    assert record.status_code == 201  # never a pending row after an acknowledgement
    assert record.headers["location"] == r.headers["location"]


async def test_a_blip_while_recording_answers_503_and_writes_nothing(  # type: ignore[no-untyped-def]
    client, world, app, blip_when_recording
) -> None:
    r = await client.post(
        ENTERPRISES, json=enterprise_payload(world, 402), headers=keyed(world, "k-402")
    )
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "database_unavailable"
    assert int(r.headers["retry-after"]) > 0
    assert await enterprises_with_code(app, credit(402)) == 0
    assert await records(app, "k-402") == []


async def test_a_retry_after_a_failed_request_acts_at_once_and_only_once(  # type: ignore[no-untyped-def]
    client, world, app, monkeypatch
) -> None:
    body = enterprise_payload(world, 403)

    original = idempotency._recorder
    monkeypatch.setattr(idempotency, "_recorder", failing_recorder)
    assert (
        await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-403"))
    ).status_code == 503
    monkeypatch.setattr(idempotency, "_recorder", original)

    # Not 409 "in progress": the failed request left nothing behind.
    first = await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-403"))
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    again = await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-403"))
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert await enterprises_with_code(app, credit(403)) == 1


async def test_a_committed_request_is_replayed_however_late_the_retry(  # type: ignore[no-untyped-def]
    client, world, app
) -> None:
    """The old pending row went stale after 60 s and let a retry act again."""
    body = enterprise_payload(world, 404)
    first = await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-404"))
    assert first.status_code == 201
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "k-404")
            .values(created_at=utcnow() - timedelta(hours=23))
        )
        await s.commit()
    late = await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-404"))
    assert late.status_code == 201
    assert late.headers["idempotent-replayed"] == "true"
    assert await enterprises_with_code(app, credit(404)) == 1


async def test_an_unexpected_failure_frees_the_key_at_once(  # type: ignore[no-untyped-def]
    world, app, monkeypatch
) -> None:
    from app.services import enterprises as service

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=transport, base_url="http://test")

    original = service.create_enterprise

    async def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    monkeypatch.setattr(service, "create_enterprise", broken)
    body = enterprise_payload(world, 405)
    r = await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-405"))
    assert r.status_code == 500
    assert await records(app, "k-405") == []
    monkeypatch.setattr(service, "create_enterprise", original)
    r = await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-405"))
    assert r.status_code == 201 and "idempotent-replayed" not in r.headers


async def test_a_4xx_answer_is_not_kept_for_replay(client, world, app) -> None:  # type: ignore[no-untyped-def]
    body = enterprise_payload(world, 406, region_code="110101001001")
    r = await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-406"))
    assert 400 <= r.status_code < 500
    assert await records(app, "k-406") == []


def test_the_middleware_layer_no_longer_reaches_into_models_or_auth() -> None:
    import app.core.middleware as middleware

    source = Path(middleware.__file__).read_text(encoding="utf-8")
    assert "app.models" not in source and "app.auth" not in source


@given(
    body=st.binary(max_size=400),
    boundary=st.sampled_from([b"", b"xyz", b"----b0undary", b"aa"]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_the_body_hash_is_the_same_however_the_body_is_chunked(body, boundary, cuts) -> None:  # type: ignore[no-untyped-def]
    """The hash is computed while the body streams (never buffered), boundaries masked even when
    a chunk edge splits one; it equals the hash of the whole body with its boundaries masked."""
    from app.core.middleware import BodyHash

    content_type = f"multipart/form-data; boundary={boundary.decode()}" if boundary else "x"
    body = body.replace(b"\x00\x01", boundary)  # plant boundaries
    whole = BodyHash("POST", "/p", b"q=1", content_type)
    whole.feed(body, more=False)
    chunked = BodyHash("POST", "/p", b"q=1", content_type)
    edges = sorted({min(c, len(body)) for c in cuts})
    start = 0
    for edge in edges:
        chunked.feed(body[start:edge], more=True)
        start = edge
    chunked.feed(body[start:], more=False)
    assert chunked.done and chunked.hexdigest() == whole.hexdigest()
    if boundary:
        other = BodyHash("POST", "/p", b"q=1", "multipart/form-data; boundary=zz")
        other.feed(body.replace(boundary, b"zz"), more=False)
        assert other.hexdigest() == whole.hexdigest()  # a retry with a new boundary matches


async def test_a_row_left_pending_by_the_old_version_is_never_run_again(client, world, app) -> None:  # type: ignore[no-untyped-def]
    """The previous middleware left `status_code = 0` when it failed to record a request that had
    committed: such a key must not act a second time."""
    body = enterprise_payload(world, 407)
    first = await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-407"))
    assert first.status_code == 201
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.key == "k-407")
            .values(status_code=0, body="", headers={})
        )
        await s.commit()
    r = await client.post(ENTERPRISES, json=body, headers=keyed(world, "k-407"))
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_not_replayable"
    assert await enterprises_with_code(app, credit(407)) == 1


async def test_concurrent_uploads_with_one_key_store_one_attachment(client, world, app) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from app.models import Attachment
    from tests.hazard_helpers import png_bytes

    data = png_bytes("green", (320, 240))

    async def upload():  # type: ignore[no-untyped-def]
        return await client.post(
            "/api/v1/attachments",
            files={"file": ("p.png", data, "image/png")},
            headers=keyed(world, "k-upload", "ent_a1_staff"),
        )

    answers = await asyncio.gather(*(upload() for _ in range(5)))
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    async with app.state.sessionmaker() as s:
        rows = (await s.execute(select(func.count()).select_from(Attachment))).scalar_one()
    assert rows == 1
