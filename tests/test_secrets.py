"""Secrets at rest and in operation (issue 8, item 14): the generated key, the data dir and the
SQLite file are private from their first moment; a short key is refused; metrics are served
only to the scraper's token."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from app.core.config import Settings
from app.main import create_app
from tests.conftest import METRICS_TOKEN


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The worst umask a deployment may have: anything not made private on purpose is 0666."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def no_chmod(monkeypatch: pytest.MonkeyPatch) -> None:
    """Files must be born private: with chmod failing, a create-then-chmod would stay open."""

    def refuse(self: Path, *_: object, **__: object) -> None:
        raise PermissionError(f"chmod refused for {self}")

    monkeypatch.setattr(Path, "chmod", refuse)


def test_the_generated_secret_key_is_created_0600(
    tmp_path: Path, permissive_umask: None, no_chmod: None
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key=None)
    key = settings.resolved_secret_key
    path = tmp_path / "data" / "secret_key"
    assert mode(path) == 0o600
    assert mode(tmp_path / "data") == 0o700
    assert len(key.encode()) >= 32
    # Read back by the next process (and by concurrent workers), never regenerated.
    assert Settings(data_dir=tmp_path / "data").resolved_secret_key == key


def test_a_key_file_left_world_readable_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "secret_key").write_text("k" * 64)
    (data / "secret_key").chmod(0o644)
    assert Settings(data_dir=data).resolved_secret_key == "k" * 64
    assert mode(data / "secret_key") == 0o600
    assert mode(data) == 0o700


def test_the_sqlite_file_and_data_dir_are_private_from_the_start(
    tmp_path: Path, permissive_umask: None, no_chmod: None
) -> None:
    settings = Settings(data_dir=tmp_path / "fresh", database_url=None)
    url = settings.resolved_database_url
    db = tmp_path / "fresh" / "anjian.db"
    assert url.endswith(str(db.resolve()))
    assert mode(tmp_path / "fresh") == 0o700
    assert mode(db) == 0o600


async def test_sqlite_keeps_its_journal_files_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret_key="k" * 32, scheduler_enabled=False)
    app = create_app(settings)
    try:
        async with app.state.engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
            await conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        files = sorted((tmp_path / "data").glob("anjian.db*"))
        assert files, "no database file"
        for path in files:
            assert mode(path) == 0o600, (path, oct(mode(path)))
    finally:
        await app.state.engine.dispose()


@pytest.mark.parametrize("key", ["short", "x" * 31, "密钥" * 5])  # 5 × 6 bytes = 30 bytes
def test_a_secret_key_under_32_bytes_is_refused_at_start_up(key: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        Settings(data_dir=tmp_path, secret_key=key)


def test_a_short_secret_key_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANJIAN_SECRET_KEY", "too-short-for-a-signing-key")
    with pytest.raises(ValidationError, match="ANJIAN_SECRET_KEY must be at least 32 bytes"):
        Settings(data_dir=tmp_path)
    monkeypatch.setenv("ANJIAN_SECRET_KEY", "y" * 32)
    assert Settings(data_dir=tmp_path).resolved_secret_key == "y" * 32


# ---- /metrics ------------------------------------------------------------------------------------


async def test_metrics_need_the_metrics_token(client) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["code"] == "invalid_metrics_token"
    assert "anjian_http_requests_total" not in wrong.text
    basic = await client.get("/metrics", headers={"Authorization": f"Basic {METRICS_TOKEN}"})
    assert basic.status_code == 401
    r = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert r.status_code == 200
    assert "anjian_http_requests_total" in r.text


async def test_without_a_metrics_token_metrics_are_not_served(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"metrics_token": None}))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            for headers in ({}, {"Authorization": f"Bearer {METRICS_TOKEN}"}):
                r = await c.get("/metrics", headers=headers)
                assert r.status_code == 404
                assert "anjian_http_requests_total" not in r.text
    finally:
        await app.state.engine.dispose()
