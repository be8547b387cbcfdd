"""The table columns of a new enterprise straight from a row's body, for the bodies that are
certainly valid, without building the ``EnterpriseCreate`` model (its validation, dump and
mapping to columns were half of a 100,000-row import's CPU).

It is a filter, never a second set of rules: it answers the columns only when every field is
of the exact type and form the model accepts unchanged (text already stripped, ASCII digits
where the model's patterns want digits, catalog values the model's own ``Literal`` values, a
valid credit code, coordinates inside their range), and ``None`` for anything else: that body
goes through the model, so every error a row can get is the model's own. Its answer equals
``column_values(EnterpriseCreate.model_validate(body).model_dump())`` (a test holds the two
together on generated bodies, and fails when the model gains a field this does not know).
"""

from __future__ import annotations

import re
import typing
from typing import Any

from app.core.credit_code import is_valid_credit_code
from app.schemas.enterprises import EnterpriseCreate, EnterpriseFields

# The model's own Literal values, read off its fields.
_LITERALS = {
    name: frozenset(typing.get_args(EnterpriseCreate.model_fields[name].annotation))
    for name in ("sector", "status")
}
for _name in ("scale", "risk_color", "standardization_grade"):
    # ``Scale | None``: the Literal is the first member of the union.
    _LITERALS[_name] = frozenset(
        typing.get_args(typing.get_args(EnterpriseFields.model_fields[_name].annotation)[0])
    )
_INDUSTRY = re.compile(r"[A-T]|[A-T]?[0-9]{2,4}")
_PHONE = re.compile(r"\+?[0-9][0-9-]{4,19}")
KNOWN = frozenset(
    (
        "name",
        "credit_code",
        "region_code",
        "sector",
        "enforcement_department_id",
        "status",
        "address",
        "location",
        "industry_code",
        "scale",
        "risk_color",
        "standardization_grade",
        "principal",
        "actual_controller",
    )
)


def _text(value: Any, most: int) -> bool:
    """Text the model keeps as it is: a str, stripped, not empty, at most ``most`` long."""
    return value.__class__ is str and 0 < len(value) <= most and value == value.strip()


def _one_of(value: Any, field: str) -> bool:
    return value.__class__ is str and value in _LITERALS[field]


def _contact(value: Any) -> tuple[str, str | None] | None:
    if value.__class__ is not dict or value.keys() - {"name", "phone"}:
        return None
    name, phone = value.get("name"), value.get("phone")
    if not _text(name, 50):
        return None
    if phone is not None and not (
        phone.__class__ is str and len(phone) <= 20 and _PHONE.fullmatch(phone)
    ):
        return None
    return name, phone


def columns(body: dict[str, Any]) -> dict[str, Any] | None:
    """The columns of the enterprise ``body`` creates, or None: let the model decide."""
    if body.keys() - KNOWN:
        return None
    get = body.get
    name, code, region = get("name"), get("credit_code"), get("region_code")
    sector, department = get("sector"), get("enforcement_department_id")
    if not _text(name, 200) or department.__class__ is not str or department != department.strip():
        return None
    if code.__class__ is not str or not is_valid_credit_code(code):  # upper case and stripped
        return None
    if not (
        region.__class__ is str and len(region) == 12 and region.isascii() and region.isdigit()
    ):
        return None
    status = get("status", "operating")
    if not (_one_of(sector, "sector") and _one_of(status, "status")):
        return None
    out: dict[str, Any] = {}
    for field in ("scale", "risk_color", "standardization_grade"):
        value = get(field)
        if value is not None and not _one_of(value, field):
            return None
        out[field] = value
    address = get("address")
    if address is not None and not (address.__class__ is str and len(address) <= 300):
        return None
    if address is not None and address != address.strip():
        return None
    industry = get("industry_code")
    if industry is not None and not (industry.__class__ is str and _INDUSTRY.fullmatch(industry)):
        return None
    location = get("location")
    if location is None:
        out["lat"] = out["lng"] = out["coordinate_system"] = None
    else:
        if location.__class__ is not dict or location.keys() != {"lat", "lng"}:
            return None
        lat, lng = location["lat"], location["lng"]
        if lat.__class__ is not float or lng.__class__ is not float:
            return None
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):  # NaN fails both
            return None
        out.update(lat=lat, lng=lng, coordinate_system="wgs84")
    for who in ("principal", "actual_controller"):
        value = get(who)
        if value is None:
            out[f"{who}_name"] = out[f"{who}_phone"] = None
            continue
        contact = _contact(value)
        if contact is None:
            return None
        out[f"{who}_name"], out[f"{who}_phone"] = contact
    out.update(
        name=name,
        credit_code=code,
        region_code=region,
        sector=sector,
        enforcement_department_id=department,
        status=status,
        address=address,
        industry_code=industry,
    )
    return out
