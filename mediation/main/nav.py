"""The navigation for each role (UI.md). Later features add their entries here."""
from flask import request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..access import actions_of, is_station_admin
from ..stats.services import is_village_staff
from ..users.models import Role

M, C, A, G, V = Role.MEDIATOR, Role.COORDINATOR, Role.ADMIN, Role.GRID_WORKER, Role.VIEWER

# (label, endpoint, url arguments, roles that see it, the action it needs), in menu order. The
# action is the page's own check (``access.require``): above the districts a coordinator or
# administrator has no case, lead or log, so neither has its menu.
NAV_ITEMS = (
    (_l("Home"), "main.home", {}, {M, C, A, G, V}, "home.view"),
    (_l("New case"), "cases.new", {}, {M}, "case.create"),
    (_l("My cases"), "cases.index", {"view": "mine"}, {M}, "case.view"),
    (_l("Cases"), "cases.index", {}, {C, A}, "case.view"),
    (_l("Search cases"), "search.index", {}, {M, C, A}, "case.view"),
    (_l("Report a lead"), "leads.new", {}, {G}, "lead.create"),
    (_l("Leads"), "leads.index", {}, {M, C, A}, "lead.view"),
    (_l("Diary book"), "diary_book.index", {}, {M, C, A}, "case.view"),
    (_l("My leads"), "leads.index", {}, {G}, "lead.create"),
    (_l("People"), "users.index", {}, {C, A}, "user.view"),
    (_l("Statistics"), "stats.index", {}, {C, A, V}, "stats.view"),
    (_l("Monthly confirmation"), "stats.confirm", {}, {M}, "stats.confirm"),  # 零报告: village staff (NAV_CHECKS)
    (_l("Network"), "org.index", {}, {C, A, V}, "unit.view"),
    (_l("Settings"), "cases.categories", {}, {A}, "category.manage"),
    (_l("Audit log"), "audit.index", {}, {A}, "audit.view"),
    (_l("Teaching cases"), "teaching.index", {}, {M, C, A, V}, "teaching.view"),  # 以案释法 (e家学)
)

# Entries shown only when a further check on the user passes.
NAV_CHECKS = {
    "audit.index": is_station_admin,
    "stats.confirm": is_village_staff,
}


def nav_items() -> list[tuple[str, str, str, bool]]:
    """(label, url, endpoint, current) for the current user; each endpoint once. The current
    entry is the page's own, else the list of the page's section (a unit's page is under
    Network, an account's under People, the monthly report under Statistics)."""
    roles, actions = current_user.roles, actions_of(current_user)
    seen, out = set(), []
    for label, endpoint, args, who, action in NAV_ITEMS:
        if roles & who and action in actions and endpoint not in seen and NAV_CHECKS.get(endpoint, bool)(current_user):
            seen.add(endpoint)
            out.append((label, url_for(endpoint, **args), endpoint))
    here = request.endpoint or ""
    current = here if here in seen else next(
        (e for e in seen if e.endswith(".index") and e.split(".")[0] == here.split(".")[0]), None)
    return [(label, url, endpoint, endpoint == current) for label, url, endpoint in out]


def init_app(app) -> None:
    @app.context_processor
    def _inject():
        return {"nav_items": nav_items}
