"""Public reports (群众举报, 12350) through HTTP: an anonymous round trip by tracking code,
routing by region, enterprise and sector, the lifecycle with substantiation into exactly one
hazard, rewards, the scope of each role, and the figures."""

from __future__ import annotations

import asyncio
import math
import re
from collections import Counter

from sqlalchemy import func, select

from app.models import Hazard, PublicReport
from app.services.public_reports import tracking
from tests.conftest import World, credit
from tests.hazard_helpers import act as hazard_act
from tests.hazard_helpers import png_bytes
from tests.report_helpers import (
    HAZARD,
    NAME,
    PHONE,
    PUBLIC,
    REPORTS,
    act,
    add_person,
    newest,
    stranger,
    submit,
)
from tests.statements import statements

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


async def test_anonymous_round_trip_by_tracking_code(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    async with stranger(app) as c:
        r = await c.post(
            PUBLIC,
            json={
                "description": "厂区东侧危化品仓库门口堆放大量纸箱，消防通道被堵塞",
                "location_text": "符离镇工业园东路",
                "location": {"lat": 33.72, "lng": 116.98},
                "region_code": "341302100",
            },
        )
        assert r.status_code == 201, r.text
        assert set(r.json()) == {"tracking_code"}  # nothing else of the record
        code = r.json()["tracking_code"]
        assert CODE.match(code)
        assert r.headers["location"] == f"{PUBLIC}/{code}"
        seen = await c.get(f"{PUBLIC}/{code}")
        assert seen.status_code == 200, seen.text
        body = seen.json()
        assert set(body) == {
            "status",
            "status_label",
            "received_at",
            "updated_at",
            "closed_at",
            "public_outcome",
        }
        assert body["status"] == "received" and body["status_label"] == "已受理"
        # read back by phone: lower case, no hyphens, O for 0 and I or L for 1
        spoken = code.replace("-", "").lower().replace("0", "o").replace("1", "l")
        assert (await c.get(f"{PUBLIC}/{spoken}")).status_code == 200
    report = await newest(client, world)
    assert report["anonymous"] is True and report["status"] == "received"
    assert report["routed_to"] == [{"id": world["town_b"], "name": "符离镇"}]
    assert report["number"].startswith("R20")
    # the county walks it to its end; the citizen sees the outcome text only once closed
    rid = report["id"]
    assert (await act(client, world, "county_officer", rid, "investigate")).status_code == 200
    r = await act(
        client, world, "county_officer", rid, "unsubstantiate", reason="现场核查未发现问题"
    )
    assert r.status_code == 200, r.text
    async with stranger(app) as c:
        assert (await c.get(f"{PUBLIC}/{code}")).json()["public_outcome"] is None
    outcome = "经现场核查，未发现举报所述问题。感谢您的监督。"
    r = await act(client, world, "county_officer", rid, "close", public_outcome=outcome)
    assert r.status_code == 200, r.text
    async with stranger(app) as c:
        body = (await c.get(f"{PUBLIC}/{code}", headers={"Accept-Language": "en"})).json()
    assert body["status"] == "closed" and body["status_label"] == "Closed"
    assert body["public_outcome"] == outcome and body["closed_at"] is not None


async def test_tracking_codes_are_random_80_bits_and_unknown_ones_are_404(
    app, client, world
) -> None:  # type: ignore[no-untyped-def]
    codes = [tracking.new_code() for _ in range(2000)]
    assert len(set(codes)) == len(codes)
    assert all(CODE.match(c) for c in codes)
    chars = Counter("".join(c.replace("-", "") for c in codes))
    assert len(chars) == 32  # every symbol of the alphabet is used
    assert 16 * math.log2(32) >= 80
    known = await submit(app)
    async with stranger(app) as c:
        for code in (
            tracking.new_code(),
            "0000-0000-0000-0000",
            "abc",
            "%00",
            "U" * 16,
            "x" * 64,
            "7" * 300,
        ):
            r = await c.get(f"{PUBLIC}/{code}")
            assert r.status_code == 404, (code, r.text)
            assert r.json()["code"] == "not_found"
        assert (await c.get(f"{PUBLIC}/{known}")).status_code == 200
    # the table holds the code's digest only
    async with app.state.sessionmaker() as s:
        stored = (await s.execute(select(PublicReport.tracking_hash))).scalars().all()
    assert stored == [tracking.digest(known)]
    assert known.replace("-", "") not in stored[0]


async def test_lookups_are_throttled_per_address(app, world) -> None:  # type: ignore[no-untyped-def]
    app.state.settings.public_report_lookups_per_minute = 5
    try:
        async with stranger(app) as c:
            answers = [
                (await c.get(f"{PUBLIC}/{tracking.new_code()}")).status_code for _ in range(8)
            ]
            assert answers[:5] == [404] * 5
            assert set(answers[5:]) == {429}
            r = await c.get(f"{PUBLIC}/{tracking.new_code()}")
            assert r.json()["code"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
        async with stranger(app) as other:  # another address is not held back
            assert (await other.get(f"{PUBLIC}/{tracking.new_code()}")).status_code == 404
    finally:
        app.state.settings.public_report_lookups_per_minute = 20


async def test_submissions_are_limited_per_address(app, world) -> None:  # type: ignore[no-untyped-def]
    body = {"description": "工地塔吊无证操作，作业人员未系安全带"}
    async with stranger(app, "10.99.0.1") as c:
        answers = [(await c.post(PUBLIC, json=body)).status_code for _ in range(7)]
    assert answers == [201] * 5 + [429] * 2
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count(PublicReport.id))) == 5


async def test_a_retried_submission_creates_one_report(app, world) -> None:  # type: ignore[no-untyped-def]
    body = {
        "description": "夜间偷排废液，气味刺鼻",
        "anonymous": False,
        "reporter": {"name": NAME, "phone": PHONE},
    }
    async with stranger(app, "10.99.0.2") as c:
        first = await c.post(PUBLIC, json=body, headers={"Idempotency-Key": "k-1"})
        again = await c.post(PUBLIC, json=body, headers={"Idempotency-Key": "k-1"})
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json() and again.headers.get("idempotent-replayed") == "true"
        changed = await c.post(
            PUBLIC,
            json={**body, "description": "白天也在偷排废液，气味刺鼻"},
            headers={"Idempotency-Key": "k-1"},
        )
        assert changed.status_code == 422 and changed.json()["code"] == "idempotency_key_reused"
    # the same key from another address is another submission
    async with stranger(app, "10.99.0.3") as c:
        other = await c.post(PUBLIC, json=body, headers={"Idempotency-Key": "k-1"})
        assert other.status_code == 201 and other.json() != first.json()
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count(PublicReport.id))) == 2


async def test_concurrent_retries_with_one_key_create_one_report(app, world) -> None:  # type: ignore[no-untyped-def]
    body = {"description": "矿区夜间违规爆破作业，无人警戒"}
    async with stranger(app, "10.99.0.4") as c:
        answers = await asyncio.gather(
            *(c.post(PUBLIC, json=body, headers={"Idempotency-Key": "same"}) for _ in range(4))
        )
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["tracking_code"] for a in answers}) == 1
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count(PublicReport.id))) == 1


async def test_routing_by_region_enterprise_and_sector(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    # a village code of town A: the town
    await submit(app, region_code="341302001005")
    assert (await newest(client, world))["routed_to"] == [
        {"id": world["town_a"], "name": "埇桥街道"}
    ]
    # the enterprise by credit code: its town, the bureaus of its sector and its department
    await submit(app, credit_code=credit(3))
    r = await newest(client, world)
    assert r["enterprise"] == {"id": world["ent_b1"], "name": "符离化工有限公司"}
    assert {x["unit"]["id"]: x["reason"] for x in r["routes"]} == {
        world["town_b"]: "enterprise_town",
        world["bureau_e"]: "sector",
    }
    # a credit code read back in lower case is the same code
    await submit(app, credit_code=credit(3).lower())
    assert (await newest(client, world))["enterprise"]["id"] == world["ent_b1"]
    # by exact name; road transport has no bureau by sector, bureau C by designation
    await submit(app, enterprise_name="符离运输有限公司")
    r = await newest(client, world)
    assert {x["unit"]["id"]: x["reason"] for x in r["routes"]} == {
        world["town_b"]: "enterprise_town",
        world["bureau_c"]: "department",
    }
    # the region given wins over the enterprise's town
    await submit(app, region_code="341302001", credit_code=credit(3))
    r = await newest(client, world)
    assert {x["unit"]["id"]: x["reason"] for x in r["routes"]} == {
        world["town_a"]: "region",
        world["bureau_e"]: "sector",
    }
    # nothing known: the county office
    await submit(app, enterprise_name="无名小作坊")
    r = await newest(client, world)
    assert r["enterprise"] is None and r["enterprise_name"] == "无名小作坊"
    assert [(x["unit"]["id"], x["reason"]) for x in r["routes"]] == [(world["county"], "county")]
    async with stranger(app) as c:
        bad = await c.post(
            PUBLIC, json={"description": "某处有安全隐患需要处理", "region_code": "110101"}
        )
        assert bad.status_code == 422 and bad.json()["code"] == "unknown_region"


async def test_scope_of_reports_by_role(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await submit(app, region_code="341302001")  # town A only
    await submit(app, credit_code=credit(3))  # town B and bureau E
    sees = {}
    for actor in world.tokens:
        r = await client.get(REPORTS, headers=world.h(actor))
        sees[actor] = r.status_code if r.status_code != 200 else len(r.json()["items"])
    assert sees["admin"] == sees["county_officer"] == 2
    assert sees["town_a_manager"] == sees["town_a_officer"] == 1
    assert sees["town_b_officer"] == 1 and sees["bureau_e_officer"] == sees["bureau_e_manager"] == 1
    assert sees["bureau_c_officer"] == 0
    for actor in (
        "county_viewer",
        "town_a_inspector",
        "town_a_viewer",
        "ent_a1_manager",
        "ent_a1_staff",
        "ent_b1_manager",
        "machine",
    ):
        assert sees[actor] == 403, actor
    ids = [i["id"] for i in (await client.get(REPORTS, headers=world.h("admin"))).json()["items"]]
    for rid in ids:
        for actor in ("bureau_c_officer",):
            assert (await client.get(f"{REPORTS}/{rid}", headers=world.h(actor))).status_code == 404


async def test_substantiation_creates_exactly_one_hazard(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await submit(app, credit_code=credit(3), reporter={"name": NAME, "phone": PHONE})
    report = await newest(client, world, "town_b_officer")
    rid = report["id"]
    assert report["allowed_actions"] == ["investigate"]
    assert (await act(client, world, "town_b_officer", rid, "investigate")).status_code == 200
    key = {"Idempotency-Key": "substantiate-1"}
    body = {"action": "substantiate", "hazard": HAZARD}
    first, again = [
        await client.post(
            f"{REPORTS}/{rid}/transitions", json=body, headers=world.h("town_b_officer", **key)
        )
        for _ in range(2)
    ]
    assert first.status_code == again.status_code == 200, first.text
    assert again.json()["hazard"] == first.json()["hazard"]
    out = first.json()
    assert out["status"] == "substantiated" and out["hazard"]["number"]
    async with app.state.sessionmaker() as s:
        hazards = (
            (await s.execute(select(Hazard).where(Hazard.source == "public_report")))
            .scalars()
            .all()
        )
    assert len(hazards) == 1 and hazards[0].public_report_id == rid
    assert hazards[0].enterprise_id == world["ent_b1"]
    # without the key a second substantiation is refused: the state has moved on
    r = await act(client, world, "town_b_officer", rid, "substantiate", hazard=HAZARD)
    assert r.status_code == 409
    # the hazard goes through its normal lifecycle; the enterprise sees nothing of the report
    hid = out["hazard"]["id"]
    h = (await client.get(f"/api/v1/hazards/{hid}", headers=world.h("ent_b1_manager"))).json()
    assert h["source"] == "public_report" and h["public_report_id"] is None
    assert (await client.get(f"/api/v1/hazards/{hid}", headers=world.h("admin"))).json()[
        "public_report_id"
    ] == rid
    plan = {"responsible_person": "张三", "measures": "清理通道", "deadline": h["deadline"]}
    r = await hazard_act(client, world, "ent_b1_manager", hid, "plan", plan=plan)
    assert r.status_code == 200, r.text  # the enterprise works its hazard as any other
    assert r.json()["status"] == "rectifying"
    # rewards: the county's, once
    assert (
        await act(client, world, "town_b_officer", rid, "reward", reward_yuan=500)
    ).status_code == 403
    r = await act(client, world, "county_officer", rid, "reward", reward_yuan="500.00")
    assert r.status_code == 200 and r.json()["reward_yuan"] == 500.0
    assert (
        await act(client, world, "county_officer", rid, "reward", reward_yuan=1)
    ).status_code == 409


async def test_an_unregistered_operator_is_registered_first(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await submit(app, region_code="341302001", enterprise_name="无证加油点")
    rid = (await newest(client, world, "town_a_officer"))["id"]
    await act(client, world, "town_a_officer", rid, "investigate")
    r = await act(client, world, "town_a_officer", rid, "substantiate", hazard=HAZARD)
    assert r.status_code == 422  # no enterprise named, none matched
    operator = {
        "name": "无证加油点",
        "credit_code": credit(77),
        "region_code": "341302001009",
        "sector": "industry_trade",
        "enforcement_department_id": world["bureau_e"],
    }
    r = await act(
        client, world, "town_a_officer", rid, "substantiate", hazard=HAZARD, enterprise=operator
    )
    assert r.status_code == 200, r.text
    assert r.json()["enterprise"]["name"] == "无证加油点"
    # a field of another action is refused, never ignored
    r = await act(
        client, world, "town_a_officer", rid, "close", public_outcome="已查处", reward_yuan=5
    )
    assert r.status_code == 422 and r.json()["code"] == "field_not_allowed"


async def test_assign_routes_to_more_units(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await submit(app)
    rid = (await newest(client, world))["id"]
    assert (
        await client.get(f"{REPORTS}/{rid}", headers=world.h("bureau_c_officer"))
    ).status_code == 404
    r = await act(client, world, "town_a_officer", rid, "assign", unit_ids=[world["bureau_c"]])
    assert r.status_code == 404  # not routed to town A: it does not exist for it
    r = await act(client, world, "county_officer", rid, "assign", unit_ids=[world["bureau_c"]])
    assert r.status_code == 200 and r.json()["status"] == "assigned"
    d = await client.get(f"{REPORTS}/{rid}", headers=world.h("bureau_c_officer"))
    assert d.status_code == 200 and d.json()["allowed_actions"] == ["investigate"]
    r = await act(client, world, "county_officer", rid, "assign", unit_ids=[world["ent_a1"]])
    assert r.status_code == 422


async def test_report_figures(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await submit(app, credit_code=credit(3))
    await submit(app, region_code="341302001")
    rid = (await newest(client, world))["id"]
    await act(client, world, "county_officer", rid, "investigate")
    await act(client, world, "county_officer", rid, "unsubstantiate", reason="不属实")
    await act(client, world, "county_officer", rid, "close", public_outcome="不属实")
    r = await client.get("/api/v1/statistics/reports?group_by=town", headers=world.h("admin"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"]["received"] == 2 and body["total"]["closed"] == 1
    assert {g["key"]: g["received"] for g in body["groups"]} == {"341302001": 1, "341302100": 1}
    town_a = (
        await client.get("/api/v1/statistics/reports", headers=world.h("town_a_officer"))
    ).json()
    assert town_a["total"]["received"] == 1
    assert (
        await client.get("/api/v1/statistics/reports", headers=world.h("ent_a1_manager"))
    ).status_code == 403
    await add_person(app, world, "county_manager", "manager", "county")
    for group_by in ("sector", "month", "none"):
        r = await client.get(
            f"/api/v1/statistics/reports?group_by={group_by}", headers=world.h("county_manager")
        )
        assert r.status_code == 200
        assert sum(g["received"] for g in r.json()["groups"]) in (0, 2)


async def test_reads_cost_one_statement(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await submit(app, credit_code=credit(3))
    rid = (await newest(client, world))["id"]
    for actor, url in (
        ("admin", f"{REPORTS}?limit=50"),
        ("town_b_officer", f"{REPORTS}?limit=50&status=received"),
        ("bureau_e_officer", f"{REPORTS}/{rid}"),
        ("admin", "/api/v1/statistics/reports?group_by=sector"),
    ):
        await client.get(url, headers=world.h(actor))  # the caller is known from here on
        with statements(app) as seen:
            r = await client.get(url, headers=world.h(actor))
        assert r.status_code == 200, (url, r.text)
        assert len(seen) == 1, (url, seen)


async def test_the_reporter_is_shown_to_managers_only_and_each_view_is_logged(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    await add_person(app, world, "county_manager", "manager", "county")
    await add_person(app, world, "town_b_manager", "manager", "town_b")
    await submit(app, credit_code=credit(3), reporter={"name": NAME, "phone": PHONE})
    rid = (await newest(client, world))["id"]
    url = f"{REPORTS}/{rid}?include=reporter"
    for actor in ("county_manager", "town_b_manager", "bureau_e_manager", "county_manager"):
        r = await client.get(url, headers=world.h(actor, **{"X-Request-ID": f"req-{actor}"}))
        assert r.status_code == 200, (actor, r.text)
        assert r.json()["reporter"] == {"name": NAME, "phone": PHONE}
        assert r.headers["cache-control"] == "no-store"
    for actor in ("admin", "county_officer", "town_b_officer", "bureau_e_officer"):
        r = await client.get(url, headers=world.h(actor))
        assert r.status_code == 403 and r.json()["code"] == "reporter_confidential", actor
        assert NAME not in r.text and PHONE not in r.text
    # a manager of a unit the report is not routed to does not even see the report
    assert (await client.get(url, headers=world.h("town_a_manager"))).status_code == 404
    assert (await client.get(f"{REPORTS}/{rid}", headers=world.h("county_manager"))).json()[
        "reporter"
    ] is None
    log = await client.get(f"{REPORTS}/{rid}/reporter-access-log", headers=world.h("admin"))
    assert log.status_code == 200
    views = log.json()["items"]
    assert [v["viewer"]["name"] for v in views] == [
        "county_manager",
        "town_b_manager",
        "bureau_e_manager",
        "county_manager",
    ]
    assert [v["request_id"] for v in views] == [
        "req-county_manager",
        "req-town_b_manager",
        "req-bureau_e_manager",
        "req-county_manager",
    ]
    assert views[1]["viewer_unit"] == {"id": world["town_b"], "name": "符离镇"}
    for actor in ("county_officer", "town_b_manager", "bureau_e_manager"):
        r = await client.get(f"{REPORTS}/{rid}/reporter-access-log", headers=world.h(actor))
        assert r.status_code == 403, actor
    # an anonymous report has no identity: nothing shown, nothing logged
    await submit(app, credit_code=credit(3))
    anon = (await newest(client, world))["id"]
    r = await client.get(f"{REPORTS}/{anon}?include=reporter", headers=world.h("county_manager"))
    assert r.status_code == 200 and r.json()["reporter"] is None
    log = await client.get(
        f"{REPORTS}/{anon}/reporter-access-log", headers=world.h("county_manager")
    )
    assert log.json()["items"] == []


async def test_photos_are_checked_by_content_and_read_by_the_handlers(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    import json

    report = json.dumps(
        {"description": "配电房门锁损坏，儿童可随意进入", "region_code": "341302001"}
    )
    photos = [("photos", (f"p{i}.png", png_bytes(), "image/png")) for i in range(2)]
    async with stranger(app) as c:
        r = await c.post(PUBLIC, data={"report": report}, files=photos)
        assert r.status_code == 201, r.text
        lying = [("photos", ("p.jpg", b"%PDF-1.4 not a photo at all", "image/jpeg"))]
        bad = await c.post(PUBLIC, data={"report": report}, files=lying)
        assert bad.status_code in (415, 422), bad.text
        many = [("photos", (f"p{i}.png", png_bytes(), "image/png")) for i in range(6)]
        assert (await c.post(PUBLIC, data={"report": report}, files=many)).status_code in (400, 422)
    detail = await newest(client, world, "town_a_officer")
    assert len(detail["photos"]) == 2
    for photo in detail["photos"]:
        got = await client.get(photo["download_url"])
        assert got.status_code == 200 and got.content == png_bytes()
        pid = photo["id"]
        assert (
            await client.get(f"/api/v1/attachments/{pid}", headers=world.h("town_a_officer"))
        ).status_code == 200
        for actor in ("ent_a1_manager", "town_b_officer"):
            r = await client.get(f"/api/v1/attachments/{pid}", headers=world.h(actor))
            assert r.status_code == 404, actor
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count(PublicReport.id))) == 1


# Who may take `investigate` on a report about ent_b1 (routed to town B and bureau E): the
# county's and the routed units' officers and managers; without the permission 403; a unit it
# is not routed to does not see it (404).
INVESTIGATE = {
    "admin": 200,
    "county_officer": 200,
    "town_b_officer": 200,
    "bureau_e_manager": 200,
    "bureau_e_officer": 200,
    "town_a_manager": 404,
    "town_a_officer": 404,
    "bureau_c_officer": 404,
    "county_viewer": 403,
    "town_a_inspector": 403,
    "town_a_viewer": 403,
    "ent_a1_manager": 403,
    "ent_a1_staff": 403,
    "ent_b1_manager": 403,
    "machine": 403,
}


async def test_who_may_act_on_a_report(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    assert set(INVESTIGATE) == set(world.tokens)
    for actor, expected in INVESTIGATE.items():
        await submit(app, credit_code=credit(3))
        rid = (await newest(client, world))["id"]
        r = await act(client, world, actor, rid, "investigate")
        assert r.status_code == expected, (actor, r.text)
        if expected == 200:
            assert r.json()["status"] == "investigating"
            # assign is the county's alone
            again = await act(client, world, actor, rid, "assign", unit_ids=[world["bureau_c"]])
            county = actor in ("admin", "county_officer")
            assert again.status_code == (409 if county else 403), (actor, again.text)


async def test_substantiate_without_a_hazard_body_registers_a_general_one(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    await submit(
        app, credit_code=credit(1), description="车间配电箱外壳破损！电线裸露在外，多人经过"
    )
    rid = (await newest(client, world))["id"]
    await act(client, world, "town_a_officer", rid, "investigate")
    r = await act(client, world, "town_a_officer", rid, "substantiate")
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["enterprise_id"] == world["ent_a1"] and out["hazard_id"] == out["hazard"]["id"]
    h = (await client.get(f"/api/v1/hazards/{out['hazard_id']}", headers=world.h("admin"))).json()
    assert h["title"] == "车间配电箱外壳破损" and h["level"] == "general"
    assert h["source"] == "public_report" and h["enterprise"]["id"] == world["ent_a1"]


async def test_received_filters_take_dates_and_offset_date_times(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await submit(app)
    for query, expected in (
        ("received_from=2020-01-01", 1),
        ("received_to=2020-01-01", 0),
        ("received_from=2020-01-01T00:00:00%2B08:00", 1),
    ):
        for url in (f"{REPORTS}?{query}", f"/api/v1/statistics/reports?{query}"):
            r = await client.get(url, headers=world.h("admin"))
            assert r.status_code == 200, (url, r.text)
            body = r.json()
            seen = len(body["items"]) if "items" in body else body["total"]["received"]
            assert seen == expected, url
    r = await client.get(f"{REPORTS}?received_from=2020-01-01T00:00:00", headers=world.h("admin"))
    assert r.status_code == 422  # a date-time without its offset is ambiguous
