"""The HTTP server: uvicorn, with a deadline for request headers and a bound on connections.

uvicorn bounds idle keep-alive connections but not a client that opens a connection and sends
its headers slowly (or never): such connections were held for minutes, hundreds at a time. The
protocol below closes a connection whose request headers are not complete within
``ANJIAN_HEADER_READ_TIMEOUT_SECONDS`` of its first byte (or of the connection, for the first
request), answering 408. Bodies have their own deadline in ``BodyLimitMiddleware``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.core.config import Settings, get_settings
from app.core.logging import logging_config

_TIMEOUT_BODY = json.dumps(
    {
        "type": "/problems/request_timeout",
        "title": "Request timeout",
        "status": 408,
        "detail": "The request headers were not received in time",
        "instance": "",
        "code": "request_timeout",
    }
).encode()
_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/problem+json\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _TIMEOUT_BODY
)


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """httptools' protocol, closing connections whose request headers do not arrive in time."""

    header_timeout: float | None = None  # None: from the settings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None
        if self.header_timeout is None:
            self.header_timeout = float(get_settings().header_read_timeout_seconds)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            assert self.header_timeout is not None
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.write(_TIMEOUT_RESPONSE)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._disarm_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What the service asks of uvicorn, shared by `anjian serve` and the tests."""
    return {
        "http": HeaderTimeoutProtocol,
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        # Beyond this many connections (per worker) uvicorn answers 503 at once.
        "limit_concurrency": settings.max_connections,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
    }


def serve(host: str, port: int, workers: int) -> None:
    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        log_config=logging_config(settings.log_json),
        access_log=False,  # the service writes its own line per request (app/core/middleware.py)
        **uvicorn_options(settings),
    )
