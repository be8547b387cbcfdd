"""Bulk imports through HTTP: a county office's enterprise register as the GB18030 CSV its old
system writes (title rows, Chinese headers and labels), dry runs, all-or-nothing and valid_rows,
re-imports that change nothing, duplicates inside a file, rows out of the caller's scope, the
failed rows as a workbook to fix, hazards from XLSX with Excel serial dates and external ids,
templates, cancellation and a killed job that leaves nothing half-applied."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook
from sqlalchemy import func, insert, select, update

from app.models import Enterprise, Hazard, ImportJob, Job
from app.models.base import utcnow
from app.services.jobs import run_jobs
from tests.conftest import World, credit

IMPORTS = "/api/v1/imports"
HEAD = "统一社会信用代码,企业名称,行政区划代码,所属行业,日常执法部门,主要负责人,联系电话"


def _csv(*lines: str, title: bool = True) -> bytes:
    rows = (["2026年埇桥区企业名录（导出）", ""] if title else []) + [HEAD, *lines]
    return ("\r\n".join(rows) + "\r\n").encode("gb18030")


def _row(n: int, name: str, region: str = "341302001003", sector: str = "工贸") -> str:
    return f"{credit(100 + n)},{name},{region},{sector},区应急管理局,张{n},1380000{n:04d}"


async def _upload(client, world: World, actor: str, data: bytes, name: str, **form: Any):  # type: ignore[no-untyped-def]
    fields = {
        "kind": "enterprises",
        **{k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()},
    }
    r = await client.post(
        IMPORTS,
        data=fields,
        files={"file": (name, data, "application/octet-stream")},
        headers=world.h(actor),
    )
    assert r.status_code == 202, r.text
    assert r.headers["location"] == f"{IMPORTS}/{r.json()['id']}"
    return r.json()


async def _run(app, client, world: World, actor: str, job: dict[str, Any]) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    await run_jobs(app.state.sessionmaker, world.settings, f"t-import-{job['id'][:8]}")
    r = await client.get(f"{IMPORTS}/{job['id']}", headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r.json()


async def _count(app, model: Any) -> int:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        return int(await s.scalar(select(func.count(model.id))))


async def test_a_gb18030_register_with_title_rows_dry_run_then_real_then_again(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    data = _csv(
        _row(1, "埇桥𠀀精密铸造有限公司"), _row(2, "埇桥䶮新材料有限公司", sector="危险化学品")
    )
    before = await _count(app, Enterprise)
    dry = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(client, world, "county_officer", data, "名录.csv", dry_run=True),
    )
    assert dry["status"] == "succeeded" and dry["applied"] is False and dry["dry_run"] is True
    assert dry["rows"] == {
        "total": 2,
        "processed": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
    }
    assert dry["encoding"] == "gb18030" and dry["header_row"] == 3
    assert await _count(app, Enterprise) == before  # a dry run writes nothing
    real = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(client, world, "county_officer", data, "名录.csv"),
    )
    assert (
        real["status"] == "succeeded" and real["applied"] is True and real["rows"]["created"] == 2
    )
    r = await client.get("/api/v1/enterprises?q=埇桥𠀀", headers=world.h("county_officer"))
    found = r.json()["items"]
    assert len(found) == 1 and found[0]["name"] == "埇桥𠀀精密铸造有限公司"
    assert found[0]["enforcement_department"]["id"] == world["bureau_e"]
    again = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(client, world, "county_officer", data, "名录.csv"),
    )
    assert (
        again["rows"]["unchanged"] == 2
        and again["rows"]["created"] == again["rows"]["updated"] == 0
    )
    changed = _csv(
        _row(1, "埇桥𠀀精密铸造股份有限公司"), _row(2, "埇桥䶮新材料有限公司", sector="危险化学品")
    )
    third = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(client, world, "county_officer", changed, "名录.csv"),
    )
    assert (third["rows"]["updated"], third["rows"]["unchanged"]) == (1, 1)
    assert await _count(app, Enterprise) == before + 2


async def test_all_or_nothing_a_failing_row_applies_nothing_and_the_errors_come_back_as_a_workbook(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    bad_sector = f"{credit(111)},坏行业公司,341302001003,不存在的行业,区应急管理局,王五,13800000111"
    bad_code = "91341302MA2N00001X,校验位错误公司,341302001003,工贸,区应急管理局,赵六,13800000112"
    data = _csv(
        _row(10, "好公司一"), bad_sector, _row(11, "好公司二"), bad_code, _row(10, "重复的好公司一")
    )
    before = await _count(app, Enterprise)
    out = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(client, world, "county_officer", data, "r.csv"),
    )
    assert out["status"] == "failed" and out["applied"] is False
    assert out["rows"]["failed"] == 3 and out["rows"]["created"] == 2
    assert await _count(app, Enterprise) == before
    by_row = {e["row"]: e for e in out["errors"]}
    assert set(by_row) == {5, 7, 8}  # the spreadsheet's rows: two title rows, the header
    assert by_row[5]["column"] == "所属行业" and by_row[5]["value"] == "不存在的行业"
    assert by_row[7]["column"] == "统一社会信用代码"
    assert by_row[8]["code"] == "duplicate_in_file"
    assert all(e["message_zh"] and e["message_en"] for e in out["errors"])
    r = await client.get(out["errors_url"], headers=world.h("county_officer"))
    assert r.status_code == 200
    book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
    rows = book.get_sheet_by_index(0).to_python()
    assert rows[0][: len(HEAD.split(","))] == HEAD.split(",")
    assert [str(x[1]) for x in rows[1:]] == ["坏行业公司", "校验位错误公司", "重复的好公司一"]
    assert "所属行业" in str(rows[1][-2])
    # valid_rows: the good rows go in, the failing ones are reported
    kept = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(client, world, "county_officer", data, "r.csv", mode="valid_rows"),
    )
    assert kept["status"] == "succeeded" and kept["applied"] is True
    assert kept["rows"]["created"] == 2 and kept["rows"]["failed"] == 3
    assert await _count(app, Enterprise) == before + 2
    # an old pilot code accepted as a warning
    warned = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(
            client, world, "county_officer", _csv(bad_code), "w.csv", credit_code_check="warn"
        ),
    )
    assert warned["rows"]["created"] == 1 and warned["warnings"] == 1


async def test_a_town_imports_only_its_own_rows(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    data = _csv(
        _row(20, "本镇企业", region="341302001020"), _row(21, "外镇企业", region="341302100021")
    )
    out = await _run(
        app,
        client,
        world,
        "town_a_officer",
        await _upload(client, world, "town_a_officer", data, "t.csv", mode="valid_rows"),
    )
    assert out["rows"]["created"] == 1 and out["rows"]["failed"] == 1
    assert out["errors"][0]["row"] == 5 and out["errors"][0]["code"] == "outside_scope"
    async with app.state.sessionmaker() as s:
        names = set((await s.execute(select(Enterprise.name))).scalars())
    assert "本镇企业" in names and "外镇企业" not in names
    # and an enterprise it does not see is not updated through its credit code either
    clash = _csv(f"{credit(3)},改名的化工公司,341302001001,工贸,区应急管理局,甲,13800000000")
    out = await _run(
        app,
        client,
        world,
        "town_a_officer",
        await _upload(client, world, "town_a_officer", clash, "c.csv"),
    )
    assert out["status"] == "failed" and out["errors"][0]["code"] == "outside_scope"


async def test_who_may_import(client, world: World) -> None:  # type: ignore[no-untyped-def]
    for actor in ("county_viewer", "town_a_inspector", "ent_a1_manager", "machine"):
        r = await client.post(
            IMPORTS,
            data={"kind": "enterprises"},
            files={"file": ("a.csv", _csv(_row(1, "x")))},
            headers=world.h(actor),
        )
        assert r.status_code == 403, actor
    job = await _upload(client, world, "county_officer", _csv(_row(30, "甲")), "a.csv")
    assert (
        await client.get(f"{IMPORTS}/{job['id']}", headers=world.h("town_a_officer"))
    ).status_code == 404
    assert (await client.get(f"{IMPORTS}/{job['id']}", headers=world.h("admin"))).status_code == 200


async def test_files_that_are_not_tables_fail_clearly(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    latin = "Société Générale;Ménard;Hélène\r\n".encode("latin-1") * 3
    out = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(client, world, "county_officer", latin, "l.csv"),
    )
    assert out["status"] == "failed" and out["file_error"]["code"] == "unknown_encoding"
    nohead = b"a,b,c\r\n1,2,3\r\n"
    out = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(client, world, "county_officer", nohead, "n.csv"),
    )
    assert out["status"] == "failed" and out["file_error"]["code"] == "header_not_found"
    short = "企业名称,统一社会信用代码\r\n甲,91341302MA2N000010\r\n".encode()
    out = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(client, world, "county_officer", short, "s.csv"),
    )
    assert out["file_error"]["code"] == "missing_column"


def _xlsx(rows: list[list[Any]], title: str | None = "隐患台账") -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    start = 0
    if title:
        sheet.merge_range(0, 0, 0, len(rows[0]) - 1, title)
        start = 2
    for r, row in enumerate(rows, start=start):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    book.close()
    return out.getvalue()


async def test_hazards_from_xlsx_with_labels_serial_dates_and_external_ids(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    header = [
        "external_ids.city",
        "统一社会信用代码",
        "隐患描述",
        "level",
        "隐患类别",
        "发现日期",
        "整改期限",
    ]
    rows = [
        header,
        [
            "C-1",
            credit(1),
            "安全通道堵塞",
            "一般事故隐患",
            "物的不安全状态",
            46329,
            "2026年12月31日",
        ],
        [
            "C-2",
            "埇桥机械制造有限公司",
            "配电箱未接地",
            "general",
            "unsafe_condition",
            "2026/11/3",
            "2026-12-30",
        ],
    ]
    data = _xlsx(rows)
    before = await _count(app, Hazard)
    job = await _upload(client, world, "town_a_officer", data, "隐患.xlsx", kind="hazards")
    out = await _run(app, client, world, "town_a_officer", job)
    assert out["status"] == "succeeded", out
    assert out["rows"]["created"] == 2 and out["header_row"] == 3
    assert await _count(app, Hazard) == before + 2
    async with app.state.sessionmaker() as s:
        made = (await s.execute(select(Hazard).where(Hazard.title == "安全通道堵塞"))).scalar_one()
    assert made.found_at.astimezone().date().isoformat() == "2026-11-03"
    assert made.deadline.isoformat() == "2026-12-31" and made.status == "registered"
    # the same file again: found by their external ids, nothing changes; a new title updates
    again = await _run(
        app,
        client,
        world,
        "town_a_officer",
        await _upload(client, world, "town_a_officer", data, "隐患.xlsx", kind="hazards"),
    )
    assert again["rows"]["unchanged"] == 2
    rows[1][2] = "安全通道被货物堵塞"
    changed = await _run(
        app,
        client,
        world,
        "town_a_officer",
        await _upload(client, world, "town_a_officer", _xlsx(rows), "隐患.xlsx", kind="hazards"),
    )
    assert changed["rows"]["updated"] == 1 and await _count(app, Hazard) == before + 2


async def test_the_template_has_chinese_headers_drop_downs_and_an_example(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    for kind in ("enterprises", "hazards"):
        r = await client.get(f"{IMPORTS}/templates/{kind}", headers=world.h("county_officer"))
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
        first = book.get_sheet_by_index(0).to_python()
        assert len(first) >= 2 and all(isinstance(h, str) and h for h in first[0])
        with zipfile.ZipFile(io.BytesIO(r.content)) as z:
            sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<dataValidation" in sheet and "字典" in sheet
    r = await client.get(f"{IMPORTS}/templates/enterprises", headers=world.h("county_officer"))
    book = CalamineWorkbook.from_filelike(io.BytesIO(r.content))
    values = book.get_sheet_by_name("字典").to_python()
    flat = {str(v) for row in values for v in row}
    assert "区应急管理局" in flat and "工贸" in flat
    assert (
        await client.get(f"{IMPORTS}/templates/nothing", headers=world.h("county_officer"))
    ).status_code == 422


async def test_a_template_filled_in_imports(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"{IMPORTS}/templates/enterprises", headers=world.h("county_officer"))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(r.content)).get_sheet_by_index(0).to_python()
    header = [str(h) for h in rows[0]]
    example = dict(zip(header, [str(v) for v in rows[1]], strict=False))
    example["统一社会信用代码*"] = credit(140)
    example["行政区划代码*"] = "341302001009"
    out = await _run(
        app,
        client,
        world,
        "county_officer",
        await _upload(
            client,
            world,
            "county_officer",
            _xlsx([header, [example.get(h) or None for h in header]], title=None),
            "t.xlsx",
        ),
    )
    assert out["status"] == "succeeded", out
    assert out["rows"]["created"] == 1


async def test_cancel_a_queued_import(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    job = await _upload(client, world, "county_officer", _csv(_row(40, "取消的公司")), "c.csv")
    r = await client.post(f"{IMPORTS}/{job['id']}/cancel", headers=world.h("county_officer"))
    assert r.status_code == 202 and r.json()["status"] == "cancelled"
    out = await _run(app, client, world, "county_officer", job)
    assert out["status"] == "cancelled" and out["applied"] is False
    assert (
        await client.post(f"{IMPORTS}/{job['id']}/cancel", headers=world.h("county_officer"))
    ).status_code == 409
    async with app.state.sessionmaker() as s:
        assert (
            await s.scalar(select(func.count(Enterprise.id)).where(Enterprise.name == "取消的公司"))
            == 0
        )


async def test_a_killed_import_leaves_nothing_and_runs_again_whole(  # type: ignore[no-untyped-def]
    app, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services.imports import bulk

    real = bulk._insert

    async def dies_after_writing(*args):  # type: ignore[no-untyped-def]
        await real(*args)  # the rows are written in the job's transaction, then the worker dies
        raise RuntimeError("the worker was killed")

    monkeypatch.setattr(bulk, "_insert", dies_after_writing)
    data = _csv(*[_row(50 + i, f"批量公司{i}") for i in range(5)])
    before = await _count(app, Enterprise)
    job = await _upload(client, world, "county_officer", data, "k.csv")
    out = await _run(app, client, world, "county_officer", job)
    assert out["status"] in ("queued", "running")  # not finished: the job is retried
    assert await _count(app, Enterprise) == before  # the rows written before the crash are not in
    monkeypatch.setattr(bulk, "_insert", real)
    async with app.state.sessionmaker() as s:  # its retry is due now
        await s.execute(update(Job).values(run_at=utcnow() - timedelta(minutes=1)))
        await s.commit()
    out = await _run(app, client, world, "county_officer", job)
    assert out["status"] == "succeeded" and out["rows"]["created"] == 5
    assert await _count(app, Enterprise) == before + 5


async def _last_attempt(app, import_id: str, **values: Any) -> None:  # type: ignore[no-untyped-def]
    """Its job has had every attempt but the last one; ``values`` on top."""
    async with app.state.sessionmaker() as s:
        job_id = await s.scalar(select(ImportJob.job_id).where(ImportJob.id == import_id))
        await s.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(**{"attempts": Job.max_attempts - 1, **values})
        )
        await s.commit()


async def test_an_import_whose_last_attempt_is_lost_with_its_worker_fails_cleanly(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    """The worker of its last attempt died (its lease ran out): the import is failed with
    ``import_interrupted`` and nothing applied, never left ``running`` for ever."""
    before = await _count(app, Enterprise)
    job = await _upload(client, world, "county_officer", _csv(_row(60, "中断的公司")), "i.csv")
    await _last_attempt(
        app,
        job["id"],
        attempts=Job.max_attempts,
        status="running",
        locked_until=utcnow() - timedelta(seconds=1),
    )
    out = await _run(app, client, world, "county_officer", job)
    assert (out["status"], out["applied"]) == ("failed", False), out
    assert out["file_error"]["code"] == "import_interrupted" and out["finished_at"]
    assert await _count(app, Enterprise) == before


async def test_an_import_whose_last_attempt_raises_fails_cleanly(  # type: ignore[no-untyped-def]
    app, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services.imports import bulk

    async def dies(*args):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")

    monkeypatch.setattr(bulk, "_insert", dies)
    before = await _count(app, Enterprise)
    job = await _upload(client, world, "county_officer", _csv(_row(61, "出错的公司")), "e.csv")
    await _last_attempt(app, job["id"])
    out = await _run(app, client, world, "county_officer", job)
    assert (out["status"], out["applied"]) == ("failed", False), out
    assert out["file_error"]["code"] == "import_interrupted"
    assert await _count(app, Enterprise) == before


async def test_a_register_of_several_megabytes_is_accepted(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    """The body limit of an import is its file's (50 MB), not the 1 MiB of a JSON body."""
    filler = "，备注" * 400  # a long note column: ~2.4 KB a row, ~2.4 MB in all
    data = _csv(*[_row(200 + i, f"大文件公司{i}") + filler for i in range(1000)])
    assert len(data) > 2 * 1024 * 1024
    job = await _upload(client, world, "county_officer", data, "big.csv", dry_run=True)
    assert job["size"] == len(data)


async def test_a_code_another_writer_takes_meanwhile_is_found_and_nothing_is_lost(  # type: ignore[no-untyped-def]
    app, client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk's new enterprises are written together; when another writer registered one of
    their credit codes after the chunk looked them up, the chunk's rows go again one by one:
    that row updates the enterprise now there, the others are created."""
    from app.services.imports import bulk

    real = bulk._insert
    taken = {
        "id": "00000000-0000-4000-8000-0000000000aa",
        "name": "别人先登记的公司",
        "credit_code": credit(102),
        "region_code": "341302001003",
        "sector": "industry_trade",
        "enforcement_department_id": world["bureau_e"],
        "status": "operating",
        "version": 1,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }

    async def another_writer_first(ctx, *args):  # type: ignore[no-untyped-def]
        await ctx.session.execute(insert(Enterprise.__table__).values(**taken))
        await real(ctx, *args)

    monkeypatch.setattr(bulk, "_insert", another_writer_first)
    data = _csv(*[_row(1 + i, f"并发公司{i}") for i in range(3)])
    job = await _upload(client, world, "county_officer", data, "race.csv")
    out = await _run(app, client, world, "county_officer", job)
    assert out["status"] == "succeeded", out
    assert out["rows"]["created"] == 2 and out["rows"]["updated"] == 1, out["rows"]
    async with app.state.sessionmaker() as s:
        names = set(
            (
                await s.scalars(
                    select(Enterprise.name).where(
                        Enterprise.credit_code.in_([credit(101), credit(102), credit(103)])
                    )
                )
            ).all()
        )
    assert names == {"并发公司0", "并发公司1", "并发公司2"}


async def test_a_second_id_of_one_system_is_an_error_on_its_row(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    """An enterprise has one id per system: a file giving it another is that row's error, and
    the job goes on (valid_rows) with the rest."""
    head = HEAD + ",external_ids.city"
    first = ("\r\n".join([head, _row(61, "甲公司") + ",C-1"]) + "\r\n").encode("gb18030")
    job = await _upload(client, world, "county_officer", first, "a.csv")
    assert (await _run(app, client, world, "county_officer", job))["rows"]["created"] == 1
    again = "\r\n".join([head, _row(61, "甲公司") + ",C-2", _row(62, "乙公司") + ",C-3"])
    job = await _upload(
        client,
        world,
        "county_officer",
        (again + "\r\n").encode("gb18030"),
        "b.csv",
        mode="valid_rows",
    )
    out = await _run(app, client, world, "county_officer", job)
    assert out["status"] == "succeeded", out
    assert out["rows"]["created"] == 1 and out["rows"]["failed"] == 1, out["rows"]
    assert out["errors"][0]["code"] == "external_id_conflict"
    assert out["errors"][0]["column"] == "external_ids.city"
