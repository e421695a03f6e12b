"""The monthly report as a PDF: A4 landscape, the charts (vector, the same drawings as the
page's SVGs) each with its table beside it and a heading saying which period it covers
(two to a page when they are short enough), then the report's tables; Noto Sans SC
embedded (``printing.pdf``), 第 N 页 共 M 页, metadata. Header cells wrap inside their
column. With suppression, the charts reveal no count of 1 or 2 (``charts``)."""
from io import BytesIO

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..printing.pdf import BOLD, MARGIN, REGULAR, _NumberedCanvas, para, register_fonts, safe, styles
from . import charts
from .services import shown

PAGE = landscape(A4)


class _LandscapeCanvas(_NumberedCanvas):
    """第 N 页 共 M 页, centred on the landscape page."""

    def save(self):
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(REGULAR, 9)
            self.drawCentredString(PAGE[0] / 2, 10 * mm, f"第 {self._pageNumber} 页 共 {total} 页")
            super(_NumberedCanvas, self).showPage()
        super(_NumberedCanvas, self).save()


def _head_style() -> ParagraphStyle:
    return ParagraphStyle("stats-head", fontName=BOLD, fontSize=9, leading=11, wordWrap="CJK")


def _wrap_head(rows, header_rows: int):
    """Header cells as paragraphs, so a long one (调解成功（含部分成功）) wraps in its column."""
    style = _head_style()
    return [[Paragraph(safe(c), style) if isinstance(c, str) and c else c for c in row] if i < header_rows else row
            for i, row in enumerate(rows)]


def _table(rows, widths=None, header_rows=1, span_first=False) -> Table:
    t = Table(_wrap_head(rows, header_rows), colWidths=widths, repeatRows=header_rows)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), REGULAR),
        ("FONTNAME", (0, 0), (-1, header_rows - 1), BOLD),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("LEADING", (0, 0), (-1, -1), 12),
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), colors.HexColor("#e8eef6")),
        ("ALIGN", (1, header_rows), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    t.setStyle(TableStyle(style))
    return t


def _str(v) -> str:
    return "" if v is None else str(v)


# A chart short enough for two to a page (A4 landscape, with their headings).
COMPACT_HEIGHT = 230
MONTH_HEIGHT = 200
ROW_PITCH = 11  # points per row of a horizontal bar chart in the PDF (two bars a row)


def _chart_height(name: str, n_rows: int) -> float:
    if name in ("month", "outcome"):
        return MONTH_HEIGHT
    natural = max(140, ROW_PITCH * max(n_rows, 1) + 70)
    return natural if natural <= COMPACT_HEIGHT else min(max(natural, 26 * n_rows + 70), 420)


def chart_block(name: str, fig, suppress: bool, covers: str = ""):
    """A chart with its data table beside it, under a heading naming what it covers."""
    title, series, rows = charts.chart_data(name, fig)
    data = [[_("Item"), *series]] + [[label, *[_str(shown(v, suppress)) for v in vals]] for label, vals in rows]
    table = _table(data, widths=[110] + [70] * len(series))
    table.setStyle(TableStyle([("FONTSIZE", (0, 1), (-1, -1), 8), ("LEADING", (0, 1), (-1, -1), 10),
                               ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    d = charts.drawing(name, fig, width=440, height=_chart_height(name, len(rows)), suppress=suppress)
    heading = para(safe(f"{title}（{covers}）" if covers else title),
                   ParagraphStyle("stats-chart-head", fontName=BOLD, fontSize=10, leading=13, spaceAfter=0))
    if len(rows) > 18:  # a long table goes under its chart, where it may run over pages
        return [KeepTogether([heading, d]), Spacer(1, 2 * mm), table, Spacer(1, 4 * mm)]
    return [KeepTogether([heading,
                          Table([[d, table]], colWidths=[455, None],
                                style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), REGULAR),
                                       ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                       ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0)]),
                          Spacer(1, 2 * mm)])]


def _covers(period) -> str:
    """What a chart covers, in words: 2026年11月; 2026年1月至11月（年度累计）."""
    s, e = period.start, period.end
    if s.month == e.month and s.year == e.year:
        return f"{s.year}年{s.month}月"
    return _("%(start)s to %(end)s (year to date)", start=f"{s.year}年{s.month}月", end=f"{e.month}月")


def report_pdf(report, *, author: str) -> bytes:
    register_fonts()
    st = styles()
    heads = [_("Category"), _("Figure"), *report.column_labels()]
    flow = [para(report.title, st["title"]),
            para(_("Counting rule: a case counts at the unit holding it when the report is made."), st["small"])]
    if report.suppress:
        flow.append(para(_("Counts under 3 are shown as <3."), st["small"]))
    flow.append(Spacer(1, 3 * mm))
    # Charts: the year so far per month, the month per category and per unit, with their tables.
    for name, fig in (("month", report.ytd), ("category", report.fig), ("unit", report.fig)):
        flow.extend(chart_block(name, fig, report.suppress, covers=_covers(fig.period)))
    flow.append(PageBreak())
    flow.append(para(_("Disputes by category"), st["h2"]))
    rows = [heads] + [[cat, label, *[_str(v) for v in vals]] for cat, label, vals in report.category_rows()]
    t = _table(rows, widths=[110, 110] + [90] * 5)
    spans = []
    for i in range(1, len(rows), 6):  # the category name once for its six figures
        spans.append(("SPAN", (0, i), (0, min(i + 5, len(rows) - 1))))
    t.setStyle(TableStyle(spans + [("FONTNAME", (0, len(rows) - 6), (-1, -1), BOLD)]))
    flow.append(t)
    flow.append(para(_("Indicators"), st["h2"]))
    rows = [[_("Indicator"), *heads[2:]]] + [[label, *[_str(v) for v in vals]] for label, vals in
                                             report.indicator_rows(grouped=True)]
    flow.append(_table(rows, widths=[220] + [90] * 5))
    flow.append(para(_("Monthly confirmations (zero reports)"), st["h2"]))
    s = report.status
    flow.append(para(safe(_("Villages: %(n)d; reported: %(r)d; no disputes: %(z)d; not reported: %(m)d.",
                            n=s.villages, r=s.n_reported, z=s.n_none, m=s.n_missing)),
                     st["body"]))
    if report.per_district:
        rows = [report.district_heads()] + [[report.district_name(station), *[str(n) for n in numbers]]
                                            for station, *numbers in report.district_rows()]
        flow.append(_table(rows, widths=[220] + [90] * 4))
        groups = []
    else:
        # Villages by their label with the town (two villages are called 新河村).
        groups = [(_("Not reported"), [(u, None) for u in s.missing]), (_("Reported"), s.with_cases),
                  (_("No disputes"), s.none)]
    for heading, pairs in groups:
        if not pairs:
            continue
        names = []
        for u, c in pairs:
            note = (c.note or "").strip() if c is not None and report.show_notes else ""
            names.append(f"{u.label}（{_('Note')}：{note}）" if note else u.label)
        flow.append(para(safe(f"{heading}：" + "、".join(names)), st["body"]))
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN + 4 * mm, title=report.title, author=author,
                            subject=_("Monthly report"), creator="mediation", initialFontName=REGULAR,
                            initialFontSize=11, initialLeading=17)
    doc.build(flow, canvasmaker=_LandscapeCanvas)
    return buffer.getvalue()
