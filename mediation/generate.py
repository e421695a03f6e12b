"""Generated data for benchmarks and scale tests: ``flask --app mediation demo generate``.

Fills a database with realistic cases over the Jintan network or the whole province
(``--network jiangsu``): cases skewed over the villages (a few busy ones, a long tail),
two or three parties with Chinese names (rare characters such as 𬌗 and 䶮 included), ID
numbers with their check digit (encrypted and hashed as the party model stores them),
every status of the lifecycle with a timeline in order that ends before today's local
date, about five diary entries a case, intake screenings with the risk level they give,
escalations received or returned (holdings and transfers), referrals, agreements,
follow-up visits, leads and inbox items, each with its timeline event and, for the steps
the workflow audits, its audit event in the hash chain.

Rows are written with SQLAlchemy Core in batches (``executemany``), with the ids given
here, so none of the ORM listeners run: the search documents are written beside their
sources with the index's own functions, the audit events are chained as
``audit.services`` chains them, and ``rebuild_derived`` then rebuilds every other table
the app derives from these rows. Never in production (the CLI refuses).
"""
import csv
import io
import json
import random
import time
from bisect import bisect
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from importlib.resources import files
from itertools import accumulate

import sqlalchemy as sa
from sqlalchemy import func, select

from .agreements.models import Agreement, AgreementTerm
from .audit.models import AuditChainHead, AuditEvent
from .audit.services import hash_of
from .cases.categories import seed_categories
from .cases.idnumber import check_digit
from .cases.models import Case, CaseEvent, CaseNumberCounter, Category, Party
from .cases.services import number_prefix
from .crypto import EncryptedId, cipher_for, normalise_id
from .demo import DEMO_PASSWORD, demo_accounts, load_demo, network_csv
from .diary.models import DiaryEntry
from .extensions import db
from .inbox.models import Notification
from .leads.models import Lead
from .org.models import OrgUnit, Tier
from .org.services import import_network
from .screening.models import RiskChange, Screening
from .screening.scoring import ITEMS, score
from .search import text as search_text
from .search.index import _entry_text
from .search.models import SearchDoc
from .stats import aggregates
from .timeutil import local_date_of, local_today, utc_start_of, utcnow
from .transfers.models import CaseHolding, Referral, Transfer
from .users.models import Role, User, UserRole, hash_password
from .visibility import rebuild as rebuild_visibility

NETWORKS = ("jintan", "jiangsu")
YEARS = 3  # the intake dates spread over this many years before today

# --- the province ---------------------------------------------------------------------------

def jiangsu_csv(seed: int = 1) -> bytes:
    """The province as a network file (code,name,tier,parent_code): 江苏省, its 13 cities and
    104 districts (each a station) and 1,487 towns (platforms) from ``jiangsu_divisions.csv``;
    金坛区 as in ``jintan_network.csv`` (its 9 platforms and 131 real villages); every other
    town with 8–25 generated villages, coded town code + 3 digits and named 生成村NN (test data,
    never a real place)."""
    rng = random.Random(seed)
    rows = list(csv.DictReader(io.StringIO(files("mediation").joinpath("data/jiangsu_divisions.csv")
                                           .read_text("utf-8-sig"))))
    jintan = list(csv.DictReader(io.StringIO(network_csv().decode("utf-8-sig"))))
    station = jintan[0]["code"]
    tiers = {"province": "province", "city": "city", "district": "station", "town": "platform"}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "name", "tier", "parent_code"])
    for r in rows:
        if r["level"] == "town" and r["parent_code"] == station:
            continue  # 金坛区's towns come from its own network
        if r["code"] == station:
            writer.writerow([r["code"], r["name"], "station", r["parent_code"]])
            for j in jintan[1:]:
                writer.writerow([j["code"], j["name"], j["tier"], j["parent_code"]])
            continue
        writer.writerow([r["code"], r["name"], tiers[r["level"]], r["parent_code"]])
        if r["level"] == "town":
            for i in range(1, rng.randint(8, 25) + 1):
                writer.writerow([f"{r['code']}{200 + i:03d}", f"生成村{i:02d}", "village", r["code"]])
    return out.getvalue().encode("utf-8")


def province_accounts() -> list[tuple[str, str, str, set]]:
    """(username, display name, unit code, roles) for a province: Jintan's demo accounts, and
    the same pattern for every other unit (admin-<code> and stats-<code> at the province, the
    cities and the stations, med-<code> at a station, coord-<code> at a platform, med- and
    grid-<code> at a village)."""
    units = db.session.scalars(select(OrgUnit).order_by(OrgUnit.code)).all()
    by_code = {u.code: u for u in units}
    out = list(demo_accounts()) if "320413" in by_code else []
    jintan = by_code.get("320413")
    for u in units:
        if jintan is not None and jintan.contains(u):
            continue
        if u.tier in (Tier.PROVINCE, Tier.CITY, Tier.STATION):
            out.append((f"admin-{u.code}", f"{u.name}管理员", u.code, {Role.ADMIN}))
            out.append((f"stats-{u.code}", f"{u.name}统计", u.code, {Role.VIEWER}))
        if u.tier is Tier.STATION:
            out.append((f"med-{u.code}", f"{u.name}调委会调解员", u.code, {Role.MEDIATOR}))
        elif u.tier is Tier.PLATFORM:
            out.append((f"coord-{u.code}", f"{u.name}负责人", u.code, {Role.COORDINATOR}))
        elif u.tier is Tier.VILLAGE:
            out.append((f"med-{u.code}", f"{u.name}调解员", u.code, {Role.MEDIATOR}))
            out.append((f"grid-{u.code}", f"{u.name}网格员", u.code, {Role.GRID_WORKER}))
    return out


def load_province(seed: int = 1) -> dict:
    """Import the province network (the network import's own code) and its accounts (in bulk,
    sharing the demo password's hash). Flushes."""
    result = import_network(jiangsu_csv(seed))
    seed_categories()
    db.session.flush()
    by_code = {u.code: u.id for u in db.session.scalars(select(OrgUnit))}
    existing = set(db.session.scalars(select(User.username)))
    shared = hash_password(DEMO_PASSWORD)
    conn = db.session.connection()
    next_id = (conn.scalar(select(func.max(User.id))) or 0) + 1
    users, roles = [], []
    now = utcnow()
    for username, name, code, role_set in province_accounts():
        if username in existing:
            continue
        users.append({"id": next_id, "username": username, "display_name": name[:64], "phone": "",
                      "unit_id": by_code[code], "password_hash": shared, "active": True,
                      "must_change_password": False, "auth_version": 1, "locale": None, "created_at": now,
                      "last_login_at": None})
        roles += [{"user_id": next_id, "role": r} for r in role_set]
        next_id += 1
    for start in range(0, len(users), 5000):
        conn.execute(sa.insert(User.__table__), users[start:start + 5000])
    for start in range(0, len(roles), 5000):
        conn.execute(sa.insert(UserRole.__table__), roles[start:start + 5000])
    return {"units_created": result.created, "users_created": len(users)}


# --- made-up people ------------------------------------------------------------------------------

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰国民志强海燕红梅文斌晓东春花金凤"
         "宇浩然子涵欣怡梓萱一诺雨桐佳怡思远俊杰嘉怡梦琪")
RARE = ("𬌗", "䶮", "𠇔", "龑", "堃", "喆", "玥", "昇", "淼", "犇", "鑫", "𫍯", "𬭚", "珺", "翀")
SUMMARIES = {
    "divorce": ("双方因感情不和协议离婚，对{x}的分割和孩子抚养存在争议。", "男方常年在外务工，女方要求离婚并分割{x}。"),
    "bride_price": ("婚约解除后，男方要求返还彩礼{n}元，女方只同意返还一部分。",),
    "marital_conflict": ("夫妻因{x}问题经常争吵，女方回娘家居住已两月。", "丈夫沉迷赌博，妻子要求其写下保证书。"),
    "cohabitation": ("同居关系解除后，双方对共同购买的{x}归属发生争议。",),
    "child_support": ("离婚后男方拖欠抚养费{n}元，女方要求一次性付清。",),
    "visitation": ("离婚后女方探望孩子受阻，要求明确每月探望的时间和方式。",),
    "elder_support": ("三个子女为老人医药费和每月生活费{n}元的分担互相推诿。",
                      "老人要求儿子按月支付赡养费并接其同住。"),
    "spousal_support": ("妻子患病无劳动能力，要求丈夫承担医疗费用{n}元。",),
    "inheritance": ("父亲去世后，兄妹对老宅和{x}的继承份额有争议。",),
    "household_partition": ("兄弟分家，对宅基地和{x}的划分意见不一。",),
    "intergenerational": ("婆媳因照看孙辈和{x}问题长期不和，多次发生口角。",),
    "guardianship": ("父母外出务工，祖父母与外祖父母争夺孙辈的监护照料。",),
    "neighbour": ("两家因{x}占用通道发生争执，邻里关系紧张。",),
    "other": ("家庭成员之间因{x}问题产生矛盾，请求调解。",),
}
THINGS = ("房屋", "存款", "车辆", "宅基地", "拆迁补偿款", "土地承包经营权", "家具家电", "门面房", "养殖场")
ISSUES = ("费用如何分担", "孩子跟谁生活", "房屋归谁所有", "每月支付多少", "老人由谁照顾", "补偿款怎么分")
RESULTS = ("双方同意再考虑，约定下次面谈", "初步达成一致意见", "分歧仍然较大", "同意按调解员的方案执行",
           "一方表示需要和家人商量")
PLACES = ("村委会调解室", "当事人家中", "镇调解中心", "电话联系", "区婚姻家庭指导驿站")
# Categories by how often they come (赡养 and 离婚 most).
CATEGORY_WEIGHTS = {"divorce": 18, "elder_support": 16, "marital_conflict": 12, "intergenerational": 9,
                    "household_partition": 7, "inheritance": 7, "child_support": 6, "bride_price": 5,
                    "neighbour": 5, "visitation": 4, "cohabitation": 3, "spousal_support": 3, "guardianship": 2,
                    "other": 3}
OUTCOMES = (("success", 70), ("partial", 8), ("failed", 14), ("terminated", 8))


@dataclass
class Ids:
    """The next id of each table (ids are given here, so rows can point at each other)."""

    next: dict = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value


@dataclass
class Result:
    cases: int = 0
    seconds: float = 0.0
    counts: dict = field(default_factory=dict)


class Generator:
    TABLES = {"case_record": Case, "party": Party, "case_event": CaseEvent, "case_holding": CaseHolding,
              "case_transfer": Transfer, "case_referral": Referral, "agreement": Agreement,
              "agreement_term": AgreementTerm, "diary_entry": DiaryEntry, "screening": Screening,
              "risk_change": RiskChange, "lead": Lead, "notification": Notification, "search_doc": SearchDoc}

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.conn = db.session.connection()
        self.cipher = cipher_for()
        self.today = local_today()
        self.cutoff = utc_start_of(self.today)  # every generated moment is before today (local)
        self.ids = Ids({t: (self.conn.scalar(select(func.max(m.__table__.c.id))) or 0) + 1
                        for t, m in self.TABLES.items()})
        units = list(db.session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True))))
        self.units = {u.id: u for u in units}
        self.villages = [u for u in units if u.tier is Tier.VILLAGE and u.station is not None]
        # A few busy villages and a long tail (Zipf-like weights in a shuffled order).
        self.rng.shuffle(self.villages)
        self.village_weights = list(accumulate(1 / (i + 1) ** 0.8 for i in range(len(self.villages))))
        users = db.session.execute(select(User.id, User.username, User.display_name, User.unit_id)).all()
        self.user = {u.username: (u.id, u.display_name) for u in users}
        self.user_unit = {u.id: u.unit_id for u in users}  # the audit log keeps where its actor worked
        cats = {c.code: c.id for c in db.session.scalars(select(Category))}
        self.categories = [(code, cats[code]) for code in CATEGORY_WEIGHTS if code in cats]
        self.cat_weights = list(accumulate(CATEGORY_WEIGHTS[c] for c, _i in self.categories))
        self.counters = {(c.station_id, c.year): c.last_seq for c in db.session.scalars(select(CaseNumberCounter))}
        self.prefix = {}
        self.labels = {u.id: u.label for u in units}
        head = self.conn.execute(select(AuditChainHead.last_id, AuditChainHead.last_hash)
                                 .where(AuditChainHead.id == 1)).first()
        self.audit_last = (head.last_id, head.last_hash) if head else (0, "0" * 64)
        self.rows: dict[str, list] = {}
        self.audit_rows: list[dict] = []
        self.zone_is_shanghai = _zone_is_shanghai()
        self.holding_transfer = None
        self.last_lead = None

    # --- small helpers ---------------------------------------------------------------------------

    def add(self, table: str, row: dict) -> dict:
        self.rows.setdefault(table, []).append(row)
        return row

    def staff(self, unit: OrgUnit) -> tuple[int, str]:
        """The person who works a case held by ``unit``: the village's mediator, the town's
        coordinator, the station's mediator (the demo naming)."""
        prefix = {Tier.VILLAGE: "med", Tier.PLATFORM: "coord", Tier.STATION: "med"}[unit.tier]
        return self.user[f"{prefix}-{unit.code}"]

    def manager(self, unit: OrgUnit) -> tuple[int, str]:
        """Who accepts, assigns and archives for ``unit``: the town's coordinator (a village's
        coordinator is its town's), the station's admin."""
        if unit.tier is Tier.VILLAGE:
            unit = unit.parent
        if unit.tier is Tier.STATION:
            return self.user.get("admin") if unit.code == "320413" and "admin" in self.user \
                else self.user[f"admin-{unit.code}"]
        return self.user[f"coord-{unit.code}"]

    def name(self) -> str:
        r = self.rng
        given = "".join(r.choice(RARE) if r.random() < 0.03 else r.choice(GIVEN) for _ in range(r.choice((1, 2, 2))))
        return r.choice(SURNAMES) + given

    def id_number(self, region: str, born: date, female: bool) -> str:
        seq = self.rng.randrange(0, 500) * 2 + (0 if female else 1)
        first17 = f"{region}{born:%Y%m%d}{seq:03d}"
        return first17 + check_digit(first17)

    def moment(self, after: datetime, lo_hours: float, hi_hours: float) -> datetime:
        return after + timedelta(hours=self.rng.uniform(lo_hours, hi_hours))

    def local_day(self, moment: datetime) -> date:
        return (moment + timedelta(hours=8)).date() if self.zone_is_shanghai else _local(moment)

    # --- one case ---------------------------------------------------------------------------------

    def case(self, intake: date) -> None:
        r = self.rng
        village = self.villages[bisect(self.village_weights, r.random() * self.village_weights[-1])]
        station = village.station
        town = village.parent
        cat_code, cat_id = self.categories[bisect(self.cat_weights, r.random() * self.cat_weights[-1])]
        year = intake.year
        seq = self.counters.get((station.id, year), 0) + 1
        self.counters[(station.id, year)] = seq
        prefix = self.prefix.get(station.id) or self.prefix.setdefault(station.id, number_prefix(station))
        number = f"（{year}）{prefix}第{seq:04d}号"
        case_id = self.ids.take("case_record")
        created = utc_start_of(intake) + timedelta(hours=r.uniform(8.5, 17.5))
        if created >= self.cutoff:
            created = self.cutoff - timedelta(hours=r.uniform(1, 6))
        author_id, author_name = self.staff(village)
        amount = Decimal(r.randrange(2, 400) * 500) if r.random() < 0.45 else None
        thing = r.choice(THINGS)
        summary = r.choice(SUMMARIES.get(cat_code, SUMMARIES["other"])).format(x=thing, n=int(amount or 3000))
        people = r.choice((2, 2, 3, 3, 4, 4, 5, 6, 8, 12, 35))
        ev = []  # (moment, kind, from, to, changes, actor, note)

        # Parties: applicant, respondent, sometimes a third party.
        parties = []
        region = station.code if len(station.code) == 6 else "320482"
        for pos, role in enumerate(("applicant", "respondent", *(("third_party",) if r.random() < 0.3 else ()))):
            female = r.random() < (0.6 if role == "applicant" else 0.4)
            born = date(r.randint(1940, 2000), r.randint(1, 12), r.randint(1, 28))
            idn = self.id_number(region, born, female) if r.random() < 0.6 else ""
            pid = self.ids.take("party")
            name = self.name()
            parties.append(self.add("party", {
                "id": pid, "case_id": case_id, "position": pos, "role": role, "name": name,
                "sex": "female" if female else "male", "ethnicity": "汉族", "birth_date": born, "occupation": "",
                "id_number_enc": idn, "id_hash": self.cipher.hash(normalise_id(idn)),
                "phone": f"1{r.choice('3589')}{r.randrange(10**9):09d}", "relationship": "",
                "address": f"{village.name}{r.randint(1, 12)}组{r.randint(1, 80)}号", "is_minor": False}))
            self.search_docs(_gen_docs("party", pid, case_id, name))

        # Intake screenings of applicant and respondent: the level is computed, never chosen.
        risk, dv = "none", False
        risky = r.random() < 0.08
        t = created + timedelta(minutes=10)
        risk_changes = []
        for p in parties[:2]:
            answers = {str(i.number): "no" for i in ITEMS}
            if risky:
                for i in r.sample(range(1, 17), r.choice((1, 2, 3, 4))):
                    answers[str(i)] = "yes"
            result = score({int(k): v for k, v in answers.items()})
            sid = self.ids.take("screening")
            self.add("screening", {"id": sid, "case_id": case_id, "party_id": p["id"], "occasion": "intake",
                                   "asked_alone": True, "answers": answers, "unsafe_tonight": False,
                                   "breach": False, "child_harmed": False, "score": result.score,
                                   "level": result.level.value, "note": "", "by_id": author_id, "at": t})
            level = result.level.value
            if RANK[level] > RANK[risk]:
                risk_changes.append((t, risk, level, sid))
                self.add("risk_change", {"id": self.ids.take("risk_change"), "case_id": case_id,
                                         "from_level": risk, "to_level": level, "reason": "", "screening_id": sid,
                                         "by_id": author_id, "at": t})
                risk = level
            if RANK[level] >= RANK["orange"]:
                dv = True
            ev.append((t, "screened", "registered", "registered",
                       {"screening": sid, "level": level, "occasion": "intake"}, author_id, ""))
            t += timedelta(minutes=5)

        # The life of the case, step by step, until today stops it.
        state = {"status": "registered", "unit": village, "lead": None, "outcome": None, "accepted_at": None,
                 "due": None, "concluded_at": None, "closed_at": None, "archived_at": None, "decline": ""}
        holder_since = created
        entries = []
        transfers = []

        def step(at, kind, to, changes=None, actor=None, note="", audited=True):
            if at >= self.cutoff:
                raise _Stop
            before = state["status"]
            if to is not None:
                state["status"] = to
            ev.append((at, kind, before, state["status"], changes or {}, actor or self.staff(state["unit"])[0],
                       note))
            if audited:
                self.audit(at, "case.transition", case_id, actor or self.staff(state["unit"])[0],
                           {"transition": kind, "from": before, "to": state["status"], "number": number})
            return at

        def entry(at, kind, *, follow=False):
            if at >= self.cutoff:
                raise _Stop
            eid = self.ids.take("diary_entry")
            who = state["lead"] or self.staff(state["unit"])
            mode = None if kind in ("follow_up", "investigation") else (
                r.choice(("separate", "shuttle", "phone")) if RANK[risk] >= RANK["orange"]
                else r.choice(("joint", "joint", "separate", "phone")))
            row = self.add("diary_entry", {
                "id": eid, "case_id": case_id, "author_id": who[0], "unit_id": state["unit"].id, "kind": kind,
                "occurred_on": self.local_day(at), "start_time": None, "duration_minutes": r.choice((30, 45, 60, 90)),
                "place": r.choice(PLACES), "mode": mode, "party_ids": [p["id"] for p in parties[:2]],
                "mediator_ids": [who[0]], "others_present": "", "issues": r.choice(ISSUES),
                "positions": {str(parties[0]["id"]): "要求对方" + r.choice(ISSUES),
                              str(parties[1]["id"]): "不同意对方的要求"},
                "proposals": "调解员提出折中方案", "result": r.choice(RESULTS), "next_step": "继续做双方工作",
                "next_date": None, "confidential": kind == "session" and r.random() < 0.05,
                "performance": ("performed" if r.random() < 0.85 else "partly") if follow else None,
                "satisfaction": r.choice(("satisfied", "satisfied", "satisfied", "basically", "unsatisfied"))
                if follow else None,
                "remaining_risk": "", "created_at": at, "updated_at": at})
            entries.append(row)
            ev.append((at, "diary", state["status"], state["status"], {"entry": eid, "kind": kind}, who[0], ""))

        def screen_closure(at):
            """A case with a risk level is closed only after the parties are screened again."""
            if risk == "none":
                return
            for p in parties[:2]:
                if at >= self.cutoff:
                    raise _Stop
                sid = self.ids.take("screening")
                answers = {str(i.number): "no" for i in ITEMS}
                who = (state["lead"] or self.staff(state["unit"]))[0]
                self.add("screening", {"id": sid, "case_id": case_id, "party_id": p["id"], "occasion": "closure",
                                       "asked_alone": True, "answers": answers, "unsafe_tonight": False,
                                       "breach": False, "child_harmed": False, "score": 0, "level": "none",
                                       "note": "", "by_id": who, "at": at})
                ev.append((at, "screened", state["status"], state["status"],
                           {"screening": sid, "level": "none", "occasion": "closure"}, who, ""))
                at += timedelta(minutes=5)

        def escalate(at, to_unit):
            tid = self.ids.take("case_transfer")
            sender = state["lead"] or self.staff(state["unit"])
            accepted = r.random() < 0.85
            decided = self.moment(at, 4, 72)
            row = self.add("case_transfer", {
                "id": tid, "case_id": case_id, "kind": "escalate", "from_unit_id": state["unit"].id,
                "to_unit_id": to_unit.id, "from_status": state["status"], "reason": r.choice(
                    ("unsettled", "cross_area", "large_amount", "party_request", "safety")),
                "reason_text": "", "urgency": "normal", "note": "", "status": "pending", "created_by_id": sender[0],
                "created_at": at, "decided_by_id": None, "decided_at": None, "decision_note": ""})
            transfers.append(row)
            from_status = state["status"]
            step(at, "escalate", "pending_transfer", {"transfer": tid, "to_unit": self.labels[to_unit.id],
                                                      "reason": row["reason"], "urgency": "normal"}, sender[0])
            boss = self.manager(to_unit)
            self.notify(boss[0], "transfer_in", case_id, f"escalate:{len(ev)}:{case_id}", at, decided,
                        {"from_unit": self.labels[state["unit"].id], "reason": row["reason"], "urgency": "normal",
                         "direction": "escalate"})
            if decided >= self.cutoff:
                raise _Stop
            row.update(decided_by_id=boss[0], decided_at=decided)
            if accepted:
                nonlocal holder_since
                row["status"] = "accepted"
                self.add("case_holding", {"id": self.ids.take("case_holding"), "case_id": case_id,
                                          "unit_id": state["unit"].id, "since": holder_since, "until": decided,
                                          "transfer_id": self.holding_transfer})
                holder_since = decided
                self.holding_transfer = tid
                old_unit, old_lead = self.labels[state["unit"].id], state["lead"]
                state["unit"] = to_unit
                state["lead"] = self.staff(to_unit)
                state["status"] = "pending_transfer"
                step(decided, "receive", from_status, {
                    "transfer": tid, "unit": [old_unit, self.labels[to_unit.id]],
                    "lead_mediator": [old_lead[1] if old_lead else None, state["lead"][1]]}, boss[0])
                self.notify(sender[0], "transfer_accepted", case_id, f"receive:{len(ev)}:{case_id}", decided,
                            decided, {"to_unit": self.labels[to_unit.id]})
            else:
                row["status"] = "returned"
                row["decision_note"] = "请本级继续调解"
                step(decided, "return", from_status, {"transfer": tid}, boss[0], note="请本级继续调解")
            return decided

        self.holding_transfer = None
        self.audit(created, "case.create", case_id, author_id, {"number": number, "unit": self.labels[village.id]})
        try:
            plan_decline = r.random() < 0.04
            t = self.moment(t, 2, 60)
            if plan_decline:
                state["decline"] = "一方当事人明确拒绝调解"
                step(t, "decline", "declined", {}, self.manager(village)[0], note=state["decline"])
                if r.random() < 0.5:
                    raise _Stop  # not archived (yet)
                t = self.moment(t, 24 * 10, 24 * 60)
                step(t, "archive", "archived", {}, self.manager(village)[0])
                state["archived_at"] = t
                raise _Stop
            step(t, "accept", "accepted", None, self.manager(village)[0])
            state["accepted_at"] = t
            state["due"] = self.local_day(t) + timedelta(days=30)
            ev[-1][4]["due_date"] = state["due"].isoformat()
            t = self.moment(t, 1, 30)
            lead = self.staff(village)
            state["lead"] = lead
            step(t, "assign", "assigned", {"lead_mediator": [None, lead[1]], "co_mediators": [[], []]},
                 self.manager(village)[0])
            self.notify(lead[0], "assigned", case_id, f"assign:{len(ev)}:{case_id}", t, None,
                        {"unit": self.labels[village.id]})
            if risk == "red":
                t = self.moment(t, 2, 24)
                step(t, "end_for_safety", "concluded", {"outcome": [None, "terminated"]}, note="以安全为由终止调解")
                state["outcome"], state["concluded_at"] = "terminated", t
                t = self.moment(t, 24, 72)
                entry(t, "call")
                t = self.moment(t, 24, 72)
                screen_closure(t)
                t = self.moment(t, 0.5, 3)
                step(t, "close", "closed", {})
                state["closed_at"] = t
                raise _Stop
            if r.random() < 0.08:  # escalated before mediation starts at the village
                t = escalate(self.moment(t, 4, 48), town)
                if state["unit"] is town and r.random() < 0.2:
                    t = escalate(self.moment(t, 24, 96), station)
            t = self.moment(t, 4, 72)
            step(t, "start", "in_mediation")
            for _i in range(r.choice((1, 2, 2, 3, 3, 4))):
                t = self.moment(t, 20, 24 * 6)
                entry(t, r.choice(("session", "session", "call", "visit", "investigation")))
            if r.random() < 0.06:
                t = self.referral(case_id, state, self.moment(t, 2, 48), step)
            if state["unit"] is village and r.random() < 0.05:
                t = escalate(self.moment(t, 4, 48), town)
                t = self.moment(t, 20, 24 * 4)
                entry(t, "session")
            for reopened in (False, True):
                outcome = "success" if reopened else _weighted(r, OUTCOMES)
                if risk == "orange" and outcome in ("success", "partial"):
                    outcome = "failed"  # settled at orange only with a safety plan and referral (not generated)
                t = self.moment(t, 24, 24 * 10)
                if outcome in ("success", "partial"):
                    self.agreement(case_id, parties, t, state, step)
                    t = self.moment(t, 0.2, 2)
                    step(t, "conclude", "concluded", {"outcome": [None, outcome]})
                else:
                    step(t, "conclude", "concluded", {"outcome": [None, outcome]})
                state["outcome"], state["concluded_at"] = outcome, t
                if outcome in ("success", "partial"):
                    t = self.moment(t, 1, 48)
                    step(t, "follow_up", "follow_up")
                    for days in (7, 30):
                        t = self.moment(t, 24 * days * 0.8, 24 * days * 1.2)
                        entry(t, "follow_up", follow=True)
                t = self.moment(t, 2, 72)
                screen_closure(t)
                t = self.moment(t, 0.5, 3)
                step(t, "close", "closed", {})
                state["closed_at"] = t
                if reopened or r.random() > 0.02:
                    break
                t = self.moment(t, 24 * 5, 24 * 30)
                old_due, state["due"] = state["due"], self.local_day(t) + timedelta(days=30)  # the limit starts again
                step(t, "reopen", "in_mediation", {"outcome": [state["outcome"], None],
                                                   "due_date": [old_due.isoformat(), state["due"].isoformat()]},
                     self.manager(village)[0], note="回访发现协议未履行")
                state.update(outcome=None, concluded_at=None, closed_at=None)
                t = self.moment(t, 24, 24 * 5)
                entry(t, "session")
            t = self.moment(t, 24 * 10, 24 * 90)
            step(t, "archive", "archived", {}, self.manager(state["unit"])[0])
            state["archived_at"] = t
        except _Stop:
            pass
        if self.holding_transfer is not None:  # moved at least once: the current holder's period is open
            self.add("case_holding", {"id": self.ids.take("case_holding"), "case_id": case_id,
                                      "unit_id": state["unit"].id, "since": holder_since, "until": None,
                                      "transfer_id": self.holding_transfer})

        last = ev[-1][0] if ev else created
        status = state["status"]
        self.add("case_record", {
            "id": case_id, "number": number, "station_id": station.id, "year": year, "seq": seq,
            "unit_id": state["unit"].id, "origin_unit_id": village.id, "category_id": cat_id,
            "source": "grid" if self.lead_for(case_id, village, created, author_id) else r.choice(
                ("party", "party", "party", "screening", "hotline", "police", "court")),
            "referrer": "", "intake_date": intake, "summary": summary, "claims": "", "amount_in_dispute": amount,
            "people_involved": people, "children_involved": r.choice((0, 0, 1, 2)),
            "is_major": r.random() < 0.02, "is_mass": people >= 30, "risk_level": risk, "dv_flag": dv,
            "consent_to_mediate": True, "restricted": False, "rights_notice_date": intake,
            "status": status, "outcome": state["outcome"], "decline_reason": state["decline"],
            "lead_mediator_id": state["lead"][0] if state["lead"] else None, "lead_id": self.last_lead,
            "created_by_id": author_id, "created_at": created, "updated_at": last,
            "updated_by_id": ev[-1][5] if ev else author_id, "accepted_at": state["accepted_at"],
            "due_date": state["due"], "concluded_at": state["concluded_at"], "closed_at": state["closed_at"],
            "archived_at": state["archived_at"], "legal_hold": False, "anonymised_at": None,
            "version": 1 + len(ev)})
        texts = {"number": number, "summary": summary, "claims": ""}
        self.search_docs([d for kind in ("number", "summary", "claims") for d in
                          _gen_docs(kind, case_id, case_id, texts[kind])])
        for row in entries:
            self.search_docs(_gen_docs("diary", row["id"], case_id, _entry_text(_Row(row), []),
                                   confidential=row["confidential"], author_id=row["author_id"]))
        # The timeline: "created" first, then every step in order.
        self.add("case_event", {"id": self.ids.take("case_event"), "case_id": case_id, "at": created,
                                "actor_id": author_id, "kind": "created", "from_status": None,
                                "to_status": "registered", "note": "", "changes": {"number": [None, number]}})
        for at, kind, frm, to, changes, actor, note in sorted(ev, key=lambda e: e[0]):
            self.add("case_event", {"id": self.ids.take("case_event"), "case_id": case_id, "at": at,
                                    "actor_id": actor, "kind": kind, "from_status": frm, "to_status": to,
                                    "note": note, "changes": changes})
        for at, old, new, _sid in risk_changes:
            self.audit(at, "case.risk", case_id, author_id, {"number": number, "from": old, "to": new,
                                                              "reason": "screening"})

    def referral(self, case_id, state, at, step) -> datetime:
        """A referral out (the case stays open); half of them get their result. Returns when
        the last of these happened."""
        rid = self.ids.take("case_referral")
        done = self.rng.random() < 0.5
        day = self.local_day(at)
        row = self.add("case_referral", {
            "id": rid, "case_id": case_id, "destination": self.rng.choice(("legal_aid", "court_delegated",
                                                                            "womens_federation", "social_work")),
            "destination_name": "", "referred_on": day, "reference": "", "note": "", "outcome": "",
            "outcome_on": None, "created_by_id": (state["lead"] or self.staff(state["unit"]))[0], "created_at": at})
        step(at, "refer", None, {"referral": rid, "destination": row["destination"], "destination_name": "",
                                 "reference": ""})
        result_at = self.moment(at, 24 * 3, 24 * 20)
        if done and result_at < self.cutoff:
            row.update(outcome="已受理并提供帮助", outcome_on=self.local_day(result_at))
            step(result_at, "referral_result", None, {"referral": rid, "destination": row["destination"],
                                                      "referral_result": row["outcome"],
                                                      "result_date": row["outcome_on"].isoformat()})
            return result_at
        return at

    def agreement(self, case_id, parties, at, state, step) -> None:
        """The agreement (once: a case reopened and settled again keeps it)."""
        if at >= self.cutoff:
            raise _Stop
        who = state["lead"] or self.staff(state["unit"])
        oral = self.rng.random() < 0.15
        terms = ["双方同意按月支付生活费600元。", "已发生的医药费由双方平均分担。"]
        if not state.get("agreement"):
            state["agreement"] = True
            aid = self.ids.take("agreement")
            self.add("agreement", {
                "id": aid, "case_id": case_id, "unit_id": state["unit"].id,  # the unit that wrote it
                "kind": "oral" if oral else "written", "reached_on": self.local_day(at),
                "facts": "双方就纠纷事实无异议。", "disputed_points": "费用分担。", "copies": len(parties) + 1,
                "confirmation": "not_applied", "confirmation_applied_on": None, "confirmation_decided_on": None,
                "confirmation_court": "", "confirmation_note": "", "created_by_id": who[0], "created_at": at,
                "updated_at": at, "updated_by_id": who[0], "version": 1})
            for i, content in enumerate(terms):
                self.add("agreement_term", {"id": self.ids.take("agreement_term"), "agreement_id": aid,
                                            "position": i, "content": content, "method": "转账",
                                            "deadline": "每月5日前"})
            step(at, "agreement", None, {"terms": terms, "kind": "oral" if oral else "written",
                                         "reached_on": self.local_day(at).isoformat()}, who[0], audited=False)

    def lead_for(self, case_id, village, created, author_id) -> bool:
        """About one case in seven comes from a grid worker's lead (then its source is 网格员)."""
        self.last_lead = None
        grid = self.user.get(f"grid-{village.code}")
        if grid is None or self.rng.random() > 0.15:
            return False
        lid = self.ids.take("lead")
        at = created - timedelta(hours=self.rng.uniform(1, 48))
        self.add("lead", {"id": lid, "unit_id": village.id, "reporter_id": grid[0], "who": self.name() + "一家",
                          "where": f"{village.name}{self.rng.randint(1, 12)}组", "what": "家里吵得厉害，需要调解。",
                          "contact_phone": "", "urgency": "normal", "status": "converted", "dismiss_reason": "",
                          "case_id": case_id, "handled_by_id": author_id, "handled_at": created, "created_at": at})
        self.last_lead = lid
        return True

    def open_leads(self, n: int) -> None:
        """Leads not (yet) made cases: new ones in the last days, dismissed ones before."""
        for _i in range(n):
            village = self.villages[bisect(self.village_weights, self.rng.random() * self.village_weights[-1])]
            grid = self.user.get(f"grid-{village.code}")
            if grid is None:
                continue
            new = self.rng.random() < 0.4
            at = self.cutoff - timedelta(hours=self.rng.uniform(2, 24 * (5 if new else 300)))
            handler = self.staff(village)
            self.add("lead", {"id": self.ids.take("lead"), "unit_id": village.id, "reporter_id": grid[0],
                              "who": self.name() + "家", "where": f"{village.name}{self.rng.randint(1, 12)}组",
                              "what": "邻居反映夫妻经常争吵。", "contact_phone": "",
                              "urgency": self.rng.choice(("normal", "normal", "urgent")),
                              "status": "new" if new else "dismissed",
                              "dismiss_reason": "" if new else "经核实已自行和解", "case_id": None,
                              "handled_by_id": None if new else handler[0],
                              "handled_at": None if new else at + timedelta(hours=5), "created_at": at})

    def notify(self, user_id, kind, case_id, key, at, read_at, params) -> None:
        if at >= self.cutoff:
            return
        read = read_at if read_at is not None and read_at < self.cutoff else (
            at + timedelta(days=1) if at < self.cutoff - timedelta(days=14) else None)
        self.add("notification", {"id": self.ids.take("notification"), "user_id": user_id, "kind": kind,
                                  "key": key, "case_id": case_id, "params": params, "created_at": at,
                                  "read_at": read})

    def search_docs(self, docs: list[dict]) -> None:
        for d in docs:
            d["id"] = self.ids.take("search_doc")
            self.add("search_doc", d)

    def audit(self, at, action, case_id, actor_id, details) -> None:
        # The details are plain strings and numbers already (what ``jsonable`` would leave them).
        self.audit_rows.append({"at": at, "action": action, "target_type": "case", "target_id": str(case_id),
                                "actor_id": actor_id, "details": details})

    # --- writing ----------------------------------------------------------------------------------

    ORDER = ("lead", "case_record", "party", "screening", "risk_change", "case_transfer", "case_holding",
             "case_referral", "agreement", "agreement_term", "diary_entry", "case_event", "notification",
             "search_doc")

    def flush(self) -> int:
        """Write what was made so far, parents before children; chain the audit events."""
        written = 0
        leads = self.rows.get("lead", [])
        pending_cases = {row["case_id"]: row for row in leads if row["case_id"]}
        for table in self.ORDER:
            rows = self.rows.pop(table, [])
            if not rows:
                continue
            if table == "lead":  # a lead points at its case (written next): set the link after
                for row in rows:
                    row["case_id"] = None
            bulk_insert(self.conn, self.TABLES[table].__table__, rows)
            written += len(rows)
        if pending_cases:
            lead_t = Lead.__table__
            self.conn.execute(sa.update(lead_t).where(lead_t.c.id == sa.bindparam("lid"))
                              .values(case_id=sa.bindparam("cid")),
                              [{"lid": row["id"], "cid": cid} for cid, row in pending_cases.items()])
        self.write_audit()
        return written

    def write_audit(self) -> None:
        rows = sorted(self.audit_rows, key=lambda a: a["at"])
        self.audit_rows = []
        last_id, prev = self.audit_last
        out = []
        for a in rows:
            last_id += 1
            row = {"id": last_id, "at": a["at"], "actor_id": a["actor_id"],
                   "actor_unit_id": self.user_unit.get(a["actor_id"]), "actor_name": "", "ip": "",
                   "action": a["action"], "target_type": a["target_type"], "target_id": a["target_id"],
                   "details": a["details"], "prev_hash": prev}
            row["hash"] = prev = hash_of(row)
            out.append(row)
        bulk_insert(self.conn, AuditEvent.__table__, out)
        self.audit_last = (last_id, prev)
        head = AuditChainHead.__table__
        if self.conn.execute(sa.update(head).where(head.c.id == 1)
                             .values(last_id=last_id, last_hash=prev)).rowcount == 0:
            self.conn.execute(sa.insert(head).values(id=1, last_id=last_id, last_hash=prev))


RANK = {"none": 0, "yellow": 1, "orange": 2, "red": 3}


@cache
def _token(ch: str) -> str:
    return search_text._token(search_text.fold_char(ch))


def _spaced(text: str) -> str:
    """``search.text.spaced``, each character's token computed once."""
    return " ".join(map(_token, text))


def _gen_docs(kind: str, source_id: int, case_id: int, content: str | None, *, confidential: bool = False,
              author_id: int | None = None) -> list[dict]:
    """``search.index._docs`` with the cached tokens (the invariants compare the two)."""
    return [{"case_id": case_id, "kind": kind, "source_id": source_id, "part": i, "confidential": confidential,
             "author_id": author_id, "content": piece, "tokens": _spaced(piece)}
            for i, piece in enumerate(search_text.chunks((content or "").strip()))]


def bulk_insert(connection, table: sa.Table, rows: list[dict], chunk: int = 5000) -> None:
    """INSERT many rows (all with the same keys). On SQLite straight through the driver, the
    values stored as SQLAlchemy stores them (times as text, JSON as text, decimals as floats,
    ID numbers encrypted); elsewhere through SQLAlchemy Core's executemany."""
    if not rows:
        return
    if connection.dialect.name != "sqlite":
        for start in range(0, len(rows), chunk):
            connection.execute(sa.insert(table), rows[start:start + chunk])
        return
    keys = list(rows[0])
    convert = []
    cipher = cipher_for()
    for k in keys:
        t = table.c[k].type
        if isinstance(t, EncryptedId):
            convert.append(cipher.encrypt)
        elif isinstance(t, sa.DateTime):
            convert.append(lambda v: None if v is None else v.isoformat(" ", "microseconds"))
        elif isinstance(t, sa.Date):
            convert.append(lambda v: None if v is None else v.isoformat())
        elif isinstance(t, sa.JSON):
            convert.append(lambda v: None if v is None else json.dumps(v))
        elif isinstance(t, sa.Numeric) and not isinstance(t, sa.Integer | sa.Float):
            convert.append(lambda v: None if v is None else float(v))
        elif isinstance(t, sa.Boolean):
            convert.append(lambda v: None if v is None else int(bool(v)))
        else:
            convert.append(None)
    pairs = list(zip(keys, convert, strict=True))
    columns = ", ".join('"%s"' % k for k in keys)  # noqa: UP031 - quoted names ("where" is a column)
    sql = f'INSERT INTO "{table.name}" ({columns}) VALUES ({", ".join("?" * len(keys))})'
    cursor = connection.connection.driver_connection.cursor()
    try:
        for start in range(0, len(rows), chunk):
            cursor.executemany(sql, [tuple(row[k] if f is None else f(row[k]) for k, f in pairs)
                                     for row in rows[start:start + chunk]])
    finally:
        cursor.close()


class _Stop(Exception):
    """Today is reached: the case stays where it is."""


class _Row:
    """A diary row (dict) as the search index's ``_entry_text`` reads it."""

    def __init__(self, row: dict):
        self.__dict__.update(row)


def _weighted(rng, pairs):
    total = sum(w for _v, w in pairs)
    x = rng.random() * total
    for value, w in pairs:
        x -= w
        if x < 0:
            return value
    return pairs[-1][0]


def _local(moment: datetime) -> date:
    return local_date_of(moment)


# --- the derived tables ---------------------------------------------------------------------------

def rebuild_counters(connection) -> None:
    """The case-number counter of each station and year: the highest number given."""
    counter = CaseNumberCounter.__table__
    c = Case.__table__
    rows = connection.execute(select(c.c.station_id, c.c.year, func.max(c.c.seq)).group_by(c.c.station_id, c.c.year))
    for station_id, year, seq in rows:
        if connection.execute(sa.update(counter).where(counter.c.station_id == station_id, counter.c.year == year)
                              .values(last_seq=seq)).rowcount == 0:
            connection.execute(sa.insert(counter).values(station_id=station_id, year=year, last_seq=seq))


def reset_sequences(connection) -> None:
    """PostgreSQL: the id sequences of tables written with given ids continue after them."""
    if connection.dialect.name != "postgresql":
        return
    for table in (*Generator.TABLES, "user_account", "user_role"):
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))")


def analyze(connection) -> None:
    connection.exec_driver_sql("ANALYZE")


# Every table the app derives from the rows a bulk writer inserted (the search documents and
# the audit chain are written beside their rows). After bulk inserts, call
# ``rebuild_derived``. Another derived table adds its rebuild function here.
DERIVED_STEPS = (
    ("case number counters", rebuild_counters),
    ("case visibility", rebuild_visibility),
    ("statistics aggregates", aggregates.rebuild),
    ("id sequences", reset_sequences),
    ("planner statistics", analyze),
)


def rebuild_derived(connection, *, log=None) -> dict[str, float]:
    """Run ``DERIVED_STEPS`` in order on ``connection``; seconds per step."""
    times = {}
    for name, fn in DERIVED_STEPS:
        start = time.perf_counter()
        fn(connection)
        times[name] = time.perf_counter() - start
        if log:
            log(f"  {name}: {times[name]:.1f} s")
    return times


# --- the command ------------------------------------------------------------------------------------

def prepare_network(network: str, seed: int) -> dict:
    """The network and its accounts (added to what is there; nothing is loaded twice)."""
    if network == "jiangsu":
        return load_province(seed)
    return load_demo(scenarios=False)


def generate(n: int, *, seed: int = 1, network: str = "jintan", batch: int = 2000, log=None) -> Result:
    """Add ``n`` generated cases (and all that goes with them) to the database, in batches,
    committing each; then rebuild the derived tables. Returns the counts and seconds."""
    start = time.perf_counter()
    prepare_network(network, seed)
    db.session.commit()
    gen = Generator(seed)
    if not gen.villages:
        raise RuntimeError("the network has no villages")
    # Intake dates over the last YEARS years, rising a little towards today; sorted, so that
    # numbers follow the order of registration within each station and year.
    first = gen.today - timedelta(days=365 * YEARS)
    span = (gen.today - first).days
    days = sorted(first + timedelta(days=min(span - 1, int(span * gen.rng.random() ** 0.8))) for _ in range(n))
    result = Result()
    for start_at in range(0, n, batch):
        for day in days[start_at:start_at + batch]:
            gen.case(day)
        if start_at == 0:
            gen.open_leads(max(1, n // 30))
        for table, rows in gen.rows.items():
            result.counts[table] = result.counts.get(table, 0) + len(rows)
        gen.flush()
        db.session.commit()
        gen.conn = db.session.connection()
        if log and (start_at // batch) % 10 == 0:
            log(f"  {min(start_at + batch, n)} cases, {time.perf_counter() - start:.0f} s")
    result.counts["audit_event"] = gen.audit_last[0]
    rebuild_derived(db.session.connection(), log=log)
    db.session.commit()
    result.cases = n
    result.seconds = time.perf_counter() - start
    return result


def _zone_is_shanghai() -> bool:
    from flask import current_app

    return current_app.config["BABEL_DEFAULT_TIMEZONE"] in ("Asia/Shanghai", "Asia/Chongqing", "PRC")
