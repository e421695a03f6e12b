"""ReportLab plumbing shared by every printed document: embedded Chinese fonts,
safe paragraphs, visible markers for characters no font has, 第 N 页 共 M 页."""
import logging
from functools import cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate

log = logging.getLogger(__name__)
FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "NotoSansSC", "NotoSansSC-Bold"
PAGE = A4
MARGIN = 20 * mm


@cache
def register_fonts() -> frozenset[int]:
    """Register Noto Sans SC Regular and Bold (embedded, subset by ReportLab) once;
    returns the code points the font can draw."""
    regular = TTFont(REGULAR, str(FONT_DIR / "NotoSansSC-Regular.ttf"))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont(BOLD, str(FONT_DIR / "NotoSansSC-Bold.ttf")))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
    return frozenset(regular.face.charToGlyph)


def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=11, leading=17, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=20, leading=28, alignment=TA_CENTER,
                                spaceAfter=4 * mm),
        "number": ParagraphStyle("number", parent=body, alignment=2, spaceAfter=4 * mm),  # right
        "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=13, leading=19, keepWithNext=1,
                             spaceBefore=4 * mm,
                             spaceAfter=2 * mm),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=9, leading=13),
        "cell": ParagraphStyle("cell", parent=body, fontSize=10, leading=15),
        "label": ParagraphStyle("label", parent=body, fontName=BOLD, fontSize=10, leading=15),
    }


MISSING_MARK = '<font color="#c00000">〔缺字 U+{cp:04X}〕</font>'


def safe(text) -> str:
    """User text as paragraph markup: escaped (a party called 张<三>& prints literally),
    line breaks kept, and any character the font lacks replaced by a visible red
    marker naming its code point (and logged), never a silent blank."""
    if text is None:
        return ""
    known = register_fonts()
    out = []
    for ch in str(text):
        cp = ord(ch)
        if ch == "\n":
            out.append("<br/>")
        elif cp < 32 or ch.isspace() or cp in known:
            out.append(escape(ch) if cp >= 32 or ch == " " else " ")
        else:
            log.warning("PDF: no glyph for U+%04X; printed a marker instead", cp)
            out.append(MISSING_MARK.format(cp=cp))
    return "".join(out)


def para(text, style: ParagraphStyle) -> Paragraph:
    """A paragraph of user text."""
    return Paragraph(safe(text), style)


def markup(fixed: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of our own markup (labels, bold); user parts must go through ``safe``."""
    return Paragraph(fixed, style)


class _NumberedCanvas(canvas.Canvas):
    """Draws 第 N 页 共 M 页 on every page once the page count is known."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages = []

    def showPage(self):  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(REGULAR, 9)
            self.drawCentredString(PAGE[0] / 2, 10 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            super().showPage()
        super().save()


def build(flowables, *, title: str, author: str, subject: str = "") -> bytes:
    """Render to PDF bytes: A4, metadata, page numbers."""
    register_fonts()
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN + 4 * mm, title=title, author=author, subject=subject,
                            creator="mediation")
    doc.build(list(flowables), canvasmaker=_NumberedCanvas)
    return buffer.getvalue()
