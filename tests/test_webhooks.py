"""Webhooks (issue 17): subscriptions, signed deliveries from the change feed to a real local
receiver, retries, ordering, SSRF refusals, disabling, rotation, scope and redelivery."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import func, select, update
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from app.models import Job, Notification, WebhookSubscription
from app.services.webhooks import delivery
from tests.test_changes import drain, head
from tests.webhook_helpers import WEBHOOKS, deliver, receiver, subscribe

ENTERPRISES = "/api/v1/enterprises"


@pytest.fixture
def local(settings, monkeypatch):  # type: ignore[no-untyped-def]
    """Development settings: http to the test's receiver on 127.0.0.1, quick retries."""
    monkeypatch.setattr(settings, "webhook_allow_http", True)
    monkeypatch.setattr(settings, "webhook_allowed_hosts", ("127.0.0.1",))
    monkeypatch.setattr(settings, "webhook_retry_base_seconds", 0.01)
    monkeypatch.setattr(settings, "webhook_retry_cap_seconds", 0.02)
    monkeypatch.setattr(settings, "webhook_timeout_seconds", 1.0)
    return settings


async def _paint(client, world, enterprise: str, color: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.patch(
        f"{ENTERPRISES}/{world[enterprise]}", json={"risk_color": color}, headers=world.h("admin")
    )
    assert r.status_code == 200, r.text


def _verified(secret: str, got: Any) -> dict[str, Any]:
    return dict(Webhook(secret).verify(got.body, got.headers))


async def _until_delivered(client, settings, rx, n: int) -> None:  # type: ignore[no-untyped-def]
    for _ in range(100):
        await deliver(client, settings)
        if len(rx.succeeded()) >= n:
            return
        await asyncio.sleep(0.03)  # a retry is due in a few ms
    raise AssertionError(f"{len(rx.succeeded())} of {n} delivered")


async def _delivered_once(client, world, local, rx) -> tuple[dict[str, Any], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """An admin's subscription to ``rx`` that delivered one change: it and its log entry."""
    sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
    await _paint(client, world, "ent_a1", "red")
    await _until_delivered(client, local, rx, 1)
    [entry] = (
        await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=world.h("admin"))
    ).json()["items"]
    return sub, entry


async def test_a_subscription_receives_each_change_signed_as_the_feed_lists_it(  # type: ignore[no-untyped-def]
    client, world, local
) -> None:
    async with receiver() as rx:
        start = await head(client, world)
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"], description="省平台")
        assert sub["secret"].startswith("whsec_")
        assert sub["enabled"] is True and sub["cursor"] == start
        shown = await client.get(f"{WEBHOOKS}/{sub['id']}", headers=world.h("admin"))
        assert shown.status_code == 200 and "secret" not in shown.json()
        assert shown.headers["etag"]

        await _paint(client, world, "ent_a1", "red")
        await _until_delivered(client, local, rx, 1)

        got = rx.received[0]
        payload = _verified(sub["secret"], got)
        items, _ = await drain(client, world, "admin", start)
        assert payload["type"] == "enterprise.upsert"
        assert payload["data"] == items[0], "the change as GET /changes lists it for the owner"
        assert payload["data"]["data"]["risk_color"] == "red"
        assert got.headers["webhook-id"] and got.headers["content-type"] == "application/json"
        assert got.path == "/hook"
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 43 + "=").verify(got.body, got.headers)

        log = await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=world.h("admin"))
        assert log.status_code == 200, log.text
        [entry] = log.json()["items"]
        assert entry["outcome"] == "succeeded" and entry["status_code"] == 200
        assert entry["attempt"] == 1 and entry["message_id"] == got.headers["webhook-id"]
        assert entry["latency_ms"] is not None and entry["type"] == "enterprise"
        after = (await client.get(f"{WEBHOOKS}/{sub['id']}", headers=world.h("admin"))).json()
        assert after["cursor"] == items[0]["cursor"] and after["last_success_at"]

        await deliver(client, local)
        assert len(rx.received) == 1, "nothing is sent twice"


async def test_failures_are_retried_in_order_with_the_same_message_id(  # type: ignore[no-untyped-def]
    client, world, local
) -> None:
    async with receiver(script=[500, "hang", 503], hang_seconds=3) as rx:
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
        for color in ("red", "orange", "yellow"):
            await _paint(client, world, "ent_a1", color)
        await _paint(client, world, "ent_b1", "blue")
        await _until_delivered(client, local, rx, 4)

        ids = [r.headers["webhook-id"] for r in rx.received]
        assert ids[0] == ids[1] == ids[2] == ids[3], "one change retried: its id kept"
        delivered = [_verified(sub["secret"], r)["data"] for r in rx.succeeded()]
        cursors = [d["cursor"] for d in delivered]
        assert len(set(cursors)) == 4, "each change once"
        assert cursors == sorted(cursors, key=lambda c: tuple(int(x) for x in c.split("-")))
        assert [d["id"] for d in delivered] == [world["ent_a1"]] * 3 + [world["ent_b1"]]

        log = (
            await client.get(
                f"{WEBHOOKS}/{sub['id']}/deliveries",
                params={"sort": "created_at", "limit": 50},
                headers=world.h("admin"),
            )
        ).json()["items"]
        first = [e for e in log if e["message_id"] == ids[0]]
        assert [(e["attempt"], e["outcome"]) for e in first] == [
            (1, "failed"),
            (2, "failed"),
            (3, "failed"),
            (4, "succeeded"),
        ]
        assert first[0]["status_code"] == 500 and first[0]["error"] == "HTTP 500"
        assert first[1]["status_code"] is None and "timed out" in first[1]["error"]
        after = (await client.get(f"{WEBHOOKS}/{sub['id']}", headers=world.h("admin"))).json()
        assert after["attempts"] == 0 and after["failing_since"] is None


async def test_redirects_are_not_followed(client, world, local) -> None:  # type: ignore[no-untyped-def]
    async with receiver(script=[302]) as rx:
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
        await _paint(client, world, "ent_a1", "red")
        await _until_delivered(client, local, rx, 1)
        log = (
            await client.get(
                f"{WEBHOOKS}/{sub['id']}/deliveries",
                params={"sort": "created_at"},
                headers=world.h("admin"),
            )
        ).json()["items"]
        assert log[0]["status_code"] == 302 and log[0]["error"] == "redirect not followed"
        assert all(r.path == "/hook" for r in rx.received)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.4/hook",
        "https://100.64.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "https://localhost/hook",
        "https://224.0.0.1/hook",
        "https://203.0.113.7/hook",
        "http://93.184.215.14/hook",
        "https://user:secret@example.com/hook",
        "ftp://example.com/hook",
        "https:///hook",
        "https://example.com/hook#frag",
    ],
)
async def test_unsafe_urls_are_refused(client, world, url: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(WEBHOOKS, json={"url": url}, headers=world.h("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("webhook_url_refused", "validation_error")
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_a_public_https_url_is_accepted_and_the_allow_list_admits_a_private_one(  # type: ignore[no-untyped-def]
    client, world, settings, monkeypatch
) -> None:
    r = await client.post(
        WEBHOOKS, json={"url": "https://93.184.215.14/anjian"}, headers=world.h("admin")
    )
    assert r.status_code == 201, r.text
    monkeypatch.setattr(settings, "webhook_allowed_hosts", ("10.20.0.0/16",))
    inside = await client.post(
        WEBHOOKS, json={"url": "https://10.20.3.4/hook"}, headers=world.h("admin")
    )
    assert inside.status_code == 201, inside.text
    outside = await client.post(
        WEBHOOKS, json={"url": "https://10.21.3.4/hook"}, headers=world.h("admin")
    )
    assert outside.status_code == 422


async def test_an_address_refused_at_delivery_is_a_failed_attempt_and_nothing_is_sent(  # type: ignore[no-untyped-def]
    client, world, local, monkeypatch
) -> None:
    async with receiver() as rx:
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
        monkeypatch.setattr(local, "webhook_allowed_hosts", ())  # the allow-list changed since
        await _paint(client, world, "ent_a1", "red")
        await deliver(client, local)
        assert rx.received == []
        log = (
            await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=world.h("admin"))
        ).json()["items"]
        assert log and log[0]["outcome"] == "failed" and log[0]["error"].startswith("not sent")


async def test_a_subscription_failing_past_the_period_is_disabled_and_its_owner_told(  # type: ignore[no-untyped-def]
    client, world, local, monkeypatch
) -> None:
    monkeypatch.setattr(local, "webhook_disable_after_seconds", 1)
    async with receiver(default=500) as rx:
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
        await _paint(client, world, "ent_a1", "red")
        await deliver(client, local)
        await asyncio.sleep(1.1)
        await deliver(client, local)
        got = await client.get(f"{WEBHOOKS}/{sub['id']}", headers=world.h("admin"))
        shown, etag = got.json(), got.headers["etag"]
        assert shown["enabled"] is False and shown["disabled_reason"] == "failing"
        told = await client.get(
            "/api/v1/notifications", params={"kind": "webhook_disabled"}, headers=world.h("admin")
        )
        assert told.status_code == 200 and len(told.json()["items"]) == 1
        assert told.json()["items"][0]["link"] == f"/api/v1/webhooks/{sub['id']}"
        tried = len(rx.received)
        await deliver(client, local)
        assert len(rx.received) == tried, "nothing is sent while disabled"

        rx.default = 200
        r = await client.patch(
            f"{WEBHOOKS}/{sub['id']}",
            json={"enabled": True},
            headers=world.h("admin", **{"If-Match": etag}),
        )
        assert r.status_code == 200, r.text
        assert r.json()["enabled"] is True and r.json()["disabled_reason"] is None
        await _until_delivered(client, local, rx, 1)
        payload = _verified(sub["secret"], rx.succeeded()[0])
        assert payload["data"]["id"] == world["ent_a1"], "it resumes with the change it missed"


async def test_a_rotated_secret_overlaps_then_only_the_new_one_signs(  # type: ignore[no-untyped-def]
    client, world, local
) -> None:
    async with receiver() as rx:
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
        r = await client.post(f"{WEBHOOKS}/{sub['id']}/rotate-secret", headers=world.h("admin"))
        assert r.status_code == 200, r.text
        new = r.json()["secret"]
        assert new != sub["secret"] and r.json()["previous_secret_expires_at"]
        await _paint(client, world, "ent_a1", "red")
        await _until_delivered(client, local, rx, 1)
        _verified(new, rx.received[-1])
        _verified(sub["secret"], rx.received[-1])  # the overlap: both sign

        r = await client.post(
            f"{WEBHOOKS}/{sub['id']}/rotate-secret",
            json={"overlap_seconds": 0},
            headers=world.h("admin"),
        )
        newest = r.json()["secret"]
        await _paint(client, world, "ent_a1", "blue")
        await _until_delivered(client, local, rx, 2)
        _verified(newest, rx.received[-1])
        with pytest.raises(WebhookVerificationError):
            _verified(new, rx.received[-1])


async def _client_with(client, world, unit: str, permissions: list[str]) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/clients",
        json={"name": "省交换", "org_unit_id": world[unit], "permissions": permissions},
        headers=world.h("admin"),
    )
    assert r.status_code == 201, r.text
    token = await client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": r.json()["client_id"],
            "client_secret": r.json()["client_secret"],
        },
    )
    assert token.status_code == 200, token.text
    return {
        "Authorization": f"Bearer {token.json()['access_token']}",
        "x-client-id": r.json()["id"],
    }


async def test_a_client_s_subscription_has_the_client_s_scope(client, world, local) -> None:  # type: ignore[no-untyped-def]
    h = await _client_with(
        client, world, "town_a", ["changes:read", "enterprises:read", "webhooks:manage"]
    )
    async with receiver() as rx:
        r = await client.post(WEBHOOKS, json={"url": rx.url}, headers=h)
        assert r.status_code == 201, r.text
        sub = r.json()
        assert sub["types"] == ["enterprise"], "by default, every type it may read"
        assert sub["owner"]["kind"] == "client"
        await _paint(client, world, "ent_b1", "red")  # town B: not the client's
        await _paint(client, world, "ent_a1", "red")
        r = await client.patch(
            f"{ENTERPRISES}/{world['ent_a2']}",
            json={"region_code": "341302100203"},  # moved to town B
            headers=world.h("admin"),
        )
        assert r.status_code == 200, r.text
        await _until_delivered(client, local, rx, 2)
        await deliver(client, local)
        got = [_verified(sub["secret"], x)["data"] for x in rx.received]
        assert [(g["id"], g["op"]) for g in got] == [
            (world["ent_a1"], "upsert"),
            (world["ent_a2"], "delete"),
        ]
        assert got[1]["data"] is None, "a delete reveals nothing of where it went"

        # Each sees only what it manages: the admin every subscription of its county.
        listed = await client.get(WEBHOOKS, headers=world.h("admin"))
        assert sub["id"] in [s["id"] for s in listed.json()["items"]]
        mine = await subscribe(client, world, url=rx.url, types=["hazard"])
        assert (await client.get(f"{WEBHOOKS}/{mine['id']}", headers=h)).status_code == 404
        assert [s["id"] for s in (await client.get(WEBHOOKS, headers=h)).json()["items"]] == [
            sub["id"]
        ]
        wider = await client.post(WEBHOOKS, json={"url": rx.url, "types": ["hazard"]}, headers=h)
        assert wider.status_code == 422, "a type it may not read"


@pytest.mark.parametrize(
    "actor",
    [
        "county_officer",
        "county_viewer",
        "town_a_manager",
        "town_a_officer",
        "bureau_e_manager",
        "ent_a1_manager",
        "ent_a1_staff",
        "machine",
    ],
)
async def test_only_admins_and_granted_clients_manage_webhooks(client, world, actor: str) -> None:  # type: ignore[no-untyped-def]
    sub = await subscribe(client, world, url="https://93.184.215.14/hook")
    h = world.h(actor)
    assert (await client.get(WEBHOOKS, headers=h)).status_code == 403
    assert (
        await client.post(WEBHOOKS, json={"url": "https://93.184.215.14/x"}, headers=h)
    ).status_code == 403
    for method, path in (
        ("GET", f"{WEBHOOKS}/{sub['id']}"),
        ("PATCH", f"{WEBHOOKS}/{sub['id']}"),
        ("DELETE", f"{WEBHOOKS}/{sub['id']}"),
        ("POST", f"{WEBHOOKS}/{sub['id']}/rotate-secret"),
        ("GET", f"{WEBHOOKS}/{sub['id']}/deliveries"),
    ):
        r = await client.request(method, path, json={} if method == "PATCH" else None, headers=h)
        assert r.status_code == 403, (method, path, r.text)
    assert (await client.get(WEBHOOKS)).status_code == 401


async def test_the_secret_is_never_replayed_for_an_idempotency_key(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.h("admin", **{"Idempotency-Key": "wh-1"})
    body = {"url": "https://93.184.215.14/hook"}
    assert (await client.post(WEBHOOKS, json=body, headers=h)).status_code == 201
    again = await client.post(WEBHOOKS, json=body, headers=h)
    assert again.status_code == 409 and again.json()["code"] == "idempotency_not_replayable"


async def test_one_delivery_job_per_subscription_however_many_pumps(  # type: ignore[no-untyped-def]
    client, world, local
) -> None:
    sub = await subscribe(client, world, url="https://93.184.215.14/hook", types=["enterprise"])
    await _paint(client, world, "ent_a1", "red")
    from tests.test_changes import settled

    await settled(client)
    maker = client._transport.app.state.sessionmaker
    started = await asyncio.gather(*(delivery.pump(maker, local) for _ in range(5)))
    assert sum(started) == 1
    assert await delivery.pump(maker, local) == 0, "its job is still queued"
    async with maker() as s:
        jobs = await s.scalar(
            select(func.count()).select_from(Job).where(Job.kind == delivery.KIND)
        )
        named = await s.scalar(
            select(WebhookSubscription.dispatch_job_id).where(WebhookSubscription.id == sub["id"])
        )
        assert jobs == 1 and named is not None
        # A job that ended without freeing the subscription (its worker died) is replaced.
        await s.execute(update(Job).where(Job.id == named).values(status="dead"))
        await s.commit()
    assert await delivery.pump(maker, local) == 1


async def test_a_logged_delivery_can_be_sent_again(client, world, local) -> None:  # type: ignore[no-untyped-def]
    async with receiver() as rx:
        sub, entry = await _delivered_once(client, world, local, rx)
        r = await client.post(
            f"{WEBHOOKS}/{sub['id']}/deliveries/{entry['id']}/redeliver", headers=world.h("admin")
        )
        assert r.status_code == 202, r.text
        assert r.json()["message_id"] == entry["message_id"]
        await deliver(client, local)
        assert len(rx.received) == 2
        assert rx.received[1].headers["webhook-id"] == entry["message_id"]
        assert _verified(sub["secret"], rx.received[1])["data"]["data"]["risk_color"] == "red"
        log = (
            await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=world.h("admin"))
        ).json()["items"]
        assert [(e["manual"], e["attempt"]) for e in log] == [(True, 2), (False, 1)]
        missing = await client.post(
            f"{WEBHOOKS}/{sub['id']}/deliveries/nope/redeliver", headers=world.h("admin")
        )
        assert missing.status_code == 404


async def test_a_deleted_or_disabled_subscription_receives_nothing(client, world, local) -> None:  # type: ignore[no-untyped-def]
    async with receiver() as rx:
        gone = await subscribe(client, world, url=rx.url, types=["enterprise"])
        off = await subscribe(client, world, url=rx.url, types=["enterprise"], enabled=False)
        assert off["enabled"] is False and off["disabled_reason"] is None
        r = await client.delete(f"{WEBHOOKS}/{gone['id']}", headers=world.h("admin"))
        assert r.status_code == 204
        assert (
            await client.get(f"{WEBHOOKS}/{gone['id']}", headers=world.h("admin"))
        ).status_code == 404
        await _paint(client, world, "ent_a1", "red")
        await deliver(client, local)
        assert rx.received == []


async def test_a_deactivated_owner_s_subscription_is_disabled(client, world, local) -> None:  # type: ignore[no-untyped-def]
    h = await _client_with(
        client, world, "county", ["changes:read", "enterprises:read", "webhooks:manage"]
    )
    async with receiver() as rx:
        r = await client.post(WEBHOOKS, json={"url": rx.url}, headers=h)
        sub = r.json()
        r = await client.patch(
            f"/api/v1/clients/{h['x-client-id']}",
            json={"is_active": False},
            headers=world.h("admin"),
        )
        assert r.status_code == 200, r.text
        await _paint(client, world, "ent_a1", "red")
        await deliver(client, local)
        assert rx.received == []
        shown = (await client.get(f"{WEBHOOKS}/{sub['id']}", headers=world.h("admin"))).json()
        assert shown["enabled"] is False and shown["disabled_reason"] == "owner_unavailable"
        maker = client._transport.app.state.sessionmaker
        async with maker() as s:
            told = await s.scalar(
                select(func.count()).where(Notification.kind == "webhook_disabled")
            )
        assert told == 1, "the county's administrator is told"


async def test_bad_bodies_are_422(client, world) -> None:  # type: ignore[no-untyped-def]
    for body in (
        {},
        {"url": "https://93.184.215.14/x", "types": []},
        {"url": "https://93.184.215.14/x", "types": ["hazard", "hazard"]},
        {"url": "https://93.184.215.14/x", "types": ["alien"]},
        {"url": "https://93.184.215.14/x", "secret": "mine"},
        {"url": 5},
        {"url": "https://93.184.215.14/" + "x" * 2100},
    ):
        r = await client.post(WEBHOOKS, json=body, headers=world.h("admin"))
        assert r.status_code == 422, (body, r.text)
    sub = await subscribe(client, world, url="https://93.184.215.14/hook")
    for body in ({"enabled": None}, {"url": None}, {"types": None}, {"enabled": "yes"}):
        r = await client.patch(f"{WEBHOOKS}/{sub['id']}", json=body, headers=world.h("admin"))
        assert r.status_code == 422, (body, r.text)
    stale = await client.patch(
        f"{WEBHOOKS}/{sub['id']}",
        json={"description": "x"},
        headers=world.h("admin", **{"If-Match": '"v999"'}),
    )
    assert stale.status_code == 412
    assert (
        json.loads((await client.get(f"{WEBHOOKS}/{sub['id']}", headers=world.h("admin"))).text)[
            "description"
        ]
        == ""
    )


async def test_housekeeping_forgets_old_delivery_jobs_and_log_entries(  # type: ignore[no-untyped-def]
    client, world, local
) -> None:
    from datetime import timedelta

    from app.models import WebhookDelivery
    from app.models.base import utcnow
    from app.services.jobs import housekeeping

    async with receiver() as rx:
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
        await _paint(client, world, "ent_a1", "red")
        await _until_delivered(client, local, rx, 1)
    maker = client._transport.app.state.sessionmaker
    async with maker() as s:
        await s.execute(
            update(Job)
            .where(Job.kind == delivery.KIND)
            .values(finished_at=utcnow() - timedelta(days=2))
        )
        await s.execute(update(WebhookDelivery).values(created_at=utcnow() - timedelta(days=31)))
        await s.commit()
        done = await housekeeping(s, local)
        await s.commit()
        assert done["webhook_deliveries"] == 1 and done["jobs"] >= 1
        assert await s.scalar(select(func.count()).where(Job.kind == delivery.KIND)) == 0
    log = await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=world.h("admin"))
    assert log.json()["items"] == []


async def test_a_subscription_whose_changes_expired_cannot_resume(client, world, local) -> None:  # type: ignore[no-untyped-def]
    from app.models import ChangeHorizon

    sub = await subscribe(client, world, url="https://93.184.215.14/hook", types=["enterprise"])
    off = await client.patch(
        f"{WEBHOOKS}/{sub['id']}", json={"enabled": False}, headers=world.h("admin")
    )
    assert off.status_code == 200, off.text
    xid, seq = (int(x) for x in sub["cursor"].split("-"))
    maker = client._transport.app.state.sessionmaker
    async with maker() as s:  # retention deleted what it had not delivered
        await s.merge(ChangeHorizon(id=1, xid=xid, seq=seq + 5))
        await s.commit()
    r = await client.patch(
        f"{WEBHOOKS}/{sub['id']}", json={"enabled": True}, headers=world.h("admin")
    )
    assert r.status_code == 410 and r.json()["code"] == "cursor_expired", r.text
    shown = await client.get(f"{WEBHOOKS}/{sub['id']}", headers=world.h("admin"))
    assert shown.json()["enabled"] is False, "nothing written"


async def test_a_deactivated_admin_s_subscription_is_disabled_and_the_other_admins_told(  # type: ignore[no-untyped-def]
    client, world, local, password_hash
) -> None:
    from app.auth.tokens import issue_token
    from app.models import User

    maker = client._transport.app.state.sessionmaker
    async with maker() as s:
        owner = User(
            username="second_admin",
            password_hash=password_hash,
            display_name="second_admin",
            role="admin",
            org_unit_id=world["county"],
            is_active=True,
        )
        s.add(owner)
        await s.commit()
        owner_id = owner.id
    h = {"Authorization": f"Bearer {issue_token(local, owner_id, 'user')[0]}"}
    async with receiver() as rx:
        r = await client.post(WEBHOOKS, json={"url": rx.url, "types": ["enterprise"]}, headers=h)
        assert r.status_code == 201, r.text
        sub = r.json()
        off = await client.patch(
            f"/api/v1/users/{owner_id}", json={"is_active": False}, headers=world.h("admin")
        )
        assert off.status_code == 200, off.text
        await _paint(client, world, "ent_a1", "red")
        await deliver(client, local)
        assert rx.received == []
    shown = (await client.get(f"{WEBHOOKS}/{sub['id']}", headers=world.h("admin"))).json()
    assert shown["disabled_reason"] == "owner_unavailable"
    told = await client.get(
        "/api/v1/notifications", params={"kind": "webhook_disabled"}, headers=world.h("admin")
    )
    assert len(told.json()["items"]) == 1, "an active administrator of the county is told"
