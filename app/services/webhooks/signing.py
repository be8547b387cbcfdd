"""Standard Webhooks signing secrets: generated here, shown once, sealed at rest.

A secret is ``whsec_`` and the base64 of 32 random bytes (the scheme's format, which the
``standardwebhooks`` library reads). It is sealed with AES-GCM under a key derived from
``ANJIAN_SECRET_KEY`` for this purpose (app/core/sealing.py), the subscription's id as the
associated data. During a rotation's overlap window a delivery carries a signature by the new
secret and one by the previous (space-separated in ``webhook-signature``): a receiver that
still holds the old secret keeps verifying until it switches.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

from app.core.config import Settings
from app.core.sealing import WEBHOOK_SECRET, Sealed, keyring

PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def seal(settings: Settings, subscription_id: str, secret: str) -> Sealed:
    return keyring(settings, WEBHOOK_SECRET).seal(secret.encode(), subscription_id)


def unseal(settings: Settings, subscription_id: str, key_id: str, sealed: str) -> str:
    """The secret; ``KeyUnavailable`` or ``InvalidTag`` when it does not open (the deployment's
    secret key changed without keeping the earlier one in ANJIAN_PREVIOUS_SECRET_KEYS)."""
    opened = keyring(settings, WEBHOOK_SECRET).open(Sealed(key_id, sealed), subscription_id)
    return opened.decode()


def signature(secrets_: list[str], message_id: str, timestamp: datetime, body: bytes) -> str:
    """The ``webhook-signature`` header: one ``v1,<base64>`` per secret, space-separated."""
    return " ".join(Webhook(s).sign(message_id, timestamp, body) for s in secrets_)
