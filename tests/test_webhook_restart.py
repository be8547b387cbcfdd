"""No webhook delivery is lost across a server restart in the middle of a burst (issue 17), with
real processes: `anjian serve` A, its scheduler on (the pump and its webhook workers), sends a
subscription's changes to a receiver in this process while 200 enterprise PATCHes are made
through its API; the receiver holds one delivery unanswered and A is killed with SIGKILL while
that POST is in flight. Server B, started on the same database, takes the subscription's job
again once its lease has run out (``ANJIAN_JOB_LEASE_SECONDS``, short here), the remaining
PATCHes are made through it, and the receiver ends with every change the feed lists for the
owner after the subscription's start, in feed order once repeats are dropped, every signature
good, and the only repeat the change that was in flight at the kill, with its ``webhook-id``."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.test_changes import drain, settled
from tests.test_import_restart import _servers, _tail, _up
from tests.webhook_helpers import WEBHOOKS

CHANGES = 200
ON_A = 100  # PATCHes made through server A; the rest through B, after the restart
FIRST = 12  # then the rest of A's once deliveries have begun
HELD = 40  # the receiver holds this delivery (1-based) unanswered: in flight at the kill
COLORS = ("red", "orange", "yellow", "blue")
ENTERPRISES = ("ent_a1", "ent_a2", "ent_b1", "ent_b2")


@dataclass
class Got:
    webhook_id: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A plain threaded HTTP server: records each POST before answering it 200, and keeps
    delivery number ``HELD`` unanswered until ``release`` (its sender is killed meanwhile)."""

    got: list[Got] = field(default_factory=list)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def record(self, headers: dict[str, str], body: bytes) -> None:
        with self.lock:
            self.got.append(Got(headers.get("webhook-id", ""), headers, body))
            number = len(self.got)
        if number == HELD:
            self.held.set()
            self.release.wait(60)

    def count(self) -> int:
        with self.lock:
            return len(self.got)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            rx.record({k.lower(): v for k, v in self.headers.items()}, body)
            try:
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:  # the held one: its sender is dead
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rx.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rx
    finally:
        rx.release.set()
        server.shutdown()
        server.server_close()


async def _burst(c: httpx.AsyncClient, world: Any, numbers: range) -> None:
    """Changes ``numbers`` of the burst, each enterprise's in turn on a lane of its own (four
    PATCHes at a time, none racing another on one row): each a colour the enterprise does not
    have (the world's are yellow, orange, red and blue: each starts one colour on from its
    own)."""

    async def lane(which: int) -> None:
        enterprise = world[ENTERPRISES[which]]
        for n in numbers:
            if n % len(ENTERPRISES) != which:
                continue
            color = COLORS[(n // len(ENTERPRISES) + 3 - which) % len(COLORS)]
            r = await c.patch(f"/api/v1/enterprises/{enterprise}", json={"risk_color": color})
            assert r.status_code == 200, r.text

    await asyncio.gather(*(lane(which) for which in range(len(ENTERPRISES))))


async def _wait(what: Any, seconds: float, why: Any) -> None:
    deadline = time.monotonic() + seconds
    while not what():
        assert time.monotonic() < deadline, why()
        await asyncio.sleep(0.05)


def _cursor_key(cursor: str) -> tuple[int, ...]:
    return tuple(int(x) for x in cursor.split("-"))


async def test_a_burst_is_delivered_whole_across_a_server_killed_mid_delivery(  # type: ignore[no-untyped-def]
    app, client, world, receiver: Receiver, tmp_path: Path, monkeypatch
) -> None:
    for name, value in {
        "ANJIAN_WEBHOOK_ALLOW_HTTP": "true",
        "ANJIAN_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "ANJIAN_WEBHOOK_TIMEOUT_SECONDS": "30",  # the held POST is never timed out
        "ANJIAN_WEBHOOK_RETRY_BASE_SECONDS": "0.05",
        "ANJIAN_WEBHOOK_RETRY_CAP_SECONDS": "0.2",
        "ANJIAN_WEBHOOK_POLL_SECONDS": "0.2",
    }.items():
        monkeypatch.setenv(name, value)
    headers = world.h("admin")
    with _servers(world.settings, tmp_path) as start:  # leases of a few seconds there
        first, base, log = start()
        await _up(base, first, log)
        await settled(client)  # the world's change rows final: the subscription starts after
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
            r = await c.post(WEBHOOKS, json={"url": receiver.url, "types": ["enterprise"]})
            assert r.status_code == 201, r.text
            sub = r.json()
            await _burst(c, world, range(FIRST))
            # Its scheduler starts 1-5 s after the server: the rest of A's burst goes on while
            # deliveries do.
            await _wait(lambda: receiver.count() > 0, 60, lambda: _tail(log))
            await _burst(c, world, range(FIRST, ON_A))

        # Delivery HELD is in flight (sent, unanswered): A dies at once, its job still leased.
        await _wait(receiver.held.is_set, 60, lambda: (receiver.count(), _tail(log)))
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        receiver.release.set()
        at_kill = receiver.count()
        in_flight = receiver.got[HELD - 1].webhook_id

        second, base, log = start()
        await _up(base, second, log)
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
            await _burst(c, world, range(ON_A, CHANGES))

        # Everything the feed lists for the owner after the subscription's start, then quiet.
        listed, _ = await drain(client, world, "admin", sub["cursor"], types="enterprise")
        assert len(listed) == CHANGES, "one change per PATCH"
        wanted = {i["cursor"] for i in listed}

        def delivered() -> set[str]:
            with receiver.lock:
                return {json.loads(g.body)["data"]["cursor"] for g in receiver.got}

        await _wait(
            lambda: delivered() >= wanted,
            60,
            lambda: (len(wanted - delivered()), receiver.count(), _tail(log)),
        )
        await asyncio.sleep(1)  # nothing more comes
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as c:
            shown = (await c.get(f"{WEBHOOKS}/{sub['id']}")).json()
            logged: list[dict[str, Any]] = []
            params: dict[str, Any] = {"limit": 500}
            while True:
                r = await c.get(f"{WEBHOOKS}/{sub['id']}/deliveries", params=params)
                assert r.status_code == 200, r.text
                logged += r.json()["items"]
                if not r.json()["next_cursor"]:
                    break
                params["cursor"] = r.json()["next_cursor"]

    assert at_kill == HELD < ON_A, "the kill landed mid-burst, one POST in flight"
    webhook = Webhook(sub["secret"])
    seen: dict[str, Any] = {}
    order: list[dict[str, Any]] = []
    repeats: list[str] = []
    for g in receiver.got:
        payload = webhook.verify(g.body, g.headers)  # raises unless the signature is good
        if g.webhook_id in seen:
            assert payload["data"]["cursor"] == seen[g.webhook_id]["data"]["cursor"]
            repeats.append(g.webhook_id)
            continue
        seen[g.webhook_id] = payload
        order.append(payload)
    assert [p["data"]["cursor"] for p in order] == [i["cursor"] for i in listed], "feed order"
    assert [(p["data"]["type"], p["data"]["id"], p["data"]["op"]) for p in order] == [
        (i["type"], i["id"], i["op"]) for i in listed
    ]
    assert all(p["type"] == "enterprise.upsert" for p in order)
    assert repeats == [in_flight], "only the change in flight at the kill came twice"
    assert len({p["data"]["cursor"] for p in order}) == len(order) == CHANGES
    assert _cursor_key(shown["cursor"]) >= _cursor_key(listed[-1]["cursor"]), "caught up"
    assert shown["enabled"] is True and shown["attempts"] == 0
    # The log: one succeeded attempt per change; the one A sent and never heard back from is
    # not in it (its commit never came), B's send of it is its first attempt.
    assert sorted(e["cursor"] for e in logged) == sorted(wanted)
    assert {(e["outcome"], e["attempt"]) for e in logged} == {("succeeded", 1)}
