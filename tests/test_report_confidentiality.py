"""The reporter's identity (保密, issue 15), swept as an attacker would: every role (and the
county manager, a routed town's manager, a stranger without a token) fetches every endpoint and
representation that can reach a named report or the hazard it became (lists with filters, details
with and without ``include=reporter``, the access log, the hazard, its events, the figures, the
inbox, the public status, error answers). The name and phone appear only in the detail with
``include=reporter`` for a manager allowed to see them, each such view writes one access-log row,
and neither the database nor the server's log holds them in clear."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from dataclasses import dataclass
from typing import Any

import httpx
from PIL import Image, PngImagePlugin
from sqlalchemy import select

from app.models import Base
from tests.conftest import World, credit
from tests.hazard_helpers import act as hazard_act
from tests.report_helpers import HAZARD, PUBLIC, REPORTS, act, add_person, stranger

NAME = "保密举报人甲乙"
PHONE = "13912345678"
SECRETS = (NAME, PHONE, "13912345678"[3:])  # the phone's last eight digits too

# Who may see the identity of a report routed to town B and bureau E.
PERMITTED = {"county_manager", "town_b_manager", "bureau_e_manager"}
# Who may read who saw it.
AUDITORS = {"county_manager", "admin"}
STRANGER = "stranger"


@dataclass
class Case:
    named: str  # report id
    anonymous: str
    named_code: str
    anonymous_code: str
    hazard: str


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


async def build(app: Any, client: httpx.AsyncClient, world: World) -> Case:
    """A named report on 符离化工 (routed to town B and bureau E), substantiated into a hazard
    that the enterprise then plans; an anonymous report on town A; a county manager and a
    manager of town B."""
    await add_person(app, world, "county_manager", "manager", "county")
    await add_person(app, world, "town_b_manager", "manager", "town_b")
    async with stranger(app) as c:
        r = await c.post(
            PUBLIC,
            json={
                "description": "符离化工储罐区夜间违规动火作业，无监护人员，举报人亲眼所见",
                "location_text": "符离镇化工园区",
                "credit_code": credit(3),
                "anonymous": False,
                "reporter": {"name": NAME, "phone": PHONE},
            },
            headers={"Idempotency-Key": "named-1"},
        )
        assert r.status_code == 201, r.text
        named_code = r.json()["tracking_code"]
    async with stranger(app) as c:
        r = await c.post(
            PUBLIC,
            json={"description": "街道菜市场燃气瓶露天存放，无人看管", "region_code": "341302001"},
        )
        assert r.status_code == 201, r.text
        anonymous_code = r.json()["tracking_code"]
    items = (await client.get(REPORTS, headers=world.h("admin"))).json()["items"]
    by_anon = {i["anonymous"]: i["id"] for i in items}
    named, anonymous = by_anon[False], by_anon[True]
    assert (await act(client, world, "town_b_officer", named, "investigate")).status_code == 200
    r = await act(client, world, "town_b_officer", named, "substantiate", hazard=HAZARD)
    assert r.status_code == 200, r.text
    hazard = r.json()["hazard"]["id"]
    h = (await client.get(f"/api/v1/hazards/{hazard}", headers=world.h("ent_b1_manager"))).json()
    plan = {
        "responsible_person": "张三",
        "measures": "停止动火，补办作业票",
        "deadline": h["deadline"],
    }
    r = await hazard_act(client, world, "ent_b1_manager", hazard, "plan", plan=plan)
    assert r.status_code == 200, r.text
    r = await act(client, world, "county_officer", named, "reward", reward_yuan=300)
    assert r.status_code == 200, r.text
    return Case(named, anonymous, named_code, anonymous_code, hazard)


def reads(world: World, case: Case) -> list[str]:
    """Every GET that can reach the reports, the hazard or a figure of them (not the detail with
    ``include=reporter``, which is swept on its own)."""
    rid, aid, hid = case.named, case.anonymous, case.hazard
    urls = [
        REPORTS,
        f"{REPORTS}?include_total=true",
        f"{REPORTS}?status=rewarded,substantiated&include_total=true",
        f"{REPORTS}?status=substantiated",
        f"{REPORTS}?sector=hazardous_chemicals",
        f"{REPORTS}?region_code=341302",
        f"{REPORTS}?routed_to={world['town_b']}",
        f"{REPORTS}?enterprise_id={world['ent_b1']}",
        f"{REPORTS}?q=动火",
        f"{REPORTS}?sort=updated_at&limit=1",
        f"{REPORTS}/{rid}",
        f"{REPORTS}/{aid}",
        f"{REPORTS}/{rid}?include=bogus",
        f"{REPORTS}/{rid}?include=REPORTER",
        f"{REPORTS}/{rid}?include=reporter,events",
        f"{REPORTS}/{rid}?include=reporter%00",
        f"{REPORTS}/{rid}?include=reporter&include=reporter",
        f"{REPORTS}/{rid}?include[]=reporter",
        f"{REPORTS}/{rid}/?include=reporter",
        f"{REPORTS}/{rid.upper()}?include=reporter",
        f"{REPORTS}/{rid}/reporter-access-log",
        f"{REPORTS}/{aid}/reporter-access-log",
        f"/api/v1/hazards/{hid}",
        f"/api/v1/hazards/{hid}/events",
        "/api/v1/hazards",
        "/api/v1/hazards?source=public_report&include_total=true",
        f"/api/v1/hazards?enterprise_id={world['ent_b1']}",
        "/api/v1/statistics/hazards",
        "/api/v1/notifications",
        "/api/v1/notifications?unread=true",
        "/api/v1/jobs",
        "/api/v1/me",
        f"{PUBLIC}/{case.named_code}",
        f"{PUBLIC}/{case.anonymous_code}",
    ]
    urls += [
        f"/api/v1/statistics/reports?group_by={g}" for g in ("none", "town", "sector", "month")
    ]
    urls += [
        f"/api/v1/statistics/hazards?group_by={g}"
        for g in ("town", "sector", "level", "source", "month", "enforcement_department", "bureau")
    ]
    return urls


def headers_of(world: World, actor: str, english: bool = False) -> dict[str, str]:
    extra = {"Accept-Language": "en"} if english else {}
    return extra if actor == STRANGER else world.h(actor, **extra)


async def test_the_identity_appears_only_in_the_permitted_detail(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    case = await build(app, client, world)
    actors = [*world.tokens, STRANGER]
    assert PERMITTED <= set(actors) and "machine" in actors
    app.state.settings.public_report_lookups_per_minute = 10_000
    answers: dict[tuple[str, str], httpx.Response] = {}
    try:
        async with stranger(app, "10.250.0.1") as anyone:
            for actor in actors:
                c = anyone if actor == STRANGER else client
                for url in reads(world, case):
                    for english in (False, True):
                        r = await c.get(url, headers=headers_of(world, actor, english))
                        assert r.status_code < 500, (actor, url, r.text)
                        assert not leaks(r.text), (actor, url, r.status_code, r.text)
                        assert not leaks(str(r.headers)), (actor, url)
                        answers[(actor, url + ("#en" if english else ""))] = r
                # error answers of the handling side: a transition the state forbids
                r = await c.post(
                    f"{REPORTS}/{case.named}/transitions",
                    json={"action": "investigate"},
                    headers=headers_of(world, actor),
                )
                assert r.status_code in (401, 403, 404, 409), (actor, r.text)
                assert not leaks(r.text), (actor, r.text)
                # the identity itself, on both reports
                for rid, named in ((case.named, True), (case.anonymous, False)):
                    url = f"{REPORTS}/{rid}?include=reporter"
                    for english in (False, True):
                        r = await c.get(url, headers=headers_of(world, actor, english))
                        assert r.status_code < 500, (actor, url, r.text)
                        answers[(actor, url + ("#en" if english else ""))] = r
                        if actor in PERMITTED and named:
                            assert r.status_code == 200, (actor, r.text)
                            assert r.json()["reporter"] == {"name": NAME, "phone": PHONE}
                            assert r.headers["cache-control"] == "no-store"
                        else:
                            assert not leaks(r.text), (actor, url, r.status_code, r.text)
                            if r.status_code == 200:
                                assert r.json()["reporter"] is None, (actor, url)
    finally:
        app.state.settings.public_report_lookups_per_minute = 20

    def status(actor: str, url: str) -> int:
        return answers[(actor, url)].status_code

    named_reporter = f"{REPORTS}/{case.named}?include=reporter"
    # the ones who see the report but not its reporter are refused with a clear code
    for actor in ("admin", "county_officer", "town_b_officer", "bureau_e_officer"):
        r = answers[(actor, named_reporter)]
        assert r.status_code == 403 and r.json()["code"] == "reporter_confidential", actor
        assert status(actor, f"{REPORTS}/{case.named}") == 200, actor
    # the ones who do not see the report at all: not even that it exists
    for actor in ("town_a_manager", "town_a_officer", "bureau_c_officer"):
        assert status(actor, named_reporter) == 404, actor
        assert status(actor, f"{REPORTS}/{case.named}") == 404, actor
    for actor in ("county_viewer", "town_a_inspector", "town_a_viewer", "ent_a1_manager"):
        assert status(actor, named_reporter) in (403, 404), actor
        assert status(actor, REPORTS) == 403, actor
    for actor in ("ent_b1_manager", "machine"):
        assert status(actor, named_reporter) in (403, 404), actor
        assert status(actor, f"{REPORTS}/{case.named}") in (403, 404), actor
    assert status(STRANGER, named_reporter) == 401
    # the permitted detail itself is the whole report, not only the identity
    for actor in PERMITTED:
        assert answers[(actor, named_reporter)].json()["id"] == case.named
    # the hazard it became is readable by its enterprise, which learns nothing of the report
    h = answers[("ent_b1_manager", f"/api/v1/hazards/{case.hazard}")]
    assert h.status_code == 200 and h.json()["source"] == "public_report"
    assert h.json()["public_report_id"] is None
    assert status("ent_b1_manager", f"/api/v1/hazards/{case.hazard}/events") == 200
    # the sweep reached what it meant to: lists, figures and the inbox answered someone
    assert len(answers[("county_manager", f"{REPORTS}?include_total=true")].json()["items"]) == 2
    assert status("county_manager", "/api/v1/statistics/reports?group_by=sector") == 200
    assert status("town_b_officer", "/api/v1/notifications") == 200
    assert status(STRANGER, f"{PUBLIC}/{case.named_code}") == 200


async def _log(client: httpx.AsyncClient, world: World, actor: str, rid: str) -> httpx.Response:
    return await client.get(f"{REPORTS}/{rid}/reporter-access-log", headers=world.h(actor))


async def test_each_permitted_view_writes_exactly_one_access_log_row(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    case = await build(app, client, world)
    assert (await _log(client, world, "county_manager", case.named)).json()["items"] == []
    expected: list[str] = []
    for actor in ["county_manager", "town_b_manager", "bureau_e_manager", "town_b_manager"]:
        r = await client.get(
            f"{REPORTS}/{case.named}?include=reporter",
            headers=world.h(actor, **{"X-Request-ID": f"view-{len(expected)}"}),
        )
        assert r.status_code == 200 and r.json()["reporter"]["name"] == NAME
        expected.append(actor)
        for auditor in AUDITORS:
            items = (await _log(client, world, auditor, case.named)).json()["items"]
            assert [i["viewer"]["id"] for i in items] == [world[a] for a in expected], auditor
        assert items[-1]["request_id"] == f"view-{len(expected) - 1}"
        assert not leaks(str(items))
    assert items[0]["viewer_unit"]["id"] == world["county"]
    assert items[1]["viewer_unit"]["id"] == world["town_b"]
    # refused views, plain details and lists write nothing
    for actor in ("admin", "county_officer", "town_b_officer", "town_a_manager", "machine"):
        r = await client.get(f"{REPORTS}/{case.named}?include=reporter", headers=world.h(actor))
        assert r.status_code in (403, 404)
    await client.get(f"{REPORTS}/{case.named}", headers=world.h("county_manager"))
    await client.get(REPORTS, headers=world.h("county_manager"))
    assert len((await _log(client, world, "admin", case.named)).json()["items"]) == len(expected)
    # views at once: one row each
    views = await asyncio.gather(
        *(
            client.get(f"{REPORTS}/{case.named}?include=reporter", headers=world.h(actor))
            for actor in ("county_manager", "bureau_e_manager", "county_manager")
        )
    )
    assert [v.status_code for v in views] == [200] * 3
    expected += ["county_manager", "bureau_e_manager", "county_manager"]
    items = (await _log(client, world, "admin", case.named)).json()["items"]
    assert sorted(i["viewer"]["id"] for i in items) == sorted(world[a] for a in expected)
    # an anonymous report has no identity to see: nothing shown, nothing logged
    r = await client.get(
        f"{REPORTS}/{case.anonymous}?include=reporter", headers=world.h("county_manager")
    )
    assert r.status_code == 200 and r.json()["reporter"] is None
    assert (await _log(client, world, "county_manager", case.anonymous)).json()["items"] == []
    # who reads the log: the county's managers and admins only
    for actor in [*world.tokens]:
        r = await _log(client, world, actor, case.named)
        if actor in AUDITORS:
            assert r.status_code == 200, actor
        else:
            assert r.status_code in (403, 404), (actor, r.status_code)
            assert "items" not in r.json() and not leaks(r.text)
    async with stranger(app) as c:
        assert (await c.get(f"{REPORTS}/{case.named}/reporter-access-log")).status_code == 401


def _texts(value: Any) -> list[str]:
    """Every text a raw column value holds (JSON columns walked)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, bytes):
        return [value.decode("utf-8", "replace")]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    return []


async def test_no_table_of_the_database_holds_the_identity_in_clear(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    case = await build(app, client, world)
    for actor in PERMITTED:  # the views are logged, and the log holds no identity either
        r = await client.get(f"{REPORTS}/{case.named}?include=reporter", headers=world.h(actor))
        assert r.status_code == 200
    seen: dict[str, int] = {}
    async with app.state.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = (await conn.execute(select(table))).all()
            seen[table.name] = len(rows)
            for row in rows:
                for column, value in zip(table.columns, row, strict=True):
                    for text in _texts(value):
                        assert not leaks(text), (table.name, column.name, text[:200])
    for table in (
        "public_reports",
        "public_report_events",
        "idempotency_records",
        "reporter_views",
    ):
        assert seen[table] > 0, table  # the rows the sweep is about were there to read
    assert seen["reporter_views"] == len(PERMITTED)
    async with app.state.engine.connect() as conn:
        sealed = (
            await conn.execute(
                Base.metadata.tables["public_reports"]
                .select()
                .with_only_columns(
                    Base.metadata.tables["public_reports"].c.reporter_sealed,
                    Base.metadata.tables["public_reports"].c.reporter_key_id,
                )
                .where(Base.metadata.tables["public_reports"].c.id == case.named)
            )
        ).one()
    assert sealed.reporter_sealed and sealed.reporter_key_id


async def test_the_server_log_never_holds_the_identity(app, client, world: World, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG, logger="anjian")
    for name in ("sqlalchemy.engine", "uvicorn", "httpx"):
        caplog.set_level(logging.DEBUG, logger=name)
    case = await build(app, client, world)
    for actor in PERMITTED:
        r = await client.get(f"{REPORTS}/{case.named}?include=reporter", headers=world.h(actor))
        assert r.status_code == 200 and r.json()["reporter"]["phone"] == PHONE
    r = await client.get(f"{REPORTS}/{case.named}?include=reporter", headers=world.h("admin"))
    assert r.status_code == 403
    # a refused submission that carries an identity does not echo it, nor log it
    async with stranger(app) as c:
        bad = await c.post(
            PUBLIC,
            json={"description": "短", "reporter": {"name": NAME, "phone": PHONE + "x"}},
        )
        assert bad.status_code == 422 and not leaks(bad.text), bad.text
        bad = await c.post(
            PUBLIC,
            json={
                "description": "仓库消防通道被堵塞多日",
                "anonymous": True,
                "reporter": {"name": NAME, "phone": PHONE},
            },
        )
        assert bad.status_code == 422 and not leaks(bad.text), bad.text
    anjian = [r for r in caplog.records if r.name.startswith("anjian")]
    assert anjian, "the anjian loggers wrote nothing: the check would be empty"
    for record in caplog.records:
        text = record.getMessage() + " " + str(record.__dict__)
        assert not leaks(text), (record.name, text[:300])


def _photos_naming_the_reporter() -> list[tuple[str, tuple[str, bytes, str]]]:
    """What a phone writes into its photos: the owner in EXIF (Artist, Copyright) and in PNG
    text chunks."""
    img = Image.new("RGB", (64, 48), "red")
    exif = Image.Exif()
    exif[0x013B] = f"Owner {PHONE}"  # Artist
    exif[0x8298] = PHONE  # Copyright
    jpeg = io.BytesIO()
    img.save(jpeg, "JPEG", exif=exif.tobytes())
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Author", NAME)
    info.add_text("Comment", PHONE)
    png = io.BytesIO()
    img.save(png, "PNG", pnginfo=info)
    assert leaks(jpeg.getvalue().decode("latin-1")) and NAME.encode() in png.getvalue()
    return [
        ("photos", ("a.jpg", jpeg.getvalue(), "image/jpeg")),
        ("photos", ("b.png", png.getvalue(), "image/png")),
    ]


async def test_photos_do_not_carry_the_reporter_to_those_who_download_them(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    report = {
        "description": "符离化工储罐区夜间违规动火作业，无监护人员",
        "credit_code": credit(3),
        "reporter": {"name": NAME, "phone": PHONE},
    }
    async with stranger(app) as c:
        r = await c.post(
            PUBLIC,
            files=[
                ("report", (None, json.dumps(report, ensure_ascii=False), "application/json")),
                *_photos_naming_the_reporter(),
            ],
        )
        assert r.status_code == 201, r.text
    items = (await client.get(REPORTS, headers=world.h("town_b_officer"))).json()["items"]
    detail = await client.get(f"{REPORTS}/{items[0]['id']}", headers=world.h("town_b_officer"))
    photos = detail.json()["photos"]
    assert len(photos) == 2
    for photo in photos:
        for link in (photo["download_url"], photo["thumbnail_url"]):
            if link is None:
                continue
            got = await client.get(link, headers=world.h("town_b_officer"))
            assert got.status_code == 200
            for secret in SECRETS:
                assert secret.encode() not in got.content, (link, secret)
                assert secret.encode("utf-16-le") not in got.content, (link, secret)
