"""Loading and editing the network. Services flush; the caller commits."""
import csv
import io
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..errors import DomainError
from ..extensions import db
from ..labels import TIER_LABELS
from ..users.models import User
from .models import OrgUnit, Tier

CODE_RE = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
NAME_MAX = 64
REQUIRED_COLUMNS = ("code", "name", "tier", "parent_code")
# The division files' "level" column (jiangsu_divisions.csv: province, city, district, town)
# is read as the tier: a district is a station (its mediation committee), a town a platform.
LEVEL_TIERS = {"province": "province", "city": "city", "district": "station", "town": "platform",
               "village": "village"}


class NetworkImportError(DomainError):
    """The file was rejected; ``errors`` are line-numbered messages. Nothing was written."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    codes: list[str] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    code: str
    name: str
    tier: Tier
    parent_code: str


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise NetworkImportError(
            [_("line %(line)d: the file is not UTF-8 text; save it as UTF-8 and try again", line=line)]
        ) from None


def parse_network_csv(data: bytes) -> list[_Row]:
    """Read and check a network file (columns code,name,tier,parent_code).

    :raise NetworkImportError: with every problem found, each naming its line.
    """
    text = _decode(data)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    by_level = "tier" not in header and "level" in header
    if by_level:
        header = ["tier" if h == "level" else h for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise NetworkImportError(
            [_("line 1: missing columns: %(cols)s", cols=", ".join(missing))]
        )
    reader.fieldnames = header
    errors: list[str] = []
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    tiers = {t.value: t for t in Tier}
    for raw in reader:
        line = reader.line_num
        if None in raw or any(v is None for v in raw.values()):
            errors.append(_("line %(line)d: wrong number of columns", line=line))
            continue
        code = raw["code"].strip()
        name = raw["name"].strip()
        tier_text = raw["tier"].strip()
        if by_level:
            tier_text = LEVEL_TIERS.get(tier_text, tier_text)
        parent_code = raw["parent_code"].strip()
        if not code and not name and not tier_text and not parent_code:
            continue  # blank line
        if not CODE_RE.match(code):
            errors.append(_("line %(line)d: invalid code “%(code)s”", line=line, code=code))
            continue
        if not name:
            errors.append(_("line %(line)d: the name is empty", line=line))
        elif len(name) > NAME_MAX:
            errors.append(
                _("line %(line)d: the name is longer than %(max)d characters", line=line, max=NAME_MAX)
            )
        if tier_text not in tiers:
            errors.append(
                _("line %(line)d: unknown tier “%(tier)s” (province, city, station, platform or village)",
                  line=line, tier=tier_text)
            )
            continue
        if code in seen:
            errors.append(
                _("line %(line)d: duplicate code %(code)s (first on line %(first)d)",
                  line=line, code=code, first=seen[code])
            )
            continue
        seen[code] = line
        rows.append(_Row(line, code, name, tiers[tier_text], parent_code))
    if not rows and not errors:
        errors.append(_("line 1: the file has no units"))
    if errors:
        raise NetworkImportError(errors)
    return rows


def import_network(data: bytes) -> ImportResult:
    """Upsert a network file by code: all of it, or nothing.

    :raise NetworkImportError: on any bad line (unknown parent, cycle, wrong tier
        order, duplicate code, bad encoding); the session is left unchanged.
    """
    rows = parse_network_csv(data)
    existing = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    in_file = {r.code: r for r in rows}

    def tier_of(code: str) -> Tier | None:
        if code in in_file:
            return in_file[code].tier
        return existing[code].tier if code in existing else None

    def parent_of(code: str) -> str:
        if code in in_file:
            return in_file[code].parent_code
        unit = existing.get(code)
        return unit.parent.code if unit is not None and unit.parent is not None else ""

    errors: list[str] = []
    for r in rows:
        old = existing.get(r.code)
        if old is not None and old.tier is not r.tier:
            errors.append(
                _("line %(line)d: %(code)s is already a %(old)s and cannot become a %(new)s",
                  line=r.line, code=r.code, old=TIER_LABELS[old.tier], new=TIER_LABELS[r.tier])
            )
            continue
        if r.tier is Tier.PROVINCE:
            if r.parent_code:
                errors.append(_("line %(line)d: a province has no parent", line=r.line))
            continue
        if not r.parent_code and r.tier in (Tier.STATION, Tier.CITY):
            continue  # a district (or a city) on its own
        if not r.parent_code:
            errors.append(_("line %(line)d: %(code)s needs a parent", line=r.line, code=r.code))
            continue
        parent_tier = tier_of(r.parent_code)
        if parent_tier is None:
            errors.append(
                _("line %(line)d: unknown parent %(parent)s", line=r.line, parent=r.parent_code)
            )
            continue
        # A cycle would revisit a code before reaching a root.
        chain, node = {r.code}, r.parent_code
        while node:
            if node in chain:
                errors.append(
                    _("line %(line)d: %(code)s is its own ancestor (a cycle)", line=r.line, code=r.code)
                )
                break
            chain.add(node)
            node = parent_of(node)
        else:
            if parent_tier.child is not r.tier:
                errors.append(
                    _("line %(line)d: a %(tier)s cannot be placed under a %(ptier)s",
                      line=r.line, tier=TIER_LABELS[r.tier], ptier=TIER_LABELS[parent_tier])
                )
    if errors:
        raise NetworkImportError(errors)

    result = ImportResult()
    for r in rows:  # rows are in file order; parents may come later, so link after
        unit = existing.get(r.code)
        if unit is None:
            unit = OrgUnit(code=r.code, name=r.name, tier=r.tier, path="")
            db.session.add(unit)
            existing[r.code] = unit
            result.created += 1
        elif unit.name != r.name or parent_of_unit(unit) != r.parent_code:
            unit.name = r.name
            result.updated += 1
        else:
            result.unchanged += 1
        result.codes.append(r.code)
    for r in rows:
        unit = existing[r.code]
        unit.parent = existing[r.parent_code] if r.parent_code else None
    db.session.flush()
    rebuild_paths()
    return result


def parent_of_unit(unit: OrgUnit) -> str:
    return unit.parent.code if unit.parent is not None else ""


def rebuild_paths() -> None:
    """Recompute every materialised path from the parent links (a few thousand rows at most)."""
    units = list(db.session.scalars(select(OrgUnit)))
    by_parent: dict[int | None, list[OrgUnit]] = {}
    for u in units:
        by_parent.setdefault(u.parent_id, []).append(u)
    stack = [(u, "/") for u in by_parent.get(None, [])]
    while stack:
        unit, prefix = stack.pop()
        path = f"{prefix}{unit.id}/"
        if unit.path != path:
            unit.path = path
        stack.extend((c, path) for c in by_parent.get(unit.id, []))
    db.session.flush()


# --- editing by station admins ------------------------------------------------

def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Please enter a name."), field="name")
    if len(name) > NAME_MAX:
        raise DomainError(_("The name may have at most %(max)d characters.", max=NAME_MAX), field="name")
    return name


# Division codes (GB/T 2260 and the NBS statistical codes): 6 digits for a district,
# 9 for a town or street, 12 for a village or community.
DIVISION_CODE_LENGTH = {Tier.PROVINCE: 2, Tier.CITY: 4, Tier.STATION: 6, Tier.PLATFORM: 9, Tier.VILLAGE: 12}


def check_unit_code(code: str, tier: Tier, parent: OrgUnit | None) -> str:
    """:raise DomainError: a malformed code, or one of the wrong length in a network
    that uses division codes (its parent's code is all digits)."""
    code = (code or "").strip()
    if not CODE_RE.match(code):
        raise DomainError(_("The code may contain only digits and letters (at most 32)."), field="code")
    if parent is not None and parent.code.isdigit():
        want = DIVISION_CODE_LENGTH[tier]
        if not code.isdigit() or len(code) != want:
            raise DomainError(_("A %(tier)s has a %(n)d-digit division code.", tier=TIER_LABELS[tier], n=want),
                              field="code")
        if not code.startswith(station_code(parent)):
            raise DomainError(_("The code must begin with the district code %(code)s.", code=station_code(parent)),
                              field="code")
    if db.session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)) is not None:
        raise DomainError(_("The code %(code)s is already in use.", code=code), field="code")
    return code


def station_code(unit: OrgUnit) -> str:
    """The code of the unit's district station (of the unit itself above the districts)."""
    station = unit.station
    return station.code if station is not None else unit.code


def tree_order(units: list[OrgUnit]) -> list[OrgUnit]:
    """Units in tree order (each parent followed by its children, by code), for
    pickers and lists; sorting the path text would put /1/10/ before /1/2/."""
    ids = {u.id for u in units}
    children: dict[int | None, list[OrgUnit]] = {}
    for u in units:
        children.setdefault(u.parent_id if u.parent_id in ids else None, []).append(u)
    out: list[OrgUnit] = []
    stack = sorted(children.get(None, []), key=lambda u: u.code, reverse=True)
    while stack:
        unit = stack.pop()
        out.append(unit)
        stack.extend(sorted(children.get(unit.id, []), key=lambda u: u.code, reverse=True))
    return out


def _check_sibling_name(parent: OrgUnit | None, name: str, unit: OrgUnit | None = None) -> None:
    """Two units of one name under one parent read the same in every picker (上阳村（薛埠镇） twice)."""
    if parent is None:
        return
    clash = select(OrgUnit.id).where(OrgUnit.parent_id == parent.id, OrgUnit.name == name, OrgUnit.active.is_(True))
    if unit is not None and unit.id is not None:
        clash = clash.where(OrgUnit.id != unit.id)
    if db.session.scalar(clash.limit(1)) is not None:
        raise DomainError(_("%(parent)s already has a unit named %(name)s.", parent=parent.name, name=name),
                          field="name")


def add_unit(parent: OrgUnit, code: str, name: str) -> OrgUnit:
    """Add a child one tier below ``parent``."""
    tier = parent.tier.child
    if tier is None:
        raise DomainError(_("A village cannot have units below it."))
    if not parent.active:
        raise DomainError(_("Units cannot be added under an inactive unit."))
    name = _check_name(name)
    _check_sibling_name(parent, name)
    code = check_unit_code(code, tier, parent)
    unit = OrgUnit(code=code, name=name, tier=tier, parent=parent, path="")
    db.session.add(unit)
    db.session.flush()
    unit.path = f"{parent.path}{unit.id}/"
    db.session.flush()
    return unit


def rename_unit(unit: OrgUnit, name: str) -> None:
    name = _check_name(name)
    _check_sibling_name(unit.parent, name, unit)
    unit.name = name
    db.session.flush()


def set_unit_active(unit: OrgUnit, active: bool, *, actor) -> None:
    """Deactivate a unit with no active children or users, or reactivate one under an active parent."""
    if active:
        if unit.parent is not None and not unit.parent.active:
            raise DomainError(_("Reactivate the parent unit first."))
    else:
        if unit.id == actor.unit_id:
            raise DomainError(_("You cannot deactivate your own unit."))
        if any(c.active for c in unit.children):
            raise DomainError(_("Deactivate or move the units below it first."))
        n_users = db.session.scalar(
            select(func.count(User.id)).where(User.unit_id == unit.id, User.active.is_(True))
        )
        if n_users:
            raise DomainError(
                _("%(n)d active users belong to this unit; deactivate or move them first.", n=n_users)
            )
    unit.active = active
    db.session.flush()


def move_village(unit: OrgUnit, new_parent: OrgUnit) -> None:
    """Put a village under another platform."""
    if unit.tier is not Tier.VILLAGE:
        raise DomainError(_("Only a village can be moved to another platform."))
    if new_parent.tier is not Tier.PLATFORM:
        raise DomainError(_("Choose a platform."), field="parent")
    if not new_parent.active:
        raise DomainError(_("The chosen platform is inactive."), field="parent")
    if new_parent.station is not unit.station:
        raise DomainError(_("A village stays in its district: choose a platform of the same district."),
                          field="parent")
    try:
        _check_sibling_name(new_parent, unit.name, unit)
    except DomainError as exc:
        raise DomainError(exc.message, field="parent") from None
    unit.parent = new_parent
    unit.path = f"{new_parent.path}{unit.id}/"
    db.session.flush()


def load_ancestors(unit: OrgUnit) -> list[OrgUnit]:
    """A unit's ancestors, read in one query from its path, so that walking ``parent`` up
    (breadcrumbs, labels, permissions) finds them in the session instead of one query each.
    Keep the list while the page renders: the session holds its objects only weakly."""
    ids = unit.path_ids
    if len(ids) <= 2:  # a parent alone costs no more one at a time
        return []
    return list(db.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids[:-1]))))


def user_counts(unit_ids) -> dict[int, int]:
    """Active users per unit, in one query."""
    if not unit_ids:
        return {}
    rows = db.session.execute(
        select(User.unit_id, func.count(User.id))
        .where(User.unit_id.in_(unit_ids), User.active.is_(True))
        .group_by(User.unit_id)
    )
    return dict(rows.all())
