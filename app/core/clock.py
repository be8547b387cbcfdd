"""Local dates: rules that say "by the end of the day" are judged in the county's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=4096)
def start_of_local_day(day: date, tz: str) -> datetime:
    """The UTC instant at which ``day`` begins locally (memoised: lists ask it per row)."""
    return datetime.combine(day, time.min, tzinfo=zone(tz)).astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_today(tz: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone(tz)).date()


def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(zone(tz)).date()


def aligned_window_start(now: datetime, seconds: int) -> datetime:
    """The start of the aligned window of ``seconds`` that holds ``now`` (windows start at
    multiples of ``seconds`` since the epoch, so every key and every instance share them)."""
    return datetime.fromtimestamp(now.timestamp() // seconds * seconds, UTC)
