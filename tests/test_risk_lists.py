"""The three lists of the risk register (一图一牌三清单) through HTTP: each equals the active risk
points, the workbook reads back as the JSON (Chinese headers, merged point cells, the level's
colour, print setup), and the scope is the risk points' own."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from urllib.parse import unquote
from xml.etree import ElementTree

import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import World
from tests.statements import statements
from tests.test_risk_points import LEC_RED, LEC_YELLOW, LS_BLUE, ROLES, _create

POINTS = "/api/v1/risk-points"
LISTS = ("responsibility", "measures", "emergency")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LEC_ORANGE = {"method": "lec", "inputs": {"L": 3, "E": 6, "C": 15}}  # D = 270
RANK = {"red": 0, "orange": 1, "yellow": 2, "blue": 3}
TITLES = {
    "responsibility": "风险管控责任清单",
    "measures": "风险管控措施清单",
    "emergency": "应急处置措施清单",
}
HEADERS = {
    "responsibility": [
        "序号",
        "风险点名称",
        "类型",
        "所在位置",
        "风险等级",
        "管控层级",
        "责任人",
        "岗位/职务",
        "评审日期",
    ],
    "measures": [
        "序号",
        "风险点名称",
        "风险等级",
        "危险有害因素",
        "可能导致的事故类型",
        "管控层级",
        "责任人",
        "措施类别",
        "管控措施",
    ],
    "emergency": ["序号", "风险点名称", "风险等级", "可能导致的事故类型", "责任人", "应急处置措施"],
}
FILLS = {"red": "FFFF0000", "orange": "FFFFA500", "yellow": "FFFFFF00", "blue": "FF0070C0"}
LEVEL_ZH = {
    "red": "重大风险（红）",
    "orange": "较大风险（橙）",
    "yellow": "一般风险（黄）",
    "blue": "低风险（蓝）",
}


def url(world: World, enterprise: str = "ent_a1") -> str:
    return f"/api/v1/enterprises/{world[enterprise]}/risk-lists"


@pytest.fixture
async def register(client, world: World) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """ent_a1's register: four levels, names out of order, a point without measures or a
    responsible person, one retired point, and one of ent_b1 that never shows."""
    made = [
        await _create(client, world, name="粉尘涉爆除尘系统"),  # yellow, two measures
        await _create(
            client,
            world,
            name="有限空间作业",
            kind="operation",
            assessment=LEC_RED,
            control_level="company",
            responsible={"person": "王总"},
            hazard_factors=["2201", "45"],
            accident_types=["poisoning_asphyxiation"],
            control_measures=[
                {"kind": "management", "text": "作业审批，先通风、再检测、后作业"},
                {"kind": "ppe", "text": "佩戴正压式空气呼吸器"},
                {"kind": "training", "text": "作业人员专项培训"},
                {"kind": "emergency", "text": '=HYPERLINK("http://x","点我")'},
            ],
            emergency_measures=["严禁盲目施救", "立即拨打 119、120", "启动现场处置方案"],
            reviewed_at="2026-11-20",
        ),
        await _create(
            client,
            world,
            name="配电室",
            kind="place",
            assessment=LS_BLUE,
            control_level="post",
            responsible=None,
            hazard_factors=[],
            control_measures=[],
            emergency_measures=[],
            accident_types=[],
            location_text=None,
        ),
        await _create(client, world, name="冲压机", assessment=LEC_ORANGE, control_level="team"),
        await _create(client, world, name="A 车间行车", assessment=LEC_RED),
    ]
    retired = await _create(client, world, name="已拆除的锅炉", assessment=LEC_RED)
    r = await client.post(
        f"{POINTS}/{retired['id']}/transitions",
        json={"action": "retire", "reason": "设备已拆除"},
        headers=world.h("ent_a1_manager"),
    )
    assert r.status_code == 200, r.text
    await _create(client, world, "ent_b1_manager", name="储罐区", assessment=LEC_YELLOW)
    return made


async def listed_points(client, world: World, actor: str = "county_officer") -> list[dict]:  # type: ignore[no-untyped-def]
    r = await client.get(
        POINTS, params={"enterprise_id": world["ent_a1"], "limit": 500}, headers=world.h(actor)
    )
    assert r.status_code == 200, r.text
    return sorted(r.json()["items"], key=lambda p: (RANK[p["level"]], p["name"], p["id"]))


def expected_rows(point: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    if kind == "measures":
        return [(m["kind"], m["text"]) for m in point["control_measures"]]
    if kind == "emergency":
        return [("emergency", text) for text in point["emergency_measures"]]
    return []


@pytest.mark.parametrize("kind", LISTS)
async def test_each_list_equals_the_active_points(client, world: World, register, kind) -> None:  # type: ignore[no-untyped-def]
    points = await listed_points(client, world)
    r = await client.get(url(world), params={"list": kind}, headers=world.h("county_officer"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["enterprise"] == {"id": world["ent_a1"], "name": "埇桥机械制造有限公司"}
    assert body["list"] == kind and body["title"] == TITLES[kind]
    assert body["generated_at"].endswith("Z")
    groups = body["groups"]
    assert [g["risk_point_id"] for g in groups] == [p["id"] for p in points]
    assert [g["level"] for g in groups] == ["red", "red", "orange", "yellow", "blue"]
    assert [g["name"] for g in groups[:2]] == ["A 车间行车", "有限空间作业"]  # by name in a level
    for group, p in zip(groups, points, strict=True):
        for field in ("name", "kind", "location_text", "level", "control_level", "responsible"):
            assert group[field] == p[field], field
        assert group["reviewed_at"] == p["reviewed_at"]
        assert [h["code"] for h in group["hazard_factors"]] == p["hazard_factors"]
        assert [a["code"] for a in group["accident_types"]] == p["accident_types"]
        assert [(row["kind"], row["text"]) for row in group["rows"]] == expected_rows(p, kind)
        assert [row["no"] for row in group["rows"]] == list(range(1, len(group["rows"]) + 1))


async def test_codes_carry_their_labels_chinese_or_english(client, world: World, register) -> None:  # type: ignore[no-untyped-def]
    params = {"list": "measures"}
    zh = (await client.get(url(world), params=params, headers=world.h("ent_a1_staff"))).json()
    confined = next(g for g in zh["groups"] if g["name"] == "有限空间作业")
    assert confined["level_label"] == "重大风险"
    assert confined["kind_label"] == "作业活动"
    assert confined["control_level_label"] == "公司级"
    assert confined["hazard_factors"] == [
        {"code": "2201", "label": "理化危险"},
        {"code": "45", "label": "应急管理缺陷"},
    ]
    assert confined["accident_types"] == [{"code": "poisoning_asphyxiation", "label": "中毒和窒息"}]
    assert [r["kind_label"] for r in confined["rows"]] == [
        "管理",
        "个体防护",
        "培训教育",
        "应急处置",
    ]
    assert confined["responsible"] == {"person": "王总", "post": None}
    english = world.h("ent_a1_staff", **{"Accept-Language": "en"})
    en = (await client.get(url(world), params=params, headers=english)).json()
    assert en["title"] == "Risk control measures list"
    confined = next(g for g in en["groups"] if g["name"] == "有限空间作业")
    assert confined["level_label"] == "Major risk"
    assert confined["accident_types"][0]["label"] == "Poisoning and asphyxiation"
    assert confined["rows"][1]["kind_label"] == "Personal protective equipment"


def read_sheet(content: bytes) -> tuple[list[list[Any]], list[Any]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    assert len(book.sheet_names) == 1
    sheet = book.get_sheet_by_index(0)
    return sheet.to_python(skip_empty_area=False), sheet.merged_cell_ranges or []


def cell_text(value: Any) -> str:
    return "" if value is None else str(value)


def _level(group: dict[str, Any]) -> str:
    return LEVEL_ZH[group["level"]]


def _who(group: dict[str, Any]) -> str:
    who = group["responsible"]
    if who is None:
        return ""
    return f"{who['person']}（{who['post']}）" if who["post"] else who["person"]


def expected_sheet_rows(body: dict[str, Any]) -> list[list[str]]:
    """The rows the workbook should hold below its headers: the point's columns only on its
    first row (the rest of a merged range reads empty), one row per measure."""
    out: list[list[str]] = []
    for n, g in enumerate(body["groups"], start=1):
        factors = "；".join(h["label"] for h in g["hazard_factors"])
        accidents = "；".join(a["label"] for a in g["accident_types"])
        if body["list"] == "responsibility":
            who = g["responsible"] or {}
            out.append(
                [
                    str(n),
                    g["name"],
                    g["kind_label"],
                    g["location_text"] or "",
                    _level(g),
                    g["control_level_label"],
                    who.get("person") or "",
                    who.get("post") or "",
                    g["reviewed_at"] or "",
                ]
            )
            continue
        if body["list"] == "measures":
            point = [str(n), g["name"], _level(g), factors, accidents]
            point += [g["control_level_label"], _who(g)]
            measures = [[r["kind_label"], r["text"]] for r in g["rows"]] or [["", ""]]
        else:
            point = [str(n), g["name"], _level(g), accidents, _who(g)]
            measures = [[r["text"]] for r in g["rows"]] or [[""]]
        for i, measure in enumerate(measures):
            out.append((point if i == 0 else [""] * len(point)) + measure)
    return out


def normalise(row: list[Any]) -> list[str]:
    cells = []
    for value in row:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if hasattr(value, "isoformat"):
            value = value.isoformat()[:10]
        cells.append(cell_text(value))
    return cells


@pytest.mark.parametrize("kind", LISTS)
async def test_the_workbook_reads_back_as_the_json(client, world: World, register, kind) -> None:  # type: ignore[no-untyped-def]
    h = world.h("town_a_officer")
    body = (await client.get(url(world), params={"list": kind}, headers=h)).json()
    r = await client.get(url(world), params={"list": kind, "format": "xlsx"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("attachment; ")
    ascii_name = re.search(r'filename="([^"]+)"', disposition)
    assert ascii_name and ascii_name.group(1).isascii()
    assert ascii_name.group(1).startswith(f"risk-list-{kind}-")
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition)
    assert encoded and encoded.group(1).isascii()
    assert unquote(encoded.group(1)).startswith(f"埇桥机械制造有限公司-{TITLES[kind]}-")
    assert unquote(encoded.group(1)).endswith(".xlsx")

    rows, merged = read_sheet(r.content)
    assert rows[0][0] == f"埇桥机械制造有限公司  {TITLES[kind]}"
    assert "风险点 5 个" in rows[1][0]
    assert rows[2] == HEADERS[kind]
    assert [normalise(row) for row in rows[3:]] == expected_sheet_rows(body)
    # The point's columns are merged over its measures (a point with one row needs none).
    if kind != "responsibility":
        multi = [g for g in body["groups"] if len(g["rows"]) > 1]
        assert multi
        spans = {(m[0][0], m[1][0]) for m in merged if m[0][1] == 1}  # the name column
        first = 3
        expected = set()
        for g in body["groups"]:
            last = first + max(len(g["rows"]), 1) - 1
            if last > first:
                expected.add((first, last))
            first = last + 1
        assert spans == expected


async def test_the_level_cell_is_filled_with_its_colour(client, world: World, register) -> None:  # type: ignore[no-untyped-def]
    h = world.h("ent_a1_manager")
    body = (await client.get(url(world), params={"list": "measures"}, headers=h)).json()
    r = await client.get(url(world), params={"list": "measures", "format": "xlsx"}, headers=h)
    parts = zipfile.ZipFile(io.BytesIO(r.content))
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    styles = ElementTree.fromstring(parts.read("xl/styles.xml"))
    fills = [
        (
            f.find("m:patternFill/m:fgColor", ns).get("rgb")
            if f.find("m:patternFill/m:fgColor", ns) is not None
            else None
        )  # type: ignore[union-attr]
        for f in styles.iterfind("m:fills/m:fill", ns)
    ]
    assert set(FILLS.values()) <= set(fills)
    xfs = [int(x.get("fillId", "0")) for x in styles.iterfind("m:cellXfs/m:xf", ns)]
    sheet = ElementTree.fromstring(parts.read("xl/worksheets/sheet1.xml"))
    cells = {c.get("r"): c for c in sheet.iterfind(".//m:c", ns)}
    row = 4  # Excel rows are 1-based: title, note, headers, then the first point
    for g in body["groups"]:
        level_cell = cells[f"C{row}"]  # 风险等级
        assert fills[xfs[int(level_cell.get("s", "0"))]] == FILLS[g["level"]], g["name"]
        row += max(len(g["rows"]), 1)
    # A measure that looks like a formula stays text (no spreadsheet injection).
    assert sheet.find(".//m:f", ns) is None
    # Frozen headers; A4 landscape, one page wide; the title and headers repeat on every page.
    pane = sheet.find(".//m:pane", ns)
    assert pane is not None and pane.get("ySplit") == "3" and pane.get("state") == "frozen"
    setup = sheet.find("m:pageSetup", ns)
    assert setup is not None and setup.get("orientation") == "landscape"
    assert setup.get("paperSize") == "9" and setup.get("fitToHeight") == "0"
    assert sheet.find("m:sheetPr/m:pageSetUpPr", ns).get("fitToPage") == "1"  # type: ignore[union-attr]
    widths = [float(c.get("width", "0")) for c in sheet.iterfind("m:cols/m:col", ns)]
    assert len(widths) == 9 and min(widths) > 5, widths
    workbook = parts.read("xl/workbook.xml").decode()
    assert "_xlnm.Print_Titles" in workbook and "$1:$3" in workbook
    rows, _ = read_sheet(r.content)
    assert ["应急处置", '=HYPERLINK("http://x","点我")'] in [row[-2:] for row in rows]


async def test_accept_names_the_workbook_and_english_headers_follow_the_language(
    client, world: World, register
) -> None:  # type: ignore[no-untyped-def]
    h = world.h("county_viewer", Accept=XLSX)
    r = await client.get(url(world), params={"list": "emergency"}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    rows, _ = read_sheet(r.content)
    assert rows[2] == HEADERS["emergency"]
    r = await client.get(url(world), params={"list": "emergency", "format": "json"}, headers=h)
    assert r.headers["content-type"] == "application/json"
    english = world.h("county_viewer", **{"Accept-Language": "en"})
    r = await client.get(
        url(world), params={"list": "emergency", "format": "xlsx"}, headers=english
    )
    rows, _ = read_sheet(r.content)
    assert rows[0][0] == "埇桥机械制造有限公司  Emergency response measures list"
    assert rows[2][:3] == ["No.", "Risk point", "Risk level"]
    assert rows[3][2] == "Major risk (red)"


async def test_an_enterprise_without_points_has_empty_lists_and_a_valid_workbook(
    client, world: World, register
) -> None:  # type: ignore[no-untyped-def]
    h = world.h("town_a_officer")
    for kind in LISTS:
        r = await client.get(url(world, "ent_a2"), params={"list": kind}, headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["groups"] == [] and body["enterprise"]["name"] == "宿州城建工程有限公司"
        r = await client.get(
            url(world, "ent_a2"), params={"list": kind, "format": "xlsx"}, headers=h
        )
        assert r.status_code == 200
        rows, merged = read_sheet(r.content)
        assert rows[0][0] == f"宿州城建工程有限公司  {TITLES[kind]}"
        assert rows[2] == HEADERS[kind] and len(rows) == 3
        assert len(merged) == 2  # the title and the note only
        assert zipfile.ZipFile(io.BytesIO(r.content)).testzip() is None


@pytest.mark.parametrize(("actor", "sees"), sorted(ROLES.items()))
async def test_every_role_reads_the_lists_of_its_scope_only(
    client, world: World, register, actor, sees
) -> None:  # type: ignore[no-untyped-def]
    for kind in LISTS:
        for fmt in ("json", "xlsx"):
            r = await client.get(
                url(world), params={"list": kind, "format": fmt}, headers=world.h(actor)
            )
            assert r.status_code == (200 if sees else 404), (actor, kind, fmt, r.text)
            if not sees:
                assert r.json()["code"] == "not_found"
    if sees:  # what the caller reads of the register is what the list shows
        points = await listed_points(client, world, actor)
        body = (
            await client.get(url(world), params={"list": "responsibility"}, headers=world.h(actor))
        ).json()
        assert [g["risk_point_id"] for g in body["groups"]] == [p["id"] for p in points]


async def test_experts_machines_and_unsigned_callers_read_no_lists(
    client, world: World, register
) -> None:  # type: ignore[no-untyped-def]
    from tests.inspection_helpers import add_expert

    await add_expert(client, world)
    params = {"list": "measures"}
    # As for the risk points: neither experts nor this machine client hold risks:read.
    for actor in ("expert", "machine"):
        r = await client.get(url(world), params=params, headers=world.h(actor))
        assert r.status_code == 403, (actor, r.text)
    assert (await client.get(url(world), params=params)).status_code == 401


async def test_a_missing_enterprise_is_404(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/enterprises/nope/risk-lists", params={"list": "measures"}, headers=world.h("admin")
    )
    assert r.status_code == 404 and r.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"list": "hazards"}, "validation_error"),
        ({}, "validation_error"),
        ({"list": "measures", "format": "pdf"}, "validation_error"),
        ({"list": "measures", "format": "XLSX"}, "validation_error"),
        ({"list": "measures", "sheet": "1"}, "unknown_parameter"),
        ([("list", "measures"), ("list", "emergency")], "repeated_parameter"),
    ],
)
async def test_bad_list_or_format_is_422(client, world: World, params, code) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(url(world), params=params, headers=world.h("ent_a1_manager"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code
    assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("fmt", ["json", "xlsx"])
async def test_a_list_costs_one_statement(app, client, world: World, register, fmt) -> None:  # type: ignore[no-untyped-def]
    params = {"list": "measures", "format": fmt}
    await client.get(url(world), params=params, headers=world.h("town_a_officer"))  # cached caller
    with statements(app) as seen:
        r = await client.get(url(world), params=params, headers=world.h("town_a_officer"))
    assert r.status_code == 200
    assert len(seen) == 1, seen
    if fmt == "xlsx":  # built in the app's bounded pool
        assert app.state.spreadsheet_limiter.total_tokens == app.state.settings.spreadsheet_workers
    with statements(app) as seen:
        r = await client.get(url(world, "ent_b1"), params=params, headers=world.h("town_a_officer"))
    assert r.status_code == 404 and len(seen) == 1, seen
