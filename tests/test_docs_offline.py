"""`/docs` and `/redoc` work without internet: every asset they reference is served by the
service itself and nothing points at another host (issue 9, item 2)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

BASE = "http://test"
EXPECTED_TYPES = {
    "script": ("javascript",),
    "stylesheet": ("text/css",),
    "icon": ("image/",),
}


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []  # (kind, url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and a.get("src"):
            self.refs.append(("script", a["src"]))
        elif tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower()
            self.refs.append(("icon" if "icon" in rel else "stylesheet", a["href"]))


@pytest.mark.parametrize(
    ("page", "kinds"),
    [
        ("/docs", {"script", "stylesheet", "icon"}),
        ("/redoc", {"script", "icon"}),
    ],
)
async def test_docs_page_and_every_asset_come_from_the_service(client, page, kinds) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text

    # No URL to any other host anywhere in the page (CDN scripts, Google fonts, favicons).
    for url in re.findall(r"https?://[^\s\"'<>)]+", html):
        assert urlsplit(url).netloc == urlsplit(BASE).netloc, f"{page} references {url}"

    parser = _Assets()
    parser.feed(html)
    assert {kind for kind, _ in parser.refs} >= kinds, parser.refs
    for kind, ref in parser.refs:
        url = urljoin(BASE + page, ref)
        assert urlsplit(url).netloc == urlsplit(BASE).netloc, f"{page} references {ref}"
        asset = await client.get(url)
        assert asset.status_code == 200, f"{ref}: {asset.status_code}"
        content_type = asset.headers["content-type"]
        assert any(t in content_type for t in EXPECTED_TYPES[kind]), f"{ref}: {content_type}"
        assert len(asset.content) > 1000, ref


async def test_swagger_ui_points_at_the_schema_and_oauth2_redirect(client) -> None:  # type: ignore[no-untyped-def]
    html = (await client.get("/docs")).text
    assert "/openapi.json" in html
    assert "/docs/oauth2-redirect" in html
    assert (await client.get("/openapi.json")).status_code == 200
    r = await client.get("/docs/oauth2-redirect")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")


async def test_docs_routes_stay_out_of_the_schema(app) -> None:  # type: ignore[no-untyped-def]
    paths = app.openapi()["paths"]
    assert not any(p.startswith(("/docs", "/redoc")) for p in paths)
