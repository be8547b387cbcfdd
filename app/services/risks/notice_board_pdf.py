"""The risk notice board as a printable A4 PDF (reportlab platypus).

Chinese text is set in reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1): the PDF names
the font and carries no font file, and viewers draw it with their Asian font support (Acrobat's
Asian font pack, pdf.js, Poppler with its CJK data, the browsers'). No font is shipped with the
project and none is needed on the server.

The board is a flow of small pieces — a header band in the level's colour, then one heading bar
per section and a paragraph per line — so any number of measures continues on further pages
instead of being cut, and a long line wraps (CJK wrapping: no spaces needed).

CPU-bound and blocking: callers run ``render`` in a worker thread (app/api/v1/notice_boards.py).
"""

from __future__ import annotations

import io
import unicodedata
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))  # once, at import: the registry is global

TITLE = "安全风险告知牌"
MARGIN = 15 * mm
WIDTH = A4[0] - 2 * MARGIN
# Text on the band: white reads on red, orange and blue; black on yellow.
DARK_TEXT_ON = {"yellow"}


def _style(name: str, size: float, **kw: Any) -> ParagraphStyle:
    return ParagraphStyle(
        name, fontName=FONT, fontSize=size, leading=size * 1.4, wordWrap="CJK", **kw
    )


BODY = _style("body", 11)
ITEM = _style("item", 11, leftIndent=6 * mm, firstLineIndent=-4 * mm)
SUBHEAD = _style("subhead", 11.5, textColor=colors.HexColor("#333333"), spaceBefore=2)
SECTION = _style("section", 13, textColor=colors.white)
PHONE = _style("phone", 14)


def _plain(value: object) -> str:
    """Text the CID font can take: control characters and lone surrogates dropped, and what
    lies beyond the Basic Multilingual Plane (emoji, CJK Extension B …), which its two-byte
    encoding cannot name, shown as □ (else it would garble the glyphs after it)."""
    return "".join(
        "□" if ord(c) > 0xFFFF else c
        for c in str(value)
        if unicodedata.category(c) not in ("Cc", "Cs")
    )


def _text(value: object) -> str:
    """User text as paragraph markup: ``_plain`` and the markup characters escaped (a ``<`` in a
    measure is text, never a tag)."""
    return escape(_plain(value))


def _band(board: dict[str, Any]) -> Table:
    color = colors.HexColor(board["color_hex"])
    ink = "#000000" if board["level"] in DARK_TEXT_ON else "#FFFFFF"
    title = _style("title", 30, alignment=1, textColor=colors.HexColor(ink))
    name = _style("name", 18, alignment=1, textColor=colors.HexColor(ink))
    level = _style("level", 16, alignment=1, textColor=colors.HexColor(ink))
    retired = "（已撤销）" if board["status"] == "retired" else ""
    rows = [
        [Paragraph(TITLE, title)],
        [Paragraph(_text(board["name"]), name)],
        [Paragraph(f"{_text(board['level_name'])}{retired}", level)],
    ]
    band = Table(rows, colWidths=[WIDTH])
    band.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), color),
                ("BOX", (0, 0), (-1, -1), 1, colors.HexColor("#333333")),
                ("TOPPADDING", (0, 0), (-1, 0), 10),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 10),
            ]
        )
    )
    return band


def _heading(title: str, color: str) -> Table:
    """A section's bar; kept with what follows it by the caller."""
    bar = Table([[Paragraph(title, SECTION)]], colWidths=[WIDTH])
    bar.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor(color)),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return bar


def _section(title: str, lines: list[Paragraph], color: str = "#404040") -> list[Any]:
    """The bar and the first line stay together; the rest flows onto further pages."""
    lines = lines or [Paragraph("无", BODY)]
    return [Spacer(1, 4 * mm), KeepTogether([_heading(title, color), lines[0]]), *lines[1:]]


def _numbered(items: list[str]) -> list[Paragraph]:
    return [Paragraph(f"{n}. {_text(t)}", ITEM) for n, t in enumerate(items, 1)]


def _phones(phones: list[dict[str, Any]]) -> Table:
    rows = [
        [Paragraph(_text(p["name"]), PHONE), Paragraph(_text(p["number"]), PHONE)] for p in phones
    ]
    table = Table(rows, colWidths=[WIDTH * 0.55, WIDTH * 0.45])
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def story(board: dict[str, Any]) -> list[Any]:
    """The flowables of the board, in the JSON's order."""
    level_color = board["color_hex"]
    point = [
        Paragraph(f"名称：{_text(board['name'])}", BODY),
        Paragraph(f"所属企业：{_text(board['enterprise']['name'])}", BODY),
    ]
    if board["location_text"]:
        point.append(Paragraph(f"位置：{_text(board['location_text'])}", BODY))
    level = [
        Paragraph(f"风险等级：{_text(board['level_name'])}", BODY),
        Paragraph(f"管控层级：{_text(board['control_level_name'])}", BODY),
    ]
    if board["reviewed_at"]:
        level.append(Paragraph(f"评审日期：{board['reviewed_at']}", BODY))
    measures: list[Paragraph] = []
    for group in board["control_measures"]:
        measures.append(Paragraph(f"{_text(group['name'])}措施", SUBHEAD))
        measures.extend(_numbered(group["items"]))
    responsible = board["responsible"]
    people = (
        [Paragraph(f"责任人：{_text(responsible['person'])}", BODY)]
        + ([Paragraph(f"岗位：{_text(responsible['post'])}", BODY)] if responsible["post"] else [])
        if responsible
        else []
    )
    return [
        _band(board),
        *_section("风险点", point),
        *_section("风险等级", level, level_color if board["level"] != "yellow" else "#B8860B"),
        *_section("危险有害因素", _numbered([f["name"] for f in board["hazard_factors"]])),
        *_section("可能导致的事故类型", [_joined(t["name"] for t in board["accident_types"])]),
        *_section("管控措施", measures),
        *_section("应急处置措施", _numbered(board["emergency_measures"])),
        *_section("责任人", people),
        Spacer(1, 4 * mm),
        KeepTogether([_heading("应急电话", "#C00000"), _phones(board["emergency_phones"])]),
    ]


def _joined(names: Any) -> Paragraph:
    text = "、".join(_text(n) for n in names)
    return Paragraph(text or "无", BODY)


def render(board: dict[str, Any]) -> bytes:
    """The board (``RiskNoticeBoardOut`` as a dict) as the bytes of an A4 PDF."""
    out = io.BytesIO()
    footer_text = f"{board['enterprise']['name']} · {board['name']}"

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(MARGIN, 8 * mm, _plain(footer_text)[:80])
        canvas.drawRightString(A4[0] - MARGIN, 8 * mm, f"{TITLE} 第 {doc.page} 页")
        canvas.restoreState()

    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=f"{TITLE} {_plain(board['name'])}",
        author=_plain(board["enterprise"]["name"]),
        subject=TITLE,
        creator="anjian",
    )
    doc.build(story(board), onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
