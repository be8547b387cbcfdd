"""Settings, read once from the environment (prefix ``ANJIAN_``)."""

from __future__ import annotations

import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANJIAN_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    secret_key: str | None = None
    token_lifetime_seconds: int = Field(default=8 * 3600, ge=60)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    attachment_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    login_max_failures: int = 5
    login_window_seconds: int = 15 * 60
    idempotency_ttl_seconds: int = 24 * 3600
    stock_cutoff: date = date(2024, 1, 1)
    timezone: str = "Asia/Shanghai"
    scheduler_enabled: bool = True
    scheduler_interval_seconds: int = 300
    log_json: bool = True

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'anjian.db').resolve()}"

    @property
    def resolved_secret_key(self) -> str:
        """Never a constant: generated once and kept in the data dir when not configured."""
        if self.secret_key:
            return self.secret_key
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
