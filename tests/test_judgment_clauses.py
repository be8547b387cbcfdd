"""Judgment standards as data (issue 11): every standard lists its clauses, a major hazard cites
one of its own standard's clauses (registration and reclassify), and rows written before the
check keep their citation and stay workable."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from app.models import Hazard, HazardEvent
from app.services.catalog_data import SECTOR_CODES
from app.services.demo_hazards import FIRE, MAJOR
from app.services.judgment_standards import STANDARDS, clause
from tests.conftest import World
from tests.hazard_helpers import MAJOR_PLAN, act, register

CATALOG = "/api/v1/catalogs/judgment-standards"
# The standards the hazards issue named, by their catalogue code.
NAMED = ("industry_trade", "chemicals", "metal_nonmetal_mines", "housing_municipal", "fire")
NAMED += ("fireworks", "gas")


def major(standard: str, clause_code: str, **extra: Any) -> dict[str, Any]:
    return {"level": "major", "judgment": {"standard": standard, "clause": clause_code}, **extra}


async def post_hazard(client, world: World, actor: str = "town_a_officer", **fields: Any):  # type: ignore[no-untyped-def]
    body = {
        "enterprise_id": world["ent_a1"],
        "title": "除尘系统未采取控爆措施",
        "level": "general",
        "source": "inspection",
        "category": "unsafe_condition",
        **fields,
    }
    return await client.post("/api/v1/hazards", json=body, headers=world.h(actor))


# ---- the catalogue -----------------------------------------------------------------------------


async def test_every_standard_lists_its_clauses_with_both_languages_and_sectors(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    listed = (await client.get("/api/v1/catalogs", headers=world.h("town_a_viewer"))).json()
    entries = {e["code"]: e for e in listed["judgment_standards"]}
    assert set(NAMED) <= set(entries)
    for code, entry in entries.items():
        r = await client.get(f"{CATALOG}/{code}", headers=world.h("town_a_viewer"))
        assert r.status_code == 200, code
        body = r.json()
        assert set(body) == {
            "code",
            "name_zh",
            "name_en",
            "document",
            "sectors",
            "clause_count",
            "clauses",
        }
        assert {k: body[k] for k in entry} == entry  # the list's entry is the detail's head
        assert body["clause_count"] == len(body["clauses"]) >= (10 if code in NAMED else 5)
        codes = [c["code"] for c in body["clauses"]]
        assert len(codes) == len(set(codes)), code
        for c in body["clauses"]:
            assert set(c) == {"code", "text_zh", "text_en", "sectors"}
            assert c["code"].replace(".", "").isdigit(), c  # ASCII: 4.3, 20, 6.3.3
            assert c["text_zh"].strip() and c["text_en"].strip()
            assert len(c["text_zh"]) <= 40  # paraphrases, not quotations
            assert c["sectors"] and set(c["sectors"]) <= SECTOR_CODES
            assert set(c["sectors"]) <= set(body["sectors"])


async def test_clause_codes_follow_the_numbering_of_each_standard(client, world: World) -> None:  # type: ignore[no-untyped-def]
    def codes(standard: str) -> set[str]:
        return {c.code for c in STANDARDS[standard].clauses}

    # 工贸 10号令: articles and items (第十一条第（三）项 is 11.3), 第三条 the three general ones
    assert {"3.1", "3.2", "3.3", "11.1", "11.10", "12.2", "13.2"} <= codes("industry_trade")
    # 安监总管三〔2017〕121号: twenty numbered items, for chemicals and for fireworks alike
    assert codes("chemicals") == codes("fireworks") == {str(n) for n in range(1, 21)}
    # GB 35181: its clause numbers, direct (5.x) and combined (6.x.y) elements
    assert {f"5.{n}" for n in range(1, 11)} <= codes("fire")
    assert "6.3.3" in codes("fire")
    assert {"5.3", "7.2", "8.1", "14", "15"} <= codes("housing_municipal")
    r = await client.get(f"{CATALOG}/chemicals", headers=world.h("ent_a1_staff"))
    assert r.json()["clauses"][3]["code"] == "4"
    assert "自动化控制" in r.json()["clauses"][3]["text_zh"]


async def test_the_standard_is_cacheable_and_unknown_codes_are_404(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"{CATALOG}/fire", headers=world.h("machine"))
    assert r.status_code == 200
    assert r.headers["cache-control"] == "private, max-age=300"
    again = await client.get(
        f"{CATALOG}/fire", headers=world.h("machine", **{"If-None-Match": r.headers["etag"]})
    )
    assert again.status_code == 304 and again.content == b""
    missing = await client.get(f"{CATALOG}/nope", headers=world.h("machine"))
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["code"] == "not_found"
    assert (await client.get(f"{CATALOG}/fire")).status_code == 401


def test_the_demo_and_bench_data_cite_real_clauses_of_their_sector() -> None:
    for sector, (standard, code, _) in MAJOR.items():
        found = clause(standard, code)
        assert found is not None, (sector, standard, code)
        assert sector in found.sectors, (sector, standard, code)
    assert clause(FIRE[0], FIRE[1]) is not None


# ---- writes ------------------------------------------------------------------------------------


async def test_an_unknown_clause_is_422_naming_the_field(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await post_hazard(client, world, **major("industry_trade", "zzz"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "unknown_judgment_clause"
    assert [e["field"] for e in r.json()["errors"]] == ["judgment.clause"]
    assert "industry_trade" in r.json()["detail"]
    listed = await client.get("/api/v1/hazards", headers=world.h("admin"))
    assert listed.json()["items"] == []  # nothing half-written


async def test_a_clause_of_another_standard_is_422_and_says_where_it_belongs(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    r = await post_hazard(client, world, **major("industry_trade", "6.3.3"))
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_judgment_clause"
    assert "fire" in r.json()["detail"]
    en = await client.post(
        "/api/v1/hazards",
        json={
            "enterprise_id": world["ent_a1"],
            "title": "安全出口被封堵",
            "category": "unsafe_condition",
            **major("chemicals", "21"),
        },
        headers=world.h("town_a_officer", **{"Accept-Language": "en"}),
    )
    assert en.status_code == 422
    assert "is not a clause of the standard chemicals" in en.json()["detail"]


async def test_an_unknown_standard_is_422_on_the_standard(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await post_hazard(client, world, **major("nope", "3.1"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["judgment.standard"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("11.3", "11.3"),
        ("第十一条第（三）项", "11.3"),
        ("第十一条第(三)项", "11.3"),
        ("第14条", "14"),
    ],
)
async def test_a_known_clause_is_accepted_and_stored_as_its_code(
    client, world: World, sent: str, stored: str
) -> None:  # type: ignore[no-untyped-def]
    r = await post_hazard(client, world, **major("industry_trade", sent))
    assert r.status_code == 201, r.text
    assert r.json()["judgment"] == {"standard": "industry_trade", "clause": stored, "text": None}
    again = await client.get(f"/api/v1/hazards/{r.json()['id']}", headers=world.h("admin"))
    assert again.json()["judgment"]["clause"] == stored


async def test_enterprise_users_cite_clauses_too(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/hazards",
        json={
            "enterprise_id": world["ent_a1"],
            "title": "有限空间作业未审批",
            "category": "management_defect",
            **major("industry_trade", "13.9"),
        },
        headers=world.h("ent_a1_staff"),
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_judgment_clause"
    ok = await client.post(
        "/api/v1/hazards",
        json={
            "enterprise_id": world["ent_a1"],
            "title": "有限空间作业未审批",
            "category": "management_defect",
            **major("industry_trade", "13.2"),
        },
        headers=world.h("ent_a1_staff"),
    )
    assert ok.status_code == 201, ok.text


async def test_reclassify_checks_the_clause_and_changes_nothing_when_refused(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    h = await register(client, world)
    for judgment, field in (
        ({"standard": "industry_trade", "clause": "99.9"}, "judgment.clause"),
        ({"standard": "fire", "clause": "11.3"}, "judgment.clause"),
    ):
        r = await act(
            client, world, "county_officer", h["id"], "reclassify", level="major",
            judgment=judgment, reason="复核",
        )  # fmt: skip
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "unknown_judgment_clause"
        assert [e["field"] for e in r.json()["errors"]] == [field]
    after = (await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("admin"))).json()
    assert after["level"] == "general" and after["judgment"] is None
    assert after["updated_at"] == h["updated_at"]
    r = await act(
        client, world, "county_officer", h["id"], "reclassify", level="major",
        judgment={"standard": "fire", "clause": "第6.3.3条"}, reason="复核为重大火灾隐患",
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["judgment"]["clause"] == "6.3.3"


async def test_a_clause_outside_the_enterprises_sector_is_accepted_and_marked(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    # A 工贸 plant's chemicals store is judged by the chemicals standard: accepted, and the
    # registration's event says the clause was written for another sector.
    outside = await post_hazard(client, world, **major("chemicals", "20"))
    inside = await post_hazard(client, world, **major("industry_trade", "11.3"))
    fire = await post_hazard(client, world, **major("fire", "5.5"))
    assert outside.status_code == inside.status_code == fire.status_code == 201
    async with app.state.sessionmaker() as s:
        payloads = dict(
            (
                await s.execute(
                    select(HazardEvent.hazard_id, HazardEvent.payload).where(
                        HazardEvent.action == "register"
                    )
                )
            ).all()
        )
    assert payloads[outside.json()["id"]] == {"judgment_outside_sector": True}
    assert payloads[inside.json()["id"]] == {}
    assert payloads[fire.json()["id"]] == {}  # fire hazards are judged in every sector


async def test_a_row_citing_an_unknown_clause_stays_workable(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    """Rows written before the check (demo data, earlier writes) are not rewritten: they show
    their citation, and actions that do not set a judgment go on as before."""
    h = await register(client, world, level="major")
    async with app.state.sessionmaker() as s:
        await s.execute(update(Hazard).where(Hazard.id == h["id"]).values(judgment_clause="zzz"))
        await s.commit()
    detail = await client.get(f"/api/v1/hazards/{h['id']}", headers=world.h("admin"))
    assert detail.json()["judgment"]["clause"] == "zzz"
    etag = detail.headers["etag"]
    r = await act(client, world, "town_a_officer", h["id"], "supervise", disclosed=True)
    assert r.status_code == 200, r.text
    for action, payload in (
        ("extend", {"deadline": "2100-06-30", "reason": "工程量大"}),
        ("plan", {"plan": MAJOR_PLAN}),
    ):
        r = await act(client, world, "town_a_officer", h["id"], action, **payload)
        assert r.status_code == 200, (action, r.text)
        assert r.json()["judgment"]["clause"] == "zzz"
    assert r.headers["etag"] != etag
    listed = await client.get("/api/v1/public/major-hazards")
    assert [i["number"] for i in listed.json()["items"]] == [h["number"]]
