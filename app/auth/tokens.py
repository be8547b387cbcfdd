"""Signed bearer tokens (PyJWT, HS256) and the opaque refresh tokens beside them.

Claims: ``sub`` (the user's or client's id), ``knd`` (``user`` | ``client``), ``cv`` (the
subject's credential version when the token was issued; a token whose ``cv`` differs from the
row's is refused, so a password change, deactivation or role change ends it at once), ``iss``,
``aud``, ``iat`` and ``exp``. All are required when reading. Tokens of a person's session
(password and refresh grants) also carry ``sid``, the session's id (its refresh-token family):
revoking the session refuses them at once.

Refresh tokens are not JWTs: 256 random bits, of which only the SHA-256 is stored
(app/services/auth.py), so a copy of the database holds nothing that can be presented.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import OrderedDict
from functools import lru_cache

import jwt
from jwt.algorithms import HMACAlgorithm

from app.core.config import Settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "knd", "cv", "iss", "aud", "iat", "exp")
LEEWAY_SECONDS = 10  # clock skew between hosts
REFRESH_TOKEN_BYTES = 32  # 256 bits: never guessed, so no throttle is needed on the grant


class _PreparedHMAC(HMACAlgorithm):
    """PyJWT's HS256 with its checks of the key (not a PEM, SSH, DER or JWK key) made once per
    key rather than on every token: they parse the secret several ways, a quarter of a
    request's CPU before this (issue 10). The signature is PyJWT's own."""

    @lru_cache(maxsize=8)  # noqa: B019 (one instance, a handful of secrets: kept for the process)
    def prepare_key(self, key: str | bytes) -> bytes:
        return super().prepare_key(key)


_jwt = jwt.PyJWT()
# PyJWT has no public way to give one instance its own algorithm object; ``_jws`` is the
# instance's signer, so the global ``jwt`` functions elsewhere are left as they are.
_jwt._jws.unregister_algorithm(ALGORITHM)
_jwt._jws.register_algorithm(ALGORITHM, _PreparedHMAC(HMACAlgorithm.SHA256))


def issue_token(
    settings: Settings,
    subject: str,
    kind: str,
    *,
    credential_version: int = 1,
    session_id: str | None = None,
) -> tuple[str, int]:
    now = int(time.time())
    lifetime = settings.token_lifetime_seconds
    claims: dict[str, object] = {
        "sub": subject,
        "knd": kind,
        "cv": credential_version,
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "iat": now,
        "exp": now + lifetime,
    }
    if session_id is not None:
        claims["sid"] = session_id
    return _jwt.encode(claims, settings.resolved_secret_key, algorithm=ALGORITHM), lifetime


def _decode(settings: Settings, token: str, *, verify_exp: bool) -> dict[str, object] | None:
    try:
        claims = _jwt.decode(
            token,
            settings.resolved_secret_key,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": verify_exp},
        )
    except jwt.PyJWTError:
        return None
    cv = claims.get("cv")
    if (
        not isinstance(claims.get("sub"), str)
        or claims.get("knd") not in ("user", "client")
        or not isinstance(cv, int)
        or isinstance(cv, bool)
        or not isinstance(claims.get("sid", ""), str)
    ):
        return None
    return claims


# Tokens whose signature and claims were verified, with their expiry: a token is presented on
# every request of its half hour, and verifying it costs more than the rest of a cached read.
# Bounded; keyed with the signing settings (tests run apps with different secrets side by side).
_VERIFIED: OrderedDict[tuple[str, str, str, str], tuple[dict[str, object], float]] = OrderedDict()
_VERIFIED_MAX = 4096


def read_token(settings: Settings, token: str) -> dict[str, object] | None:
    """The claims of a valid access token, or None. A token verified before is only checked
    for expiry again (with the same leeway); whether its caller and session still hold is the
    caller lookup's question (``cv``, ``sid``), answered on every request."""
    key = (token, settings.resolved_secret_key, settings.token_issuer, settings.token_audience)
    known = _VERIFIED.get(key)
    if known is not None:
        claims, exp = known
        if time.time() < exp + LEEWAY_SECONDS:
            return claims
        _VERIFIED.pop(key, None)
        return None
    claims = _decode(settings, token, verify_exp=True)
    exp = claims.get("exp") if claims is not None else None
    if claims is not None and isinstance(exp, int | float):
        _VERIFIED[key] = (claims, float(int(exp)))  # PyJWT compares int(exp)
        if len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
    return claims


def session_of(settings: Settings, token: str) -> str | None:
    """The session (``sid``) of an access token we signed, expired or not: signing out with an
    access token that has just expired still ends its session (RFC 7009 revocation)."""
    claims = _decode(settings, token, verify_exp=False)
    sid = claims.get("sid") if claims and claims["knd"] == "user" else None
    return sid if isinstance(sid, str) else None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_hash(token: str) -> str:
    """What is stored and looked up: SHA-256 hex (a fast hash suffices for 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()
