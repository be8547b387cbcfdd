"""Signed bearer tokens (PyJWT, HS256).

Claims: ``sub`` (the user's or client's id), ``knd`` (``user`` | ``client``), ``cv`` (the
subject's credential version when the token was issued; a token whose ``cv`` differs from the
row's is refused, so a password change, deactivation or role change ends it at once), ``iss``,
``aud``, ``iat`` and ``exp``. All are required when reading.
"""

from __future__ import annotations

import time

import jwt

from app.core.config import Settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "knd", "cv", "iss", "aud", "iat", "exp")
LEEWAY_SECONDS = 10  # clock skew between hosts


def issue_token(
    settings: Settings, subject: str, kind: str, *, credential_version: int = 1
) -> tuple[str, int]:
    now = int(time.time())
    lifetime = settings.token_lifetime_seconds
    claims = {
        "sub": subject,
        "knd": kind,
        "cv": credential_version,
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, settings.resolved_secret_key, algorithm=ALGORITHM), lifetime


def read_token(settings: Settings, token: str) -> dict[str, object] | None:
    try:
        claims = jwt.decode(
            token,
            settings.resolved_secret_key,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.PyJWTError:
        return None
    cv = claims.get("cv")
    if (
        not isinstance(claims.get("sub"), str)
        or claims.get("knd") not in ("user", "client")
        or not isinstance(cv, int)
        or isinstance(cv, bool)
    ):
        return None
    return claims
