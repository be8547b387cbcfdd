"""The demo county: believable, valid, idempotent, and its accounts see exactly their scope."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.auth.permissions import Role
from app.core.credit_code import is_valid_credit_code
from app.models import ApiClient, Enterprise, OrgUnit, User
from app.services.demo import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    PEOPLE,
    existing_demo_summary,
    load_demo,
)
from tests.conftest import _truncate


@pytest.fixture(scope="module")
async def demo(app):  # type: ignore[no-untyped-def]
    """The demo county alone in the database (the small world removed), loaded once."""
    await _truncate(app)
    async with app.state.sessionmaker() as s:
        summary = await load_demo(s)
        await s.commit()
    yield summary
    await _truncate(app)


async def _counts(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:

        async def n(column, *where) -> int:  # type: ignore[no-untyped-def]
            return (await s.execute(select(func.count(column)).where(*where))).scalar_one()

        return {
            "counties": await n(OrgUnit.id, OrgUnit.kind == "county"),
            "towns": await n(OrgUnit.id, OrgUnit.kind == "town"),
            "bureaus": await n(OrgUnit.id, OrgUnit.kind == "bureau"),
            "enterprises": await n(Enterprise.id),
            "users": await n(User.id),
            "clients": await n(ApiClient.id),
        }


async def test_demo_county_has_towns_bureaus_and_about_200_valid_enterprises(app, demo) -> None:  # type: ignore[no-untyped-def]
    counts = await _counts(app)
    assert counts["counties"] == 1
    assert counts["towns"] >= 6 and counts["bureaus"] >= 6
    assert 190 <= counts["enterprises"] <= 210
    async with app.state.sessionmaker() as s:
        towns = (await s.execute(select(OrgUnit).where(OrgUnit.kind == "town"))).scalars().all()
        bureaus = (await s.execute(select(OrgUnit).where(OrgUnit.kind == "bureau"))).scalars()
        ents = (await s.execute(select(Enterprise))).scalars().all()
    assert all(len(t.region_code or "") == 9 and t.region_code.startswith("341302") for t in towns)
    bureau_of = {sector: b.id for b in bureaus for sector in b.sectors}
    assert all(is_valid_credit_code(e.credit_code) for e in ents)
    assert all(len(e.region_code) == 12 for e in ents)
    assert {e.region_code[:9] for e in ents} == {t.region_code for t in towns}
    assert len({e.sector for e in ents}) >= 12
    assert all(e.enforcement_department_id == bureau_of[e.sector] for e in ents)
    assert all(e.principal_name and e.principal_phone and e.lat and e.lng for e in ents)


async def test_demo_has_one_user_per_role_and_a_machine_client(app, demo) -> None:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        roles = (await s.execute(select(User.role))).scalars().all()
    assert set(roles) == {r.value for r in Role}
    assert {a[0] for a in demo.accounts} == {p[0] for p in PEOPLE}
    assert DEMO_CLIENT_SECRET in demo.describe()


async def test_loading_the_demo_again_adds_nothing(app, demo) -> None:  # type: ignore[no-untyped-def]
    before = await _counts(app)
    async with app.state.sessionmaker() as s:
        again = await load_demo(s)
        skipped = await load_demo(s, only_if_empty=True)
        existing = await existing_demo_summary(s)
        await s.commit()
    assert again is not None and not any(again.added.values())
    assert skipped is None
    assert existing is not None and existing.accounts == demo.accounts
    assert await _counts(app) == before


async def test_demo_accounts_sign_in_and_see_their_scope(client, demo) -> None:  # type: ignore[no-untyped-def]
    totals: dict[str, int] = {}
    for username, *_ in PEOPLE:
        r = await client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": username, "password": DEMO_PASSWORD},
        )
        assert r.status_code == 200, username
        h = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert (await client.get("/api/v1/me", headers=h)).json()["username"] == username
        page = await client.get("/api/v1/enterprises?include_total=true&limit=500", headers=h)
        if username == "county_expert":  # an expert sees its assignments only
            assert page.status_code == 403
            mine = await client.get("/api/v1/inspections?limit=500", headers=h)
            me = (await client.get("/api/v1/me", headers=h)).json()["id"]
            for item in mine.json()["items"]:
                detail = await client.get(f"/api/v1/inspections/{item['id']}", headers=h)
                assert me in [e["id"] for e in detail.json()["experts"]]
            continue
        body = page.json()
        totals[username] = body["total"]
        if username.startswith("town_"):
            assert {e["region_code"][:9] for e in body["items"]} == {"341302001"}
        if username.startswith("bureau_"):
            assert {e["sector"] for e in body["items"]} == {
                "hazardous_chemicals",
                "non_coal_mining",
                "fireworks",
                "metallurgy",
                "industry_trade",
            }
    everyone = demo.totals["enterprises"]
    assert totals["admin"] == totals["county_manager"] == totals["county_officer"] == everyone
    assert 0 < totals["town_officer"] < everyone and 0 < totals["bureau_officer"] < everyone
    assert totals["enterprise_manager"] == totals["enterprise_staff"] == 1
    r = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        },
    )
    assert r.status_code == 200
    # the province client reads the whole county and its feed (issue 17)
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    listed = await client.get("/api/v1/enterprises?include_total=true&limit=1", headers=h)
    assert listed.json()["total"] == everyone
    feed = await client.get("/api/v1/changes?types=enterprise&limit=1000", headers=h)
    assert feed.status_code == 200, feed.text
    assert len({i["id"] for i in feed.json()["items"]}) == min(everyone, 1000)


async def test_demo_inspections_cover_every_state_with_findings_that_are_its_hazards(
    app, client, demo
) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from app.models import BlacklistEntry, Hazard, Inspection

    async with app.state.sessionmaker() as s:
        by_status = dict(
            (await s.execute(select(Inspection.status, func.count()).group_by(Inspection.status)))
            .tuples()
            .all()
        )
        kinds = set((await s.execute(select(Inspection.kind).distinct())).scalars())
        linked = (
            await s.execute(select(func.count()).where(Hazard.inspection_id.is_not(None)))
        ).scalar_one()
        findings = (await s.execute(select(func.sum(Inspection.findings_count)))).scalar_one()
        listed = (await s.execute(select(func.count(BlacklistEntry.id)))).scalar_one()
    assert 450 <= sum(by_status.values()) <= 900, by_status
    assert set(by_status) == {"planned", "in_progress", "completed", "signed", "cancelled"}
    assert {"routine", "self_inspection", "double_random", "follow_up", "expert_guidance"} <= kinds
    assert linked == findings > 50
    assert listed == 1
    r = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "county_officer", "password": DEMO_PASSWORD},
    )
    h = {"Authorization": f"Bearer {r.json()['access_token']}"}
    page = (await client.get("/api/v1/inspections?has_findings=true&limit=5", headers=h)).json()
    one = (await client.get(f"/api/v1/inspections/{page['items'][0]['id']}", headers=h)).json()
    hazard = (await client.get(f"/api/v1/hazards/{one['findings'][0]['id']}", headers=h)).json()
    assert hazard["inspection_id"] == one["id"]
    assert demo.totals["inspections"] == sum(by_status.values())


async def test_demo_has_a_published_draw_and_a_running_one(app, client, demo) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from app.models import Draw

    async with app.state.sessionmaker() as s:
        draws = (await s.execute(select(Draw).order_by(Draw.planned_for))).scalars().all()
    assert len(draws) == 2
    done, running = draws
    public = await client.get(f"/api/v1/public/draws/{done.id}")
    assert public.status_code == 200, public.text
    assert len(public.json()["picks"]) == 4
    assert (await client.get(f"/api/v1/public/draws/{running.id}")).status_code == 404


async def test_demo_enterprises_have_risk_points_whose_highest_is_their_colour(app, demo) -> None:  # type: ignore[no-untyped-def]
    from collections import defaultdict

    from sqlalchemy import select

    from app.models import Enterprise, RiskPoint

    async with app.state.sessionmaker() as s:
        colors = dict(
            (await s.execute(select(Enterprise.id, Enterprise.risk_color))).tuples().all()
        )
        rows = (await s.execute(select(RiskPoint.enterprise_id, RiskPoint.level))).tuples().all()
    levels: dict[str, list[str]] = defaultdict(list)
    for ent, level in rows:
        levels[ent].append(level)
    order = ("red", "orange", "yellow", "blue")
    assert set(levels) == set(colors)
    for ent, found in levels.items():
        assert 3 <= len(found) <= 10
        assert min(found, key=order.index) == (colors[ent] or "blue")


async def test_the_demo_issues_the_campaign_and_the_monthly_dispatch(client, app, settings) -> None:  # type: ignore[no-untyped-def]
    """The county's two lists: 十大行动 with lead units, and a dispatch list of at least 12
    indicators; the first town has split 动态清零 down to its enterprises."""
    from sqlalchemy import select

    from app.models import Task, TaskAssignee, TaskList
    from app.services.demo import load_demo
    from tests.conftest import _truncate

    await _truncate(app)
    async with app.state.sessionmaker() as s:
        await load_demo(s, settings=settings)
        await s.commit()
        lists = {tl.kind: tl for tl in (await s.scalars(select(TaskList))).all()}
        assert set(lists) == {"campaign", "dispatch"}
        assert all(tl.status == "issued" for tl in lists.values())
        assert len(lists["dispatch"].indicators) >= 12
        assert sum(i["source"] != "manual" for i in lists["dispatch"].indicators) >= 12
        tasks = (
            await s.scalars(select(Task).where(Task.task_list_id == lists["campaign"].id))
        ).all()
        top = [t for t in tasks if t.parent_task_id is None]
        assert len(top) == 10 and all(t.lead_unit_id for t in top)
        subs = [t for t in tasks if t.parent_task_id]
        assert len(subs) == 1 and subs[0].split_by_unit_id
        parts = (
            await s.scalars(select(TaskAssignee).where(TaskAssignee.task_id == subs[0].id))
        ).all()
        assert parts and all(p.enterprise_id for p in parts)
