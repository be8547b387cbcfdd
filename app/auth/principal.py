"""Who is calling: a person or a machine client, with its home and permissions."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from app.auth.permissions import Permission, Role


@dataclass(frozen=True, slots=True)
class UnitInfo:
    id: str
    kind: str
    name: str
    region_code: str | None
    county_code: str
    sectors: tuple[str, ...] = field(default_factory=tuple)
    name_en: str | None = None

    @classmethod
    def of(cls, unit: Any) -> UnitInfo:
        """From an ``OrgUnit`` or a row with its columns by name."""
        return cls(
            id=unit.id,
            kind=unit.kind,
            name=unit.name,
            region_code=unit.region_code,
            county_code=unit.county_code,
            sectors=tuple(unit.sectors or ()),
            name_en=unit.name_en,
        )


@dataclass(frozen=True, slots=True)
class Principal:
    kind: str  # "user" | "client"
    id: str
    name: str
    role: Role | None
    permissions: frozenset[Permission]
    unit: UnitInfo | None = None
    enterprise_id: str | None = None
    display_name: str = ""
    # An enterprise user's enterprise, read with the caller (for /me and the catalogue's county).
    enterprise_name: str | None = None
    enterprise_region_code: str | None = None
    # The credential version the caller was resolved at (a token's ``cv``): a background job
    # made for it (an import, an export) runs only while the caller is still at this version.
    # 0 for callers not resolved from a credential (the public, the system).
    credential_version: int = 0
    # Computed once: a principal keys the per-case memo of allowed actions for every row of a
    # page (app/services/lifecycle.py, Machine.allowed_actions), and a dataclass hashes all its fields each time.
    _hash: int = field(init=False, repr=False, compare=False, default=0)

    def __post_init__(self) -> None:
        values = tuple(getattr(self, f.name) for f in fields(self) if f.compare)
        object.__setattr__(self, "_hash", hash(values))

    def __hash__(self) -> int:
        return self._hash

    @property
    def is_government(self) -> bool:
        """A government unit's staff. An expert belongs to the county unit but is not
        government: it sees and does only what its assignments allow."""
        return self.unit is not None and self.role is not Role.expert

    @property
    def is_expert(self) -> bool:
        return self.role is Role.expert

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def county_code(self) -> str | None:
        return self.unit.county_code if self.unit else None

    @property
    def audit_id(self) -> str:
        return f"{self.kind}:{self.id}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions
