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
from collections.abc import Iterator
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
    # False when decoding the image for a thumbnail would cost more memory than the bound allows
    # (see ``_jpeg``): the file is still accepted, without a thumbnail
    thumbnail: bool = True


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
    parse = {"image/png": _png, "image/jpeg": _jpeg, "image/webp": _webp}[mime]
    width, height, end, costly = parse(data)
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
    # libjpeg keeps every coefficient of a progressive JPEG (2 bytes per sample: 3 B per pixel at
    # 4:2:0, 6 at 4:4:4, 8 in CMYK): up to a quarter of the limit its thumbnail stays within the
    # bound of 4 B per pixel of the limit; above, the file is kept without a thumbnail
    thumbnail = not costly or width * height <= max_pixels // COSTLY_JPEG_SHARE
    return Inspected(mime, width, height, thumbnail)


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


def _png(data: bytes) -> tuple[int, int, int, bool]:
    """Walks the chunks from the signature to ``IEND``; returns width, height, end offset (and
    False: decoding a PNG costs at most 4 bytes per pixel)."""
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
            return width, height, pos, False
    raise _malformed("too many chunks")


_SOF_MARKERS = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RST0..7
# Where entropy-coded data ends: FF not followed by 00 (a stuffed byte) or D0-D7 (a restart).
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_NOT_FF = re.compile(rb"[^\xff]")
_PADDING = re.compile(rb"(?:\x00|\xff(?!\xd8))*")


COSTLY_JPEG_SHARE = 4  # progressive or multi-scan JPEGs: thumbnails up to 1/4 of the limit


def _jpeg_stream(data: bytes, pos: int) -> tuple[int, int, int, bool]:
    """One JPEG from its SOI at ``pos`` to its EOI: width, height (of the first frame), the
    offset after EOI and whether it is costly to decode: not sequential, or in several scans
    (libjpeg then buffers every coefficient of the image, 2 bytes per sample, and ``draft`` does
    not help). Marker segments are
    skipped by their length, entropy-coded data by the marker rules (``FF00`` is a stuffed byte,
    ``FFD0``-``FFD7`` restart markers). Linear in the size: no pattern is retried per byte."""
    if data[pos : pos + 2] != b"\xff\xd8":
        raise _malformed("JPEG SOI")
    pos += 2
    width = height = scans = 0
    costly = False
    n = len(data)
    for _ in range(MAX_PARTS):
        # decoders skip stray bytes before a marker, and fill bytes (FF) are allowed; so do we
        ff = data.find(b"\xff", pos)
        found = _NOT_FF.search(data, ff) if ff >= 0 else None
        if found is None:
            raise _malformed("no JPEG EOI")
        marker, pos = data[found.start()], found.end()
        if marker == 0xD9:
            if not width or not height:
                raise _malformed("no JPEG frame header")
            return width, height, pos, costly or scans > 1
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
            costly = marker not in (0xC0, 0xC1)  # progressive (or lossless, arithmetic ...)
        pos += length
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next real marker
            scans += 1
            end = _SCAN_END.search(data, pos)
            if end is None:
                raise _malformed("no JPEG EOI")
            pos = end.start()
    raise _malformed("too many JPEG segments")


# The top-level box types of MP4 / ISO BMFF files (ISO/IEC 14496-12, QuickTime's wide/pnot)
MP4_TOP_LEVEL_BOXES = frozenset(
    {
        b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"pnot", b"uuid",
        b"meta", b"udta", b"sidx", b"ssix", b"moof", b"mfra", b"emsg", b"prft", b"pdin",
    }
)  # fmt: skip
SAMSUNG_MARKER = b"MotionPhoto_Data"


def _mp4_end(data: bytes, pos: int) -> int | None:
    """If an MP4 starts at ``pos`` (its first box ``ftyp``), where its boxes end: each box is a
    32-bit size and a known type (size 1: a 64-bit size follows; 0: to the end of the file), and
    the boxes follow each other without gaps. None when the bytes are not such boxes."""
    if data[pos + 4 : pos + 8] != b"ftyp":
        return None
    n = len(data)
    for _ in range(MAX_PARTS):
        if pos + 8 > n:
            return pos if pos == n else None
        size, kind = struct.unpack_from(">I4s", data, pos)
        if kind not in MP4_TOP_LEVEL_BOXES:
            return pos  # the boxes end here; the caller decides whether what follows may
        header = 8
        if size == 1:
            if pos + 16 > n:
                return None
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = n - pos
        if size < header or pos + size > n:
            return None
        pos += size
    return None


def _is_motion_photo_video(data: bytes, pos: int) -> bool:
    """Motion photos (动态照片: Google, Samsung, Xiaomi, Huawei) append a short MP4 after the
    still, running to the end of the file; Samsung puts a ``MotionPhoto_Data`` marker before it
    and may end the file with its SEF trailer (``SEFH`` ... a 4-byte length, ``SEFT``).
    Inspectors' phones take them by default; served as ``image/jpeg`` with ``nosniff`` the video
    is inert. Anything else after the boxes (markup, an archive) is not a video."""
    samsung = data.startswith(SAMSUNG_MARKER, pos)
    end = _mp4_end(data, pos + len(SAMSUNG_MARKER) if samsung else pos)
    if end is None:
        return False
    if end == len(data):
        return True
    if not samsung or not data.endswith(b"SEFT"):
        return False
    (length,) = struct.unpack_from("<I", data, len(data) - 8)
    trailer = len(data) - 8 - length
    return trailer == end and data.startswith(b"SEFH", end)


def _jpeg(data: bytes) -> tuple[int, int, int, bool]:
    """The first image's size; the end is after the last of the JPEG streams that follow it
    (multi-picture files from cameras store further images so), zero or FF padding allowed,
    and after a motion photo's video."""
    width, height, end, costly = _jpeg_stream(data, 0)
    while True:
        if _is_motion_photo_video(data, end):  # before padding: a box starts 00 00
            return width, height, len(data), costly
        end = _PADDING.match(data, end).end()  # type: ignore[union-attr]
        if data[end : end + 2] != b"\xff\xd8":
            return width, height, end, costly
        end = _jpeg_stream(data, end)[2]


def _webp(data: bytes) -> tuple[int, int, int, bool]:
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
    return width, height, end, False


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
# Object streams hold only the small objects of a document (dictionaries, arrays), never page
# content or images: a 1,000-page tagged report from Word has a few MB of them. The budget
# covers every filter's output, so a chain cannot amplify past it.
PDF_DECODE_BUDGET = 16 * 1024 * 1024  # bytes decoded from object streams, in total
# Name tokens handled one by one in a check: those that matter (below) and those with ``#xx``
# escapes, plus the few read after an ``/OpenAction`` or a ``/Filter``. A real PDF has some per
# stream (``/Length``, ``/Filter``); other names are skipped by the pattern, without a step of
# Python each (a file of nothing but "/" has one name per byte).
PDF_MAX_NAMES = 1_000_000
PDF_MAX_STREAMS = 50_000  # a 20 MB report has a few thousand (a few per page)

_REGULAR = rb"[^\s()<>\[\]{}/%]"  # the characters a name is made of
_NAME = re.compile(rb"/(" + _REGULAR + rb"*)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# The keyword that opens a stream body (comments may stand between the dictionary and it).
_STREAM = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n|\r)")
_INT = re.compile(rb"\s*(\d{1,10})(?!\d)")  # a /Length; longer numbers are not a real one
_SPACE = re.compile(rb"\s")
_MATTERS = frozenset(
    {b"Encrypt", b"OpenAction", b"Length", b"ObjStm", b"Filter", b"Predictor"}
    | {n.encode() for n in PDF_ACTIVE_NAMES}
)
_ACTIVE = frozenset(n.encode() for n in PDF_ACTIVE_NAMES)
# A name that matters, whole, or any name with an escape (it may spell one that matters).
_NAME_THAT_MATTERS = re.compile(
    rb"/(?="
    + _REGULAR
    + rb")(?:("
    + b"|".join(sorted(_MATTERS, key=len, reverse=True))
    + rb")(?!"
    + _REGULAR
    + rb")|("
    + _REGULAR
    + rb"*#"
    + _REGULAR
    + rb"*))"
)
_WINDOW = 256 * 1024  # one regex call at most scans this far: other threads get the GIL between


def _refuse_pdf(zh: str, en: str, code: str = "pdf_active_content") -> ValidationFailed:
    return ValidationFailed.field("file", zh, en, code=code)


def _unreadable() -> ValidationFailed:
    return _refuse_pdf(
        "PDF 的对象流无法读取，无法确认其中没有脚本等活动内容",
        "An object stream of the PDF cannot be read, so it cannot be checked",
        code="pdf_unreadable",
    )


def _too_complex(zh: str, en: str) -> ValidationFailed:
    return _refuse_pdf(
        f"PDF 结构过于复杂（{zh}过多），无法确认其中没有脚本等活动内容",
        f"The PDF is too complex to check (too many {en})",
        code="pdf_too_complex",
    )


def _unescape(e: re.Match[bytes]) -> bytes:
    return bytes([int(e.group(1), 16)])


class _Names:
    """Name tokens, ``#xx`` escapes undone, each with the offset just after it, streamed (never
    a list), at most ``PDF_MAX_NAMES`` over a whole check (else 422 ``pdf_too_complex``)."""

    def __init__(self, limit: int = PDF_MAX_NAMES) -> None:
        self.left = limit

    def _count(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _too_complex("名称", "names")

    def matters(self, text: bytes) -> Iterator[tuple[bytes, int]]:
        """The names that matter to the check (and every escaped one), in windows that end
        before a "/" (a name never spans one)."""
        pos, n = 0, len(text)
        while pos < n:
            stop = text.find(b"/", min(pos + _WINDOW, n))
            stop = n if stop < 0 else stop
            for m in _NAME_THAT_MATTERS.finditer(text, pos, stop):
                self._count()
                name = m.group(1) or _HEX_ESCAPE.sub(_unescape, m.group(2))
                yield name, m.end()
            pos = stop

    def all(self, text: bytes, start: int, end: int | None = None) -> Iterator[tuple[bytes, int]]:
        """Every name from ``start`` on (callers take a few)."""
        for m in _NAME.finditer(text, start, len(text) if end is None else end):
            self._count()
            name = m.group(1)
            yield (_HEX_ESCAPE.sub(_unescape, name) if b"#" in name else name), m.end()


@dataclass(slots=True)
class _Stream:
    start: int  # where the body starts
    end: int  # where it ends
    objstm: bool  # its dictionary (the text before it) says /Type /ObjStm
    filters: list[bytes] | None  # its /Filter chain; None when it cannot be read


def _stream_head(names: _Names, head: bytes) -> tuple[int, bool, list[bytes] | None]:
    """From the text before a stream (ending with its dictionary), in one walk: where the
    number after the last ``/Length`` starts (-1 if none), whether it names ``/ObjStm``, and the
    ``/Filter`` chain (None when it cannot be read: indirect, or with ``/DecodeParms``
    predictors that change the bytes)."""
    length_at, objstm, filter_at, predictor = -1, False, -1, False
    for name, end in names.matters(head):
        if name == b"Length":
            length_at = end
        elif name == b"ObjStm":
            objstm = True
        elif name == b"Filter":
            filter_at = end
        elif name == b"Predictor":
            predictor = True
    chain: list[bytes] | None = []
    if filter_at >= 0:
        after = head[filter_at : filter_at + 64].lstrip()
        if after.startswith(b"/"):
            chain = [next(names.all(head, filter_at))[0]]
        elif after.startswith(b"["):
            close = head.find(b"]", filter_at, filter_at + 256)  # a chain is a few names
            chain = [n for n, _ in names.all(head, filter_at, close)] if close >= 0 else None
        else:
            chain = None
    if predictor:
        chain = None
    return length_at, objstm, chain


def _split_pdf(data: bytes, names: _Names) -> tuple[bytes, list[_Stream]]:
    """The text outside stream bodies, and the streams. Bodies end at ``/Length`` when it is
    direct and lands on ``endstream``, else at the next ``endstream``."""
    outside: list[bytes] = []
    streams: list[_Stream] = []
    pos = 0
    while m := _STREAM.search(data, pos):
        if len(streams) == PDF_MAX_STREAMS:
            raise _too_complex("数据流", "streams")
        start = m.end()
        head = data[pos : m.start()]
        length_at, objstm, chain = _stream_head(names, head)
        end = -1
        if length_at >= 0 and (direct := _INT.match(head, length_at)):
            candidate = start + int(direct.group(1))
            if data[candidate : candidate + 32].lstrip().startswith(b"endstream"):
                end = candidate
        if end < 0:
            end = data.find(b"endstream", start)
            end = len(data) if end < 0 else end
        outside.append(head)
        streams.append(_Stream(start, end, objstm, chain))
        pos = end
    outside.append(data[pos:])
    return b"".join(outside), streams


def _a85_size(digits: bytes) -> int:
    """How many bytes the ASCII85 ``digits`` (no white space) decode to: ``z`` is 4 zero bytes,
    every 5 other characters 4 bytes, a final group of k characters k - 1."""
    zeros = digits.count(b"z")
    rest = len(digits) - zeros
    return 4 * zeros + 4 * (rest // 5) + max(0, rest % 5 - 1)


def _decode(body: bytes, filters: list[bytes], budget: int) -> tuple[bytes, int]:
    """The body decoded through its filters, and the budget left. Every filter's output counts
    and is bounded before it is made; an empty budget decodes nothing."""
    for f in filters:
        if budget <= 0:
            raise ValueError("over the budget")
        if f in (b"FlateDecode", b"Fl"):
            body = zlib.decompressobj().decompress(body, budget + 1)  # budget + 1 >= 2
        elif f in (b"ASCIIHexDecode", b"AHx"):
            digits = _SPACE.sub(b"", body.split(b">", 1)[0])
            if (len(digits) + 1) // 2 > budget:
                raise ValueError("over the budget")
            body = binascii.unhexlify(digits + b"0" * (len(digits) & 1))
        elif f in (b"ASCII85Decode", b"A85"):
            digits = _SPACE.sub(b"", body.split(b"~>", 1)[0])
            if _a85_size(digits) > budget:
                raise ValueError("over the budget")
            body = base64.a85decode(digits)
        else:
            raise ValueError("unknown filter")
        if len(body) > budget:
            raise ValueError("over the budget")
        budget -= len(body)
    return body, budget


def _check_text(text: bytes, names: _Names) -> None:
    """One text (outside the stream bodies, or a decoded object stream), in one walk."""
    encrypted, active, open_action = False, set(), False
    for name, end in names.matters(text):
        if name == b"Encrypt":
            encrypted = True
        elif name in _ACTIVE:
            active.add(name.decode())
        elif name == b"OpenAction" and text[end : end + 16].lstrip().startswith(b"<<"):
            # /OpenAction to a destination ("open at page 1", written by Word, WPS, LibreOffice)
            # is harmless; given as an action, only a plain GoTo is
            following = names.all(text, end)
            kind = None
            for _ in range(22):
                n, _e = next(following, (None, 0))
                if n is None:
                    break
                if n == b"S":
                    kind = next(following, (None, 0))[0]
                    break
            open_action = open_action or kind != b"GoTo"
    if encrypted:
        raise _refuse_pdf(
            "不接受加密的 PDF，请取消密码保护后上传",
            "Encrypted PDFs are not accepted; remove the protection",
            code="pdf_encrypted",
        )
    if active:
        listed = ", /".join(sorted(active))
        raise _refuse_pdf(
            f"PDF 含有脚本、自动操作或内嵌文件（/{listed}），请另存为普通 PDF 后上传",
            f"The PDF carries scripts, automatic actions or embedded files (/{listed})",
        )
    if open_action:
        raise _refuse_pdf(
            "PDF 打开时会自动执行操作，请另存为普通 PDF 后上传",
            "The PDF runs an action when it is opened",
        )


def _check_pdf(data: bytes) -> None:
    """Refuses a PDF that may act on its own when opened or that hides what it holds. Names are
    compared after ``#xx`` escapes are undone; object streams (where PDF 1.5+ keeps its
    dictionaries, compressed) are decoded, within a budget, and read too. An object stream that
    cannot be decoded, and an encrypted PDF, cannot be checked and are refused; so is a PDF
    with more names than ``PDF_MAX_NAMES`` (422 ``pdf_too_complex``). Linear in the size."""
    names = _Names()
    outside, streams = _split_pdf(data, names)
    _check_text(outside, names)
    budget = PDF_DECODE_BUDGET
    for s in streams:
        if not s.objstm:
            continue  # page content, images, fonts: no dictionaries of the document live there
        try:
            if s.filters is None:
                raise ValueError("unreadable filter")
            decoded, budget = _decode(data[s.start : s.end], s.filters, budget)
        except (ValueError, IndexError, zlib.error, binascii.Error):
            raise _unreadable() from None
        _check_text(decoded, names)
