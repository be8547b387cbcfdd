"""Where a webhook may be sent (SSRF): ``https`` only (``http`` with ``ANJIAN_WEBHOOK_ALLOW_HTTP``
in development), no credentials in the URL, and never to a private, loopback, link-local,
multicast or reserved address unless ``ANJIAN_WEBHOOK_ALLOWED_HOSTS`` names the host or a
network holding the address.

The host is checked when a subscription is saved (an address, or the addresses its name
resolves to now) and again at every delivery: the name is resolved, every address checked, and
the request sent to a checked address (``Host`` and TLS server name kept), so a name that
changes its address between the check and the request (DNS rebinding) reaches nothing else.
Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core.config import Settings
from app.core.errors import ValidationFailed

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_CHARS = 2000
RESOLVE_SECONDS = 3.0  # a save waits this long for the name to resolve, then accepts it


class UnsafeDestination(Exception):
    """The URL may not be called (the reason is in English, for the delivery log)."""


class Unresolved(UnsafeDestination):
    """The host name does not resolve (now): nothing is sent."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # as written (lower case), no brackets
    port: int
    path: str  # with the query
    netloc: str  # the Host header: the host as written, and its port when the URL names one


def refused(zh: str, en: str) -> ValidationFailed:
    return ValidationFailed.field("url", zh, en, code="webhook_url_refused")


def parse(settings: Settings, url: str) -> Target:
    """The URL's parts, or 422 ``webhook_url_refused``: its form (scheme, credentials, host)."""
    if len(url) > MAX_URL_CHARS or any(
        ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url
    ):
        raise refused("URL 格式无效", "The URL is malformed")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise refused("URL 格式无效", "The URL is malformed") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise refused("URL 须为 https:// 地址", "The URL must be an https:// address")
    if scheme == "http" and not settings.webhook_allow_http:
        raise refused(
            "URL 须使用 https（仅开发环境可用 http）",
            "The URL must use https (http only in development: ANJIAN_WEBHOOK_ALLOW_HTTP)",
        )
    if parts.username is not None or parts.password is not None:
        raise refused("URL 不得包含用户名或密码", "The URL may not carry a user name or password")
    if parts.fragment:
        raise refused("URL 不得包含 # 片段", "The URL may not carry a #fragment")
    if port == 0:
        raise refused("URL 端口无效", "The URL's port is invalid")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = _ascii(parts.hostname.lower())
    written = f"[{host}]" if ":" in host else host
    netloc = written if port is None else f"{written}:{port}"
    default = 443 if scheme == "https" else 80
    return Target(url, scheme, host, port or default, path, netloc)


def _ascii(host: str) -> str:
    """An internationalised name as it is resolved and sent (``Host``, TLS server name): its
    IDNA form, the only one a request header can carry."""
    ascii_host = _idna(host)
    if ascii_host is None:
        raise refused("URL 主机名无效", "The URL's host name is invalid")
    return ascii_host


def _idna(host: str) -> str | None:
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _unwrapped(address: Address) -> Address:
    """An IPv4 address carried in IPv6 (``::ffff:10.0.0.1``, 6to4 aside) is judged as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 one routes to through a relay: 6to4 (``2002:7f00:1::``
    reaches 127.0.0.1's relay) and Teredo's client. They must pass too."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [address.sixtofour] if address.sixtofour is not None else []
    if address.teredo is not None:
        found.append(address.teredo[1])
    return found


def _allowed(settings: Settings, host: str, address: Address | None) -> bool:
    for entry in settings.webhook_allowed_hosts:
        if entry == host or (not entry.isascii() and _idna(entry) == host):
            return True
        if address is None:
            continue
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue  # a host name, compared above
    return False


def check_address(settings: Settings, host: str, address: Address) -> None:
    address = _unwrapped(address)
    if _allowed(settings, host, address):
        return
    for judged in (address, *_embedded(address)):
        if not judged.is_global or judged.is_multicast or judged.is_reserved:
            raise UnsafeDestination(
                f"{host} resolves to {address}, a private, loopback, link-local or reserved "
                "address (name it in ANJIAN_WEBHOOK_ALLOWED_HOSTS to allow it)"
            )


async def resolve(settings: Settings, target: Target) -> list[Address]:
    """The checked addresses to send to; ``UnsafeDestination`` when any is refused or the name
    does not resolve. An allowed host name is sent to whatever it resolves to."""
    literal = _literal(target.host)
    if literal is not None:
        check_address(settings, target.host, literal)
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            target.host, target.port, type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError) as exc:
        raise Unresolved(f"{target.host} does not resolve: {exc}") from exc
    addresses: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unresolved(f"{target.host} has no address")
    for address in addresses:
        check_address(settings, target.host, address)
    return addresses


async def validate(settings: Settings, url: str) -> str:
    """A subscription's URL as saved, or 422 ``webhook_url_refused``. A name that does not
    resolve yet is accepted (every delivery checks it again); one that resolves to a refused
    address is not."""
    target = parse(settings, url)
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            await resolve(settings, target)
    except (Unresolved, TimeoutError):
        return url
    except UnsafeDestination as exc:
        raise refused(
            "不得向内网、本机或链路本地地址发送（可在 ANJIAN_WEBHOOK_ALLOWED_HOSTS 中列明）",
            f"Refused: {exc}",
        ) from exc
    return url
