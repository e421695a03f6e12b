"""Archived means closed for good (issue 14.2): every service that writes to a case refuses
on 归档 and on 结案 (except through the steps that leave from there, reopening first), with a
message; archiving waits for open referrals and delegated visits, naming them."""
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from mediation.agreements import services as agreements
from mediation.agreements.models import Confirmation
from mediation.attachments import services as attachments
from mediation.attachments.models import Attachment, DocumentKind
from mediation.cases import services as cases
from mediation.cases import workflow
from mediation.cases.models import CaseStatus
from mediation.cases.workflow import WorkflowError
from mediation.diary import services as diary
from mediation.diary.models import EntryKind, Performance, SessionMode
from mediation.extensions import db
from mediation.screening import services as screening
from mediation.screening.models import Occasion
from mediation.screening.scoring import ITEMS
from mediation.timeutil import local_today
from mediation.transfers.models import EscalationReason, ReferralDestination, Urgency

from .factories import advance, agreement_of, make_agreement, make_case, unit, user, write_entry
from .test_cases import intake

MED, COORD = "med-320413109201", "coord-320413109"
ARCHIVED_MESSAGE = "已归档"
CLOSED_MESSAGE = "已结案"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (0, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def closed_case():
    """A settled case followed up and closed (with an agreement and a diary entry)."""
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    advance(case, "conclude", "follow_up", "close", by=COORD)
    assert case.status is CaseStatus.CLOSED
    return case


def writers(case):
    """Every service that writes to a case, as the case's mediator would call it."""
    med = user(MED)
    entry = diary.visible_entries(med, case)[0]
    party = case.parties[0]
    today = local_today()
    values = {"kind": EntryKind.SESSION, "occurred_on": today, "mode": SessionMode.SEPARATE, "issues": "再谈",
              "party_ids": [], "positions": {}}
    return {
        "diary entry": lambda: diary.write_entry(case, by=med, values=dict(values)),
        "diary edit": lambda: diary.edit_entry(entry, case, by=user(entry.author.username), values=dict(values)),
        "amendment": lambda: diary.amend(entry, case, by=med, reason="更正", text="金额应为8600元"),
        "upload": lambda: attachments.store(case, by=med, data=png(), filename="a.png", kind=DocumentKind.OTHER),
        "agreement": lambda: agreements.save_agreement(
            case, by=med, kind=agreement_of(case).kind, reached_on=today, facts="x", disputed_points="y",
            copies=None, terms=[{"content": "z"}]),
        "judicial confirmation": lambda: agreements.update_confirmation(
            case, agreement_of(case), by=med, status=Confirmation.APPLIED, applied_on=today, decided_on=None,
            court="金坛区人民法院", note=""),
        "screening": lambda: screening.record(case, party, occasion=Occasion.FOLLOW_UP, by=med,
                                              answers={i.number: "no" for i in ITEMS}),
        "safety plan": lambda: screening.add_safety_plan(case, measures="分开居住", by=med),
        "edit and parties": lambda: cases.update_case(
            case, values={f: getattr(case, f) for f in cases.CASE_FIELDS}, parties=[], by=user(COORD),
            expected_version=case.version),
    }


@pytest.mark.parametrize("status", ["closed", "archived"])
def test_every_writing_service_refuses_a_closed_or_archived_case(demo, app, tmp_path, status):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    case = closed_case()
    if status == "archived":
        advance(case, "archive", by=COORD)
    events = len(case.events)
    for name, write in writers(case).items():
        with pytest.raises(WorkflowError) as refused:
            write()
        assert (ARCHIVED_MESSAGE if status == "archived" else CLOSED_MESSAGE) in refused.value.message, name
        db.session.rollback()
    db.session.refresh(case)
    assert len(case.events) == events
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_an_archived_case_still_offers_its_papers_to_print(demo, login):
    """Archiving is when the case file gets printed: no step is left, the print links stay
    (the QA report: only the diary, record and agreement links were left)."""
    import io

    from pypdf import PdfReader

    case = closed_case()
    advance(case, "archive", by=COORD)
    for who in (COORD, MED, "admin"):
        page = login(who).get(f"/cases/{case.id}").get_data(as_text=True)
        for link in ("print-file", "print-intake"):
            href = page.split(f'id="{link}" href="', 1)[1].split('"', 1)[0]
            pdf = login(who).get(href)
            assert pdf.status_code == 200 and pdf.mimetype == "application/pdf", (who, link)
            text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages).replace(" ", "")
            assert case.number.replace(" ", "") in text, (who, link)


def test_an_upload_to_an_archived_case_is_refused_with_the_reason_and_no_form_is_offered(demo, login, app, tmp_path):
    """The field report: an archived case accepted an upload."""
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    case = closed_case()
    advance(case, "archive", by=COORD)
    med = login(MED)
    page = med.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "attachments/" not in page.split('id="attachments"', 1)[-1].split("</section>", 1)[0]
    resp = med.post(f"/cases/{case.id}/attachments/", data={"file": (io.BytesIO(png()), "a.png"), "kind": "other"},
                    content_type="multipart/form-data", follow_redirects=True)
    assert "此案件已归档，不能再更改" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attachment.id))) == 0
    assert not list((tmp_path / "uploads").glob("*")) if (tmp_path / "uploads").exists() else True
    # Amending a diary entry: refused with the same message.
    entry = diary.visible_entries(user(MED), case)[0]
    page = med.post(f"/cases/{case.id}/diary/{entry.id}/amend", data={"reason": "更正", "text": "补记"}
                    ).get_data(as_text=True)
    assert "此案件已归档，不能再更改" in page


def test_reopening_a_closed_case_makes_it_writable_again(demo, app):
    case = closed_case()
    with pytest.raises(WorkflowError):
        write_entry(case)
    db.session.rollback()
    advance(case, "reopen", by=COORD)
    assert case.status is CaseStatus.IN_MEDIATION
    write_entry(case)  # the reopen path: the diary goes on


def test_archiving_waits_for_an_open_referral_and_names_it(demo, login):
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    workflow.transition(case, "refer", by=user(MED), destination=ReferralDestination.LEGAL_AID,
                        destination_name="金坛区法律援助中心", referred_on=local_today())
    db.session.commit()
    advance(case, "conclude", "follow_up", "close", by=COORD)
    with pytest.raises(WorkflowError) as refused:
        workflow.transition(case, "archive", by=user(COORD))
    assert "金坛区法律援助中心" in refused.value.message and "结果" in refused.value.message
    db.session.rollback()
    # The case page says why the archive button is not offered.
    page = login(COORD).get(f"/cases/{case.id}").get_data(as_text=True)
    assert "金坛区法律援助中心" in page
    from mediation.transfers.services import open_referrals

    workflow.transition(case, "referral_result", by=user(MED), referral=open_referrals(case)[0],
                        outcome_text="已指派律师", outcome_on=local_today())
    db.session.commit()
    workflow.transition(case, "archive", by=user(COORD))
    db.session.commit()
    assert case.status is CaseStatus.ARCHIVED


def test_a_case_with_an_open_delegated_visit_is_neither_closed_nor_archived(demo):
    case = advance(make_case(), "accept", "assign", "start", by=COORD)
    workflow.transition(case, "escalate", by=user(MED), to_unit=unit("320413109"),
                        reason_code=EscalationReason.SAFETY, urgency=Urgency.NORMAL)
    db.session.commit()
    workflow.transition(case, "receive", by=user(COORD), lead_mediator=user(COORD), co_mediators=[])
    db.session.commit()
    make_agreement(case, by=COORD)
    advance(case, "conclude", "follow_up", by=COORD)
    workflow.transition(case, "delegate", by=user(COORD), to_unit=unit("320413109201"), instruction="走访汤家",
                        due_date=local_today() + timedelta(days=7))
    db.session.commit()
    write_entry(case, by=COORD, kind=EntryKind.FOLLOW_UP, mode=None, performance=Performance.PERFORMED)
    with pytest.raises(WorkflowError) as refused:
        workflow.transition(case, "close", by=user(COORD))
    assert "上阳村" in refused.value.message
    db.session.rollback()
    # The village records the visit: the delegation is done, the case closes and archives.
    write_entry(case, by=MED, kind=EntryKind.FOLLOW_UP, mode=None, performance=Performance.PERFORMED)
    advance(case, "close", "archive", by=COORD)
    assert case.status is CaseStatus.ARCHIVED


def test_a_registered_case_edits_through_the_form_until_closed(demo, login):
    """The edit page itself is refused once closed (403), and the service says why."""
    case = closed_case()
    coord = login(COORD)
    assert coord.get(f"/cases/{case.id}/edit").status_code == 403
    assert coord.post(f"/cases/{case.id}/edit", data=intake(version=str(case.version))).status_code == 403
