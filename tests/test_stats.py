"""Statistics (issue 7, points 1, 2 and 7): the dashboard's figures against a hand count
and against the cases in the database, the monthly report and its exports, zero
reports, access, and a bounded number of queries per page."""
import csv
import io
import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from mediation.cases import workflow
from mediation.cases.models import Case, RiskLevel
from mediation.cases.workflow import OPEN_STATUSES, CaseStatus, Outcome
from mediation.diary.models import EntryKind, Performance, Satisfaction
from mediation.extensions import db
from mediation.leads.models import Urgency
from mediation.org.models import OrgUnit, Tier
from mediation.stats import services
from mediation.stats.models import MonthlyConfirmation
from mediation.timeutil import local_today
from mediation.transfers.models import EscalationReason, ReferralDestination

from .factories import advance, category, make_case, unit, user, write_entry
from .support import assert_ok, count_queries

V1, V2 = "med-320413109201", "med-320413109202"  # 上阳村, 薛埠村 (薛埠镇)
TOWN = "coord-320413109"


def _other_town_mediator() -> str:
    town = unit("320413106")  # 直溪镇
    village = db.session.scalar(select(OrgUnit).where(OrgUnit.parent_id == town.id).order_by(OrgUnit.code))
    return f"med-{village.code}"


def build_cases():
    """Cases in various states, units and categories, all registered today (a hand count follows)."""
    today = local_today()
    base = {"intake_date": today}
    made = {}
    made["registered"] = make_case(**base, amount_in_dispute=Decimal("1000"), people_involved=4)
    made["assigned_dv"] = advance(make_case(**base, dv_flag=True, category_id=category("divorce").id),
                                  "accept", "assign")
    made["settled"] = advance(make_case(**base, amount_in_dispute=Decimal("5000")),
                              "accept", "assign", "start", "conclude")
    made["failed"] = advance(make_case(**base, risk_level=RiskLevel.ORANGE, people_involved=12, is_mass=True),
                             "accept", "assign", "start")
    advance(made["failed"], "conclude", outcome=Outcome.FAILED, told_other_routes=True)
    made["declined"] = make_case(by=V2, **base, people_involved=35, is_major=True,
                                 category_id=category("neighbour").id)
    advance(made["declined"], "decline")
    # Escalated by 上阳村 and received by 薛埠镇: it counts at the town from then on.
    esc = advance(make_case(**base), "accept", "assign")
    workflow.transition(esc, "escalate", by=user(V1), to_unit=unit("320413109"),
                        reason_code=EscalationReason.UNSETTLED, reason_text="", urgency=Urgency.NORMAL, note="")
    db.session.commit()
    workflow.transition(esc, "receive", by=user(TOWN), lead_mediator=user(TOWN), co_mediators=[], note="")
    db.session.commit()
    made["escalated"] = esc
    # Referred out (stays open).
    ref = advance(make_case(**base), "accept", "assign")
    workflow.transition(ref, "refer", by=user(V1), destination=ReferralDestination.LEGAL_AID,
                        destination_name="", referred_on=today, reference="", note="", end_case=False)
    db.session.commit()
    made["referred"] = ref
    # Settled, followed up (satisfied) and closed.
    closed = advance(make_case(**base, amount_in_dispute=Decimal("200.50")),
                     "accept", "assign", "start", "conclude", "follow_up")
    write_entry(closed, kind=EntryKind.FOLLOW_UP, mode=None, performance=Performance.PERFORMED,
                satisfaction=Satisfaction.SATISFIED)
    advance(closed, "close")
    made["closed"] = closed
    # Overdue: accepted with a due date in the past.
    late = advance(make_case(**base), "accept", "assign")
    late.due_date = today - timedelta(days=3)
    db.session.commit()
    made["overdue"] = late
    # Elsewhere: another town's village (in the district, not in 薛埠镇).
    made["elsewhere"] = make_case(by=_other_town_mediator(), **base)
    return made


# Hand count of ``build_cases`` (today's period), for 薛埠镇 and for the district.
TOWN_HAND = {"registered": 9, "accepted": 7, "settled": 2, "success": 2, "partial": 0, "failed": 1,
             "terminated": 0, "handled": 3, "in_progress": 4, "overdue": 1, "escalated_out": 1,
             "escalated_in": 1, "referred": 1, "dv": 2, "major": 1, "mass": 1, "closed": 1,
             "sat_satisfied": 1, "band_1_4": 7, "band_10_29": 1, "band_30": 1}
DISTRICT_HAND = dict(TOWN_HAND, registered=10, band_1_4=8)


def python_count(root: OrgUnit, period: services.Period) -> dict:
    """The same figures, counted case by case in Python (an independent implementation)."""
    from mediation.timeutil import local_date_of

    ids = {u.id for u in db.session.scalars(select(OrgUnit)) if root.contains(u)}
    cases = [c for c in db.session.scalars(select(Case)) if c.unit_id in ids]
    inside = lambda d: d is not None and period.start <= d <= period.end  # noqa: E731
    local = lambda t: local_date_of(t) if t else None  # noqa: E731
    return {
        "registered": sum(inside(c.intake_date) for c in cases),
        "accepted": sum(inside(local(c.accepted_at)) for c in cases),
        "handled": sum(c.outcome is not None and inside(local(c.concluded_at)) for c in cases),
        "settled": sum(c.outcome in workflow.SETTLED and inside(local(c.concluded_at)) for c in cases),
        "in_progress": sum(c.status in OPEN_STATUSES | {CaseStatus.PENDING} for c in cases),
        "overdue": sum(c.status in OPEN_STATUSES and c.due_date < local_today() for c in cases if c.due_date),
        "dv": sum(inside(c.intake_date) and (c.dv_flag or c.risk_level in (RiskLevel.ORANGE, RiskLevel.RED))
                  for c in cases),
        "amount_disputed": sum((c.amount_in_dispute or 0) for c in cases if inside(c.intake_date)),
    }


def test_figures_match_a_hand_count_and_the_database(demo, app):
    today = local_today()
    period = services.Period.year(today.year)
    town, district = unit("320413109"), unit("320413")
    before_town = services.compute(town, period).summary()
    before_district = services.compute(district, period).summary()
    build_cases()
    fig_town, fig_district = services.compute(town, period), services.compute(district, period)
    s_town, s_district = fig_town.summary(), fig_district.summary()
    for key, n in TOWN_HAND.items():
        assert s_town[key] - before_town[key] == n, key
    for key, n in DISTRICT_HAND.items():
        assert s_district[key] - before_district[key] == n, key
    assert s_town["amount_disputed"] - before_town["amount_disputed"] == Decimal("6200.50")
    assert s_town["amount_agreed"] - before_town["amount_agreed"] == Decimal("5200.50")
    # Against every case in the database, counted one by one.
    for root, s in ((town, s_town), (district, s_district)):
        counted = python_count(root, period)
        for key, n in counted.items():
            assert s[key] == n, (root.name, key)
    # The town's figures are its own plus its villages', exactly; the escalated case is the town's own.
    rows = fig_town.child_rows()
    own, villages = rows[0][1], [r for _u, r in rows[1:]]
    for key in ("registered", "accepted", "handled", "settled", "in_progress", "overdue", "referred", "dv",
                "escalated_out", "escalated_in"):
        assert s_town[key] == own[key] + sum(v[key] for v in villages), key
    assert own["registered"] - before_town["registered"] <= 1 and own["escalated_in"] >= 1
    # The district's rows are its platforms.
    assert {u.tier for u, _r in fig_district.child_rows()[1:]} == {Tier.PLATFORM}
    assert sum(r["registered"] for _u, r in fig_district.child_rows()) == s_district["registered"]
    exact = Decimal(100 * s_town["settled"]) / Decimal(s_town["handled"])
    assert s_town["success_rate"] == exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    assert s_town["sat_satisfied"] >= 1 and s_town["avg_days"] is not None


def _figure(page: str, key: str) -> str:
    m = re.search(rf'id="fig-{key}".*?data-value="([^"]*)"', page, re.S)
    assert m, key
    return m.group(1)


def test_dashboards_for_admin_and_coordinator(demo, login, app):
    build_cases()
    year = local_today().year
    period = services.Period.year(year)
    admin, coord = login("admin"), login(TOWN)
    page = admin.get(f"/stats/?period=year&year={year}").get_data(as_text=True)
    s = services.compute(unit("320413"), period).summary()
    assert _figure(page, "registered") == str(s["registered"]) and _figure(page, "overdue") == str(s["overdue"])
    assert 'data-unit="320413109"' in page  # the by-unit table lists the platforms
    page = coord.get(f"/stats/?period=year&year={year}").get_data(as_text=True)
    s = services.compute(unit("320413109"), period).summary()
    for key in ("registered", "accepted", "settled", "handled", "in_progress", "escalated_out", "referred", "dv"):
        assert _figure(page, key) == str(s[key]), key
    assert 'data-unit="320413109201"' in page and "/stats/chart/month.svg" in page
    main = page.split("<main", 1)[-1].split("</main>", 1)[0]
    assert "<script" not in main and 'style="' not in main
    # A village of the town, chosen by the coordinator.
    assert coord.get(f"/stats/?unit=320413109201&period=year&year={year}").status_code == 200
    # Month, quarter and range periods.
    for q in ("period=month&month=2026-11", f"period=quarter&quarter={year}-Q4",
              "period=custom&start=2026-01-01&end=2026-12-31", "period=bogus"):
        assert coord.get(f"/stats/?{q}").status_code == 200, q


def test_access_404_outside_the_subtree_and_403_without_the_action(demo, login):
    coord = login(TOWN)
    for path in ("/stats/?unit=320413106", "/stats/report?unit=320413106", "/stats/report.xlsx?unit=320413106",
                 "/stats/chart/month.svg?unit=320413", "/stats/?unit=nonexistent"):
        assert coord.get(path).status_code == 404, path
    for who in ("grid-320413109201", V1):
        c = login(who)
        for path in ("/stats/", "/stats/report", "/stats/report.csv", "/stats/chart/unit.svg"):
            assert c.get(path).status_code == 403, (who, path)
    assert login("stats").get("/stats/").status_code == 200
    assert login("stats").get("/stats/report").status_code == 200
    # The navigation offers the dashboard to those who may see it.
    assert 'href="/stats/"' in login("stats").get("/").get_data(as_text=True)
    assert 'href="/stats/"' not in login(V1).get("/").get_data(as_text=True)
    assert 'href="/stats/confirm"' in login(V1).get("/").get_data(as_text=True)
    assert 'href="/stats/confirm"' not in login(TOWN).get("/").get_data(as_text=True)


def test_chart_svg_has_chinese_labels(demo, login):
    build_cases()
    coord = login(TOWN)
    year = local_today().year
    resp = coord.get(f"/stats/chart/category.svg?period=year&year={year}")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    svg = resp.get_data(as_text=True)
    assert "赡养" in svg and "Noto Sans SC" in svg and "<script" not in svg
    svg = coord.get(f"/stats/chart/unit.svg?period=year&year={year}").get_data(as_text=True)
    assert "上阳村" in svg
    assert coord.get("/stats/chart/nothing.svg").status_code == 404


def _month_arg():
    return local_today().strftime("%Y-%m")


def test_monthly_xlsx_csv_and_pdf(demo, login, app):
    import openpyxl
    from pypdf import PdfReader

    from mediation.audit.models import AuditEvent
    from mediation.stats.reports import measure_label

    build_cases()
    coord = login(TOWN)
    month = _month_arg()
    html = coord.get(f"/stats/report?month={month}").get_data(as_text=True)
    assert 'id="report-categories"' in html and "赡养" in html
    s = services.compute(unit("320413109"), services.Period.month(*map(int, month.split("-")))).summary()
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        found, settled_label = measure_label("registered"), measure_label("success")
        from flask_babel import gettext as _

        total = _("Total")
    resp = coord.get(f"/stats/report.xlsx?month={month}")
    assert resp.status_code == 200
    assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(resp.data))
    rows = [[c.value for c in r] for r in wb.active.iter_rows()]
    total_found = next(r for r in rows if r[0] == total and r[1] == found)
    # district, town, village, subtotal, year to date
    town_fig = services.compute(unit("320413109"), services.Period.month(*map(int, month.split("-"))))
    by_tier = [town_fig.summary(tier=t)["registered"] for t in (Tier.STATION, Tier.PLATFORM, Tier.VILLAGE)]
    assert total_found[2:5] == by_tier and total_found[5] == s["registered"] == sum(by_tier)
    assert total_found[6] >= s["registered"]
    total_settled = next(r for r in rows if r[0] == total and r[1] == settled_label)
    assert total_settled[5] == s["success"]
    elder = next(r for r in rows if r[0] == "赡养" and r[1] == found)
    assert elder[5] == town_fig.summary(cat=category().id)["registered"]
    # No personal data: no party name, no case number.
    flat = " ".join(str(v) for r in rows for v in r if v is not None)
    assert "汤桂珍" not in flat and "婚调字" not in flat
    # CSV: UTF-8 with a BOM, the same table.
    resp = coord.get(f"/stats/report.csv?month={month}")
    assert resp.data.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert next(r for r in table if r[:2] == [total, found])[5] == str(s["registered"])
    # Amounts: grouped on the page (as on the dashboard, QA), plain in the CSV for spreadsheets.
    amount = Decimal(str(s["amount_disputed"]))
    assert amount >= 1000 and f">{amount:,.2f}<" in html and f">{amount:.2f}<" not in html
    assert f"{amount:.2f}" in [c for r in table for c in r]
    # Suppression: 1 and 2 become <3.
    table = list(csv.reader(io.StringIO(coord.get(f"/stats/report.csv?month={month}&suppress=1")
                                        .data.decode("utf-8-sig"))))
    cells = [c for r in table for c in r]
    assert "<3" in cells and "1" not in [r[2] for r in table if len(r) > 2 and r[0] == "赡养"]
    # PDF: charts and tables in Chinese, the fonts embedded, no Helvetica.
    resp = coord.get(f"/stats/report.pdf?month={month}")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.data))
    text = "".join(p.extract_text() for p in reader.pages)
    assert "赡养" in text and "薛埠镇" in text and "上阳村" in text and "第 1 页" in text
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    fonts = set()
    for page in reader.pages:
        for f in (page.get("/Resources", {}).get("/Font") or {}).values():
            f = f.get_object()
            fonts.add(str(f.get("/BaseFont")))
            for d in f.get("/DescendantFonts") or []:
                assert "/FontFile2" in d.get_object()["/FontDescriptor"].get_object()
    assert fonts and all("NotoSansSC" in f for f in fonts), fonts
    # Every export is in the audit trail.
    db.session.rollback()
    exports = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export")).all()
    assert len(exports) >= 4


def test_zero_reports(demo, login, app):
    month = _month_arg()
    last_month = services.add_months(services.month_start(local_today()), -1)
    coord = login(TOWN)
    villages = db.session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit("320413109").id,
                                                        OrgUnit.active.is_(True))).all()
    html = coord.get(f"/stats/report?month={month}").get_data(as_text=True)
    assert f'data-missing="{len(villages)}"' in html and 'data-unit="320413109201"' in html
    # 上阳村 has a case this month: "reported"; 薛埠村 has none: "no disputes" only once the month is over.
    make_case(intake_date=local_today())
    v1 = login(V1)
    assert "/stats/confirm" in v1.get("/").get_data(as_text=True)
    page = v1.get("/stats/confirm").get_data(as_text=True)
    assert f'data-month="{month}"' in page
    assert v1.post("/stats/confirm", data={"month": month}).status_code == 302
    assert v1.post("/stats/confirm", data={"month": month, "note": "again"}).status_code == 302  # no second row
    v2 = login(V2)
    assert "confirm-later" in v2.get("/stats/confirm").get_data(as_text=True)  # the running month: not yet
    assert v2.post("/stats/confirm", data={"month": month, "note": "本月无纠纷"}).status_code == 302
    assert v2.post("/stats/confirm", data={"month": last_month.strftime("%Y-%m"),
                                           "note": "上月无纠纷"}).status_code == 302
    assert v2.post("/stats/confirm", data={"month": "2001-01"}).status_code == 302  # not offered: ignored
    rows = db.session.scalars(select(MonthlyConfirmation)).all()
    assert {(r.unit.code, r.month, r.had_cases) for r in rows} == {
        ("320413109201", services.month_start(local_today()), True), ("320413109202", last_month, False)}
    html = coord.get(f"/stats/report?month={month}").get_data(as_text=True)
    assert f'data-missing="{len(villages) - 1}"' in html and 'data-none="0"' in html and 'data-reported="1"' in html
    missing = html.split('id="report-missing"', 1)[1].split("</ul>", 1)[0]
    assert "320413109201" not in missing and "320413109202" in missing and "320413109203" in missing
    html = coord.get(f"/stats/report?month={last_month:%Y-%m}").get_data(as_text=True)
    assert 'data-none="1"' in html and "上阳村" not in html.split('id="report-none"', 1)[1].split("</ul>")[0]
    # The station sees the whole district's villages; another town's coordinator not these.
    html = login("admin").get(f"/stats/report?month={month}").get_data(as_text=True)
    assert 'data-villages="131"' in html
    # Only a village's own staff confirm.
    for who in (TOWN, "admin", "grid-320413109201", "stats"):
        assert login(who).post("/stats/confirm", data={"month": month}).status_code == 403, who


def test_report_with_suppression_renders(demo, login):
    make_case(intake_date=local_today())
    resp = login(TOWN).get(f"/stats/report?unit=320413109&month={_month_arg()}&suppress=1")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    exports = html.split('id="report-exports"', 1)[1].split("</div>", 1)[0]
    assert exports.count("suppress=1") == 3 and "&lt;3" in html


def _bar_charts(d):
    return [c for c in d.contents if hasattr(c, "barLabelArray")]


def test_suppressed_charts_reveal_no_small_counts(demo, login, app):
    from pypdf import PdfReader

    from mediation.stats import charts

    make_case(intake_date=local_today())
    make_case(intake_date=local_today())
    period = services.Period.month(local_today().year, local_today().month)
    fig = services.compute(unit("320413109"), period, current=False)
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        for name in ("month", "category", "unit"):
            (plain,) = _bar_charts(charts.drawing(name, fig))
            assert any(v == 2 for row in plain.data for v in row), name  # unsuppressed: the exact 2
            (chart,) = _bar_charts(charts.drawing(name, fig, suppress=True))
            values = [v for row in chart.data for v in row]
            labels = [x for row in chart.barLabelArray for x in row]
            assert not any(0 < v < 3 for v in values), (name, values)
            assert "<3" in labels and "1" not in labels and "2" not in labels, (name, labels)
        svg = charts.svg("outcome", fig)
        assert "Noto" in svg
    # The PDF's charts: no small value label, and the note saying why.
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(
        login(TOWN).get(f"/stats/report.pdf?month={_month_arg()}&suppress=1").data)).pages)
    assert "<3" in text and "不绘制高度" in text


def test_custom_range_is_not_cut_and_long_ranges_go_by_year(demo, login, app):
    with app.test_request_context():
        notes = []
        period = services.period_from_args({"period": "custom", "start": "2000-01-01", "end": "2026-12-31"},
                                           notes=notes)
        assert (period.start.isoformat(), period.end.isoformat()) == ("2000-01-01", "2026-12-31")
        assert period.by_year and len(period.buckets) == 27 and notes
        fig = services.compute(unit("320413109"), period, current=False)
        assert [m.year for m, _s in fig.month_rows()] == list(range(2000, 2027))
        short = services.period_from_args({"period": "custom", "start": "2024-01-01", "end": "2026-12-31"})
        assert not short.by_year and len(short.buckets) == 36
    make_case(intake_date=local_today())
    page = login(TOWN).get("/stats/?period=custom&start=2000-01-01&end=2026-12-31").get_data(as_text=True)
    assert "2000年1月1日 — 2026年12月31日" in page and "stats-note" in page and "2000年" in page
    assert login(TOWN).get("/stats/?period=custom&start=2000-01-01&end=nonsense").status_code == 200
    # Entered backwards: shown the right way round, and said so (QA).
    backwards = login(TOWN).get("/stats/?period=custom&start=2026-12-31&end=2026-01-01").get_data(as_text=True)
    assert "2026年1月1日 — 2026年12月31日" in backwards and "截止日期早于起始日期" in backwards
    assert "截止日期早于起始日期" not in page


def test_months_carry_their_year_in_multi_year_ranges(demo, app):
    from mediation.stats import charts

    with app.test_request_context(), force_locale("zh_Hans_CN"):
        period = services.Period.custom(date(2025, 12, 1), date(2026, 3, 31))
        fig = services.compute(unit("320413109"), period, current=False)
        labels = [label for label, _v in charts.month_data(fig)[2]]
        assert labels == ["2025年12月", "2026年1月", "2026年2月", "2026年3月"]
        fig = services.compute(unit("320413109"), services.Period.year(2026), current=False)
        assert [label for label, _v in charts.month_data(fig)[2]][:2] == ["2026年1月", "2月"]


def test_quarter_takes_the_year_box_and_fields_follow_the_period(demo, login):
    page = login(TOWN).get("/stats/?period=quarter&quarter=2026-Q1&year=2025").get_data(as_text=True)
    assert '<span id="stats-period">2025年第1季度</span>' in page
    assert 'data-period-field="month"' in page and 'data-period-field="custom"' in page
    assert 'data-period-field="quarter year"' in page
    from pathlib import Path

    js = (Path(__file__).resolve().parents[1] / "mediation/static/app.js").read_text()
    assert "data-period-field" in js and "stats-quarter" in js
    # QA: from this year's dashboard, choosing 月份 offered January: it offers this month.
    today = local_today()
    page = login(TOWN).get(f"/stats/?period=year&year={today.year}").get_data(as_text=True)
    assert f'id="stats-month" value="{today:%Y-%m}"' in page
    assert f'<option value="{today.year}-Q{(today.month - 1) // 3 + 1}" selected>' in page
    page = login(TOWN).get(f"/stats/?period=year&year={today.year - 1}").get_data(as_text=True)
    assert f'id="stats-month" value="{today.year - 1}-12"' in page


def test_future_and_invalid_months_are_refused_visibly(demo, login):
    coord = login(TOWN)
    current = local_today().strftime("%Y-%m")
    future = services.add_months(services.month_start(local_today()), 2).strftime("%Y-%m")
    for month in (future, "2027-13", "garbage"):
        html = coord.get(f"/stats/report?month={month}").get_data(as_text=True)
        assert "report-note" in html, month
        assert f'value="{current}"' in html, month
    assert "report-note" not in coord.get(f"/stats/report?month={current}").get_data(as_text=True)
    assert coord.get(f"/stats/report.pdf?month={future}").status_code == 302


def test_export_buttons_and_download_headers(demo, login):
    from pathlib import Path

    coord = login(TOWN)
    month = _month_arg()
    html = coord.get(f"/stats/report?month={month}").get_data(as_text=True)
    assert 'class="d-flex flex-wrap align-items-center gap-2 mb-3 report-exports"' in html
    css = (Path(__file__).resolve().parents[1] / "mediation/static/app.css").read_text()
    rule = css.split(".report-exports .btn {", 1)[1].split("}", 1)[0]
    assert "inline-flex" in rule and "align-items: center" in rule
    resp = coord.get(f"/stats/report.csv?month={month}")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = coord.get(f"/stats/report.pdf?month={month}").headers["Content-Disposition"]
    assert f'filename="monthly-report-320413109-{month}.pdf"' in disposition
    assert "filename*=UTF-8''" in disposition


def test_pdf_layout_periods_own_row_and_village_labels(demo, login, app):
    from pypdf import PdfReader

    from mediation.stats import charts, pdf

    month = _month_arg()
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        period = services.Period.month(local_today().year, local_today().month)
        fig = services.compute(unit("320413109"), period, current=False)
        rows = charts.unit_data(fig)[2]
        assert "本级" in rows[0][0] and rows[0][1] == [0, 0]  # kept at 0
        table = pdf._table([["项目", "调解成功（含部分成功）"], ["a", "1"]], widths=[90, 70])
        assert all(hasattr(c, "wrap") for c in table._cellvalues[0])  # header cells wrap
    reader = PdfReader(io.BytesIO(login("admin").get(f"/stats/report.pdf?month={month}").data))
    pages = [p.extract_text() for p in reader.pages]
    assert "各月案件数" in pages[0] and "年度累计" in pages[0]  # what each chart covers
    assert "各类别案件数" in pages[1] and "各单位案件数" in pages[1]  # two charts to a page
    text = "".join(p.extract_text() for p in reader.pages).replace("\n", "")
    assert len(set(re.findall(r"新河村（(\w+?)）", text))) >= 2, "villages named with their town"


def test_zero_report_notes_and_a_none_contradicted_by_cases(demo, login, app):
    from mediation.users.models import User  # noqa: F401

    month = services.month_start(local_today())
    v2 = unit("320413109202")
    # A "none" kept from before the rule (or made on a day the month still looked empty)...
    db.session.add(MonthlyConfirmation(unit_id=v2.id, month=month, confirmed_by_id=user(V2).id,
                                       had_cases=False, note="网格员已走访全村"))
    db.session.commit()
    coord = login(TOWN)
    html = coord.get(f"/stats/report?month={month:%Y-%m}").get_data(as_text=True)
    assert 'data-none="1"' in html and "网格员已走访全村" in html
    csv_text = coord.get(f"/stats/report.csv?month={month:%Y-%m}").data.decode("utf-8-sig")
    assert "网格员已走访全村" in csv_text
    suppressed = coord.get(f"/stats/report.csv?month={month:%Y-%m}&suppress=1").data.decode("utf-8-sig")
    assert "网格员已走访全村" not in suppressed
    assert "网格员已走访全村" not in coord.get(f"/stats/report?month={month:%Y-%m}&suppress=1").get_data(as_text=True)
    # ...and then a case registered that month: listed as reported, never "no disputes".
    make_case(by=V2, intake_date=local_today())
    html = coord.get(f"/stats/report?month={month:%Y-%m}").get_data(as_text=True)
    assert 'data-none="0"' in html and 'data-reported="1"' in html
    assert 'data-unit="320413109202"' in html.split('id="report-reported"', 1)[1].split("</ul>")[0]


def test_pages_run_a_bounded_number_of_queries(demo, login, app):
    coord, admin = login(TOWN), login("admin")
    month = _month_arg()
    paths = ["/stats/", f"/stats/report?month={month}", "/stats/chart/unit.svg", f"/stats/report.xlsx?month={month}"]

    def queries(client, path):
        return count_queries(lambda: assert_ok(client.get(path)))

    make_case(intake_date=local_today())
    coord.get("/"), admin.get("/")  # the inbox's once-per-session look for things due
    few = {(who, p): queries(c, p) for who, c in (("c", coord), ("a", admin)) for p in paths}
    build_cases()
    for i in range(10):
        c = make_case(by=V2 if i % 2 else V1, applicant=f"甲{i}", respondent=f"乙{i}", intake_date=local_today(),
                      category_id=category("divorce" if i % 3 else "inheritance").id)
        advance(c, "accept")
    many = {(who, p): queries(c, p) for who, c in (("c", coord), ("a", admin)) for p in paths}
    assert many == few
    assert max(few.values()) <= 30, few


@pytest.mark.parametrize("args", ["", "?period=year&year=2026", "?period=custom&start=2024-01-01&end=2026-12-31"])
def test_dashboard_with_no_cases(demo, login, args):
    assert login("stats").get(f"/stats/{args}").status_code == 200


def test_periods_are_named_in_the_users_language(demo, login):
    """The English pages said 2026年12月 in their headings (QA)."""
    from .factories import user

    user("stats").locale = "en"
    db.session.commit()
    c = login("stats")
    month = c.get("/stats/?period=month&month=2026-11").get_data(as_text=True)
    assert '<span id="stats-period">November 2026</span>' in month
    assert '<span id="report-month">November 2026</span>' in c.get("/stats/report?month=2026-11").get_data(as_text=True)
    year = c.get("/stats/?period=year&year=2026").get_data(as_text=True)
    assert '<span id="stats-period">2026</span>' in year and "2026年" not in year
    quarter = c.get("/stats/?period=quarter&year=2026&quarter=4").get_data(as_text=True)
    assert '<span id="stats-period">Q4 2026</span>' in quarter
    assert "离婚" not in month and "Divorce" in month  # categories as the case pages name them (QA)
    ahead = c.get("/stats/report?month=2099-05").get_data(as_text=True)
    assert "May 2099 has not begun yet" in ahead
    custom = c.get("/stats/?period=custom&start=2026-01-01&end=2026-03-31").get_data(as_text=True)
    assert '<span id="stats-period">1 January 2026 — 31 March 2026</span>' in custom  # as dates are elsewhere


def test_the_report_counts_escalations_in_its_year_to_date_and_lists_villages_under_their_towns(demo, app):
    """QA: 上报 and 接收下级上报 had a subtotal of 2 and a year to date of 0 (an escalation has no
    category, and the year's cells were keyed by category alone); the zero-report list put a
    town's villages whose codes differ from its own after the next town's."""
    from mediation.stats.reports import MonthlyReport

    build_cases()
    today = local_today()
    with app.test_request_context():
        report = MonthlyReport.build(unit("320413109"), today)
        month, ytd = report.totals()[3], report.totals()[4]
        assert month["escalated_out"] == 1 and month["escalated_in"] == 1
        assert ytd["escalated_out"] >= 1 and ytd["escalated_in"] >= 1
        rows = dict((label, vals) for label, vals in report.indicator_rows())
        from flask_babel import gettext as _

        assert rows[_("Escalated up")][4] != 0 and rows[_("Received from below")][4] != 0
        district = MonthlyReport.build(unit("320413"), today)
        towns = [db.session.get(OrgUnit, u.parent_id).code for u in (
            next(v for v in district.fig.units.values() if v.label == label) for label, *_x in
            district.reporting_rows())]
        assert towns == sorted(towns)
        # The page and the PDF read the status's own lists: grouped the same way.
        missing = [db.session.get(OrgUnit, u.parent_id).code for u in district.status.missing]
        assert missing == sorted(missing)
