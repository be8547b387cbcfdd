"""Sessions for apps (issue 9, item 10): short access tokens, rotating single-use refresh tokens
bound to the credential version, reuse detection, and sign-out by RFC 7009 revocation."""

from __future__ import annotations

import asyncio
import hashlib
import time
from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import event, func, select, update

from app.models.base import utcnow
from app.models.users import RefreshToken
from tests.conftest import PASSWORD, World
from tests.statements import statements
from tests.test_users import cheap_password_hashing  # noqa: F401  (autouse fixture)

TOKEN = "/api/v1/auth/token"
REVOKE = "/api/v1/auth/revoke"
ME = "/api/v1/me"
NEW_PASSWORD = "Correct-Horse-Battery-9"


async def sign_in(client: httpx.AsyncClient, username: str = "town_a_officer") -> dict:
    r = await client.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": PASSWORD}
    )
    assert r.status_code == 200, r.text
    return r.json()


async def refresh(client: httpx.AsyncClient, token: str, *, json: bool = False) -> httpx.Response:
    body = {"grant_type": "refresh_token", "refresh_token": token}
    return await (client.post(TOKEN, json=body) if json else client.post(TOKEN, data=body))


async def me(client: httpx.AsyncClient, access_token: str) -> httpx.Response:
    return await client.get(ME, headers={"Authorization": f"Bearer {access_token}"})


def claims(access_token: str) -> dict:
    return jwt.decode(access_token, options={"verify_signature": False})


def assert_invalid_grant(r: httpx.Response) -> None:
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "invalid_refresh_token"
    assert body["type"] == "/problems/invalid_refresh_token"
    assert body["error"] == "invalid_grant" and body["error_description"]


async def rows(app, **where: object) -> list[RefreshToken]:  # type: ignore[no-untyped-def]
    async with app.state.sessionmaker() as s:
        query = select(RefreshToken).order_by(RefreshToken.created_at, RefreshToken.id)
        for column, value in where.items():
            query = query.where(getattr(RefreshToken, column) == value)
        return list((await s.execute(query)).scalars())


# ---- issuing ----------------------------------------------------------------------------------


async def test_sign_in_answers_a_short_access_token_and_a_refresh_token(  # type: ignore[no-untyped-def]
    client, world: World, app
) -> None:
    r = await client.post(
        TOKEN, data={"grant_type": "password", "username": "town_a_officer", "password": PASSWORD}
    )
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["expires_in"] == 1800 == world.settings.token_lifetime_seconds
    assert body["refresh_expires_in"] == world.settings.refresh_token_lifetime_seconds
    assert world.settings.refresh_token_lifetime_seconds == 30 * 24 * 3600
    token = body["refresh_token"]
    assert len(token) >= 43 and "." not in token  # 256 random bits, opaque
    # Only the SHA-256 is stored, in a new family whose id is the session id of the access token.
    [row] = await rows(app, user_id=world["town_a_officer"])
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.family_id == row.id == claims(body["access_token"])["sid"]
    assert row.credential_version == 1 and row.used_at is None and row.revoked_at is None
    assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
    assert (await me(client, body["access_token"])).status_code == 200


async def test_client_credentials_answer_no_refresh_token_and_revoke_leaves_them_alone(
    client, world: World
) -> None:
    r = await client.post(
        TOKEN,
        json={
            "grant_type": "client_credentials",
            "client_id": "cli_town_a_reader",
            "client_secret": PASSWORD,
        },
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}  # absent, not null
    access = body["access_token"]
    assert "sid" not in claims(access)
    revoked = await client.post(REVOKE, data={"token": access, "token_type_hint": "access_token"})
    assert revoked.status_code == 200
    assert (await me(client, access)).status_code == 200
    # Its access token is no refresh token either.
    assert_invalid_grant(await refresh(client, access))


# ---- rotating -----------------------------------------------------------------------------------


async def test_refresh_rotates_in_the_same_session_and_the_old_token_is_spent(
    client, world: World, app
) -> None:
    first = await sign_in(client)
    r = await refresh(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    second = r.json()
    assert second["token_type"] == "bearer" and second["expires_in"] == 1800
    assert second["refresh_token"] != first["refresh_token"]
    assert claims(second["access_token"])["sid"] == claims(first["access_token"])["sid"]
    assert claims(second["access_token"])["cv"] == 1
    assert (await me(client, second["access_token"])).json()["username"] == "town_a_officer"
    old, new = await rows(app, user_id=world["town_a_officer"])
    assert old.used_at is not None and new.used_at is None and new.family_id == old.family_id
    assert new.expires_at > old.expires_at  # a fresh lifetime with every rotation
    assert_invalid_grant(await refresh(client, first["refresh_token"]))


async def test_presenting_a_spent_refresh_token_ends_the_whole_session(
    client, world: World
) -> None:
    stolen = await sign_in(client)
    other_session = await sign_in(client)
    legitimate = (await refresh(client, stolen["refresh_token"])).json()
    assert (await me(client, legitimate["access_token"])).status_code == 200
    # The spent token comes back (a thief's copy, or the client's): the whole family ends.
    assert_invalid_grant(await refresh(client, stolen["refresh_token"]))
    assert_invalid_grant(await refresh(client, legitimate["refresh_token"]))
    for access in (legitimate["access_token"], stolen["access_token"]):
        r = await me(client, access)
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    # The same person's other session goes on.
    assert (await me(client, other_session["access_token"])).status_code == 200
    assert (await refresh(client, other_session["refresh_token"])).status_code == 200


async def test_concurrent_refreshes_with_one_token_let_exactly_one_through(
    client, world: World
) -> None:
    session = await sign_in(client)
    answers = await asyncio.gather(*(refresh(client, session["refresh_token"]) for _ in range(4)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200, 400, 400, 400], [r.text for r in answers]
    for r in answers:
        if r.status_code == 400:
            assert_invalid_grant(r)
    # The losers presented a spent token: that is reuse, so the winner's session ends too (an
    # app must send one refresh at a time).
    [winner] = [r.json() for r in answers if r.status_code == 200]
    assert_invalid_grant(await refresh(client, winner["refresh_token"]))
    assert (await me(client, winner["access_token"])).status_code == 401


async def test_an_expired_refresh_token_is_refused(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    session = await sign_in(client)
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == world["town_a_officer"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await s.commit()
    assert_invalid_grant(await refresh(client, session["refresh_token"]))


async def test_refresh_takes_form_and_json_bodies_and_names_a_missing_token(
    client, world: World
) -> None:
    session = await sign_in(client)
    by_json = await refresh(client, session["refresh_token"], json=True)
    assert by_json.status_code == 200 and by_json.headers["cache-control"] == "no-store"
    by_form = await refresh(client, by_json.json()["refresh_token"])
    assert by_form.status_code == 200
    # A public client (AppAuth) sends its client_id and a scope along: accepted, ignored.
    with_extras = await client.post(
        TOKEN,
        data={
            "grant_type": "refresh_token",
            "refresh_token": by_form.json()["refresh_token"],
            "client_id": "anjian-mobile",
            "scope": "openid",
        },
    )
    assert with_extras.status_code == 200, with_extras.text
    missing = await client.post(TOKEN, json={"grant_type": "refresh_token"})
    assert missing.status_code == 422
    assert missing.json()["error"] == "invalid_request"
    assert [e["field"] for e in missing.json()["errors"]] == ["refresh_token"]
    too_long = await refresh(client, "x" * 4097, json=True)
    assert too_long.status_code == 422 and too_long.json()["error"] == "invalid_request"


async def test_refusals_carry_the_rfc_6749_fields_in_both_languages(client, world: World) -> None:
    r = await refresh(client, "never-issued-token")
    assert_invalid_grant(r)
    assert r.json()["status"] == 400 and r.json()["detail"]
    en = await client.post(
        TOKEN,
        data={"grant_type": "refresh_token", "refresh_token": "never-issued-token"},
        headers={"Accept-Language": "en"},
    )
    assert_invalid_grant(en)
    assert "sign in again" in en.json()["detail"]
    assert en.json()["error_description"] == en.json()["detail"]


# ---- the credential version --------------------------------------------------------------------


@pytest.mark.parametrize(
    "change", [{"password": NEW_PASSWORD}, {"is_active": False}, {"role": "viewer"}]
)
async def test_a_password_role_or_activation_change_ends_refreshing(  # type: ignore[no-untyped-def]
    client, world: World, change
) -> None:
    session = await sign_in(client)
    r = await client.patch(
        f"/api/v1/users/{world['town_a_officer']}", json=change, headers=world.h("admin")
    )
    assert r.status_code == 200, r.text
    assert_invalid_grant(await refresh(client, session["refresh_token"]))
    if change == {"is_active": False}:  # reactivated, the old session stays ended
        r = await client.patch(
            f"/api/v1/users/{world['town_a_officer']}",
            json={"is_active": True},
            headers=world.h("admin"),
        )
        assert r.status_code == 200
        assert_invalid_grant(await refresh(client, session["refresh_token"]))


async def test_changing_ones_own_password_starts_a_new_session(client, world: World) -> None:
    elsewhere = await sign_in(client, "ent_a1_staff")
    here = await sign_in(client, "ent_a1_staff")
    r = await client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"Authorization": f"Bearer {here['access_token']}"},
    )
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    fresh = r.json()
    assert fresh["refresh_token"] and fresh["refresh_expires_in"] > 0
    assert claims(fresh["access_token"])["sid"] != claims(here["access_token"])["sid"]
    for old in (elsewhere, here):
        assert_invalid_grant(await refresh(client, old["refresh_token"]))
    refreshed = await refresh(client, fresh["refresh_token"])
    assert refreshed.status_code == 200
    assert (await me(client, refreshed.json()["access_token"])).status_code == 200


# ---- revocation (sign-out) ---------------------------------------------------------------------


async def test_revoking_the_refresh_token_ends_the_session(client, world: World) -> None:
    session = await sign_in(client)
    rotated = (await refresh(client, session["refresh_token"])).json()
    other = await sign_in(client)
    r = await client.post(REVOKE, data={"token": rotated["refresh_token"]})
    assert r.status_code == 200 and r.content == b""
    for access in (session["access_token"], rotated["access_token"]):
        answer = await me(client, access)
        assert answer.status_code == 401 and answer.json()["code"] == "invalid_token"
    assert_invalid_grant(await refresh(client, rotated["refresh_token"]))
    assert (await me(client, other["access_token"])).status_code == 200
    # Revoking again changes nothing and is no error.
    assert (await client.post(REVOKE, data={"token": rotated["refresh_token"]})).status_code == 200


async def test_revoking_an_access_token_ends_its_session(client, world: World) -> None:
    session = await sign_in(client)
    r = await client.post(
        REVOKE, json={"token": session["access_token"], "token_type_hint": "access_token"}
    )
    assert r.status_code == 200 and r.content == b""
    assert (await me(client, session["access_token"])).status_code == 401
    assert_invalid_grant(await refresh(client, session["refresh_token"]))


async def test_a_session_marked_revoked_on_its_first_row_is_over(  # type: ignore[no-untyped-def]
    client, world: World, app
) -> None:
    """What a sign-out racing with a refresh leaves behind: the refresh's new row was not yet
    visible to the revoking statement, so only the older rows are marked. The first row decides
    for the whole session: its newest refresh token and its access tokens are refused."""
    session = await sign_in(client)
    current = (await refresh(client, session["refresh_token"])).json()
    sid = claims(current["access_token"])["sid"]
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(RefreshToken).where(RefreshToken.id == sid).values(revoked_at=utcnow())
        )
        await s.commit()
    assert (await me(client, current["access_token"])).status_code == 401
    assert_invalid_grant(await refresh(client, current["refresh_token"]))


async def test_an_expired_access_token_still_signs_its_session_out(client, world: World) -> None:
    session = await sign_in(client)
    now = int(time.time())
    expired = jwt.encode(
        {
            **claims(session["access_token"]),
            "iat": now - 7200,
            "exp": now - 3600,
        },
        world.settings.resolved_secret_key,
        algorithm="HS256",
    )
    assert (await me(client, expired)).status_code == 401  # expired: no use for anything else
    assert (await client.post(REVOKE, data={"token": expired})).status_code == 200
    assert (await me(client, session["access_token"])).status_code == 401
    assert_invalid_grant(await refresh(client, session["refresh_token"]))


@pytest.mark.parametrize(
    "token",
    [
        "never-issued-token",
        "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",  # a JWT, not ours
        "a" * 4096,
    ],
)
async def test_revoking_an_unknown_token_is_200(client, world: World, token: str) -> None:  # type: ignore[no-untyped-def]
    session = await sign_in(client)
    r = await client.post(REVOKE, data={"token": token, "token_type_hint": "refresh_token"})
    assert r.status_code == 200 and r.content == b""
    assert (await me(client, session["access_token"])).status_code == 200


async def test_only_a_malformed_revocation_is_an_error(client, world: World) -> None:
    missing = await client.post(REVOKE, data={"token_type_hint": "refresh_token"})
    assert missing.status_code == 422
    assert missing.json()["error"] == "invalid_request"
    assert [e["field"] for e in missing.json()["errors"]] == ["token"]
    hint = await client.post(REVOKE, json={"token": "x", "token_type_hint": "id_token"})
    assert hint.status_code == 422 and hint.json()["errors"][0]["field"] == "token_type_hint"
    extra = await client.post(REVOKE, json={"token": "x", "everything": True})
    assert extra.status_code == 200  # unknown parameters are ignored (RFC 6749 §3.2)
    twice = await client.post(
        REVOKE,
        content=b"token=a&token=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 422 and twice.json()["error"] == "invalid_request"
    assert (await client.post(REVOKE, data={"token": ""})).status_code == 422  # as if omitted
    broken = await client.post(
        REVOKE, content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["code"] == "malformed_body"
    assert broken.json()["error"] == "invalid_request"
    xml = await client.post(REVOKE, content=b"<x/>", headers={"Content-Type": "application/xml"})
    assert xml.status_code == 415
    # A public client's client_id is accepted (AppAuth sends it).
    ok = await client.post(REVOKE, data={"token": "x", "client_id": "anjian-mobile"})
    assert ok.status_code == 200


# ---- housekeeping and cost ---------------------------------------------------------------------


async def test_issuing_prunes_dead_rows_but_keeps_what_a_live_session_needs(  # type: ignore[no-untyped-def]
    client, world: World, app
) -> None:
    live = await sign_in(client)
    a1 = (await refresh(client, live["refresh_token"])).json()
    a2 = (await refresh(client, a1["refresh_token"])).json()
    dead = await sign_in(client)
    long_ago = utcnow() - timedelta(days=400)
    first, middle, current, dead_row = await rows(app, user_id=world["town_a_officer"])
    assert dead_row.family_id == claims(dead["access_token"])["sid"]
    async with app.state.sessionmaker() as s:
        await s.execute(
            update(RefreshToken)
            .where(RefreshToken.id.in_([first.id, middle.id, dead_row.id]))
            .values(expires_at=long_ago)
        )
        await s.commit()
    await sign_in(client)  # issuing prunes
    left = {r.id for r in await rows(app, user_id=world["town_a_officer"])}
    # The dead session and the live session's expired middle row are gone; the live session's
    # first row (which says whether it is revoked) and its current row stay.
    assert middle.id not in left and dead_row.id not in left
    assert {first.id, current.id} <= left and len(left) == 3
    # Revoking the live session still refuses its access tokens.
    assert (await client.post(REVOKE, data={"token": a2["refresh_token"]})).status_code == 200
    assert (await me(client, a2["access_token"])).status_code == 401


async def test_a_session_token_costs_no_extra_statement(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    """The revocation check is part of the one statement that loads the caller."""
    session = (await refresh(client, (await sign_in(client))["refresh_token"])).json()
    assert "sid" in claims(session["access_token"]) and "sid" not in claims(
        world.tokens["town_a_officer"]
    )
    url = f"/api/v1/enterprises/{world['ent_a1']}"
    counts = {}
    for name, access in (
        ("plain", world.tokens["town_a_officer"]),
        ("session", session["access_token"]),
    ):
        await client.get(url, headers={"Authorization": f"Bearer {access}"})  # warm
        with statements(app) as seen:
            r = await client.get(url, headers={"Authorization": f"Bearer {access}"})
        assert r.status_code == 200
        counts[name] = len(seen)
    assert counts["session"] == counts["plain"], counts
    app.state.principal_cache.clear()
    with statements(app) as seen:
        assert (await me(client, session["access_token"])).status_code == 200
    # /me: the caller's one statement, and /me's own unread count; nothing else
    assert len([s for s in seen if "FROM notifications" not in s]) == 1, seen
    assert len(seen) == 2, seen
    with statements(app) as seen:
        assert (await me(client, session["access_token"])).status_code == 200
    # then the worker's cache: no statement for the caller, only /me's unread count
    assert [s for s in seen if "FROM notifications" not in s] == [] and len(seen) == 1
    assert (await client.post(REVOKE, data={"token": session["access_token"]})).status_code == 200
    with statements(app) as seen:
        assert (await me(client, session["access_token"])).status_code == 401
    assert len(seen) == 1, seen


async def test_refresh_uses_only_the_requests_connection(client, world: World, app) -> None:  # type: ignore[no-untyped-def]
    """No second pooled connection inside a refresh: the pool's checked-out count stays at one
    while it runs."""
    session = await sign_in(client)
    pool = app.state.engine.sync_engine.pool
    peak = 0

    def checkout(dbapi_conn, record, proxy):  # type: ignore[no-untyped-def]
        nonlocal peak
        peak = max(peak, pool.checkedout())

    event.listen(pool, "checkout", checkout)
    try:
        assert (await refresh(client, session["refresh_token"])).status_code == 200
        assert_invalid_grant(await refresh(client, session["refresh_token"]))  # reuse path too
    finally:
        event.remove(pool, "checkout", checkout)
    assert peak == 1


async def test_tokens_never_outlive_the_configured_lifetimes(  # type: ignore[no-untyped-def]
    client, world: World, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world.settings, "token_lifetime_seconds", 600)
    monkeypatch.setattr(world.settings, "refresh_token_lifetime_seconds", 3600)
    session = await sign_in(client)
    assert session["expires_in"] == 600 and session["refresh_expires_in"] == 3600
    c = claims(session["access_token"])
    assert c["exp"] - c["iat"] == 600
    async with app.state.sessionmaker() as s:
        expires = (
            await s.execute(
                select(func.max(RefreshToken.expires_at)).where(
                    RefreshToken.user_id == world["town_a_officer"]
                )
            )
        ).scalar_one()
    assert timedelta(minutes=59) < expires - utcnow() <= timedelta(hours=1)


async def test_sign_outs_refreshes_and_reuse_of_one_user_at_once_never_fail(
    client, world: World, app
) -> None:  # type: ignore[no-untyped-def]
    """Many sessions of one person, long-lived (spent rows past their expiry, which a token
    refresh prunes), signed out, refreshed and replayed all at once. Marking every row of a
    family and pruning them with waiting locks deadlocked here on PostgreSQL (503, and a
    sign-out lost); now a sign-out marks one row and pruning skips rows others hold."""
    sessions = []
    for _ in range(6):
        first = await sign_in(client)
        spent = first["refresh_token"]
        current = (await refresh(client, spent)).json()
        sessions.append((spent, current))
    async with app.state.sessionmaker() as s:  # the spent rows lived long ago
        await s.execute(
            update(RefreshToken)
            .where(RefreshToken.used_at.is_not(None))
            .values(expires_at=utcnow() - timedelta(days=1))
        )
        await s.commit()
    calls = []
    for spent, current in sessions:
        calls += [
            client.post(REVOKE, data={"token": current["access_token"]}),
            refresh(client, current["refresh_token"]),
            refresh(client, spent),  # reuse: ends the session too
        ]
    answers = await asyncio.gather(*calls)
    assert all(r.status_code in (200, 400) for r in answers), [
        (r.status_code, r.text) for r in answers if r.status_code not in (200, 400)
    ]
    for _, current in sessions:  # every one of these sessions is over
        assert (await me(client, current["access_token"])).status_code == 401
