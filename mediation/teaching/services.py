"""Teaching cases: drafting from a closed case, the checks on every save, review and
publication. Nothing here changes the source case.

Who sees what:

* a draft (or a rejected one) only its author;
* a submitted or approved one its author and the station's reviewers;
* a published one every user with ``teaching.view``.

Anyone else gets a 404, as for anything outside a user's access.
"""
from flask import abort
from flask_babel import gettext as _
from sqlalchemy import select

from .. import access
from ..agreements.services import agreement_of
from ..cases.models import Case, CaseStatus
from ..diary.models import DiaryEntry
from ..errors import DomainError
from ..extensions import db
from ..org.models import Tier
from ..timeutil import utcnow
from .anonymise import Redactor, month_of
from .models import EDITABLE, TeachingCase, TeachingStatus

ROLE_ZH = {"applicant": "申请人", "respondent": "被申请人", "third_party": "第三人", "agent": "代理人",
           "guardian": "监护人"}
KIND_ZH = {"session": "调解", "investigation": "调查", "visit": "走访", "call": "电话沟通", "follow_up": "回访",
           "other": "其他"}
MODE_ZH = {"joint": "面对面", "separate": "背靠背", "shuttle": "穿梭调解", "phone": "电话", "video": "视频"}
OUTCOME_ZH = {"success": "调解成功", "partial": "部分调解成功", "failed": "调解不成", "terminated": "调解终止"}
PERFORMANCE_ZH = {"performed": "已履行", "partly": "部分履行", "not": "未履行"}
SATISFACTION_ZH = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
SEX_ZH = {"male": "男", "female": "女"}
NUMERALS = "一二三四五六七八九十"


def _draftable():
    return frozenset({CaseStatus.CLOSED, CaseStatus.ARCHIVED})


def is_reviewer(user) -> bool:
    """A station reviewer: ``teaching.review`` at the top of the network."""
    return bool(access.can(user, "teaching.review") and user.unit.tier is Tier.STATION)


def may_draft(user, case) -> bool:
    """One of the case's mediators (or a manager of its unit), once the case is closed or archived;
    never from a restricted case (a teaching case is read across the network)."""
    return (case.status in _draftable() and case.anonymised_at is None and not case.restricted
            and access.can(user, "teaching.view")
            and bool(access.case_roles(user, case) & {"mediator", "manager"}))


def may_see(user, tc: TeachingCase) -> bool:
    if not access.can(user, "teaching.view"):
        return False
    if tc.status is TeachingStatus.PUBLISHED:
        return True
    if tc.author_id == user.id:
        return True
    return tc.status in (TeachingStatus.SUBMITTED, TeachingStatus.APPROVED) and reviews(user, tc)


def reviews(user, tc: TeachingCase) -> bool:
    """The station of the author's district reviews a submission (it may still name someone
    until approved): another district's station neither reads nor decides it."""
    return is_reviewer(user) and tc.author is not None and access.in_scope(user, tc.author.unit)


def get_or_404(user, teaching_id: int) -> TeachingCase:
    tc = db.session.get(TeachingCase, teaching_id)
    if tc is None or not may_see(user, tc):
        abort(404)
    return tc


def library_query(category_id: int | None = None):
    stmt = select(TeachingCase).where(TeachingCase.status == TeachingStatus.PUBLISHED)
    if category_id:
        stmt = stmt.where(TeachingCase.category_id == category_id)
    return stmt.order_by(TeachingCase.published_at.desc(), TeachingCase.id.desc())


def mine_query(user):
    return select(TeachingCase).where(TeachingCase.author_id == user.id).order_by(
        TeachingCase.updated_at.desc(), TeachingCase.id.desc())


def review_query(user):
    """The submissions ``user``'s station reviews (``reviews``)."""
    return select(TeachingCase).where(
        TeachingCase.status.in_([TeachingStatus.SUBMITTED, TeachingStatus.APPROVED]),
        TeachingCase.author_id.in_(select(access.users_query(user).subquery().c.id)),
    ).order_by(TeachingCase.submitted_at, TeachingCase.id)


# --- drafting -----------------------------------------------------------------------

def _source_text(case) -> dict[str, str]:
    """The case's own words, before anonymising: summary, diary and agreement."""
    parties = sorted(case.parties, key=lambda p: p.position)
    people = []
    for p in parties:
        bits = [ROLE_ZH.get(p.role.value, "")]
        if p.relationship:
            bits.append(p.relationship)
        if p.sex:
            bits.append(SEX_ZH[p.sex.value])
        if p.is_minor:
            bits.append("未成年人")
        people.append(f"{p.name}（{'，'.join(b for b in bits if b)}）")
    facts = ["当事人：" + "；".join(people) + "。", case.summary or ""]
    if case.claims:
        facts.append("当事人诉求：" + case.claims)
    agreement = agreement_of(case)
    if agreement is not None:
        if agreement.facts:
            facts.append(agreement.facts)
        if agreement.disputed_points:
            facts.append("争议焦点：" + agreement.disputed_points)

    by_id = {str(p.id): p.name for p in parties}
    entries = db.session.scalars(
        select(DiaryEntry).where(DiaryEntry.case_id == case.id, DiaryEntry.confidential.is_(False))
        .order_by(DiaryEntry.occurred_on, DiaryEntry.id)).all()
    process, visits = [], []
    for e in entries:
        head = f"{month_of(e.occurred_on)}，{KIND_ZH.get(e.kind.value, '')}"
        if e.mode is not None:
            head += f"（{MODE_ZH.get(e.mode.value, '')}）"
        parts = []
        if e.issues:
            parts.append("议题：" + e.issues)
        positions = [f"{by_id.get(str(k), '当事人')}：{v}" for k, v in (e.positions or {}).items() if v]
        if positions:
            parts.append("各方意见：" + "；".join(positions))
        if e.proposals:
            parts.append("调解建议：" + e.proposals)
        if e.result:
            parts.append("结果：" + e.result)
        for a in e.amendments:
            parts.append("更正：" + a.text)
        line = head + "。" + "。".join(p.rstrip("。；;") for p in parts) + ("。" if parts else "")
        if e.kind.value == "follow_up":
            extra = []
            if e.performance is not None:
                extra.append(PERFORMANCE_ZH[e.performance.value])
            if e.satisfaction is not None:
                extra.append("当事人" + SATISFACTION_ZH[e.satisfaction.value])
            visits.append(f"{month_of(e.occurred_on)}回访：" + "，".join(extra) + "。" + (e.result or ""))
        else:
            process.append(line)

    outcome = []
    if case.outcome is not None:
        outcome.append(OUTCOME_ZH[case.outcome.value] + "。")
    if agreement is not None and agreement.terms:
        outcome.append("经调解，各方当事人自愿达成如下协议：")
        for i, t in enumerate(agreement.terms):
            n = NUMERALS[i] if i < len(NUMERALS) else str(i + 1)
            line = f"{n}、{t.content}"
            extra = "；".join(x for x in (t.method and "履行方式：" + t.method,
                                          t.deadline and "履行期限：" + t.deadline) if x)
            outcome.append(line + (f"（{extra}）" if extra else ""))
    if visits:
        outcome.append("回访：" + " ".join(visits))
    return {"facts": "\n".join(x for x in facts if x), "process": "\n".join(process),
            "outcome": "\n".join(outcome)}


def draft_from_case(case, *, by) -> TeachingCase:
    """A new draft: the anonymised copy of the case's text. The case is not changed."""
    if case.restricted:
        raise DomainError(_("A restricted case cannot become a teaching case."))
    if not may_draft(by, case):
        raise DomainError(_("A teaching case can be drafted from a closed or archived case by its mediators."))
    redactor = Redactor(case)
    text = _source_text(case)
    tc = TeachingCase(
        source_case_id=case.id, category_id=case.category_id, author_id=by.id,
        title=redactor.redact(f"{case.category.name_zh}纠纷调解案例"),
        facts=redactor.redact(text["facts"]), process=redactor.redact(text["process"]),
        outcome=redactor.redact(text["outcome"]), legal_point="",
    )
    db.session.add(tc)
    db.session.flush()
    return tc


# --- the check on every save --------------------------------------------------------

_KIND_MESSAGES = {
    "name": lambda v: _("still contains a party's name: %(value)s", value=v),
    "id": lambda v: _("still contains an ID number: %(value)s", value=v),
    "phone": lambda v: _("still contains a phone number: %(value)s", value=v),
    "place": lambda v: _("still contains a place name of the network: %(value)s", value=v),
    "staff": lambda v: _("still contains the name of a staff member: %(value)s", value=v),
    "number": lambda v: _("still contains a case number: %(value)s", value=v),
    "date": lambda v: _("still contains an exact date: %(value)s", value=v),
    "address": lambda v: _("still contains part of an address: %(value)s", value=v),
}


def redactor_for(tc: TeachingCase) -> Redactor:
    case = db.session.get(Case, tc.source_case_id) if tc.source_case_id else None
    return Redactor(case)


def findings(tc: TeachingCase, values: dict | None = None) -> list[tuple[str, str, str]]:
    """(field, kind, value) of identifying data left in the text."""
    redactor = redactor_for(tc)
    out = []
    for field in TeachingCase.TEXT_FIELDS:
        text = (values or {}).get(field, getattr(tc, field))
        for kind, value in redactor.findings(text):
            out.append((field, kind, value))
    return out


def describe(found: list[tuple[str, str, str]]) -> list[str]:
    seen, out = set(), []
    for _field, kind, value in found:
        if (kind, value) not in seen:
            seen.add((kind, value))
            out.append(_KIND_MESSAGES[kind](value))
    return out


def _refuse_if_identifying(tc, values=None) -> None:
    found = findings(tc, values)
    if found:
        raise DomainError(_("Not saved: the text %(what)s. Replace it (e.g. 张某, 某村) and save again.",
                            what="；".join(describe(found))), field=found[0][0])


def save(tc: TeachingCase, *, by, values: dict) -> None:
    """The author's edits, refused whole when any identifying data is left."""
    if tc.author_id != by.id or tc.status not in EDITABLE:
        raise DomainError(_("This teaching case cannot be edited now."))
    values = {k: (values.get(k) or "").strip() for k in TeachingCase.TEXT_FIELDS if k in values}
    _refuse_if_identifying(tc, values)
    for k, v in values.items():
        setattr(tc, k, v)
    tc.updated_at = utcnow()


def _source_restricted(tc: TeachingCase) -> bool:
    source = db.session.get(Case, tc.source_case_id) if tc.source_case_id else None
    return bool(source is not None and source.restricted)


def submit(tc: TeachingCase, *, by) -> None:
    if tc.author_id != by.id or tc.status not in EDITABLE:
        raise DomainError(_("This teaching case cannot be submitted now."))
    if _source_restricted(tc):
        raise DomainError(_("A restricted case cannot become a teaching case."))
    if not tc.title.strip() or not tc.facts.strip() or not tc.legal_point.strip():
        raise DomainError(_("Give a title, the facts and the legal point before submitting."), field="legal_point")
    _refuse_if_identifying(tc)
    tc.status = TeachingStatus.SUBMITTED
    tc.submitted_at = tc.updated_at = utcnow()
    tc.rejection_reason = ""


def _review(tc, by, allowed: set, target: TeachingStatus) -> None:
    if not reviews(by, tc):
        abort(403)
    if tc.status not in allowed:
        raise DomainError(_("This step is not possible now."))
    tc.status = target
    tc.reviewer_id = by.id
    tc.reviewed_at = tc.updated_at = utcnow()


def approve(tc: TeachingCase, *, by) -> None:
    _refuse_if_identifying(tc)
    _review(tc, by, {TeachingStatus.SUBMITTED}, TeachingStatus.APPROVED)


def publish(tc: TeachingCase, *, by) -> None:
    _refuse_if_identifying(tc)
    if _source_restricted(tc):  # restricted after it was drafted: it stays unpublished
        raise DomainError(_("A restricted case cannot become a teaching case."))
    _review(tc, by, {TeachingStatus.SUBMITTED, TeachingStatus.APPROVED}, TeachingStatus.PUBLISHED)
    tc.published_at = utcnow()


REJECT_REASON_MAX = 2000


def reject(tc: TeachingCase, *, by, reason: str) -> None:
    if not (reason or "").strip():
        raise DomainError(_("Please give a reason."), field="reason")
    if len(reason.strip()) > REJECT_REASON_MAX:  # refused, not cut
        raise DomainError(_("Reason: at most %(max)d characters.", max=REJECT_REASON_MAX), field="reason")
    _review(tc, by, {TeachingStatus.SUBMITTED, TeachingStatus.APPROVED, TeachingStatus.PUBLISHED},
            TeachingStatus.REJECTED)
    tc.rejection_reason = reason.strip()
    tc.published_at = None
