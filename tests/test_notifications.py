"""The inbox: every reminder reaches each active user of its recipient as a notification; a
person reads only their own, marks them read one by one or all at once, and sees the unread
count on /me. Machine clients have no inbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.core.config import Settings
from app.services.jobs import run_jobs
from tests.conftest import PASSWORD, World
from tests.hazard_helpers import register

PAST = {"found_at": "2025-01-01T08:00:00+08:00", "deadline": "2025-02-01"}
NOTIFICATIONS = "/api/v1/notifications"
# Who an overdue hazard of ent_a1 reaches: the people of ent_a1, town A and bureau E.
REACHED_BY_A1 = {
    "town_a_manager",
    "town_a_officer",
    "town_a_inspector",
    "town_a_viewer",
    "bureau_e_manager",
    "bureau_e_officer",
    "ent_a1_manager",
    "ent_a1_staff",
}
NOT_REACHED = {
    "admin",
    "county_officer",
    "county_viewer",
    "town_b_officer",
    "bureau_c_officer",
    "ent_b1_manager",
}


async def ok(response, status: int = 200) -> Any:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    return response.json()


async def page(client, world: World, actor: str, query: str = "", **headers: str) -> Any:  # type: ignore[no-untyped-def]
    return await ok(await client.get(f"{NOTIFICATIONS}?{query}", headers=world.h(actor, **headers)))


async def unread(client, world: World, actor: str) -> int | None:  # type: ignore[no-untyped-def]
    return (await ok(await client.get("/api/v1/me", headers=world.h(actor))))["unread_count"]


async def overdue_world(app, client, world: World, settings: Settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    h = await register(client, world, "town_a_officer", "ent_a1", title="配电箱门锁损坏", **PAST)
    await run_jobs(app.state.sessionmaker, settings, "t-notify")
    return h


async def test_every_user_of_a_recipient_gets_one_and_nobody_else(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    h = await overdue_world(app, client, world, settings)
    for actor in REACHED_BY_A1:
        [n] = (await page(client, world, actor))["items"]
        assert n["kind"] == "hazard_overdue"
        assert n["title"] == f"隐患逾期提醒：{h['number']}"
        assert n["body"].startswith(f"隐患 {h['number']}《配电箱门锁损坏》已逾期")
        assert (n["link"], n["object_type"], n["object_id"]) == (
            f"/api/v1/hazards/{h['id']}",
            "hazard",
            h["id"],
        )
        assert n["read_at"] is None and n["created_at"]
        assert await unread(client, world, actor) == 1, actor
    for actor in NOT_REACHED:
        assert (await page(client, world, actor))["items"] == [], actor
        assert await unread(client, world, actor) == 0, actor
    # the link is readable by whoever got it
    for actor in REACHED_BY_A1:
        r = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h(actor))
        assert r.status_code == 200, actor


async def test_deactivated_users_get_none_and_later_users_only_new_ones(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    await ok(
        await client.patch(
            f"/api/v1/users/{world['ent_a1_staff']}",
            json={"is_active": False},
            headers=world.h("admin"),
        )
    )
    await overdue_world(app, client, world, settings)
    await ok(
        await client.patch(
            f"/api/v1/users/{world['ent_a1_staff']}",
            json={"is_active": True},
            headers=world.h("admin"),
        )
    )
    made = await client.post(
        "/api/v1/users",
        json={
            "username": "town_a_newcomer",
            "password": PASSWORD,
            "display_name": "新同事",
            "role": "officer",
            "org_unit_id": world["town_a"],
        },
        headers=world.h("admin"),
    )
    newcomer_id = (await ok(made, 201))["id"]
    token = await ok(
        await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": "town_a_newcomer", "password": PASSWORD},
        )
    )
    world.tokens["newcomer"] = token["access_token"]
    world.ids["newcomer"] = newcomer_id
    # the staff member was inactive when it was written; the newcomer was not there yet
    world.tokens["ent_a1_staff"] = (
        await ok(
            await client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": "ent_a1_staff", "password": PASSWORD},
            )
        )
    )["access_token"]
    assert (await page(client, world, "ent_a1_staff"))["items"] == []
    assert (await page(client, world, "newcomer"))["items"] == []
    assert len((await page(client, world, "ent_a1_manager"))["items"]) == 1
    # the next day's reminder reaches both
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    await run_jobs(app.state.sessionmaker, settings, "t-notify-2", now=tomorrow)
    assert len((await page(client, world, "ent_a1_staff"))["items"]) == 1
    assert len((await page(client, world, "newcomer"))["items"]) == 1
    assert len((await page(client, world, "ent_a1_manager"))["items"]) == 2


async def test_read_state_is_per_user_and_reading_twice_keeps_the_first_time(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    await overdue_world(app, client, world, settings)
    [mine] = (await page(client, world, "town_a_officer"))["items"]
    [theirs] = (await page(client, world, "town_a_manager"))["items"]
    assert mine["id"] != theirs["id"]  # one row per person, not per unit
    url = f"{NOTIFICATIONS}/{mine['id']}/read"
    first = await ok(await client.post(url, headers=world.h("town_a_officer")))
    assert first["id"] == mine["id"] and first["read_at"] is not None
    again = await ok(await client.post(url, headers=world.h("town_a_officer")))
    assert again["read_at"] == first["read_at"]
    assert await unread(client, world, "town_a_officer") == 0
    # the manager's copy of the same message is still unread
    assert await unread(client, world, "town_a_manager") == 1
    [still] = (await page(client, world, "town_a_manager"))["items"]
    assert still["read_at"] is None
    # the unread filter
    assert (await page(client, world, "town_a_officer", "unread=true"))["items"] == []
    [read] = (await page(client, world, "town_a_officer", "unread=false"))["items"]
    assert read["read_at"] == first["read_at"]
    assert [
        n["id"] for n in (await page(client, world, "town_a_manager", "unread=true"))["items"]
    ] == [theirs["id"]]


async def test_another_persons_notification_is_404_like_a_missing_one(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    await overdue_world(app, client, world, settings)
    [theirs] = (await page(client, world, "town_a_manager"))["items"]
    for actor in ("town_a_officer", "admin", "bureau_e_manager", "ent_a1_staff", "ent_b1_manager"):
        hidden = await client.post(f"{NOTIFICATIONS}/{theirs['id']}/read", headers=world.h(actor))
        missing = await client.post(
            f"{NOTIFICATIONS}/0000000000000000000000000000dead/read", headers=world.h(actor)
        )
        assert hidden.status_code == missing.status_code == 404, actor
        strip = lambda j: {k: v for k, v in j.items() if k != "instance"}  # noqa: E731
        assert strip(hidden.json()) == strip(missing.json())
        assert hidden.json()["code"] == "not_found"
    assert await unread(client, world, "town_a_manager") == 1  # nobody else marked it


async def test_read_all_marks_only_the_callers_own(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    await overdue_world(app, client, world, settings)
    await run_jobs(
        app.state.sessionmaker, settings, "t-2", now=datetime.now(UTC) + timedelta(days=1)
    )
    assert await unread(client, world, "bureau_e_officer") == 2
    r = await client.post(f"{NOTIFICATIONS}/read-all", headers=world.h("bureau_e_officer"))
    assert await ok(r) == {"marked_read": 2}
    r = await client.post(f"{NOTIFICATIONS}/read-all", headers=world.h("bureau_e_officer"))
    assert await ok(r) == {"marked_read": 0}
    assert await unread(client, world, "bureau_e_officer") == 0
    assert await unread(client, world, "bureau_e_manager") == 2
    items = (await page(client, world, "bureau_e_officer"))["items"]
    assert all(n["read_at"] for n in items) and len(items) == 2


async def test_the_inbox_pages_newest_first_and_filters_by_kind(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    await register(client, world, "town_a_officer", "ent_a1", **PAST)
    await register(client, world, "town_a_officer", "ent_a1", **PAST)
    await register(client, world, "town_a_officer", "ent_a1", deadline="2099-03-10")
    now = datetime.now(UTC)
    for day in range(3):
        await run_jobs(app.state.sessionmaker, settings, f"t-{day}", now=now + timedelta(days=day))
    await run_jobs(
        app.state.sessionmaker, settings, "t-warn", now=datetime(2099, 3, 3, 2, 0, tzinfo=UTC)
    )
    everything = await page(client, world, "ent_a1_staff", "limit=500&include_total=true")
    assert everything["total"] == len(everything["items"]) == 2 * 3 + 2 + 1
    created = [n["created_at"] for n in everything["items"]]
    assert created == sorted(created, reverse=True)
    # walking the pages gives the same list, each once
    seen, cursor = [], None
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = await page(client, world, "ent_a1_staff", query)
        seen += [n["id"] for n in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [n["id"] for n in everything["items"]]
    oldest = await page(client, world, "ent_a1_staff", "sort=created_at&limit=1")
    assert oldest["items"][0]["id"] == everything["items"][-1]["id"]
    warned = await page(client, world, "ent_a1_staff", "kind=hazard_deadline_warning")
    assert [n["kind"] for n in warned["items"]] == ["hazard_deadline_warning"]
    both = await page(client, world, "ent_a1_staff", "kind=hazard_overdue,hazard_deadline_warning")
    assert len(both["items"]) == 9


async def test_english_titles_and_bodies_are_rendered_from_the_template(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    h = await overdue_world(app, client, world, settings)
    [zh] = (await page(client, world, "ent_a1_manager"))["items"]
    days = zh["body"].split("已逾期 ")[1].split(" 天")[0]
    [en] = (await page(client, world, "ent_a1_manager", **{"Accept-Language": "en"}))["items"]
    assert en["title"] == f"Overdue: hazard {h['number']}"
    assert en["body"] == (
        f'Hazard {h["number"]} "配电箱门锁损坏" is {days} days overdue (deadline 2025-02-01); '
        "please see that it is rectified."
    )
    r = await client.post(
        f"{NOTIFICATIONS}/{zh['id']}/read",
        headers=world.h("ent_a1_manager", **{"Accept-Language": "en"}),
    )
    assert (await ok(r))["title"] == en["title"]


async def test_machine_clients_have_no_inbox(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for method, url in (
        ("GET", NOTIFICATIONS),
        ("POST", f"{NOTIFICATIONS}/read-all"),
        ("POST", f"{NOTIFICATIONS}/0000000000000000000000000000dead/read"),
    ):
        r = await client.request(method, url, headers=world.h("machine"))
        assert r.status_code == 403, (method, url)
        assert r.json()["code"] == "not_a_person"
    me = await ok(await client.get("/api/v1/me", headers=world.h("machine")))
    assert me["unread_count"] is None
    assert "notifications:read" not in me["permissions"]


async def test_the_inbox_needs_a_token_and_valid_parameters(client, world: World) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get(NOTIFICATIONS)).status_code == 401
    assert (await client.post(f"{NOTIFICATIONS}/read-all")).status_code == 401
    h = world.h("town_a_officer")
    for query, field in (
        ("unread=maybe", "unread"),
        ("kind=nope", "kind"),
        ("unreed=true", "unreed"),
        ("limit=501", "limit"),
        ("cursor=garbage", "cursor"),
        ("unread=true&unread=false", "unread"),
    ):
        r = await client.get(f"{NOTIFICATIONS}?{query}", headers=h)
        assert r.status_code == 422, query
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], (query, r.json())
    r = await client.post(f"{NOTIFICATIONS}/read-all?all=1", headers=h)
    assert r.status_code == 422 and r.json()["code"] == "unknown_parameter"
    r = await client.post(f"{NOTIFICATIONS}/{'x' * 65}/read", headers=h)
    assert r.status_code == 422
    me = await ok(await client.get("/api/v1/me", headers=h))
    assert me["unread_count"] == 0 and "notifications:read" in me["permissions"]


async def test_marking_read_with_an_idempotency_key_replays(  # type: ignore[no-untyped-def]
    app, client, world: World, settings: Settings
) -> None:
    await overdue_world(app, client, world, settings)
    [n] = (await page(client, world, "town_a_viewer"))["items"]
    h = world.h("town_a_viewer", **{"Idempotency-Key": "read-1"})
    first = await client.post(f"{NOTIFICATIONS}/{n['id']}/read", headers=h)
    second = await client.post(f"{NOTIFICATIONS}/{n['id']}/read", headers=h)
    assert first.status_code == second.status_code == 200
    assert second.headers.get("idempotent-replayed") == "true"
    assert first.json() == second.json()
