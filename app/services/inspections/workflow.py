"""The inspection lifecycle as one table: (state, action) -> next state, who may act, and guards.

The transitions endpoint, ``allowed_actions``, the docs and the tests all read this table; the
machinery that reads it is ``app/services/lifecycle.py``.

    planned ──start──▶ in_progress ──complete──▶ completed ──sign (each inspector)──▶ signed
       │                  │  ▲ record_results, add_finding                           │ amend
       └──cancel──────────┴──▶ cancelled                                              ▼
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.permissions import Permission, Role
from app.auth.principal import Principal
from app.services.catalog_data import NON_ENFORCEMENT_KINDS
from app.services.lifecycle import Machine, Transition

__all__ = ["MACHINE", "Facts", "allowed_actions", "check", "enough_certified", "is_enforcement"]

# 行政执法两人以上: an enforcement visit has at least two inspectors holding a certificate.
MIN_CERTIFIED = 2


def is_enforcement(kind: str) -> bool:
    """Every kind but the enterprise's own inspection and expert guidance is enforcement."""
    return kind not in NON_ENFORCEMENT_KINDS


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules need to know about one inspection."""

    status: str
    kind: str
    enterprise_id: str
    conducting_unit_id: str | None
    inspectors: tuple[str, ...]
    experts: tuple[str, ...]
    signed_by: tuple[str, ...]
    # How many of the listed inspectors hold an enforcement certificate (执法证).
    certified: int


# ---- who may act -----------------------------------------------------------------------------
# Every rule below applies to an inspection already inside the caller's scope.


def _acts(p: Principal) -> bool:
    return p.can(Permission.inspections_transition)


def _own_self_inspection(p: Principal, f: Facts) -> bool:
    return f.kind == "self_inspection" and p.enterprise_id == f.enterprise_id


def _inspector(p: Principal, f: Facts) -> bool:
    """谁检查、谁签名、谁负责: the people listed as inspectors (for a self-inspection, the
    enterprise's own people)."""
    if not _acts(p) or p.kind != "user":
        return False
    return p.id in f.inspectors or _own_self_inspection(p, f)


def _recorder(p: Principal, f: Facts) -> bool:
    """Results and findings: the inspectors, and the experts assigned (never signers)."""
    return _inspector(p, f) or (_acts(p) and p.is_expert and p.id in f.experts)


def _signer(p: Principal, f: Facts) -> bool:
    return _acts(p) and p.kind == "user" and p.id in f.inspectors


def _unit_head(p: Principal, f: Facts) -> bool:
    """An admin, a manager of the conducting unit, or the county's managers (of government
    inspections: an enterprise's self-inspection is its own)."""
    if not _acts(p) or not p.is_government or f.kind == "self_inspection":
        return False
    if p.is_admin:
        return True
    unit = p.unit
    return (
        p.role is Role.manager
        and unit is not None
        and (unit.id == f.conducting_unit_id or unit.kind == "county")
    )


def _inspector_or_head(p: Principal, f: Facts) -> bool:
    return _inspector(p, f) or _unit_head(p, f)


def _amender(p: Principal, f: Facts) -> bool:
    """A signed record is corrected by those who signed it or the head of the unit."""
    return _signer(p, f) or _unit_head(p, f) or (_own_self_inspection(p, f) and _acts(p))


# ---- guards: reasons an action is not possible now (409) -------------------------------------


def enough_certified(p: Principal, f: Facts) -> str | None:
    if is_enforcement(f.kind) and f.certified < MIN_CERTIFIED:
        return (
            f"行政执法须由两名以上持有执法证的人员实施（当前 {f.certified} 名）"
            f"|An enforcement inspection needs at least {MIN_CERTIFIED} inspectors holding an "
            f"enforcement certificate ({f.certified} listed)"
        )
    return None


def _not_signed_yet(p: Principal, f: Facts) -> str | None:
    if p.id in f.signed_by:
        return "您已签名|You have signed this record already"
    return None


MACHINE: Machine[Facts] = Machine(
    ("检查记录", "inspection"),
    (
        Transition("start", frozenset({"planned"}), "in_progress", _inspector, enough_certified),
        Transition("record_results", frozenset({"in_progress"}), None, _recorder),
        Transition("add_finding", frozenset({"in_progress"}), None, _recorder),
        Transition("complete", frozenset({"in_progress"}), "completed", _inspector),
        # The record becomes signed when the last listed inspector signs (the service).
        Transition("sign", frozenset({"completed"}), None, _signer, _not_signed_yet),
        Transition("amend", frozenset({"signed"}), None, _amender),
        Transition(
            "cancel", frozenset({"planned", "in_progress"}), "cancelled", _inspector_or_head
        ),
    ),
    case_key=lambda p, f: (
        p,
        f.status,
        f.kind,
        p.enterprise_id is not None and p.enterprise_id == f.enterprise_id,
        f.conducting_unit_id,
        p.id in f.inspectors,
        p.id in f.experts,
        p.id in f.signed_by,
        min(f.certified, MIN_CERTIFIED),
    ),
)
TRANSITIONS = MACHINE.transitions
allowed_actions = MACHINE.allowed_actions
check = MACHINE.check
