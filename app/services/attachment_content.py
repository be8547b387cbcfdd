"""What an uploaded file really is, read from its bytes before anything decodes it.

- the kind, by content (never by name or declared type);
- for images, the pixel size from the header (PNG ``IHDR``, JPEG ``SOFn``, WebP ``VP8``/``VP8L``/
  ``VP8X``), so a decompression bomb is refused before Pillow allocates anything;
- polyglots: an image must end where its image data ends (PNG ``IEND``, JPEG ``EOI``, the RIFF
  size of a WebP); a PDF may not carry active content (JavaScript, launch, embedded files ...).

Pure functions over bytes, CPU-bound: callers run them in a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from dataclasses import dataclass

import filetype

from app.core.errors import UnsupportedMediaType, ValidationFailed

ALLOWED_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})


@dataclass(frozen=True, slots=True)
class Inspected:
    mime: str
    width: int | None = None
    height: int | None = None


def sniff(data: bytes) -> str:
    kind = filetype.guess(data[:8192])
    mime = kind.mime if kind else None
    if mime not in ALLOWED_TYPES:
        raise UnsupportedMediaType(
            "仅支持 JPEG、PNG、WebP 图片和 PDF 文件（按文件内容判断）",
            "Only JPEG, PNG, WebP and PDF files are accepted (judged by content)",
        )
    return mime  # type: ignore[return-value]


def inspect(data: bytes, max_pixels: int) -> Inspected:
    """The file's kind and size; refuses bombs, image polyglots and active PDFs (422)."""
    mime = sniff(data)
    if mime == "application/pdf":
        _check_pdf(data)
        return Inspected(mime)
    width, height, end = {"image/png": _png, "image/jpeg": _jpeg, "image/webp": _webp}[mime](data)
    if width * height > max_pixels:
        raise ValidationFailed.field(
            "file",
            f"图片像素过大（{width}×{height}，上限 {max_pixels:,} 像素），请缩小后再上传",
            f"The image is too large ({width}×{height} pixels; at most {max_pixels:,})",
            code="image_too_large",
        )
    if end < len(data):
        raise ValidationFailed.field(
            "file",
            f"图片数据结束后还附带了 {len(data) - end} 字节的其他内容，请另存为普通图片后再上传",
            f"{len(data) - end} bytes follow the end of the image; save it as a plain image",
            code="image_trailing_data",
        )
    return Inspected(mime, width, height)


def _malformed(what: str) -> ValidationFailed:
    return ValidationFailed.field(
        "file",
        f"图片文件已损坏或不完整（{what}）",
        f"The image file is damaged or truncated ({what})",
        code="image_malformed",
    )


# ---- images: size and where the image ends ------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PARTS = 100_000  # chunks or segments: real files have a few thousand at most


def _png(data: bytes) -> tuple[int, int, int]:
    """Walks the chunks from the signature to ``IEND``; returns width, height, end offset."""
    if not data.startswith(PNG_SIGNATURE):
        raise _malformed("PNG signature")
    pos, width, height = len(PNG_SIGNATURE), 0, 0
    for _ in range(MAX_PARTS):
        if pos + 8 > len(data):
            raise _malformed("no IEND chunk")
        length, kind = struct.unpack_from(">I4s", data, pos)
        if length > 0x7FFFFFFF or not kind.isalpha() or pos + 12 + length > len(data):
            raise _malformed("chunk")
        if pos == len(PNG_SIGNATURE):
            if kind != b"IHDR" or length != 13:
                raise _malformed("IHDR")
            width, height = struct.unpack_from(">II", data, pos + 8)
            if not width or not height:
                raise _malformed("IHDR")
        pos += 12 + length
        if kind == b"IEND":
            return width, height, pos
    raise _malformed("too many chunks")


_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0..7
# Where entropy-coded data ends: FF not followed by 00 (a stuffed byte) or D0-D7 (a restart).
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_MARKER = re.compile(rb"\xff+([^\xff])")
_PADDING = re.compile(rb"(?:\x00|\xff(?!\xd8))*")


def _jpeg_stream(data: bytes, pos: int) -> tuple[int, int, int]:
    """One JPEG from its SOI at ``pos`` to its EOI: width, height (of the first frame) and the
    offset after EOI. Marker segments are skipped by their length, entropy-coded data by the
    marker rules (``FF00`` is a stuffed byte, ``FFD0``-``FFD7`` restart markers)."""
    if data[pos : pos + 2] != b"\xff\xd8":
        raise _malformed("JPEG SOI")
    pos += 2
    width = height = 0
    n = len(data)
    for _ in range(MAX_PARTS):
        # decoders skip stray bytes before a marker, and fill bytes (FF) are allowed; so do we
        found = _MARKER.search(data, pos)
        if found is None:
            raise _malformed("no JPEG EOI")
        marker, pos = found[1][0], found.end()
        if marker == 0xD9:
            if not width or not height:
                raise _malformed("no JPEG frame header")
            return width, height, pos
        if marker in _STANDALONE or marker == 0x00:
            continue
        if marker == 0xD8:
            raise _malformed("nested JPEG SOI")
        if pos + 2 > n:
            raise _malformed("JPEG segment")
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > n:
            raise _malformed("JPEG segment")
        if marker in _SOF_MARKERS and not width:
            if length < 7:
                raise _malformed("JPEG frame header")
            height, width = struct.unpack_from(">HH", data, pos + 3)
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            end = _SCAN_END.search(data, pos)
            if end is None:
                raise _malformed("no JPEG EOI")
            pos = end.start()
    raise _malformed("too many JPEG segments")


def _is_motion_photo_video(tail: bytes) -> bool:
    """Motion photos (动态照片: Google, Samsung, Xiaomi, Huawei) append a short MP4 after the
    still: an ISO BMFF ``ftyp`` box, on Samsung after a ``MotionPhoto_Data`` marker. Inspectors'
    phones take them by default; served as ``image/jpeg`` with ``nosniff`` the video is inert."""
    tail = tail.removeprefix(b"MotionPhoto_Data")
    return tail[4:8] == b"ftyp"


def _jpeg(data: bytes) -> tuple[int, int, int]:
    """The first image's size; the end is after the last of the JPEG streams that follow it
    (multi-picture files from cameras store further images so), zero or FF padding allowed,
    and after a motion photo's video."""
    width, height, end = _jpeg_stream(data, 0)
    while True:
        if _is_motion_photo_video(data[end : end + 32]):  # before padding: a box starts 00 00
            return width, height, len(data)
        end = _PADDING.match(data, end).end()  # type: ignore[union-attr]
        if data[end : end + 2] != b"\xff\xd8":
            return width, height, end
        end = _jpeg_stream(data, end)[2]


def _webp(data: bytes) -> tuple[int, int, int]:
    """Canvas size from the first chunk; the end is given by the RIFF header."""
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise _malformed("WebP header")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + riff_size
    if end > len(data):
        raise _malformed("WebP truncated")
    if riff_size & 1 and data[end : end + 1] == b"\x00":
        end += 1  # a RIFF chunk of odd size is padded
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack_from("<HH", data, 26)
        width, height = w & 0x3FFF, h & 0x3FFF
    elif chunk == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack_from("<I", data, 21)
        width, height = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
    else:
        raise _malformed("WebP bitstream header")
    if not width or not height:
        raise _malformed("WebP size")
    return width, height, end


# ---- PDF: no active content ------------------------------------------------------------------------

# Names that run code, start programs, send data or carry other files. ``/AA`` (additional actions)
# only exists to run actions on events (opening a page, focusing a field).
PDF_ACTIVE_NAMES = frozenset(
    {
        "JS",
        "JavaScript",
        "Launch",
        "SubmitForm",
        "ImportData",
        "GoToE",
        "GoToR",
        "RichMedia",
        "EmbeddedFile",
        "EmbeddedFiles",
        "XFA",
        "AA",
    }
)
PDF_INFLATE_BUDGET = 32 * 1024 * 1024  # decoded object streams, in total

_NAME = re.compile(rb"/([^\s()<>\[\]{}/%]*)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# The keyword that opens a stream body (comments may stand between the dictionary and it).
_STREAM = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n|\r)")
_INT = re.compile(rb"\s*(\d+)")


def _refuse_pdf(zh: str, en: str, code: str = "pdf_active_content") -> ValidationFailed:
    return ValidationFailed.field("file", zh, en, code=code)


def _names(text: bytes) -> list[tuple[str, int]]:
    """Every name token, ``#xx`` escapes undone, with the offset just after it."""
    return [
        (
            _HEX_ESCAPE.sub(lambda e: bytes([int(e.group(1), 16)]), m.group(1)).decode("latin-1"),
            m.end(),
        )
        for m in _NAME.finditer(text)
    ]


def _split_pdf(data: bytes) -> tuple[bytes, list[tuple[bytes, int, int]]]:
    """The text outside stream bodies, and each stream as (the text since the previous stream,
    which ends with its dictionary; where its body starts; where it ends). Bodies end at
    ``/Length`` when it is direct and lands on ``endstream``, else at the next ``endstream``."""
    outside: list[bytes] = []
    streams: list[tuple[bytes, int, int]] = []
    pos = 0
    while m := _STREAM.search(data, pos):
        start = m.end()
        head = data[pos : m.start()]
        end = -1
        lengths = [e for n, e in _names(head) if n == "Length"]
        if lengths and (direct := _INT.match(head, lengths[-1])):
            candidate = start + int(direct.group(1))
            if data[candidate : candidate + 32].lstrip().startswith(b"endstream"):
                end = candidate
        if end < 0:
            end = data.find(b"endstream", start)
            end = len(data) if end < 0 else end
        outside.append(head)
        streams.append((head, start, end))
        pos = end
    outside.append(data[pos:])
    return b"".join(outside), streams


def _filters(head: bytes) -> list[str] | None:
    """The ``/Filter`` chain of the stream whose dictionary ends ``head``; None when it cannot
    be read (indirect, or with ``/DecodeParms`` that change the bytes)."""
    names = _names(head)
    at = [i for i, (n, _) in enumerate(names) if n == "Filter"]
    if not at:
        return []
    i = at[-1]
    after = head[names[i][1] :].lstrip()
    if after.startswith(b"/"):
        chain = [names[i + 1][0]]
    elif after.startswith(b"["):
        close = head.find(b"]", names[i][1])
        chain = [n for n, e in names[i + 1 :] if e <= close]
    else:
        return None
    if any(n == "Predictor" for n, _ in names):
        return None
    return chain


def _decode(body: bytes, filters: list[str], budget: int) -> bytes:
    for f in filters:
        if f in ("FlateDecode", "Fl"):
            body = zlib.decompressobj().decompress(body, budget + 1)
            if len(body) > budget:
                raise ValueError("over the budget")
        elif f in ("ASCIIHexDecode", "AHx"):
            digits = re.sub(rb"\s", b"", body).split(b">", 1)[0]
            body = binascii.unhexlify(digits + b"0" * (len(digits) & 1))
        elif f in ("ASCII85Decode", "A85"):
            body = base64.a85decode(re.sub(rb"\s", b"", body).split(b"~>", 1)[0])
        else:
            raise ValueError(f"filter {f}")
    return body


def _check_pdf(data: bytes) -> None:
    """Refuses a PDF that may act on its own when opened or that hides what it holds. Names are
    compared after ``#xx`` escapes are undone; object streams (where PDF 1.5+ keeps its
    dictionaries, compressed) are decoded, within a budget, and read too. An object stream that
    cannot be decoded, and an encrypted PDF, cannot be checked and are refused."""
    outside, streams = _split_pdf(data)
    texts = [outside]
    budget = PDF_INFLATE_BUDGET
    for head, start, end in streams:
        if not any(n == "ObjStm" for n, _ in _names(head)):
            continue  # page content, images, fonts: no dictionaries of the document live there
        chain = _filters(head)
        try:
            if chain is None:
                raise ValueError("unreadable filter")
            decoded = _decode(data[start:end], chain, budget)
        except (ValueError, IndexError, zlib.error, binascii.Error):
            raise _refuse_pdf(
                "PDF 的对象流无法读取，无法确认其中没有脚本等活动内容",
                "An object stream of the PDF cannot be read, so it cannot be checked",
                code="pdf_unreadable",
            ) from None
        budget -= len(decoded)
        texts.append(decoded)
    for text in texts:
        names = _names(text)
        found = {n for n, _ in names}
        if "Encrypt" in found:
            raise _refuse_pdf(
                "不接受加密的 PDF，请取消密码保护后上传",
                "Encrypted PDFs are not accepted; remove the protection",
                code="pdf_encrypted",
            )
        active = sorted(found & PDF_ACTIVE_NAMES)
        if active:
            raise _refuse_pdf(
                f"PDF 含有脚本、自动操作或内嵌文件（/{', /'.join(active)}），请另存为普通 PDF 后上传",
                "The PDF carries scripts, automatic actions or embedded files "
                f"(/{', /'.join(active)})",
            )
        # /OpenAction to a destination ("open at page 1", written by Word, WPS, LibreOffice) is
        # harmless; given as an action, only a plain GoTo is.
        for i, (name, end) in enumerate(names):
            if name == "OpenAction" and text[end : end + 16].lstrip().startswith(b"<<"):
                rest = names[i + 1 : i + 24]
                kind = next(
                    (rest[j + 1][0] for j in range(len(rest) - 1) if rest[j][0] == "S"), None
                )
                if kind != "GoTo":
                    raise _refuse_pdf(
                        "PDF 打开时会自动执行操作，请另存为普通 PDF 后上传",
                        "The PDF runs an action when it is opened",
                    )
