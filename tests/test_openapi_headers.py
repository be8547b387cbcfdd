"""The headers of the contract are in the schema, so generated clients type them (issue 9,
item 5)."""

from __future__ import annotations

from typing import Any


def _operations(app) -> list[tuple[str, str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    schema = app.openapi()
    return [(p, m, o) for p, ops in schema["paths"].items() for m, o in ops.items()]


def _header_params(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}


def test_every_post_but_the_token_endpoint_declares_idempotency_key(app) -> None:  # type: ignore[no-untyped-def]
    for path, method, op in _operations(app):
        declared = "Idempotency-Key" in _header_params(op)
        expected = method == "post" and op["operationId"] not in ("issue_token", "revoke_token")
        assert declared == expected, (method, path)


def test_writes_that_honour_if_match_declare_it(app) -> None:  # type: ignore[no-untyped-def]
    for path, method, op in _operations(app):
        if method == "patch" or path.endswith("/transitions"):
            assert "If-Match" in _header_params(op), (method, path)
        if method == "get":
            assert "If-Match" not in _header_params(op), (method, path)


def test_every_operation_declares_accept_language_and_every_answer_x_request_id(app) -> None:  # type: ignore[no-untyped-def]
    for path, method, op in _operations(app):
        assert "Accept-Language" in _header_params(op), (method, path)
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response["headers"], (method, path, status)
            if status == "201":
                assert {"Location", "ETag"} <= set(response["headers"]), (method, path)
            if status in ("429", "503"):
                assert response["headers"]["Retry-After"]["required"] is True


async def test_a_declared_etag_is_really_sent(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/enterprises/{world['ent_a1']}", headers=world.h("admin"))
    assert r.headers["etag"] and r.headers["x-request-id"]
