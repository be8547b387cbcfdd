"""Human-readable hazard numbers, e.g. ``2026-000123``: unique per county and year, never reused."""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import HazardCounter


async def next_number(session: AsyncSession, county_code: str, year: int) -> str:
    """An atomic increment of the county's counter; the row lock serialises concurrent registrations."""
    for _ in range(3):
        result = await session.execute(
            update(HazardCounter)
            .where(HazardCounter.county_code == county_code, HazardCounter.year == year)
            .values(last=HazardCounter.last + 1)
            .returning(HazardCounter.last)
            .execution_options(synchronize_session=False)
        )
        value = result.scalar_one_or_none()
        if value is not None:
            return f"{year}-{value:06d}"
        try:
            async with session.begin_nested():
                await session.execute(
                    insert(HazardCounter).values(county_code=county_code, year=year, last=1)
                )
            return f"{year}-{1:06d}"
        except IntegrityError:
            continue  # another registration created the counter first; increment it
    raise RuntimeError("could not allocate a hazard number")
