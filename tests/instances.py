"""Apps with an instance folder of their own (MEDIATION_INSTANCE_PATH), migrated databases,
and the real ``flask`` command line run in this process."""
import os
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import cli as flask_cli
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from mediation import ROOT
from mediation.extensions import db

from .conftest import make_app

MIGRATIONS = str(ROOT / "migrations")


@contextmanager
def instance_env(folder: Path):
    """MEDIATION_INSTANCE_PATH=folder within the block."""
    before = os.environ.get("MEDIATION_INSTANCE_PATH")
    os.environ["MEDIATION_INSTANCE_PATH"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MEDIATION_INSTANCE_PATH", None)
        else:
            os.environ["MEDIATION_INSTANCE_PATH"] = before


def instance_app(db_url: str, folder: Path, **extra):
    """``make_app`` with its instance folder (keys, uploads) in ``folder``."""
    with instance_env(folder):
        return make_app(db_url, **extra)


def migrate_and_load(app) -> None:
    """The schema by the migrations, then the demo network and accounts (in the app's context)."""
    from mediation.demo import load_demo

    upgrade(directory=MIGRATIONS)
    load_demo()
    db.session.commit()


def drop_everything(url: str) -> None:
    """Leave a PostgreSQL database empty for the next test (a SQLite file goes with tmp_path)."""
    if make_url(url).get_backend_name() != "postgresql":
        return
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for name in sa.inspect(conn).get_table_names():
            conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    engine.dispose()


def run_flask(args: list[str], *, folder: Path, db_url: str, **env):
    """``flask --app mediation <args>`` as an operator types it: create_app() with no test
    config, the instance folder, database and secret from the environment."""
    environ = {"MEDIATION_INSTANCE_PATH": str(folder), "MEDIATION_DATABASE_URL": db_url,
               "MEDIATION_SECRET_KEY": "test-secret", "MEDIATION_PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
               "FLASK_RUN_FROM_CLI": None, **env}
    return CliRunner().invoke(flask_cli, ["--app", "mediation", *args], env=environ, catch_exceptions=False)


@contextmanager
def second_postgres_database(pg_url: str):
    """A further empty PostgreSQL database beside the session's, dropped afterwards."""
    import uuid

    name = f"mediation_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
