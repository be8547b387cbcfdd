"""Accountability records (问责): the ladder 函告 → 通报 → 约谈 → 曝光 per target and year, who
may decide, what a record may cite, and how it is read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import AccountabilityRecord, Hazard
from tests.conftest import World
from tests.hazard_helpers import register, upload

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAST = {"found_at": "2025-01-01T08:00:00+08:00", "deadline": "2025-02-01"}
LADDER = ("notice_letter", "circulated", "summoned", "exposed")


def town(world: World, key: str = "town_a") -> dict[str, str]:
    return {"org_unit_id": world[key]}


def enterprise(world: World, key: str = "ent_a1") -> dict[str, str]:
    return {"enterprise_id": world[key]}


async def post(  # type: ignore[no-untyped-def]
    client, world: World, actor: str, target: dict[str, str], rung: str, **fields: Any
):
    body = {"target": target, "rung": rung, "reason": "逾期未整改隐患较多", **fields}
    return await client.post("/api/v1/accountability", json=body, headers=world.h(actor))


async def created(  # type: ignore[no-untyped-def]
    client, world: World, actor: str, target: dict[str, str], rung: str, **fields: Any
) -> dict[str, Any]:
    r = await post(client, world, actor, target, rung, **fields)
    assert r.status_code == 201, r.text
    return r.json()


def this_year() -> int:
    return datetime.now(SHANGHAI).year


# ---- writing a record ----------------------------------------------------------------------


async def test_county_officer_sends_a_town_a_notice_letter_with_its_figures(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    late = await register(client, world, "town_a_officer", "ent_a1", **PAST)
    await register(client, world, "town_a_officer", "ent_a2")
    await register(client, world, "town_b_officer", "ent_b1", **PAST)  # another town's
    letter = await upload(client, world, "county_officer", name="函告.png")
    r = await post(
        client,
        world,
        "county_officer",
        town(world),
        "notice_letter",
        document_number="埇安办函〔2026〕12号",
        basis={"note": "11 月调度会通报"},
        hazard_ids=[late["id"]],
        attachment_ids=[letter],
    )
    assert r.status_code == 201, r.text
    out = r.json()
    assert r.headers["location"] == f"/api/v1/accountability/{out['id']}"
    assert r.headers["etag"] == '"v1"'
    assert out["target"] == {"type": "org_unit", "id": world["town_a"], "name": "埇桥街道"}
    assert out["rung"] == "notice_letter"
    assert (out["year"], out["sequence"]) == (this_year(), 1)
    assert out["document_number"] == "埇安办函〔2026〕12号"
    assert out["decided_by"] == {"id": world["county_officer"], "name": "county_officer"}
    assert out["hazard_ids"] == [late["id"]]
    assert out["hazards"] == [{"id": late["id"], "number": late["number"], "title": late["title"]}]
    assert [a["id"] for a in out["attachments"]] == out["attachment_ids"] == [letter]
    assert out["attachments"][0]["accountability_id"] == out["id"]
    assert out["attachments"][0]["download_url"]
    basis = out["basis"]
    assert basis["note"] == "11 月调度会通报"
    assert basis["as_of"] == datetime.now(SHANGHAI).date().isoformat()
    # town A's own hazards only: two open, one of them overdue
    assert (basis["found"], basis["open"], basis["overdue"], basis["overdue_rate"]) == (
        2,
        2,
        1,
        0.5,
    )
    # the same figures as the unit statistics give for town A
    units = (await client.get("/api/v1/statistics/units", headers=world.h("admin"))).json()
    row = next(u for u in units["units"] if u["org_unit"]["id"] == world["town_a"])
    assert {k: basis[k] for k in basis if k not in ("as_of", "note")} == {
        k: row[k]
        for k in (
            "found",
            "closed",
            "open",
            "overdue",
            "major_open",
            "major_overdue",
            "rectification_rate",
            "overdue_rate",
        )
    }
    got = await client.get(r.headers["location"], headers=world.h("county_officer"))
    assert got.status_code == 200 and got.headers["etag"] == '"v1"'
    body = got.json()
    for a in body["attachments"] + out["attachments"]:
        a.pop("download_url"), a.pop("thumbnail_url")
    assert body == out


async def test_a_record_cites_hazards_without_changing_them(client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "town_a_officer", "ent_a1", **PAST)
    before = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("admin"))
    await created(client, world, "admin", enterprise(world), "notice_letter", hazard_ids=[h["id"]])
    after = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("admin"))
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]
    events = await client.get(f"/api/v1/hazards/{h['id']}/events", headers=world.h("admin"))
    assert [e["action"] for e in events.json()["items"]] == ["register"]


# ---- the ladder ------------------------------------------------------------------------------


async def test_rungs_follow_the_ladder_in_order(client, world: World) -> None:  # type: ignore[no-untyped-def]
    target = town(world)
    # the first record of the year is a notice letter
    for rung in LADDER[1:]:
        r = await post(client, world, "admin", target, rung)
        assert r.status_code == 409 and r.json()["code"] == "rung_out_of_order", r.text
    seen = []
    for rung in ("notice_letter", "notice_letter", "circulated", "summoned", "exposed"):
        seen.append(await created(client, world, "admin", target, rung))
    assert [s["sequence"] for s in seen] == [1, 2, 3, 4, 5]
    # after exposure only exposure again; never a step back
    for rung in LADDER[:3]:
        r = await post(client, world, "admin", target, rung)
        assert r.status_code == 409 and r.json()["code"] == "rung_out_of_order"
    assert (await created(client, world, "admin", target, "exposed"))["sequence"] == 6


async def test_a_skipped_rung_is_409_and_writes_nothing(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await created(client, world, "admin", enterprise(world), "notice_letter")
    photo = await upload(client, world, "admin")
    r = await post(client, world, "admin", enterprise(world), "summoned", attachment_ids=[photo])
    assert r.status_code == 409
    problem = r.json()
    assert problem["code"] == "rung_out_of_order"
    assert "notice_letter, circulated" in problem["detail"]
    r = await client.post(
        "/api/v1/accountability",
        json={"target": enterprise(world), "rung": "exposed", "reason": "越级"},
        headers=world.h("admin", **{"Accept-Language": "en"}),
    )
    assert r.status_code == 409
    assert "one rung at a time" in r.json()["detail"]
    listed = await client.get("/api/v1/accountability", headers=world.h("admin"))
    assert [i["rung"] for i in listed.json()["items"]] == ["notice_letter"]
    # the upload of the refused request is still the caller's to cite
    ok = await post(client, world, "admin", enterprise(world), "circulated", attachment_ids=[photo])
    assert ok.status_code == 201, ok.text


async def test_each_target_has_a_ladder_of_its_own(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await created(client, world, "admin", town(world), "notice_letter")
    await created(client, world, "admin", town(world), "circulated")
    # another town, a bureau and an enterprise of town A each start at the first rung
    for target in (town(world, "town_b"), town(world, "bureau_e"), enterprise(world)):
        r = await post(client, world, "admin", target, "circulated")
        assert r.status_code == 409, target
        assert (await created(client, world, "admin", target, "notice_letter"))["sequence"] == 1


async def test_the_ladder_restarts_each_calendar_year(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    """Last year's exposure does not carry over: this year starts with a notice letter."""
    last_year = datetime(this_year() - 1, 11, 30, 2, 0, tzinfo=UTC)
    async with app.state.sessionmaker() as s:
        for seq, rung in enumerate(LADDER, start=1):
            s.add(
                AccountabilityRecord(
                    target_org_unit_id=world["town_b"],
                    rung=rung,
                    ladder_year=last_year.year,
                    ladder_seq=seq,
                    reason="去年",
                    basis={},
                    hazards=[],
                    attachment_ids=[],
                    decided_by_kind="user",
                    decided_by_id=world["admin"],
                    decided_by_name="admin",
                    decided_at=last_year,
                    created_at=last_year,
                )
            )
        await s.commit()
    r = await post(client, world, "admin", town(world, "town_b"), "exposed")
    assert r.status_code == 409
    first = await created(client, world, "admin", town(world, "town_b"), "notice_letter")
    assert (first["year"], first["sequence"]) == (this_year(), 1)
    units = (await client.get("/api/v1/statistics/units", headers=world.h("admin"))).json()
    row = next(u for u in units["units"] if u["org_unit"]["id"] == world["town_b"])
    assert row["last_accountability"]["id"] == first["id"]
    assert row["allowed_rungs"] == ["notice_letter", "circulated"]


async def test_two_records_at_once_for_one_target_keep_the_ladder_in_order(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    await created(client, world, "admin", town(world), "notice_letter")
    answers = await asyncio.gather(
        post(client, world, "admin", town(world), "circulated"),
        post(client, world, "county_officer", town(world), "circulated"),
        post(client, world, "admin", town(world), "summoned"),
    )
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {201, 409, 503}, [r.text for r in answers]
    assert 201 in statuses
    async with app.state.sessionmaker() as s:
        ladder = (
            await s.execute(
                select(AccountabilityRecord.ladder_seq, AccountabilityRecord.rung)
                .where(AccountabilityRecord.target_org_unit_id == world["town_a"])
                .order_by(AccountabilityRecord.ladder_seq)
            )
        ).all()
    assert [seq for seq, _ in ladder] == list(range(1, len(ladder) + 1))
    rungs = [LADDER.index(r) for _, r in ladder]
    assert rungs[0] == 0
    assert all(b - a in (0, 1) for a, b in pairwise(rungs))
    assert len(ladder) == 1 + statuses.count(201)


async def test_the_database_refuses_two_records_on_one_place_of_a_ladder(app, world: World) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC)

    def record(rung: str) -> AccountabilityRecord:
        return AccountabilityRecord(
            target_enterprise_id=world["ent_a1"],
            rung=rung,
            ladder_year=now.year,
            ladder_seq=1,
            reason="并发",
            basis={},
            hazards=[],
            attachment_ids=[],
            decided_by_kind="user",
            decided_by_id=world["admin"],
            decided_by_name="admin",
            decided_at=now,
            created_at=now,
        )

    async with app.state.sessionmaker() as s:
        s.add_all([record("notice_letter"), record("circulated")])
        with pytest.raises(IntegrityError):
            await s.commit()


# ---- who may decide, and about whom ----------------------------------------------------------

DECIDE = [
    # actor, target, expected status
    ("admin", "town_a", 201),
    ("county_officer", "town_b", 201),
    ("county_officer", "bureau_e", 201),
    ("county_officer", "ent_b2", 201),
    ("county_viewer", "town_a", 403),
    ("town_a_manager", "ent_a1", 201),
    ("town_a_officer", "ent_a2", 201),
    ("town_a_officer", "ent_b1", 422),  # another town's enterprise: unknown to it
    ("town_a_officer", "town_a", 403),  # a town holds enterprises to account, not units
    ("town_a_officer", "town_b", 403),
    ("town_a_inspector", "ent_a1", 403),
    ("town_a_viewer", "ent_a1", 403),
    ("bureau_e_manager", "ent_a1", 403),  # bureaus read only
    ("bureau_e_officer", "town_a", 403),
    ("ent_a1_manager", "ent_a1", 403),
    ("ent_a1_staff", "ent_a1", 403),
    ("machine", "ent_a1", 403),
]


@pytest.mark.parametrize(
    ("actor", "target", "expected"), DECIDE, ids=[f"{a}-{t}" for a, t, _ in DECIDE]
)
async def test_who_may_hold_whom_to_account(client, world: World, actor, target, expected) -> None:  # type: ignore[no-untyped-def]
    key = "enterprise_id" if target.startswith("ent_") else "org_unit_id"
    r = await post(client, world, actor, {key: world[target]}, "notice_letter")
    assert r.status_code == expected, r.text
    if expected == 422:
        assert r.json()["code"] == "unknown_enterprise"
    listed = await client.get("/api/v1/accountability", headers=world.h("admin"))
    assert len(listed.json()["items"]) == (1 if expected == 201 else 0)


async def test_a_target_must_be_one_town_bureau_or_enterprise_of_the_county(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    cases = [
        ({}, "validation_error", "target"),
        (
            {"org_unit_id": world["town_a"], "enterprise_id": world["ent_a1"]},
            "validation_error",
            "target",
        ),
        ({"org_unit_id": None}, "validation_error", "target.org_unit_id"),
        ({"org_unit_id": world["county"]}, "unknown_org_unit", "target.org_unit_id"),
        ({"org_unit_id": "0000dead"}, "unknown_org_unit", "target.org_unit_id"),
        ({"enterprise_id": "0000dead"}, "unknown_enterprise", "target.enterprise_id"),
        ({"org_unit_id": world["town_a"], "name": "x"}, "validation_error", "target.name"),
    ]
    for target, code, field in cases:
        r = await post(client, world, "admin", target, "notice_letter")
        assert r.status_code == 422, (target, r.text)
        problem = r.json()
        assert problem["code"] == code, (target, problem)
        assert field in {e["field"] for e in problem["errors"]}, (target, problem)


async def test_a_record_needs_a_reason_and_takes_no_figures_from_the_client(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    body = {"target": town(world), "rung": "notice_letter"}
    for extra, field in (
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x", "basis": {"overdue": 0}}, "basis.overdue"),
        ({"reason": "x", "rung": "warning"}, "rung"),
        ({"reason": "x", "decided_at": "2026-01-01T00:00:00Z"}, "decided_at"),
    ):
        r = await client.post(
            "/api/v1/accountability", json={**body, **extra}, headers=world.h("admin")
        )
        assert r.status_code == 422, (extra, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, (extra, r.json())


# ---- what a record may cite --------------------------------------------------------------------


async def test_cited_hazards_must_belong_to_the_target(client, world: World) -> None:  # type: ignore[no-untyped-def]
    a1 = await register(client, world, "town_a_officer", "ent_a1")
    a2 = await register(client, world, "town_a_officer", "ent_a2")
    b1 = await register(client, world, "town_b_officer", "ent_b1")
    cases = [
        # actor, target, hazards, expected
        ("admin", town(world), [a1, a2], 201),
        ("admin", town(world), [a1, b1], 422),  # b1 is town B's
        ("admin", town(world, "bureau_e"), [a1, b1], 201),  # both bureau E's sectors
        ("admin", town(world, "bureau_e"), [a2], 422),  # construction: bureau C's
        ("admin", enterprise(world), [a1], 201),
        ("admin", enterprise(world), [a2], 422),  # another enterprise's
        ("town_a_officer", enterprise(world, "ent_a2"), [a2], 201),
        ("admin", enterprise(world), [{"id": "0000dead"}], 422),
    ]
    for actor, target, hazards, expected in cases:
        ids = [h["id"] for h in hazards]
        # a second letter to the same target repeats the rung: allowed
        r = await post(client, world, actor, target, "notice_letter", hazard_ids=ids)
        assert r.status_code == expected, (actor, target, ids, r.text)
        if expected == 422:
            assert r.json()["code"] == "unknown_hazard"
            assert r.json()["errors"][0]["field"] == "hazard_ids"


async def test_a_town_cannot_cite_a_hazard_outside_its_scope(client, world: World) -> None:  # type: ignore[no-untyped-def]
    b1 = await register(client, world, "town_b_officer", "ent_b1")
    r = await post(
        client, world, "town_a_officer", enterprise(world), "notice_letter", hazard_ids=[b1["id"]]
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_hazard"
    # the same answer as for an id that does not exist: nothing is revealed
    missing = await post(
        client, world, "town_a_officer", enterprise(world), "notice_letter", hazard_ids=["x"]
    )
    assert missing.json()["code"] == "unknown_hazard"


async def test_attachments_of_a_record_are_seen_with_the_record(client, world: World) -> None:  # type: ignore[no-untyped-def]
    letter = await upload(client, world, "county_officer")
    other = await upload(client, world, "admin")
    r = await post(
        client, world, "county_officer", town(world), "notice_letter", attachment_ids=[other]
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_attachment"
    out = await created(
        client, world, "county_officer", town(world), "notice_letter", attachment_ids=[letter]
    )
    url = f"/api/v1/attachments/{letter}"
    seen = {
        actor: (await client.get(url, headers=world.h(actor))).status_code
        for actor in (
            "admin",
            "county_viewer",
            "town_a_viewer",
            "town_b_officer",
            "bureau_e_officer",
            "ent_a1_manager",
            "machine",
        )
    }
    assert seen == {
        "admin": 200,
        "county_viewer": 200,
        "town_a_viewer": 200,  # the record is about town A
        "town_b_officer": 404,
        "bureau_e_officer": 404,
        "ent_a1_manager": 404,
        "machine": 404,  # town A's reader holds attachments:read but not accountability:read
    }
    content = await client.get(f"{url}/content", headers=world.h("town_a_viewer"))
    assert content.status_code == 200
    link = (await client.get(out["attachments"][0]["download_url"])).status_code
    assert link == 200
    # bound now: neither another record nor a hazard may cite it again
    r = await post(
        client, world, "county_officer", town(world), "circulated", attachment_ids=[letter]
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_attachment"
    r = await client.post(
        "/api/v1/hazards",
        json={
            "enterprise_id": world["ent_a1"],
            "title": "借用函告附件",
            "level": "general",
            "category": "unsafe_condition",
            "attachment_ids": [letter],
        },
        headers=world.h("county_officer"),
    )
    assert r.status_code == 422 and r.json()["code"] == "invalid_attachment"


async def test_a_retry_with_the_same_idempotency_key_records_once(client, world: World) -> None:  # type: ignore[no-untyped-def]
    body = {"target": town(world), "rung": "notice_letter", "reason": "重试"}
    headers = world.h("admin", **{"Idempotency-Key": "acc-1"})
    first = await client.post("/api/v1/accountability", json=body, headers=headers)
    again = await client.post("/api/v1/accountability", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    listed = await client.get("/api/v1/accountability?include_total=true", headers=world.h("admin"))
    assert listed.json()["total"] == 1


# ---- reading ------------------------------------------------------------------------------------


async def test_the_list_filters_sorts_and_pages(client, world: World) -> None:  # type: ignore[no-untyped-def]
    made = [
        await created(client, world, "admin", town(world), "notice_letter"),
        await created(client, world, "admin", town(world), "circulated"),
        await created(client, world, "admin", town(world, "bureau_c"), "notice_letter"),
        await created(client, world, "town_a_officer", enterprise(world), "notice_letter"),
    ]
    ids = [m["id"] for m in made]
    h = world.h("admin")

    async def listed(**params: str) -> list[str]:
        r = await client.get("/api/v1/accountability", params=params, headers=h)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert await listed() == ids[::-1]
    assert await listed(sort="decided_at") == ids
    assert await listed(target_org_unit_id=world["town_a"]) == ids[1::-1]
    assert await listed(target_enterprise_id=world["ent_a1"]) == [ids[3]]
    assert await listed(target_type="enterprise") == [ids[3]]
    assert await listed(target_type="org_unit") == ids[2::-1]
    assert await listed(target_type="org_unit,enterprise") == ids[::-1]
    assert await listed(rung="circulated") == [ids[1]]
    assert await listed(rung="notice_letter,circulated") == ids[::-1]
    today = datetime.now(SHANGHAI).date().isoformat()
    assert await listed(decided_at_from=today, decided_at_to=today) == ids[::-1]
    assert await listed(decided_at_to="2020-12-31") == []
    assert await listed(decided_at_from=made[2]["decided_at"]) == ids[:1:-1]
    # page by page
    walked, cursor = [], None
    while True:
        params = {"limit": "1", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/accountability", params=params, headers=h)).json()
        walked += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == ids[::-1]
    item = (await client.get("/api/v1/accountability", headers=h)).json()["items"][-1]
    assert set(item) == {
        "id",
        "target",
        "rung",
        "year",
        "sequence",
        "reason",
        "document_number",
        "basis",
        "hazard_ids",
        "attachment_ids",
        "decided_by",
        "decided_at",
        "created_at",
    }
    for params in (
        {"rung": "warning"},
        {"target_type": "county"},
        {"sort": "rung"},
        {"rungs": "x"},
    ):
        r = await client.get("/api/v1/accountability", params=params, headers=h)
        assert r.status_code == 422, params


async def test_english_names_and_problems(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        from app.models import OrgUnit

        unit = await s.get(OrgUnit, world["town_a"])
        unit.name_en = "Yongqiao Street"
        await s.commit()
    out = await created(client, world, "admin", town(world), "notice_letter")
    en = world.h("admin", **{"Accept-Language": "en"})
    got = (await client.get(f"/api/v1/accountability/{out['id']}", headers=en)).json()
    assert got["target"]["name"] == "Yongqiao Street"
    assert out["target"]["name"] == "埇桥街道"
    listed = (await client.get("/api/v1/accountability", headers=en)).json()
    assert listed["items"][0]["target"]["name"] == "Yongqiao Street"
    missing = await client.get("/api/v1/accountability/nope", headers=en)
    assert (
        missing.status_code == 404 and missing.json()["detail"] == "Accountability record not found"
    )


async def test_the_catalogue_lists_the_ladder(client, world: World) -> None:  # type: ignore[no-untyped-def]
    catalogs = (await client.get("/api/v1/catalogs", headers=world.h("ent_a1_staff"))).json()
    assert [e["code"] for e in catalogs["accountability_rungs"]] == list(LADDER)
    assert [e["name_zh"] for e in catalogs["accountability_rungs"]] == [
        "函告",
        "通报",
        "约谈",
        "曝光",
    ]
    assert [e["code"] for e in catalogs["accountability_target_types"]] == [
        "org_unit",
        "enterprise",
    ]
    assert {e["code"] for e in catalogs["unit_flag_reasons"]} == {"overdue_rate", "major_overdue"}
    codes = {c["code"]: c["status"] for c in catalogs["problem_codes"]}
    assert codes["rung_out_of_order"] == 409 and codes["unknown_org_unit"] == 422


async def test_a_hazard_id_list_is_bounded(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await post(client, world, "admin", town(world), "notice_letter", hazard_ids=["x"] * 101)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hazard_ids"


async def test_hazards_stay_unchanged_in_the_database(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world, "town_a_officer", "ent_a1", **PAST)
    await created(client, world, "admin", town(world), "notice_letter", hazard_ids=[h["id"]])
    async with app.state.sessionmaker() as s:
        hazard = await s.get(Hazard, h["id"])
        assert hazard is not None and hazard.escalation == "none" and hazard.version == 1


async def test_the_request_examples_are_accepted_by_the_service(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from app.api import examples
    from tests.test_openapi_docs import send

    town_letter = examples.ACCOUNTABILITY_CREATE["town_letter"]
    out = await send(
        client, world, "county_officer", "POST", "/api/v1/accountability", town_letter, 201
    )
    assert out["target"]["id"] == world["town_a"] and len(out["attachments"]) == 1
    enterprise_letter = examples.ACCOUNTABILITY_CREATE["enterprise_letter"]
    out = await send(
        client, world, "town_a_officer", "POST", "/api/v1/accountability", enterprise_letter, 201
    )
    assert out["target"] == {
        "type": "enterprise",
        "id": world["ent_a1"],
        "name": "埇桥机械制造有限公司",
    }
