"""The risk notice board (风险告知牌, issue 13) through HTTP: the JSON shows the point as it is,
the PDF opens and carries the same text, many measures flow onto further pages, and who may
read it is exactly who may read the point."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import unquote

import pypdf
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import World
from tests.statements import statements
from tests.test_risk_points import LEC_RED, LS_BLUE, POINTS, ROLES, _create
from tests.test_users import cheap_password_hashing  # noqa: F401  (autouse fixture)


def board_url(point: dict[str, Any], **query: str) -> str:
    url = f"{POINTS}/{point['id']}/notice-board"
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def pdf_text(content: bytes) -> tuple[int, str]:
    assert content.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


async def _principal(client, world: World, phone: str = "13900000003") -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"/api/v1/enterprises/{world['ent_a1']}",
        json={"principal": {"name": "王五", "phone": phone}},
        headers=world.h("ent_a1_manager"),
    )
    assert r.status_code == 200, r.text


async def test_the_board_shows_the_point_as_it_is(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await _principal(client, world)
    created = await _create(
        client,
        world,
        assessment=LEC_RED,
        hazard_factors=["2201", "2109"],
        control_measures=[
            {"kind": "management", "text": "每班清扫积尘并记录"},
            {"kind": "engineering", "text": "除尘器设置泄爆片并定期检查"},
            {"kind": "ppe", "text": "佩戴防尘口罩"},
            {"kind": "engineering", "text": "设置火花探测及自动灭火装置"},
        ],
    )
    detail = await client.get(f"{POINTS}/{created['id']}", headers=world.h("ent_a1_staff"))
    r = await client.get(board_url(created), headers=world.h("ent_a1_staff"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["etag"] == detail.headers["etag"]
    board, point = r.json(), detail.json()
    for field in ("name", "kind", "location_text", "enterprise", "status", "level"):
        assert board[field] == point[field], field
    assert board["risk_point_id"] == point["id"]
    assert board["level"] == "red" and board["level_name"] == "重大风险"
    assert board["color_hex"] == "#FF0000"
    assert (board["control_level"], board["control_level_name"]) == ("workshop", "车间级")
    assert board["hazard_factors"] == [
        {"code": "2201", "name": "理化危险"},
        {"code": "2109", "name": "明火"},
    ]
    assert [t["code"] for t in board["accident_types"]] == point["accident_types"]
    assert [t["name"] for t in board["accident_types"]] == ["其他爆炸", "火灾"]
    assert board["control_measures"] == [
        {
            "kind": "engineering",
            "name": "工程技术",
            "items": ["除尘器设置泄爆片并定期检查", "设置火花探测及自动灭火装置"],
        },
        {"kind": "management", "name": "管理", "items": ["每班清扫积尘并记录"]},
        {"kind": "ppe", "name": "个体防护", "items": ["佩戴防尘口罩"]},
    ]
    assert board["emergency_measures"] == point["emergency_measures"]
    assert board["responsible"] == point["responsible"] == {"person": "李工", "post": "车间主任"}
    assert board["emergency_phones"] == [
        {"kind": "fire", "name": "火警", "number": "119"},
        {"kind": "ambulance", "name": "急救", "number": "120"},
        {"kind": "police", "name": "报警", "number": "110"},
        {"kind": "enterprise", "name": "企业主要负责人 王五", "number": "13900000003"},
    ]
    assert board["reviewed_at"] is None


async def test_colours_labels_in_english_and_the_duty_number(
    app, client, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(app.state.settings, "emergency_phone", "0557-1234567")
    blue = await _create(client, world, assessment=LS_BLUE, responsible=None)
    r = await client.get(
        board_url(blue), headers=world.h("town_a_officer", **{"Accept-Language": "en"})
    )
    board = r.json()
    assert (board["level"], board["level_name"], board["color_hex"]) == (
        "blue",
        "Low risk",
        "#0070C0",
    )
    assert board["hazard_factors"] == [{"code": "2201", "name": "Physical and chemical hazards"}]
    assert board["control_measures"][0]["name"] == "Engineering"
    assert board["responsible"] is None
    # The enterprise has no principal's phone: the national numbers and the duty number.
    assert [(p["kind"], p["number"]) for p in board["emergency_phones"]] == [
        ("fire", "119"),
        ("ambulance", "120"),
        ("police", "110"),
        ("duty", "0557-1234567"),
    ]
    assert board["emergency_phones"][-1]["name"] == "Emergency management duty"
    pdf = await client.get(board_url(blue, format="pdf"), headers=world.h("town_a_officer"))
    assert "0557-1234567" in pdf_text(pdf.content)[1]


async def test_the_pdf_opens_and_carries_the_board(client, world: World) -> None:  # type: ignore[no-untyped-def]
    await _principal(client, world)
    created = await _create(
        client,
        world,
        assessment=LEC_RED,
        control_measures=[{"kind": "engineering", "text": "泄爆口朝向安全区域 <b>不得</b> & 封堵"}],
    )
    r = await client.get(board_url(created, format="pdf"), headers=world.h("town_a_officer"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    disposition = r.headers["content-disposition"]
    assert disposition.startswith("inline; ")
    assert f'filename="risk-notice-board-{created["id"]}.pdf"' in disposition
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "风险告知牌-粉尘涉爆除尘系统.pdf"
    assert r.headers["etag"] == '"v1-pdf"'
    assert r.headers["x-content-type-options"] == "nosniff"
    pages, text = pdf_text(r.content)
    assert pages >= 1
    compact = text.replace(" ", "").replace("\n", "")
    for expected in (
        "安全风险告知牌",
        "粉尘涉爆除尘系统",
        "埇桥机械制造有限公司",
        "重大风险",
        "危险有害因素",
        "理化危险",
        "可能导致的事故类型",
        "火灾",
        "管控措施",
        "工程技术措施",
        "泄爆口朝向安全区域<b>不得</b>&封堵",  # markup in a measure is text
        "应急处置措施",
        "发生爆燃立即停机",
        "责任人",
        "李工",
        "车间主任",
        "应急电话",
        "119",
        "120",
        "110",
        "13900000003",
    ):
        assert expected in compact, expected


async def test_forty_measures_flow_onto_further_pages(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    long = "对除尘系统的泄爆、隔爆、抑爆装置进行检查，确认完好有效并做好记录。" * 6
    created = await _create(
        client,
        world,
        control_measures=[
            {"kind": ("engineering", "management")[n % 2], "text": f"第{n}条：{long}"}
            for n in range(1, 41)
        ],
        emergency_measures=[f"应急处置第{n}步：立即停机、切断电源并疏散人员" for n in range(1, 31)],
    )
    r = await client.get(board_url(created, format="pdf"), headers=world.h("ent_a1_manager"))
    assert r.status_code == 200
    pages, text = pdf_text(r.content)
    assert pages > 1
    compact = text.replace(" ", "").replace("\n", "")
    assert "第40条" in compact and "应急处置第30步" in compact  # nothing cut off
    limiter = app.state.notice_board_limiter
    assert limiter.total_tokens == app.state.settings.notice_board_workers


async def test_the_json_board_is_one_statement(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    await client.get(board_url(created), headers=world.h("town_a_officer"))  # the caller cached
    with statements(app) as seen:
        r = await client.get(board_url(created), headers=world.h("town_a_officer"))
    assert r.status_code == 200
    assert len(seen) == 1, seen


@pytest.mark.parametrize(("actor", "sees"), sorted(ROLES.items()))
async def test_every_role_reads_the_boards_of_its_scope_only(
    client, world: World, actor, sees
) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    for query in ({}, {"format": "json"}, {"format": "pdf"}):
        r = await client.get(board_url(created, **query), headers=world.h(actor))
        assert r.status_code == (200 if sees else 404), (actor, query, r.text[:200])
        if not sees:
            assert r.json()["code"] == "not_found"


async def test_missing_points_unknown_formats_experts_and_strangers(client, world: World) -> None:  # type: ignore[no-untyped-def]
    from tests.inspection_helpers import add_expert

    created = await _create(client, world)
    h = world.h("county_officer")
    missing = await client.get(f"{POINTS}/nope/notice-board?format=pdf", headers=h)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    for fmt in ("png", "xlsx", "PDF", ""):
        r = await client.get(board_url(created, format=fmt), headers=h)
        assert r.status_code == 422, fmt
        assert r.json()["code"] == "validation_error"
    await add_expert(client, world)
    assert (await client.get(board_url(created), headers=world.h("expert"))).status_code == 403
    assert (await client.get(board_url(created))).status_code == 401


async def test_a_retired_point_still_has_its_board(client, world: World) -> None:  # type: ignore[no-untyped-def]
    created = await _create(client, world)
    r = await client.post(
        f"{POINTS}/{created['id']}/transitions",
        json={"action": "retire", "reason": "设备已拆除"},
        headers=world.h("ent_a1_manager"),
    )
    assert r.status_code == 200
    board = await client.get(board_url(created), headers=world.h("county_officer"))
    assert board.json()["status"] == "retired"
    pdf = await client.get(board_url(created, format="pdf"), headers=world.h("county_officer"))
    assert "已撤销" in pdf_text(pdf.content)[1]


@pytest.mark.parametrize(
    ("permissions", "phone"),
    [(["risks:read"], False), (["risks:read", "enterprises:read"], True)],
)
async def test_the_principals_phone_is_for_callers_who_may_read_the_enterprise(
    client, world: World, permissions, phone
) -> None:  # type: ignore[no-untyped-def]
    from tests.test_clients import client_token, create_client

    await _principal(client, world)
    created = await _create(client, world)
    machine = (
        await create_client(client, world, org_unit_id=world["town_a"], permissions=permissions)
    ).json()
    token = (await client_token(client, machine["client_id"], machine["client_secret"])).json()
    h = {"Authorization": f"Bearer {token['access_token']}"}
    board = (await client.get(board_url(created), headers=h)).json()
    kinds = [p["kind"] for p in board["emergency_phones"]]
    assert kinds == ["fire", "ambulance", "police", *(["enterprise"] if phone else [])]
    text = pdf_text((await client.get(board_url(created, format="pdf"), headers=h)).content)[1]
    assert ("13900000003" in text) is phone


@hypothesis_settings(max_examples=25, deadline=None)
@given(text=st.text(min_size=1, max_size=300))
def test_any_text_renders(text: str) -> None:
    """Whatever a measure or a name holds (markup, control characters, emoji, other scripts),
    the board renders and stays a readable PDF."""
    from app.services.risks.notice_board_pdf import render

    board = {
        "risk_point_id": "p1",
        "name": text,
        "kind": "place",
        "location_text": text,
        "enterprise": {"id": "e1", "name": text},
        "status": "active",
        "level": "yellow",
        "level_name": "一般风险",
        "color_hex": "#FFFF00",
        "control_level": "team",
        "control_level_name": "班组级",
        "hazard_factors": [],
        "accident_types": [],
        "control_measures": [{"kind": "management", "name": "管理", "items": [text]}],
        "emergency_measures": [text],
        "responsible": {"person": text, "post": None},
        "emergency_phones": [{"kind": "fire", "name": "火警", "number": "119"}],
        "reviewed_at": None,
    }
    assert pdf_text(render(board))[0] >= 1


def test_the_duty_number_setting_takes_a_phone_number_or_nothing() -> None:
    from pydantic import ValidationError

    from app.core.config import Settings

    assert Settings(emergency_phone=" ").emergency_phone is None
    assert Settings(emergency_phone="0557-1234567").emergency_phone == "0557-1234567"
    with pytest.raises(ValidationError):
        Settings(emergency_phone="call the office")
