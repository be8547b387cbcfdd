"""Dispatch indicators (调度指标): a dispatch list defines them, and the report an assignee opens
for a period carries the computed ones equal to what the statistics endpoints give for the
assignee's own scope and the same period, on a populated world."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.services.tasks.measures import MEASURES
from tests.conftest import World
from tests.inspection_helpers import signed_with_fine
from tests.task_helpers import LISTS, TASKS, add_task, issue, new_list
from tests.test_hazard_statistics import build

ALL = [{"code": m.code, "name_zh": m.name_zh, "source": m.code} for m in MEASURES]
MANUAL = {"code": "meetings", "name_zh": "召开安委会会议", "unit": "次", "source": "manual"}


async def _dispatch_task(client, world: World) -> dict:  # type: ignore[no-untyped-def]
    tl = await new_list(
        client, world, kind="dispatch", title="2026年安全生产月度调度", indicators=[*ALL, MANUAL]
    )
    assert [i["code"] for i in tl["indicators"]][-1] == "meetings"
    assert {i["unit"] for i in tl["indicators"] if i["source"] == "rectification_rate"} == {"%"}
    task = await add_task(
        client, world, tl["id"], "1", ["town_a", "bureau_e", "ent_a1"], cycle="monthly"
    )
    assert (await issue(client, world, tl["id"])).status_code == 200
    return task


def _expected(
    hz_found: dict, hz_major: dict, hz_closed: dict, hz_now: dict, enf: dict
) -> dict[str, Decimal]:
    out = {
        "hazards_found": Decimal(hz_found["found"]),
        "major_hazards_found": Decimal(hz_major["found"]),
        "rectification_rate": (Decimal(str(hz_found["rectification_rate"])) * 100).quantize(
            Decimal("0.01")
        ),
        "hazards_closed": Decimal(hz_closed["found"]),
        "stock_hazards_cleared": Decimal(hz_closed["stock_cleared"]),
        "hazards_overdue_open": Decimal(hz_now["overdue"]),
        "major_hazards_supervised": Decimal(hz_now["major_supervised"]),
        "inspections_completed": Decimal(enf["inspections"]),
        "enterprises_inspected": Decimal(enf["enterprises_covered"]),
        "key_enterprise_coverage": (Decimal(str(enf["key_coverage_rate"])) * 100).quantize(
            Decimal("0.01")
        ),
        "fines_entity": Decimal(enf["entity_fines_yuan"]) / 10000,
        "fines_person": Decimal(enf["person_fines_yuan"]) / 10000,
    }
    out.update({f"decisions_{k}": Decimal(v) for k, v in enf["decisions"].items()})
    return out


@pytest.mark.parametrize("granularity", ["month", "year"])
async def test_computed_indicators_equal_the_statistics_for_the_same_scope_and_period(
    client, world: World, granularity
) -> None:  # type: ignore[no-untyped-def]
    await build(client, world)
    await signed_with_fine(client, world)
    task = await _dispatch_task(client, world)
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    if granularity == "month":
        period = f"{today:%Y-%m}"
        start = today.replace(day=1)
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    else:
        period, start, end = (
            f"{today:%Y}",
            today.replace(month=1, day=1),
            today.replace(month=12, day=31),
        )
    span = {"from": start.isoformat(), "to": end.isoformat()}
    parts = (await client.get(f"{TASKS}/{task['id']}", headers=world.h("admin"))).json()[
        "assignees"
    ]
    by_name = {(p["unit"] or p["enterprise"])["id"]: p["id"] for p in parts}
    # who reads the statistics with the assignee's scope (an enterprise: the county filtered to it)
    readers = {
        "town_a": ("town_a_officer", {}),
        "bureau_e": ("bureau_e_officer", {}),
        "ent_a1": ("admin", {"enterprise_id": world["ent_a1"]}),
    }
    for name, (reader, extra) in readers.items():
        h = world.h(reader)

        async def stats(path: str, h=h, extra=extra, **params: str) -> dict:  # type: ignore[no-untyped-def]
            r = await client.get(path, params={**extra, **params}, headers=h)
            assert r.status_code == 200, r.text
            return r.json()["totals"]

        hz = "/api/v1/statistics/hazards"
        expected = _expected(
            await stats(hz, found_at_from=span["from"], found_at_to=span["to"]),
            await stats(hz, found_at_from=span["from"], found_at_to=span["to"], level="major"),
            await stats(hz, closed_at_from=span["from"], closed_at_to=span["to"]),
            await stats(hz),
            await stats(
                "/api/v1/statistics/enforcement",
                completed_at_from=span["from"],
                completed_at_to=span["to"],
            ),
        )
        r = await client.get(
            f"{TASKS}/{task['id']}/reports/draft",
            params={"period": period, "assignee_id": by_name[world[name]]},
            headers=world.h("admin"),
        )
        assert r.status_code == 200, r.text
        draft = r.json()
        assert draft["period_from"] == span["from"] and draft["period_to"] == span["to"]
        got = {f["source"]: f["value"] for f in draft["figures"]}
        assert got.pop("manual") is None
        assert {k: Decimal(v) for k, v in got.items()} == expected, name
    # The town finds something in the county's figures: the draft is not all zeros.
    town = await client.get(
        f"{TASKS}/{task['id']}/reports/draft",
        params={"period": period},
        headers=world.h("town_a_officer"),
    )
    assert town.status_code == 200 and town.json()["assignee"]["unit"]["id"] == world["town_a"]
    assert Decimal(
        next(f["value"] for f in town.json()["figures"] if f["code"] == "fines_entity")
    ) == Decimal("3")


async def test_a_draft_is_the_callers_own_part_and_nothing_else(client, world: World) -> None:  # type: ignore[no-untyped-def]
    task = await _dispatch_task(client, world)
    parts = (await client.get(f"{TASKS}/{task['id']}", headers=world.h("admin"))).json()[
        "assignees"
    ]
    other = next(p["id"] for p in parts if p["unit"] and p["unit"]["id"] == world["bureau_e"])
    url = f"{TASKS}/{task['id']}/reports/draft"
    r = await client.get(
        url, params={"period": "2026-11", "assignee_id": other}, headers=world.h("town_a_officer")
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_assignee"
    r = await client.get(url, params={"period": "2026-11"}, headers=world.h("ent_a1_manager"))
    assert r.status_code == 200 and r.json()["assignee"]["enterprise"]["id"] == world["ent_a1"]
    assert (
        await client.get(url, params={"period": "2026-11"}, headers=world.h("town_b_officer"))
    ).status_code == 404
    assert (
        await client.get(url, params={"period": "2026-13"}, headers=world.h("ent_a1_manager"))
    ).status_code == 422
    r = await client.get(url, params={"period": "2026-11"}, headers=world.h("admin"))
    assert r.status_code == 422  # the county is no assignee: it names whose part


async def test_indicators_belong_to_a_draft_dispatch_list(client, world: World) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        LISTS,
        json={"kind": "campaign", "title": "x", "year": 2026, "indicators": [MANUAL]},
        headers=world.h("admin"),
    )
    assert r.status_code == 422
    for bad in (
        [MANUAL, MANUAL],
        [{**MANUAL, "unit": None}],
        [{"code": "x", "name_zh": "整改率", "source": "rectification_rate", "unit": "项"}],
        [{"code": "x", "name_zh": "未知", "source": "no_such_measure"}],
    ):
        r = await client.post(
            LISTS,
            json={"kind": "dispatch", "title": "x", "year": 2026, "indicators": bad},
            headers=world.h("admin"),
        )
        assert r.status_code == 422, bad
    tl = await new_list(client, world, kind="dispatch", title="调度")
    h = {
        **world.h("admin"),
        "If-Match": (await client.get(f"{LISTS}/{tl['id']}", headers=world.h("admin"))).headers[
            "etag"
        ],
    }
    r = await client.patch(f"{LISTS}/{tl['id']}", json={"indicators": [MANUAL]}, headers=h)
    assert r.status_code == 200 and r.json()["indicators"][0]["code"] == "meetings"
    await add_task(client, world, tl["id"], "1", ["town_a"])
    await issue(client, world, tl["id"])
    h = {
        **world.h("admin"),
        "If-Match": (await client.get(f"{LISTS}/{tl['id']}", headers=world.h("admin"))).headers[
            "etag"
        ],
    }
    r = await client.patch(
        f"{LISTS}/{tl['id']}", json={"indicators": [], "reason": "改"}, headers=h
    )
    assert r.status_code == 409 and r.json()["code"] == "task_list_not_draft"


def _month(today, back: int) -> str:  # type: ignore[no-untyped-def]
    y, m = today.year, today.month - back
    while m < 1:
        y, m = y - 1, m + 12
    return f"{y:04d}-{m:02d}"


async def test_the_dispatch_table_sets_submitted_beside_computed_and_marks_the_missing(
    client, world: World
) -> None:  # type: ignore[no-untyped-def]
    import io
    import zipfile

    from python_calamine import CalamineWorkbook

    from tests.hazard_helpers import register

    await register(client, world, "town_a_officer", "ent_a1")
    await register(client, world, "town_a_officer", "ent_a2")
    indicators = [
        {"code": "found", "name_zh": "排查发现隐患数", "source": "hazards_found"},
        MANUAL,
    ]
    tl = await new_list(client, world, kind="dispatch", title="月度调度", indicators=indicators)
    task = await add_task(client, world, tl["id"], "1", ["town_a", "town_b"], cycle="monthly")
    await issue(client, world, tl["id"])
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
    now, old = _month(today, 0), _month(today, 2)
    r = await client.post(
        f"{TASKS}/{task['id']}/reports",
        json={"period": now, "text": "本月调度", "figures": {"found": 3, "meetings": 1}},
        headers=world.h("town_a_officer"),
    )
    assert r.status_code == 201, r.text
    url = f"{LISTS}/{tl['id']}/dispatch"
    table = (await client.get(url, params={"period": now}, headers=world.h("admin"))).json()
    rows = {row["unit"]["id"]: row for row in table["rows"]}
    a, b = rows[world["town_a"]], rows[world["town_b"]]
    assert a["state"] == "submitted" and b["state"] == "pending"
    assert a["values"][0] == {"code": "found", "submitted": "3", "computed": "2", "difference": "1"}
    assert a["values"][1] == {
        "code": "meetings",
        "submitted": "1",
        "computed": None,
        "difference": None,
    }
    assert b["values"][0]["submitted"] is None and b["values"][0]["computed"] == "0"
    assert table["totals"] == [
        {"code": "found", "submitted": "3"},
        {"code": "meetings", "submitted": "1"},
    ]
    # Two months back nobody reported: both missing (past the due day).
    past = (await client.get(url, params={"period": old}, headers=world.h("admin"))).json()
    assert {row["state"] for row in past["rows"]} == {"missing"}
    # An assignee sees its own row only; another town nothing of town A's.
    mine = (await client.get(url, params={"period": now}, headers=world.h("town_b_officer"))).json()
    assert [row["unit"]["id"] for row in mine["rows"]] == [world["town_b"]]
    assert (
        await client.get(url, params={"period": now}, headers=world.h("ent_b1_manager"))
    ).status_code == 404
    # The workbook holds the same table.
    x = await client.get(url, params={"period": now, "format": "xlsx"}, headers=world.h("admin"))
    assert x.status_code == 200 and x.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment" in x.headers["content-disposition"]
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(x.content)).get_sheet_by_index(0).to_python()
    assert "月度调度" in sheet[0][0]
    assert sheet[1][:5] == ["序号", "任务", "责任单位", "报送状态", "报送时间"]
    assert sheet[1][5] == "排查发现隐患数（项）" and sheet[2][5:8] == ["报送", "平台计算", "差异"]
    assert sheet[1][8] == "召开安委会（专题）会议（次）" or sheet[1][8].startswith("召开安委会会议")
    body = {r[2]: r for r in sheet[3:5]}
    town_a_name = a["unit"]["name"]
    assert body[town_a_name][3] == "已报送" and body[town_a_name][5:9] == [3.0, 2.0, 1.0, 1.0]
    assert sheet[5][0] == "合计" and sheet[5][5] == 3.0
    late = await client.get(url, params={"period": old, "format": "xlsx"}, headers=world.h("admin"))
    styles = zipfile.ZipFile(io.BytesIO(late.content)).read("xl/styles.xml").decode()
    assert "FFFF0000" in styles  # the missing reports are filled red
    rows_old = (
        CalamineWorkbook.from_filelike(io.BytesIO(late.content)).get_sheet_by_index(0).to_python()
    )
    assert {r[3] for r in rows_old[3:5]} == {"未报送"}
    # Not a dispatch list; a bad period.
    other = await new_list(client, world)
    assert (
        await client.get(
            f"{LISTS}/{other['id']}/dispatch", params={"period": now}, headers=world.h("admin")
        )
    ).status_code == 409
    assert (
        await client.get(url, params={"period": "2026-13"}, headers=world.h("admin"))
    ).status_code == 422
