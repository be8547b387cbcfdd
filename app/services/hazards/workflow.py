"""The hazard lifecycle as one table: (state, action) -> next state, who may act, and guards.

The transitions endpoint, ``allowed_actions``, the docs and the tests all read this table.

    registered ──plan──▶ rectifying ──complete──▶ awaiting_acceptance ──accept──▶ closed
        │                     ▲                         │
        ├──fix_on_spot──▶ closed (general, self-found)  └──reject──▶ rectifying
        └──void (any open state)──▶ voided
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.auth.permissions import Permission, Role
from app.auth.principal import Principal

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


def _always(p: Principal, h: Facts) -> str | None:
    return None


@dataclass(frozen=True, slots=True)
class Transition:
    action: str
    from_states: frozenset[str]
    to_state: str | None  # None: the status does not change
    who: Callable[[Principal, Facts], bool]
    guard: Callable[[Principal, Facts], str | None] = _always


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
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
    )
}


def allowed_actions(p: Principal, h: Facts) -> list[str]:
    """The actions ``p`` may take on ``h`` now. A page of hazards repeats a handful of cases, so
    the answer is kept per case: the caller and the facts the rules read, with the enterprise
    reduced to "the caller's own or not" and the extensions left to "any or none" (exactly what
    the rules look at), and ``ALLOWED_CASES`` bounded."""
    key = (
        p,
        h.status,
        h.level,
        h.source,
        h.is_overdue,
        h.supervised,
        h.escalation,
        h.enterprise_extensions_left > 0,
        p.enterprise_id is not None and p.enterprise_id == h.enterprise_id,
    )
    known = _ALLOWED.get(key)
    if known is None:
        known = _ALLOWED[key] = tuple(_allowed(p, h))
        if len(_ALLOWED) > ALLOWED_CASES:
            _ALLOWED.pop(next(iter(_ALLOWED)))
    return list(known)


ALLOWED_CASES = 50_000
_ALLOWED: dict[tuple[object, ...], tuple[str, ...]] = {}


def _allowed(p: Principal, h: Facts) -> list[str]:
    return [
        t.action
        for t in TRANSITIONS.values()
        if h.status in t.from_states and t.who(p, h) and t.guard(p, h) is None
    ]


class Refusal(Exception):
    """Why an action cannot run: ``status`` 403 (not yours to take) or 409 (not now)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        zh, _, en = message.partition("|")
        self.zh, self.en = zh, en or zh


def check(p: Principal, h: Facts, action: str) -> Transition:
    t = TRANSITIONS[action]
    if not t.who(p, h):
        raise Refusal(
            403,
            "action_forbidden",
            "无权对该隐患执行此操作|You may not take this action on this hazard",
        )
    if h.status not in t.from_states:
        raise Refusal(
            409,
            "invalid_transition",
            f"隐患当前状态（{h.status}）不允许此操作|Action {action} is not allowed in status {h.status}",
        )
    reason = t.guard(p, h)
    if reason:
        raise Refusal(409, "invalid_transition", reason)
    return t


def next_escalation(current: str) -> str:
    return ESCALATION_LADDER[ESCALATION_LADDER.index(current) + 1]
