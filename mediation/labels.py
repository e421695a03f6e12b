"""Display names for enum members, in the user's language (GLOSSARY.md)."""
from flask_babel import lazy_gettext as _l

from .org.models import Tier
from .users.models import Role

TIER_LABELS = {
    Tier.STATION: _l("station"),
    Tier.PLATFORM: _l("platform"),
    Tier.VILLAGE: _l("village/community"),
}

ROLE_LABELS = {
    Role.MEDIATOR: _l("mediator"),
    Role.COORDINATOR: _l("coordinator"),
    Role.GRID_WORKER: _l("grid worker"),
    Role.ADMIN: _l("administrator"),
    Role.VIEWER: _l("statistics viewer"),
}


def init_app(app) -> None:
    app.jinja_env.filters["tier_label"] = lambda t: TIER_LABELS.get(t, t)
    app.jinja_env.filters["role_label"] = lambda r: ROLE_LABELS.get(r, r)
