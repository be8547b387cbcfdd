"""The table of a public report's lifecycle (app/services/lifecycle.py is the machinery)::

    received ──assign──▶ assigned ──investigate──▶ investigating ──substantiate──▶ substantiated
       └───────────investigate──────────▲                └──unsubstantiate──▶ unsubstantiated
    substantiated | unsubstantiated ──close──▶ closed;  reward: substantiated or closed, once

Who: ``assign`` and ``reward`` the county (its officers, managers and admins); the rest also
the officers and managers of a unit the report is routed to. ``substantiate`` registers a
hazard, so it also needs ``hazards:create``.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.permissions import Permission
from app.auth.principal import Principal
from app.auth.scope import county_wide_in
from app.services.lifecycle import Machine, Transition

STATUS_LABELS: dict[str, tuple[str, str]] = {
    "received": ("已受理", "Received"),
    "assigned": ("已交办", "Assigned"),
    "investigating": ("调查核实中", "Investigating"),
    "substantiated": ("经查属实", "Substantiated"),
    "unsubstantiated": ("经查不属实", "Unsubstantiated"),
    "closed": ("已办结", "Closed"),
}


@dataclass(frozen=True, slots=True)
class ReportFacts:
    status: str
    county_code: str
    routed: bool  # the report is routed to the caller's unit
    substantiated: bool
    rewarded: bool


def county_handler(p: Principal, f: ReportFacts) -> bool:
    """The county office's officers and managers, and the county's admins."""
    return p.can(Permission.reports_handle) and county_wide_in(p, f.county_code)


def handler(p: Principal, f: ReportFacts) -> bool:
    """The county, and the officers and managers of a unit the report is routed to."""
    if county_handler(p, f):
        return True
    return p.is_government and p.can(Permission.reports_handle) and f.routed


def _substantiator(p: Principal, f: ReportFacts) -> bool:
    return handler(p, f) and p.can(Permission.hazards_create)


def _rewardable(p: Principal, f: ReportFacts) -> str | None:
    if not f.substantiated:
        return "举报未经查实，不予奖励|Only a substantiated report is rewarded"
    if f.rewarded:
        return "该举报已奖励|The report was already rewarded"
    return None


MACHINE: Machine[ReportFacts] = Machine(
    ("举报", "report"),
    (
        Transition("assign", frozenset({"received", "assigned"}), "assigned", county_handler),
        Transition("investigate", frozenset({"received", "assigned"}), "investigating", handler),
        Transition("substantiate", frozenset({"investigating"}), "substantiated", _substantiator),
        Transition("unsubstantiate", frozenset({"investigating"}), "unsubstantiated", handler),
        Transition(
            "reward", frozenset({"substantiated", "closed"}), None, county_handler, _rewardable
        ),
        Transition("close", frozenset({"substantiated", "unsubstantiated"}), "closed", handler),
    ),
    case_key=lambda p, f: (p, f),
)

# The fields each action takes (any other is 422): the one place that says so.
ACTION_FIELDS: dict[str, frozenset[str]] = {
    "assign": frozenset({"unit_ids"}),
    "investigate": frozenset(),
    "substantiate": frozenset({"enterprise_id", "enterprise", "hazard"}),
    "unsubstantiate": frozenset({"reason"}),
    "reward": frozenset({"reward_yuan"}),
    "close": frozenset({"public_outcome"}),
}
