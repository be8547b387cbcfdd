"""Bulk imports of users, org units and past inspections through HTTP: each file dry-run, then
real, then again (nothing changes the second time), its bad rows, a duplicate inside the file,
rows out of the caller's scope, who may import the kind, and its template filled in and
imported."""

from __future__ import annotations

import io
from typing import Any

from python_calamine import CalamineWorkbook
from sqlalchemy import func, select, update

from app.models import Inspection, Notification, OrgUnit, User
from tests.conftest import World, credit
from tests.test_imports import _xlsx

IMPORTS = "/api/v1/imports"


def _csv(*lines: str) -> bytes:
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


async def _import(  # type: ignore[no-untyped-def]
    app, client, world: World, actor: str, kind: str, data: bytes, name: str = "f.csv", **form
) -> dict[str, Any]:
    from app.services.jobs import run_jobs

    fields = {"kind": kind, **{k: str(v).lower() for k, v in form.items()}}
    r = await client.post(
        IMPORTS, data=fields, files={"file": (name, data)}, headers=world.h(actor)
    )
    assert r.status_code == 202, r.text
    await run_jobs(app.state.sessionmaker, world.settings, f"t-kinds-{r.json()['id'][:8]}")
    r = await client.get(f"{IMPORTS}/{r.json()['id']}", headers=world.h(actor))
    return r.json()


def _counts(out: dict[str, Any]) -> tuple[int, int, int, int]:
    rows = out["rows"]
    return rows["created"], rows["updated"], rows["unchanged"], rows["failed"]


async def _count(app, model: Any, *where: Any) -> int:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        return int(await s.scalar(select(func.count(model.id)).where(*where)))


async def _template_row(client, world: World, actor: str, kind: str) -> tuple[list[str], dict]:  # type: ignore[no-untyped-def]
    r = await client.get(f"{IMPORTS}/templates/{kind}", headers=world.h(actor))
    assert r.status_code == 200, r.text
    book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
    rows = book.get_sheet_by_index(0).to_python()
    header = [str(h) for h in rows[0]]
    assert all(h for h in header) and not any(c.isascii() and c.isalpha() for c in header[0])
    assert book.get_sheet_by_name("字典").to_python()  # the drop-downs' values
    return header, dict(zip(header, [str(v) for v in rows[1]], strict=False))


def _filled(header: list[str], example: dict[str, str]) -> bytes:
    return _xlsx([header, [example.get(h) or None for h in header]], title=None)


USER_HEAD = "用户名,display_name,角色,所属单位,所属企业,手机号码,执法证号,初始密码"


async def test_users_by_username_through_the_user_service(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    data = _csv(
        USER_HEAD,
        "Wang.Wu,王五,检查执法人员,埇桥街道,,13800000001,皖执-001,Import-Init-2026",
        "ent.li,李四,enterprise_staff,,埇桥机械制造有限公司,,,Import-Init-2027",
        "town_a_officer,埇桥街道业务员,业务人员,埇桥街道,,,,",
    )
    before = await _count(app, User)
    dry = await _import(app, client, world, "admin", "users", data, dry_run=True)
    assert dry["status"] == "succeeded" and _counts(dry) == (2, 1, 0, 0), dry
    assert await _count(app, User) == before
    real = await _import(app, client, world, "admin", "users", data)
    assert real["applied"] and _counts(real) == (2, 1, 0, 0), real
    async with app.state.sessionmaker() as s:
        made = (await s.execute(select(User).where(User.username == "wang.wu"))).scalar_one()
        assert made.org_unit_id == world["town_a"] and made.enforcement_cert_no == "皖执-001"
        assert "Import-Init-2026" not in made.password_hash  # hashed by the service
    r = await client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": "wang.wu", "password": "Import-Init-2026"},
    )
    assert r.status_code == 200, r.text
    # again: nothing changes, and the passwords of existing users are not changed (a warning)
    again = await _import(app, client, world, "admin", "users", data)
    assert _counts(again) == (0, 0, 3, 0) and again["warnings"] == 2
    # bad rows: a later duplicate, an unknown unit, no password, a weak one, another home
    bad = _csv(
        USER_HEAD,
        "zhao.liu,赵六,业务人员,区应急管理局,,,,Import-Init-2028",
        "ZHAO.LIU,赵六二,业务人员,区应急管理局,,,,Import-Init-2028",
        "qian.qi,钱七,业务人员,不存在的局,,,,Import-Init-2028",
        "sun.ba,孙八,业务人员,区应急管理局,,,,",
        "li.jiu,李九,业务人员,区应急管理局,,,,short",
        "wang.wu,王五,检查执法人员,符离镇,,,,",
    )
    out = await _import(app, client, world, "admin", "users", bad, mode="valid_rows")
    assert _counts(out) == (1, 0, 0, 5), out
    by_row = {e["row"]: e for e in out["errors"]}
    assert by_row[3]["code"] == "duplicate_in_file" and by_row[3]["column"] == "用户名"
    assert by_row[4]["code"] == "unknown_org_unit" and by_row[4]["column"] == "所属单位"
    assert by_row[5]["column"] == "初始密码" and by_row[6]["column"] == "初始密码"
    assert by_row[6]["value"] is None  # a password is never echoed
    assert by_row[7]["code"] == "field_not_writable"
    r = await client.get(out["errors_url"], headers=world.h("admin"))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0)
    cells = [str(c) for row in rows.to_python() for c in row]
    assert len(rows.to_python()) == 6 and "short" not in cells  # never echoed back
    # nor kept: the uploaded file with its initial passwords is gone once the job has read it
    files = app.state.storage.local_path(f"imports/{out['id'][:8]}/{out['id']}")
    assert files is not None and not files.exists()
    leftovers = [f.read_bytes() for f in files.parent.iterdir()]
    assert leftovers and not any(b"Import-Init-2028" in f for f in leftovers)
    # the template, filled in, imports
    header, example = await _template_row(client, world, "admin", "users")
    example["初始密码"] = "Template-Init-2026"
    out = await _import(app, client, world, "admin", "users", _filled(header, example), "t.xlsx")
    assert _counts(out) == (1, 0, 0, 0), out


async def test_users_scope_and_permission(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    data = _csv(
        USER_HEAD,
        "zhou.yi,周一,业务人员,埇桥街道,,,,Import-Init-2026",  # the manager's own town
        "wu.er,吴二,业务人员,符离镇,,,,Import-Init-2026",  # another town
        "zheng.san,郑三,单位负责人,埇桥街道,,,,Import-Init-2026",  # a role it may not grant
        "bureau_e_officer,改名,业务人员,区应急管理局,,,,",  # a user of another unit
    )
    out = await _import(app, client, world, "town_a_manager", "users", data, mode="valid_rows")
    assert _counts(out) == (1, 0, 0, 3), out
    codes = {e["row"]: e["code"] for e in out["errors"]}
    assert codes == {3: "outside_scope", 4: "role_not_grantable", 5: "outside_scope"}
    assert await _count(app, User, User.username == "wu.er") == 0
    for kind in ("users", "org_units"):  # officers hold imports:write, not these
        r = await client.post(
            IMPORTS,
            data={"kind": kind},
            files={"file": ("a.csv", data)},
            headers=world.h("county_officer"),
        )
        assert r.status_code == 403, kind
        r = await client.get(f"{IMPORTS}/templates/{kind}", headers=world.h("county_officer"))
        assert r.status_code == 403


UNIT_HEAD = "单位类型,单位名称,区划代码,行业领域,name_en"


async def test_org_units_by_region_code_or_name(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    data = _csv(
        UNIT_HEAD,
        "乡镇,大店镇,341302106,,Dadian Town",
        "行业主管部门,区交通运输局,,道路运输、water_transport,",
        "town,埇桥街道办事处,341302001,,",  # the known town, renamed
        "bureau,区应急管理局,,,",  # the known bureau, nothing new
    )
    before = await _count(app, OrgUnit)
    dry = await _import(app, client, world, "admin", "org_units", data, dry_run=True)
    assert _counts(dry) == (2, 1, 1, 0), dry
    assert await _count(app, OrgUnit) == before
    real = await _import(app, client, world, "admin", "org_units", data)
    assert real["applied"] and _counts(real) == (2, 1, 1, 0), real
    async with app.state.sessionmaker() as s:
        bureau = (await s.execute(select(OrgUnit).where(OrgUnit.name == "区交通运输局"))).one()[0]
        town = await s.get(OrgUnit, world["town_a"])
    assert bureau.kind == "bureau" and bureau.sectors == ["road_transport", "water_transport"]
    assert town is not None and town.name == "埇桥街道办事处"
    again = await _import(app, client, world, "admin", "org_units", data)
    assert _counts(again) == (0, 0, 4, 0), again
    bad = _csv(
        UNIT_HEAD,
        "乡镇,朱仙庄镇,341302107,,",
        "乡镇,朱仙庄镇（重复）,341302107,,",  # the same region code again
        "乡镇,外县镇,341321001,,",  # another county's
        "乡镇,无代码镇,,,",  # a town needs its region code
        "行业部门,区水利局,,不存在的行业,",
    )
    out = await _import(app, client, world, "admin", "org_units", bad, mode="valid_rows")
    assert _counts(out) == (1, 0, 0, 4), out
    codes = {e["row"]: (e["code"], e["column"]) for e in out["errors"]}
    assert codes[3] == ("duplicate_in_file", "区划代码")
    assert codes[4] == ("outside_scope", "区划代码")
    assert codes[5] == ("validation_error", "区划代码")
    assert codes[6] == ("invalid_value", "行业领域")
    header, example = await _template_row(client, world, "admin", "org_units")
    out = await _import(
        app, client, world, "admin", "org_units", _filled(header, example), "t.xlsx"
    )
    assert _counts(out) == (1, 0, 0, 0), out


INSP_HEAD = "external_ids.old,被检查企业,检查类型,检查日期,检查人员,处理决定,整改期限,检查结果"


async def test_past_inspections_end_completed_through_the_lifecycle(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    async with app.state.sessionmaker() as s:  # 行政执法两人以上: two certified inspectors
        await s.execute(
            update(User)
            .where(User.id.in_([world["town_a_officer"], world["town_a_inspector"]]))
            .values(enforcement_cert_no="皖执-100")
        )
        await s.commit()
    data = _csv(
        INSP_HEAD,
        f"X-1,{credit(1)},专家指导服务,2026-11-03,town_a_officer,未发现问题,,现场未发现问题",
        "X-2,宿州城建工程有限公司,日常检查,2026/11/5,town_a_officer、town_a_inspector,"
        "责令限期整改,2026-12-05,通道堵塞，责令整改",
    )
    before = await _count(app, Inspection)
    dry = await _import(app, client, world, "town_a_officer", "inspections", data, dry_run=True)
    assert _counts(dry) == (2, 0, 0, 0), dry
    assert await _count(app, Inspection) == before
    real = await _import(app, client, world, "town_a_officer", "inspections", data)
    assert real["applied"] and _counts(real) == (2, 0, 0, 0), real
    async with app.state.sessionmaker() as s:
        made = {
            i.kind: i for i in (await s.execute(select(Inspection))).scalars() if i.enterprise_id
        }
        told = await s.scalar(select(func.count(Notification.id)))
    routine = made["routine"]
    assert routine.status == "completed" and routine.signatures == []
    assert routine.planned_for.isoformat() == "2026-11-05"
    assert routine.completed_at.astimezone().date().isoformat() == "2026-11-05"
    assert routine.outcome["decisions"][0]["kind"] == "rectification_order"
    assert made["expert_guidance"].outcome["note"] == "现场未发现问题"
    assert told  # the other inspector is asked to sign, as the lifecycle does
    r = await client.get(f"/api/v1/inspections/{routine.id}", headers=world.h("town_a_officer"))
    assert r.status_code == 200 and "sign" in r.json()["allowed_actions"]
    again = await _import(app, client, world, "town_a_officer", "inspections", data)
    assert _counts(again) == (0, 0, 2, 0), again
    changed = data.replace("现场未发现问题".encode(), "现场检查未发现问题".encode())
    out = await _import(app, client, world, "town_a_officer", "inspections", changed)
    assert _counts(out) == (0, 1, 1, 0), out
    # bad rows
    bad = _csv(
        INSP_HEAD,
        f"Y-1,{credit(1)},专家指导服务,2026-11-10,town_a_officer,,,",
        f"Y-1,{credit(1)},专家指导服务,2026-11-11,town_a_officer,,,",  # the same id again
        f"Y-2,{credit(1)},企业自查,2026-11-10,town_a_officer,,,",
        f"Y-3,{credit(3)},专家指导服务,2026-11-10,town_a_officer,,,",  # town B's enterprise
        f"Y-4,{credit(1)},专家指导服务,2026-11-10,town_a_inspector,,,",  # importer not listed
        f"Y-5,{credit(1)},日常检查,2026-11-10,town_a_officer、town_a_manager,,,",  # one certified
        f"Y-6,{credit(1)},专家指导服务,2099-01-01,town_a_officer,,,",
    )
    out = await _import(app, client, world, "town_a_officer", "inspections", bad, mode="valid_rows")
    assert _counts(out) == (1, 0, 0, 6), out
    codes = {e["row"]: (e["code"], e["column"]) for e in out["errors"]}
    assert codes == {
        3: ("duplicate_in_file", "external_ids.old"),
        4: ("kind_not_importable", "检查类型"),
        5: ("outside_scope", "被检查企业"),
        6: ("importer_not_inspector", "检查人员"),
        7: ("certified_inspectors_required", "检查人员"),
        8: ("validation_error", "检查日期"),
    }
    header, example = await _template_row(client, world, "town_a_officer", "inspections")
    example.update({"被检查企业*": credit(2), "检查人员*": "town_a_officer"})
    out = await _import(
        app,
        client,
        world,
        "town_a_officer",
        "inspections",
        _filled(header, example),
        "t.xlsx",
    )
    assert _counts(out) == (1, 0, 0, 0), out
