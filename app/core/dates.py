"""Strict, bounded dates and date-times: the one parser behind every date in the API.

Accepted: a date is ``YYYY-MM-DD``; a date-time is RFC 3339 with seconds and an offset
(``2025-03-01T08:00:00+08:00``, ``…Z``; a fraction of a second is allowed and cut to
microseconds). Refused: numbers and Unix times, naive date-times (which clock?), other ISO 8601
spellings (week dates, ordinal dates, ``20250301``), and anything outside ``MIN_DAY``..``MAX_DAY``.

The bounds keep every calculation the rules make safe: a day plus one (an inclusive ``_to``
filter), a deadline plus a year, a conversion to UTC or to the county's local day, on Python,
SQLite and PostgreSQL alike. No real work-safety record lies outside them.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

MIN_DAY = date(1900, 1, 1)
MAX_DAY = date(2999, 12, 31)
# Date-times are bounded as instants (in UTC), so an offset cannot push them out of range.
MIN_INSTANT = datetime(MIN_DAY.year, 1, 1, tzinfo=UTC)
MAX_INSTANT = datetime(MAX_DAY.year + 1, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,9}))?([Zz]|[+-][0-9]{2}:[0-9]{2})?"
)
_MAX_LENGTH = 40

_RANGE = f"{MIN_DAY.isoformat()} … {MAX_DAY.isoformat()}"
NOT_A_DATE = "Expected a date as YYYY-MM-DD|日期格式应为 YYYY-MM-DD"
NOT_A_DATETIME = (
    "Expected an RFC 3339 date-time with an offset, e.g. 2025-03-01T08:00:00+08:00 "
    "(in a query string, write + as %2B)"
    "|时间格式应为带时区的 RFC 3339 格式，如 2025-03-01T08:00:00+08:00（查询参数中 + 须写作 %2B）"
)
NAIVE = "A date-time needs an offset (Z or ±hh:mm)|时间须带时区（Z 或 ±hh:mm）"
NOT_A_DAY = "Not a calendar date|不是有效的日期"
OUT_OF_RANGE = f"Must lie between {_RANGE}|须在 {_RANGE} 之间"
_SPAN = f"{MIN_INSTANT:%Y-%m-%dT%H:%M:%SZ} … {MAX_INSTANT:%Y-%m-%dT%H:%M:%SZ}"
OUT_OF_RANGE_INSTANT = f"Must lie between {_SPAN}|须在 {_SPAN} 之间"


def _day(y: str, m: str, d: str) -> date:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        raise ValueError(NOT_A_DAY) from None


def check_day(value: date) -> date:
    if not MIN_DAY <= value <= MAX_DAY:
        raise ValueError(OUT_OF_RANGE)
    return value


def check_instant(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(NAIVE)
    # Compare in the value's own zone first: converting 0001-01-01T00:00+14:00 to UTC overflows.
    if not MIN_DAY - timedelta(days=1) <= value.date() <= MAX_DAY + timedelta(days=1):
        raise ValueError(OUT_OF_RANGE_INSTANT)
    if not MIN_INSTANT <= value <= MAX_INSTANT:
        raise ValueError(OUT_OF_RANGE_INSTANT)
    return value


def parse_date(value: Any) -> date:
    """``YYYY-MM-DD`` (or a ``date`` from our own code), within the bounds."""
    if isinstance(value, datetime):
        raise ValueError(NOT_A_DATE)
    if isinstance(value, date):
        return check_day(value)
    if not isinstance(value, str) or len(value) > _MAX_LENGTH:
        raise ValueError(NOT_A_DATE)
    match = _DATE.fullmatch(value)
    if match is None:
        raise ValueError(NOT_A_DATE)
    return check_day(_day(*match.groups()))


def parse_datetime(value: Any) -> datetime:
    """An RFC 3339 date-time with an offset (or an aware ``datetime``), within the bounds."""
    if isinstance(value, datetime):
        return check_instant(value)
    if not isinstance(value, str) or len(value) > _MAX_LENGTH:
        raise ValueError(NOT_A_DATETIME)
    match = _DATETIME.fullmatch(value)
    if match is None:
        raise ValueError(NOT_A_DATETIME)
    y, mo, d, hh, mi, ss, fraction, offset = match.groups()
    if offset is None:
        raise ValueError(NAIVE)
    day = _day(y, mo, d)
    if int(hh) > 23 or int(mi) > 59 or int(ss) > 59:
        raise ValueError(NOT_A_DATETIME)
    if offset in ("Z", "z"):
        tz = UTC
    else:
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            raise ValueError(NOT_A_DATETIME)
        delta = timedelta(hours=oh, minutes=om)
        tz = timezone(-delta if offset[0] == "-" else delta)
    micro = int((fraction or "0").ljust(6, "0")[:6])
    moment = datetime(day.year, day.month, day.day, int(hh), int(mi), int(ss), micro, tzinfo=tz)
    return check_instant(moment)


def parse_date_or_datetime(value: Any) -> date | datetime:
    """A filter bound: a date (a whole local day) or a date-time."""
    if isinstance(value, datetime):
        return parse_datetime(value)
    if isinstance(value, date):
        return parse_date(value)
    if isinstance(value, str) and _DATE.fullmatch(value):
        return parse_date(value)
    try:
        return parse_datetime(value)
    except ValueError as exc:
        if str(exc) in (NAIVE, OUT_OF_RANGE_INSTANT, NOT_A_DAY):
            raise
        raise ValueError(
            "Expected a date (YYYY-MM-DD) or an RFC 3339 date-time with an offset"
            "|应为日期（YYYY-MM-DD）或带时区的 RFC 3339 时间"
        ) from None
