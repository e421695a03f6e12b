"""The monthly report in the customary upward layout (DOMAIN.md §6) and its exports.

Rows: each category × found (排查数: registered in the month, by the date of registration), handled (调处数:
mediation concluded with an outcome), and of those settled (调解成功), partly settled
(部分成功), not settled (调解不成) and ended (调解终止); then the totals. Columns: the
tier of the unit holding the case — district (县市区: the station), town (乡镇街道:
platforms), village (村居) — the subtotal for the month, and the year to date (1 January
to the end of the month, all tiers). Where a case counts: see ``services`` (the unit
holding it when the report is made). Then the indicators (rates, amounts, satisfaction
from follow-up visits, people involved in bands, major and mass disputes, DV-flagged,
escalations, referrals) in the same columns, and which villages have confirmed the month
(零报告) and which have not.

Exports (PDF, XLSX, CSV) carry no name, ID number or case number. With ``suppress``
(for anything that leaves the unit), every count of 1 or 2 is shown as "<3" — totals
(合计) and subtotals (小计) too, since a total of 1 or 2 identifies as much as a cell —,
a rate, average or amount resting on fewer than 3 cases as "—", the charts draw no
exact small value (``charts``), and the villages' notes on their zero reports are left
out (free text that may name someone). This is a simple small-count rule, not a full
disclosure control.
"""
import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from flask_babel import gettext as _

from ..org.models import UPPER_TIERS, OrgUnit, Tier
from . import services
from .pdf import report_pdf
from .services import PEOPLE_BAND_LABELS, PEOPLE_BANDS, Figures, Period, shown, shown_rate, summarise

CATEGORY_MEASURES = ("registered", "handled", "success", "partial", "failed", "terminated")
TIERS = (Tier.STATION, Tier.PLATFORM, Tier.VILLAGE)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def measure_label(m: str) -> str:
    return {
        # Counted by the date of registration, while "accepted" (an indicator) counts by the date of
        # acceptance: the labels say so, or 排查 26 and 受理 24 read as a contradiction.
        "registered": _("Found (by date registered)"),
        "handled": _("Handled"),
        "success": _("Settled"),
        "partial": _("Partly settled"),
        "failed": _("Not settled"),
        "terminated": _("Ended"),
    }[m]


def column_labels() -> list[str]:
    return [_("District"), _("Town/street"), _("Village/community"), _("Subtotal"), _("Year to date")]


@dataclass
class MonthlyReport:
    unit: OrgUnit
    period: Period
    fig: Figures
    ytd: Figures
    status: services.ReportingStatus
    suppress: bool = False

    @classmethod
    def build(cls, unit: OrgUnit, month: date, *, suppress: bool = False) -> "MonthlyReport":
        period = Period.month(month.year, month.month)
        fig = services.compute(unit, period, current=False)
        ytd = services.compute(unit, period.year_to_date(), current=False)
        status = services.reporting_status(unit, period.start, fig)
        return cls(unit, period, fig, ytd, status, suppress)

    @cached_property
    def _sums(self) -> tuple[dict, dict]:
        """The month's sums by (category, tier) and the year's by category: one pass each."""
        # Keyed by tuples: a cell without a category (escalations) keys as None, which ``sums`` leaves out.
        return (self.fig.sums(lambda _u, c, _mi, t: (c, t)), self.ytd.sums(lambda _u, c, _mi, _t: (c,)))

    def _columns(self, cat=None) -> list[dict]:
        """The five column summaries (district, town, village, subtotal, year to date)."""
        month, year = self._sums

        def total(groups) -> dict:
            out: dict = defaultdict(int)
            for sums in groups:
                for m, v in sums.items():
                    out[m] += v
            return out
        by_tier = [total(v for (c, t), v in month.items() if t == tier.value and (cat is None or c == cat))
                   for tier in TIERS]
        month_total = total(v for (c, _t), v in month.items() if cat is None or c == cat)
        year_total = total(v for (c,), v in year.items() if cat is None or c == cat)
        return [summarise(s) for s in (*by_tier, month_total, year_total)]

    def category_rows(self) -> list[tuple[str, str, list]]:
        """(category, measure label, five values) — categories with figures this year, and every active one."""
        rows = []
        for c in self.fig.categories:
            cols = self._columns(cat=c.id)
            if not (c.active or cols[-1]["registered"] or cols[-1]["handled"]):
                continue
            for m in CATEGORY_MEASURES:
                rows.append((services.category_name(c), measure_label(m),
                             [shown(col[m], self.suppress) for col in cols]))
        cols = self._columns()
        for m in CATEGORY_MEASURES:
            rows.append((_("Total"), measure_label(m), [shown(col[m], self.suppress) for col in cols]))
        return rows

    def totals(self) -> list[dict]:
        return self._columns()

    def indicator_rows(self, grouped: bool = False) -> list[tuple[str, list]]:
        """The indicators' rows; ``grouped``: amounts with thousands separators, as the page and
        the PDF print them (1,234,567.50; CSV and XLSX keep plain numbers)."""
        cols, sup = self._columns(), self.suppress
        amount = "{:,.2f}" if grouped else "{:.2f}"

        def counts(key):
            return [shown(c[key], sup) for c in cols]

        def rate(key, base):
            return [shown_rate(c[key], c[base], sup) for c in cols]

        def money(key, base):
            return ["—" if sup and c[base] < services.SMALL else amount.format(c[key]) for c in cols]

        rows = [
            (_("Handling rate (percent)"), rate("handling_rate", "registered")),
            (_("Success rate (percent)"), rate("success_rate", "handled")),
            (_("Amount in dispute (yuan)"), money("amount_disputed", "registered")),
            (_("Amount agreed (yuan): the amounts in dispute of the cases settled fully or partly, added up"),
             money("amount_agreed", "settled")),
            (_("Accepted (by date accepted, whenever registered)"), counts("accepted")),
            (_("Escalated up"), counts("escalated_out")),
            (_("Received from below"), counts("escalated_in")),
            (_("Referred out"), counts("referred")),
            (_("DV-flagged or orange/red risk"), counts("dv")),
            (_("Major disputes"), counts("major")),
            (_("Mass disputes"), counts("mass")),
        ]
        for key, _lo, _hi in PEOPLE_BANDS:
            rows.append((_("People involved: %(band)s", band=PEOPLE_BAND_LABELS[key]), counts(key)))
        rows += [
            (_("Follow-up visits"), counts("follow_ups")),
            (_("Satisfied"), counts("sat_satisfied")),
            (_("Basically satisfied"), counts("sat_basically")),
            (_("Not satisfied"), counts("sat_unsatisfied")),
            (_("Satisfaction rate (percent)"), rate("satisfaction_rate", "rated")),
            (_("Average days from acceptance to close"), rate("avg_days", "closed_with_acceptance")),
        ]
        return rows

    @property
    def show_notes(self) -> bool:
        """The villages' notes on their confirmations: free text, which may name someone —
        shown on the page and in exports kept in the unit, never when suppressing (for
        what leaves the unit)."""
        return not self.suppress

    @property
    def per_district(self) -> bool:
        """Above the districts the confirmations are counted district by district, not named
        village by village: a province has some 24,000 villages (megabytes on a phone)."""
        return self.unit.tier in UPPER_TIERS

    def district_rows(self) -> list[tuple[OrgUnit, int, int, int, int]]:
        """(district station, villages, reported, no disputes, not reported), by code."""
        return self.status.districts

    def district_name(self, station: OrgUnit) -> str:
        """A district with its city when the report is a province's: Jiangsu has two 鼓楼区."""
        parent = station.parent
        return f"{station.name}（{parent.name}）" if parent is not None and parent.id != self.unit.id else station.name

    @staticmethod
    def district_heads() -> list[str]:
        return [_("District"), _("Villages"), _("Reported"), _("No disputes"), _("Not reported")]

    def reporting_rows(self) -> list[tuple[str, str, str]]:
        """(village with its town, state, note) for every village of the subtree: reported
        (with disputes), none, or not reported. The note is empty when suppressing."""
        st = self.status
        state = {u.id: (_("Reported"), c.note) for u, c in st.with_cases if u}
        state.update({u.id: (_("No disputes"), c.note) for u, c in st.none if u})
        units = self.fig.units
        villages = sorted((u for u in units.values() if u.tier is Tier.VILLAGE and u.active),
                          key=services.town_order(units))
        out = []
        for u in villages:
            label, note = state.get(u.id, (_("Not reported"), ""))
            out.append((u.label, label, (note or "") if self.show_notes else ""))
        return out

    @property
    def title(self) -> str:
        return _("%(unit)s marriage and family disputes, %(period)s", unit=self.unit.name, period=self.period.label)

    @property
    def file_stem(self) -> str:
        return f"{_('Monthly report')}-{self.unit.name}-{self.period.slug}"

    @property
    def ascii_file_stem(self) -> str:
        """The file name for clients without RFC 5987: monthly-report-320413109-2026-11."""
        return f"monthly-report-{self.unit.code}-{self.period.slug}"

    # --- exports -----------------------------------------------------------------------------

    @staticmethod
    def column_labels() -> list[str]:
        """The figures' columns (``pdf`` asks the report: it does not import this module)."""
        return column_labels()

    def table_rows(self) -> list[list]:
        """The whole report as rows of cells (for CSV and XLSX)."""
        heads = column_labels()
        out = [[self.title], [_("Counting rule: a case counts at the unit holding it when the report is made.")]]
        if self.suppress:
            out.append([_("Counts under 3 are shown as <3.")])
        out += [[], [_("Category"), _("Figure"), *heads]]
        out += [[cat, label, *vals] for cat, label, vals in self.category_rows()]
        out += [[], [_("Indicator"), "", *heads]]
        out += [[label, "", *vals] for label, vals in self.indicator_rows()]
        st = self.status
        out += [[], [_("Monthly confirmations (zero reports)")],
                [_("Villages"), st.villages],
                [_("Reported"), st.n_reported],
                [_("No disputes"), st.n_none],
                [_("Not reported"), st.n_missing]]
        if self.per_district:
            out += [self.district_heads()]
            out += [[self.district_name(station), *numbers] for station, *numbers in self.district_rows()]
            return out
        if self.show_notes:
            out += [[_("Village"), _("State"), _("Note")]]
        out += [[name, state, note] if self.show_notes else [name, state]
                for name, state, note in self.reporting_rows()]
        return out

    def csv_bytes(self) -> bytes:
        buf = io.StringIO()
        writer = csv.writer(buf)
        for row in self.table_rows():
            writer.writerow([_defuse(v) for v in row])
        return ("\ufeff" + buf.getvalue()).encode("utf-8")

    def xlsx_bytes(self) -> bytes:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter

        wb = Workbook()
        ws = wb.active
        ws.title = _("Monthly report")[:31]
        bold = Font(bold=True)
        for row in self.table_rows():
            ws.append([_cell(v) for v in row])
        ws["A1"].font = Font(bold=True, size=14)
        for r in ws.iter_rows():
            if r and r[0].value in (_("Category"), _("Indicator")):
                for cell in r:
                    cell.font = bold
                    cell.alignment = Alignment(horizontal="center")
        for i, width in enumerate((24, 18, 12, 12, 14, 10, 12), start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.freeze_panes = "C6" if self.suppress else "C5"
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    def pdf_bytes(self, author: str) -> bytes:
        return report_pdf(self, author=author)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(value):
    """A cell no spreadsheet runs as a formula ("<3" and numbers are safe as they are)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value):
    """XLSX: numbers as numbers (so totals can be checked), text as text, never a formula."""
    if isinstance(value, str):
        try:
            return float(value) if "." in value and value.replace(".", "", 1).isdigit() else _defuse(value)
        except ValueError:
            return _defuse(value)
    return value
