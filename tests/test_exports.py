"""List exports (issue 16): every list as CSV or XLSX, equal to the JSON list for the same
filters and caller, with formula cells neutralised and large exports built as jobs."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import pytest
from python_calamine import CalamineWorkbook

from app.services.catalog_data import HAZARD_LEVELS
from app.services.jobs import run_jobs
from tests.hazard_helpers import register

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM so Excel opens it"
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


def read_xlsx(body: bytes) -> list[list[Any]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(body))
    return book.get_sheet_by_index(0).to_python(skip_empty_area=False)


def column(rows: list[list[Any]], header: str) -> list[Any]:
    i = rows[0].index(header)
    return [r[i] for r in rows[1:]]


async def json_list(client, world, actor: str, path: str, **params: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, params=query, headers=world.h(actor))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


async def some_hazards(client, world) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return [
        await register(client, world, title="车间防护栏破损"),
        await register(client, world, title="@SUM(A1)", level="major"),
        await register(client, world, enterprise="ent_a2", title='=HYPERLINK("http://x")'),
        await register(client, world, actor="town_b_officer", enterprise="ent_b1", title="储罐"),
        await register(client, world, actor="ent_a1_manager", title="-1+2"),
    ]


@pytest.mark.parametrize("actor", ["town_a_officer", "ent_a1_manager", "county_officer"])
async def test_hazards_csv_and_xlsx_equal_the_json_list(client, world, actor) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    items = await json_list(client, world, actor, "/api/v1/hazards")
    assert items
    r = await client.get("/api/v1/hazards?format=csv", headers=world.h(actor))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = read_csv(r.content)
    assert b"\r\n" in r.content
    assert column(rows, "隐患编号") == [h["number"] for h in items]
    assert column(rows, "企业名称") == [h["enterprise"]["name"] for h in items]
    assert column(rows, "整改期限") == [h["deadline"] for h in items]
    levels = {e.code: e.name_zh for e in HAZARD_LEVELS}  # the catalogue's labels
    assert column(rows, "隐患等级") == [levels[h["level"]] for h in items]
    found = [
        datetime.fromisoformat(h["found_at"]).astimezone(_shanghai()).strftime("%Y-%m-%d %H:%M:%S")
        for h in items
    ]
    assert column(rows, "发现时间") == found

    x = await client.get("/api/v1/hazards", params={"format": "xlsx"}, headers=world.h(actor))
    assert x.status_code == 200, x.text
    assert x.headers["content-type"] == XLSX
    sheet = read_xlsx(x.content)
    assert column(sheet, "隐患编号") == [h["number"] for h in items]
    assert column(sheet, "整改期限") == [date.fromisoformat(h["deadline"]) for h in items]
    assert all(isinstance(v, datetime) for v in column(sheet, "发现时间"))
    assert column(sheet, "标题" if "标题" in sheet[0] else "隐患描述") == [
        h["title"] for h in items
    ]


def _shanghai():  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Shanghai")


async def test_scope_an_enterprise_user_exports_only_its_own(client, world) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    r = await client.get("/api/v1/hazards?format=csv", headers=world.h("ent_a1_manager"))
    rows = read_csv(r.content)
    assert rows[1:], "its own hazards"
    assert set(column(rows, "企业编号")) == {world["ent_a1"]}
    e = await client.get("/api/v1/enterprises?format=xlsx", headers=world.h("ent_a1_manager"))
    assert column(read_xlsx(e.content), "统一社会信用代码") == [
        x["credit_code"]
        for x in await json_list(client, world, "ent_a1_manager", "/api/v1/enterprises")
    ]
    assert len(read_xlsx(e.content)) == 2


async def test_formula_cells_are_neutralised(client, world) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    r = await client.get("/api/v1/hazards?format=csv&sort=found_at", headers=world.h("admin"))
    titles = column(read_csv(r.content), "隐患描述")
    assert "'@SUM(A1)" in titles
    assert '\'=HYPERLINK("http://x")' in titles
    assert "'-1+2" in titles
    assert "车间防护栏破损" in titles
    x = await client.get("/api/v1/hazards?format=xlsx&sort=found_at", headers=world.h("admin"))
    cells = column(read_xlsx(x.content), "隐患描述")
    # Written as strings: the text itself, never a formula or a number.
    assert "@SUM(A1)" in cells and '=HYPERLINK("http://x")' in cells and "-1+2" in cells
    assert b"<f>" not in _sheet_xml(x.content)


def _sheet_xml(body: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(body)) as z:
        return z.read("xl/worksheets/sheet1.xml")


async def test_an_enterprise_named_as_a_formula(client, world, app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from app.models import Enterprise

    async with app.state.sessionmaker() as s:
        await s.execute(
            update(Enterprise)
            .where(Enterprise.id == world["ent_a1"])
            .values(name='=HYPERLINK("http://x")')
        )
        await s.commit()
    app.state.principal_cache.clear()
    r = await client.get("/api/v1/enterprises?format=csv", headers=world.h("county_officer"))
    names = column(read_csv(r.content), "企业名称")
    assert '\'=HYPERLINK("http://x")' in names
    x = await client.get("/api/v1/enterprises?format=xlsx", headers=world.h("county_officer"))
    assert '=HYPERLINK("http://x")' in column(read_xlsx(x.content), "企业名称")
    assert b"<f>" not in _sheet_xml(x.content)


async def test_content_disposition_names_the_list_and_the_day(client, world) -> None:  # type: ignore[no-untyped-def]
    from app.core.clock import local_today

    day = local_today("Asia/Shanghai").isoformat()
    r = await client.get("/api/v1/hazards?format=xlsx", headers=world.h("admin"))
    cd = r.headers["content-disposition"]
    assert cd.startswith("attachment;")
    assert f'filename="hazards_{day}.xlsx"' in cd
    assert "filename*=UTF-8''" + quote(f"隐患清单_{day}.xlsx") in cd
    u = await client.get("/api/v1/users?format=csv", headers=world.h("admin"))
    assert f'filename="users_{day}.csv"' in u.headers["content-disposition"]
    assert quote(f"用户清单_{day}.csv") in u.headers["content-disposition"]


async def test_lang_en_field_names_and_codes(client, world) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    r = await client.get("/api/v1/hazards?format=csv&lang=en", headers=world.h("admin"))
    rows = read_csv(r.content)
    assert rows[0][:3] == ["number", "title", "enterprise"]
    assert set(column(rows, "level")) == {"general", "major"}
    assert set(column(rows, "is_overdue")) == {"false"}


async def test_accept_chooses_and_format_wins(client, world) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    h = world.h("admin")
    # A JSON read first: the caller is then known to the hot reads (app/api/hot.py), which
    # must still leave an export to the route.
    assert (await client.get("/api/v1/hazards", headers=h)).status_code == 200
    r = await client.get("/api/v1/hazards", headers={**h, "Accept": "text/csv"})
    assert r.headers["content-type"].startswith("text/csv")
    x = await client.get("/api/v1/hazards", headers={**h, "Accept": XLSX})
    assert x.headers["content-type"] == XLSX
    j = await client.get("/api/v1/hazards?format=json", headers={**h, "Accept": "text/csv"})
    assert j.headers["content-type"].startswith("application/json")
    c = await client.get("/api/v1/hazards?format=csv", headers={**h, "Accept": XLSX})
    assert c.headers["content-type"].startswith("text/csv")


async def test_an_export_with_a_filter(client, world) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    items = await json_list(client, world, "admin", "/api/v1/hazards", level="major")
    assert len(items) == 1
    r = await client.get("/api/v1/hazards?format=csv&level=major", headers=world.h("admin"))
    assert column(read_csv(r.content), "隐患编号") == [items[0]["number"]]
    # limit and cursor of the request do not apply: the export is the whole list
    all_items = await json_list(client, world, "admin", "/api/v1/hazards")
    r = await client.get("/api/v1/hazards?format=csv&limit=1", headers=world.h("admin"))
    assert len(read_csv(r.content)) == len(all_items) + 1


async def test_every_list_exports(client, world) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    for path, actor, key, header in (
        ("/api/v1/enterprises", "town_a_officer", "credit_code", "统一社会信用代码"),
        ("/api/v1/users", "admin", "username", "用户名"),
        ("/api/v1/inspections", "county_officer", "number", "检查编号"),
        ("/api/v1/tasks", "county_officer", "code", "任务编号"),
        ("/api/v1/reports", "county_officer", "number", "举报编号"),
    ):
        items = await json_list(client, world, actor, path)
        for fmt in ("csv", "xlsx"):
            r = await client.get(path, params={"format": fmt}, headers=world.h(actor))
            assert r.status_code == 200, (path, r.text)
            rows = read_csv(r.content) if fmt == "csv" else read_xlsx(r.content)
            assert column(rows, header) == [i[key] for i in items], path


async def test_unknown_format_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/v1/hazards", "/api/v1/users", "/api/v1/reports"):
        r = await client.get(path, params={"format": "pdf"}, headers=world.h("admin"))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/api/v1/hazards?format=csv&lang=fr", headers=world.h("admin"))
    assert r.status_code == 422


async def test_large_export_is_a_job(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    items = await json_list(client, world, "town_a_officer", "/api/v1/hazards")
    app.state.settings.export_job_threshold_rows = 2
    try:
        r = await client.get("/api/v1/hazards?format=xlsx", headers=world.h("town_a_officer"))
    finally:
        app.state.settings.export_job_threshold_rows = 100_000
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["download_url"] is None
    assert r.headers["location"] == f"/api/v1/exports/{job['id']}"
    early = await client.get(f"/api/v1/exports/{job['id']}/file", headers=world.h("town_a_officer"))
    assert early.status_code == 409 and early.json()["code"] == "export_not_ready"
    other = await client.get(f"/api/v1/exports/{job['id']}", headers=world.h("county_officer"))
    assert other.status_code == 404, "only its creator sees it"

    await run_jobs(app.state.sessionmaker, settings, "t-export")
    done = await client.get(r.headers["location"], headers=world.h("town_a_officer"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "succeeded"
    assert done.json()["rows"] == len(items)
    f = await client.get(done.json()["download_url"], headers=world.h("town_a_officer"))
    assert f.status_code == 200
    assert f.headers["content-type"] == XLSX
    assert "attachment" in f.headers["content-disposition"]
    assert column(read_xlsx(f.content), "隐患编号") == [h["number"] for h in items]


async def test_large_csv_job_keeps_filters_and_lang(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    await some_hazards(client, world)
    items = await json_list(
        client, world, "admin", "/api/v1/hazards", level="general", found_at_from="2000-01-01"
    )
    app.state.settings.export_job_threshold_rows = 2
    try:
        r = await client.get(
            "/api/v1/hazards?format=csv&lang=en&level=general&found_at_from=2000-01-01",
            headers=world.h("admin"),
        )
    finally:
        app.state.settings.export_job_threshold_rows = 100_000
    assert r.status_code == 202, r.text
    await run_jobs(app.state.sessionmaker, settings, "t-export-csv")
    done = (await client.get(r.headers["location"], headers=world.h("admin"))).json()
    f = await client.get(done["download_url"], headers=world.h("admin"))
    assert column(read_csv(f.content), "number") == [h["number"] for h in items]


async def test_reports_export_no_reporter_and_money_as_numbers(client, world, app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from app.models import PublicReport
    from tests.report_helpers import NAME, PHONE, submit

    await submit(app, reporter={"name": NAME, "phone": PHONE}, anonymous=False)
    await submit(app, description="=cmd|' /C calc'!A0 夜间违规动火作业，无人监护")
    async with app.state.sessionmaker() as s:
        await s.execute(update(PublicReport).values(reward_fen=-12345))  # a number, even negative
        await s.commit()
    items = await json_list(client, world, "county_officer", "/api/v1/reports")
    assert len(items) == 2
    r = await client.get("/api/v1/reports?format=csv", headers=world.h("county_officer"))
    x = await client.get("/api/v1/reports?format=xlsx", headers=world.h("county_officer"))
    for body in (r.content, x.content, _sheet_xml(x.content)):
        assert NAME.encode() not in body and PHONE.encode() not in body
    rows = read_csv(r.content)
    assert column(rows, "举报编号") == [i["number"] for i in items]
    assert set(column(rows, "奖励金额（元）")) == {str(items[0]["reward_yuan"])} == {"-123.45"}
    assert any(d.startswith("'=cmd") for d in column(rows, "举报内容"))
    sheet = read_xlsx(x.content)
    assert column(sheet, "奖励金额（元）") == [-123.45, -123.45]
    assert set(column(sheet, "是否匿名")) == {"是", "否"}


async def test_inspections_and_tasks_export_with_their_rows(client, world) -> None:  # type: ignore[no-untyped-def]
    from tests.inspection_helpers import plan
    from tests.task_helpers import add_task, new_list

    await plan(client, world)
    await plan(client, world, kind="key_period", planned_for="2026-12-20")
    task_list = await new_list(client, world)
    await add_task(client, world, task_list["id"], "1.1", ["town_a"], deadline="2026-12-31")
    await add_task(client, world, task_list["id"], "1.2", ["ent_a1"])
    inspections = await json_list(client, world, "town_a_officer", "/api/v1/inspections")
    assert len(inspections) == 2
    sheet = read_xlsx(
        (
            await client.get("/api/v1/inspections?format=xlsx", headers=world.h("town_a_officer"))
        ).content
    )
    assert column(sheet, "检查编号") == [i["number"] for i in inspections]
    assert column(sheet, "计划日期") == [date.fromisoformat(i["planned_for"]) for i in inspections]
    assert column(sheet, "发现隐患数") == [float(i["findings_count"]) for i in inspections]
    tasks = await json_list(client, world, "admin", "/api/v1/tasks")
    rows = read_csv(
        (await client.get("/api/v1/tasks?format=csv&lang=en", headers=world.h("admin"))).content
    )
    assert column(rows, "code") == [t["code"] for t in tasks] and len(tasks) == 2
    assert column(rows, "deadline") == [t["deadline"] or "" for t in tasks]
    assert set(column(rows, "cycle")) == {"once"}
    sheet = read_xlsx(
        (await client.get("/api/v1/tasks?format=xlsx", headers=world.h("admin"))).content
    )
    deadlines = [date.fromisoformat(t["deadline"]) if t["deadline"] else "" for t in tasks]
    assert column(sheet, "完成期限") == deadlines and date(2026, 12, 31) in deadlines


async def test_a_job_whose_caller_was_deactivated_fails(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    app.state.settings.export_job_threshold_rows = 1
    try:
        r = await client.get("/api/v1/hazards?format=csv", headers=world.h("town_a_manager"))
    finally:
        app.state.settings.export_job_threshold_rows = 100_000
    assert r.status_code == 202, r.text
    off = await client.patch(
        f"/api/v1/users/{world['town_a_manager']}",
        json={"is_active": False},
        headers=world.h("admin"),
    )
    assert off.status_code == 200, off.text
    await run_jobs(app.state.sessionmaker, settings, "t-export-off")
    async with app.state.sessionmaker() as s:
        from app.models import ExportJob

        job = await s.get(ExportJob, r.json()["id"])
        assert job is not None and job.status == "failed" and job.file_key is None


# ---- export jobs: their life, cancellation, retention, connections ---------------------------


async def _export_job(client, world, app, actor: str = "town_a_officer", fmt: str = "csv") -> str:  # type: ignore[no-untyped-def]
    await some_hazards(client, world)
    app.state.settings.export_job_threshold_rows = 1
    try:
        r = await client.get(f"/api/v1/hazards?format={fmt}", headers=world.h(actor))
    finally:
        app.state.settings.export_job_threshold_rows = 100_000
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _stored(settings, export_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    folder = settings.data_dir / "files" / "exports"
    return sorted(p.name for p in folder.glob(f"{export_id}.*")) if folder.exists() else []


async def test_a_queued_export_is_cancelled_and_never_built(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    export_id = await _export_job(client, world, app)
    other = await client.post(f"/api/v1/exports/{export_id}/cancel", headers=world.h("admin"))
    assert other.status_code == 404, "only its creator may cancel it"
    r = await client.post(f"/api/v1/exports/{export_id}/cancel", headers=world.h("town_a_officer"))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "cancelled" and r.json()["download_url"] is None
    await run_jobs(app.state.sessionmaker, settings, "t-export-cancel")
    got = await client.get(f"/api/v1/exports/{export_id}", headers=world.h("town_a_officer"))
    assert got.json()["status"] == "cancelled" and got.json()["rows"] is None
    assert _stored(settings, export_id) == []
    f = await client.get(f"/api/v1/exports/{export_id}/file", headers=world.h("town_a_officer"))
    assert f.status_code == 409 and f.json()["code"] == "export_not_ready"
    again = await client.post(
        f"/api/v1/exports/{export_id}/cancel", headers=world.h("town_a_officer")
    )
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"


async def test_a_running_export_stops_at_its_next_page(  # type: ignore[no-untyped-def]
    client, world, app, settings, monkeypatch
) -> None:
    from app.services import export_jobs, exports

    export_id = await _export_job(client, world, app)
    monkeypatch.setattr(exports, "PAGE_ROWS", 1)
    real = export_jobs._stop_if_cancelled
    seen: list[str] = []

    def cancelling(session, eid):  # type: ignore[no-untyped-def]
        check = real(session, eid)

        async def first_cancel_then_check() -> None:
            if not seen:
                got = await client.get(f"/api/v1/exports/{eid}", headers=world.h("town_a_officer"))
                seen.append(got.json()["status"])
                r = await client.post(
                    f"/api/v1/exports/{eid}/cancel", headers=world.h("town_a_officer")
                )
                assert r.status_code == 202, r.text
            await check()

        return first_cancel_then_check

    monkeypatch.setattr(export_jobs, "_stop_if_cancelled", cancelling)
    await run_jobs(app.state.sessionmaker, settings, "t-export-stop")
    assert seen == ["running"], "a job a worker holds shows running"
    got = (
        await client.get(f"/api/v1/exports/{export_id}", headers=world.h("town_a_officer"))
    ).json()
    assert got["status"] == "cancelled" and got["rows"] is None
    assert _stored(settings, export_id) == []


async def test_a_cancel_that_lands_while_the_file_is_stored_wins(  # type: ignore[no-untyped-def]
    client, world, app, settings, monkeypatch
) -> None:
    from app.services import exports

    export_id = await _export_job(client, world, app)
    real = exports.build_csv_file

    async def built_then_cancelled(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = await real(*args, **kwargs)
        r = await client.post(
            f"/api/v1/exports/{export_id}/cancel", headers=world.h("town_a_officer")
        )
        assert r.status_code == 202, r.text
        return result

    monkeypatch.setattr(exports, "build_csv_file", built_then_cancelled)
    await run_jobs(app.state.sessionmaker, settings, "t-export-late-cancel")
    got = (
        await client.get(f"/api/v1/exports/{export_id}", headers=world.h("town_a_officer"))
    ).json()
    assert got["status"] == "cancelled"
    assert _stored(settings, export_id) == [], "the file built for a cancelled export is deleted"


async def test_a_built_file_expires_after_its_retention(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from sqlalchemy import update

    from app.models import ExportJob
    from app.services.jobs import housekeeping

    export_id = await _export_job(client, world, app, fmt="xlsx")
    await run_jobs(app.state.sessionmaker, settings, "t-export-expiry")
    done = (
        await client.get(f"/api/v1/exports/{export_id}", headers=world.h("town_a_officer"))
    ).json()
    assert done["status"] == "succeeded"
    finished = datetime.fromisoformat(done["finished_at"])
    assert datetime.fromisoformat(done["expires_at"]) - finished == timedelta(hours=72)
    assert _stored(settings, export_id) == [f"{export_id}.xlsx"]

    async with app.state.sessionmaker() as s:
        result = await housekeeping(s, settings)
        await s.commit()
    assert result["exports_expired"] == 0, "within its retention the file is kept"
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(ExportJob)
            .where(ExportJob.id == export_id)
            .values(finished_at=finished - timedelta(hours=73))
        )
        await s.commit()
    for _ in range(2):  # marked expired, then its file deleted by the next run
        async with app.state.sessionmaker() as s:
            await housekeeping(s, settings)
            await s.commit()
    got = (
        await client.get(f"/api/v1/exports/{export_id}", headers=world.h("town_a_officer"))
    ).json()
    assert got["status"] == "expired" and got["download_url"] is None and got["expires_at"] is None
    assert _stored(settings, export_id) == []
    f = await client.get(f"/api/v1/exports/{export_id}/file", headers=world.h("town_a_officer"))
    assert f.status_code == 410 and f.json()["code"] == "export_expired"
    assert f.headers["content-type"].startswith("application/problem+json")
    late = await client.post(
        f"/api/v1/exports/{export_id}/cancel", headers=world.h("town_a_officer")
    )
    assert late.status_code == 409


async def test_an_export_the_queue_gave_up_is_failed(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select, update

    from app.models import ExportJob, Job
    from app.services.jobs import housekeeping

    export_id = await _export_job(client, world, app)
    async with app.state.sessionmaker() as s:
        job_id = (
            await s.execute(select(ExportJob.job_id).where(ExportJob.id == export_id))
        ).scalar_one()
        await s.execute(update(Job).where(Job.id == job_id).values(status="dead"))
        await s.commit()
    got = (
        await client.get(f"/api/v1/exports/{export_id}", headers=world.h("town_a_officer"))
    ).json()
    assert got["status"] == "failed", "seen as failed at once"
    async with app.state.sessionmaker() as s:
        assert (await housekeeping(s, settings))["exports_failed"] == 1
        await s.commit()
    async with app.state.sessionmaker() as s:
        job = await s.get(ExportJob, export_id)
        assert job is not None and job.status == "failed" and job.error
    cancel = await client.post(
        f"/api/v1/exports/{export_id}/cancel", headers=world.h("town_a_officer")
    )
    assert cancel.status_code == 409


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "job"])
async def test_an_export_request_holds_one_connection_at_a_time(  # type: ignore[no-untyped-def]
    client, world, app, monkeypatch, fmt
) -> None:
    """The caller is resolved on the request's session; the export's pages (or the export job's
    write) never take a second pooled connection beside it."""
    from sqlalchemy import event

    from app.services import exports

    await some_hazards(client, world)
    monkeypatch.setattr(exports, "PAGE_ROWS", 2)  # several pages
    app.state.principal_cache.clear()  # the caller is read from the database
    if fmt == "job":
        monkeypatch.setattr(app.state.settings, "export_job_threshold_rows", 1)
    pool = app.state.engine.sync_engine.pool
    peak = 0

    def checkout(dbapi_conn, record, proxy):  # type: ignore[no-untyped-def]
        nonlocal peak
        peak = max(peak, pool.checkedout())

    event.listen(pool, "checkout", checkout)
    try:
        r = await client.get(
            f"/api/v1/hazards?format={'csv' if fmt == 'job' else fmt}",
            headers=world.h("town_a_officer"),
        )
    finally:
        event.remove(pool, "checkout", checkout)
    assert r.status_code == (202 if fmt == "job" else 200), r.text
    assert peak == 1
