"""Full-text search in Chinese over cases, parties and diary entries (issue 7).

``search_cases`` (services.py) is the one search function; ``index.py`` keeps the
index; ``export.py`` writes the filtered case list to XLSX and CSV.
"""
from . import index  # noqa: F401  (the DDL events and the listeners)
from .services import search_cases  # noqa: F401


def init_app(app) -> None:
    from .views import bp, search_cli

    app.register_blueprint(bp)
    app.cli.add_command(search_cli)
