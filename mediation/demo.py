"""The demo network and accounts (password ``jintan-demo``); never in production."""
from importlib.resources import files

from sqlalchemy import func, select

from .cases.categories import seed_categories
from .demo_scenarios import load_scenarios
from .extensions import db
from .org.models import OrgUnit, Tier
from .org.services import import_network
from .users.models import Role, User, hash_password
from .users.services import create_user

DEMO_PASSWORD = "jintan-demo"
STATION_CODE = "320413"


def network_csv() -> bytes:
    """The real Jintan 1+9+X network shipped in the package."""
    return files("mediation").joinpath("data/jintan_network.csv").read_bytes()


def demo_accounts() -> list[tuple[str, str, str, set[Role]]]:
    """(username, display name, unit code, roles) for every demo account."""
    units = db.session.scalars(
        select(OrgUnit).where(OrgUnit.path.startswith(_station().path)).order_by(OrgUnit.code)
    ).all()
    out = [
        ("admin", "金坛区管理员", STATION_CODE, {Role.ADMIN}),
        ("stats", "统计查看", STATION_CODE, {Role.VIEWER}),
        # The district committee's own mediator takes the cases escalated to the station.
        (f"med-{STATION_CODE}", "区调委会调解员", STATION_CODE, {Role.MEDIATOR}),
    ]
    for u in units:
        if u.tier is Tier.PLATFORM:
            out.append((f"coord-{u.code}", f"{u.name}负责人", u.code, {Role.COORDINATOR}))
        elif u.tier is Tier.VILLAGE:
            out.append((f"med-{u.code}", f"{u.name}调解员", u.code, {Role.MEDIATOR}))
            out.append((f"grid-{u.code}", f"{u.name}网格员", u.code, {Role.GRID_WORKER}))
    return out


def _station() -> OrgUnit:
    return db.session.scalar(select(OrgUnit).where(OrgUnit.code == STATION_CODE))


def is_empty() -> bool:
    return not db.session.scalar(select(func.count(User.id)))


def load_demo(scenarios: bool = False) -> dict[str, int]:
    """Import the network and create the missing demo accounts; with ``scenarios``, also
    replay the 24 demo cases (``demo_scenarios``) unless they are there. Idempotent. Flushes."""
    result = import_network(network_csv())
    seed_categories()
    by_code = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    existing = set(db.session.scalars(select(User.username)))
    # One hash for all: the accounts share a public demo password, and hashing
    # 274 times with scrypt would take half a minute.
    shared_hash = hash_password(DEMO_PASSWORD)
    created = 0
    for username, name, code, roles in demo_accounts():
        if username in existing or not by_code[code].active:
            continue  # an admin may have deactivated a demo unit
        create_user(username=username, display_name=name, unit=by_code[code], roles=roles,
                    password="", password_hash=shared_hash)
        created += 1
    cases = 0
    if scenarios:
        db.session.flush()
        cases = load_scenarios()
    return {"units_created": result.created, "users_created": created, "cases_created": cases}
