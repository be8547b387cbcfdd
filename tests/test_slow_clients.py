"""Slow clients cannot hold the service (issue 8, item 10): request headers and bodies have
deadlines (408), and connections are bounded. Through a real uvicorn on a socket."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from app.server import HeaderTimeoutProtocol, uvicorn_options
from tests.servers import serving


class QuickHeaderTimeout(HeaderTimeoutProtocol):
    header_timeout = 0.5


@pytest.fixture
def quick(settings, app):  # type: ignore[no-untyped-def]
    """The app with short deadlines, served as `anjian serve` serves it."""
    options = {**uvicorn_options(settings), "http": QuickHeaderTimeout}
    old = (settings.body_read_timeout_seconds, settings.upload_read_timeout_seconds)
    settings.body_read_timeout_seconds = 1.0
    settings.upload_read_timeout_seconds = 1.5
    yield options
    settings.body_read_timeout_seconds, settings.upload_read_timeout_seconds = old


async def _read_all(reader: asyncio.StreamReader, wait: float) -> bytes:
    chunks = []
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), wait):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)


async def _trickle(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, body: bytes
) -> tuple[bytes, float]:
    """Sends ``body`` one byte at a time until the server answers; the answer and the time."""
    started = time.monotonic()
    answer = b""
    for byte in body:
        writer.write(bytes([byte]))
        try:
            await writer.drain()
        except ConnectionError:
            break
        answer = await _read_all(reader, 0.2)
        if answer:
            break
    elapsed = time.monotonic() - started
    writer.close()
    return answer, elapsed


async def test_headers_that_never_finish_are_closed_with_408(app, quick) -> None:  # type: ignore[no-untyped-def]
    async with serving(app, **quick) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = time.monotonic()
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        await writer.drain()
        answer = await _read_all(reader, 5)
        elapsed = time.monotonic() - started
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
        assert b"request_timeout" in answer
        assert elapsed < 3


async def test_a_connection_that_sends_nothing_is_closed(app, quick) -> None:  # type: ignore[no-untyped-def]
    async with serving(app, **quick) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        answer = await _read_all(reader, 5)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408")


async def test_many_idle_connections_do_not_stay_open(app, quick) -> None:  # type: ignore[no-untyped-def]
    async with serving(app, **quick) as base:
        port = int(base.rsplit(":", 1)[1])
        conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(100)]
        for _, w in conns:
            w.write(b"GET / HTTP/1.1\r\n")
        await asyncio.sleep(1.5)
        closed = 0
        for r, w in conns:
            if await _read_all(r, 0.5) or r.at_eof():
                closed += 1
            w.close()
        assert closed == 100
        # And the service still answers.
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/healthz")).status_code == 200


async def test_a_body_trickled_slowly_is_408(app, quick, world) -> None:  # type: ignore[no-untyped-def]
    async with serving(app, **quick) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        body = b'{"name": "' + b"x" * 40 + b'"}'
        writer.write(
            b"POST /api/v1/enterprises HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + world.tokens["admin"].encode() + b"\r\n"
            b"Content-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
        )
        await writer.drain()
        answer, elapsed = await _trickle(reader, writer, body)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"request_timeout" in answer
        assert b"connection: close" in answer.lower()
        assert elapsed < 4


async def test_a_prompt_body_is_not_affected(app, quick, world) -> None:  # type: ignore[no-untyped-def]
    async with serving(app, **quick) as base, httpx.AsyncClient(base_url=base) as client:
        r = await client.post("/api/v1/enterprises", json={"name": "x"}, headers=world.h("admin"))
        assert r.status_code == 422  # validated, not timed out


async def test_connections_beyond_the_bound_are_answered_503(app, quick) -> None:  # type: ignore[no-untyped-def]
    async with serving(app, **{**quick, "limit_concurrency": 3}) as base:
        port = int(base.rsplit(":", 1)[1])
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        for _, w in held:
            w.write(b"GET /healthz HTTP/1.1\r\n")  # headers unfinished: the connection is held
        await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = await _read_all(reader, 0.3)
        writer.close()
        for _, w in held:
            w.close()
        assert answer.startswith(b"HTTP/1.1 503"), answer[:80]


async def test_an_upload_trickled_without_signing_in_is_cut_off_like_any_body(  # type: ignore[no-untyped-def]
    app, quick, settings
) -> None:
    """Uploads may take longer only by sending: a trickle to the upload path is answered 408
    after the ordinary body deadline, not after the (much longer) upload one."""
    settings.upload_read_timeout_seconds = 30.0
    async with serving(app, **quick) as base:
        port = int(base.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            b"POST /api/v1/attachments HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 100000\r\n\r\n--b\r\n"
        )
        await writer.drain()
        answer, elapsed = await _trickle(reader, writer, b"x" * 40)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert elapsed < 4
