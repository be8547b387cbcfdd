"""What the OpenAPI schema says beyond FastAPI's own: the HTTP headers of the contract, declared
so generated clients type them (issue 9, item 5): request headers each operation honours,
response headers it sends; and ``info.version``, the package version (issue 9, item 15)."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import BaseModel

DISTRIBUTION = "anjian"  # [project] name in pyproject.toml


def package_version() -> str:
    """The schema's ``info.version``: the package version (``[project] version``), so a client
    generated from ``openapi.json`` names the release it was made against and CHANGELOG.md says
    what changed. From the installed distribution's metadata; from a source tree that is not
    installed, its pyproject.toml; ``0.0.0`` when neither is there."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
        try:
            return str(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"])
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0.0.0"


_ACCEPT_LANGUAGE = {
    "name": "Accept-Language",
    "in": "header",
    "required": False,
    "description": "`en` for English titles and messages; Chinese otherwise",
    "schema": {"type": "string", "example": "zh-CN"},
}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "1-255 characters; a retry with the same key and body replays the first 2xx "
    "answer (kept 24 h); the same key with another body is 422 `idempotency_key_reused`",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The `ETag` you read; if the resource changed since, 412 `precondition_failed`",
    "schema": {"type": "string", "example": '"v3"'},
}
_X_REQUEST_ID = {
    "description": "Echoes a well-formed `X-Request-ID` sent, or a new id; in every log line",
    "schema": {"type": "string"},
}
_ETAG = {"description": "The resource's version, for `If-Match`", "schema": {"type": "string"}}
_LOCATION = {"description": "The new resource's path", "schema": {"type": "string"}}
_RETRY_AFTER = {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}

# Write operations that check `If-Match` besides every PATCH and PUT (the upserts).
_IF_MATCH_SUFFIXES = ("/transitions", "/rotate-secret")
# Public POSTs claim no key: every token call issues a new token; a revocation is idempotent.
_NO_IDEMPOTENCY = frozenset({"issue_token", "revoke_token"})


def honours_if_match(path: str, method: str) -> bool:
    """The operations that take `If-Match` (and so may answer 412): one rule for the header's
    declaration and for the documented statuses."""
    return method in ("patch", "put") or (method == "post" and path.endswith(_IF_MATCH_SUFFIXES))


def _has_etag(path: str, method: str, status: str) -> bool:
    """Single resources (a path ending in its id), their writes and creates carry an `ETag`."""
    if not status.startswith("2"):
        return False
    return path.endswith("}") or status == "201" or honours_if_match(path, method)


EXTRA_SCHEMAS: list[type[BaseModel]] = []
"""Request models an operation reads by hand (declared through ``openapi_extra``), added to the
components so their ``$ref`` resolves."""


def document_headers(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in EXTRA_SCHEMAS:
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(model_schema.pop("$defs", {}))
        components[model.__name__] = model_schema
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            params = operation.setdefault("parameters", [])
            names = {p["name"].lower() for p in params if p.get("in") == "header"}
            wanted = [_ACCEPT_LANGUAGE]
            if method == "post" and operation.get("operationId") not in _NO_IDEMPOTENCY:
                wanted.append(_IDEMPOTENCY_KEY)
            if honours_if_match(path, method):
                wanted.append(_IF_MATCH)
            params.extend(dict(h) for h in wanted if h["name"].lower() not in names)
            for status, response in operation.get("responses", {}).items():
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-ID", dict(_X_REQUEST_ID))
                if _has_etag(path, method, status):
                    headers.setdefault("ETag", dict(_ETAG))
                if status == "201":
                    headers.setdefault("Location", dict(_LOCATION))
                if status in ("429", "503"):
                    headers["Retry-After"] = {**_RETRY_AFTER, "required": True}
    return schema
