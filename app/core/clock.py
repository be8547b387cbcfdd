"""Local dates: rules that say "by the end of the day" are judged in the county's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_today(tz: str, now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(zone(tz)).date()


def local_date(moment: datetime, tz: str) -> date:
    return moment.astimezone(zone(tz)).date()


def start_of_local_day(day: date, tz: str) -> datetime:
    """The UTC instant at which ``day`` begins locally."""
    return datetime.combine(day, time.min, tzinfo=zone(tz)).astimezone(UTC)
