"""Metadata taken out of a photo without decoding it (a public report's photos, 保密): a phone's
photo carries its owner's name (EXIF Artist, Copyright), the device, the GPS position and
free text (XMP, comments, PNG text chunks), which would tell an officer who may not know the
reporter who took it. The pixels are copied byte for byte, so nothing is decoded, re-encoded or
lost; a JPEG keeps its orientation (rewritten as the one EXIF tag), so it still shows upright
(a WebP's orientation lives in its EXIF, which goes).

- JPEG: every APP1–APP15 and COM segment is dropped, also between the scans of a progressive
  JPEG; APP0 (JFIF: density only) stays.
- PNG: the ``tEXt``, ``zTXt``, ``iTXt``, ``eXIf`` and ``tIME`` chunks are dropped.
- WebP: the ``EXIF`` and ``XMP`` chunks are dropped and the extended header's flags cleared.

Runs on files the content checks passed (``attachment_content.inspect``): a malformed structure
is answered by those checks when the result is stored."""

from __future__ import annotations

import io
import struct

from PIL import Image

_JPEG_DROP = frozenset({*range(0xE1, 0xF0), 0xFE})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RSTn, SOI, EOI
_PNG_DROP = frozenset({b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"})
_WEBP_DROP = frozenset({b"EXIF", b"XMP "})


def strip(data: bytes, mime: str) -> bytes:
    if mime == "image/jpeg":
        return _jpeg(data)
    if mime == "image/png":
        return _png(data)
    if mime == "image/webp":
        return _webp(data)
    return data


def _orientation(data: bytes) -> int | None:
    """The EXIF orientation, read from the header only (Pillow opens lazily)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            value = img.getexif().get(0x0112)
    except Exception:  # no readable EXIF: nothing to keep
        return None
    return value if isinstance(value, int) and 2 <= value <= 8 else None


def _exif_orientation_segment(orientation: int) -> bytes:
    """APP1 holding an EXIF block with the one Orientation tag (big-endian TIFF)."""
    tiff = b"MM\x00\x2a" + struct.pack(">I", 8)
    ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0)
    body = b"Exif\x00\x00" + tiff + ifd + struct.pack(">I", 0)
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


def _jpeg(data: bytes) -> bytes:
    orientation = _orientation(data)
    out = bytearray(data[:2])  # SOI
    pos, n = 2, len(data)
    kept_orientation = orientation is None
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            return data  # not a structure this reader knows: left for the checks to answer
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            out += data[pos : pos + 2]
            pos += 2
            if marker == 0xD9:
                break
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        end = pos + 2 + length
        if not kept_orientation and marker != 0xE0:
            out += _exif_orientation_segment(orientation or 1)
            kept_orientation = True
        if marker not in _JPEG_DROP:
            out += data[pos:end]
        pos = end
        if marker == 0xDA:  # start of scan: the entropy-coded data runs to the next marker
            scan = pos
            while pos + 1 < n and not _ends_scan(data, pos):
                pos += 1
            out += data[scan:pos]
    out += data[pos:]
    return bytes(out)


def _png(data: bytes) -> bytes:
    out = bytearray(data[:8])
    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if kind not in _PNG_DROP:
            out += data[pos:end]
        pos = end
        if kind == b"IEND":
            break
    out += data[pos:]
    return bytes(out)


def _webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return data
    chunks = bytearray()
    pos = 12
    while pos + 8 <= len(data):
        kind = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        end = pos + 8 + size + (size & 1)
        chunk = bytearray(data[pos:end])
        if kind == b"VP8X" and len(chunk) > 8:
            chunk[8] &= ~(0x08 | 0x04) & 0xFF  # no EXIF, no XMP
        if kind not in _WEBP_DROP:
            chunks += chunk
        pos = end
    chunks += data[pos:]
    return b"RIFF" + struct.pack("<I", len(chunks) + 4) + b"WEBP" + bytes(chunks)


def _ends_scan(data: bytes, pos: int) -> bool:
    """A marker other than a stuffed zero or a restart ends the entropy-coded data."""
    return data[pos] == 0xFF and data[pos + 1] not in _IN_SCAN


_IN_SCAN = frozenset({0x00, *range(0xD0, 0xD8)})
