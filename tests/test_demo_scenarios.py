"""The lived-in demo (issue 7 point 8): `demo load` replays the 24 fictional cases of
mediation/data/demo_scenarios.json through the services and the workflow."""
import time
from datetime import date, timedelta

from sqlalchemy import func, select

from mediation import access
from mediation.cases.models import Case, CaseEvent, Party
from mediation.cases.workflow import CaseStatus, Outcome
from mediation.demo_scenarios import file_dates, scenarios
from mediation.diary.models import DiaryEntry, EntryKind
from mediation.extensions import db
from mediation.leads.models import Lead, LeadStatus
from mediation.org.models import Tier
from mediation.screening.models import Occasion, Screening
from mediation.timeutil import local_date_of, local_today
from mediation.transfers.models import Referral, Transfer, TransferStatus

from .factories import user

FINAL = {"归档": CaseStatus.ARCHIVED, "结案": CaseStatus.CLOSED, "回访": CaseStatus.FOLLOW_UP,
         "调解结束": CaseStatus.CONCLUDED, "调解中": CaseStatus.IN_MEDIATION, "已指派": CaseStatus.ASSIGNED,
         "不予受理": CaseStatus.DECLINED}
OUTCOME = {"调解成功": Outcome.SUCCESS, "部分成功": Outcome.PARTIAL, "调解不成": Outcome.FAILED,
           "调解终止": Outcome.TERMINATED, None: None}
# Where the workflow's rules and the file part ways (see mediation/demo_scenarios.py):
# S24 is red and "in mediation" (suspended) in the file, but mediation never starts at red.
RULE_DEVIATIONS = {"S24": CaseStatus.ASSIGNED}


def case_of(s: dict) -> Case:
    first = s["parties"][0]
    return db.session.scalar(select(Case).join(Party).where(Party.phone == first["phone"],
                                                            Party.name == first["name"]))


def test_demo_load_replays_the_scenarios(runner):
    from mediation.diary.services import WRITABLE_STATUSES

    started = time.perf_counter()
    result = runner.invoke(args=["demo", "load"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert "24" in result.output.splitlines()[-1], result.output
    assert elapsed < 30, f"demo load took {elapsed:.1f} s"
    data = scenarios()
    assert len(data) == 24 and db.session.scalar(select(func.count(Case.id))) == 24

    for s in data:
        case = case_of(s)
        sid = s["id"]
        assert case is not None, sid
        assert case.status is RULE_DEVIATIONS.get(sid, FINAL[s["final_status"]]), sid
        assert case.outcome is OUTCOME[s["outcome"]], sid
        assert case.risk_level.value == s["screening"]["expected_level"], sid
        assert case.category.name_zh == s["category"], sid
        assert [p.name for p in case.parties] == [p["name"] for p in s["parties"]], sid
        if s["source"] == "网格员":  # reported by the village's grid worker, then registered from the lead
            lead = db.session.get(Lead, case.lead_id)
            assert lead.status is LeadStatus.CONVERTED and lead.reporter.username.startswith("grid-"), sid
        # The intake screening of the person at risk gives the file's level on its own.
        intake = db.session.scalar(select(Screening).where(
            Screening.case_id == case.id, Screening.occasion == Occasion.INTAKE,
            Screening.party_id == case.parties[0].id).order_by(Screening.id).limit(1))
        assert intake.level.value == s["screening"]["expected_level"], sid

        entries = db.session.scalars(select(DiaryEntry).where(DiaryEntry.case_id == case.id)).all()
        diary = len(s["diary"])
        if sid == "S20" and CaseStatus.REGISTERED not in WRITABLE_STATUSES:
            diary = 0  # declined before acceptance: the diary is kept from acceptance on
        assert len(entries) == diary + len(s["follow_ups"]), sid
        assert sum(e.kind is EntryKind.FOLLOW_UP for e in entries) == len(s["follow_ups"]), sid
        assert not any(e.kind is EntryKind.SESSION for e in entries) or case.risk_level.value != "red", sid

        transfers = db.session.scalars(select(Transfer).where(Transfer.case_id == case.id)
                                       .order_by(Transfer.id)).all()
        assert [t.status for t in transfers] == [
            TransferStatus.ACCEPTED if e["accepted"] else TransferStatus.RETURNED for e in s["escalations"]], sid
        assert [t.from_unit.tier for t in transfers] == [
            Tier.VILLAGE if e["from_tier"] == "village" else Tier.PLATFORM for e in s["escalations"]], sid
        assert db.session.scalar(select(func.count(Referral.id)).where(Referral.case_id == case.id)) \
            == len(s["referrals"]), sid

        from mediation.agreements.services import agreement_of

        agreement = agreement_of(case)
        if s["agreement"]:
            assert agreement.kind.value == s["agreement"]["type"], sid
            assert agreement.confirmation.value == s["agreement"]["judicial_confirmation"], sid
            assert [t.content for t in agreement.terms] == [t["text"] for t in s["agreement"]["terms"]], sid
        else:
            assert agreement is None, sid

    # The reopened case went through 回访 -> 调解中 -> 调解结束 again.
    s06 = case_of(next(s for s in data if s["id"] == "S06"))
    assert [e.kind for e in s06.events].count("reopen") == 1
    assert [e.kind for e in s06.events].count("conclude") == 2

    # Shifted so that the newest event of the file is yesterday.
    newest = db.session.scalar(select(func.max(CaseEvent.at)))
    yesterday = local_today() - timedelta(days=1)
    assert local_date_of(newest) == yesterday
    shift = yesterday - max(d for s in data for d in file_dates(s))
    assert min(c.intake_date for c in db.session.scalars(select(Case))) == date(2026, 1, 12) + shift
    assert db.session.scalar(select(func.max(DiaryEntry.occurred_on))) == yesterday

    # 薛埠镇's coordinator sees its five cases, including those that went up to the station.
    xuebu = {case_of(s).id for s in data if s["village_code"].startswith("320413109")}
    assert len(xuebu) == 5
    seen = set(db.session.scalars(access.cases_query(user("coord-320413109")).with_only_columns(Case.id)))
    assert seen == xuebu

    # A second load adds nothing.
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert db.session.scalar(select(func.count(Case.id))) == 24
