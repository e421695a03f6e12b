"""The navigation for each role (UI.md), computed from the access rules."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import access

# (endpoint, label, action needed). Later features add their entries here.
NAV_ITEMS = (
    ("main.home", _l("Home"), "home.view"),
    ("org.index", _l("Network"), "unit.view"),
    ("users.index", _l("People"), "user.view"),
)


def nav_items() -> list[tuple[str, str]]:
    actions = access.actions_of(current_user)
    return [(endpoint, label) for endpoint, label, action in NAV_ITEMS if action in actions]


def init_app(app) -> None:
    @app.context_processor
    def _inject():
        return {"nav_items": nav_items}
