"""One clock (issue 17): every "today" is the Jintan day, whatever zone the server runs in.

The process zone is set to UTC and to a zone behind UTC, and the system clock is frozen
with time-machine (which also freezes ``date.today()`` and ``time.time()``, so a stray read
of the server's clock shows up here) at the edges of the Jintan day."""
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select

from mediation.cases.models import Case
from mediation.cases.workflow import CaseStatus
from mediation.diary.models import DiaryEntry
from mediation.extensions import db
from mediation.stats import services as stats
from mediation.timeutil import age_on, local_today, utc_start_of

from .factories import advance, make_case, unit
from .test_cases import errors, intake
from .test_diary import entry_form

JINTAN = ZoneInfo("Asia/Shanghai")
ROOT = Path(__file__).resolve().parent.parent

# Local Jintan moments at the edges of the day and of the year.
MOMENTS = {
    "00:30": datetime(2026, 12, 7, 0, 30, tzinfo=JINTAN),
    "23:30": datetime(2026, 12, 7, 23, 30, tzinfo=JINTAN),
    "new-year": datetime(2027, 1, 1, 0, 30, tzinfo=JINTAN),
}


@pytest.fixture(params=["UTC", "America/Los_Angeles"])
def server_zone(request):
    """The process runs in this zone (as a server or a container may)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def frozen(local: datetime):
    """Freeze the system clock at a Jintan moment (given in UTC, so the process zone stays)."""
    return time_machine.travel(local.astimezone(UTC), tick=False)


def offered(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert match, f"no {name} field"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


@pytest.mark.parametrize("moment", list(MOMENTS), ids=list(MOMENTS))
def test_the_jintan_day_at_the_edges(demo, login, server_zone, moment):
    local = MOMENTS[moment]
    today = local.date()
    with frozen(local):
        # The server's own day differs from Jintan's in these hours: the point of the test.
        assert local_today() == today

        # 1. A case registered with the offered intake date (and a party born today, a minor)
        #    is saved and numbered in the Jintan year.
        med = login("med-320413109201")
        page = med.get("/cases/new").get_data(as_text=True)
        assert offered(page, "intake_date") == today.isoformat()
        resp = med.post("/cases/new", data=intake(
            intake_date=today.isoformat(), rights_notice_date=today.isoformat(),
            **{"parties-1-birth_date": today.isoformat(), "parties-1-is_minor": "y"}))
        assert resp.status_code == 302, errors(resp.get_data(as_text=True))
        case = db.session.scalar(select(Case).order_by(Case.id.desc()))
        assert case.intake_date == today
        assert case.number == f"（{today.year}）金坛婚调字第0001号"

        # 2. A diary entry with the offered date is saved.
        advance(case, "accept", "assign")
        page = med.get(f"/cases/{case.id}/diary/new").get_data(as_text=True)
        assert offered(page, "occurred_on") == today.isoformat()
        resp = med.post(f"/cases/{case.id}/diary/new", data=entry_form(case, occurred_on=today.isoformat(),
                                                                        start_time="", next_date=""))
        assert resp.status_code == 302, errors(resp.get_data(as_text=True))
        assert db.session.scalar(select(DiaryEntry.occurred_on).where(DiaryEntry.case_id == case.id)) == today

        # 4. The month's statistics count the case (registered and accepted now) in this month.
        station = unit("320413")
        this_month = stats.Period.month(today.year, today.month)
        last = today.replace(day=1) - timedelta(days=1)
        figures = stats.compute(station, this_month).summary()
        assert figures["registered"] == 1 and figures["accepted"] == 1
        before = stats.compute(station, stats.Period.month(last.year, last.month)).summary()
        assert before["registered"] == 0 and before["accepted"] == 0
        coord = login("coord-320413109")
        page = coord.get("/stats/?period=month").get_data(as_text=True)
        assert f'value="{today:%Y-%m}"' in page  # the current month is Jintan's

    # 3. A follow-up due today shows as due, not late: concluded seven days ago (the first
    #    visit of the plan is due after 7 days), looked at today.
    with frozen(local - timedelta(days=7)):
        settled = make_case(intake_date=(today - timedelta(days=7)))
        advance(settled, "accept", "assign")
        advance(settled, "start", "conclude", "follow_up", by="med-320413109201")
    with frozen(local):
        page = login("med-320413109201").get(f"/cases/{settled.id}").get_data(as_text=True)
        plan = page.split('id="follow-up"')[1].split("</section>")[0]
        first = next(li for li in plan.split("</li>") if "7 天后" in li)
        assert f"{today.month}月{today.day}日" in first
        assert "待回访" in first and "超期" not in first


def test_the_day_before_is_late_and_a_birth_tomorrow_is_refused(demo, login, server_zone):
    """The other side of the edge: one Jintan day later the visit is late, and a birth date of
    Jintan's tomorrow (still "today" on a server behind) is in the future."""
    local = MOMENTS["00:30"]
    with frozen(local - timedelta(days=8)):
        settled = make_case(intake_date=(local.date() - timedelta(days=8)))
        advance(settled, "accept", "assign")
        advance(settled, "start", "conclude", "follow_up", by="med-320413109201")
    with frozen(local):
        med = login("med-320413109201")
        page = med.get(f"/cases/{settled.id}").get_data(as_text=True)
        first = next(li for li in page.split('id="follow-up"')[1].split("</li>") if "7 天后" in li)
        assert "超期" in first
        tomorrow = (local.date() + timedelta(days=1)).isoformat()
        page = med.post("/cases/new", data=intake(intake_date=tomorrow)).get_data(as_text=True)
        assert "不能晚于今天" in page
        page = med.post("/cases/new", data=intake(**{"parties-1-birth_date": tomorrow})).get_data(as_text=True)
        assert "出生日期不能晚于今天" in page


def test_helpers_count_the_configured_day(app):
    with frozen(datetime(2026, 12, 7, 0, 5, tzinfo=JINTAN)):
        assert local_today().isoformat() == "2026-12-07"
        assert utc_start_of(local_today()) == datetime(2026, 12, 6, 16, 0)
    app.config["BABEL_DEFAULT_TIMEZONE"] = "America/Los_Angeles"
    with frozen(datetime(2026, 12, 7, 0, 5, tzinfo=JINTAN)):
        assert local_today().isoformat() == "2026-12-06"
    born = datetime(2008, 12, 7).date()
    assert age_on(born, datetime(2026, 12, 6).date()) == 17 and age_on(born, datetime(2026, 12, 7).date()) == 18


@pytest.mark.parametrize("source", [
    "from datetime import date\nx = date.today()\n",
    "from datetime import datetime\nx = datetime.now()\n",
    "from datetime import UTC, datetime\nx = datetime.now(UTC)\n",
    "import datetime\nx = datetime.datetime.utcnow()\n",
    "import time\nx = time.time()\n",
])
def test_lint_refuses_a_clock_read_outside_timeutil(source):
    """`make lint` (run by `make test`) fails on a new read of the system clock in mediation/."""
    ruff = [sys.executable, "-m", "ruff", "check", "--no-cache", "--stdin-filename"]
    bad = subprocess.run([*ruff, "mediation/cases/probe.py", "-"], input=source, text=True,
                         capture_output=True, cwd=ROOT)
    assert bad.returncode == 1 and ("DTZ" in bad.stdout or "TID251" in bad.stdout), bad.stdout
    own = subprocess.run([*ruff, "mediation/timeutil.py", "-"], input=(ROOT / "mediation/timeutil.py").read_text(),
                         text=True, capture_output=True, cwd=ROOT)
    assert own.returncode == 0, own.stdout


def test_a_zone_that_is_not_one_stops_the_app_with_a_clear_message(tmp_path):
    from .conftest import make_app

    for bad in ("Mars/Olympus", "", "asia/shanghai"):
        with pytest.raises(RuntimeError, match="not a time zone name"):
            make_app(f"sqlite:///{tmp_path / 'z.sqlite'}", BABEL_DEFAULT_TIMEZONE=bad)


def test_date_pickers_and_limits_follow_the_jintan_day(demo, login, server_zone):
    """The pickers stop at Jintan's today; an ID number or a notice date in the future is
    refused like a typed birth date."""
    local = MOMENTS["00:30"]
    today, tomorrow = local.date(), local.date() + timedelta(days=1)
    with frozen(local):
        med = login("med-320413109201")
        page = med.get("/cases/new").get_data(as_text=True)
        for name in ("intake_date", "rights_notice_date", "parties-0-birth_date"):
            field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
            assert f'max="{today.isoformat()}"' in field, field
        born_tomorrow = "32048220261208" + "0000"
        from mediation.cases.idnumber import check_digit

        number = born_tomorrow[:17] + check_digit(born_tomorrow[:17])
        page = med.post("/cases/new", data=intake(**{"parties-0-id_number": number, "parties-0-birth_date": ""})
                        ).get_data(as_text=True)
        assert "身份证号中的出生日期晚于今天" in page
        page = med.post("/cases/new", data=intake(rights_notice_date=tomorrow.isoformat())).get_data(as_text=True)
        assert "日期不能晚于今天" in page
        assert db.session.scalar(select(Case)) is None


def test_retention_falls_due_on_the_day_the_case_page_names(demo, app, server_zone):
    """Archived at 11:00 Jintan ten years ago: due from 00:30 on the anniversary, not 11:00."""
    from mediation.retention.services import due_cases

    case = make_case()
    case.status, case.archived_at = CaseStatus.ARCHIVED, datetime(2016, 12, 7, 3, 0)  # 11:00 in Jintan
    db.session.commit()
    with frozen(datetime(2026, 12, 6, 23, 30, tzinfo=JINTAN)):
        assert case.id not in [d.case_id for d in due_cases()]
    with frozen(MOMENTS["00:30"]):
        assert case.id in [d.case_id for d in due_cases()]


def test_the_report_link_never_points_at_a_month_to_come(demo, login):
    with frozen(MOMENTS["new-year"]):
        page = login("coord-320413109").get("/stats/?period=year&year=2027").get_data(as_text=True)
        assert "month=2027-01" in page and "month=2027-12" not in page


def test_downloads_carry_a_meaningful_ascii_name(demo, login):
    with frozen(MOMENTS["00:30"]):
        resp = login("coord-320413109").get("/cases/export.csv")
        assert 'filename="cases-20261207.csv"' in resp.headers["Content-Disposition"]
