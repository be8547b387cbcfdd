"""Credentials: tokens end when they must (and only then), client secrets rotate, people change
their own passwords (issue 8, items 12 and 13)."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import update

from app.auth.tokens import issue_token
from app.models import ApiClient
from app.models.base import utcnow
from tests.conftest import PASSWORD, World
from tests.test_users import cheap_password_hashing  # noqa: F401  (autouse fixture)

TOKEN = "/api/v1/auth/token"
ME = "/api/v1/me"
NEW_PASSWORD = "Correct-Horse-Battery-9"


async def sign_in(client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return await client.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": password}
    )


async def client_sign_in(client, client_id: str, secret: str):  # type: ignore[no-untyped-def]
    return await client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def patch_user(client, world: World, who: str, body: dict, actor: str = "admin"):  # type: ignore[no-untyped-def]
    r = await client.patch(f"/api/v1/users/{world[who]}", json=body, headers=world.h(actor))
    assert r.status_code == 200, r.text
    return r


# ---- item 12: the credential version in every token ---------------------------------------------


async def test_a_password_set_by_an_admin_ends_the_users_sessions(client, world: World) -> None:
    signed_in = (await sign_in(client, "town_a_officer")).json()["access_token"]
    assert (await client.get(ME, headers=bearer(signed_in))).status_code == 200
    await patch_user(client, world, "town_a_officer", {"password": NEW_PASSWORD})
    for old in (signed_in, world.tokens["town_a_officer"]):
        r = await client.get(ME, headers=bearer(old))
        assert r.status_code == 401
        assert r.json()["code"] == "invalid_token"
    fresh = await sign_in(client, "town_a_officer", NEW_PASSWORD)
    assert (await client.get(ME, headers=bearer(fresh.json()["access_token"]))).status_code == 200


async def test_a_phone_or_name_change_signs_no_one_out(client, world: World) -> None:
    r = await patch_user(
        client, world, "town_a_officer", {"phone": "0557-3020000", "display_name": "张三"}
    )
    assert r.headers["etag"] != '"v1"'  # the row's version moved (ETag), its credentials did not
    assert (await client.get(ME, headers=world.h("town_a_officer"))).status_code == 200
    # An is_active or role equal to the current one is no change either.
    await patch_user(client, world, "town_a_officer", {"is_active": True, "role": "officer"})
    assert (await client.get(ME, headers=world.h("town_a_officer"))).status_code == 200


async def test_a_role_change_ends_the_users_sessions(client, world: World) -> None:
    await patch_user(client, world, "town_a_officer", {"role": "viewer"})
    assert (await client.get(ME, headers=world.h("town_a_officer"))).status_code == 401
    fresh = (await sign_in(client, "town_a_officer")).json()["access_token"]
    assert (await client.get(ME, headers=bearer(fresh))).json()["role"] == "viewer"


async def test_reactivation_does_not_revive_old_tokens(client, world: World) -> None:
    old = world.tokens["town_a_officer"]
    await patch_user(client, world, "town_a_officer", {"is_active": False})
    assert (await client.get(ME, headers=bearer(old))).status_code == 401
    await patch_user(client, world, "town_a_officer", {"is_active": True})
    assert (await client.get(ME, headers=bearer(old))).status_code == 401
    assert (await sign_in(client, "town_a_officer")).status_code == 200


async def test_client_deactivation_and_reactivation_end_its_tokens(client, world: World) -> None:
    old = (await client_sign_in(client, "cli_town_a_reader", PASSWORD)).json()["access_token"]
    url = f"/api/v1/clients/{world['machine']}"
    assert (
        await client.patch(url, json={"is_active": False}, headers=world.h("admin"))
    ).status_code == 200
    assert (
        await client.patch(url, json={"is_active": True}, headers=world.h("admin"))
    ).status_code == 200
    assert (await client.get(ME, headers=bearer(old))).status_code == 401
    fresh = (await client_sign_in(client, "cli_town_a_reader", PASSWORD)).json()["access_token"]
    assert (await client.get(ME, headers=bearer(fresh))).status_code == 200


def _forge(world: World, drop: str | None = None, **claims: object) -> str:
    now = int(time.time())
    body: dict[str, object] = {
        "sub": world["town_a_officer"],
        "knd": "user",
        "cv": 1,
        "iss": world.settings.token_issuer,
        "aud": world.settings.token_audience,
        "iat": now,
        "exp": now + 600,
        **claims,
    }
    body.pop(drop or "", None)
    return jwt.encode(body, world.settings.resolved_secret_key, algorithm="HS256")


@pytest.mark.parametrize("claim", ["sub", "exp", "iat", "iss", "aud", "cv"])
async def test_a_token_without_a_required_claim_is_refused(client, world, claim) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get(ME, headers=bearer(_forge(world)))).status_code == 200
    r = await client.get(ME, headers=bearer(_forge(world, drop=claim)))
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_token"


@pytest.mark.parametrize(
    "claims",
    [
        {"iss": "someone-else"},
        {"aud": "another-service"},
        {"cv": 2},
        {"cv": "1"},
        {"exp": int(time.time()) - 3600},
        {"knd": "robot"},
    ],
)
async def test_a_token_with_a_wrong_claim_is_refused(client, world, claims) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get(ME, headers=bearer(_forge(world, **claims)))).status_code == 401


async def test_issued_tokens_carry_issuer_audience_and_credential_version(client, world) -> None:  # type: ignore[no-untyped-def]
    token = (await sign_in(client, "town_a_officer")).json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == world.settings.token_issuer
    assert claims["aud"] == world.settings.token_audience
    assert claims["cv"] == 1
    assert {"sub", "iat", "exp", "knd"} <= set(claims)


# ---- item 12: rotating a client's secret ----------------------------------------------------------


async def rotate(client, world: World, body: dict | None = None, actor: str = "admin", **headers):  # type: ignore[no-untyped-def]
    return await client.post(
        f"/api/v1/clients/{world['machine']}/rotate-secret",
        json=body,
        headers=world.h(actor, **headers),
    )


async def test_rotation_shows_a_new_secret_once_and_keeps_the_old_one_for_the_overlap(
    client, world: World
) -> None:
    issued = (await client_sign_in(client, "cli_town_a_reader", PASSWORD)).json()["access_token"]
    before = utcnow()
    r = await rotate(client, world)
    assert r.status_code == 200
    body = r.json()
    new_secret = body["client_secret"]
    assert len(new_secret) >= 32 and new_secret != PASSWORD
    expires = body["previous_secret_expires_at"]
    overlap = timedelta(seconds=world.settings.client_secret_overlap_seconds)
    assert before + overlap - timedelta(minutes=1) < _parse(expires) <= utcnow() + overlap
    assert r.headers["etag"]

    # Both secrets open a session; a token issued before the rotation stays valid.
    assert (await client_sign_in(client, "cli_town_a_reader", new_secret)).status_code == 200
    assert (await client_sign_in(client, "cli_town_a_reader", PASSWORD)).status_code == 200
    assert (await client.get(ME, headers=bearer(issued))).status_code == 200
    detail = await client.get(f"/api/v1/clients/{world['machine']}", headers=world.h("admin"))
    assert new_secret not in detail.text
    assert detail.json()["previous_secret_expires_at"] == expires


async def test_the_old_secret_stops_working_after_the_overlap(client, world, app) -> None:  # type: ignore[no-untyped-def]
    new_secret = (await rotate(client, world)).json()["client_secret"]
    async with app.state.sessionmaker() as s:  # the overlap has passed
        await s.execute(
            update(ApiClient)
            .where(ApiClient.id == world["machine"])
            .values(previous_secret_expires_at=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
    r = await client_sign_in(client, "cli_town_a_reader", PASSWORD)
    assert r.status_code == 401
    assert r.json()["code"] == "invalid_client"
    assert (await client_sign_in(client, "cli_town_a_reader", new_secret)).status_code == 200


async def test_rotation_for_a_leaked_secret_revokes_it_and_its_tokens_at_once(
    client, world: World
) -> None:
    issued = (await client_sign_in(client, "cli_town_a_reader", PASSWORD)).json()["access_token"]
    r = await rotate(client, world, {"revoke_previous": True})
    assert r.status_code == 200
    assert r.json()["previous_secret_expires_at"] is None
    assert (await client_sign_in(client, "cli_town_a_reader", PASSWORD)).status_code == 401
    assert (await client.get(ME, headers=bearer(issued))).status_code == 401
    fresh = await client_sign_in(client, "cli_town_a_reader", r.json()["client_secret"])
    assert (await client.get(ME, headers=bearer(fresh.json()["access_token"]))).status_code == 200


async def test_a_second_rotation_retires_the_first_secret(client, world: World) -> None:
    first = (await rotate(client, world)).json()["client_secret"]
    second = (await rotate(client, world)).json()["client_secret"]
    assert (await client_sign_in(client, "cli_town_a_reader", PASSWORD)).status_code == 401
    assert (await client_sign_in(client, "cli_town_a_reader", first)).status_code == 200
    assert (await client_sign_in(client, "cli_town_a_reader", second)).status_code == 200


async def test_rotation_is_for_client_managers_in_scope(client, world: World) -> None:
    assert (await rotate(client, world, actor="town_a_manager")).status_code == 403
    assert (await rotate(client, world, actor="machine")).status_code == 403
    r = await client.post(
        "/api/v1/clients/0000000000000000000000000000dead/rotate-secret",
        headers=world.h("admin"),
    )
    assert r.status_code == 404
    assert (await rotate(client, world, {"revoke_previous": True, "x": 1})).status_code == 422


async def test_a_rotation_is_never_replayed(client, world: World) -> None:
    first = await rotate(client, world, **{"Idempotency-Key": "rotate-1"})
    assert first.status_code == 200
    again = await rotate(client, world, **{"Idempotency-Key": "rotate-1"})
    assert again.status_code == 409
    assert again.json()["code"] == "idempotency_not_replayable"
    assert first.json()["client_secret"] not in again.text


async def test_rotation_honours_if_match(client, world: World) -> None:
    r = await rotate(client, world, **{"If-Match": '"v999"'})
    assert r.status_code == 412


def _parse(value: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(value)


# ---- item 13: changing one's own password -----------------------------------------------------------


async def change_password(client, token: str, current: str, new: str):  # type: ignore[no-untyped-def]
    return await client.post(
        "/api/v1/me/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(token),
    )


async def test_a_user_changes_their_password_and_stays_signed_in(client, world: World) -> None:
    elsewhere = (await sign_in(client, "ent_a1_staff")).json()["access_token"]
    r = await change_password(client, world.tokens["ent_a1_staff"], PASSWORD, NEW_PASSWORD)
    assert r.status_code == 200
    assert r.json()["token_type"] == "bearer"
    fresh = r.json()["access_token"]
    assert (await client.get(ME, headers=bearer(fresh))).json()["username"] == "ent_a1_staff"
    # Every other session has ended; the old password no longer opens one.
    for old in (world.tokens["ent_a1_staff"], elsewhere):
        assert (await client.get(ME, headers=bearer(old))).status_code == 401
    assert (await sign_in(client, "ent_a1_staff")).status_code == 401
    assert (await sign_in(client, "ent_a1_staff", NEW_PASSWORD)).status_code == 200


async def test_a_wrong_current_password_is_422_and_throttled(client, world: World) -> None:
    for _ in range(5):
        r = await change_password(
            client, world.tokens["ent_a1_staff"], "not-my-password", NEW_PASSWORD
        )
        assert r.status_code == 422
        assert r.json()["code"] == "wrong_current_password"
        assert [e["field"] for e in r.json()["errors"]] == ["current_password"]
    r = await change_password(client, world.tokens["ent_a1_staff"], PASSWORD, NEW_PASSWORD)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    # Nothing changed: the session and the password are as they were.
    assert (await client.get(ME, headers=world.h("ent_a1_staff"))).status_code == 200


@pytest.mark.parametrize(
    "new",
    [
        "short-9ch",  # under 10 characters
        "password123",  # common
        "QWERTYUIOP",  # common, whatever the case
        "1q2w3e4r5t",
        PASSWORD,  # the current one
    ],
)
async def test_weak_or_unchanged_new_passwords_are_refused(client, world, new: str) -> None:  # type: ignore[no-untyped-def]
    r = await change_password(client, world.tokens["ent_a1_staff"], PASSWORD, new)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["new_password"]
    assert (await client.get(ME, headers=world.h("ent_a1_staff"))).status_code == 200


async def test_unknown_fields_in_a_password_change_are_422(client, world: World) -> None:
    r = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "user_id": "x"},
        headers=world.h("ent_a1_staff"),
    )
    assert r.status_code == 422


async def test_machine_clients_have_no_password_to_change(client, world: World) -> None:
    r = await change_password(client, world.tokens["machine"], PASSWORD, NEW_PASSWORD)
    assert r.status_code == 403
    assert r.json()["code"] == "not_a_person"


async def test_a_password_change_is_never_replayed(client, world: World) -> None:
    headers = {**world.h("ent_a1_staff"), "Idempotency-Key": "pw-1"}
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    first = await client.post("/api/v1/me/password", json=body, headers=headers)
    assert first.status_code == 200
    token = first.json()["access_token"]
    again = await client.post(
        "/api/v1/me/password", json=body, headers={**bearer(token), "Idempotency-Key": "pw-1"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "idempotency_not_replayable"
    assert token not in again.text and "access_token" not in again.text
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200


@pytest.mark.parametrize("password", ["nine-char", "1234567890", "Password123"])
async def test_users_are_not_created_or_patched_with_weak_passwords(
    client, world: World, password: str
) -> None:
    body = {
        "username": "weak_one",
        "password": password,
        "display_name": "弱密码",
        "role": "officer",
        "org_unit_id": world["town_a"],
    }
    r = await client.post("/api/v1/users", json=body, headers=world.h("admin"))
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["password"]
    r = await client.patch(
        f"/api/v1/users/{world['town_a_officer']}",
        json={"password": password},
        headers=world.h("admin"),
    )
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["password"]


async def test_tokens_issued_for_a_fresh_row_default_to_version_1(world: World) -> None:
    token, _ = issue_token(world.settings, world["admin"], "user")
    assert jwt.decode(token, options={"verify_signature": False})["cv"] == 1
