"""/stats/: the dashboard, its charts, the monthly report and its exports, and the
villages' monthly confirmations (零报告). A unit outside the user's subtree answers 404
(``access.get_unit_or_404``); a role without "stats.view" gets 403."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from .. import access
from ..access import require
from ..audit.services import record
from ..downloads import send_download
from ..extensions import db
from ..forms import text_problem
from ..org.models import UPPER_TIERS, OrgUnit, Tier
from ..org.services import tree_order
from ..timeutil import local_today
from . import charts, services
from .models import MonthlyConfirmation  # noqa: F401  (the table, for create_all)
from .reports import XLSX_TYPE, MonthlyReport, column_labels

bp = Blueprint("stats", __name__, url_prefix="/stats")


def _unit() -> OrgUnit:
    code = request.args.get("unit")
    if not code:
        return current_user.unit
    return access.get_unit_or_404(code)


def _picker_units(selected: OrgUnit) -> list[OrgUnit]:
    """The units the user may choose: its subtree, station first, villages under their town.
    Above the districts: down to the districts, with the towns of the district being looked at
    and the unit itself (a province has some 1,500 towns and 24,000 villages; any unit in the
    subtree can still be chosen by its code in the address)."""
    stmt = access.units_query(current_user)
    if current_user.unit.tier in UPPER_TIERS:
        # The towns under the station on the selected unit's path (a subquery, not a walk up).
        line = selected.path_ids
        station = select(OrgUnit.id).where(OrgUnit.id.in_(line), OrgUnit.tier == Tier.STATION)
        shown = [OrgUnit.tier.in_([*UPPER_TIERS, Tier.STATION]), OrgUnit.id == selected.id,
                 OrgUnit.parent_id.in_(station)]
        stmt = stmt.where(or_(*shown))
    # In tree order by code, as the network page: ordering the paths as text put /1/10/ before /1/2/.
    return tree_order(list(db.session.scalars(stmt)))


def _unit_title(unit: OrgUnit) -> str:
    """The unit as the heading names it. Above the districts, with the units between it and the
    viewer's (Jiangsu has two 鼓楼区 and many a 城关镇): 鼓楼区（南京市）, 薛埠镇（常州市金坛区）.
    Call it while the picker's units are held: the ancestors are among them, so no query."""
    top = current_user.unit
    if top.tier not in UPPER_TIERS or unit.id == top.id:
        return unit.label
    between = [a.name for a in unit.ancestors() if a.tier.depth > top.tier.depth]
    return f"{unit.name}（{''.join(between)}）" if between else unit.name


def _suppress() -> bool:
    return request.args.get("suppress") == "1"


@bp.route("/")
@require("stats.view")
def index():
    unit = _unit()
    notes: list = []
    period = services.period_from_args(request.args, default="year", notes=notes)  # the year's shape first
    fig = services.compute(unit, period)
    month = period.end if period.kind == "month" else None
    status = services.reporting_status(unit, services.month_start(month), fig) \
        if month is not None else None
    chart_args = {"unit": unit.code, **period.query_args()}
    tables = {name: charts.chart_data(name, fig) for name in charts.CHARTS}
    units = _picker_units(unit)
    return render_template(
        "stats/index.html", unit=unit, period=period, fig=fig, s=fig.summary(), units=units,
        unit_title=_unit_title(unit),
        tables=tables, chart_args=chart_args, status=status, today=local_today(), notes=notes,
        may_confirm=services.may_confirm(current_user, unit),
        # Labels whose Chinese has a "%": given from Python, where no formatting runs on them.
        rate_labels={"success_rate": _("Success rate (percent)"),
                     "satisfaction_rate": _("Satisfaction rate (percent)")},
    )


@bp.route("/chart/<name>.svg")
@require("stats.view")
def chart(name: str):
    if name not in charts.CHARTS:
        abort(404)
    unit = _unit()
    period = services.period_from_args(request.args)
    fig = services.compute(unit, period, current=False)
    resp = Response(charts.svg(name, fig), mimetype="image/svg+xml")
    resp.headers["Cache-Control"] = "private, max-age=60"
    return resp


@bp.route("/report")
@require("stats.view")
def report():
    unit = _unit()
    notes: list = []
    month = services.report_month(request.args.get("month"), notes)
    rep = MonthlyReport.build(unit, month, suppress=_suppress())
    export_args = {"unit": unit.code, "month": rep.period.start.strftime("%Y-%m")}
    if rep.suppress:
        export_args["suppress"] = "1"
    units = _picker_units(rep.unit)
    return render_template("stats/report.html", rep=rep, unit=rep.unit, units=units, unit_title=_unit_title(rep.unit),
                           heads=column_labels(), today=local_today(), notes=notes, export_args=export_args,
                           may_confirm=services.may_confirm(current_user, rep.unit))


@bp.route("/report.<fmt>")
@require("stats.view")
def export(fmt: str):
    if fmt not in ("pdf", "xlsx", "csv"):
        abort(404)
    unit = _unit()
    notes: list = []
    month = services.report_month(request.args.get("month"), notes)
    if notes:  # an export is made for the month asked for, or not at all
        flash(str(notes[0]), "danger")
        return redirect(url_for("stats.report", unit=unit.code, suppress="1" if _suppress() else None))
    with force_locale("zh_Hans_CN"):  # the forms go upward in Chinese, whatever the user's language
        rep = MonthlyReport.build(unit, month, suppress=_suppress())
        if fmt == "pdf":
            data, mimetype = rep.pdf_bytes(author=current_user.display_name), "application/pdf"
        elif fmt == "xlsx":
            data, mimetype = rep.xlsx_bytes(), XLSX_TYPE
        else:
            data, mimetype = rep.csv_bytes(), "text/csv"  # Flask adds "; charset=utf-8" once
        # Named before the audit commit expires the unit (reading it again is a query).
        name, ascii_name = f"{rep.file_stem}.{fmt}", f"{rep.ascii_file_stem}.{fmt}"
    _log_export(unit, fmt, rep)
    return send_download(data, mimetype, name, ascii_name)


def _log_export(unit: OrgUnit, fmt: str, rep: MonthlyReport) -> None:
    # The unit by name as well: the log is read long after, and ids mean nothing to a reader.
    record("export", target=unit, details={"what": "monthly_report", "format": fmt, "unit": unit.label,
                                           "month": rep.period.slug, "suppress": rep.suppress})
    db.session.commit()


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    """A village's staff confirm a month: "本月已报" or, with no disputes, "本月无纠纷"."""
    unit = current_user.unit
    if not services.may_confirm(current_user, unit):
        abort(403)
    today = local_today()
    months = services.confirmable_months(today)
    if request.method == "POST":
        month = services.parse_month(request.form.get("month"))
        note = request.form.get("note", "")
        # The note prints in the monthly report; too long, it is refused, not cut.
        problem = text_problem(note) or (_("Note: at most %(max)d characters.", max=services.NOTE_MAX)
                                         if len(note.strip()) > services.NOTE_MAX else None)
        if month not in months:
            flash(_("Choose one of the months shown."), "danger")
        elif problem:
            flash(problem, "danger")
        else:
            row = services.confirm_month(unit, month, current_user, note)
            if row is None:
                flash(_("“No disputes” can be confirmed once the month has ended."), "danger")
            else:
                db.session.commit()
                flash(_("%(month)s confirmed: %(state)s.", month=f"{month.year}-{month.month:02d}",
                        state=_("reported") if row.had_cases else _("no disputes")), "success")
        return redirect(request.form.get("next") if request.form.get("next", "").startswith("/stats/")
                        else url_for("stats.confirm"))
    done = {c.month: c for c in db.session.scalars(select(MonthlyConfirmation).where(
        MonthlyConfirmation.unit_id == unit.id, MonthlyConfirmation.month.in_(months)))}
    rows = [(m, done.get(m), services.village_had_cases(unit, m) if m not in done else None,
             services.may_confirm_none(m, today)) for m in months]
    return render_template("stats/confirm.html", unit=unit, rows=rows)
