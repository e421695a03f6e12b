"""The charts, drawn once with ReportLab's graphics module: rendered to SVG for the page
(served as an image, so the strict CSP holds) and drawn as vector graphics in the PDF.

One function per chart: ``<name>_data(fig)`` gives the numbers (also shown as the table
beside the chart) and ``drawing(name, fig)`` the ReportLab ``Drawing``. Labels are in
Chinese, in the embedded Noto Sans SC face; the SVG names CJK fonts the browser has.

With ``suppress`` (the report's "counts under 3", for what leaves the unit) a chart
reveals no count of 1 or 2: such a bar is drawn with no height and labelled "<3" (a pie
slice left out, its label "<3"), and a note under the chart says so; other bars keep
their value labels.
"""
from flask_babel import gettext as _
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from ..printing.pdf import BOLD, REGULAR, register_fonts
from .services import SMALL, category_name, is_small

CHARTS = ("month", "category", "unit", "outcome")
PALETTE = (colors.HexColor("#1f5fa8"), colors.HexColor("#e07b39"), colors.HexColor("#3a9d5d"),
           colors.HexColor("#b3403a"), colors.HexColor("#7a6fb0"))
# What a browser showing the SVG uses for "NotoSansSC" (an <img> SVG sees only system fonts).
SVG_FONTS = "'Noto Sans SC','Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"


def month_data(fig) -> tuple[str, list[str], list[tuple[str, list]]]:
    # The year on every label of a range over several years (2025年12月, 2026年1月), and
    # on the first one otherwise; a long range is broken down by year (Period.buckets).
    rows = [(fig.period.bucket_label(m), [s["registered"], s["settled"]]) for m, s in fig.month_rows()]
    title = _("Cases per year") if fig.period.by_year else _("Cases per month")
    return title, [_("Registered"), _("Settled (fully or partly)")], rows


def category_data(fig):
    rows = [(category_name(c), [s["registered"], s["settled"]]) for c, s in fig.category_rows()]
    return _("Cases per category"), [_("Registered"), _("Settled (fully or partly)")], rows


def unit_data(fig):
    rows = []
    for unit, s in fig.child_rows():
        # The root's own row (本级) always, even at 0: the rows add up to the total.
        label = unit.name if unit is not None else _("%(unit)s (own cases)", unit=fig.root.name)
        rows.append((label, [s["registered"], s["settled"]]))
    return _("Cases per unit"), [_("Registered"), _("Settled (fully or partly)")], rows


def outcome_data(fig):
    s = fig.summary()
    rows = [(_("Settled"), [s["success"]]), (_("Partly settled"), [s["partial"]]),
            (_("Not settled"), [s["failed"]]), (_("Ended"), [s["terminated"]])]
    return _("Outcomes of the cases handled"), [_("Cases")], rows


DATA = {"month": month_data, "category": category_data, "unit": unit_data, "outcome": outcome_data}


def chart_data(name: str, fig):
    return DATA[name](fig)


def _title(d: Drawing, text: str, width: float, height: float) -> None:
    d.add(String(width / 2, height - 16, text, fontName=BOLD, fontSize=12, textAnchor="middle"))


def _legend(d: Drawing, series: list[str], x: float, y: float) -> None:
    if len(series) < 2:
        return
    legend = Legend()
    legend.x, legend.y = x, y
    legend.fontName, legend.fontSize = REGULAR, 9
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 90
    legend.colorNamePairs = list(zip(PALETTE, series, strict=False))
    d.add(legend)


def _suppressed(value, suppress: bool):
    """(the value drawn, its label): a count of 1 or 2 is drawn as 0 and labelled "<3"."""
    if suppress and is_small(value):
        return 0, f"<{SMALL}"
    return value, (str(int(value)) if value else "")  # no "0" on every empty bar


def _bars(chart, rows, series, font_size=9, suppress: bool = False) -> None:
    drawn = [[_suppressed(r[1][i], suppress) for r in rows] for i in range(len(series))]
    chart.data = [tuple(v for v, _label in row) for row in drawn] or [(0,)]
    chart.categoryAxis.categoryNames = [r[0] for r in rows] or [""]
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = font_size
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    top = max([v for row in chart.data for v in row] + [0])
    if top < 5:
        chart.valueAxis.valueMax = 5
        chart.valueAxis.valueStep = 1
    chart.valueAxis.labelTextFormat = "%d" if top < 10_000 else None
    chart.barLabels.fontName = REGULAR
    chart.barLabels.fontSize = 7
    # The labels as computed (never from the drawn value: a suppressed bar reads "<3").
    chart.barLabelArray = [tuple(label for _v, label in row) for row in drawn] or [("",)]
    chart.barLabelFormat = "values"
    for i in range(len(series)):
        chart.bars[i].fillColor = PALETTE[i % len(PALETTE)]
        chart.bars[i].strokeColor = None


def drawing(name: str, fig, width: float = 520, height: float | None = None,
            max_height: float | None = None, suppress: bool = False) -> Drawing:
    """The ReportLab drawing of chart ``name`` for the figures ``fig`` (bar charts grow with
    their rows, up to ``max_height``); with ``suppress`` no count of 1 or 2 shows."""
    register_fonts()
    title, series, rows = chart_data(name, fig)
    d = _drawing(name, fig, title, series, rows, width, height, max_height, suppress)
    if suppress and any(is_small(v) for r in rows for v in r[1]):
        d.add(String(4, 4, _("<3: fewer than 3 cases, drawn without height."), fontName=REGULAR, fontSize=7))
    d.initialFontName, d.initialFontSize = REGULAR, 9  # never the standard fonts (not embedded)
    return d


def _drawing(name, fig, title, series, rows, width, height, max_height, suppress=False) -> Drawing:
    if name == "outcome":
        height = height or 220
        d = Drawing(width, height)
        _title(d, title, width, height)
        drawn = [_suppressed(r[1][0], suppress) for r in rows]
        values = [v for v, _label in drawn]
        if sum(values):
            pie = Pie()
            pie.x, pie.y, pie.width, pie.height = 40, 20, height - 70, height - 70
            pie.data = values
            pie.labels = [f"{label} {text}" if text else ""
                          for (label, _v), (_d, text) in zip(rows, drawn, strict=True)]
            pie.simpleLabels = 1
            pie.slices.fontName, pie.slices.fontSize = REGULAR, 9
            pie.slices.strokeColor = colors.white
            for i in range(len(values)):
                pie.slices[i].fillColor = PALETTE[i % len(PALETTE)]
            d.add(pie)
        else:
            empty = _("Fewer than 3 cases handled in this period.") if any(
                text for _v, text in drawn) else _("No cases handled in this period.")
            d.add(String(width / 2, height / 2, empty, fontName=REGULAR, fontSize=10, textAnchor="middle"))
        return d
    if name == "month":
        height = height or 240
        d = Drawing(width, height)
        chart = VerticalBarChart()
        chart.x, chart.y, chart.width, chart.height = 40, 40, width - 60, height - 90
        _bars(chart, rows, series, suppress=suppress)
        chart.categoryAxis.labels.angle = 0 if len(rows) <= 12 else 45
        chart.categoryAxis.labels.boxAnchor = "n" if len(rows) <= 12 else "ne"
    else:
        n = max(len(rows), 1)
        height = height or max(140, 26 * n + 70)
        if max_height:
            height = min(height, max_height)
        d = Drawing(width, height)
        chart = HorizontalBarChart()
        chart.x, chart.y, chart.width, chart.height = 120, 20, width - 150, height - 70
        small = height < 26 * n + 70  # squeezed (the PDF fits two charts to a page): smaller labels
        _bars(chart, list(reversed(rows)), series, font_size=8 if small else 9, suppress=suppress)  # first on top
    d.add(chart)
    _title(d, title, width, height)
    _legend(d, series, 50, height - 30)
    return d


def svg(name: str, fig) -> str:
    """The chart as an SVG document, its text in the fonts a browser has for Chinese."""
    text = renderSVG.drawToString(drawing(name, fig))
    return text.replace(f"font-family: {BOLD};", f"font-weight: bold; font-family: {SVG_FONTS};").replace(
        f"font-family: {REGULAR};", f"font-family: {SVG_FONTS};")
