"""The tier matrix: what each role at each tier sees. Expected answers are written
out by hand, not computed with the rule under test."""
import pytest
from sqlalchemy import select

from mediation import access
from mediation.extensions import db
from mediation.org.models import OrgUnit
from mediation.users.models import User

UNITS = ["320413", "320413109", "320413106", "320413109201", "320413109202", "320413106005", "320413401201"]
ACCOUNTS = ["admin", "coord-320413109", "med-320413109201", "med-320413109202", "med-320413106005"]

# /units/<code> for each viewer, in the order of UNITS.
UNIT_PAGES = {
    "admin":            [200, 200, 200, 200, 200, 200, 200],
    "stats":            [200, 200, 200, 200, 200, 200, 200],
    "coord-320413109":  [404, 200, 404, 200, 200, 404, 200],
    "coord-320413106":  [404, 404, 200, 404, 404, 200, 404],
    "med-320413109201": [404, 404, 404, 200, 404, 404, 404],
    "med-320413109202": [404, 404, 404, 404, 200, 404, 404],
    "grid-320413109201": [403, 403, 403, 403, 403, 403, 403],
}
# /users/<id> for each viewer, in the order of ACCOUNTS.
USER_PAGES = {
    "admin":            [200, 200, 200, 200, 200],
    "stats":            [403, 403, 403, 403, 403],
    "coord-320413109":  [404, 200, 200, 200, 404],
    "coord-320413106":  [404, 404, 404, 404, 200],
    "med-320413109201": [403, 403, 403, 403, 403],
    "grid-320413109201": [403, 403, 403, 403, 403],
}
# Admin pages: only the station admin.
ADMIN_GETS = ["/users/new"]


@pytest.mark.parametrize("viewer", sorted(UNIT_PAGES))
def test_unit_pages_by_tier(demo, login, viewer):
    c = login(viewer)
    got = [c.get(f"/units/{code}").status_code for code in UNITS]
    assert got == UNIT_PAGES[viewer]


@pytest.mark.parametrize("viewer", sorted(USER_PAGES))
def test_user_pages_by_tier(demo, login, viewer):
    ids = {u.username: u.id for u in db.session.scalars(select(User).where(User.username.in_(ACCOUNTS)))}
    c = login(viewer)
    got = [c.get(f"/users/{ids[name]}").status_code for name in ACCOUNTS]
    assert got == USER_PAGES[viewer]


@pytest.mark.parametrize("viewer, status", [
    ("admin", 200), ("stats", 403), ("coord-320413109", 403), ("med-320413109201", 403),
    ("grid-320413109201", 403),
])
def test_admin_pages(demo, login, viewer, status):
    c = login(viewer)
    for path in ADMIN_GETS:
        assert c.get(path).status_code == status
    # A POST to an admin action is refused just the same and changes nothing.
    code = c.post("/units/320413109201/rename", data={"rename-name": "改名村"}).status_code
    assert code == (302 if status == 200 else 403)


def test_scoped_queries_match_the_tree(demo):
    """The helper every later query uses: the subtree and nothing else."""
    def user(name):
        return db.session.scalar(select(User).where(User.username == name))

    codes = lambda u: set(db.session.scalars(access.units_query(u).with_only_columns(OrgUnit.code)))  # noqa: E731
    assert len(codes(user("admin"))) == 141
    xuebu = codes(user("coord-320413109"))
    assert len(xuebu) == 25 and "320413109" in xuebu and "320413401201" in xuebu and "320413106" not in xuebu
    assert codes(user("med-320413109201")) == {"320413109201"}
    assert len(db.session.scalars(access.users_query(user("coord-320413109"))).all()) == 1 + 24 * 2


def test_a_path_prefix_is_not_a_subtree(app):
    """Unit /1/2/ must not see /1/23/: paths end with a slash."""
    from mediation.org.services import import_network

    import_network(b"code,name,tier,parent_code\nS,S,station,\nP2,P2,platform,S\n"
                   + b"".join(f"P{i},P{i},platform,S\n".encode() for i in range(3, 30)))
    db.session.commit()
    units = {u.code: u for u in db.session.scalars(select(OrgUnit))}
    p2 = units["P2"]
    look_alike = [u for u in units.values() if u.path.startswith(p2.path.rstrip("/")) and u is not p2]
    assert look_alike, "the test needs a unit whose path extends P2's digits"
    fake = User(username="x", display_name="x", unit=p2, password_hash="x")
    assert set(db.session.scalars(access.units_query(fake).with_only_columns(OrgUnit.code))) == {"P2"}


# --- cases on the move: (case page, edit page) per viewer, written out by hand ---------------
CASE_VIEWERS = ["admin", "stats", "med-320413", "coord-320413109", "coord-320413106", "med-320413109201",
                "med-320413109202", "grid-320413109201"]
H, P, T, S = "held by 上阳村", "pending at 薛埠镇", "at 薛埠镇", "at the station"
CASE_MATRIX = {
    # stage:            admin       stats       med-station  coord-109   coord-106   med-201     med-202     grid
    H:                [(200, 200), (403, 403), (200, 403), (200, 200), (404, 404), (200, 200), (404, 404), (403, 403)],
    P:                [(200, 403), (403, 403), (200, 403), (200, 403), (404, 404), (200, 403), (404, 404), (403, 403)],
    T:                [(200, 200), (403, 403), (200, 403), (200, 200), (404, 404), (200, 403), (404, 404), (403, 403)],
    S:                [(200, 200), (403, 403), (200, 200), (200, 403), (404, 404), (200, 403), (404, 404), (403, 403)],
    "returned":       [(200, 200), (403, 403), (200, 403), (200, 200), (404, 404), (200, 200), (404, 404), (403, 403)],
    "handed down":    [(200, 403), (403, 403), (200, 403), (200, 403), (404, 404), (200, 403), (404, 404), (403, 403)],
    "taken down":     [(200, 200), (403, 403), (200, 403), (200, 200), (404, 404), (200, 200), (404, 404), (403, 403)],
}


def _stage(name):
    from mediation.cases import workflow
    from mediation.transfers.models import EscalationReason, Urgency

    from .factories import advance, make_case, unit, user

    def move(case, step, by, **data):
        workflow.transition(case, step, by=user(by), **data)
        db.session.commit()

    def up(case, by, to):
        move(case, "escalate", by, to_unit=unit(to), reason_code=EscalationReason.UNSETTLED, urgency=Urgency.NORMAL)

    if name in ("handed down", "taken down"):
        case = make_case(by="coord-320413109")
        advance(case, "accept", "assign", "start", lead_mediator=user("coord-320413109"))
        move(case, "hand_down", "coord-320413109", to_unit=unit("320413109201"),
             reason_code=EscalationReason.LOCAL_FOLLOW_UP, urgency=Urgency.NORMAL)
        if name == "taken down":
            move(case, "receive", "med-320413109201", lead_mediator=user("med-320413109201"))
        return case
    case = advance(make_case(), "accept", "assign", "start")
    if name == H:
        return case
    up(case, "med-320413109201", "320413109")
    if name == "returned":
        move(case, "return", "coord-320413109", reason="请村里继续调解")
    elif name in (T, S):
        move(case, "receive", "coord-320413109", lead_mediator=user("coord-320413109"))
        if name == S:
            up(case, "coord-320413109", "320413")
            move(case, "receive", "admin", lead_mediator=user("med-320413"))
    return case


@pytest.mark.parametrize("stage", list(CASE_MATRIX))
def test_cases_on_the_move_by_tier(demo, login, stage):
    case = _stage(stage)
    got = []
    for viewer in CASE_VIEWERS:
        c = login(viewer)
        got.append((c.get(f"/cases/{case.id}").status_code, c.get(f"/cases/{case.id}/edit").status_code))
    assert dict(zip(CASE_VIEWERS, got, strict=True)) == dict(zip(CASE_VIEWERS, CASE_MATRIX[stage], strict=True))
