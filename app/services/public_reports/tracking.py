"""Tracking codes: 80 random bits written as 16 characters of Crockford base32 in four groups
(``7K3M-9QXD-2RTV-HW4P``), which a person can read back on the phone (no I, L, O or U; read
back case-insensitively, ``I``/``L`` as 1 and ``O`` as 0, with or without hyphens or spaces).

Only the SHA-256 of the canonical code is stored. A lookup always hashes something and runs the
same single query, whether the code is well-formed or not, so a malformed code costs what an
unknown one does and answers the same 404.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
BITS = 80
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})
_DROPPED = str.maketrans("", "", "- \t")
# What a malformed code is hashed as (no canonical code hashes to it: it is not 16 characters).
_NOTHING = "not-a-code"


def new_code() -> str:
    value = secrets.randbits(BITS)
    chars = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(LENGTH)))
    return "-".join(chars[i : i + 4] for i in range(0, LENGTH, 4))


def canonical(code: str) -> str | None:
    """The 16 characters of a code as a person typed it, or None if it cannot be one."""
    if len(code) > 64:
        return None
    text = code.upper().translate(_DROPPED).translate(_READ_AS)
    if len(text) != LENGTH or any(c not in ALPHABET for c in text):
        return None
    return text


def digest(code: str) -> str:
    """The stored form of a code: the SHA-256 of its canonical characters (of a fixed text for
    anything that cannot be a code, which matches no report)."""
    text = canonical(code) or _NOTHING
    return hashlib.sha256(text.encode()).hexdigest()
