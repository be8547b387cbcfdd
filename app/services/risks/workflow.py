"""The risk point's table: government in scope marks a point for follow-up (跟踪督促) and clears
it; the enterprise retires a point that no longer exists and reinstates it. Edits (PATCH) are
the enterprise's and write their own events. Machinery: app/services/lifecycle.py."""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.services.lifecycle import Machine, Transition


@dataclass(frozen=True, slots=True)
class Facts:
    status: str
    enterprise_id: str
    follow_up: bool


def _government(p: Principal, f: Facts) -> bool:
    return p.is_government and p.can(Permission.risks_follow_up)


def owner(p: Principal, f: Facts) -> bool:
    """The enterprise's own users maintain its register."""
    return p.enterprise_id == f.enterprise_id and p.can(Permission.risks_write)


def _not_flagged(p: Principal, f: Facts) -> str | None:
    return (
        "该风险点已标记跟踪|The risk point is already marked for follow-up" if f.follow_up else None
    )


def _flagged(p: Principal, f: Facts) -> str | None:
    return None if f.follow_up else "该风险点未标记跟踪|The risk point is not marked for follow-up"


MACHINE: Machine[Facts] = Machine(
    ("风险点", "risk point"),
    (
        Transition("flag", frozenset({"active"}), None, _government, _not_flagged),
        Transition("unflag", frozenset({"active", "retired"}), None, _government, _flagged),
        Transition("retire", frozenset({"active"}), "retired", owner),
        Transition("reinstate", frozenset({"retired"}), "active", owner),
    ),
    case_key=lambda p, f: (p, f.status, f.follow_up, p.enterprise_id == f.enterprise_id),
)
