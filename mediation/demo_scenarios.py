"""The lived-in demo: the 24 fictional cases of ``data/demo_scenarios.json`` replayed
through the app's own services and workflow, each step "at" its own date.

Every case is registered by the village mediator (or, when the file's first
escalation leaves from a platform, by the platform's coordinator; a grid worker's case
from the lead the grid worker reported), screened, accepted
and assigned, and then follows the file: diary entries, escalations (received or
returned), referrals and their results, the agreement and its judicial confirmation,
the conclusion, follow-up visits (a visit finding the agreement unperformed reopens
the case), closing and archiving, each taken by whoever holds the case at that moment
and refused exactly as a user would be. Each step runs under ``timeutil.clock_at``;
the structured dates of the file (and ISO dates in agreement deadlines) are shifted
so that its newest event falls on yesterday (local date), so that overdue cases,
follow-ups due and confirmation deadlines look alive. Free text keeps its dates as
written. A second load finds the demo parties (phones ``1380000NNNN``) and adds
nothing. Services flush; the caller commits.

Where the file and the rules meet awkwardly (reported with the loader):
* a safety call the file calls 回访 on a case without an agreement is recorded as a
  call (a follow-up visit records whether an agreement was performed);
* S24 (red, 调解中 "suspended"): the workflow starts mediation only after every
  applicant and respondent is screened, and never at red, so the case stays assigned;
* S20 (不予受理): the diary is written only from acceptance, so its entries before the
  decision are kept only if the diary accepts registered cases.
"""
import json
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from importlib.resources import files
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from .agreements.models import AgreementKind, Confirmation
from .agreements.services import agreement_of, save_agreement, update_confirmation
from .cases.categories import DEFAULT_CATEGORIES
from .cases.models import Category, Party, PartyRole, RiskLevel, Sex, Source
from .cases.services import register_case
from .cases.workflow import TRANSITIONS, CaseStatus, Outcome, blocked_reason, transition
from .diary import services as diary_services
from .diary.models import EntryKind, Performance, Satisfaction, SessionMode
from .diary.services import write_entry
from .errors import DomainError
from .extensions import db
from .leads.models import Urgency
from .leads.services import mark_converted, report_lead
from .org.models import OrgUnit
from .screening import services as screening
from .screening.models import Occasion
from .screening.services import add_safety_plan
from .timeutil import clock_at, local_today, utcnow
from .transfers.models import EscalationReason, Referral
from .transfers.models import ReferralDestination as D
from .users.models import User

LOCAL_MARKER = "1380000"  # every demo phone is 1380000NNNN
COURT = "金坛区人民法院"


def scenarios() -> list[dict]:
    """The scenarios shipped in the package."""
    return json.loads(files("mediation").joinpath("data/demo_scenarios.json").read_text("utf-8"))


def file_dates(s: dict) -> list[date]:
    """The structured dates of one scenario."""
    out = [date.fromisoformat(s["intake_date"])]
    out += [date.fromisoformat(e["date"]) for e in s["diary"]]
    out += [date.fromisoformat(f["date"]) for f in s["follow_ups"]]
    return out


def loaded() -> bool:
    return db.session.scalar(select(Party.id).where(Party.phone.startswith(LOCAL_MARKER)).limit(1)) is not None


# --- the file's words -> the app's values ---------------------------------------------------

def _maps():
    return {
        "role": {"申请人": PartyRole.APPLICANT, "被申请人": PartyRole.RESPONDENT, "第三人": PartyRole.THIRD_PARTY,
                 "代理人": PartyRole.AGENT, "监护人": PartyRole.GUARDIAN},
        "sex": {"男": Sex.MALE, "女": Sex.FEMALE},
        "source": {"当事人申请": Source.PARTY, "网格员": Source.GRID, "12338热线": Source.HOTLINE,
                   "公安机关": Source.POLICE, "人民法院": Source.COURT, "主动排查": Source.SCREENING,
                   "政府部门": Source.GOVERNMENT, "信访": Source.PETITION, "其他": Source.OTHER},
        "kind": {"调解": EntryKind.SESSION, "调查": EntryKind.INVESTIGATION, "走访": EntryKind.VISIT,
                 "电话": EntryKind.CALL, "回访": EntryKind.FOLLOW_UP},
        "mode": {"面对面": SessionMode.JOINT, "背靠背": SessionMode.SEPARATE, "穿梭": SessionMode.SHUTTLE,
                 "电话": SessionMode.PHONE, "视频": SessionMode.VIDEO},
        "outcome": {"调解成功": Outcome.SUCCESS, "部分成功": Outcome.PARTIAL, "调解不成": Outcome.FAILED,
                    "调解终止": Outcome.TERMINATED},
        "status": {"归档": CaseStatus.ARCHIVED, "结案": CaseStatus.CLOSED, "回访": CaseStatus.FOLLOW_UP,
                   "调解结束": CaseStatus.CONCLUDED, "调解中": CaseStatus.IN_MEDIATION,
                   "已指派": CaseStatus.ASSIGNED, "不予受理": CaseStatus.DECLINED},
        "reason": {"跨村跨镇": EscalationReason.CROSS_AREA, "家暴风险": EscalationReason.SAFETY,
                   "当事人要求": EscalationReason.PARTY_REQUEST, "下级调解不成": EscalationReason.UNSETTLED,
                   "本级调解不成": EscalationReason.UNSETTLED, "涉及金额较大": EscalationReason.LARGE_AMOUNT,
                   "其他": EscalationReason.OTHER},
        "performance": {"performed": Performance.PERFORMED, "partly": Performance.PARTLY, "not": Performance.NOT},
        "satisfaction": {"满意": Satisfaction.SATISFIED, "基本满意": Satisfaction.BASICALLY,
                         "不满意": Satisfaction.UNSATISFIED},
        "agreement": {"written": AgreementKind.WRITTEN, "oral": AgreementKind.ORAL},
        "confirmation": {c.value: c for c in Confirmation},
        "level": {r.value: r for r in RiskLevel},
    }


REFERRERS = {"grid": "村网格员", "hotline": "12338妇女维权热线", "police": "派出所", "court": COURT,
             "government": "镇民政办", "petition": "镇信访办"}
ANSWERS = {True: "yes", False: "no", "unsure": "unsure"}
SAFETY_MEASURES = {
    "red": "当日陪同报警、验伤；协助申请人身安全保护令；落实临时安全住处；告知110、12338求助电话；"
           "暂停调解，不安排双方见面；不向对方透露申请人的住址和联系方式。",
    "orange": "与申请人商定紧急联系人和求助方式（110、12338）；调解只分开进行，双方错时到离；"
              "不向对方透露申请人的住址和联系方式；每周电话确认申请人安全。",
}
_MD = re.compile(r"(\d{1,2})月(\d{1,2})日")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_PLACEHOLDER = re.compile(r"^（[^）]*）$")
# Who a referral went to, as its note names it: the most specific body first.
_BODIES = [re.compile(p) for p in (
    r"诉调对接中心", r"区法律援助中心", r"区救助管理站临时庇护点", r"区救助管理站", r"区未成年人保护工作站",
    r"[\u4e00-\u9fff]{2}(?:镇|街道)(?:公共法律服务工作站|社工站)", r"区妇联[\u4e00-\u9fff]{0,12}?服务", r"区妇联社工",
    r"派出所", r"区人民法院", r"区妇联")]


def _md_dates(text: str, ref: date) -> list[tuple[int, date]]:
    """(position, date) of every 'M月D日' in ``text``, in the year around ``ref``."""
    out = []
    for m in _MD.finditer(text or ""):
        try:
            found = date(ref.year, int(m.group(1)), int(m.group(2)))
        except ValueError:
            continue
        if found < ref - timedelta(days=183):
            try:
                found = found.replace(year=found.year + 1)
            except ValueError:
                continue
        out.append((m.start(), found))
    return out


def _destination(ref: dict):
    to, kind, note = ref["to"], ref.get("kind") or "", ref.get("note") or ""
    if to == "公安机关":
        dest = D.POLICE
    elif to == "人民法院":
        dest = D.COURT_DELEGATED if kind in ("委派调解退回", "诉调对接", "诉前委派") else (
            D.COURT_ENTRUSTED if kind == "诉中委托" else D.OTHER)
    elif to == "庇护所":
        dest = D.SHELTER
    elif to == "法律援助":
        dest = D.LEGAL_AID
    elif to == "司法所":
        dest = D.JUSTICE_OFFICE
    elif to == "妇联":
        dest = D.WOMENS_FEDERATION
    elif "社工" in note or "心理" in note:
        dest = D.SOCIAL_WORK
    elif "妇联" in note:
        dest = D.WOMENS_FEDERATION
    else:
        dest = D.OTHER
    found = next((m.group(0) for m in (p.search(note) for p in _BODIES) if m), to)
    name = "区人民法院诉调对接中心" if found == "诉调对接中心" else found
    if kind and kind != "转介" and kind not in name:
        name = f"{name}（{kind}）"
    return dest, name[:100]


# --- the replay -----------------------------------------------------------------------------

@dataclass(order=True)
class _Step:
    at: datetime  # local, naive
    seq: int
    run: Callable = field(compare=False)


@dataclass
class _Replay:
    s: dict
    shift: timedelta
    zone: ZoneInfo
    users: dict
    units: dict
    m: dict
    case: object = None
    steps: list = field(default_factory=list)
    referrals: dict = field(default_factory=dict)  # the file's index -> Referral.id

    # -- helpers --
    def d(self, value) -> date:
        """A file date (ISO string or date), shifted."""
        return (date.fromisoformat(value) if isinstance(value, str) else value) + self.shift

    def add(self, when: datetime, run: Callable) -> None:
        self.steps.append(_Step(when, len(self.steps), run))

    def user(self, name: str):
        return self.users[name]

    def worker(self):
        """Who works on the case where it is held now."""
        return self.worker_of(self.case.unit)

    def worker_of(self, unit):
        """The village's mediator, the platform's coordinator, the station's mediator."""
        if unit.tier.value == "platform":
            return self.user(f"coord-{unit.code}")
        return self.user(f"med-{unit.code}")

    def manager(self, unit=None):
        """Who decides for the unit: a village's mediator (no coordinator there), the
        platform's coordinator, the station's administrator."""
        unit = unit or self.case.unit
        return self.user("admin") if unit.tier.value == "station" else self.worker_of(unit)

    def go(self, name: str, by=None, **data):
        return transition(self.case, name, by=by or self.worker(), **data)

    def first(self, role):
        return next((p for p in self.case.parties if p.role is role), None)

    def main_party_ids(self) -> list[int]:
        r = self.m["role"]
        return [p.id for p in self.case.parties if p.role in (r["申请人"], r["被申请人"])]

    def at_risk(self):
        return self.first(self.m["role"]["申请人"]) or self.case.parties[0]

    def answers(self) -> dict:
        return {int(k): ANSWERS[v] for k, v in self.s["screening"]["answers"].items()}

    def screen(self, occasion, *, everyone: bool = False) -> None:
        """The file's answers are those of the person at risk: the applicant(s). At intake
        every respondent is screened too (alone), with nothing to report."""
        raw = self.s["screening"]["answers"]
        r = self.m["role"]
        at_risk = [p for p in self.case.parties if p.role is r["申请人"]] if everyone else [self.at_risk()]
        for party in at_risk:
            screening.record(self.case, party, occasion=occasion, answers=self.answers(), by=self.worker(),
                             unsafe_tonight=raw.get("16") is True)
        if everyone:
            for party in (p for p in self.case.parties if p.role is r["被申请人"]):
                screening.record(self.case, party, occasion=occasion, answers={i: "no" for i in range(1, 17)},
                                 by=self.worker())


def load_scenarios(today: date | None = None) -> int:
    """Replay the demo scenarios (once); returns the number of cases created. Flushes."""
    if loaded():
        return 0
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    today = today or local_today()
    data = scenarios()
    latest = max(d for s in data for d in file_dates(s))
    shift = (today - timedelta(days=1)) - latest
    users = {u.username: u for u in db.session.scalars(select(User).where(User.active.is_(True)))}
    units = {u.code: u for u in db.session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True)))}
    m = _maps()
    created = 0
    # Registered in the order of their intake, so that case numbers follow the calendar.
    for s in sorted(data, key=lambda s: (s["intake_date"], s["id"])):
        replay = _Replay(s=s, shift=shift, zone=zone, users=users, units=units, m=m)
        if not _runnable(replay):
            continue
        _plan(replay)
        _run(replay)
        created += 1
    return created


def _runnable(r: _Replay) -> bool:
    """The demo units and accounts the scenario needs are there (an admin may have
    deactivated some)."""
    village = r.units.get(r.s["village_code"])
    if village is None or village.parent is None or village.parent.code not in r.units:
        return False
    station = village.parent.parent
    needed = {f"med-{village.code}", f"coord-{village.parent.code}", "admin", f"med-{station.code}"}
    if r.s["source"] == "网格员":
        needed.add(f"grid-{village.code}")
    return needed <= set(r.users)


def _run(r: _Replay) -> None:
    cursor = None
    for step in sorted(r.steps):
        at = step.at if cursor is None or step.at > cursor else cursor + timedelta(minutes=1)
        cursor = at
        moment = at.replace(tzinfo=r.zone).astimezone(UTC).replace(tzinfo=None)
        with clock_at(moment):
            try:
                step.run()
            except DomainError as exc:
                raise RuntimeError(f"demo scenario {r.s['id']} at {at:%Y-%m-%d %H:%M}: {exc.message}") from exc
            db.session.flush()
        if r.case is not None:
            db.session.expire(r.case)  # pending transfer, holder and status as the next step finds them


def _clock(day: date, hhmm: str | time) -> datetime:
    t = hhmm if isinstance(hhmm, time) else time.fromisoformat(hhmm)
    return datetime.combine(day, t)


def _plan(r: _Replay) -> None:  # noqa: C901  (one scenario, read top to bottom)
    s, m = r.s, r.m
    village = r.units[s["village_code"]]
    platform = village.parent
    intake = r.d(s["intake_date"])
    final = m["status"][s["final_status"]]
    outcome = m["outcome"].get(s["outcome"]) if s["outcome"] else None
    level = s["screening"]["expected_level"]
    kinds, session = m["kind"], m["kind"]["调解"]
    diary = sorted(s["diary"], key=lambda e: (e["date"], e["time"]))
    fus = sorted(s["follow_ups"], key=lambda f: f["date"])
    escalations = s["escalations"]
    registers_at = platform if escalations and escalations[0]["from_tier"] == "platform" else village

    def entry_end(e) -> datetime:
        return _clock(r.d(e["date"]), e["time"]) + timedelta(minutes=e.get("duration_minutes") or 30)

    # -- intake -------------------------------------------------------------------------
    same_day = [e for e in diary if e["date"] == s["intake_date"]]
    t0 = _clock(intake, "08:30")
    if same_day and _clock(intake, same_day[0]["time"]) - timedelta(minutes=30) < t0:
        t0 = _clock(intake, same_day[0]["time"]) - timedelta(minutes=30)
    declined = final is CaseStatus.DECLINED

    def register():
        by = r.manager(registers_at)
        lead = None
        if s["source"] == "网格员":
            with _earlier(60):
                first = s["parties"][0]
                lead = report_lead(reporter=r.user(f"grid-{village.code}"),
                                   who="、".join(p["name"] for p in s["parties"][:2]),
                                   where=f"{village.name}{first['address'].removeprefix(village.name)}",
                                   what=s["summary"], urgency=Urgency.NORMAL, contact_phone=first["phone"])
                db.session.flush()
        source = m["source"][s["source"]]
        values = {
            "category_id": _category_id(s["category"]), "source": source,
            "referrer": REFERRERS.get(source.value, ""), "intake_date": intake, "summary": s["summary"],
            "claims": s["claims"] or "",
            "amount_in_dispute": Decimal(str(s["amount_in_dispute"])) if s["amount_in_dispute"] else None,
            "people_involved": s["people_involved"] or len(s["parties"]),
            "children_involved": sum(1 for p in s["parties"] if p.get("minor")),
            "is_major": False, "is_mass": False, "risk_level": m["level"]["none"], "dv_flag": False,
            "consent_to_mediate": not declined, "rights_notice_date": None if declined else intake,
        }
        parties = [{
            "role": m["role"][p["role"]], "name": p["name"], "sex": m["sex"].get(p.get("sex")),
            "ethnicity": p.get("ethnicity") or "", "birth_date": date.fromisoformat(p["birth_date"])
            if p.get("birth_date") else None, "occupation": (p.get("occupation") or "")[:50], "id_number": "",
            "phone": p.get("phone") or "", "address": p.get("address") or "",
            "relationship": (p.get("relationship") or "")[:50], "is_minor": bool(p.get("minor")),
        } for p in s["parties"]]
        r.case = register_case(unit=registers_at, values=values, parties=parties, by=by, lead=lead)
        if lead is not None:
            mark_converted(lead, r.case, by=by)

    def accept_and_assign():
        r.go("accept", by=r.manager())
        r.go("assign", by=r.manager(), lead_mediator=r.worker(), co_mediators=[])

    r.add(t0, register)
    r.add(t0 + timedelta(minutes=5), lambda: r.screen(Occasion.INTAKE, everyone=True))
    plan_entry = next((e for e in diary if "安全计划" in (e["result"] + e["next_step"] + e["proposal"])), None)
    if level in SAFETY_MEASURES:
        when = entry_end(plan_entry) if plan_entry else t0 + timedelta(minutes=6)
        r.add(when, lambda: add_safety_plan(r.case, measures=SAFETY_MEASURES[level], by=r.worker()))
    if not declined:
        r.add(t0 + timedelta(minutes=8), accept_and_assign)

    # -- the diary ------------------------------------------------------------------------
    def write(e):
        def run():
            if r.case.status not in diary_services.WRITABLE_STATUSES:
                return  # see the module's docstring (S20)

            kind = kinds.get(e["kind"], EntryKind.OTHER)
            mode = m["mode"].get(e.get("mode"))
            if kind is kinds["回访"]:
                kind = kinds["电话"]  # a safety call, not a visit on an agreement's performance
            if kind is session and r.case.status is CaseStatus.ASSIGNED:
                r.go("start")
            applicant, respondent = r.first(m["role"]["申请人"]), r.first(m["role"]["被申请人"])
            positions = {}
            for who, party in (("申请人", applicant), ("被申请人", respondent)):
                text = (e.get("positions") or {}).get(who, "").strip()
                if party is not None and text and not _PLACEHOLDER.match(text):
                    positions[str(party.id)] = text
            on = r.d(e["date"])
            nxt = [d for _, d in _md_dates(e.get("next_step", ""), date.fromisoformat(e["date"]))
                   if d >= date.fromisoformat(e["date"])]
            by = r.worker()
            values = {
                "kind": kind, "occurred_on": on, "start_time": time.fromisoformat(e["time"]),
                "duration_minutes": e.get("duration_minutes"), "place": (e.get("place") or "")[:200],
                "mode": mode, "party_ids": _present(e.get("participants") or "", r.case.parties, m),
                "mediator_ids": [by.id], "others_present": (e.get("participants") or "")[:500],
                "issues": e.get("issues") or "", "positions": positions, "proposals": e.get("proposal") or "",
                "result": e.get("result") or "", "next_step": e.get("next_step") or "",
                "next_date": r.d(nxt[0]) if nxt else None, "confidential": bool(e.get("confidential")),
            }
            diary_services.write_entry(r.case, by=by, values=values)
        return run

    for e in diary:
        r.add(_clock(r.d(e["date"]), e["time"]), write(e))

    # -- escalations --------------------------------------------------------------------------
    holder = registers_at
    for esc in escalations:
        ref = date.fromisoformat(s["intake_date"])
        dates = _md_dates(esc.get("note", ""), ref)
        cut = (esc.get("note") or "").find("报")
        before = [d for pos, d in dates if cut < 0 or pos < cut]
        sent_file = before[-1] if before else (dates[0][1] if dates else ref)
        after = [d for _, d in dates if d > sent_file]
        decided_file = after[0] if after else sent_file
        sent_day = r.d(sent_file)
        that_day = [entry_end(e) for e in diary if e["date"] == sent_file.isoformat()]
        sent_at = min(max([*that_day, _clock(sent_day, "09:50")]) + timedelta(minutes=10), _clock(sent_day, "23:00"))
        decided_at = sent_at + timedelta(minutes=60) if decided_file == sent_file else _clock(r.d(decided_file),
                                                                                              "09:00")
        target = holder.parent
        reason = m["reason"].get(esc.get("reason"), m["reason"]["其他"])

        def send(esc=esc, target=target, reason=reason):
            note = esc.get("note") or ""
            urgency = (Urgency.EMERGENCY if r.case.risk_level.value == "red"
                       else Urgency.URGENT if reason.value == "safety" else Urgency.NORMAL)
            r.go("escalate", by=r.manager(), to_unit=target, reason_code=reason,
                 reason_text=re.split(r"[，；。]", note)[0] if reason.value == "other" else "",
                 urgency=urgency, note=note)

        def decide(esc=esc, target=target):
            if esc.get("accepted", True):
                r.go("receive", by=r.manager(target), lead_mediator=r.worker_of(target), co_mediators=[],
                     note="")
            else:
                note = esc.get("note") or ""
                reason = note.split("退回", 1)[1].lstrip("：:，, ") if "退回" in note else note
                r.go("return", by=r.manager(target), reason=reason or note)

        r.add(sent_at, send)
        r.add(decided_at, decide)
        if esc.get("accepted", True):
            holder = target

    # -- referrals ----------------------------------------------------------------------------
    sessions = [e for e in diary if kinds.get(e["kind"]) is session]
    previous: date | None = None
    refs = s["referrals"]
    for i, ref in enumerate(refs):
        base = date.fromisoformat(s["intake_date"])
        note = ref.get("note") or ""
        dates = _md_dates(note, base)
        if dates:
            on_file = dates[0][1]
            at = _clock(r.d(on_file), "11:00")
        else:  # undated: with the referral before it, else after the last session (or entry)
            if previous is not None:
                on_file = previous
            else:
                on_file = date.fromisoformat((sessions or diary)[-1]["date"]) if (sessions or diary) else base
            that_day = [entry_end(e) for e in diary if e["date"] == on_file.isoformat()]
            at = max([*that_day, _clock(r.d(on_file), "11:00")]) + timedelta(minutes=20)
        previous = on_file
        # The case the file ends for safety (调解终止 without a session) ends with its last referral.
        end_case = outcome is not None and outcome.value == "terminated" and not sessions and i == len(refs) - 1

        def refer(i=i, ref=ref, on=r.d(on_file), end_case=end_case):
            dest, name = _destination(ref)
            event = r.go("refer", destination=dest, destination_name=name, referred_on=on, reference="",
                         note=ref.get("note") or "", end_case=end_case, told_other_routes=end_case)
            r.referrals[i] = event.changes["referral"]

        r.add(at, refer)
        later = [(pos, d) for pos, d in dates[1:] if d > on_file]
        if later:
            pos, result_on = later[0]
            start = max(note.rfind("，", 0, pos), note.rfind("；", 0, pos), note.rfind("。", 0, pos)) + 1
            text = note[start:].strip()

            def result(i=i, text=text, on=r.d(result_on)):
                referral = db.session.get(Referral, r.referrals[i])
                r.go("referral_result", referral=referral, outcome_text=text, outcome_on=on)

            r.add(_clock(r.d(result_on), "11:30"), result)

    # -- agreement, conclusion, follow-ups ----------------------------------------------------------
    concluded_at: list[datetime] = []
    if outcome is not None and not (outcome.value == "terminated" and not sessions):
        # One conclusion per stretch of mediation: the last session before the first
        # follow-up, and after a visit that found the agreement unperformed (the case is
        # reopened), the last session before the next visit.
        stretches = [("", fus[0]["date"] if fus else None)]
        stretches += [(f["date"], fus[i + 1]["date"]) for i, f in enumerate(fus[:-1]) if f["performance"] == "not"]
        points = []
        for since, until in stretches:
            inside = [e for e in (sessions or diary) if e["date"] > since and (until is None or e["date"] < until)]
            if inside:
                points.append(inside[-1])
        for n, e in enumerate(points):
            final_point = n == len(points) - 1
            end = entry_end(e)
            concluded_at.append(end + timedelta(minutes=10))
            settled = outcome.value in ("success", "partial")
            if settled and level != "none":
                r.add(end + timedelta(minutes=3), lambda: r.screen(Occasion.PRE_SIGNING))
            if settled:
                r.add(end + timedelta(minutes=5), _agreement(r, e, final_point))
            r.add(end + timedelta(minutes=10), _conclude(r, outcome))
            if settled and fus:
                r.add(end + timedelta(minutes=11), lambda: r.go("follow_up"))
        agreement = s.get("agreement")
        if agreement and agreement.get("type") == "written" and points:
            _confirmation(r, agreement, points[-1], concluded_at[-1])

    for f in fus:
        when = _clock(r.d(f["date"]), "10:00")
        if level != "none":
            r.add(when - timedelta(minutes=5), lambda: r.screen(Occasion.FOLLOW_UP))
        r.add(when, _follow_up(r, f))
        if f["performance"] == "not":
            r.add(when + timedelta(minutes=30), lambda f=f: r.go("reopen", by=r.manager(), reason=f["note"]))

    # -- the end -----------------------------------------------------------------------------------
    last = max(step.at for step in r.steps)
    if final in (CaseStatus.CLOSED, CaseStatus.ARCHIVED):
        if level != "none":
            r.add(last + timedelta(minutes=25), lambda: r.screen(Occasion.CLOSURE))
        r.add(last + timedelta(minutes=30), lambda: r.go("close"))
        if final is CaseStatus.ARCHIVED:
            r.add(last + timedelta(minutes=60), lambda: r.go("archive", by=r.manager()))
    elif declined:
        reason = next((e["result"] for e in diary if "拒绝" in e["result"] or "不予受理" in e["result"]),
                      "一方当事人明确拒绝调解（人民调解法第十七条）。")
        r.add(last + timedelta(minutes=30), lambda: r.go("decline", by=r.manager(), reason=reason))
    elif final is CaseStatus.IN_MEDIATION:
        def start_if_needed():
            # Not at red: mediation is suspended there, and the case stays assigned (S24).
            if r.case.status is CaseStatus.ASSIGNED and blocked_reason(r.case, TRANSITIONS["start"]) is None:
                r.go("start")

        r.add(last + timedelta(minutes=1), start_if_needed)


@contextmanager
def _earlier(minutes: int):
    """Run a block a little before the current (frozen) clock."""
    with clock_at(utcnow() - timedelta(minutes=minutes)):
        yield


def _category_id(name_zh: str) -> int:
    code = next((c for c, zh, _en in DEFAULT_CATEGORIES if zh == name_zh), "other")
    found = db.session.scalar(select(Category.id).where(Category.code == code))
    return found or db.session.scalar(select(Category.id).where(Category.name_zh == name_zh))


def _present(text: str, parties, m) -> list[int]:
    """The parties a diary entry names (by name, or by their role: 申请人, 被申请人, 第三人)."""
    roles = set()
    rest = text.replace("被申请人", "\0")
    if "\0" in rest:
        roles.add(m["role"]["被申请人"])
    if "申请人" in rest:
        roles.add(m["role"]["申请人"])
    if "第三人" in text:
        roles.add(m["role"]["第三人"])
    return [p.id for p in parties if p.role in roles or (p.name and p.name in text)]


def _shift_iso(text: str, shift: timedelta) -> str:
    def one(match):
        try:
            return (date.fromisoformat(match.group(0)) + shift).isoformat()
        except ValueError:
            return match.group(0)
    return _ISO.sub(one, text or "")


def _agreement(r: _Replay, e: dict, final_point: bool) -> Callable:
    def run():
        a = r.s.get("agreement") or {}
        kind = r.m["agreement"].get(a.get("type"), r.m["agreement"]["written"])
        if final_point and a:
            facts = a.get("facts") or r.s["summary"]
            terms = [{"content": t["text"], "method": "" if t.get("method") == "—" else t.get("method", ""),
                      "deadline": "" if t.get("deadline") == "—" else _shift_iso(t.get("deadline", ""), r.shift)}
                     for t in a.get("terms", [])]
        else:  # an earlier agreement, later replaced after reopening: what that session agreed
            facts = r.s["summary"]
            terms = [{"content": e.get("proposal") or e.get("result") or "", "method": "", "deadline": ""}]
        save_agreement(r.case, by=r.worker(), kind=kind, reached_on=r.d(e["date"]), facts=facts,
                       disputed_points=e.get("issues") or "", copies=None, terms=terms)
    return run


def _conclude(r: _Replay, outcome) -> Callable:
    def run():
        if r.case.status.value == "assigned":
            r.go("start")
        r.go("conclude", outcome=outcome, told_other_routes=outcome.value not in ("success", "partial"))
    return run


def _confirmation(r: _Replay, a: dict, e: dict, concluded: datetime) -> None:
    """Judicial confirmation (PML 33): applied on the date the record names (else a week
    after the agreement), decided a fortnight later."""
    wanted = r.m["confirmation"].get(a.get("judicial_confirmation") or "not_applied")
    if wanted is None or wanted.value == "not_applied":
        return
    reached_file = date.fromisoformat(e["date"])
    text = "；".join(p for p in re.split(r"[；。]", (e.get("result") or "") + "；" + (e.get("next_step") or ""))
                    if "司法确认" in p)
    found = [d for _, d in _md_dates(text, reached_file) if reached_file <= d <= reached_file + timedelta(days=30)]
    applied = r.d(found[0] if found else reached_file + timedelta(days=7))
    when = max(_clock(applied, "15:00"), concluded + timedelta(minutes=20))

    def apply():
        update_confirmation(r.case, agreement_of(r.case), by=r.worker(), status=Confirmation.APPLIED,
                            applied_on=applied, decided_on=None, court=COURT, note="")

    r.add(when, apply)
    if wanted.value in ("confirmed", "rejected"):
        decided = applied + timedelta(days=14)
        fu_after = [r.d(f["date"]) for f in r.s["follow_ups"] if r.d(f["date"]) > applied]
        if fu_after:
            decided = min(decided, fu_after[0] - timedelta(days=1))
        decided = max(decided, applied)

        def decide():
            update_confirmation(r.case, agreement_of(r.case), by=r.worker(), status=wanted, applied_on=applied,
                                decided_on=decided, court=COURT, note="")

        r.add(max(_clock(decided, "15:30"), when + timedelta(minutes=1)), decide)


def _follow_up(r: _Replay, f: dict) -> Callable:
    def run():
        by = r.worker()
        note = f.get("note") or ""
        risk = f.get("risk") or ""
        values = {
            "kind": EntryKind.FOLLOW_UP, "occurred_on": r.d(f["date"]), "start_time": time(10, 0),
            "duration_minutes": None, "place": "", "mode": SessionMode.PHONE if "电话" in note else None,
            "party_ids": r.main_party_ids(), "mediator_ids": [by.id], "others_present": "", "issues": "",
            "positions": {}, "proposals": "", "result": note, "next_step": "", "next_date": None,
            "confidential": False, "performance": r.m["performance"][f["performance"]],
            "satisfaction": r.m["satisfaction"].get(f.get("satisfaction")),
            "remaining_risk": "" if risk == "无" else risk,
        }
        agreement = agreement_of(r.case)
        if agreement is not None and agreement.terms:
            # The follow-up form asks term by term; the scenario gives the whole: the same for each.
            values["term_performance"] = [{"term": t.content, "performance": values["performance"].value}
                                          for t in agreement.terms]
        write_entry(r.case, by=by, values=values)
    return run
