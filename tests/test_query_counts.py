"""Issue 12.5: no page's cost grows with the data. Every main page, for every role, runs
at most ten SQL statements, and the same number with five times the data (more cases,
more diary entries on the case shown, more inbox items, more leads)."""
from datetime import timedelta

import pytest
from sqlalchemy import event

from mediation.cases import workflow
from mediation.extensions import db
from mediation.leads.models import Urgency
from mediation.leads.services import report_lead
from mediation.timeutil import local_today
from mediation.transfers.models import EscalationReason

from .factories import advance, make_case, unit, user, write_entry

ROLES = ("admin", "med-320413", "coord-320413109", "med-320413109201", "stats", "grid-320413109201")


def _pages(case, entry) -> list[str]:
    c = f"/cases/{case.id}"
    return ["/", "/cases/", "/cases/?view=unit", "/cases/?view=mine", "/cases/?status=in_mediation",
            "/cases/?overdue=1&sort=due", "/cases/?sort=number", "/cases/?q=汤", "/cases/?unit=320413109",
            c, f"{c}/edit", f"{c}/diary/new", f"{c}/agreement/", f"{c}/do/escalate", f"{c}/do/delegate",
            "/inbox/", "/inbox/?unread=1", "/leads/", "/search?q=汤", "/search?q=汤桂", "/diary/",
            "/diary/?scope=unit", "/diary/book.pdf?scope=unit", f"{c}/diary.pdf", f"{c}/file.pdf",
            f"{c}/intake.pdf", f"{c}/diary/{entry.id}/record.pdf", "/units/", "/units/320413109", "/users/",
            "/audit/", "/teaching/", "/cases/drafts/",
            "/stats/", "/stats/?unit=320413109", "/stats/?period=month", "/stats/report", "/stats/report.csv",
            "/stats/chart/category.svg"]


def _grow(n: int, shown) -> None:
    """n more cases in the village (the inbox of its mediator fills), two of them on to
    the town, each with an entry; n more entries on the case shown; n leads."""
    for i in range(n):
        case = advance(make_case(applicant=f"汤{i}", intake_date=local_today() - timedelta(days=i % 40)),
                       "accept", "assign", "start")
        write_entry(case, issues=f"第{i}次调解，汤家兄弟")
        if i < 2:
            workflow.transition(case, "escalate", by=user("med-320413109201"), to_unit=unit("320413109"),
                                reason_code=EscalationReason.UNSETTLED, urgency=Urgency.NORMAL)
            db.session.commit()
        write_entry(shown, issues=f"又谈了一次（{i}）")
        report_lead(reporter=user("grid-320413109201"), who=f"汤家{i}", where="上阳村", what="兄弟争吵",
                    urgency=Urgency.NORMAL, contact_phone="")
    db.session.commit()


def _walk(app, clients, pages) -> dict[tuple[str, str], tuple[int, int]]:
    """(role, page) -> (status, statements) for each page, each client already warm."""
    out = {}
    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for role, client in clients.items():
            for page in pages:
                seen.clear()
                status = client.get(page).status_code
                out[role, page] = (status, len(seen))
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return out


@pytest.mark.timeout(600)
def test_every_page_runs_at_most_ten_queries_at_two_sizes(app, demo, login):
    shown = advance(make_case(applicant="汤桂珍"), "accept", "assign", "start")
    entry = write_entry(shown, issues="第一次调解")
    _grow(3, shown)
    pages = _pages(shown, entry)
    clients = {role: login(role) for role in ROLES}
    for client in clients.values():
        client.get("/")  # the first page of a login looks for things due (once per session)
    small = _walk(app, clients, pages)
    _grow(12, shown)
    for client in clients.values():  # a new login: the once-a-session look again, not measured
        client.get("/logout")
    clients = {role: login(role) for role in ROLES}
    for client in clients.values():
        client.get("/")
    large = _walk(app, clients, pages)

    shown_ok = {k for k, (status, _n) in small.items() if status == 200}
    assert len(shown_ok) > 100  # most pages are open to most roles
    too_many = {k: v[1] for k, v in large.items() if v[0] == 200 and v[1] > 10}
    assert too_many == {}, too_many
    grew = {k: (small[k][1], large[k][1]) for k in small if small[k][0] == 200 and large[k][1] > small[k][1]}
    assert grew == {}
    assert {k: v[0] for k, v in small.items()} == {k: v[0] for k, v in large.items()}
