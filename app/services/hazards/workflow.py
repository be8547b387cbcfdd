"""The hazard lifecycle as one table: (state, action) -> next state, who may act, and guards.

The transitions endpoint, ``allowed_actions``, the docs and the tests all read this table; the
machinery that reads it is ``app/services/lifecycle.py``.

    registered ──plan──▶ rectifying ──complete──▶ awaiting_acceptance ──accept──▶ closed
        │                     ▲                         │
        ├──fix_on_spot──▶ closed (general, self-found)  └──reject──▶ rectifying
        └──void (any open state)──▶ voided
"""

from __future__ import annotations

from dataclasses import dataclass

from app.auth.permissions import Permission, Role
from app.auth.principal import Principal
from app.services.lifecycle import Machine, Refusal, Transition

__all__ = ["MACHINE", "OPEN", "Facts", "Refusal", "Transition", "allowed_actions", "check"]

OPEN = frozenset({"registered", "rectifying", "awaiting_acceptance"})
ESCALATION_LADDER = ("none", "notice_letter", "circulated", "summoned", "exposed")


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules need to know about one hazard."""

    enterprise_id: str
    status: str
    level: str
    source: str
    is_overdue: bool
    supervised: bool
    escalation: str
    # How many more extensions the enterprise may take itself (ANJIAN_ENTERPRISE_EXTENSIONS_MAX
    # minus those taken); government's extensions are not counted.
    enterprise_extensions_left: int


# ---- who may act -----------------------------------------------------------------------------
# Every rule below applies to a hazard already inside the caller's scope.


def _acts(p: Principal) -> bool:
    return p.can(Permission.hazards_transition)


def _own_enterprise(p: Principal, h: Facts) -> bool:
    return p.enterprise_id is not None and p.enterprise_id == h.enterprise_id


def _government(p: Principal, h: Facts) -> bool:
    return _acts(p) and p.is_government


def _worker(p: Principal, h: Facts) -> bool:
    """Rectification work: the enterprise itself, or government acting for it."""
    return _acts(p) and (p.is_government or _own_enterprise(p, h))


def enterprise_may_accept(h: Facts) -> bool:
    """审核把关销号: only a general hazard the enterprise found itself may be signed off by it."""
    return h.level == "general" and h.source == "self_inspection"


def _acceptor(p: Principal, h: Facts) -> bool:
    if not _acts(p):
        return False
    if p.is_government:
        return True
    return _own_enterprise(p, h) and p.role is Role.enterprise_manager and enterprise_may_accept(h)


def _self_fixer(p: Principal, h: Facts) -> bool:
    return _acts(p) and _own_enterprise(p, h)


def _extender(p: Principal, h: Facts) -> bool:
    """Major hazards: only government approves an extension."""
    return _worker(p, h) and (h.level == "general" or p.is_government)


def _county_or_town(p: Principal, h: Facts) -> bool:
    return _government(p, h) and (
        p.is_admin or (p.unit is not None and p.unit.kind in ("county", "town"))
    )


# ---- guards: reasons an action is not possible for this hazard now (409) -------------------
# A guard sees the caller too: some limits bind only one side (the enterprise's own extensions).


def _fixable_on_spot(p: Principal, h: Facts) -> str | None:
    if not enterprise_may_accept(h):
        return "立查立改仅适用于企业自查发现的一般隐患|Only a general hazard found by the enterprise itself can be fixed on the spot"
    return None


def _supervisable(p: Principal, h: Facts) -> str | None:
    if h.level != "major":
        return "只有重大事故隐患可以挂牌督办|Only major hazards can be put under listed supervision"
    if h.supervised:
        return "该隐患已挂牌督办|The hazard is already under listed supervision"
    return None


def _supervised(p: Principal, h: Facts) -> str | None:
    return None if h.supervised else "该隐患未挂牌督办|The hazard is not under listed supervision"


def _escalatable(p: Principal, h: Facts) -> str | None:
    if not h.is_overdue:
        return "只有逾期未整改的隐患可以问责升级|Only overdue hazards can be escalated"
    if h.escalation == ESCALATION_LADDER[-1]:
        return "已到最高问责级别（曝光）|Already at the last rung (public exposure)"
    return None


def _reclassifiable(p: Principal, h: Facts) -> str | None:
    # Only a major hazard can be listed, and it can only become general: take it off the list first.
    if h.supervised:
        return "挂牌督办中的隐患须先摘牌|Remove listed supervision first"
    return None


def _extendable(p: Principal, h: Facts) -> str | None:
    """An enterprise extends on its own a bounded number of times (default once, at most
    ANJIAN_ENTERPRISE_EXTENSION_MAX_DAYS each, checked with the payload); then only government."""
    if p.enterprise_id is not None and h.enterprise_extensions_left <= 0:
        return "企业自行延期次数已用完，须由政府部门延期|The enterprise has used up its own extensions; government in scope may extend"
    return None


MACHINE: Machine[Facts] = Machine(
    ("隐患", "hazard"),
    (
        Transition("plan", frozenset({"registered"}), "rectifying", _worker),
        Transition(
            "fix_on_spot", frozenset({"registered"}), "closed", _self_fixer, _fixable_on_spot
        ),
        Transition("complete", frozenset({"rectifying"}), "awaiting_acceptance", _worker),
        Transition("accept", frozenset({"awaiting_acceptance"}), "closed", _acceptor),
        Transition("reject", frozenset({"awaiting_acceptance"}), "rectifying", _acceptor),
        Transition("void", OPEN, "voided", _acceptor),
        Transition("extend", frozenset({"registered", "rectifying"}), None, _extender, _extendable),
        Transition("reclassify", OPEN, None, _government, _reclassifiable),
        Transition("supervise", OPEN, None, _county_or_town, _supervisable),
        Transition("unsupervise", OPEN | {"closed"}, None, _county_or_town, _supervised),
        Transition("escalate", OPEN, None, _county_or_town, _escalatable),
    ),
    # A page of hazards repeats a handful of cases: the caller and the facts the rules read, with
    # the enterprise reduced to "the caller's own or not" and the extensions left to "any or none".
    case_key=lambda p, h: (
        p,
        h.status,
        h.level,
        h.source,
        h.is_overdue,
        h.supervised,
        h.escalation,
        h.enterprise_extensions_left > 0,
        p.enterprise_id is not None and p.enterprise_id == h.enterprise_id,
    ),
)
TRANSITIONS = MACHINE.transitions
allowed_actions = MACHINE.allowed_actions
check = MACHINE.check


def next_escalation(current: str) -> str:
    return ESCALATION_LADDER[ESCALATION_LADDER.index(current) + 1]
