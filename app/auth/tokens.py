"""Signed bearer tokens (PyJWT, HS256)."""

from __future__ import annotations

import time

import jwt

from app.core.config import Settings

ALGORITHM = "HS256"


def issue_token(settings: Settings, subject: str, kind: str) -> tuple[str, int]:
    now = int(time.time())
    lifetime = settings.token_lifetime_seconds
    claims = {"sub": subject, "knd": kind, "iat": now, "exp": now + lifetime}
    return jwt.encode(claims, settings.resolved_secret_key, algorithm=ALGORITHM), lifetime


def read_token(settings: Settings, token: str) -> dict[str, object] | None:
    try:
        claims = jwt.decode(token, settings.resolved_secret_key, algorithms=[ALGORITHM])
    except jwt.PyJWTError:
        return None
    if not isinstance(claims.get("sub"), str) or claims.get("knd") not in ("user", "client"):
        return None
    return claims
