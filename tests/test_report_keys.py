"""Reporters' identities at rest (issue 15, 保密): sealed under a key derived from the secret,
bound to their report, and re-sealed by ``anjian keys rotate`` when the secret changes."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from app.core.config import Settings
from app.core.sealing import InvalidTag, Sealed, reporter_keyring
from app.models import Base
from app.models.public_reports import PublicReport
from app.services.public_reports import keys
from app.services.public_reports.intake import seal_reporter
from tests.conftest import World
from tests.report_helpers import NAME, PHONE, REPORTS, add_person, submit

SECRET_B = "rotation-secret-b-not-for-production-0123456789"
SECRET_C = "rotation-secret-c-not-for-production-0123456789"
OTHER = {"name": "李四", "phone": "13912345678"}


def with_secrets(settings: Settings, current: str, *previous: str) -> Settings:
    """The test settings with another current secret and previous ones."""
    return settings.model_copy(update={"secret_key": current, "previous_secret_keys": previous})


def secret_a(world: World) -> str:
    """The secret the test app seals with."""
    assert world.settings.secret_key
    return world.settings.secret_key


async def sealed_rows(app: Any) -> list[Any]:
    async with app.state.sessionmaker() as s:
        rows = await s.execute(
            select(
                PublicReport.id,
                PublicReport.reporter_key_id,
                PublicReport.reporter_sealed,
                PublicReport.version,
                PublicReport.updated_at,
            ).order_by(PublicReport.id)
        )
        return list(rows.all())


def identity(keyring: Any, row: Any) -> dict[str, str]:
    return json.loads(keyring.open(Sealed(row.reporter_key_id, row.reporter_sealed), row.id))


async def reporter_seen(client: Any, world: World, report_id: str) -> Any:
    return await client.get(
        f"{REPORTS}/{report_id}?include=reporter", headers=world.h("county_manager")
    )


async def test_the_database_holds_no_reporter_in_clear(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    await submit(app, reporter={"name": NAME, "phone": PHONE})
    await submit(app, reporter=OTHER, anonymous=False)
    # Every row of every table, as a dump would hold them.
    dump: list[str] = []
    async with app.state.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in (await conn.execute(table.select())).all():
                dump.extend(str(v) for v in row)
    rows = await sealed_rows(app)
    assert len(rows) == 2
    for secret in (NAME, PHONE, OTHER["name"], OTHER["phone"]):
        assert not any(secret in value for value in dump)
    keyring = reporter_keyring(world.settings)
    for row in rows:
        assert row.reporter_key_id == keyring.current_id
        raw = base64.b64decode(row.reporter_sealed)
        assert PHONE.encode() not in raw and NAME.encode() not in raw
    # … and yet the identity is there for those allowed to see it.
    await add_person(app, world, "county_manager", "manager", "county")
    seen = {(await reporter_seen(client, world, r.id)).json()["reporter"]["phone"] for r in rows}
    assert seen == {PHONE, OTHER["phone"]}


async def test_a_sealed_value_copied_into_another_report_does_not_open(app, world: World) -> None:  # type: ignore[no-untyped-def]
    await submit(app, reporter={"name": NAME, "phone": PHONE})
    await submit(app, reporter=OTHER)
    first, second = await sealed_rows(app)
    keyring = reporter_keyring(world.settings)
    assert identity(keyring, first)["phone"] == PHONE
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(PublicReport.__table__)
            .where(PublicReport.__table__.c.id == second.id)
            .values(reporter_sealed=first.reporter_sealed, reporter_key_id=first.reporter_key_id)
        )
        await s.commit()
    _, copied = await sealed_rows(app)
    with pytest.raises(InvalidTag):
        identity(keyring, copied)
    # Rotation leaves it as it is, and says so.
    async with app.state.sessionmaker() as s:
        done = await keys.rotate(s, with_secrets(world.settings, SECRET_B, secret_a(world)))
    assert (done.resealed, done.unreadable, done.complete) == (1, 1, False)
    assert (await sealed_rows(app))[1].reporter_sealed == first.reporter_sealed


async def test_rotation_re_seals_every_identity_under_the_new_key(
    app, client, world: World
) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        await submit(app, reporter={"name": f"{NAME}{n}", "phone": f"1380013800{n}"})
    await submit(app)  # anonymous: nothing sealed, nothing to rotate
    await add_person(app, world, "county_manager", "manager", "county")
    before = [r for r in await sealed_rows(app) if r.reporter_sealed is not None]
    etags = {r.id: (await reporter_seen(client, world, r.id)).headers["ETag"] for r in before}
    a = reporter_keyring(world.settings)
    b_with_a = with_secrets(world.settings, SECRET_B, secret_a(world))
    b_alone = reporter_keyring(with_secrets(world.settings, SECRET_B))
    assert b_alone.current_id != a.current_id
    async with app.state.sessionmaker() as s:
        state = await keys.status(s, b_with_a)
    assert state.current_id == b_alone.current_id
    assert [(k.key_id, k.state, k.count) for k in state.keys] == [
        (b_alone.current_id, "current", 0),
        (a.current_id, "previous", 5),
    ]
    # Before rotation the new keyring still opens what the old key sealed.
    keyring = reporter_keyring(b_with_a)
    assert [identity(keyring, r)["name"] for r in before] == [
        identity(a, r)["name"] for r in before
    ]

    async with app.state.sessionmaker() as s:
        done = await keys.rotate(s, b_with_a, batch_size=2)
    assert (done.resealed, done.already_current, done.complete) == (5, 0, True)
    after = [r for r in await sealed_rows(app) if r.reporter_sealed is not None]
    assert {r.reporter_key_id for r in after} == {b_alone.current_id}
    assert [identity(b_alone, r) for r in after] == [identity(a, r) for r in before]
    # How it is stored changed, not what the report says: same version, same ETag.
    assert [(r.version, r.updated_at) for r in after] == [(r.version, r.updated_at) for r in before]
    async with app.state.sessionmaker() as s:
        state = await keys.status(s, b_with_a)
    assert [(k.state, k.count) for k in state.keys] == [("current", 5), ("previous", 0)]
    assert state.under_old_keys == 0

    async with app.state.sessionmaker() as s:
        again = await keys.rotate(s, b_with_a)
    assert (again.resealed, again.already_current, again.complete) == (0, 5, True)
    assert [r for r in await sealed_rows(app) if r.reporter_sealed is not None] == after

    # Back under the app's own secret, the API shows each identity again, ETag unchanged.
    async with app.state.sessionmaker() as s:
        back = await keys.rotate(s, with_secrets(world.settings, secret_a(world), SECRET_B))
    assert back.resealed == 5
    for r in before:
        seen = await reporter_seen(client, world, r.id)
        assert seen.json()["reporter"] == identity(a, r)
        assert seen.headers["ETag"] == etags[r.id]


async def test_a_value_under_a_key_no_secret_derives_is_counted_and_fails(
    app, world: World
) -> None:  # type: ignore[no-untyped-def]
    await submit(app, reporter={"name": NAME, "phone": PHONE})
    await submit(app, reporter=OTHER)
    a_id = reporter_keyring(world.settings).current_id
    b = with_secrets(world.settings, SECRET_B)
    # One report sealed under B (e.g. by an instance already started with it).
    first, _ = await sealed_rows(app)
    key_id, sealed = seal_reporter(b, first.id, NAME, PHONE)
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(PublicReport.__table__)
            .where(PublicReport.__table__.c.id == first.id)
            .values(reporter_sealed=sealed, reporter_key_id=key_id)
        )
        await s.commit()
    c_with_b = with_secrets(world.settings, SECRET_C, SECRET_B)
    async with app.state.sessionmaker() as s:
        state = await keys.status(s, c_with_b)
    assert [(k.state, k.count) for k in state.keys] == [
        ("current", 0),
        ("previous", 1),
        ("unknown", 1),
    ]
    assert state.keys[2].key_id == a_id
    async with app.state.sessionmaker() as s:
        done = await keys.rotate(s, c_with_b)
    assert (done.resealed, dict(done.unknown), done.remaining) == (1, {a_id: 1}, 1)
    assert not done.complete
    _, untouched = await sealed_rows(app)
    assert untouched.reporter_key_id == a_id
    assert identity(reporter_keyring(world.settings), untouched) == OTHER


async def test_a_row_changed_meanwhile_is_left_as_the_other_writer_wrote_it(
    app, world: World
) -> None:  # type: ignore[no-untyped-def]
    await submit(app, reporter={"name": NAME, "phone": PHONE})
    (stale,) = await sealed_rows(app)
    # Another writer re-seals the row after the rotation read it.
    key_id, sealed = seal_reporter(world.settings, stale.id, *OTHER.values())
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(PublicReport.__table__)
            .where(PublicReport.__table__.c.id == stale.id)
            .values(reporter_sealed=sealed, reporter_key_id=key_id)
        )
        await s.commit()
    b_with_a = with_secrets(world.settings, SECRET_B, secret_a(world))
    result = keys.Rotation(reporter_keyring(b_with_a).current_id)
    async with app.state.sessionmaker() as s:
        await keys.reseal(
            s,
            reporter_keyring(b_with_a),
            result,
            stale.id,
            stale.reporter_key_id,
            stale.reporter_sealed,
        )
        await s.commit()
    assert (result.resealed, result.changed_meanwhile) == (0, 1)
    (now,) = await sealed_rows(app)
    assert now.reporter_sealed == sealed
    assert identity(reporter_keyring(world.settings), now) == OTHER


# ---- the command line ----


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_anjian_keys_status_and_rotate(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    secret_a = settings.secret_key
    assert secret_a
    base = {**os.environ, "ANJIAN_DATA_DIR": str(tmp_path), "ANJIAN_DATABASE_URL": url}
    base.pop("ANJIAN_PREVIOUS_SECRET_KEYS", None)
    env_a = {**base, "ANJIAN_SECRET_KEY": secret_a}
    env_b = {**base, "ANJIAN_SECRET_KEY": SECRET_B, "ANJIAN_PREVIOUS_SECRET_KEYS": secret_a}
    env_c = {**base, "ANJIAN_SECRET_KEY": SECRET_C}
    assert _cli(env_a, "db", "upgrade").returncode == 0
    a_settings = Settings(database_url=url, data_dir=tmp_path, secret_key=secret_a)
    asyncio.run(_insert_reports(url, a_settings, [(NAME, PHONE), tuple(OTHER.values())]))
    a_id = reporter_keyring(a_settings).current_id
    b_id = reporter_keyring(with_secrets(a_settings, SECRET_B)).current_id

    shown = _cli(env_b, "keys", "status")
    assert shown.returncode == 0, shown.stderr
    assert f"current key id: {b_id}" in shown.stdout
    assert [line.split() for line in shown.stdout.splitlines()[2:4]] == [
        [b_id, "current", "0"],
        [a_id, "previous", "2"],
    ]
    assert "anjian keys rotate" in shown.stdout

    runs = [_cli(env_b, "keys", "rotate", "--batch-size", "1"), _cli(env_b, "keys", "rotate")]
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    assert f"key {b_id}: 2 re-sealed, 0 already current" in runs[0].stdout
    assert f"key {b_id}: 0 re-sealed, 2 already current" in runs[1].stdout

    lost = _cli(env_c, "keys", "rotate")
    assert lost.returncode == 1
    assert f"2 sealed under key {b_id}, which no configured secret derives" in lost.stderr
    assert "ANJIAN_PREVIOUS_SECRET_KEYS" in lost.stderr
    bad = _cli(env_b, "keys", "rotate", "--batch-size", "0")
    assert bad.returncode == 2 and "at least 1" in bad.stderr
    for run in (shown, *runs, lost):
        for secret in (NAME, PHONE, *OTHER.values(), secret_a, SECRET_B, SECRET_C):
            assert secret not in run.stdout + run.stderr


async def _insert_reports(url: str, settings: Settings, people: list[tuple[str, str]]) -> None:
    """Named reports written straight into a fresh database (no county needed)."""
    from app.core.db import make_engine, make_sessionmaker
    from app.models.base import new_id, utcnow

    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as s:
            for n, (name, phone) in enumerate(people, start=1):
                report_id = new_id()
                key_id, sealed = seal_reporter(settings, report_id, name, phone)
                now = utcnow()
                s.add(
                    PublicReport(
                        id=report_id,
                        number=f"R2026-{n:06d}",
                        county_code="341302",
                        tracking_hash=f"{n:064d}",
                        description="仓库内堆放大量易燃物品，消防通道被堵塞",
                        anonymous=False,
                        reporter_sealed=sealed,
                        reporter_key_id=key_id,
                        status="received",
                        received_at=now,
                    )
                )
            await s.commit()
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT count(*) FROM public_reports"))).scalar() == 2
    finally:
        await engine.dispose()


async def test_an_identity_that_does_not_open_is_a_clear_503_never_a_500(  # type: ignore[no-untyped-def]
    app, client, world: World
) -> None:
    """A value sealed under a secret this deployment no longer has (or altered) is a problem of
    configuration: 503 ``reporter_unavailable`` with ``Retry-After``, and nothing of it shown."""
    await submit(app, reporter={"name": NAME, "phone": PHONE})
    (row,) = await sealed_rows(app)
    table = PublicReport.__table__
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(table).where(table.c.id == row.id).values(reporter_key_id="0000000000000000")
        )
        await s.commit()
    await add_person(app, world, "county_manager", "manager", "county")
    r = await client.get(f"{REPORTS}/{row.id}?include=reporter", headers=world.h("county_manager"))
    assert r.status_code == 503 and r.json()["code"] == "reporter_unavailable"
    assert r.headers["retry-after"] and NAME not in r.text and PHONE not in r.text
