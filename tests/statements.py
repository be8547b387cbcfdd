"""Counting the statements a request sends (the statement budget, issue 10): every SQL text a
cursor executes on an engine while the block runs. BEGIN and COMMIT are not cursor executes;
`make bench` reads those from the PostgreSQL log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def statements(app_or_engine: Any) -> Iterator[list[str]]:
    """``with statements(app) as seen:`` (the app's main engine) or ``statements(engine)``."""
    engine: AsyncEngine = (
        app_or_engine if isinstance(app_or_engine, AsyncEngine) else app_or_engine.state.engine
    )
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
