"""Retention: archived cases are anonymised after their category's period (or the default),
never while on legal hold; statistics survive; every run is audited and idempotent."""
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext
from PIL import Image
from sqlalchemy import func, select, text

from mediation import audit
from mediation.audit.models import AuditEvent
from mediation.cases.models import Case, CaseEvent, Category, Party
from mediation.cases.workflow import CaseStatus, Outcome
from mediation.extensions import db
from mediation.retention.services import PLACEHOLDER, add_years, run
from mediation.timeutil import utcnow

from .factories import advance, agreement_of, make_case, unit, user, write_entry

GOOD_ID = "320482194203181227"


def zh(app, msgid: str, **values) -> str:
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        return gettext(msgid, **values)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def archived_case(years_ago: float = 11, **values) -> Case:
    """A settled, followed-up, closed and archived case full of personal data."""
    from mediation.attachments.models import DocumentKind
    from mediation.attachments.services import store
    from mediation.cases import services
    from mediation.diary.models import EntryKind
    from mediation.diary.services import amend
    from mediation.leads.models import Lead

    case = make_case(summary="汤桂珍的三个儿子为医药费互相推诿。", claims="周国民每月付600元",
                     amount_in_dispute=Decimal("8600"), referrer="上阳村网格员李明", **values)
    p = case.parties[0]
    p.id_number, p.phone, p.address, p.birth_date = GOOD_ID, "13800001234", "上阳村8组12号", date(1942, 3, 18)
    p.occupation, p.relationship = "农民", "周国民之母"
    lead = Lead(unit=unit("320413109201"), reporter=user("grid-320413109201"), who="汤桂珍一家", where="上阳村8组",
                what="母亲医药费无人承担", contact_phone="13800001234")
    db.session.add(lead)
    db.session.commit()
    case.lead_id = lead.id
    db.session.commit()
    # An edit: the timeline keeps old and new summaries and party names.
    form_parties = [{f: getattr(x, f) for f in services.PARTY_FIELDS} for x in case.parties]
    form_parties[1]["name"] = "周国明"
    values = {f: getattr(case, f) for f in services.CASE_FIELDS}
    values["summary"] = "汤桂珍的儿子周国明不付医药费。"
    services.update_case(case, values=values, parties=form_parties, by=user("med-320413109201"),
                         expected_version=case.version)
    db.session.commit()
    advance(case, "accept", "assign", "start")
    entry = write_entry(case, kind=EntryKind.SESSION, issues="汤桂珍说周国明不孝", result="周国明同意付款",
                        place="上阳村委会", others_present="村主任张强",
                        positions={str(case.parties[0].id): "要求每月600元"})
    amend(entry, case, by=user("med-320413109201"), reason="周国明补充", text="周国明另付药费")
    store(case, by=user("med-320413109201"), data=png(), filename="汤桂珍身份证.png", kind=DocumentKind.ID_PROOF,
          title="汤桂珍身份证")
    db.session.commit()
    advance(case, "conclude", "follow_up", "close", "archive")
    case.archived_at = utcnow() - timedelta(days=int(365.25 * years_ago))
    db.session.commit()
    return case


@pytest.fixture
def uploads(app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def test_add_years_handles_the_29th_of_february():
    from datetime import datetime

    assert add_years(datetime(2024, 2, 29, 8), 10) == datetime(2034, 3, 1, 8)
    assert add_years(datetime(2026, 11, 29), 10) == datetime(2036, 11, 29)


def test_dry_run_lists_and_changes_nothing(app, demo, uploads, runner):
    case = archived_case()
    fresh = archived_case(years_ago=2)
    result = runner.invoke(args=["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert case.number in result.output and fresh.number not in result.output
    assert zh(app, "Dry run: %(n)d cases are due; nothing was changed.", n=1) in result.output
    db.session.expire_all()
    assert db.session.get(Case, case.id).anonymised_at is None
    assert db.session.get(Party, case.parties[0].id).id_number == GOOD_ID


def test_expired_cases_are_anonymised_and_keep_their_statistics(app, demo, uploads, runner, login):
    case = archived_case()
    fresh = archived_case(years_ago=9)  # the default is 10 years
    open_case = make_case(applicant="王小红", respondent="李大山")
    stored = list(uploads.iterdir())
    assert len(stored) == 6  # two photos, their thumbnails and print renditions
    kept = {"category": case.category_id, "unit": case.unit_id, "intake": case.intake_date, "outcome": case.outcome,
            "amount": case.amount_in_dispute, "people": case.people_involved, "number": case.number,
            "archived": case.archived_at, "events": len(case.events)}

    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert zh(app, "%(n)d cases anonymised.", n=1) in result.output
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.anonymised_at is not None
    # Identifying data is gone ...
    assert [p.name for p in case.parties] == ["当事人甲", "当事人乙"]
    p = case.parties[0]
    assert (p.id_number, p.id_hash, p.phone, p.address, p.birth_date, p.occupation, p.relationship) == \
        ("", "", "", "", None, "", "")
    raw = db.session.execute(text("SELECT id_number_enc FROM party WHERE id = :id"), {"id": p.id}).scalar()
    assert raw == ""
    assert case.summary == PLACEHOLDER and case.claims == PLACEHOLDER and case.referrer == PLACEHOLDER
    from mediation.diary.models import Amendment, DiaryEntry, DiaryRevision

    entries = db.session.scalars(select(DiaryEntry).where(DiaryEntry.case_id == case.id)).all()
    session = next(e for e in entries if e.issues)
    assert (session.issues, session.result, session.place, session.others_present) == (PLACEHOLDER,) * 4
    assert set(session.positions.values()) == {PLACEHOLDER}
    assert {(a.reason, a.text) for a in db.session.scalars(select(Amendment))
            if a.entry_id in {e.id for e in entries}} == {(PLACEHOLDER, PLACEHOLDER)}
    assert all(r.data == {"anonymised": True} for r in db.session.scalars(select(DiaryRevision))
               if r.entry_id in {e.id for e in entries})
    agreement = agreement_of(case)
    assert agreement.facts == PLACEHOLDER and {t.content for t in agreement.terms} == {PLACEHOLDER}
    from mediation.attachments.models import Attachment
    from mediation.leads.models import Lead

    assert db.session.scalar(select(func.count(Attachment.id)).where(Attachment.case_id == case.id)) == 0
    assert len(list(uploads.iterdir())) == 3  # only the fresh case's files remain (photo, thumbnail, print)
    lead = db.session.get(Lead, case.lead_id)
    assert lead.who == PLACEHOLDER and lead.what == PLACEHOLDER and lead.contact_phone == ""
    # ... also from the timeline, whose steps stay ...
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).all()
    assert len(events) == kept["events"]
    blob = str([(e.note, e.changes) for e in events])
    for secret in ("汤桂珍", "周国民", "周国明", "医药费", "13800001234", "身份证.png"):
        assert secret not in blob, secret
    edited = next(e for e in events if e.kind == "edited")
    # Names follow the parties as they are now (周国明 乙); a former name gets the next (周国民 丙).
    assert edited.changes["parties"] == [["applicant:当事人甲", "respondent:当事人丙"],
                                         ["applicant:当事人甲", "respondent:当事人乙"]]
    # ... and from the search index.
    try:
        from mediation.search.models import SearchDoc
    except ImportError:
        SearchDoc = None
    if SearchDoc is not None:
        docs = db.session.scalars(select(SearchDoc.content).where(SearchDoc.case_id == case.id)).all()
        assert not any("汤桂珍" in d or "医药费" in d or "不孝" in d for d in docs), docs
    # What statistics need is kept.
    assert (case.category_id, case.unit_id, case.intake_date, case.outcome, case.amount_in_dispute,
            case.people_involved, case.number, case.archived_at, case.status) == (
        kept["category"], kept["unit"], kept["intake"], Outcome.SUCCESS, kept["amount"], kept["people"],
        kept["number"], kept["archived"], CaseStatus.ARCHIVED)
    assert len(entries) == 2  # the session and the follow-up visit: counted, never deleted
    # Others are untouched.
    fresh, open_case = db.session.get(Case, fresh.id), db.session.get(Case, open_case.id)
    assert fresh.anonymised_at is None and fresh.parties[0].id_number == GOOD_ID
    assert [p.name for p in open_case.parties] == ["王小红", "李大山"]
    # Audited; the chain holds; the case page still opens.
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.anonymise"))
    assert event.target_id == str(case.id) and event.details["retention_years"] == 10
    assert event.details["files_deleted"] == 1 and event.actor_id is None
    assert audit.verify().ok
    page = login("admin").get(f"/cases/{case.id}").get_data(as_text=True)
    assert "当事人甲" in page and "汤桂珍" not in page and GOOD_ID[:4] + "*" not in page
    # Idempotent: a second run does nothing.
    result = runner.invoke(args=["retention", "run"])
    assert zh(app, "%(n)d cases anonymised.", n=0) in result.output
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "retention.anonymise")) == 1


def test_category_period_and_configured_default(app, demo, uploads):
    case = archived_case(years_ago=6)
    assert run(dry_run=True).due == []
    app.config["MEDIATION_RETENTION_YEARS"] = 5
    assert [d.case_id for d in run(dry_run=True).due] == [case.id]
    case.category.retention_years = 20  # the category's own period wins
    db.session.commit()
    assert run(dry_run=True).due == []
    case.category.retention_years = 6
    db.session.commit()
    assert [d.case_id for d in run().due] == [case.id]
    assert db.session.get(Case, case.id).anonymised_at is not None


def test_categories_admin_sets_the_period(app, demo, login):
    admin = login("admin")
    page = admin.get("/cases/categories/").get_data(as_text=True)
    assert 'placeholder="10"' in page
    cat = db.session.scalar(select(Category).where(Category.code == "inheritance"))
    form = {f"c{cat.id}-code": cat.code, f"c{cat.id}-name_zh": cat.name_zh, f"c{cat.id}-name_en": cat.name_en,
            f"c{cat.id}-sort_order": str(cat.sort_order), f"c{cat.id}-active": "y"}
    admin.post(f"/cases/categories/{cat.id}", data={**form, f"c{cat.id}-retention_years": "30"})
    db.session.expire_all()
    assert db.session.get(Category, cat.id).retention_years == 30
    page = admin.post(f"/cases/categories/{cat.id}", data={**form, f"c{cat.id}-retention_years": "0"},
                      follow_redirects=True).get_data(as_text=True)
    assert zh(app, "Between 1 and 100 years.") in page
    admin.post(f"/cases/categories/{cat.id}", data={**form, f"c{cat.id}-retention_years": ""})
    db.session.expire_all()
    assert db.session.get(Category, cat.id).retention_years is None
    admin.post("/cases/categories/", data={"new-code": "adoption", "new-name_zh": "收养", "new-name_en": "Adoption",
                                           "new-retention_years": "25", "new-active": "y"})
    assert db.session.scalar(select(Category.retention_years).where(Category.code == "adoption")) == 25
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("admin.category%"))
                                .order_by(AuditEvent.id)).all()
    assert actions == ["admin.category_update", "admin.category_update", "admin.category_create"]


def test_legal_hold_stops_anonymisation(app, demo, uploads, login):
    case = archived_case()
    admin = login("admin")
    page = admin.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="legal-hold-form"' in page
    url = f"/cases/{case.id}/legal-hold"
    # Only station administrators, and only with a reason.
    assert login("coord-320413109").post(url, data={"hold": "1", "reason": "诉讼中"}).status_code == 403
    assert 'id="legal-hold-form"' not in login("coord-320413109").get(f"/cases/{case.id}").get_data(as_text=True)
    assert login("med-320413109202").post(url, data={"hold": "1", "reason": "x"}).status_code in (403, 404)
    page = admin.post(url, data={"hold": "1", "reason": " "}, follow_redirects=True).get_data(as_text=True)
    assert zh(app, "Please give a reason.") in page
    assert not db.session.get(Case, case.id).legal_hold
    admin.post(url, data={"hold": "1", "reason": "当事人已起诉，法院调取卷宗"})
    db.session.expire_all()
    assert db.session.get(Case, case.id).legal_hold
    page = admin.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "当事人已起诉，法院调取卷宗" in page
    assert run().anonymised == [] and db.session.get(Case, case.id).anonymised_at is None
    admin.post(url, data={"hold": "0", "reason": "诉讼结束"})
    holds = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "case.legal_hold")
                               .order_by(AuditEvent.id)).all()
    assert [(e.details["hold"], e.details["reason"]) for e in holds] == [
        (True, "当事人已起诉，法院调取卷宗"), (False, "诉讼结束")]
    assert run().anonymised == [case.number]
    # An anonymised case cannot be put on hold any more.
    admin.post(url, data={"hold": "1", "reason": "太晚了"})
    db.session.expire_all()
    assert not db.session.get(Case, case.id).legal_hold


def test_cases_not_archived_are_never_touched(app, demo, uploads):
    case = make_case()
    advance(case, "accept", "assign")
    db.session.execute(text("UPDATE case_record SET archived_at = :t WHERE id = :id"),
                       {"t": utcnow() - timedelta(days=365 * 30), "id": case.id})
    db.session.commit()
    assert run().due == []
