"""Human-readable numbers, unique per county and year and never reused: hazards ``2026-000123``,
inspections ``J2026-000123``, and every numbered record to come. One counter row per county and
year in the domain's counter table (columns ``county_code``, ``year``, ``last``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import HazardCounter


async def next_number(
    session: AsyncSession,
    county_code: str,
    year: int,
    *,
    counter: Any = HazardCounter,
    prefix: str = "",
) -> str:
    """An atomic increment of the county's counter; the row lock serialises concurrent writers."""
    for _ in range(3):
        result = await session.execute(
            update(counter)
            .where(counter.county_code == county_code, counter.year == year)
            .values(last=counter.last + 1)
            .returning(counter.last)
            .execution_options(synchronize_session=False)
        )
        value = result.scalar_one_or_none()
        if value is not None:
            return f"{prefix}{year}-{value:06d}"
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(counter).values(county_code=county_code, year=year, last=1)
                )
            return f"{prefix}{year}-{1:06d}"
        except IntegrityError:
            continue  # another writer created the counter first; increment it
    raise RuntimeError(f"could not allocate a number from {counter.__tablename__}")
