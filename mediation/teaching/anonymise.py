"""Anonymising a case into a teaching case, and the check that runs on every save.

``Redactor(case)`` knows what identifies the case's people and places:

* party names become surname + 某 (张某), disambiguated when several share a surname
  (周某甲, 周某乙) and replaced consistently: the full name, the given name alone
  (two characters or more: 桂珍), and for a one-character given name the familiar
  forms 小X / 阿X / 老X (the character alone is left: 丽 is also in 美丽); relationship
  words (长子, 儿媳) are kept;
* **rare surnames**: when a party's surname is not one of the 20 most common Chinese
  surnames (``COMMON_SURNAMES``: 王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗), any name
  in the text made of that surname and one or two more Chinese characters (笪小军,
  when a party is 笪俊) is taken for a relative or neighbour and replaced too (笪某甲…,
  the next free letters): a rare surname alone points to the family. Common surnames
  are left, or every 王 + two characters would go;
* the names of everyone who worked on the case — its mediators (调解员) and the
  registrar, the authors of diary entries and whoever took a step on it (工作人员:
  users' display names) — are replaced;
* ID numbers (the parties' and any 15/18-digit pattern), phone numbers (the
  parties', any mobile number, landlines), the parties' address strings and
  address patterns (3组12号, 门牌…, 5号楼2单元301室) are removed;
* exact dates keep their year and month (2026年1月13日 → 2026年1月某日);
* the names of every unit of the network are generalised (上阳村 → 某村, 薛埠镇 →
  某镇, 金坛区 → 某区), also without their suffix (上阳 → 某村, 金坛 → 某地) — but a
  bare name that is an everyday word (``WORD_BASES``: 文化, 解放, 东方…) only for the
  case's own units and the villages of its parties' addresses;
* the case's number, and anything shaped like a case number (（2026）金坛婚调字第3号),
  is removed.

Literal names are replaced in one pass (longest first), so a replacement is never
replaced again and a name inside a longer one (周国 in 周国民) does not break it.

``Redactor.findings(text)`` lists what is still there for the message refusing a save:
party names (also 小X/阿X/老X, and rare-surname names as above), staff names, ID and
phone numbers, case numbers, exact dates (2026年2月7日, 2月7日, 2026-02-07), address
fragments (1组9号, 5号楼, 门牌) and unit names of the network (with or without suffix).
"""
import re
import unicodedata
from datetime import date

from sqlalchemy import select

from ..cases.models import CaseEvent
from ..diary.models import DiaryEntry
from ..extensions import db
from ..org.models import OrgUnit
from ..users.models import User

STEMS = "甲乙丙丁戊己庚辛壬癸"
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 西门 南宫 独孤 轩辕 呼延 "
    "申屠 太史 闻人 万俟 澹台 公冶 濮阳 淳于 单于 钟离 宗政 仲孙 赫连 鲜于 东郭 百里 第五 司空 左丘 "
    "拓跋 完颜 耶律 段干 梁丘 谷梁 公羊 闾丘 亓官 巫马 南门 羊舌 微生 漆雕 乐正 壤驷 公良 宰父 夹谷".split())

ID_TEXT = "（身份证号码略）"
PHONE_TEXT = "（电话略）"
ADDRESS_TEXT = "（住址略）"
NUMBER_TEXT = "（案号略）"
MEDIATOR_TEXT = "调解员"
STAFF_TEXT = "工作人员"
# The 20 most common Chinese surnames: a name in the text with one of these is not taken
# for a party's relative just because it shares the surname (see the module's docstring).
COMMON_SURNAMES = frozenset("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
FAMILIAR_PREFIXES = ("小", "阿", "老")
# Bare unit names that are everyday words: replaced network-wide only with their suffix
# (解放村), bare only for the case's own units (文化程度 stays readable).
WORD_BASES = frozenset("文化 解放 明星 黄金 春风 东方 红旗 新城 迎春 五星 三星 长兴 养殖场 西门 城南 丰产 联丰 "
                       "新河 新桥 新塘 河头 河下 社头 华城 五联 东进 建设 前进 和平 胜利 光明 幸福 团结 先锋".split())
# Characters that end a name rather than continue it (钱给他 is not a person called 钱给).
_NOT_GIVEN = "的了是在和与及给说对把被也都就还要会能不有这那个们我你他她它为以或等让向从到来去上下中里外每各"
_CJK = "\u4e00-\u9fff"
# A case number: （2026）金坛婚调字第0003号, (2026)苏0482民调字3号.
_CASE_NUMBER_RE = re.compile(r"[（(]\s*\d{4}\s*[）)][^\s，。；,;：:（）()]{0,16}?字\s*第?\s*\d+\s*号")

_ZW = re.compile(r"[\s\u200b-\u200f\u2060\ufeff\u00ad]+")
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|（0\d{2,3}）|0\d{2,3})[\s\-－—]?[2-9]\d{6,7}(?!\d)")
_LOCAL_RE = re.compile(r"(?<![\d.,])[2-8]\d{6,7}(?![\d.,])"
                       r"(?!\s*(?:元|万|块|角|亿|千|百|平|米|亩|人|户|次|年|个|斤|克|公斤|份|件|天))")
_CN_NUM = "〇零一二三四五六七八九十百两"
_ADDRESS_RES = (
    re.compile(rf"(?:\d+|[{_CN_NUM}]+)(?:村民)?(?:小)?组(?:\d+|[{_CN_NUM}]+)号(?:\d+室)?"),  # 3组12号
    re.compile(r"(?<![第\d])\d+(?:村民)?(?:小)?组"),  # 3组
    re.compile(r"门牌(?:号码?)?[为是:：]?\s*[A-Za-z0-9\-－#＃]*\d*号?"),  # 门牌12号
    re.compile(r"\d+(?:号楼|栋|幢|座)(?:\d+单元)?(?:\d+(?:室|号))?|\d+单元\d+室"),  # 5号楼2单元301室
    re.compile(r"(?<=[路街巷弄道])\d+(?:[-－]\d+)?号"),  # 人民路5号 -> 人民路某号
)
_DATE_RES = (
    (re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d)"),
     lambda m: f"{m.group(1)}年{int(m.group(2))}月某日"),
    (re.compile(r"(\d{1,2})\s*月\s*(?:\d{1,2}|[一二三四五六七八九十廿卅]{1,3})\s*(?:日|号)"),
     lambda m: f"{m.group(1)}月某日"),
    (re.compile(r"([〇零一二三四五六七八九十]{1,3})月(?:[一二三四五六七八九十廿卅]{1,3})(?:日|号)"),
     lambda m: f"{m.group(1)}月某日"),
)
_UNIT_SUFFIXES = (("社区居委会", "某社区"), ("居委会", "某社区"), ("社区", "某社区"), ("街道", "某街道"),
                  ("村委会", "某村"), ("村", "某村"), ("镇", "某镇"), ("乡", "某乡"), ("区", "某区"),
                  ("县", "某县"), ("市", "某市"))


def normalise(text: str) -> str:
    """For checking: full-width forms folded (NFKC), white space and invisible characters dropped."""
    return _ZW.sub("", unicodedata.normalize("NFKC", text or ""))


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name): 欧阳桂英 -> (欧阳, 桂英), 汤桂珍 -> (汤, 桂珍)."""
    name = normalise(name)
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    if "·" in name or "•" in name:  # transliterated names: the part before the dot
        first = re.split(r"[·•]", name)[0]
        return first[:1], name[1:]
    return name[:1], name[1:]


def name_aliases(names: list[str]) -> dict[str, str]:
    """Each distinct name -> surname + 某, with 甲/乙/… when a surname is shared (in order)."""
    distinct: list[str] = []
    for n in names:
        n = normalise(n)
        if n and n not in distinct:
            distinct.append(n)
    by_surname: dict[str, list[str]] = {}
    for n in distinct:
        by_surname.setdefault(split_name(n)[0], []).append(n)
    out = {}
    for surname, group in by_surname.items():
        for i, n in enumerate(group):
            stem = (STEMS[i] if i < len(STEMS) else str(i + 1)) if len(group) > 1 else ""
            out[n] = f"{surname}某{stem}"
    return out


def generic_unit(name: str) -> str:
    for suffix, generic in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return generic
    return "某地"


def unit_base(name: str) -> str:
    """上阳村 -> 上阳, 薛埠镇 -> 薛埠, 西城街道 -> 西城 (the name without its suffix)."""
    for suffix, _generic in _UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


class Redactor:
    """What identifies the people and places of ``case``, and how to replace it."""

    def __init__(self, case=None):
        self.aliases: dict[str, str] = {}
        self.given: dict[str, str] = {}  # given names of 2+ characters -> alias
        self.literals: dict[str, str] = {}
        self.ids: list[str] = []
        self.phones: list[str] = []
        self.places: list[str] = []  # the case's village and town names, for the check
        self.staff: set[str] = set()  # display names of the users who worked on the case
        self.familiar: dict[str, str] = {}  # 小俊, 阿俊, 老俊 -> alias
        self.rare_surnames: dict[str, str] = {}  # a party's uncommon surname -> its first alias
        self.case_number = ""
        units = db.session.execute(select(OrgUnit.name, OrgUnit.parent_id)).all()
        # Every unit of the network, with and without its suffix (上阳村, 上阳; 金坛区, 金坛).
        for name, parent in units:
            if not name:
                continue
            self.literals.setdefault(name, generic_unit(name))
            self.places.append(name)
            base = unit_base(name)
            if len(base) >= 2 and base != name and base not in WORD_BASES:
                self.literals.setdefault(base, "某地" if parent is None else generic_unit(name))
                self.places.append(base)
        if case is None:
            self._compile()
            return
        parties = sorted(case.parties, key=lambda p: p.position)
        self.aliases = name_aliases([p.name for p in parties])
        for name, alias in self.aliases.items():
            self.literals[name] = alias
            surname, given = split_name(name)
            if len(given) >= 2:
                self.given[given] = alias
                self.literals.setdefault(given, alias)
            elif len(given) == 1:
                for prefix in FAMILIAR_PREFIXES:
                    self.familiar[prefix + given] = alias
                    self.literals.setdefault(prefix + given, alias)
            if surname and surname not in COMMON_SURNAMES and len(surname) == 1:
                self.rare_surnames.setdefault(surname, alias)
        mediators = [u for u in [case.lead_mediator, *case.co_mediators] if u is not None]
        for u in mediators:
            n = normalise(u.display_name)
            if len(n) >= 2 and n not in self.literals:
                self.literals[n] = MEDIATOR_TEXT
            if len(n) >= 2:
                self.staff.add(n)
        for u in _staff_of(case):
            n = normalise(u.display_name)
            if len(n) >= 2:
                self.staff.add(n)
                self.literals.setdefault(n, STAFF_TEXT)
        for p in parties:
            if p.id_number:
                self.ids.append(normalise(p.id_number).upper())
                self.literals[p.id_number] = ID_TEXT
            if p.phone:
                self.phones.append(re.sub(r"\D", "", p.phone))
                self.literals[p.phone] = PHONE_TEXT
            if p.address and len(p.address.strip()) >= 2:
                self.literals[p.address.strip()] = ADDRESS_TEXT
        if case.number:
            self.case_number = normalise(case.number)
            self.literals[case.number] = NUMBER_TEXT
        # The case's own units and the villages its parties' addresses name: bare even
        # when the bare name is an everyday word (解放 for 解放村).
        own = [case.unit, case.origin_unit]
        own += [a for u in own if u is not None for a in u.ancestors()]
        addresses = " ".join(p.address or "" for p in parties)
        own_names = {u.name for u in own if u is not None and u.parent_id is not None}
        own_names |= {name for name, parent in units if parent is not None and name and name in addresses}
        for name in sorted(own_names):
            base = unit_base(name)
            if len(base) >= 2:
                self.literals.setdefault(base, generic_unit(name))
                self.places.append(base)
        self._compile()

    def _compile(self) -> None:
        keys = sorted((k for k in self.literals if k), key=len, reverse=True)
        self._literal_re = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        # Rare surnames: the surname and 1–2 more Chinese characters (not 某, and not
        # 家/氏: 笪家 is the family, not a person). Matched after the literals are replaced.
        if self.rare_surnames:
            sur = "".join(re.escape(x) for x in self.rare_surnames)
            self._kin_re = re.compile(
                rf"([{sur}])((?![某家氏{_NOT_GIVEN}])[{_CJK}](?:(?![{_NOT_GIVEN}])[{_CJK}])?)")
        else:
            self._kin_re = None
        self._kin_aliases: dict[str, str] = {}

    def _kin_alias(self, name: str) -> str:
        """笪小军 -> 笪某甲 (the next letter its surname's party aliases do not use)."""
        if name not in self._kin_aliases:
            surname = name[0]
            used = set(self.aliases.values()) | set(self._kin_aliases.values())
            for stem in STEMS:
                alias = f"{surname}某{stem}"
                if alias not in used:
                    break
            else:
                alias = f"{surname}某{len(used) + 1}"
            self._kin_aliases[name] = alias
        return self._kin_aliases[name]

    def kin_names(self, text: str) -> list[str]:
        """Names in ``text`` with a party's rare surname that are not replaced yet."""
        if self._kin_re is None:
            return []
        return [m.group(0) for m in self._kin_re.finditer(text) if not self._known(m)]

    def _known(self, m) -> bool:
        """A rare-surname match that is (or overlaps) a name already known: a party's own
        name (笪俊, in 笪俊说) is replaced as a literal, not as a relative."""
        name = m.group(0)
        return any(k[:1] == m.group(1) and (k.startswith(name) or name.startswith(k)) for k in self.literals)

    # --- replacing --------------------------------------------------------------------
    def redact(self, text: str | None) -> str:
        if not text:
            return ""
        out = unicodedata.normalize("NFC", str(text))
        out = _CASE_NUMBER_RE.sub(NUMBER_TEXT, out)
        if self._kin_re is not None:  # before the literals: 笪小军 is not 笪 + 小军's alias
            out = self._kin_re.sub(lambda m: m.group(0) if self._known(m) else self._kin_alias(m.group(0)), out)
        if self._literal_re is not None:
            out = self._literal_re.sub(lambda m: self.literals[m.group(0)], out)
        out = _ID_RE.sub(ID_TEXT, out)
        out = _MOBILE_RE.sub(PHONE_TEXT, out)
        out = _LANDLINE_RE.sub(PHONE_TEXT, out)
        for pattern in _ADDRESS_RES[:4]:
            out = pattern.sub("某组" if pattern is _ADDRESS_RES[0] or pattern is _ADDRESS_RES[1] else "某处", out)
        out = _ADDRESS_RES[4].sub("某号", out)
        for pattern, repl in _DATE_RES:
            out = pattern.sub(repl, out)
        out = _LOCAL_RE.sub(PHONE_TEXT, out)
        return out

    # --- checking -----------------------------------------------------------------------
    def findings(self, text: str | None) -> list[tuple[str, str]]:
        """What identifying data ``text`` still holds: (kind, value) with kind one of
        "name", "staff", "id", "phone", "number", "date", "address", "place"."""
        flat = normalise(text or "")
        if not flat:
            return []
        found: list[tuple[str, str]] = []

        def add(kind, value):
            if (kind, value) not in found:
                found.append((kind, value))

        def inside(value, kinds=("name",)):
            return any(value in v for k, v in found if k in kinds)

        for name in sorted(self.aliases, key=len, reverse=True):
            if name in flat:
                add("name", name)
        for given in sorted(self.given, key=len, reverse=True):
            if given in flat and not inside(given):
                add("name", given)
        for familiar in sorted(self.familiar):
            if familiar in flat and not inside(familiar):
                add("name", familiar)
        for name in self.kin_names(flat):
            if not inside(name):
                add("name", name)
        for name in sorted(self.staff, key=len, reverse=True):
            if name in flat and not inside(name, ("name", "staff")):
                add("staff", name)
        if self.case_number and self.case_number in flat:
            add("number", self.case_number)
        for m in _CASE_NUMBER_RE.finditer(flat):
            if not inside(m.group(0), ("number",)):
                add("number", m.group(0))
        upper = flat.upper()
        for number in self.ids:
            if number and number in upper:
                add("id", number)
        for m in _ID_RE.finditer(flat):
            add("id", m.group(0))
        digits_only = re.sub(r"\D", "", flat)
        for phone in self.phones:
            if len(phone) >= 7 and (phone in flat or phone in digits_only):
                add("phone", phone)
        spaced = unicodedata.normalize("NFKC", text or "")
        for pattern in (_MOBILE_RE, _LANDLINE_RE):
            for m in pattern.finditer(spaced):
                add("phone", m.group(0))
        for pattern, _repl in _DATE_RES:
            for m in pattern.finditer(flat):
                add("date", m.group(0))
        for pattern in _ADDRESS_RES[:4]:
            for m in pattern.finditer(flat):
                if not inside(m.group(0), ("address",)):
                    add("address", m.group(0))
        for place in sorted(set(self.places), key=len, reverse=True):
            if place in flat and not inside(place, ("place", "number")):
                add("place", place)
        return found


def _staff_of(case) -> list:
    """Everyone who worked on ``case``: the registrar and the last editor, named users,
    the authors of its diary entries and whoever took a step on it."""
    ids = {case.created_by_id, case.updated_by_id, *(u.id for u in case.named_users)}
    ids |= set(db.session.scalars(select(DiaryEntry.author_id).where(DiaryEntry.case_id == case.id)))
    ids |= set(db.session.scalars(select(CaseEvent.actor_id).where(CaseEvent.case_id == case.id)))
    ids.discard(None)
    return list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []


def month_of(day: date | None) -> str:
    return f"{day.year}年{day.month}月" if day else ""
