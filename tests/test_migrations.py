"""Every table comes from a migration: upgrade from empty, then compare with the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from mediation import ROOT
from mediation.extensions import db
from mediation.search.index import include_name, include_object

from .conftest import make_app


def test_upgrade_from_empty_matches_the_models(db_url):
    app = make_app(db_url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as conn:
            # The search index (FTS5 table, tsvector column) is not in the models: see migrations/env.py.
            opts = {"compare_type": True, "include_name": include_name, "include_object": include_object}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)
        assert diff == []
        downgrade(directory=str(ROOT / "migrations"), revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()
