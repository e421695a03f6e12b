"""ReportLab plumbing shared by every printed document: embedded Chinese fonts,
safe paragraphs, Chinese line breaking, visible markers for characters no font has,
ruled label/value grids, 第 N 页 共 M 页."""
import logging
import os
import re
import threading
from array import array
from functools import cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.textsplit import ALL_CANNOT_END, ALL_CANNOT_START
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate
from reportlab.platypus.doctemplate import ActionFlowable
from reportlab.platypus.paragraph import ParaLines, _handleBulletWidth, makeCJKParaLine
from reportlab.platypus.paraparser import ParaParser

# Binary streams: ReportLab's ASCII85 wrapping of images is pure Python without its C
# accelerator (a photo took a second) and only made files a quarter larger.
rl_config.useA85 = 0

log = logging.getLogger(__name__)
FONT_DIR = Path(__file__).resolve().parent / "fonts"
REGULAR, BOLD = "NotoSansSC", "NotoSansSC-Bold"
PAGE = A4
MARGIN = 20 * mm


def _to_unicode_cmap(fontname, subset):
    """ReportLab's ToUnicode CMap for a font subset, with characters beyond the BMP
    written as UTF-16 surrogate pairs as the PDF reference requires. ReportLab 4.5
    writes them as five hex digits (``<2C317>``), an invalid string: viewers then
    copy and search such a character (e.g. 𬌗) as garbage or nothing."""
    def utf16(cp: int) -> str:
        if cp <= 0xFFFF:
            return f"{cp:04X}"
        cp -= 0x10000
        return f"{0xD800 + (cp >> 10):04X}{0xDC00 + (cp & 0x3FF):04X}"

    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap", "/CIDSystemInfo",
        f"<< /Registry ({fontname})", f"/Ordering ({fontname})", "/Supplement 0", ">> def",
        f"/CMapName /{fontname} def", "/CMapType 2 def", "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange", f"{len(subset)} beginbfchar",
        *(f"<{i:02X}> <{utf16(cp)}>" for i, cp in enumerate(subset)),
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ])


class _OnDisk:
    """The bytes of a font file, read from disk where ReportLab asks for them (it slices
    and indexes its ``_ttf_data``). ReportLab otherwise keeps each 10 MB file in every
    worker's memory for the glyphs a document uses; this reads them when a subset is made."""

    __slots__ = ("fd", "size")

    def __init__(self, path: Path):
        # Kept open for the life of the process: a deploy that replaces the file by renaming
        # (pip, git, rsync's default) leaves this one readable and unchanged.
        self.fd = os.open(path, os.O_RDONLY)
        self.size = os.fstat(self.fd).st_size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key):
        if isinstance(key, slice):
            start, stop, step = key.indices(self.size)
            if step != 1:
                raise ValueError("a font file is read in runs")
            return self._read(max(0, stop - start), start)
        if key < 0:
            key += self.size
        if not 0 <= key < self.size:
            raise IndexError(key)
        return self._read(1, key)[0]

    def _read(self, n: int, at: int) -> bytes:
        data = os.pread(self.fd, n, at)  # pread: no offset shared between threads
        if len(data) != n:  # the file was cut short under us: no half-embedded font
            raise OSError(f"font file shorter than when opened ({self.size} bytes)")
        return data


class _Run:
    """A table of an ``_OnDisk`` file, read where it is sliced. A subset takes a few hundred
    glyphs of the 9 MB 'glyf' table, which ReportLab otherwise reads whole for each document
    (and the freed 9 MB left glibc serving later allocations from a fragmented heap)."""

    __slots__ = ("data", "start", "size")

    def __init__(self, data: _OnDisk, start: int, size: int):
        self.data, self.start, self.size = data, start, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, key: slice) -> bytes:
        start, stop, step = key.indices(self.size)
        if step != 1:
            raise ValueError("a font table is read in runs")
        return self.data[self.start + start:self.start + max(start, stop)]


class _GlyphMetrics:
    """The font's per-glyph (advance width, left side bearing) pairs in two arrays: ReportLab
    only indexes them when it makes a subset. As a list of tuples of ints they took 4 MB a
    font in every worker."""

    __slots__ = ("advance", "bearing")

    def __init__(self, pairs):
        self.advance = array("i", (int(aw) for aw, _ in pairs))  # as the subset writes them
        self.bearing = array("i", (int(lsb) for _, lsb in pairs))

    def __len__(self) -> int:
        return len(self.advance)

    def __getitem__(self, glyph: int) -> tuple[int, int]:
        return self.advance[glyph], self.bearing[glyph]


def _slim(face) -> None:
    """Keep only what drawing and subsetting read, packed: each worker holds both fonts' maps
    for its life. ``glyphToChar`` serves shaping alone (off, see ``register_fonts``); the glyph
    offsets and metrics become arrays; the character widths share their few distinct values;
    the glyph outlines are read glyph by glyph (``_Run``)."""
    face.glyphToChar = {}
    face.glyphPos = array("L", face.glyphPos)
    face.hmetrics = _GlyphMetrics(face.hmetrics)
    widths: dict = {}
    face.charWidths = {cp: widths.setdefault(w, w) for cp, w in face.charWidths.items()}
    whole_table = face.get_table

    def get_table(tag: str):
        if tag == "glyf" and isinstance(face._ttf_data, _OnDisk):
            return _Run(face._ttf_data, *face.get_table_pos(tag))
        return whole_table(tag)
    face.get_table = get_table


def _share(face, other) -> None:
    """The Regular and Bold files map the same characters to the same glyphs: one map for
    both, and both width maps keyed by its numbers (about 4 MB less in every worker)."""
    if other.charToGlyph != face.charToGlyph:
        return
    other.charToGlyph = face.charToGlyph
    for f in (face, other):
        widths = f.charWidths
        keyed = {cp: widths[cp] for cp in face.charToGlyph if cp in widths}
        if len(keyed) == len(widths):  # (a width for a character without a glyph: left as it is)
            f.charWidths = keyed


class _FontSource:
    """A file-like object whose ``read`` gives ReportLab an ``_OnDisk`` (see there)."""

    def __init__(self, path: Path):
        self.name = str(path)

    def read(self) -> _OnDisk:
        return _OnDisk(Path(self.name))


_REGISTERING = threading.Lock()


@cache
def register_fonts():
    """Register Noto Sans SC Regular and Bold (embedded, subset by ReportLab) once;
    returns the code points the font can draw (a set-like view)."""
    with _REGISTERING:  # two threads' first PDFs must not register (and swap) the fonts twice
        if REGULAR in pdfmetrics.getRegisteredFontNames():
            return pdfmetrics.getFont(REGULAR).face.charToGlyph.keys()
        ttfonts.makeToUnicodeCMap = _to_unicode_cmap  # see _to_unicode_cmap
        # Not shapable: shaping (uharfbuzz, not installed) would want the file's bytes in memory.
        regular = TTFont(REGULAR, _FontSource(FONT_DIR / "NotoSansSC-Regular.ttf"), shapable=False)
        bold = TTFont(BOLD, _FontSource(FONT_DIR / "NotoSansSC-Bold.ttf"), shapable=False)
        _slim(regular.face)
        _slim(bold.face)
        _share(regular.face, bold.face)
        pdfmetrics.registerFont(regular)
        pdfmetrics.registerFont(bold)
        pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)
        return regular.face.charToGlyph.keys()


def _all_known(text: str) -> bool:
    """Whether every character prints as it is (else the text goes through ``safe``). The
    font's own code point view: a set of its 30,890 characters cost 3 MB a worker."""
    codes = set(map(ord, text))
    codes.discard(10)  # a line break is kept as a break
    return min(codes, default=32) >= 32 and register_fonts() >= codes


@cache
def styles() -> dict[str, ParagraphStyle]:
    """The documents' paragraph styles (shared: do not change them)."""
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
        "entry": ParagraphStyle("entry", parent=body, fontName=BOLD, fontSize=10, leading=15, keepWithNext=1,
                                spaceBefore=1 * mm, spaceAfter=1 * mm),  # an entry's heading in the diary book
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
        elif ch == "\u3000":
            out.append("&#12288;")  # a character reference: the markup cleaner would collapse it
        elif cp < 32 or ch.isspace() or cp in known:
            out.append(escape(ch) if cp >= 32 or ch == " " else " ")
        else:
            log.warning("PDF: no glyph for U+%04X; printed a marker instead", cp)
            out.append(MISSING_MARK.format(cp=cp))
    return "".join(out)


# --- Chinese line breaking ----------------------------------------------------------
# Kinsoku (避头尾, GB/T 15834 and the W3C "Requirements for Chinese Text Layout"): a
# line does not start with closing punctuation nor end with opening punctuation.
# ReportLab's CJK wrap knows only part of this: its list of characters that cannot
# start a line lacks the full-width ，；：！？》〉 (so a line could start with "，"),
# it never looks at characters that cannot end a line, and it lets a closing mark hang
# past the right edge, across the rule of a ruled cell. Here the break moves back
# instead: the last character of the line goes down with the punctuation.
NO_START = frozenset(ALL_CANNOT_START) | frozenset(
    "，。、；：！？）》」』】〕〉］｝〗〙〛”’…‥·・～％‰℃°′″!%),.:;?]}")
NO_END = frozenset(ALL_CANNOT_END) | frozenset("（《「『【〔〈［｛〖〘〚“‘([{")
UNSPLIT = frozenset("—…")  # ——　……　are not cut in two
_FUZZ = 1e-6


def _wordish(ch: str) -> bool:
    """Part of a run of Latin letters, digits and their punctuation (not cut inside)."""
    return ch != "" and ord(ch) < 0x2000 and not ch.isspace()


def _against_kinsoku(chars, b: int) -> bool:
    before, after = chars[b - 1], chars[b]
    return after in NO_START or before in NO_END or (before == after and before in UNSPLIT)


def _bad_break(chars, b: int) -> bool:
    return _against_kinsoku(chars, b) or (_wordish(chars[b - 1]) and _wordish(chars[b]))


def _break_before(chars, start: int, end: int) -> int:
    """Where to end a line that is full before ``end``: the nearest good place within
    half a line back, else one that at least obeys kinsoku (cutting a long Latin word),
    else ``end`` itself."""
    limit = max(1, (end - start) // 2)
    for bad in (_bad_break, _against_kinsoku):
        b = end
        while b > start + 1 and end - b < limit and bad(chars, b):
            b -= 1
        if not bad(chars, b):
            return b
    return end


def break_lines(chars, widths, max_widths, hard=frozenset()) -> list[tuple[int, int, float, bool]]:
    """Cut a sequence of characters (with their widths) into lines no wider than
    ``max_widths`` (the first line's, then the others'; the last repeats), obeying
    the kinsoku rules and keeping Latin words and numbers whole where it can.
    ``hard`` holds the indices of forced line breaks (their element ends the line).
    Returns (start, end, width used, forced) per line."""
    lines: list[tuple[int, int, float, bool]] = []
    n = len(chars)
    start = i = 0
    used = 0.0
    max_width = max_widths[0]
    while i < n:
        if i in hard:
            lines.append((start, i + 1, used, True))
            start = i = i + 1
            used = 0.0
            max_width = max_widths[min(len(lines), len(max_widths) - 1)]
            continue
        w = widths[i]
        if used + w > max_width + _FUZZ and i > start:
            b = _break_before(chars, start, i)
            lines.append((start, b, sum(widths[start:b]), False))
            while b < i and chars[b] == " ":  # no space at the start of a line
                b += 1
            start = b
            used = sum(widths[start:i])
            max_width = max_widths[min(len(lines), len(max_widths) - 1)]
            continue
        used += w
        i += 1
    if start < n or not lines:
        lines.append((start, n, used, False))
    return lines


_WIDTHS: dict[tuple[str, float], dict[str, float]] = {}


def char_widths(text: str, font_name: str, font_size: float) -> list[float]:
    """The width of each character, measured once per font and size (ReportLab's CJK
    wrap measures every character of every paragraph at every wrap)."""
    table = _WIDTHS.setdefault((font_name, font_size), {})
    try:
        return [table[ch] for ch in text]
    except KeyError:
        for ch in set(text).difference(table):
            table[ch] = pdfmetrics.stringWidth(ch, font_name, font_size)
        return [table[ch] for ch in text]


class _Glyph(str):
    """One character of a styled paragraph, as ReportLab's CJK line maker wants it
    (attributes ``frag`` and ``width``)."""


class CJKParagraph(Paragraph):
    """A paragraph wrapped by ``break_lines``: the kinsoku rules, and character widths
    measured once. Plain user text (``CJKParagraph.plain``) skips the markup parser."""

    _templates: dict[int, tuple] = {}

    @classmethod
    def plain(cls, text: str, style: ParagraphStyle) -> "CJKParagraph":
        """A paragraph of text that needs no markup: every character is in the font."""
        key = id(style)
        if key not in cls._templates:
            _style, frags, _bullet = ParaParser().parse("x", style)
            cls._templates[key] = (style, frags[0])  # keeps the style alive with its id
        frag = cls._templates[key][1]
        frags = []
        for n, line in enumerate(text.split("\n")):
            if n:
                frags.append(frag.clone(text="", lineBreak=True))
            line = _SPACES.sub(" ", line).strip(" ")  # as the markup cleaner does, keeping U+3000
            if line:
                frags.append(frag.clone(text=line))
        return cls(None, style, frags=frags)

    def breakLinesCJK(self, maxWidths):  # noqa: N802, N803 - ReportLab's names
        if getattr(self, "_splitpara", 0) and hasattr(self, "blPara"):
            return super().breakLinesCJK(maxWidths)  # the first part of a split keeps its lines
        if not isinstance(maxWidths, (list, tuple)):
            maxWidths = [maxWidths]
        maxWidths = list(maxWidths)
        style = self.style
        self.height = 0
        _handleBulletWidth(self.bulletText, style, maxWidths)
        frags = self.frags
        if not frags:
            return super().breakLinesCJK(maxWidths)
        if len(frags) == 1 and not hasattr(frags[0], "cbDefn") and not hasattr(frags[0], "lineBreak") \
                and not style.endDots:
            f = frags[0]
            text = f.text if hasattr(f, "text") else "".join(getattr(f, "words", []))
            widths = char_widths(text, f.fontName, f.fontSize)
            lines, starts = [], []
            for n, (start, end, used, _forced) in enumerate(break_lines(text, widths, maxWidths)):
                width = maxWidths[min(n, len(maxWidths) - 1)]
                lines.append((width - used, [text[start:end].strip()]))
                starts.append(start)
            bl = f.clone(kind=0, lines=lines, ascent=f.fontSize, descent=-0.2 * f.fontSize)
            bl._cjk_rest = (f, text, starts)  # see split
            return bl
        glyphs: list[_Glyph] = []
        hard = set()
        for f in frags:
            text = f.text or ""
            if hasattr(f, "cbDefn") or not text:
                g = _Glyph("")
                g.frag, g.width = f, getattr(getattr(f, "cbDefn", None), "width", 0)
                if hasattr(f, "lineBreak"):
                    hard.add(len(glyphs))
                glyphs.append(g)
                continue
            for ch, w in zip(text, char_widths(text, f.fontName, f.fontSize), strict=True):
                g = _Glyph(ch)
                g.frag, g.width = f, w
                glyphs.append(g)
        auto = getattr(self, "autoLeading", getattr(style, "autoLeading", ""))
        lines, starts = [], []
        for n, (start, end, used, forced) in enumerate(break_lines(glyphs, [g.width for g in glyphs], maxWidths,
                                                                    hard)):
            width = maxWidths[min(n, len(maxWidths) - 1)]
            lines.append(makeCJKParaLine(glyphs[start:end], width, used, width - used, forced,
                                         auto not in ("", "off")))
            starts.append(start)
        bl = ParaLines(kind=1, lines=lines)
        bl._cjk_rest = (None, glyphs, starts)  # see split
        return bl

    def split(self, availWidth, availHeight):  # noqa: N803 - ReportLab's names
        """ReportLab's split, but the part going on is made from the text itself from
        where its first line starts: ReportLab glues the remaining lines together with
        spaces (a forced line break is lost, and a space appears in Chinese text
        wherever a line had wrapped)."""
        bl = getattr(self, "blPara", None)
        parts = super().split(availWidth, availHeight)
        rest = getattr(getattr(self, "blPara", bl), "_cjk_rest", None)
        if len(parts) != 2 or rest is None:
            return parts
        first, tail = parts
        frag, source, starts = rest
        start = starts[len(first.blPara.lines)]
        if frag is not None:  # one plain run of text
            frags = [frag.clone(text=source[start:].lstrip(" "))]
        else:  # glyphs, each with its fragment; forced breaks and the like as empty glyphs
            frags = []
            run: list[str] = []
            run_frag = None
            for g in source[start:]:
                if run and (g.frag is not run_frag or not str(g)):
                    frags.append(run_frag.clone(text="".join(run)))
                    run = []
                if str(g):
                    run_frag = g.frag
                    run.append(str(g))
                else:
                    frags.append(g.frag)
            if run:
                frags.append(run_frag.clone(text="".join(run)))
        return [first, self.__class__(None, tail.style, frags=frags)]


    def draw_plain(self, canv, x: float, top: float) -> bool:
        """Draw a wrapped paragraph of one plain left-aligned style as a single text
        object, its top left at (x, top), as ``drawOn`` would but without its per-line
        state changes. False (nothing drawn) when it needs ReportLab's full drawing."""
        bl, style = getattr(self, "blPara", None), self.style
        auto = getattr(self, "autoLeading", getattr(style, "autoLeading", ""))
        if (bl is None or bl.kind != 0 or self.bulletText or style.alignment != TA_LEFT or style.leftIndent
                or style.firstLineIndent or style.backColor or style.borderWidth or getattr(bl, "us_lines", None)
                or getattr(bl, "link", None) or auto not in ("", "off")):
            return False
        canv.setFillColor(bl.textColor)
        text = canv.beginText(x, top - bl.fontSize)
        text.setFont(bl.fontName, bl.fontSize, style.leading)
        for _space, words in bl.lines:
            text.textLine(" ".join(words))
        canv.drawText(text)
        return True


def para(text, style: ParagraphStyle) -> Paragraph:
    """A paragraph of user text (escaped, with markers for characters the font lacks)."""
    text = "" if text is None else str(text)
    text = text.translate(_CONTROLS)
    if _all_known(text):
        return CJKParagraph.plain(text, style)
    return CJKParagraph(safe(text), style)


_CONTROLS = {cp: " " for cp in range(32) if cp != 10}
_SPACES = re.compile(r"[^\S\u3000]+")  # runs of white space other than the ideographic space


def markup(fixed: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of our own markup (labels, bold); user parts must go through ``safe``."""
    return CJKParagraph(fixed, style)


# --- label | value grids ----------------------------------------------------------
class _Row:
    """One label | value row of a FieldGrid, measured once per width."""

    def __init__(self, label: str, value: Paragraph, label_para: Paragraph | None = None):
        self.label, self.value = label, value
        self.label_para = label_para or para(label, styles()["label"])
        self.measured: tuple | None = None

    def measure(self, label_width: float, value_width: float, pad: tuple) -> float:
        # ReportLab's Paragraph.split drops a paragraph's lines (``blPara``) when not even
        # one line fits the room it was offered: the measure is then stale, and drawing
        # such a paragraph fails. Measure again whenever a paragraph has lost its lines.
        if self.measured is None or self.measured[:2] != (label_width, value_width) \
                or not hasattr(self.value, "blPara") or not hasattr(self.label_para, "blPara"):
            top, bottom, left, right = pad
            _w, lh = self.label_para.wrap(label_width - left - right, 1e6)
            _w, vh = self.value.wrap(value_width - left - right, 1e6)
            self.measured = (label_width, value_width, max(lh, vh) + top + bottom)
        return self.measured[2]


class FieldGrid(Flowable):
    """Label | value rows in a ruled grid, as a two-column Table with GRID would draw
    them, but each cell is wrapped once, and a long row breaks across pages (the part
    on the next page is labelled "…（续）")."""

    PAD = (3, 3, 4, 4)  # top, bottom, left, right: Table's defaults with 4-point sides

    def __init__(self, rows, *, label_width: float, width: float | None = None, line_width: float = 0.5):
        """``width``: fixed (centred, as a Table with column widths), or the frame's."""
        super().__init__()
        self.rows = [r if isinstance(r, _Row) else _Row(*r) for r in rows]
        self.label_width, self.fixed_width, self.line_width = label_width, width, line_width
        self.hAlign = "CENTER"

    def _copy(self, rows) -> "FieldGrid":
        return FieldGrid(rows, label_width=self.label_width, width=self.fixed_width, line_width=self.line_width)

    def wrap(self, availWidth, availHeight):  # noqa: N803 - ReportLab's names
        # Each row keeps its own measure (see _Row.measure): asking every row again is
        # cheap, and a row whose paragraph a failed split emptied is wrapped afresh.
        width = self.fixed_width or availWidth
        value_width = width - self.label_width
        self.heights = [r.measure(self.label_width, value_width, self.PAD) for r in self.rows]
        self.width, self.height = width, sum(self.heights)
        return self.width, self.height

    def split(self, availWidth, availHeight):  # noqa: N803
        self.wrap(availWidth, availHeight)
        if self.height <= availHeight:
            return [self]
        top, bottom, left, right = self.PAD
        used, k = 0.0, 0  # rows[:k] fit whole
        for h in self.heights:
            if used + h > availHeight:
                break
            used, k = used + h, k + 1
        room = availHeight - used - top - bottom
        head, tail = self.rows[:k], self.rows[k:]
        row = self.rows[k]
        if room > 0 and row.label_para.wrap(self.label_width - left - right, 1e6)[1] <= room:
            parts = row.value.split(self.width - self.label_width - left - right, room)
            if len(parts) == 2:
                head = self.rows[:k] + [_Row(row.label, parts[0], row.label_para)]
                tail = [_Row(row.label.removesuffix("（续）") + "（续）", parts[1])] + self.rows[k + 1:]
            else:
                row.measured = None  # the split may have dropped the paragraph's lines: wrap it again
        if not head:
            return []
        return [self._copy(head), self._copy(tail)]

    def draw(self):
        c = self.canv
        top, _bottom, left, _right = self.PAD
        y = self.height
        path = c.beginPath()
        c.saveState()
        for row, h in zip(self.rows, self.heights, strict=True):
            for p, x in ((row.label_para, left), (row.value, self.label_width + left)):
                if not hasattr(p, "blPara"):  # never drawn unwrapped (see _Row.measure)
                    row.measured = None
                    row.measure(self.label_width, self.width - self.label_width, self.PAD)
                if not (isinstance(p, CJKParagraph) and p.draw_plain(c, x, y - top)):
                    p.drawOn(c, x, y - top - p.height)
            y -= h
            if y > 0.01:
                path.moveTo(0, y)
                path.lineTo(self.width, y)
        path.rect(0, 0, self.width, self.height)
        path.moveTo(self.label_width, 0)
        path.lineTo(self.label_width, self.height)
        c.setLineWidth(self.line_width)
        c.setStrokeColor(colors.black)
        c.drawPath(path, stroke=1, fill=0)
        c.restoreState()


class HeadedGrid(Flowable):
    """Headings (an entry's number, date and kind; in the diary book the day too) kept
    with their FieldGrid: never left alone at the foot of a page. When the grid goes on
    over the next page, that part is headed again by ``continued`` (markup naming the
    entry, e.g. its date and case number with "（续）"), so no page starts with rows of
    an unnamed entry."""

    MIN_FIRST = 30 * mm  # the least of the grid worth starting at the foot of a page

    def __init__(self, headings: list, grid: FieldGrid, continued: tuple[str, ParagraphStyle], *,
                 space_after: float = 0):
        super().__init__()
        self.headings, self.grid, self.continued = headings, grid, continued
        self.spaceBefore = headings[0].getSpaceBefore() if headings else 0
        self.spaceAfter = space_after

    def wrap(self, availWidth, availHeight):  # noqa: N803 - ReportLab's names
        if getattr(self, "_head_for", None) != availWidth:  # headings are wrapped once per width
            self._head = sum(p.wrap(availWidth, 1e6)[1] + (p.getSpaceBefore() if n else 0) + p.getSpaceAfter()
                             for n, p in enumerate(self.headings))
            self._head_for = availWidth
        head = self._head
        _w, grid = self.grid.wrap(availWidth, max(availHeight - head, 0))
        self.width, self.height = availWidth, head + grid
        return self.width, self.height

    def split(self, availWidth, availHeight):  # noqa: N803
        self.wrap(availWidth, availHeight)
        if self.height <= availHeight:
            return [self]
        room = availHeight - self._head
        if room < min(self.grid.height, self.MIN_FIRST):
            return []  # all of it on the next page
        parts = self.grid.split(availWidth, room)
        if len(parts) != 2:
            return []
        text, style = self.continued
        return [HeadedGrid(self.headings, parts[0], self.continued),
                HeadedGrid([markup(text, style)], parts[1], self.continued, space_after=self.spaceAfter)]

    def draw(self):
        y = self.height
        for n, p in enumerate(self.headings):
            y -= (p.getSpaceBefore() if n else 0) + p.height
            p.drawOn(self.canv, 0, y)
            y -= p.getSpaceAfter()
        self.grid.drawOn(self.canv, (self.width - self.grid.width) / 2, y - self.grid.height)


class RunningHead(ActionFlowable):
    """Invisible: from the next page on, every page starts with this line at its top
    (e.g. "人民调解记录（续）　编号"), so a page of signatures or of a long record's end
    still says what it belongs to; ``RunningHead(None)`` ends it. An action, taken where
    the layout reaches it (it takes no room, so never slips onto the next page)."""

    def __init__(self, text: str | None):
        super().__init__(("runningHead", text))
        self.text = text

    def apply(self, doc):
        doc.canv._running_head = self.text


class _NumberedCanvas(canvas.Canvas):
    """Draws 第 N 页 共 M 页 on every page once the page count is known, and the
    running head (see RunningHead) of the pages that have one."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pages = []
        self._running_head = self._page_head = None

    def showPage(self):  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()
        self._page_head = self._running_head  # the head in force when the page starts

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(REGULAR, 9)
            self.drawCentredString(PAGE[0] / 2, 10 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            if self._page_head:
                self.drawString(MARGIN, PAGE[1] - MARGIN + 4 * mm, self._page_head)
                self.setLineWidth(0.3)
                self.line(MARGIN, PAGE[1] - MARGIN + 2.5 * mm, PAGE[0] - MARGIN, PAGE[1] - MARGIN + 2.5 * mm)
            super().showPage()
        super().save()


def build(flowables, *, title: str, author: str, subject: str = "") -> bytes:
    """Render to PDF bytes: A4, metadata, page numbers. The canvas starts in the
    embedded Noto face, so no page names a font that is not embedded (Helvetica)."""
    register_fonts()
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN + 4 * mm, title=title, author=author, subject=subject,
                            creator="mediation", initialFontName=REGULAR, initialFontSize=11,
                            initialLeading=17)
    doc.build(list(flowables), canvasmaker=_NumberedCanvas)
    return buffer.getvalue()
