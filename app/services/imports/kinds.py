"""The kinds of import: for each, the function that applies one row (its own module of rules)
and the permission it needs besides ``imports:write`` (the same one its API's writes need).

A row function takes ``(ctx, values, row, external)`` and answers ``created``, ``updated`` or
``unchanged``, or raises ``RowError``; the runner (``service``) gives it a savepoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from app.auth.deps import ensure
from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.services.imports import inspections, rows, units, users

RowFunction = Callable[[rows.RowContext, dict[str, Any], int, dict[str, str]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Kind:
    apply: RowFunction
    permission: Permission | None = None  # needed besides imports:write


# Looked up at call time (``rows.enterprise_row``, not the function object), so a test may
# replace a module's row function.
KINDS: dict[str, Kind] = {
    "enterprises": Kind(lambda *a: rows.enterprise_row(*a)),
    "hazards": Kind(lambda *a: rows.hazard_row(*a)),
    "users": Kind(lambda *a: users.user_row(*a), Permission.users_write),
    "org_units": Kind(lambda *a: units.unit_row(*a), Permission.org_units_write),
    "inspections": Kind(lambda *a: inspections.inspection_row(*a), Permission.inspections_write),
}


def check_permission(p: Principal, kind: str) -> None:
    """403 when the caller may not write what the kind imports (at the upload, and per row:
    the importer's role may change before the job runs)."""
    needed = KINDS[kind].permission
    if needed is not None:
        ensure(p, needed)
