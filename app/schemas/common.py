from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any, Literal, get_args

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, sort_values
from app.services.external_ids import (
    FILTER_DESCRIPTION,
    FILTER_PATTERN,
    ID_PATTERN,
    SYSTEM_PATTERN,
)

# Texts are stripped before they are checked, so a required text must hold a visible character:
# the schema says so, or a client's "   " would be valid by the schema and refused by the server.
NON_BLANK = r"\S"


class RequestModel(BaseModel):
    """Every request body rejects unknown fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ResponseModel(BaseModel):
    """Every output model: the server sends each of its fields (``null`` when empty), so its
    serialization schema lists every one as required and a generated client needs no ``!``.
    Input models keep their optional fields optional (the setting only affects the schema of
    what is sent)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class ListParams(BaseModel):
    limit: int
    cursor: str | None
    include_total: bool
    sort: str | None


def _any_of_values(allowed: tuple[str, ...]) -> Callable[[Any], list[str]]:
    def split(value: Any) -> list[str]:
        """`status=a&status=b` and `status=a,b` alike: every value, duplicates dropped; an
        empty or unknown one is a 422 naming the parameter (not its position) and the choices."""
        items = value if isinstance(value, list) else [value]
        parts = list(dict.fromkeys(p.strip() for item in items for p in str(item).split(",")))
        wrong = next((p for p in parts if p not in allowed), None)
        if wrong is not None:
            one_of = ", ".join(allowed)
            raise ValueError(
                f"Unknown value '{wrong}'; expected one or more of: {one_of}"
                f"|未知的取值 '{wrong}'；可选一个或多个：{one_of}"
            )
        return parts

    return split


def any_of(values: Any, description: str | None = None) -> Any:
    """An enumeration filter taking several values (SQL ``IN``): the parameter repeated or a
    comma-separated list; the OpenAPI schema shows an array of the enumeration (a ``Literal``)."""
    allowed = tuple(str(v) for v in get_args(values))
    assert allowed, values
    text = "One or more values: the parameter repeated or comma-separated (any of them)"
    return Annotated[
        Annotated[list[values], BeforeValidator(_any_of_values(allowed))] | None,  # type: ignore[valid-type]
        Query(description=f"{description}. {text}" if description else text),
    ]


def group_by_values(allowed: tuple[str, ...]) -> Callable[[Any], list[str]]:
    """A statistics ``group_by``: `group_by=town,level` or `group_by=town&group_by=level`, one
    or two dimensions, each named in the message when wrong (a regular expression in it helps
    no client)."""
    one_of = ", ".join(allowed)

    def parts_of(value: Any) -> list[str]:
        items = value if isinstance(value, list) else [value]
        parts = [p.strip() for item in items for p in str(item).split(",")]
        wrong = [p for p in parts if p not in allowed]
        if wrong:
            raise ValueError(
                f"Unknown grouping '{wrong[0]}'; expected one or two of: {one_of}"
                f"|未知的分组维度 '{wrong[0]}'；可选一至两个：{one_of}"
            )
        if len(parts) > 2:
            raise ValueError(
                f"At most two groupings, got {len(parts)}; choose one or two of: {one_of}"
                f"|最多两个分组维度，收到 {len(parts)} 个；可选一至两个：{one_of}"
            )
        return parts

    return parts_of


def list_params_for(sorts: Iterable[str], default: str) -> Callable[..., Awaitable[ListParams]]:
    """The paging dependency of one list: ``sort`` is the enumeration of that list's sort keys
    (each also with ``-`` for descending), built from the service's ``SORTS`` dict."""
    choices = sort_values(sorts)
    assert default in choices, default
    sort_type = Literal[tuple(choices)]  # type: ignore[valid-type]

    async def list_params(
        limit: int, cursor: str | None, include_total: bool, sort: str | None
    ) -> ListParams:
        return ListParams(limit=limit, cursor=cursor, include_total=include_total, sort=sort)

    kw = inspect.Parameter.KEYWORD_ONLY
    list_params.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                "limit",
                kw,
                default=DEFAULT_LIMIT,
                annotation=Annotated[
                    int, Query(ge=1, le=MAX_LIMIT, description="Page size, at most 500")
                ],
            ),
            inspect.Parameter(
                "cursor",
                kw,
                default=None,
                annotation=Annotated[
                    str | None, Query(max_length=500, description="Opaque cursor from next_cursor")
                ],
            ),
            inspect.Parameter(
                "include_total",
                kw,
                default=False,
                annotation=Annotated[bool, Query(description="Add the total count")],
            ),
            inspect.Parameter(
                "sort",
                kw,
                default=default,
                annotation=Annotated[
                    sort_type, Query(description="A field, or -field for descending")
                ],
            ),
        ],
        return_annotation=ListParams,
    )
    return list_params


class NamedRef(ResponseModel):
    """A reference to an enterprise or an org unit with what a screen shows; readable by whoever
    may read the object that holds it. An org unit's name is English under
    ``Accept-Language: en`` when the unit has one."""

    id: str
    name: str


class UserRef(ResponseModel):
    """A reference to a person with the name a screen shows."""

    id: str
    display_name: str


# The ids other systems give a record (issue 16): by system, unique per system; ``{}`` when none.
ExternalIds = Annotated[
    dict[str, str],
    Field(
        description="外部编号: the ids other systems give this record, by system "
        '(`{"city": "C-1"}`), each unique per system; `{}` when none. Written by imports '
        "(`external_ids.<system>` columns) and `PUT …/by-external-id/{system}/{external_id}`; "
        "the lists filter on `external_id=<system>:<id>`",
        examples=[{"city": "C-1"}],
    ),
]


# The path segments of ``PUT /…/by-external-id/{system}/{external_id}`` (issue 17): a system as
# an import's ``external_ids.<system>`` header names it, and its id (no control characters).
ExternalSystem = Annotated[
    str,
    Path(
        pattern=SYSTEM_PATTERN,
        description="The other system's name, as `external_ids` keys it (`[A-Za-z0-9_.-]`, "
        "1-32 characters), e.g. `province`",
    ),
]
ExternalIdValue = Annotated[
    str,
    Path(
        pattern=ID_PATTERN,
        description="The id that system gives the record (1-100 characters, no control "
        "characters), percent-encoded; it runs to the end of the path, so it may hold `/`",
    ),
]


# ``external_id=<system>:<id>`` on the lists of enterprises, hazards and inspections
ExternalIdFilter = Annotated[
    str | None,
    Query(max_length=133, pattern=FILTER_PATTERN, description=FILTER_DESCRIPTION),
]
