"""Flask extensions, created unbound here and bound in ``create_app``."""

import sqlite3
import sys
from functools import cached_property

import click
from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints let Alembic's batch mode drop and recreate them on SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


class LazyMigrate:
    """Flask-Migrate, with Alembic (about 10 MB with Mako) imported the first time it is
    used: by ``flask db``, a restore or the tests. A web worker never migrates. Each app
    gets, in ``app.extensions["migrate"]`` where Flask-Migrate and ``migrations/env.py``
    look, an object with the attributes of Flask-Migrate's own (``_AppMigrate``)."""

    def __init__(self, **configure_args):
        self.configure_args = configure_args

    def init_app(self, app, db, directory: str) -> None:
        app.extensions["migrate"] = _AppMigrate(db, str(directory), dict(self.configure_args))
        app.cli.add_command(_MigrateCommands("db", help="Perform database migrations."))


class _AppMigrate:
    """One app's migration settings, as Flask-Migrate's ``_MigrateConfig`` holds them
    (``db``, ``directory``, ``configure_args``, ``migrate``, ``metadata``)."""

    def __init__(self, db, directory: str, configure_args: dict):
        self.db, self.directory, self.configure_args = db, directory, configure_args

    @cached_property
    def migrate(self):
        """The real ``flask_migrate.Migrate`` (what its commands call ``get_config`` on)."""
        from flask_migrate import Migrate

        migrate = Migrate(db=self.db, directory=self.directory, **self.configure_args)

        @migrate.configure
        def _print_to_the_current_stdout(config):
            # Alembic's Config takes sys.stdout as it was when Alembic was imported, which
            # is now the first use: it may have been a redirected stream since closed.
            config.stdout = sys.stdout
            return config

        return migrate

    @property
    def metadata(self):
        return self.db.metadata


class _MigrateCommands(click.Group):
    """``flask db ...``: Flask-Migrate's command group, imported when it is run."""

    @staticmethod
    def _group() -> click.Group:
        from flask_migrate.cli import db as group

        return group

    def make_context(self, info_name, args, parent=None, **extra):
        # The context, and so the command run, are Flask-Migrate's own (its options too).
        return self._group().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx):
        return self._group().list_commands(ctx)

    def get_command(self, ctx, cmd_name):
        return self._group().get_command(ctx, cmd_name)


migrate = LazyMigrate(render_as_batch=True, compare_type=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers work beside one writer; the timeout makes writers queue, not fail."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.close()


def enum_column(cls, length: int = 24):
    """An enum stored as its value string (portable: no native enum types to migrate)."""
    return db.Enum(cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])
