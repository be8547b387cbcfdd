"""Webhooks under attack and edge cases (issue 17 review): URL forms that reach an internal
address, names that resolve slowly or differently at delivery, internationalised names, a
subscription changed while its page of changes is being sent, an administrator editing a
client's subscription, and the secret never replayed for an Idempotency-Key."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from standardwebhooks.webhooks import WebhookVerificationError

from app.models import Job, WebhookSubscription
from app.models.base import utcnow
from app.services.job_queue import Worker
from app.services.webhooks import delivery
from tests.test_webhooks import (
    _client_with,
    _delivered_once,
    _paint,
    _until_delivered,
    _verified,
    local,
)
from tests.webhook_helpers import (
    WEBHOOKS,
    Received,
    Receiver,
    _free_port,
    deliver,
    receiver,
    subscribe,
)

__all__ = ["local"]  # the fixture, shared with tests/test_webhooks.py


@pytest.mark.parametrize(
    "url",
    [
        "https://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
        "https://[2002:a00:1::1]/hook",  # 6to4 of 10.0.0.1
        "https://93.184.215.14:0/hook",  # port 0: no port, yet sent to 443 with Host :0
        "https://93.184.215.14/\x7fhook",  # DEL, a control character
        "https://2130706433/hook",  # 127.0.0.1 in decimal
        "https://0x7f.1/hook",
        "https://0177.0.0.1/hook",
        "https://[::7f00:1]/hook",  # IPv4-compatible
        "https://[64:ff9b::a00:1]/hook",  # NAT64 of 10.0.0.1
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",  # Teredo
        "https://[fe80::1%25eth0]/hook",
    ],
)
async def test_internal_addresses_in_disguise_are_refused(client, world, url: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(WEBHOOKS, json={"url": url}, headers=world.h("admin"))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "webhook_url_refused"


def _fake_dns(
    monkeypatch: pytest.MonkeyPatch,
    answers: Callable[[str], str | None],
    delay: float = 0.0,
) -> list[str]:
    """The running loop resolves the names ``answers`` knows to its address (after ``delay``);
    the names asked, in order."""
    loop = asyncio.get_running_loop()
    real = loop.getaddrinfo
    asked: list[str] = []

    async def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        address = answers(name)
        if address is None:
            return await real(host, port, *args, **kwargs)
        asked.append(name)
        await asyncio.sleep(delay)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(loop, "getaddrinfo", getaddrinfo)
    return asked


async def test_an_internationalised_name_is_sent_as_its_ascii_form(  # type: ignore[no-untyped-def]
    client, world, local, monkeypatch
) -> None:
    """Before: the Host header carried 'café.test', httpx could not encode it, and the job
    failed without a logged attempt, again at every pump."""
    ascii_name = "xn--caf-dma.test"
    asked = _fake_dns(monkeypatch, lambda n: "127.0.0.1" if n == ascii_name else None)
    monkeypatch.setattr(local, "webhook_allowed_hosts", ("café.test",))  # as a person writes it
    async with receiver() as rx:
        sub = await subscribe(
            client, world, url=f"http://café.test:{rx.port}/hook", types=["enterprise"]
        )
        await _paint(client, world, "ent_a1", "red")
        await _until_delivered(client, local, rx, 1)
        assert rx.received[0].headers["host"] == f"{ascii_name}:{rx.port}"
        assert asked and set(asked) == {ascii_name}
        _verified(sub["secret"], rx.received[0])


async def test_a_name_rebound_to_an_internal_address_after_its_check_gets_nothing(  # type: ignore[no-untyped-def]
    client, world, local, monkeypatch
) -> None:
    monkeypatch.setattr(local, "webhook_allowed_hosts", ())
    now: dict[str, str] = {"rebind.test": "93.184.215.14"}
    _fake_dns(monkeypatch, now.get)
    async with receiver() as rx:
        sub = await subscribe(
            client, world, url=f"http://rebind.test:{rx.port}/hook", types=["enterprise"]
        )
        now["rebind.test"] = "127.0.0.1"  # the attacker's name server changes its answer
        await _paint(client, world, "ent_a1", "red")
        await deliver(client, local)
        assert rx.received == []
        log = (
            await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=world.h("admin"))
        ).json()["items"]
        assert log and all(e["outcome"] == "failed" and "127.0.0.1" in e["error"] for e in log)


async def test_a_slow_name_server_is_bounded_by_the_delivery_timeout(  # type: ignore[no-untyped-def]
    client, world, local, monkeypatch
) -> None:
    """Before: the name was resolved outside the timeout; the attempt waited for the name
    server, then sent."""
    _fake_dns(monkeypatch, lambda n: "127.0.0.1" if n == "slow.test" else None, delay=4)
    monkeypatch.setattr(local, "webhook_allowed_hosts", ("slow.test",))
    async with receiver() as rx:
        sub = await subscribe(
            client, world, url=f"http://slow.test:{rx.port}/hook", types=["enterprise"]
        )
        await _paint(client, world, "ent_a1", "red")
        await deliver(client, local, rounds=1)
        assert rx.received == []
        [entry] = (
            await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=world.h("admin"))
        ).json()["items"]
        assert entry["outcome"] == "failed" and "did not resolve in" in entry["error"]


@dataclass
class Hooked(Receiver):
    """A receiver that runs ``on_first`` (with the request still unanswered) on the first POST,
    and counts the requests it is answering at once."""

    on_first: Callable[[], Awaitable[None]] | None = None
    in_flight: int = 0
    most_in_flight: int = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.on_first is not None:
                hook, self.on_first = self.on_first, None
                await hook()
            await super().__call__(scope, receive, send)
        finally:
            self.in_flight -= 1


async def test_a_subscription_disabled_while_its_page_is_sent_gets_nothing_more(  # type: ignore[no-untyped-def]
    client, world, local
) -> None:
    """Before: the job sent the rest of the page it had read (up to 100 changes)."""
    rx = Hooked(port=_free_port())
    async with _serving(rx):
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
        url = f"{WEBHOOKS}/{sub['id']}"

        async def switch_off() -> None:
            r = await client.patch(url, json={"enabled": False}, headers=world.h("admin"))
            assert r.status_code == 200, r.text

        rx.on_first = switch_off
        for color in ("red", "orange", "yellow"):
            await _paint(client, world, "ent_a1", color)
        await deliver(client, local)
        assert len(rx.received) == 1, "only the change in flight when it was disabled"
        shown = (await client.get(url, headers=world.h("admin"))).json()
        assert shown["enabled"] is False

        r = await client.patch(url, json={"enabled": True}, headers=world.h("admin"))
        assert r.status_code == 200, r.text
        await _until_delivered(client, local, rx, 3)
        cursors = [_verified(sub["secret"], x)["data"]["cursor"] for x in rx.received]
        assert len(cursors) == len(set(cursors)) == 3, "the rest once each, after re-enabling"


async def test_a_secret_rotated_while_a_page_is_sent_signs_the_rest_of_it(  # type: ignore[no-untyped-def]
    client, world, local
) -> None:
    """A leaked secret rotated with no overlap signs nothing more. Before: the rest of the page
    was signed with the secrets read with it."""
    rx = Hooked(port=_free_port())
    rotated: dict[str, str] = {}
    async with _serving(rx):
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])

        async def rotate() -> None:
            r = await client.post(
                f"{WEBHOOKS}/{sub['id']}/rotate-secret",
                json={"overlap_seconds": 0},
                headers=world.h("admin"),
            )
            assert r.status_code == 200, r.text
            rotated["secret"] = r.json()["secret"]

        rx.on_first = rotate
        for color in ("red", "orange", "yellow"):
            await _paint(client, world, "ent_a1", color)
        await _until_delivered(client, local, rx, 3)
        _verified(sub["secret"], rx.received[0])  # signed before the rotation
        for later in rx.received[1:]:
            _verified(rotated["secret"], later)
            with pytest.raises(WebhookVerificationError):
                _verified(sub["secret"], later)


def _serving(rx: Receiver) -> Any:
    """``receiver()`` for a receiver built by the test (a subclass)."""
    import uvicorn

    @contextlib.asynccontextmanager
    async def run() -> Any:
        config = uvicorn.Config(
            rx, host="127.0.0.1", port=rx.port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        for _ in range(1000):
            if server.started:
                break
            await asyncio.sleep(0.01)
        try:
            yield rx
        finally:
            server.should_exit = True
            await task

    return run()


async def test_an_admin_may_not_give_a_client_s_subscription_a_type_the_client_cannot_read(  # type: ignore[no-untyped-def]
    client, world
) -> None:
    """Before: the types were checked against the admin's permissions; the client's feed then
    dropped them silently at every delivery."""
    h = await _client_with(
        client, world, "county", ["changes:read", "enterprises:read", "webhooks:manage"]
    )
    r = await client.post(WEBHOOKS, json={"url": "https://93.184.215.14/hook"}, headers=h)
    assert r.status_code == 201, r.text
    url = f"{WEBHOOKS}/{r.json()['id']}"
    wider = await client.patch(url, json={"types": ["hazard"]}, headers=world.h("admin"))
    assert wider.status_code == 422, wider.text
    assert wider.json()["code"] == "validation_error"
    same = await client.patch(url, json={"types": ["enterprise"]}, headers=world.h("admin"))
    assert same.status_code == 200, same.text
    assert (await client.get(url, headers=h)).json()["types"] == ["enterprise"]


async def test_a_rotated_secret_is_never_replayed_for_an_idempotency_key(client, world) -> None:  # type: ignore[no-untyped-def]
    sub = await subscribe(client, world, url="https://93.184.215.14/hook")
    h = world.h("admin", **{"Idempotency-Key": "rot-1"})
    path = f"{WEBHOOKS}/{sub['id']}/rotate-secret"
    first = await client.post(path, json={"overlap_seconds": 60}, headers=h)
    assert first.status_code == 200 and first.json()["secret"].startswith("whsec_")
    again = await client.post(path, json={"overlap_seconds": 60}, headers=h)
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "idempotency_not_replayable"
    assert "whsec_" not in again.text


async def test_a_run_whose_lease_was_taken_over_stops_sending(client, world, local) -> None:  # type: ignore[no-untyped-def]
    """A worker that lost its job's lease (stalled past it) while another claimed the job
    sends nothing more: one run at a time per subscription. Before: both runs carried the
    same job id, and the stalled one went on through its page."""
    maker = client._transport.app.state.sessionmaker
    rx = Hooked(port=_free_port())
    taken: list[Any] = []

    async def take_over() -> None:  # the first run stalls past its lease; another claims it
        async with maker() as s:
            await s.execute(
                update(Job)
                .where(Job.kind == delivery.KIND, Job.status == "running")
                .values(locked_until=utcnow() - timedelta(seconds=1))
            )
            await s.commit()
        other = Worker(maker, local, kinds=delivery.KINDS)
        taken.append((other, await other.claim()))

    async with _serving(rx):
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
        rx.on_first = take_over
        for color in ("red", "orange", "yellow"):
            await _paint(client, world, "ent_a1", color)
        await deliver(client, local)
        assert len(rx.received) == 1, "the stalled run stops after the change in flight"
        [(other, job)] = taken
        assert job is not None and job.kind == delivery.KIND
        outcome = await other.run(job)
        assert outcome.status == "succeeded", outcome
        cursors = [_verified(sub["secret"], x)["data"]["cursor"] for x in rx.received]
        assert len(set(cursors)) == 3, "every change delivered by the run that took over"
        assert cursors[0] == cursors[1], "the change in flight again, with the same webhook-id"
        assert rx.received[0].headers["webhook-id"] == rx.received[1].headers["webhook-id"]


async def test_redeliveries_never_overlap_another_attempt(client, world, local) -> None:  # type: ignore[no-untyped-def]
    """Three redeliveries asked at once, three workers: one attempt at a time per
    subscription. Before: all three were sent at once."""
    maker = client._transport.app.state.sessionmaker
    rx = Hooked(port=_free_port())
    async with _serving(rx):
        sub, entry = await _delivered_once(client, world, local, rx)
        rx.default, rx.hang_seconds = "hang", 0.3  # slow answers: the attempts would overlap
        path = f"{WEBHOOKS}/{sub['id']}/deliveries/{entry['id']}/redeliver"
        for _ in range(3):
            r = await client.post(path, headers=world.h("admin"))
            assert r.status_code == 202, r.text
        workers = [Worker(maker, local, kinds=delivery.KINDS) for _ in range(3)]
        await asyncio.gather(*(w.drain() for w in workers))
        assert rx.most_in_flight == 1
        assert len(rx.received) == 2, "one redelivery sent, the others wait their turn"
        async with maker() as s:  # their back-off over
            await s.execute(
                update(Job)
                .where(Job.kind == delivery.REDELIVERY_KIND, Job.status == "failed")
                .values(run_at=utcnow())
            )
            await s.commit()
        await workers[0].drain()  # one worker: one after the other, each sent
        assert rx.most_in_flight == 1 and len(rx.received) == 4
        log = (
            await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=world.h("admin"))
        ).json()["items"]
        assert sorted(e["attempt"] for e in log if e["manual"]) == [2, 3, 4]


async def test_a_redelivery_carries_nothing_the_owner_may_no_longer_read(  # type: ignore[no-untyped-def]
    client, world, local
) -> None:
    """Before: the redelivery rendered the object by scope alone, whatever the owner's
    permissions now (the feed itself drops the types the owner may not read)."""
    h = await _client_with(
        client, world, "county", ["changes:read", "enterprises:read", "webhooks:manage"]
    )
    async with receiver() as rx:
        r = await client.post(WEBHOOKS, json={"url": rx.url, "types": ["enterprise"]}, headers=h)
        assert r.status_code == 201, r.text
        sub = r.json()
        await _paint(client, world, "ent_a1", "red")
        await _until_delivered(client, local, rx, 1)
        [entry] = (await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=h)).json()[
            "items"
        ]
        r = await client.patch(
            f"/api/v1/clients/{h['x-client-id']}",
            json={"permissions": ["changes:read", "webhooks:manage"]},
            headers=world.h("admin"),
        )
        assert r.status_code == 200, r.text
        r = await client.post(
            f"{WEBHOOKS}/{sub['id']}/deliveries/{entry['id']}/redeliver",
            headers=world.h("admin"),
        )
        assert r.status_code == 202, r.text
        await deliver(client, local)
        assert len(rx.received) == 1, "nothing sent: the client may no longer read enterprises"


@dataclass
class Endless(Receiver):
    """Answers 200, then a body that does not end (for longer than the delivery timeout)."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        while (await receive()).get("more_body"):
            pass
        self.received.append(Received({}, b"", scope["path"]))
        self.answered.append(200)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        chunk = b"x" * 65536
        deadline = asyncio.get_running_loop().time() + 2.5
        with contextlib.suppress(Exception):  # the client hung up
            while asyncio.get_running_loop().time() < deadline:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await asyncio.sleep(0.005)
            await send({"type": "http.response.body", "body": b""})


async def test_an_endless_answer_is_not_read(client, world, local) -> None:  # type: ignore[no-untyped-def]
    """Only the status is read: an answer body that never ends neither holds the attempt past
    its timeout nor fills memory."""
    rx = Endless(port=_free_port())
    async with _serving(rx):
        sub = await subscribe(client, world, url=rx.url, types=["enterprise"])
        await _paint(client, world, "ent_a1", "red")
        await _until_delivered(client, local, rx, 1)
        log = (
            await client.get(f"{WEBHOOKS}/{sub['id']}/deliveries", headers=world.h("admin"))
        ).json()["items"]
        assert [(e["outcome"], e["status_code"], e["error"]) for e in log] == [
            ("succeeded", 200, None)
        ]


async def test_a_redelivery_whose_worker_died_mid_send_is_sent_on_its_next_attempt(  # type: ignore[no-untyped-def]
    client, world, local
) -> None:
    """Before: the claim its first attempt left counted as another delivery in flight, and it
    waited for itself until its attempts ran out."""
    maker = client._transport.app.state.sessionmaker
    async with receiver() as rx:
        sub, entry = await _delivered_once(client, world, local, rx)
        r = await client.post(
            f"{WEBHOOKS}/{sub['id']}/deliveries/{entry['id']}/redeliver", headers=world.h("admin")
        )
        job_id = r.json()["job_id"]
        async with maker() as s:  # its first attempt claimed the subscription, then its worker died
            await s.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == sub["id"])
                .values(dispatch_job_id=job_id)
            )
            await s.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status="running", attempts=1, locked_until=utcnow() - timedelta(seconds=1))
            )
            await s.commit()
        await Worker(maker, local, kinds=delivery.KINDS).drain()
        assert len(rx.received) == 2
        async with maker() as s:
            job = (await s.execute(select(Job.status).where(Job.id == job_id))).scalar_one()
            held = await s.scalar(
                select(WebhookSubscription.dispatch_job_id).where(
                    WebhookSubscription.id == sub["id"]
                )
            )
        assert job == "succeeded" and held is None
