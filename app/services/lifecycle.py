"""The one machinery every lifecycle uses (hazards, inspections, and the task lists, reports and
import jobs to come): a table of transitions ``(state, action) -> (next state, who, guard)``, the
check that refuses an action (403 not yours to take, 409 not now), ``allowed_actions`` from the
same table, and the event row each transition writes in the same transaction.

A domain keeps only its own table, its who-rules and guards (``services/<domain>/workflow.py``)
and the facts they read: any object with a ``status`` attribute.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from app.auth.principal import Principal
from app.core.errors import AppError, Conflict, Forbidden
from app.schemas.common import NamedRef


class HasStatus(Protocol):
    @property
    def status(self) -> str: ...


F = TypeVar("F", bound=HasStatus)


def always(p: Principal, facts: Any) -> str | None:
    """The guard of an action that is possible whenever its state allows it."""
    return None


@dataclass(frozen=True, slots=True)
class Transition(Generic[F]):
    action: str
    from_states: frozenset[str]
    to_state: str | None  # None: the status does not change
    who: Callable[[Principal, F], bool]
    guard: Callable[[Principal, F], str | None] = always


class Refusal(Exception):
    """Why an action cannot run: ``status`` 403 (not yours to take) or 409 (not now).
    ``message`` is ``"中文|English"``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        zh, _, en = message.partition("|")
        self.zh, self.en = zh, en or zh

    def as_error(self) -> AppError:
        """The RFC 9457 answer of this refusal."""
        error: AppError = (
            Forbidden(self.zh, self.en) if self.status == 403 else Conflict(self.zh, self.en)
        )
        error.code = self.code
        return error


class Machine(Generic[F]):
    """One lifecycle's table and the rules read from it.

    ``noun`` names the object in refusals (``("隐患", "hazard")``). ``case_key`` reduces a
    caller and the facts to exactly what the rules look at, so that a page of objects, which
    repeats a handful of cases, computes ``allowed_actions`` once per case (kept, bounded, in
    ``cases``); without it every call is computed.
    """

    def __init__(
        self,
        noun: tuple[str, str],
        transitions: Iterable[Transition[F]],
        *,
        case_key: Callable[[Principal, F], Hashable] | None = None,
        cases: int = 50_000,
    ) -> None:
        self.noun_zh, self.noun_en = noun
        self.transitions: dict[str, Transition[F]] = {t.action: t for t in transitions}
        self.states: frozenset[str] = frozenset(
            s
            for t in self.transitions.values()
            for s in (*t.from_states, *((t.to_state,) if t.to_state else ()))
        )
        self._case_key = case_key
        self._cases = cases
        self._allowed: dict[Hashable, tuple[str, ...]] = {}

    def __getitem__(self, action: str) -> Transition[F]:
        return self.transitions[action]

    def __contains__(self, action: object) -> bool:
        return action in self.transitions

    def __iter__(self) -> Any:
        return iter(self.transitions)

    def values(self) -> Iterable[Transition[F]]:
        return self.transitions.values()

    def items(self) -> Iterable[tuple[str, Transition[F]]]:
        return self.transitions.items()

    def allowed_actions(self, p: Principal, facts: F) -> list[str]:
        """The actions ``p`` may take on the object now, in table order."""
        if self._case_key is None:
            return self._compute(p, facts)
        key = self._case_key(p, facts)
        known = self._allowed.get(key)
        if known is None:
            known = self._allowed[key] = tuple(self._compute(p, facts))
            if len(self._allowed) > self._cases:
                self._allowed.pop(next(iter(self._allowed)))
        return list(known)

    def _compute(self, p: Principal, facts: F) -> list[str]:
        return [
            t.action
            for t in self.transitions.values()
            if facts.status in t.from_states and t.who(p, facts) and t.guard(p, facts) is None
        ]

    def check(self, p: Principal, facts: F, action: str) -> Transition[F]:
        """The transition of ``action`` if ``p`` may take it now; otherwise a ``Refusal``."""
        t = self.transitions[action]
        if not t.who(p, facts):
            raise Refusal(
                403,
                "action_forbidden",
                f"无权对该{self.noun_zh}执行此操作|You may not take this action on this {self.noun_en}",
            )
        if facts.status not in t.from_states:
            raise Refusal(
                409,
                "invalid_transition",
                f"{self.noun_zh}当前状态（{facts.status}）不允许此操作"
                f"|Action {action} is not allowed in status {facts.status}",
            )
        reason = t.guard(p, facts)
        if reason:
            raise Refusal(409, "invalid_transition", reason)
        return t

    def run(self, p: Principal, facts: F, action: str) -> Transition[F]:
        """``check`` for a service: a refusal raised as its RFC 9457 error."""
        try:
            return self.check(p, facts, action)
        except Refusal as refusal:
            raise refusal.as_error() from None


def event_fields(
    p: Principal | None,
    action: str,
    from_status: str | None,
    to_status: str,
    *,
    at: datetime,
    note: str | None = None,
    details: dict[str, Any] | None = None,
    attachment_ids: list[str] | None = None,
) -> dict[str, Any]:
    """The columns every lifecycle's event row shares (who, when, from, to, payload); the domain
    adds the id of its object and builds its own event model from them. ``p`` None: the system
    (a scheduled job)."""
    return {
        "action": action,
        "from_status": from_status,
        "to_status": to_status,
        "actor_kind": p.kind if p else "system",
        "actor_id": p.id if p else None,
        "actor_name": (p.display_name or p.name) if p else None,
        "note": note,
        "payload": details or {},
        "attachment_ids": attachment_ids or [],
        "created_at": at,
    }


def event_out(e: Any) -> dict[str, Any]:
    """The fields every lifecycle's event answer shares, from its event row: the domain's
    ``…EventOut.model_construct(**event_out(e))`` (hazards add the files cited)."""
    return {
        "id": e.id,
        "action": e.action,
        "from_status": e.from_status,
        "to_status": e.to_status,
        "actor": NamedRef.model_construct(id=e.actor_id, name=e.actor_name or "")
        if e.actor_id
        else None,
        "actor_kind": e.actor_kind,
        "note": e.note,
        "details": e.payload or {},
        "created_at": e.created_at,
    }
