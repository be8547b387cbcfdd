"""Settings, read once from the environment (prefix ``ANJIAN_``)."""

from __future__ import annotations

import os
import secrets
import stat
import time
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, PrivateAttr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANJIAN_", extra="ignore")

    data_dir: Path = Path("./data")
    database_url: str | None = None
    # Many instances (issue 10): GET/HEAD on a read replica when set (the primary otherwise);
    # ``database_pgbouncer`` when the URLs point at PgBouncer in transaction mode (no named
    # prepared statements, no startup settings; app/core/db.py).
    database_read_url: str | None = None
    database_pgbouncer: bool = False
    secret_key: str | None = None
    # Earlier secrets, comma-separated (issue 15): values sealed under keys derived from them
    # still open until ``anjian keys rotate`` re-seals them under the current secret.
    previous_secret_keys: Annotated[tuple[str, ...], NoDecode] = ()
    # Access tokens are short (issue 9, item 10): a client keeps its session by refreshing.
    token_lifetime_seconds: int = Field(default=30 * 60, ge=60)
    # A refresh token is good this long from its issue; every rotation issues one with a fresh
    # lifetime, so a session lives while it is used at least this often.
    refresh_token_lifetime_seconds: int = Field(default=30 * 24 * 3600, ge=60, le=366 * 24 * 3600)
    # Callers are cached per worker this long (app/auth/principal_cache.py; 0 turns it off);
    # changes reach other workers within about a second, so the bound is only a fallback.
    principal_cache_seconds: float = Field(default=5, ge=0, le=20)
    # Sign-in and credentials (issue 8, items 1-4, 12-14).
    token_issuer: str = Field(default="anjian", min_length=1)
    token_audience: str = Field(default="anjian-api", min_length=1)
    login_max_failures_per_address: int = Field(default=20, ge=1)
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)
    client_secret_overlap_seconds: int = Field(default=24 * 3600, ge=0)
    metrics_token: str | None = None
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Slow clients (issue 8, item 10): headers, bodies and connections are bounded in time.
    header_read_timeout_seconds: float = Field(default=10, gt=0, le=300)
    body_read_timeout_seconds: float = Field(default=20, gt=0, le=3600)
    upload_read_timeout_seconds: float = Field(default=300, gt=0, le=3600)
    upload_min_rate_bytes: int = Field(default=16 * 1024, ge=1)
    keep_alive_timeout_seconds: int = Field(default=5, ge=1, le=300)
    max_connections: int = Field(default=1000, ge=1)
    # Browser origins allowed to call the API (comma-separated; none by default).
    cors_origins: str = ""
    # Proxies whose X-Forwarded-For is believed (the client address behind sign-in throttling).
    forwarded_allow_ips: str = "127.0.0.1"
    attachment_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    # Images over this many pixels are refused from their header, before decoding (issue 8,
    # item 9); thumbnails are made by at most this many worker threads at once.
    attachment_max_pixels: int = Field(default=50_000_000, ge=1, le=80_000_000)
    attachment_thumbnail_workers: int = Field(default=2, ge=1, le=64)
    # Spreadsheets (the risk lists' .xlsx, issue 13) are written by at most this many worker
    # threads at once per process: each holds its workbook in memory while it is built.
    spreadsheet_workers: int = Field(default=2, ge=1, le=64)
    # Exports (issue 16): a list export of more rows than this answers 202 with an export job
    # (built by the jobs worker into storage) instead of the file itself.
    export_job_threshold_rows: int = Field(default=100_000, ge=1)
    # A built export job's file is kept this long, then housekeeping deletes it (``expired``).
    export_retention_hours: int = Field(default=72, ge=1, le=24 * 365)
    # The change feed (issue 17) keeps every change at least this long; a cursor older than what
    # is kept answers 410 ``cursor_expired`` (resynchronise from the lists).
    changes_retention_days: int = Field(default=30, ge=1, le=3650)
    # A long-poll of the feed (`wait=`) answers after at most this many seconds, whatever it asks
    # (long-polls may answer early; a proxy's idle timeout may call for less).
    changes_max_wait_seconds: int = Field(default=60, ge=0, le=60)
    # Webhooks (issue 17): https is required unless ``webhook_allow_http`` (development); hosts
    # and networks a subscription may name although they are private, loopback or link-local
    # (comma-separated host names, addresses or CIDR networks: ``127.0.0.1,10.20.0.0/16``).
    webhook_allow_http: bool = False
    webhook_allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    # A delivery's whole request (connect, send, answer) is bounded by this many seconds.
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=120)
    # Retries: after the n-th failed attempt wait base * 2^(n-1) seconds, capped, plus up to a
    # quarter more at random; a subscription failing this long is disabled, its owner told.
    webhook_retry_base_seconds: float = Field(default=5, gt=0, le=3600)
    webhook_retry_cap_seconds: float = Field(default=3600, gt=0, le=24 * 3600)
    webhook_disable_after_seconds: int = Field(default=24 * 3600, ge=1, le=30 * 24 * 3600)
    # After a rotation the previous secret also signs deliveries this long (0: not at all).
    webhook_secret_overlap_seconds: int = Field(default=24 * 3600, ge=0, le=30 * 24 * 3600)
    # How often each process looks for subscriptions with changes to deliver (a commit in the
    # same process wakes it at once).
    webhook_poll_seconds: float = Field(default=1.0, gt=0, le=300)
    # Signed download links in attachment answers live this long (issue 9, item 11).
    attachment_url_lifetime_seconds: int = Field(default=600, ge=1, le=7 * 24 * 3600)
    # The public list of disclosed major hazards (issue 11): requests per client address and
    # minute, and how long a closed hazard stays listed (marked closed).
    public_rate_limit_per_minute: int = Field(default=120, ge=1, le=100_000)
    public_closed_days: int = Field(default=90, ge=0, le=3650)
    # Public reports (群众举报, issue 15): submissions per client address and hour, lookups of
    # a tracking code per address and minute, and each photo's size (at most five a report).
    public_report_submissions_per_hour: int = Field(default=5, ge=1, le=100_000)
    public_report_lookups_per_minute: int = Field(default=20, ge=1, le=100_000)
    public_report_photo_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # The risk notice board (风险告知牌, issue 13): the duty number printed after 119, 120 and 110
    # when set (e.g. the county's 应急管理值班电话 ``0557-1234567``), and how many boards are
    # rendered as PDF at once per worker process.
    emergency_phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 -]{1,18}[0-9]$")
    notice_board_workers: int = Field(default=2, ge=1, le=64)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_seconds: int = Field(default=15 * 60, ge=1)
    idempotency_ttl_seconds: int = 24 * 3600
    stock_cutoff: date = date(2024, 1, 1)
    # What enterprise users may do to a deadline without government (issue 8, item 17).
    enterprise_extension_max_days: int = Field(default=30, ge=1, le=3650)
    enterprise_extensions_max: int = Field(default=1, ge=0, le=100)
    enterprise_deadline_max_days_general: int = Field(default=180, ge=1, le=3650)
    enterprise_deadline_max_days_major: int = Field(default=365, ge=1, le=3650)
    enterprise_found_at_max_age_days: int = Field(default=30, ge=0, le=3650)
    # GET /api/v1/statistics/units flags a town or bureau whose overdue rate (overdue / open)
    # passes the threshold while it has at least the minimum of open hazards (one overdue
    # hazard out of one is not yet a pattern), or with this many major hazards overdue (0: off).
    accountability_overdue_rate_threshold: float = Field(default=0.20, ge=0, le=1)
    accountability_min_open: int = Field(default=5, ge=1)
    accountability_major_overdue_threshold: int = Field(default=1, ge=0)
    timezone: str = "Asia/Shanghai"
    # A task's progress report for a period is due this many days after the period's last day
    # (for a one-off task: after its deadline); later ones are flagged ``late``.
    task_report_grace_days: int = Field(default=5, ge=0, le=365)
    # Early warnings (预警, issue 11): the daily job warns this many days before a hazard's
    # deadline (0: on the day). ``ANJIAN_REMINDER_OFFSETS_DAYS=7,3,1,0``; empty: no warnings.
    reminder_offsets_days: Annotated[tuple[int, ...], NoDecode] = (7, 3, 1, 0)
    scheduler_enabled: bool = True
    scheduler_interval_seconds: int = 300
    # The lease of a claimed job (app/services/job_queue.py), for every kind; unset: each kind's
    # own (imports 600 s, others 300 s). Renewed every third of it while the job runs, so it only
    # bounds how long a job whose worker died (killed, host lost) waits before another takes it.
    job_lease_seconds: int | None = Field(default=None, ge=3, le=24 * 3600)
    log_json: bool = True
    # FastAPI's own OpenTelemetry spans and metrics (they need an OpenTelemetry provider set up
    # by the deployment). Off by default: even unconfigured, the check costs every request.
    opentelemetry_enabled: bool = False

    _generated_secret_key: str | None = PrivateAttr(default=None)

    @field_validator("secret_key")
    @classmethod
    def _secret_key_long_enough(cls, value: str | None) -> str | None:
        """A short key can be brute-forced from one token; refuse to start with it."""
        if not value:
            return None  # unset (or blank): generated into the data dir
        if len(value.encode()) < MIN_SECRET_KEY_BYTES:
            raise ValueError(
                f"ANJIAN_SECRET_KEY must be at least {MIN_SECRET_KEY_BYTES} bytes "
                "(it signs every token); generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, "
                "or leave it unset to have one generated in the data dir"
            )
        return value

    @field_validator("previous_secret_keys", mode="before")
    @classmethod
    def _previous_secrets(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, list | tuple) and any(
            len(str(v).encode()) < MIN_SECRET_KEY_BYTES for v in value
        ):
            raise ValueError(
                f"ANJIAN_PREVIOUS_SECRET_KEYS: each earlier secret is at least "
                f"{MIN_SECRET_KEY_BYTES} bytes, as ANJIAN_SECRET_KEY is"
            )
        return value

    @field_validator("emergency_phone", mode="before")
    @classmethod
    def _blank_phone_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _allowed_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(v.strip().lower() for v in value.split(",") if v.strip())
        return value

    @field_validator("reminder_offsets_days", mode="before")
    @classmethod
    def _offsets(cls, value: object) -> object:
        """A comma-separated list of distinct whole days, 0 to 60, kept largest first."""
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            if not all(p.isdigit() for p in parts):
                raise ValueError(
                    "ANJIAN_REMINDER_OFFSETS_DAYS must be whole days separated by commas, "
                    f"e.g. 7,3,1,0 (got {value!r})"
                )
            value = [int(p) for p in parts]
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise ValueError("ANJIAN_REMINDER_OFFSETS_DAYS must be a list of whole days")
        if any(not 0 <= v <= MAX_REMINDER_OFFSET_DAYS for v in value):
            raise ValueError(
                f"ANJIAN_REMINDER_OFFSETS_DAYS: each offset is 0 to {MAX_REMINDER_OFFSET_DAYS} days"
            )
        if len(set(value)) != len(value):
            raise ValueError("ANJIAN_REMINDER_OFFSETS_DAYS: the offsets must be distinct")
        return tuple(sorted(value, reverse=True))

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        path = (private_dir(self.data_dir) / "anjian.db").resolve()
        private_file(path)  # SQLite keeps the mode of the main file for its -wal and -shm
        return f"sqlite+aiosqlite:///{path}"

    @property
    def resolved_secret_key(self) -> str:
        """Never a constant: generated once and kept in the data dir when not configured."""
        if self.secret_key:
            return self.secret_key
        if self._generated_secret_key is None:
            self._generated_secret_key = _read_or_create_secret(
                private_dir(self.data_dir) / "secret_key"
            )
        return self._generated_secret_key


MIN_SECRET_KEY_BYTES = 32
MAX_REMINDER_OFFSET_DAYS = 60


def private_dir(path: Path) -> Path:
    """The data dir holds the database, the key and uploads: 0700, tightened if wider."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Created 0600 from the start (never a moment at the umask's 0644), tightened if wider."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _tighten(path, 0o600)


def _tighten(path: Path, mode: int) -> None:
    try:
        if stat.S_IMODE(path.stat().st_mode) & ~mode:
            path.chmod(mode)
    except OSError:  # not ours to change (a mounted volume owned by someone else)
        pass


def _read_or_create_secret(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        _tighten(path, 0o600)
        for _ in range(100):  # another worker may have created it and not written it yet
            value = path.read_text().strip()
            if value:
                return value
            time.sleep(0.01)
        raise RuntimeError(f"{path} is empty; delete it to have a new key generated") from None
    value = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as out:
        out.write(value)
        out.flush()
        os.fsync(out.fileno())
    return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
