"""A delegated visitor can reach the party (issue 14.5): a unit given a follow-up visit may ask
for a protected party's address and phone while the visit is open, each time in the audit log."""
from datetime import timedelta

from sqlalchemy import select

from mediation.audit.models import AuditEvent
from mediation.cases import workflow
from mediation.diary.models import EntryKind, Performance
from mediation.extensions import db
from mediation.timeutil import local_today
from mediation.transfers.models import EscalationReason, Urgency

from .factories import advance, make_case, unit, user, write_entry

MED, COORD = "med-320413109201", "coord-320413109"
PHONE, ADDRESS = "13800000177", "上阳村3组12号"


def delegated_case():
    """A flagged case (contacts protected) taken up by the town, which asks the village for a visit."""
    case = make_case(dv_flag=True)
    case.parties[0].phone, case.parties[0].address = PHONE, ADDRESS
    db.session.commit()
    advance(case, "accept", "assign", "start", by=COORD)
    workflow.transition(case, "escalate", by=user(MED), to_unit=unit("320413109"),
                        reason_code=EscalationReason.SAFETY, urgency=Urgency.URGENT)
    db.session.commit()
    workflow.transition(case, "receive", by=user(COORD), lead_mediator=user(COORD), co_mediators=[])
    db.session.commit()
    assert MED not in {u.username for u in [case.lead_mediator, *case.co_mediators]}
    workflow.transition(case, "delegate", by=user(COORD), to_unit=unit("320413109201"),
                        instruction="走访汤桂珍，了解是否安全", due_date=local_today() + timedelta(days=3))
    db.session.commit()
    return case


def reveals():
    db.session.rollback()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal_contacts")))


def test_the_delegated_visitor_may_reveal_the_contacts_while_the_visit_is_open(demo, login):
    case = delegated_case()
    party = case.parties[0]
    med = login(MED)
    page = med.get(f"/cases/{case.id}").get_data(as_text=True)
    assert PHONE not in page and "住址和电话已保护" in page
    url = f"/cases/{case.id}/parties/{party.id}/contacts"
    assert url in page  # offered to the visitor
    form = med.get(url)
    assert form.status_code == 200 and PHONE not in form.get_data(as_text=True)
    assert not reveals()
    shown = med.post(url, data={"reason": "明天上门回访，先电话联系"})
    text = shown.get_data(as_text=True)
    assert PHONE in text and ADDRESS in text and shown.headers["Cache-Control"] == "no-store"
    (event,) = reveals()
    assert event.actor_id == user(MED).id and event.details["reason"] == "明天上门回访，先电话联系"
    assert event.details["field"] == "contacts" and event.details["delegation"]
    med.post(url, data={"reason": "再次联系"})
    assert len(reveals()) == 2  # each reveal is logged
    # A reason is needed; nothing is shown or logged without one.
    assert PHONE not in med.post(url, data={"reason": ""}).get_data(as_text=True) and len(reveals()) == 2
    # The audit log names it.
    assert "受保护的住址和电话" in login("admin").get("/audit/?action=reveal_contacts").get_data(as_text=True)

    # The visit recorded, the delegation is closed: the contacts are protected again.
    write_entry(case, by=MED, kind=EntryKind.FOLLOW_UP, mode=None, performance=Performance.PERFORMED)
    assert med.get(url).status_code == 403
    assert url not in med.get(f"/cases/{case.id}").get_data(as_text=True)


def test_no_one_else_gets_the_contacts_this_way(demo, login):
    case = delegated_case()
    url = f"/cases/{case.id}/parties/{case.parties[0].id}/contacts"
    assert login("med-320413109202").get(url).status_code == 404  # another village: not even the case
    assert login("grid-320413109201").get(url).status_code == 403  # no case work
    # The case's own mediators see the contacts on the case page; they need no reveal.
    coord = login(COORD)
    assert PHONE in coord.get(f"/cases/{case.id}").get_data(as_text=True)
    assert coord.get(url).status_code == 403
