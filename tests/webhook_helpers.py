"""A real local HTTP receiver for webhook tests, and the steps that run deliveries."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from app.services.job_queue import Worker
from app.services.webhooks import delivery
from tests.test_changes import settled

WEBHOOKS = "/api/v1/webhooks"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass
class Receiver:
    """Answers each POST with the next of ``script`` (a status, or ``"hang"`` to answer only
    after ``hang_seconds``), then with ``default``; records what it was sent."""

    port: int = 0
    script: list[Any] = field(default_factory=list)
    default: Any = 200
    hang_seconds: float = 5.0
    received: list[Received] = field(default_factory=list)
    answered: list[Any] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.received.append(Received(headers, body, scope["path"]))
        answer = self.script.pop(0) if self.script else self.default
        self.answered.append(answer)
        if answer == "hang":
            await asyncio.sleep(self.hang_seconds)
            answer = 200
        extra = [(b"location", b"http://127.0.0.1:9/elsewhere")] if 300 <= answer < 400 else []
        await send({"type": "http.response.start", "status": answer, "headers": extra})
        await send({"type": "http.response.body", "body": b"ok"})

    def succeeded(self) -> list[Received]:
        """What it answered 2xx (at once), in the order received."""
        return [r for r, a in zip(self.received, self.answered, strict=True) if a == 200]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def receiver(**kwargs: Any) -> AsyncIterator[Receiver]:
    r = Receiver(port=_free_port(), **kwargs)
    config = uvicorn.Config(r, host="127.0.0.1", port=r.port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # uvicorn says it started by a flag only
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield r
    finally:
        server.should_exit = True
        await task


async def deliver(client, settings, rounds: int = 50) -> None:  # type: ignore[no-untyped-def]
    """Runs the pump and the delivery workers until nothing is left to do now."""
    app = client._transport.app
    await settled(client)
    maker = app.state.sessionmaker
    for _ in range(rounds):
        started = await delivery.pump(maker, settings)
        ran = await Worker(maker, settings, kinds=delivery.KINDS).drain()
        if not started and not ran:
            return


async def subscribe(client, world, actor: str = "admin", **body: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A subscription starting after the world: the world's own change rows final first. On
    PostgreSQL a transaction elsewhere in the cluster can hold the feed's horizon back for a
    moment; a subscription made then starts before the world's rows, and is rightly sent them."""
    await settled(client)
    r = await client.post(WEBHOOKS, json=body, headers=world.h(actor))
    assert r.status_code == 201, r.text
    return dict(r.json())
