"""Reads on the driver (app/core/reads.py): the same rows as SQLAlchemy gives, the statement
seen by the cursor events, and a dead connection met as the same DBAPIError."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Numeric, String, bindparam, cast, func, literal, select
from sqlalchemy.exc import DBAPIError

from app.core import reads
from app.models import Enterprise, Hazard, HazardEvent
from app.services.hazards.queries import Department
from tests.conftest import World
from tests.hazard_helpers import register
from tests.statements import statements


def _statement():  # type: ignore[no-untyped-def]
    """Every kind of column a read returns: text, dates, UTC times, JSON, floats, a decimal, an
    IN list and a LIKE, a label, NULLs."""
    return (
        select(
            Hazard.id,
            Hazard.found_at,
            Hazard.deadline,
            Hazard.closed_at,
            Hazard.enterprise_extensions,
            Enterprise.lat,
            Enterprise.name.label("enterprise_name"),
            Department.name_en.label("department_name_en"),
            HazardEvent.payload,
            cast(literal("12.50"), Numeric(10, 2)).label("amount"),
        )
        .join(Enterprise, Enterprise.id == Hazard.enterprise_id)
        .join(Department, Department.id == Enterprise.enforcement_department_id)
        .join(HazardEvent, HazardEvent.hazard_id == Hazard.id)
        .where(
            Hazard.status.in_(["registered", "rectifying"]),
            Enterprise.region_code.like("3413%"),
        )
        .order_by(Hazard.id, HazardEvent.id)
    )


async def test_rows_equal_what_sqlalchemy_answers(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    for n in range(3):
        await register(client, world, "town_a_officer", title=f"隐患 {n}")
    async with app.state.read_sessionmaker() as session:
        driver = await reads.rows(session, _statement())
    async with app.state.sessionmaker() as session:  # a transaction: always SQLAlchemy's path
        orm = [dict(m) for m in (await session.execute(_statement())).mappings()]
        in_transaction = await reads.rows(session, _statement())
    assert len(driver) == 3
    assert [dict(r) for r in driver] == orm == [dict(r) for r in in_transaction]
    row = driver[0]
    assert row.found_at.tzinfo is not None and row.found_at.utcoffset().total_seconds() == 0
    assert isinstance(row.deadline, date) and not isinstance(row.deadline, datetime)
    assert isinstance(row.payload, dict)
    assert row.amount == Decimal("12.50") and isinstance(row.amount, Decimal)
    assert row["enterprise_name"] == row.enterprise_name
    with pytest.raises(AttributeError):
        _ = row.no_such_column


async def test_a_statement_built_once_takes_its_values_per_call(app, client, world: World) -> None:  # type: ignore[no-untyped-def]
    ids = [(await register(client, world, "town_a_officer", title=f"T{n}"))["id"] for n in range(2)]
    stmt = select(Hazard.title).where(Hazard.id == bindparam("hazard_id", type_=String()))
    async with app.state.read_sessionmaker() as session:
        titles = [
            (await reads.rows(session, stmt, {"hazard_id": hazard_id}))[0].title
            for hazard_id in ids
        ]
    assert titles == ["T0", "T1"]


async def test_the_cursor_events_see_each_statement(app, world: World) -> None:  # type: ignore[no-untyped-def]
    stmt = select(func.count().label("n")).select_from(Enterprise)
    with statements(app) as seen:
        async with app.state.read_sessionmaker() as session:
            (row,) = await reads.rows(session, stmt)
    assert row.n == 4
    assert len(seen) == 1 and "count" in seen[0].lower()


async def test_a_dead_connection_is_a_dbapi_error_that_invalidates_it(app, world: World) -> None:  # type: ignore[no-untyped-def]
    async with app.state.read_sessionmaker() as session:
        conn = await session.connection()
        raw = (await conn.get_raw_connection()).driver_connection
        if conn.dialect.driver != "asyncpg":
            pytest.skip("the driver path is asyncpg's")
        raw.terminate()  # what a server restart or an idle timeout does to the socket
        with pytest.raises(DBAPIError) as caught:
            await reads.rows(session, select(Enterprise.id))
    assert caught.value.connection_invalidated
    async with app.state.read_sessionmaker() as session:  # the pool hands out a live one
        assert len(await reads.rows(session, select(Enterprise.id))) == 4


def test_utc_times_keep_their_instant() -> None:
    from app.models.base import UTCDateTime

    t = UTCDateTime()
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert t.process_result_value(moment, None) is moment


async def _driver_raises(app, monkeypatch, exc: BaseException):  # type: ignore[no-untyped-def]
    """A read on the driver whose fetch raises ``exc``: what it raises, and whether the
    connection it used was dropped."""
    import asyncpg

    async def boom(*_args: object, **_kw: object) -> None:
        raise exc

    async with app.state.read_sessionmaker.kw["bind"].connect() as conn:
        if conn.dialect.driver != "asyncpg":
            pytest.skip("the driver path is asyncpg's")
        await reads.rows(conn, select(Enterprise.id))  # a live connection first
        monkeypatch.setattr(asyncpg.Connection, "fetch", boom)
        try:
            await reads.rows(conn, select(Enterprise.id))
        except BaseException as raised:  # the test inspects it
            caught = raised
        monkeypatch.undo()
        return caught, conn.invalidated


async def test_a_socket_error_is_an_outage_and_drops_the_connection(
    app, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from app.core.errors import is_database_unavailable

    caught, invalidated = await _driver_raises(app, monkeypatch, ConnectionResetError(104, "reset"))
    assert isinstance(caught, ConnectionResetError)  # as SQLAlchemy's own execution raises it
    assert is_database_unavailable(caught)  # 503, not 500
    assert invalidated


async def test_a_read_cancelled_mid_statement_drops_its_connection(
    app, world: World, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    caught, invalidated = await _driver_raises(app, monkeypatch, asyncio.CancelledError())
    assert isinstance(caught, asyncio.CancelledError)
    assert invalidated
