"""Query-string discipline shared by every API route (``ApiRoute``): a parameter the route does
not declare is a 422 ``unknown_parameter`` (a misspelt filter must not silently return
everything), and a single-valued parameter given twice is a 422 ``repeated_parameter`` (rather
than silently taking the last). Enumeration filters are declared as lists and may repeat."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.models import Dependant
from starlette.requests import Request

from app.core.errors import ValidationFailed


def declared_query_params(dependant: Dependant) -> dict[str, bool]:
    """Every query parameter the route and its dependencies (recursively) declare, by name as
    sent, with whether it takes several values."""
    out: dict[str, bool] = {}
    for field in dependant.query_params:
        out[field.alias] = field_annotation_is_sequence(field.field_info.annotation)
    for sub in dependant.dependencies:
        out.update(declared_query_params(sub))
    return out


def check_query(request: Request, declared: Mapping[str, bool]) -> None:
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name not in declared:
            known = ", ".join(sorted(declared)) or "无 / none"
            raise ValidationFailed(
                f"未知的查询参数 '{name}'；可用：{known}",
                f"Unknown query parameter '{name}'; accepted: {known}",
                code="unknown_parameter",
                errors=[
                    {
                        "field": name,
                        "message_zh": f"未知的查询参数；可用：{known}",
                        "message_en": f"Unknown query parameter; accepted: {known}",
                    }
                ],
            )
        if name in seen and not declared[name]:
            raise ValidationFailed(
                f"查询参数 '{name}' 只能出现一次",
                f"The query parameter '{name}' takes one value and was given more than once",
                code="repeated_parameter",
                errors=[
                    {
                        "field": name,
                        "message_zh": "只能出现一次",
                        "message_en": "Takes one value; given more than once",
                    }
                ],
            )
        seen.add(name)
