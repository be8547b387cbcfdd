"""Opaque, time-sortable ids (UUIDv7 layout) so keyset pagination can order by id."""

from __future__ import annotations

import os
import time


def new_id() -> str:
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= ((rand >> 64) & 0x0FFF) << 64
    value |= 0x2 << 62  # RFC 4122 variant
    value |= rand & ((1 << 62) - 1)
    # str(uuid.UUID(int=value)) without building the UUID: an import makes one per row.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
