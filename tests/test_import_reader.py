"""The import reader (issue 16) on the files county offices send: GB18030 CSVs from old systems,
UTF-8 with and without BOM, any of three separators, XLSX with merged title rows; and on hostile
files (Latin-1 passed off as GB18030, .xls, zip bombs, huge dimensions, random bytes), which are
a clear 4xx ``ImportFileError``, never another exception. Pure functions: no database."""

from __future__ import annotations

import io
import zipfile
import zlib
from datetime import date, datetime

import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.imports.reader import ImportFileError, Table, parse_date, read_table

KNOWN = {"企业名称", "统一社会信用代码", "所属行业", "整改期限", "name", "credit_code", "industry"}


def is_header(text: str) -> bool:
    return text in KNOWN


def read(data: bytes, **limits: int) -> Table:
    return read_table(data, "upload", is_header, **limits)


def refused(data: bytes, **limits: int) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        read(data, **limits)
    error = caught.value
    assert error.zh and error.en and 400 <= error.status < 500
    return error


def xlsx(write) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    write(workbook, workbook.add_worksheet("企业"))
    workbook.close()
    return buffer.getvalue()


REGISTER_CSV = (
    "2026年埇桥区企业名录\n"
    "\n"
    "企业名称,credit_code,所属行业\n"
    '埇桥区甲化工有限公司,91341302MA2N0TQ01X,"危险化学品"\n'
    '"乙建材, 有限公司",91341302MA2N0TQ02X,"建材\n（水泥）"\n'
    ",,\n"
    "丙公司,91341302MA2N0TQ03X,\n"
    "\n"
)


def register_xlsx() -> bytes:
    def write(workbook, sheet) -> None:  # type: ignore[no-untyped-def]
        title = workbook.add_format({"bold": True, "align": "center"})
        day = workbook.add_format({"num_format": "yyyy-mm-dd"})
        sheet.merge_range("A1:D1", "2026年埇桥区企业名录", title)
        sheet.write_row("A3", ["企业名称", "credit_code", "所属行业", "整改期限"])
        sheet.write_row("A4", ["埇桥区甲化工有限公司", "91341302MA2N0TQ01X", "危险化学品"])
        sheet.write_datetime("D4", datetime(2026, 11, 3), day)
        sheet.write_row("A6", ["乙建材有限公司", "91341302MA2N0TQ02X", "", 46329])

    return xlsx(write)


# -------------------------------------------------------------------------------- encodings


def test_gb18030_with_characters_outside_gbk_reads_correctly() -> None:
    text = "企业名称,credit_code\n𠀀䶮埇桥商行,91341302MA2N0TQ01X\n"
    with pytest.raises(UnicodeEncodeError):
        "𠀀".encode("gbk")  # 4-byte GB18030 sequences, not GBK
    table = read(text.encode("gb18030"))
    assert table.encoding == "gb18030"
    assert table.rows == [(2, ["𠀀䶮埇桥商行", "91341302MA2N0TQ01X"])]


def test_utf8_with_bom_and_plain_utf8() -> None:
    text = "企业名称,name\n甲公司,Société Générale\n"
    bom = read(text.encode("utf-8-sig"))
    plain = read(text.encode("utf-8"))
    assert (bom.encoding, plain.encoding) == ("utf-8-sig", "utf-8")
    assert bom.headers == plain.headers == ["企业名称", "name"]  # no BOM glued to the header
    assert bom.rows == plain.rows == [(2, ["甲公司", "Société Générale"])]


@pytest.mark.parametrize(
    "text",
    [
        "name;industry\nSociété Générale;Paris\n",
        # Every accented letter followed by an ASCII letter: valid GB18030, read as garbage hanzi.
        "name;industry\nCrédit Agricole;Générale\nBanque Sérieuse;Défense\n",
    ],
)
def test_latin1_file_is_refused_not_read_as_chinese(text: str) -> None:
    data = text.encode("latin-1")
    error = refused(data)
    assert (error.status, error.code) == (422, "unknown_encoding")
    assert "GB18030" in error.en and "GB18030" in error.zh


def test_gbk_extension_characters_in_chinese_text_are_accepted() -> None:
    """镕 and 昇 have a trail byte below 0xA1, like Latin-1 pairs; among ordinary hanzi they are
    still read (as is 埇, GBK/3)."""
    assert "镕".encode("gb18030")[1] < 0xA1 and "昇".encode("gb18030")[1] < 0xA1
    table = read("企业名称,所属行业\n埇桥区镕昇机械厂,建材\n".encode("gb18030"))
    assert table.rows == [(2, ["埇桥区镕昇机械厂", "建材"])]


# ---------------------------------------------------------------------------- separators, rows


@pytest.mark.parametrize("separator", [",", ";", "\t"])
def test_each_separator_is_detected(separator: str) -> None:
    lines = [
        "2026年企业名录",
        separator.join(["企业名称", "credit_code", "所属行业"]),
        separator.join(['"甲, 乙; 丙\t公司"', "91341302MA2N0TQ01X", "建材"]),
        separator.join(["丁公司", "91341302MA2N0TQ02X", ""]),
    ]
    table = read(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    assert table.separator == separator
    assert table.header_row == 2
    assert table.rows == [
        (3, ["甲, 乙; 丙\t公司", "91341302MA2N0TQ01X", "建材"]),
        (4, ["丁公司", "91341302MA2N0TQ02X", None]),
    ]


def test_csv_title_rows_quoted_newlines_and_row_numbers() -> None:
    """Rows are records as Excel numbers them: the title and the blank row count, a quoted field
    over two lines is one row, a fully empty row is skipped, the trailing empty line is dropped."""
    table = read(REGISTER_CSV.encode("gb18030"))
    assert table.header_row == 3
    assert table.headers == ["企业名称", "credit_code", "所属行业"]
    assert table.rows == [
        (4, ["埇桥区甲化工有限公司", "91341302MA2N0TQ01X", "危险化学品"]),
        (5, ["乙建材, 有限公司", "91341302MA2N0TQ02X", "建材\n（水泥）"]),
        (7, ["丙公司", "91341302MA2N0TQ03X", None]),
    ]


def test_header_not_found_and_duplicate_columns() -> None:
    error = refused("公司,代码\n甲,1\n".encode())
    assert (error.status, error.code) == (422, "header_not_found")
    assert "企业名称" in error.zh
    error = refused("企业名称,name,企业名称\n甲,乙,丙\n".encode())
    assert (error.status, error.code) == (422, "duplicate_column")
    assert "企业名称" in error.zh and "Row 1" in error.en


def test_a_single_column_table_and_a_header_too_far_down() -> None:
    assert read("企业名称\n甲\n乙\n".encode()).rows == [(2, ["甲"]), (3, ["乙"])]
    below = "\n" * 25 + "企业名称,credit_code\n甲,1\n"
    assert refused(below.encode()).code == "header_not_found"


def test_too_many_rows_is_413() -> None:
    data = ("name,credit_code\n" + "甲,1\n" * 11).encode()
    assert len(read(data, max_rows=11).rows) == 11
    error = refused(data, max_rows=10)
    assert (error.status, error.code) == (413, "too_many_rows")


# ------------------------------------------------------------------------------------ XLSX


def test_xlsx_with_merged_title_mixed_headers_and_dates() -> None:
    table = read(register_xlsx())
    assert (table.encoding, table.separator) == (None, None)
    assert table.header_row == 3
    assert table.headers == ["企业名称", "credit_code", "所属行业", "整改期限"]
    (row4, cells4), (row6, cells6) = table.rows
    assert (row4, row6) == (4, 6)
    assert cells4[:3] == ["埇桥区甲化工有限公司", "91341302MA2N0TQ01X", "危险化学品"]
    assert cells6[2] is None  # '' is None
    assert parse_date(cells4[3]) == date(2026, 11, 3)  # a date cell
    assert parse_date(cells6[3]) == date(2026, 11, 3)  # a serial number


def test_old_xls_is_415() -> None:
    error = refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    assert (error.status, error.code) == (415, "unsupported_file_type")
    assert "XLSX" in error.zh and ".xls" in error.en


def test_a_zip_that_is_not_a_workbook_and_a_corrupt_zip() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("readme.txt", "not a workbook")
    assert refused(buffer.getvalue()).status == 415
    broken = register_xlsx()[:300]
    assert (refused(broken).status, refused(broken).code) == (422, "unreadable_file")


def _bomb(declared_mb: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(declared_mb):
                member.write(chunk)
    return buffer.getvalue()


def test_zip_bomb_is_refused_from_the_central_directory() -> None:
    """Over the uncompressed limit (lowered here, so the test stays fast), and a member whose
    ratio is absurd (1000:1 zeros) under a generous limit."""
    bomb = _bomb(12)
    assert len(bomb) < 100_000
    error = refused(bomb, max_uncompressed_bytes=8 * 1024 * 1024)
    assert (error.status, error.code) == (413, "file_too_large")
    error = refused(bomb)
    assert (error.status, error.code) == (413, "file_too_large")


def test_dimension_over_max_cells_is_refused_before_loading(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The worksheet declares A1:Z200000 (5.2M cells) with one real cell: refused from the
    dimension, calamine never opens the file."""
    import python_calamine

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("calamine was called")

    data = register_xlsx()
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                start = content.index(b"<dimension")
                end = content.index(b"/>", start) + 2
                content = content[:start] + b'<dimension ref="A1:Z200000"/>' + content[end:]
            target.writestr(info.filename, content)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", never)
    error = refused(out.getvalue(), max_cells=1_000_000)
    assert (error.status, error.code) == (413, "too_many_cells")
    error = refused(out.getvalue(), max_rows=1000)
    assert (error.status, error.code) == (413, "too_many_rows")


# ------------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-03",
        "2026/11/3",
        " 2026.11.3 ",
        "2026年11月3日",
        "20261103",
        "2026-11-03 08:30:00",
        46329,
        46329.75,
        date(2026, 11, 3),
        datetime(2026, 11, 3, 9, 0),
    ],
)
def test_parse_date_accepts_what_offices_write(value: object) -> None:
    assert parse_date(value) == date(2026, 11, 3)


def test_excel_serial_edges() -> None:
    assert parse_date(1) == date(1900, 1, 1)
    assert parse_date(59) == date(1900, 2, 28)
    assert parse_date(61) == date(1900, 3, 1)  # after Excel's phantom 1900-02-29 (serial 60)
    assert parse_date(2958465) == date(9999, 12, 31)


@pytest.mark.parametrize(
    "value",
    ["2026-13-01", "2026-02-30", "2026/11-3", "11/3/2026", "明天", "", "46329", 0, 60, 2958466,
     -1, float("nan"), float("inf"), True, None, [2026]],
)  # fmt: skip
def test_parse_date_refuses_anything_else(value: object) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date(value)
    zh, _, en = str(caught.value).partition("|")
    assert zh.startswith("无法识别的日期：") and en.startswith("Not a date: ")


# ------------------------------------------------------------------------------- hypothesis


def _only_table_or_refusal(data: bytes) -> None:
    try:
        table = read(data, max_uncompressed_bytes=50 * 1024 * 1024)
    except ImportFileError as error:
        assert error.status in (413, 415, 422), error.code
    else:
        assert isinstance(table, Table)
        assert all(len(cells) >= len(table.headers) for _, cells in table.rows)


_VALID_XLSX = register_xlsx()
_VALID_CSV = REGISTER_CSV.encode("gb18030")


@st.composite
def mutated(draw, original: bytes) -> bytes:  # type: ignore[no-untyped-def]
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "cut", "insert"]))
        if kind == "flip":
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        if not data:
            break
    return bytes(data)


_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(data=st.binary(max_size=2048))
def test_random_bytes_never_escape(data: bytes) -> None:
    _only_table_or_refusal(data)


@_SETTINGS
@given(
    data=st.one_of(st.binary(max_size=512).map(lambda b: b"PK\x03\x04" + b), mutated(_VALID_XLSX))
)
def test_mutated_xlsx_never_escapes(data: bytes) -> None:
    _only_table_or_refusal(data)


@_SETTINGS
@given(data=mutated(_VALID_CSV))
def test_mutated_csv_never_escapes(data: bytes) -> None:
    _only_table_or_refusal(data)


def _rewrite_sheet(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = change(content)
            target.writestr(info.filename, content)
    return out.getvalue()


@pytest.mark.parametrize(
    "far_cell",
    [
        b'<c r="XFD50" t="inlineStr"><is><t>x</t></is></c>',  # as Excel writes cells
        b"<c  t='inlineStr' r='xfd50'><is><t>x</t></is></c>",  # any other spelling
        b'<c r="A50"/>' + b"<c><v>1</v></c>" * 20_000,  # cells without a reference, placed after
    ],
)
def test_a_far_cell_under_a_lying_dimension_is_refused_before_loading(
    monkeypatch, far_cell: bytes
) -> None:  # type: ignore[no-untyped-def]
    """Calamine holds a sheet as a dense range: one cell at XFD50 under ``<dimension ref="A1"/>``
    would be 819,200 cells (XFD1048576, 17 billion). The cells' own references are counted."""
    import python_calamine

    def far(content: bytes) -> bytes:
        start = content.index(b"<dimension")
        end = content.index(b"/>", start) + 2
        content = content[:start] + b'<dimension ref="A1"/>' + content[end:]
        row = b'<row r="50">' + far_cell + b"</row></sheetData>"
        return content.replace(b"</sheetData>", row)

    data = _rewrite_sheet(register_xlsx(), far)
    assert len(read(data).rows) == 3  # within the default limits it reads (row 50 is data)

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("calamine was called")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", never)
    error = refused(data, max_cells=100_000)
    assert (error.status, error.code) == (413, "too_many_cells")


def test_a_member_lying_about_its_size_is_refused(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """zipfile stops a member at its declared size (and checks the CRC of what it read); calamine's
    reader would not. A sheet that declares 100 bytes, with the CRC of its first 100, and inflates
    to more is refused."""
    original = register_xlsx()
    name = b"xl/worksheets/sheet1.xml"
    prefix = zipfile.ZipFile(io.BytesIO(original)).read(name.decode())[:100]
    data = bytearray(original)
    at = 0
    while (at := data.find(b"PK\x01\x02", at)) >= 0:
        length = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + length] == name:
            data[at + 16 : at + 20] = zlib.crc32(prefix).to_bytes(4, "little")
            data[at + 24 : at + 28] = (100).to_bytes(4, "little")
        at += 4
    lying = zipfile.ZipFile(io.BytesIO(bytes(data)))
    assert lying.read(name.decode()) == prefix  # zipfile alone is fooled
    import python_calamine

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("calamine was called")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", never)
    error = refused(bytes(data))
    assert (error.status, error.code) == (422, "unreadable_file")


_MEMBERS = {info.filename: zipfile.ZipFile(io.BytesIO(_VALID_XLSX)).read(info) for info in
            zipfile.ZipFile(io.BytesIO(_VALID_XLSX)).infolist()}  # fmt: skip


@st.composite
def mutated_inside(draw) -> bytes:  # type: ignore[no-untyped-def]
    """A valid zip around mutated XML, so that calamine itself (not the CRC check) meets it."""
    name = draw(st.sampled_from(sorted(_MEMBERS)))
    content = draw(mutated(_MEMBERS[name]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member, original in _MEMBERS.items():
            target.writestr(member, content if member == name else original)
    return out.getvalue()


@_SETTINGS
@given(data=mutated_inside())
def test_mutated_workbook_xml_never_escapes(data: bytes) -> None:
    _only_table_or_refusal(data)


def test_a_bug_in_is_header_is_not_disguised_as_a_bad_file() -> None:
    def broken(text: str) -> bool:
        raise KeyError(text)

    with pytest.raises(KeyError):
        read_table("企业名称,name\n甲,乙\n".encode(), None, broken)


def test_a_long_quoted_field_reads() -> None:
    long = "长" * 200_000  # over the csv module's default 131,072-character field limit
    table = read(f'企业名称,name\n"{long}",乙\n'.encode("gb18030"))
    assert table.rows == [(2, [long, "乙"])]
