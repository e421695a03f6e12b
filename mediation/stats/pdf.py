"""The monthly report as a PDF: A4 landscape, the charts (vector, the same drawings as the
page's SVGs) each with its table beside it, then the report's tables; Noto Sans SC
embedded (``printing.pdf``), 第 N 页 共 M 页, metadata."""
from io import BytesIO

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, PageBreak, SimpleDocTemplate, Spacer, Table, TableStyle

from ..printing.pdf import BOLD, MARGIN, REGULAR, _NumberedCanvas, para, register_fonts, safe, styles
from . import charts
from .reports import column_labels
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


def _table(rows, widths=None, header_rows=1, span_first=False) -> Table:
    t = Table(rows, colWidths=widths, repeatRows=header_rows)
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


def chart_block(name: str, fig, suppress: bool):
    """A chart with its data table beside it."""
    title, series, rows = charts.chart_data(name, fig)
    data = [[_("Item"), *series]] + [[label, *[_str(shown(v, suppress)) for v in vals]] for label, vals in rows]
    table = _table(data, widths=[90] + [70] * len(series))
    d = charts.drawing(name, fig, width=440, max_height=420)
    if len(rows) > 14:  # a long table goes under its chart, where it may run over pages
        return [KeepTogether([d]), Spacer(1, 2 * mm), table, Spacer(1, 4 * mm)]
    return [KeepTogether([Table([[d, table]], colWidths=[455, None],
                                style=[("VALIGN", (0, 0), (-1, -1), "TOP"), ("FONTNAME", (0, 0), (-1, -1), REGULAR)]),
                          Spacer(1, 4 * mm)])]


def report_pdf(report, *, author: str) -> bytes:
    register_fonts()
    st = styles()
    heads = [_("Category"), _("Figure"), *column_labels()]
    flow = [para(report.title, st["title"]),
            para(_("Counting rule: a case counts at the unit holding it when the report is made."), st["small"])]
    if report.suppress:
        flow.append(para(_("Counts under 3 are shown as <3."), st["small"]))
    flow.append(Spacer(1, 3 * mm))
    # Charts: the year so far per month, per category and per unit, with their tables.
    for name, fig in (("month", report.ytd), ("category", report.fig), ("unit", report.fig)):
        flow.extend(chart_block(name, fig, report.suppress))
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
                                             report.indicator_rows()]
    flow.append(_table(rows, widths=[220] + [90] * 5))
    flow.append(para(_("Monthly confirmations (zero reports)"), st["h2"]))
    s = report.status
    flow.append(para(safe(_("Villages: %(n)d; reported: %(r)d; no disputes: %(z)d; not reported: %(m)d.",
                            n=s["villages"], r=len(s["with_cases"]), z=len(s["none"]), m=len(s["missing"]))),
                     st["body"]))
    if s["missing"]:
        flow.append(para(safe(_("Not reported: %(names)s", names="、".join(u.name for u in s["missing"]))),
                         st["body"]))
    buffer = BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
                            bottomMargin=MARGIN + 4 * mm, title=report.title, author=author,
                            subject=_("Monthly report"), creator="mediation", initialFontName=REGULAR,
                            initialFontSize=11, initialLeading=17)
    doc.build(flow, canvasmaker=_LandscapeCanvas)
    return buffer.getvalue()
