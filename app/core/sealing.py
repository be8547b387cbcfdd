"""Values sealed at rest (the identity of a public report's reporter, 保密制度): AES-256-GCM with a
key derived for its purpose from the deployment's secret by HKDF-SHA256, so a dump of the
database alone reveals nothing, and no key is ever stored.

Each sealed value keeps the id of its key beside it (``key_id``: a fingerprint of the derived
key, which says nothing of the key). Keys rotate with the secret: start with the new
``ANJIAN_SECRET_KEY`` and the old one in ``ANJIAN_PREVIOUS_SECRET_KEYS`` (values sealed under it
still open), then ``anjian keys rotate`` re-seals every value under the current key, after which
the old secret may be dropped. The row's id is the associated data: a sealed value copied into
another row does not open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

REPORTER_IDENTITY = b"anjian/public-report/reporter-identity/v1"
WEBHOOK_SECRET = b"anjian/webhooks/signing-secret/v1"
_NONCE_BYTES = 12


class KeyUnavailable(Exception):
    """A value sealed under a key this deployment cannot derive (its secret is not configured)."""

    def __init__(self, key_id: str) -> None:
        super().__init__(f"no configured secret derives key {key_id}")
        self.key_id = key_id


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str
    ciphertext: str  # base64 of nonce + ciphertext + tag


def derive_key(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


def key_id_of(key: bytes) -> str:
    return hmac.new(key, b"anjian key id", hashlib.sha256).hexdigest()[:16]


class Keyring:
    """The current key of one purpose (seals) and the previous ones (open only)."""

    def __init__(self, secrets: list[str], purpose: bytes) -> None:
        if not secrets:
            raise ValueError("a keyring needs at least the current secret")
        keys = [derive_key(s, purpose) for s in secrets]
        self.current_id = key_id_of(keys[0])
        self._current = AESGCM(keys[0])
        self._keys = {key_id_of(k): AESGCM(k) for k in reversed(keys)}

    def seal(self, plaintext: bytes, associated: str) -> Sealed:
        nonce = os.urandom(_NONCE_BYTES)
        data = nonce + self._current.encrypt(nonce, plaintext, associated.encode())
        return Sealed(self.current_id, base64.b64encode(data).decode("ascii"))

    def open(self, sealed: Sealed, associated: str) -> bytes:
        """The plaintext; ``KeyUnavailable`` for an unknown key id; ``InvalidTag`` when the value
        was altered or belongs to another row."""
        aead = self._keys.get(sealed.key_id)
        if aead is None:
            raise KeyUnavailable(sealed.key_id)
        data = base64.b64decode(sealed.ciphertext)
        return aead.decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], associated.encode())

    def knows(self, key_id: str) -> bool:
        return key_id in self._keys


def keyring(settings: object, purpose: bytes) -> Keyring:
    """The keyring of one purpose from the settings' current and previous secrets."""
    current: str = settings.resolved_secret_key  # type: ignore[attr-defined]
    previous: tuple[str, ...] = settings.previous_secret_keys  # type: ignore[attr-defined]
    return Keyring([current, *previous], purpose)


def reporter_keyring(settings: object) -> Keyring:
    """The keyring of reporters' identities."""
    return keyring(settings, REPORTER_IDENTITY)


__all__ = ["InvalidTag", "KeyUnavailable", "Keyring", "Sealed", "keyring", "reporter_keyring"]
