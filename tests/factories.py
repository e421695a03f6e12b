"""Builders for test data: the demo network is loaded by the ``demo`` fixture."""
from datetime import date

from sqlalchemy import select

from mediation.cases import services, workflow
from mediation.cases.models import Case, Category, PartyRole, RiskLevel, Source
from mediation.extensions import db
from mediation.org.models import OrgUnit
from mediation.users.models import User


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def unit(code: str) -> OrgUnit:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == code))


def category(code: str = "elder_support") -> Category:
    return db.session.scalar(select(Category).where(Category.code == code))


def make_case(by: str = "med-320413109201", *, applicant: str = "汤桂珍", respondent: str = "周国民",
              commit: bool = True, **values) -> Case:
    """Register a case through the service, as the intake form would."""
    author = user(by)
    data = {
        "category_id": category().id, "source": Source.PARTY, "referrer": "", "intake_date": date(2026, 11, 2),
        "summary": "三个儿子为医药费互相推诿。", "claims": "", "amount_in_dispute": None, "people_involved": 4,
        "children_involved": 0, "is_major": False, "is_mass": False, "risk_level": RiskLevel.NONE,
        "dv_flag": False, "consent_to_mediate": True, "rights_notice_date": date(2026, 11, 2),
    }
    data.update(values)
    parties = [
        {"role": PartyRole.APPLICANT, "name": applicant, "sex": None, "ethnicity": "汉族", "birth_date": None,
         "occupation": "", "id_number": "", "phone": "", "address": "", "relationship": "", "is_minor": False},
        {"role": PartyRole.RESPONDENT, "name": respondent, "sex": None, "ethnicity": "汉族", "birth_date": None,
         "occupation": "", "id_number": "", "phone": "", "address": "", "relationship": "", "is_minor": False},
    ]
    case = services.register_case(unit=author.unit, values=data, parties=parties, by=author)
    if commit:
        db.session.commit()
    return case


def write_entry(case: Case, *, by: str = "med-320413109201", **values):
    """A diary entry through the service (a joint session today by default)."""
    from mediation.diary.models import EntryKind, SessionMode
    from mediation.diary.services import write_entry as write
    from mediation.timeutil import local_today

    data = {"kind": EntryKind.SESSION, "occurred_on": local_today(), "mode": SessionMode.JOINT,
            "issues": "医药费怎么分摊", "result": "初步达成一致", "party_ids": [p.id for p in case.parties]}
    data.update(values)
    entry = write(case, by=user(by), values=data)
    db.session.commit()
    return entry


def make_agreement(case: Case, *, by: str = "med-320413109201", **values):
    """A written agreement with two terms, through the service."""
    from mediation.agreements.models import AgreementKind
    from mediation.agreements.services import save_agreement
    from mediation.timeutil import local_today

    data = {"kind": AgreementKind.WRITTEN, "reached_on": local_today(), "facts": "三个儿子为医药费推诿。",
            "disputed_points": "医药费和生活费的分担。", "copies": None,
            "terms": [{"content": "三个儿子每月各给母亲生活费600元。", "method": "转账", "deadline": "每月5日前"},
                      {"content": "已垫付医药费8600元三人平摊。", "method": "现金", "deadline": "2026年12月31日前"}]}
    data.update(values)
    agreement = save_agreement(case, by=user(by), **data)
    db.session.commit()
    return agreement


def agreement_of(case: Case):
    from mediation.agreements.services import agreement_of as of

    return of(case)


def has_visit(case: Case) -> bool:
    from mediation.diary.models import EntryKind
    from mediation.diary.services import visible_entries

    return any(e.kind is EntryKind.FOLLOW_UP for e in visible_entries(user("med-320413109201"), case))


def case_diary(case: Case) -> int:
    from mediation.diary.services import entry_count

    return entry_count(case)


def advance(case: Case, *steps: str, by: str = "coord-320413109", **data) -> Case:
    """Take transitions in order (assign defaults to the village mediator)."""
    for step in steps:
        actor = user(by)
        extra = dict(data)
        if step in ("assign", "reassign") and "lead_mediator" not in extra:
            extra["lead_mediator"] = user("med-320413109201")
        if step == "conclude" and "outcome" not in extra:
            extra.update(outcome=workflow.Outcome.SUCCESS)
            if agreement_of(case) is None:
                make_agreement(case, by=by if by.startswith("med") else "med-320413109201")
        if step in ("decline", "reopen", "reassign") and "reason" not in extra:
            extra["reason"] = "测试理由"
        if step == "start":
            screen_all(case)
        if step == "close" and not case_diary(case):
            write_entry(case, by="med-320413109201")
        if step == "close" and case.status is workflow.CaseStatus.FOLLOW_UP and not has_visit(case):
            from mediation.diary.models import EntryKind, Performance

            write_entry(case, by="med-320413109201", kind=EntryKind.FOLLOW_UP, mode=None,
                        performance=Performance.PERFORMED)
        workflow.transition(case, step, by=actor, **extra)
        db.session.commit()
    return case


def screen_all(case: Case, *, by: str = "med-320413109201") -> None:
    """An intake screening of every party not yet screened, all answers "no" (level none)."""
    from mediation.screening.models import Occasion
    from mediation.screening.scoring import ITEMS
    from mediation.screening.services import latest_by_party, record

    done = latest_by_party(case)
    author = user(by) if by in {u.username for u in _actors(case)} else _actors(case)[0]
    for party in case.parties:
        if party.id not in done:
            record(case, party, occasion=Occasion.INTAKE, answers={i.number: "no" for i in ITEMS}, by=author)
    db.session.commit()


def _actors(case: Case) -> list[User]:
    """Users who may screen this case: its mediators, then the holding unit's managers."""
    from mediation import access
    from mediation.inbox.services import unit_managers

    people = ([case.lead_mediator] if case.lead_mediator else []) + list(case.co_mediators)
    people += unit_managers(case.unit)
    return [u for u in people if access.acts_on(u, case)]

