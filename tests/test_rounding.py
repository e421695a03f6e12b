"""One rounding rule (issue 17): rates and averages from exact integers, rounded half up,
print the same on the dashboard, in the PDF report and in the XLSX export, on SQLite and
on PostgreSQL, for random cases."""
import io
import re
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from mediation.cases.workflow import CaseStatus, Outcome
from mediation.extensions import db
from mediation.stats.rounding import average, half_up, percent, yuan

from .conftest import prepared_app
from .factories import make_case
from .support import DEMO_PASSWORD

DAY = 86400
OUTCOMES = [Outcome.SUCCESS, Outcome.PARTIAL, Outcome.FAILED, Outcome.TERMINATED, None]


def test_half_up_on_exact_ties():
    assert str(percent(9, 16)) == "56.3"  # round() gives 56.2
    assert str(percent(1, 8)) == "12.5" and str(percent(1, 16)) == "6.3" and str(percent(1, 3)) == "33.3"
    assert str(average(101 * DAY, 2, DAY)) == "50.5" and str(average(1, 20, 1)) == "0.1"
    assert percent(3, 0) is None and average(5, 0) is None
    assert str(yuan(12345)) == "123.45" and str(half_up(Fraction(-5, 100))) == "-0.1"


@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_percent_matches_decimal_half_up(part, whole):
    exact = Decimal(100 * part) / Decimal(whole)
    assert percent(part, whole) == exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def expected(cases) -> dict[str, str]:
    """The figures from the drawn cases, by hand: exact fractions, half up."""
    def up(value: Fraction) -> str:
        scaled = value * 10
        return str(Decimal((scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)).scaleb(-1))

    handled = [c for c in cases if c[0] is not None]
    settled = [c for c in handled if c[0] in (Outcome.SUCCESS, Outcome.PARTIAL)]
    out = {"handling_rate": up(Fraction(100 * len(handled), len(cases)))}
    if handled:
        out["success_rate"] = up(Fraction(100 * len(settled), len(handled)))
        out["avg_days"] = up(Fraction(sum(c[1] for c in handled), len(handled) * DAY))
    out["amount_disputed"] = str((Decimal(sum(c[2] for c in cases)) / 100).quantize(Decimal("0.01")))
    return out


LABELS = {"handling_rate": "调处率（%）", "success_rate": "成功率（%）", "avg_days": "受理至结案平均天数",
          "amount_disputed": "争议金额（元）"}


def printed(client, month: str, keys) -> dict[str, dict[str, str]]:
    """Each figure as the dashboard, the PDF report and the XLSX export print it (the village
    and subtotal columns of the report, which hold the same cases)."""
    page = client.get(f"/stats/?period=month&month={month}").get_data(as_text=True)
    # The dashboard shows no handling rate; the report does.
    dash = {key: re.search(rf'id="fig-{key}".*?data-value="([^"]*)"', page, re.S).group(1)
            for key in keys if key != "handling_rate"}
    if dash.get("amount_disputed"):  # shown with thousands grouped (QA), kept plain in data-value
        shown = re.search(r'id="fig-amount_disputed".*?data-value="[^"]*">([^<]*)<', page, re.S).group(1)
        assert shown == f"{Decimal(dash['amount_disputed']):,.2f}"
    book = load_workbook(io.BytesIO(client.get(f"/stats/report.xlsx?month={month}").data))
    rows = {row[0]: row for row in book.active.iter_rows(values_only=True) if row and row[0]}
    xlsx = {}
    for key in keys:
        cells = [f"{v:.2f}" if key == "amount_disputed" else str(Decimal(str(v)).quantize(Decimal("0.1")))
                 for v in rows[LABELS[key]][4:6]]
        assert len(set(cells)) == 1, (key, cells)
        xlsx[key] = cells[0]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(client.get(f"/stats/report.pdf?month={month}")
                                                                    .data)).pages)
    # pypdf gives each table cell a line: the label, then district, town, village, subtotal, year to date.
    lines = text.splitlines()
    pdf = {}
    for key in keys:
        at = lines.index(LABELS[key])
        cells = lines[at + 3:at + 5]
        assert len(set(cells)) == 1, (key, lines[at:at + 6])
        if key == "amount_disputed":  # printed with thousands grouped (QA), compared as the number
            assert cells[0] == f"{Decimal(cells[0].replace(',', '')):,.2f}", cells[0]
            cells[0] = cells[0].replace(",", "")
        pdf[key] = cells[0]
    return {"dashboard": dash, "xlsx": xlsx, "pdf": pdf}


@pytest.fixture
def both_databases(tmp_path, request, pg_states):
    """The demo network on a real SQLite file and on a real PostgreSQL database."""
    apps = []
    for url in (f"sqlite:///{tmp_path / 'rounding.sqlite'}", pg_states.url):
        app, prepared = prepared_app(request, url, "demo")
        assert prepared
        apps.append(app)
    yield apps
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


case_strategy = st.tuples(
    st.sampled_from(OUTCOMES),
    # Seconds from acceptance to close: whole days, with halves and tenths that make exact ties.
    st.builds(lambda d, part: d * DAY + part, st.integers(0, 120), st.sampled_from([0, 4320, 8640, 43200, 1, 77777])),
    st.integers(0, 10**9),  # amount in dispute, in fen
    st.integers(0, 999_999),  # microseconds, which neither database may round up into a second
)


@pytest.mark.postgres
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(cases=st.lists(case_strategy, min_size=1, max_size=8))
@example(cases=[(Outcome.SUCCESS, 50 * DAY, 1, 0), (Outcome.FAILED, 51 * DAY, 2, 999_999)])  # 50.5 days
@example(cases=[(Outcome.SUCCESS, DAY, 0, 0)] * 9 + [(Outcome.FAILED, DAY, 0, 0)] * 7)  # 9 of 16: 56.3 %
def test_the_same_figure_everywhere_on_both_databases(both_databases, cases):
    year, month = next(_months)
    want = expected(cases)
    seen = []
    for app in both_databases:
        with app.app_context():
            for outcome, seconds, fen, micro in cases:
                case = make_case(intake_date=date(year, month, 2), amount_in_dispute=Decimal(fen) / 100,
                                 commit=False)
                # Closed on the 2nd (local), accepted as long before as drawn (up to 120 days, so
                # perhaps in an earlier month): each example's month holds only its own closures.
                closed = datetime(year, month, 2, 3, 0, 0)
                case.accepted_at = closed - timedelta(seconds=seconds)
                if outcome is not None:
                    case.outcome, case.status = outcome, CaseStatus.CLOSED
                    case.concluded_at = case.closed_at = closed + timedelta(microseconds=micro)
                else:
                    case.status = CaseStatus.IN_MEDIATION
            db.session.commit()
            client = app.test_client()
            assert client.post("/login", data={"username": "coord-320413109",
                                               "password": DEMO_PASSWORD}).status_code == 302
            figures = printed(client, f"{year}-{month:02d}", want)
        for where, values in figures.items():
            assert values == {k: v for k, v in want.items() if k in values}, (app.config["DATABASE_URL"][:10], where)
            assert "amount_disputed" in values  # always printed; rates only when they have a base
        seen.append(figures)
    assert seen[0] == seen[1]


# A fresh month per example (2001-01 to 2025-12), so that it holds only its own cases.
_months = ((y, m) for y in range(2001, 2026) for m in range(1, 13))
