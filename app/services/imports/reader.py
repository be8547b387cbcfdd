"""The reading layer of bulk imports: bytes in, a table of rows (with the row numbers a person sees
in Excel) out, or a clear 4xx ``ImportFileError``; never another exception, never a guess.

The kind of file is decided by its content, never by its name: a zip (``PK\\x03\\x04``) is XLSX, an
OLE2 compound file (``\\xd0\\xcf\\x11\\xe0``, an old .xls) is refused 415, anything else is CSV.

CSV
- Encoding: a UTF-8 BOM means ``utf-8-sig``; else strict UTF-8; else strict GB18030, but only when
  the decoded text is plausible Chinese (see ``_plausible_gb18030``); else 422 ``unknown_encoding``.
- Separator: ``,`` ``;`` or tab, chosen by parsing the first records with each and keeping the one
  whose most frequent column count (over at least two columns) is shared by the most records; ties
  go to the wider table, then to the order ``,`` ``;`` tab. ``csv.Sniffer`` is not used: it guesses
  wrong on short files and on title rows.
- A "row" is a CSV record, counted from 1: a quoted field spanning lines is one record, and this is
  the row number Excel shows when it opens the file.

XLSX (first sheet, read by python-calamine), guarded before calamine sees it:
1. the zip's central directory: more than ``max_uncompressed_bytes`` declared in all, or one member
   expanding more than 200 times to over 5 MB, is 413 ``file_too_large``; encrypted members, other
   compression methods than stored/deflate, more than 10,000 members are 422 ``unreadable_file``;
2. the sheet's ``<dimension ref>`` (from the first 64 KB of its XML, streamed): more rows than
   ``max_rows`` + the header search area is 413 ``too_many_rows``, more cells from A1 than
   ``max_cells`` is 413 ``too_many_cells``; a missing dimension is fine;
3. every member inflated from its raw bytes and held to the size and CRC the directory declares
   (zipfile stops at the declared size, calamine's Rust zip reader is not known to: a lying member
   would be a bomb step 1 cannot see) → 422 ``unreadable_file``; on the way, the first sheet's cell
   references give the dense range calamine will allocate (one cell at XFD1048576 is 17 billion
   cells, whatever the dimension says), held to the same limits as step 2.
Cells come back as calamine gives them (str, float, int, bool, date, datetime, time, timedelta);
only empty and blank strings become None. A zip that is not a workbook (no ``xl/workbook.xml``:
ODS, XLSB, anything) is 415 ``unsupported_file_type``.

The header is the first row of the first 20 with at least two cells that ``is_header`` accepts (or
one, when no row there has more than one non-empty cell). Data rows are padded with None to the
header's width; cells beyond it are kept when not empty (so the caller can report them); fully
empty rows are skipped; more than ``max_rows`` data rows is 413 ``too_many_rows``.

Status and codes: 413 ``file_too_large`` ``too_many_rows`` ``too_many_cells``; 415
``unsupported_file_type``; 422 ``unreadable_file`` ``unknown_encoding`` ``header_not_found``
``duplicate_column``.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

HEADER_SEARCH_ROWS = 20
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0"
_SEPARATORS = (",", ";", "\t")
_SNIFF_CHARS = 64 * 1024
_MAX_RATIO = 200
_RATIO_FLOOR = 5 * 1024 * 1024
_MAX_MEMBERS = 10_000
_DIMENSION_PEEK = 64 * 1024
_CSV_FIELD_LIMIT = 1024 * 1024
# Process-wide (the csv module has no per-reader limit): raised once here, never lowered, so that
# readers in several threads do not race on it. Excel's own limit is 32,767 characters a cell.
csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))


class _CallerError(Exception):
    """An exception raised by the caller's ``is_header``: a bug to see, not a file to refuse."""

    def __init__(self, original: BaseException) -> None:
        self.original = original


def _guarded(is_header: Callable[[str], bool]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            return is_header(text)
        except Exception as exc:
            raise _CallerError(exc) from exc

    return check


class ImportFileError(Exception):
    """A file that cannot be read as a table: status (413 or 422 or 415), code, zh, en."""

    def __init__(self, status: int, zh: str, en: str, *, code: str) -> None:
        super().__init__(f"{code}: {en}")
        self.status = status
        self.code = code
        self.zh = zh
        self.en = en


@dataclass(slots=True)
class Table:
    header_row: int  # the header's row number as the spreadsheet shows it (1-based)
    headers: list[str]  # the header cells as written (stripped), in column order
    rows: list[tuple[int, list[object]]]  # (row number as the spreadsheet shows it, cells)
    encoding: str | None  # "utf-8", "utf-8-sig", "gb18030" for CSV; None for XLSX
    separator: str | None  # for CSV


def _unreadable() -> ImportFileError:
    return ImportFileError(
        422,
        "文件无法读取，请另存为 XLSX 或 CSV 后重新上传",
        "The file cannot be read; save it as XLSX or CSV and upload it again",
        code="unreadable_file",
    )


def _too_large(limit: int) -> ImportFileError:
    mb = limit // (1024 * 1024)
    return ImportFileError(
        413,
        f"文件解压后过大（上限 {mb} MB）或压缩比异常",
        f"The file expands too much when unpacked (limit {mb} MB) or is compressed abnormally",
        code="file_too_large",
    )


def _too_many_rows(limit: int) -> ImportFileError:
    return ImportFileError(
        413,
        f"数据行数超过上限 {limit} 行，请拆分文件",
        f"More than {limit} data rows; split the file",
        code="too_many_rows",
    )


def _too_many_cells(limit: int) -> ImportFileError:
    return ImportFileError(
        413,
        f"单元格数量超过上限 {limit} 个，请拆分文件或删除多余的行列",
        f"More than {limit} cells; split the file or delete unused rows and columns",
        code="too_many_cells",
    )


def read_table(
    data: bytes,
    filename: str | None,
    is_header: Callable[[str], bool],
    *,
    max_rows: int = 200_000,
    max_cells: int = 10_000_000,
    max_uncompressed_bytes: int = 500 * 1024 * 1024,
) -> Table:
    """Read the first table of an uploaded file. ``filename`` is only for messages' sake; the
    content decides. Any failure of a parser on a hostile file becomes an ``ImportFileError``."""
    del filename  # the kind of file is decided by content
    try:
        if data.startswith(_OLE2):
            raise ImportFileError(
                415,
                "不支持旧版 Excel（.xls）文件，请另存为 XLSX 或 CSV 后重新上传",
                "Old Excel (.xls) files are not supported; save it as XLSX or CSV and upload it again",
                code="unsupported_file_type",
            )
        check = _guarded(is_header)
        if data.startswith(_ZIP):
            return _read_xlsx(data, check, max_rows, max_cells, max_uncompressed_bytes)
        return _read_csv(data, check, max_rows, max_cells)
    except ImportFileError:
        raise
    except _CallerError as wrapper:
        raise wrapper.original from None
    except MemoryError:
        raise _too_large(max_uncompressed_bytes) from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        # pyo3's PanicException (a Rust panic inside calamine) derives from BaseException.
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        raise _unreadable() from None


# ---------------------------------------------------------------------------------------- CSV


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            raise _unknown_encoding() from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise _unknown_encoding() from None
    if not _plausible_gb18030(text):
        raise _unknown_encoding()
    return text, "gb18030"


def _unknown_encoding() -> ImportFileError:
    return ImportFileError(
        422,
        "无法识别文件编码（应为 UTF-8 或 GB18030），请在 Excel 中另存为“CSV UTF-8”或 XLSX",
        "Unknown encoding (expected UTF-8 or GB18030); in Excel save as 'CSV UTF-8' or XLSX",
        code="unknown_encoding",
    )


def _plausible_gb18030(text: str) -> bool:
    """Whether text that decodes as GB18030 is Chinese rather than, say, Latin-1 read as GB18030.

    Most Latin-1 (or Windows-1252) text also decodes as GB18030: an accented letter (0x81–0xFE)
    followed by an ASCII letter is a valid GBK pair whose trail byte is below 0xA1, i.e. a character
    of GBK's extension areas (GBK/3, GBK/4), which real Chinese text uses rarely (镕, 昇). So the
    distinct non-ASCII characters of the text are sorted by where GB18030 puts them: "common" is a
    two-byte code with a trail byte ≥ 0xA1 (GB2312's hanzi and full-width punctuation, and the
    GBK/3 characters such as 埇 that share its trail range) or a
    four-byte code that is a letter (characters outside GBK, e.g. 𠀀 U+20000, 䶮); "rare" is a
    two-byte code with a trail byte below 0xA1; private-use characters (user-defined areas) and
    anything else are "rare" too. The text is plausible when common characters are at least as many
    as rare ones. A file with no non-ASCII character never reaches this (it is valid UTF-8).
    """
    common = rare = 0
    for char in set(text):
        if char < "\x80":
            continue
        encoded = char.encode("gb18030")
        category = unicodedata.category(char)
        if category == "Co":
            rare += 1
        elif len(encoded) == 2 and encoded[1] >= 0xA1:
            common += 1
        elif len(encoded) == 4 and category.startswith("L"):
            common += 1
        else:
            rare += 1
    return common >= rare and common > 0


def _records(text: str, separator: str) -> Iterable[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=False)


def _separator(text: str) -> str:
    sample = text[:_SNIFF_CHARS]
    cut = len(sample) < len(text)
    best: tuple[tuple[int, int, int], str] | None = None
    for rank, sep in enumerate(_SEPARATORS):
        try:
            rows = list(_records(sample, sep))
        except csv.Error:
            continue
        if cut and rows:
            rows = rows[:-1]  # the sample may end inside a record
        widths = Counter(len(r) for r in rows if any(c.strip() for c in r))
        widths.pop(1, None)
        widths.pop(0, None)
        if not widths:
            continue
        width, freq = max(widths.items(), key=lambda kv: (kv[1], kv[0]))
        score = (freq, width, -rank)
        if best is None or score > best[0]:
            best = (score, sep)
    return best[1] if best else ","


def _read_csv(
    data: bytes, is_header: Callable[[str], bool], max_rows: int, max_cells: int
) -> Table:
    text, encoding = _decode(data)
    separator = _separator(text)
    records = _records(text, separator)
    cells = 0

    def numbered() -> Iterable[tuple[int, list[object]]]:
        nonlocal cells
        for number, record in enumerate(records, start=1):
            cells += len(record)
            if cells > max_cells:
                raise _too_many_cells(max_cells)
            yield number, [v if v.strip() else None for v in record]

    return _table(numbered(), is_header, max_rows, encoding, separator)


# --------------------------------------------------------------------------------------- XLSX

_DIMENSION = re.compile(rb"<(?:\w{1,16}:)?dimension\s+ref\s*=\s*[\"']([^\"']{1,40})[\"']")
_SHEET_DATA = re.compile(rb"<(?:\w{1,16}:)?sheetData[\s>/]")
_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")
_FIRST_SHEET = re.compile(
    rb"<(?:\w{1,16}:)?sheet\s[^>]*?\b(?:\w{1,16}:)?id\s*=\s*[\"']([^\"']+)[\"']"
)
_RELATIONSHIP = re.compile(rb"<(?:\w{1,16}:)?Relationship\s[^>]*>")
_ATTR = re.compile(rb"\b(Id|Target)\s*=\s*[\"']([^\"']*)[\"']")


def _guard_zip(zf: zipfile.ZipFile, max_uncompressed_bytes: int) -> None:
    members = zf.infolist()
    if len(members) > _MAX_MEMBERS:
        raise _unreadable()
    total = 0
    for info in members:
        if info.flag_bits & 0x1:  # encrypted
            raise _unreadable()
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _unreadable()
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > max_uncompressed_bytes or (ratio > _MAX_RATIO and info.file_size > _RATIO_FLOOR):
            raise _too_large(max_uncompressed_bytes)


_CELL_REF = re.compile(
    rb"<(?:\w{1,16}:)?c\s[^>]*?(?<![\w:])r\s*=\s*[\"']\$?([A-Za-z]{1,3})\$?([0-9]{1,7})[\"']"
)
_CELL_TAG = re.compile(rb"<(?:\w{1,16}:)?c[\s>/]")
_ROW_REF = re.compile(rb"<(?:\w{1,16}:)?row\s[^>]*?(?<![\w:])r\s*=\s*[\"']([0-9]{1,7})[\"']")
_ROW_TAG = re.compile(rb"<(?:\w{1,16}:)?row[\s>/]")
_CHUNK = 1024 * 1024
_WIDE_COLUMN = re.compile(rb'<c r="([A-Za-z]{2,3})[0-9]')
# The row numbers of cell references with at least 1, 2 … 7 digits: a block is searched only
# for those that could pass the largest row met so far.
_ROWS_OF_DIGITS = [
    re.compile(rb'<c r="[A-Za-z]{1,3}([0-9]{%d,7})"' % digits) for digits in range(1, 8)
]
_MAX_TAG = 1024 * 1024


class _SheetScan:
    """The extent calamine will allocate (it holds a sheet as a dense range), from the cells' own
    references in the XML, whatever the ``<dimension>`` says: rows × columns from A1 to the farthest
    referenced cell, plus one step per cell or row written without a reference (calamine places
    those after the previous one). Fed the XML in pieces cut after a ``>``."""

    def __init__(self) -> None:
        self.rows = self.cols = self.bare_cells = self.bare_rows = 0
        self.carry = b""

    def feed(self, piece: bytes, final: bool = False) -> None:
        buffer = self.carry + piece
        cut = len(buffer) if final else buffer.rfind(b">") + 1
        if not final and len(buffer) - cut > _MAX_TAG:
            raise _unreadable()
        block, self.carry = buffer[:cut], buffer[cut:]
        if self._canonical(block):
            self._fast(block)
        else:
            self._general(block)

    @staticmethod
    def _canonical(block: bytes) -> bool:
        """Every cell written as ``<c r="…"`` (what Excel, WPS and xlsxwriter write): the fast
        path applies. Anything else (prefixes, other spacing or quotes, cells without a
        reference) takes the general one. Three scans of the block: every ``<c`` begins
        ``<c r="`` (so no ``<c>``, ``<c/``, ``<c`` and a tab or newline, and no other tag
        beginning ``<c`` such as ``<cols>``: that block goes the general way), and no ``:c`` at
        all (no prefixed cell)."""
        return b":c" not in block and block.count(b"<c") == block.count(b'<c r="')

    def _fast(self, block: bytes) -> None:
        """Columns: any cell means up to Z (26); wider columns are found by their two or three
        letters. Rows: only the references with at least as many digits as the largest row met
        so far are read (no shorter one can pass it), in one scan of the block."""
        if b'<c r="' not in block:
            return
        self.cols = max(self.cols, 26)
        for letters in set(_WIDE_COLUMN.findall(block)):
            self.cols = max(self.cols, _column_number(letters.decode()))
        found = _ROWS_OF_DIGITS[len(str(self.rows)) - 1 if self.rows else 0].findall(block)
        if found:
            self.rows = max(self.rows, max(map(int, found)))

    def _general(self, block: bytes) -> None:
        refs = _CELL_REF.findall(block)
        for letters in {c.upper() for c, _ in refs}:
            self.cols = max(self.cols, _column_number(letters.decode()))
        if refs:
            self.rows = max(self.rows, max(int(r) for _, r in refs))
        self.bare_cells += len(_CELL_TAG.findall(block)) - len(refs)
        row_refs = _ROW_REF.findall(block)
        if row_refs:
            self.rows = max(self.rows, max(map(int, row_refs)))
        self.bare_rows += len(_ROW_TAG.findall(block)) - len(row_refs)

    def area(self) -> tuple[int, int]:
        return self.rows + self.bare_rows, self.cols + self.bare_cells


def _verify_members(
    data: bytes, zf: zipfile.ZipFile, sheet: str | None, max_rows: int, max_cells: int
) -> None:
    """Inflate every member from its raw bytes and hold it to what the central directory declared
    (size and CRC, the stream ending exactly there). zipfile itself cuts a member at its declared
    size, but calamine's zip reader does not, so a member lying about its size would be a bomb
    the directory check cannot see. The first sheet's XML is scanned on the way (``_SheetScan``)."""
    view = memoryview(data)
    for info in zf.infolist():
        start = info.header_offset
        header = data[start : start + 30]
        if len(header) < 30 or header[:4] != _ZIP:
            raise _unreadable()
        begin = start + 30 + int.from_bytes(header[26:28], "little")
        begin += int.from_bytes(header[28:30], "little")
        raw = view[begin : begin + info.compress_size]
        if len(raw) != info.compress_size:
            raise _unreadable()
        scan = _SheetScan() if info.filename == sheet else None
        inflate = zlib.decompressobj(-15) if info.compress_type == zipfile.ZIP_DEFLATED else None
        size = crc = 0
        for at in range(0, max(len(raw), 1), _CHUNK):
            piece = bytes(raw[at : at + _CHUNK])
            while piece:
                if inflate is None:
                    out, piece = piece, b""
                else:
                    out = inflate.decompress(piece, _CHUNK)
                    piece = inflate.unconsumed_tail
                size += len(out)
                if size > info.file_size:
                    raise _unreadable()
                crc = zlib.crc32(out, crc)
                if scan is not None:
                    scan.feed(out)
                if inflate is not None and inflate.eof:
                    break
        if size != info.file_size or crc != info.CRC or (inflate is not None and not inflate.eof):
            raise _unreadable()
        if scan is not None:
            scan.feed(b"", final=True)
            rows, cols = scan.area()
            if rows > max_rows + HEADER_SEARCH_ROWS + 1:
                raise _too_many_rows(max_rows)
            if rows * cols > max_cells:
                raise _too_many_cells(max_cells)


def _first_sheet_path(zf: zipfile.ZipFile) -> str | None:
    """The XML member of the workbook's first sheet (what calamine's sheet 0 is), or None."""
    names = set(zf.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None
    with zf.open("xl/workbook.xml") as f:
        head = f.read(_DIMENSION_PEEK * 4)
    match = _FIRST_SHEET.search(head)
    if match is None:
        return None
    with zf.open("xl/_rels/workbook.xml.rels") as f:
        rels = f.read(_DIMENSION_PEEK * 4)
    for tag in _RELATIONSHIP.finditer(rels):
        attrs = dict(_ATTR.findall(tag.group(0)))
        if attrs.get(b"Id") == match.group(1) and b"Target" in attrs:
            target = attrs[b"Target"].decode("utf-8", "replace")
            path = target.lstrip("/") if target.startswith("/") else "xl/" + target
            return path if path in names else None
    return None


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _guard_dimension(zf: zipfile.ZipFile, path: str | None, max_rows: int, max_cells: int) -> None:
    """Refuse from the worksheet's ``<dimension ref>`` before calamine loads it.

    Calamine's rows start at A1 (``skip_empty_area=False``), so the area counted is from A1 to the
    dimension's bottom-right cell."""
    names = zf.namelist()
    paths = (
        [path]
        if path
        else [n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")]
    )
    for member in paths:
        with zf.open(member) as f:
            head = f.read(_DIMENSION_PEEK)
        found = _DIMENSION.search(head.split(b"<sheetData", 1)[0]) if head else None
        if found is None:
            continue
        last = found.group(1).decode("ascii", "replace").split(":")[-1]
        ref = _REF.fullmatch(last)
        if ref is None:
            continue
        rows, cols = int(ref.group(2)), _column_number(ref.group(1))
        if rows > max_rows + HEADER_SEARCH_ROWS + 1:
            raise _too_many_rows(max_rows)
        if rows * cols > max_cells:
            raise _too_many_cells(max_cells)


def _read_xlsx(
    data: bytes,
    is_header: Callable[[str], bool],
    max_rows: int,
    max_cells: int,
    max_uncompressed_bytes: int,
) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise _unreadable() from None
    with zf:
        _guard_zip(zf, max_uncompressed_bytes)
        if "xl/workbook.xml" not in zf.namelist():
            raise ImportFileError(
                415,
                "只支持 XLSX 或 CSV 文件，请另存为 XLSX 或 CSV 后重新上传",
                "Only XLSX or CSV files are supported; save it as XLSX or CSV and upload it again",
                code="unsupported_file_type",
            )
        sheet_path = _first_sheet_path(zf)
        _guard_dimension(zf, sheet_path, max_rows, max_cells)
        _verify_members(data, zf, sheet_path, max_rows, max_cells)
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    if not workbook.sheet_names:
        raise _unreadable()
    sheet = workbook.get_sheet_by_index(0)
    if sheet.height * sheet.width > max_cells:
        raise _too_many_cells(max_cells)
    grid = _grid(sheet)
    if len(grid) * max((len(r) for r in grid), default=0) > max_cells:
        raise _too_many_cells(max_cells)
    numbered = ((i, _cells(row)) for i, row in enumerate(grid, start=1))
    return _table(numbered, is_header, max_rows, None, None)


def _grid(sheet: object) -> list[list[object]]:
    """The sheet's rows from A1, as ``to_python(skip_empty_area=False)`` gives them, by
    ``iter_rows`` (measured twice as fast on 100,000 rows): it starts at row 1 too but at the
    first used column, so the columns left of it are put back as empty cells."""
    start = sheet.start  # type: ignore[attr-defined]
    rows = list(sheet.iter_rows())  # type: ignore[attr-defined]
    left = start[1] if start else 0
    return [[""] * left + row for row in rows] if left else rows


# -------------------------------------------------------------------------------------- Table


def _cells(row: list[object]) -> list[object]:
    """Empty cells (``''``, blanks) are None; everything else as calamine gives it. (CSV does the
    same inline: its cells are all strings.)"""
    return [v if v.__class__ is not str or v.strip() else None for v in row]  # type: ignore[attr-defined]


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _header_not_found() -> ImportFileError:
    return ImportFileError(
        422,
        f"前 {HEADER_SEARCH_ROWS} 行中未找到表头：表头行应至少包含两个可识别的列名"
        "（如“企业名称”“统一社会信用代码”或接口字段名），请使用导入模板",
        f"No header row in the first {HEADER_SEARCH_ROWS} rows: the header row must name at "
        "least two known columns (e.g. 企业名称, 统一社会信用代码, or the API's field names); "
        "use the import template",
        code="header_not_found",
    )


def _table(
    numbered: Iterable[tuple[int, list[object]]],
    is_header: Callable[[str], bool],
    max_rows: int,
    encoding: str | None,
    separator: str | None,
) -> Table:
    it = iter(numbered)
    seen: list[tuple[int, list[object], list[str]]] = []
    header: tuple[int, list[str]] | None = None
    pending: list[tuple[int, list[object]]] = []
    for number, cells in it:
        texts = [_text(c) for c in cells]
        seen.append((number, cells, texts))
        if len(seen) > HEADER_SEARCH_ROWS:
            break
        matches = sum(1 for t in texts if t and is_header(t))
        if matches >= 2:
            header = (number, texts)
            break
    if header is None:
        # A single-column table: a row whose one non-empty cell is a known header, when no row of
        # the search area has more than one non-empty cell.
        window = seen[:HEADER_SEARCH_ROWS]
        if all(sum(1 for t in texts if t) <= 1 for _, _, texts in window):
            for number, _, texts in window:
                filled = [t for t in texts if t]
                if len(filled) == 1 and is_header(filled[0]):
                    header = (number, texts)
                    break
        if header is None:
            raise _header_not_found()
        # Rows after the header that were already read are data.
        index = next(i for i, (n, _, _) in enumerate(seen) if n == header[0])
        pending = [(n, cells) for n, cells, _ in seen[index + 1 :]]
    header_row, texts = header
    while texts and not texts[-1]:
        texts.pop()
    counts = Counter(t for t in texts if t)
    duplicates = [name for name, n in counts.items() if n > 1]
    if duplicates:
        names = "、".join(duplicates)
        raise ImportFileError(
            422,
            f"第 {header_row} 行的表头有重复的列名：{names}",
            f"Row {header_row}: the header names a column more than once: {', '.join(duplicates)}",
            code="duplicate_column",
        )
    width = len(texts)
    rows: list[tuple[int, list[object]]] = []

    def add(number: int, cells: list[object]) -> None:
        if cells.count(None) == len(cells):
            return
        if len(rows) >= max_rows:
            raise _too_many_rows(max_rows)
        while len(cells) > width and cells[-1] is None:
            cells.pop()
        if len(cells) < width:
            cells.extend([None] * (width - len(cells)))
        rows.append((number, cells))

    for number, cells in pending:
        add(number, cells)
    for number, cells in it:
        add(number, cells)
    return Table(header_row, texts, rows, encoding, separator)


# -------------------------------------------------------------------------------------- Dates

_EXCEL_EPOCH = date(1899, 12, 30)
_MAX_SERIAL = 2_958_465  # 9999-12-31
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
_DATE_PATTERNS = (
    re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})" + _TIME),
    re.compile(r"(\d{4})(年)(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})()(\d{2})(\d{2})"),
)


def _not_a_date(value: object) -> ValueError:
    shown = repr(value)
    if len(shown) > 40:
        shown = shown[:37] + "…"
    return ValueError(f"无法识别的日期：{shown}|Not a date: {shown}")


def parse_date(value: object) -> date:
    """A date from a cell: ``2026-11-03``, ``2026/11/3``, ``2026.11.3``, ``2026年11月3日``,
    ``20261103`` (an optional time after the first form is ignored), an Excel serial date (int or
    float, 1900 date system, 1..2958465; the fraction, a time of day, is ignored; 60, Excel's
    nonexistent 1900-02-29, is refused), or a ``date``/``datetime``. Raises ``ValueError`` with a
    ``zh|en`` message."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise _not_a_date(value)
    if isinstance(value, int | float):
        if not math.isfinite(value) or not 1 <= value < _MAX_SERIAL + 1:
            raise _not_a_date(value)
        serial = int(value)
        if serial == 60:
            raise _not_a_date(value)
        # Excel counts 1900-02-29, which never was: serials below 60 are one day later.
        return _EXCEL_EPOCH + timedelta(days=serial if serial > 60 else serial + 1)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= 40:
            for pattern in _DATE_PATTERNS:
                match = pattern.fullmatch(text)
                if match:
                    try:
                        return date(int(match[1]), int(match[3]), int(match[4]))
                    except ValueError:
                        break
    raise _not_a_date(value)
