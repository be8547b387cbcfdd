"""External ids (issue 16): the ids other systems give an enterprise, a hazard or an inspection,
shown as ``external_ids`` (``{}`` when none) in their details and list items, gathered into the
row's own statement, exported as ``system:id; system2:id2``, and filtered on with
``external_id=<system>:<id>``."""

from __future__ import annotations

import csv
import io
from typing import Any

import xlsxwriter
from python_calamine import CalamineWorkbook

from app.models import ExternalId
from app.models.base import utcnow
from app.services.jobs import run_jobs
from tests.conftest import World, credit
from tests.hazard_helpers import register
from tests.inspection_helpers import TEAM_A, certify, plan
from tests.statements import statements

V1 = "/api/v1"
HAZARD_HEAD = ("external_ids.city", "统一社会信用代码", "隐患描述", "隐患等级", "隐患类别")
DATES = ("2026-11-03", "2026-12-31")


def _xlsx(rows: list[list[Any]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return out.getvalue()


async def _import(app, client, world: World, kind: str, data: bytes) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        f"{V1}/imports",
        data={"kind": kind},
        files={"file": (f"{kind}.xlsx", data, "application/octet-stream")},
        headers=world.h("county_officer"),
    )
    assert r.status_code == 202, r.text
    await run_jobs(app.state.sessionmaker, world.settings, f"t-extids-{kind}")
    job = await client.get(f"{V1}/imports/{r.json()['id']}", headers=world.h("county_officer"))
    assert job.json()["status"] == "succeeded", job.text


async def _get(client, world: World, url: str, actor: str = "county_officer", **params: Any):  # type: ignore[no-untyped-def]
    r = await client.get(url, params=params, headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r.json()


async def test_imported_ids_in_details_lists_exports_and_the_filter(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    # an enterprise's register row and a hazard's, each naming the ids two systems give them
    await _import(
        app,
        client,
        world,
        "enterprises",
        _xlsx(
            [
                [
                    "统一社会信用代码",
                    "企业名称",
                    "行政区划代码",
                    "所属行业",
                    "日常执法部门",
                    "外部编号.city",
                    "external_ids.prov",
                ],
                [
                    credit(1),
                    "埇桥机械制造有限公司",
                    "341302001001",
                    "工贸",
                    "区应急管理局",
                    "E-17",
                    "P:0042",
                ],
            ]
        ),
    )
    await _import(
        app,
        client,
        world,
        "hazards",
        _xlsx(
            [
                [*HAZARD_HEAD, "发现日期", "整改期限"],
                ["H-9", credit(1), "安全通道堵塞", "一般隐患", "物的不安全状态", *DATES],
            ]
        ),
    )
    plain = await register(client, world, title="配电箱未接地")
    ent_ids = {"city": "E-17", "prov": "P:0042"}

    ent = await _get(client, world, f"{V1}/enterprises/{world['ent_a1']}")
    assert ent["external_ids"] == ent_ids
    listed = {e["id"]: e for e in (await _get(client, world, f"{V1}/enterprises"))["items"]}
    assert listed[world["ent_a1"]]["external_ids"] == ent_ids
    assert listed[world["ent_a2"]]["external_ids"] == {}  # none: an empty object, never null

    hazards = {h["title"]: h for h in (await _get(client, world, f"{V1}/hazards"))["items"]}
    imported = hazards["安全通道堵塞"]
    assert imported["external_ids"] == {"city": "H-9"}
    assert hazards["配电箱未接地"]["external_ids"] == {}
    detail = await _get(client, world, f"{V1}/hazards/{imported['id']}")
    assert detail["external_ids"] == {"city": "H-9"}
    assert plain["external_ids"] == {}  # the answer of a write shows them too
    # the enterprise's own user sees its ids as well (they are the record's, not a secret)
    own = await _get(client, world, f"{V1}/enterprises/{world['ent_a1']}", "ent_a1_manager")
    assert own["external_ids"] == ent_ids

    # the filter: system:id (an id may hold a colon), scoped like the list
    found = await _get(client, world, f"{V1}/enterprises", external_id="prov:P:0042")
    assert [e["id"] for e in found["items"]] == [world["ent_a1"]]
    found = await _get(client, world, f"{V1}/hazards", external_id="city:H-9")
    assert [h["id"] for h in found["items"]] == [imported["id"]]
    assert (await _get(client, world, f"{V1}/hazards", external_id="prov:H-9"))["items"] == []
    outside = await _get(
        client, world, f"{V1}/enterprises", "town_b_officer", external_id="city:E-17"
    )
    assert outside["items"] == []
    for bad in ("E-17", ":E-17", "ci ty:E-17"):
        r = await client.get(
            f"{V1}/enterprises", params={"external_id": bad}, headers=world.h("county_officer")
        )
        assert r.status_code == 422, (bad, r.text)

    # exports: one column, system:id by system, empty when none; the JSON list's order
    r = await client.get(f"{V1}/enterprises?format=csv", headers=world.h("county_officer"))
    rows = list(csv.reader(io.StringIO(r.content[3:].decode(), newline="")))
    i = rows[0].index("外部编号")
    by_id = {row[rows[0].index("编号")]: row[i] for row in rows[1:]}
    assert by_id[world["ent_a1"]] == "city:E-17; prov:P:0042"
    assert by_id[world["ent_a2"]] == ""
    x = await client.get(
        f"{V1}/hazards", params={"format": "xlsx", "lang": "en"}, headers=world.h("county_officer")
    )
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(x.content)).get_sheet_by_index(0)
    table = sheet.to_python(skip_empty_area=False)
    cells = {row[table[0].index("id")]: row[table[0].index("external_ids")] for row in table[1:]}
    assert cells[imported["id"]] == "city:H-9" and cells[plain["id"]] == ""


async def test_inspections_show_their_ids_in_the_same_statement(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await certify(client, world, *TEAM_A)
    known = await plan(client, world)
    other = await plan(client, world, planned_for="2026-12-11")
    assert known["external_ids"] == {}
    async with app.state.sessionmaker() as s, s.begin():
        s.add_all(
            ExternalId(
                object_type=t, system="city", external_id=v, object_id=o, created_at=utcnow()
            )
            for t, v, o in (
                ("inspection", "J-1", known["id"]),
                # the same id in the same system, another kind of record: not this inspection's
                ("hazard", "J-2", known["id"]),
            )
        )
    detail = await _get(client, world, f"{V1}/inspections/{known['id']}", "town_a_officer")
    assert detail["external_ids"] == {"city": "J-1"}
    page = await _get(client, world, f"{V1}/inspections", "town_a_officer")
    ids = {i["id"]: i["external_ids"] for i in page["items"]}
    assert ids == {known["id"]: {"city": "J-1"}, other["id"]: {}}
    found = await _get(client, world, f"{V1}/inspections", "town_a_officer", external_id="city:J-1")
    assert [i["id"] for i in found["items"]] == [known["id"]]

    # a list page and a detail cost what they cost before: the ids ride in the row's statement
    await _get(client, world, f"{V1}/inspections", "town_a_officer")  # the caller cached
    with statements(app) as seen:
        await _get(client, world, f"{V1}/inspections", "town_a_officer")
        await _get(client, world, f"{V1}/inspections", "town_a_officer", external_id="city:J-1")
        await _get(client, world, f"{V1}/hazards", "town_a_officer", external_id="city:J-1")
        await _get(client, world, f"{V1}/enterprises", "town_a_officer", external_id="city:J-1")
    assert len(seen) == 4, seen
