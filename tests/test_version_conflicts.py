"""A lost race on the optimistic lock is 409 `conflict` with the current ETag, never a 500
(issue 8, item 8), on every resource with a version."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from app.models import Enterprise, OrgUnit, User
from tests.conftest import World
from tests.hazard_helpers import register

ENTERPRISES = "/api/v1/enterprises"


@pytest.fixture
def concurrent_writer(app) -> Iterator[list]:  # type: ignore[no-untyped-def]
    """Bumps the version of the row about to be flushed, on another connection, just before
    the request's own UPDATE: exactly what a second writer committing first looks like."""
    targets: list = []  # (model, id)
    engine = app.state.engine

    def bump(session: Session, flush_context, instances) -> None:  # type: ignore[no-untyped-def]
        if not targets:
            return
        model, row_id = targets.pop()

        sync_engine = engine.sync_engine
        with sync_engine.begin() as conn:
            conn.execute(update(model).where(model.id == row_id).values(version=model.version + 1))

    event.listen(Session, "before_flush", bump)
    yield targets
    event.remove(Session, "before_flush", bump)


async def test_a_patch_that_lost_the_race_is_409_with_the_current_etag(  # type: ignore[no-untyped-def]
    client, world: World, concurrent_writer
) -> None:
    url = f"{ENTERPRISES}/{world['ent_a1']}"
    before = await client.get(url, headers=world.h("admin"))
    assert before.headers["etag"] == '"v1"'
    concurrent_writer.append((Enterprise, world["ent_a1"]))
    r = await client.patch(url, json={"address": "新地址 1 号"}, headers=world.h("admin"))
    assert r.status_code == 409
    assert r.json()["code"] == "conflict"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["etag"] == '"v2"'
    # Retrying with the tag it was given succeeds.
    retry = await client.patch(
        url, json={"address": "新地址 1 号"}, headers=world.h("admin", **{"If-Match": '"v2"'})
    )
    assert retry.status_code == 200
    assert retry.json()["address"] == "新地址 1 号"


@pytest.mark.parametrize(
    ("model", "key", "path", "body"),
    [
        (User, "town_a_officer", "/api/v1/users/{id}", {"phone": "13900000009"}),
        (OrgUnit, "town_a", "/api/v1/org-units/{id}", {"name": "埇桥街道办事处"}),
    ],
)
async def test_every_versioned_resource_answers_409_on_a_lost_race(  # type: ignore[no-untyped-def]
    client, world: World, concurrent_writer, model, key, path, body
) -> None:
    concurrent_writer.append((model, world[key]))
    r = await client.patch(path.format(id=world[key]), json=body, headers=world.h("admin"))
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "conflict"
    assert r.headers["etag"] == '"v2"'


async def test_a_transition_that_lost_the_race_is_409(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    from app.models import Hazard

    hazard = await register(client, world, "town_a_officer", "ent_a1")
    bumped = False

    def bump(session: Session, flush_context, instances) -> None:  # type: ignore[no-untyped-def]
        nonlocal bumped
        if bumped:
            return
        bumped = True
        with app.state.engine.sync_engine.begin() as conn:
            conn.execute(
                update(Hazard).where(Hazard.id == hazard["id"]).values(version=Hazard.version + 1)
            )

    event.listen(Session, "before_flush", bump)
    try:
        r = await client.post(
            f"/api/v1/hazards/{hazard['id']}/transitions",
            json={"action": "void", "reason": "登记错误"},
            headers=world.h("town_a_officer"),
        )
    finally:
        event.remove(Session, "before_flush", bump)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "conflict"
    assert r.headers["etag"].startswith('"v')


async def test_concurrent_patches_without_if_match_never_answer_500(client, world: World) -> None:  # type: ignore[no-untyped-def]
    url = f"{ENTERPRISES}/{world['ent_a2']}"
    answers = await asyncio.gather(
        *(
            client.patch(url, json={"address": f"并发路 {n} 号"}, headers=world.h("admin"))
            for n in range(8)
        )
    )
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {200, 409}, statuses
    assert 200 in statuses
    for r in answers:
        if r.status_code == 409:
            assert r.json()["code"] == "conflict" and r.headers["etag"]


async def test_a_lost_race_under_if_match_is_412_with_the_current_etag(  # type: ignore[no-untyped-def]
    client, world: World, concurrent_writer
) -> None:
    """Both writers sent the tag they read; the loser's tag is now stale: 412, as API.md says."""
    url = f"{ENTERPRISES}/{world['ent_a1']}"
    concurrent_writer.append((Enterprise, world["ent_a1"]))
    r = await client.patch(
        url, json={"address": "新地址 2 号"}, headers=world.h("admin", **{"If-Match": '"v1"'})
    )
    assert r.status_code == 412
    assert r.json()["code"] == "precondition_failed"
    assert r.headers["etag"] == '"v2"'
