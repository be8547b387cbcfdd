"""The date types of every request body and query parameter (rules in ``app.core.dates``).

Strings only, in ISO form, years 1900–2999: a JSON number, a Unix time or ``9999-12-31`` is 422
naming the field, never a 500 further down.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BeforeValidator

from app.core.dates import parse_date, parse_date_or_datetime, parse_datetime

StrictDate = Annotated[date, BeforeValidator(parse_date)]
"""``YYYY-MM-DD``, 1900-01-01 … 2999-12-31."""

StrictDateTime = Annotated[datetime, BeforeValidator(parse_datetime)]
"""RFC 3339 with seconds and an offset (``Z`` or ``±hh:mm``); naive date-times are refused."""

DateOrDateTime = Annotated[datetime | date, BeforeValidator(parse_date_or_datetime)]
"""A filter bound: a date (the whole local day) or a date-time as ``StrictDateTime``."""
