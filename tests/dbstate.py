"""Prepared database states for the ``app`` and ``demo`` fixtures, so that a test starts on
the schema (and the demo network) without running ``create_all`` and ``load_demo`` again.

Each state is made once per session by the real code (``db.create_all()``, ``load_demo()``)
and then put back before each test:

* SQLite: the prepared file is copied to the test's own file (``tmp_path/test.sqlite``).
* PostgreSQL: the session's app database keeps its schema; before each test every table is
  truncated and the rows of the prepared state (taken with ``COPY``) and its sequence values
  are put back, in one transaction. A schema a test changed is noticed (a fingerprint of the
  catalogue) and rebuilt.

Either way the test's database holds exactly what ``create_all`` (+ ``load_demo``) left
on a fresh database, as before."""
import shutil
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from mediation.extensions import db

SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

# A fingerprint of everything the schema is made of in ``public``: relations, columns,
# constraints, triggers, functions. One query, a few milliseconds.
FINGERPRINT = """
SELECT md5(coalesce((SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
    SELECT c.relname || ':' || c.relkind::text || ':' || coalesce((
        SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull::text
                          || ' ' || a.attgenerated::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
                          ';' ORDER BY a.attnum)
        FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '') AS x
    FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'con:' || conname || ':' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'idx:' || pg_get_indexdef(indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'trg:' || tgname || ':' || tgrelid::regclass::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
    WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
    UNION ALL
    SELECT 'fn:' || p.oid::regprocedure::text FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'type:' || t.typname FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace AND t.typrelid = 0
) s), ''))
"""
TABLES = ("SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace "
          "AND c.relkind IN ('r', 'p') ORDER BY c.relname")
SEQUENCES = "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'"
ANYTHING = ("SELECT EXISTS (SELECT 1 FROM pg_class WHERE relnamespace = 'public'::regnamespace) "
            "OR EXISTS (SELECT 1 FROM pg_type WHERE typnamespace = 'public'::regnamespace) "
            "OR EXISTS (SELECT 1 FROM pg_proc WHERE pronamespace = 'public'::regnamespace)")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def libpq_url(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def wipe_public_schema(conn: psycopg.Connection) -> None:
    """Leave ``public`` empty (as in a new database), whatever a test left there."""
    conn.execute("DROP SCHEMA public CASCADE")
    conn.execute("CREATE SCHEMA public")
    conn.execute("ALTER SCHEMA public OWNER TO pg_database_owner")
    conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")


def ensure_empty_postgres(url: str) -> None:
    """A PostgreSQL database with nothing in ``public`` (a test before may have left a table)."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        if conn.execute(ANYTHING).fetchone()[0]:
            wipe_public_schema(conn)


class Snapshot:
    """The rows of every table (COPY text) and every sequence's position."""

    def __init__(self, conn: psycopg.Connection):
        self.tables = [r[0] for r in conn.execute(TABLES)]
        self.rows: dict[str, bytes] = {}
        for table in self.tables:
            data = bytearray()
            with conn.cursor().copy(f"COPY {_q(table)} TO STDOUT") as copy:
                for chunk in copy:
                    data += chunk
            if data:
                self.rows[table] = bytes(data)
        self.sequences = {}
        for (name,) in conn.execute(SEQUENCES).fetchall():
            self.sequences[name] = conn.execute(f"SELECT last_value, is_called FROM {_q(name)}").fetchone()
        conn.rollback()

    def restore(self, conn: psycopg.Connection) -> None:
        """Truncate every table and put the rows and sequences back, in one transaction."""
        with conn.transaction():
            conn.execute(f"TRUNCATE {', '.join(_q(t) for t in self.tables)} RESTART IDENTITY")
            # The rows were consistent when taken; the foreign keys need not be checked row by row.
            conn.execute("SET LOCAL session_replication_role = replica")
            for table, data in self.rows.items():
                with conn.cursor().copy(f"COPY {_q(table)} FROM STDIN") as copy:
                    copy.write(data)
            if self.sequences:
                calls = ", ".join(f"setval('{_q(n)}', {v}, {'true' if c else 'false'})"
                                  for n, (v, c) in self.sequences.items())
                conn.execute(f"SELECT {calls}")


class PostgresStates:
    """The session's app database on PostgreSQL with its prepared states ("schema", "demo")."""

    def __init__(self, url: str, make_app):
        self.url = url
        self.make_app = make_app
        self.conn: psycopg.Connection | None = None
        self.states: dict[str, Snapshot] = {}
        self.fingerprint = ""
        self._prepare()

    def _connection(self) -> psycopg.Connection:
        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = psycopg.connect(libpq_url(self.url), options="-c lock_timeout=30s")
        return self.conn

    def _build_schema(self) -> None:
        app = self.make_app(self.url)
        with app.app_context():
            db.create_all()
            db.session.remove()
            db.engine.dispose()

    def _prepare(self) -> None:
        """The states as the real code makes them: create_all, then load_demo."""
        from mediation.demo import load_demo

        app = self.make_app(self.url)  # on the empty database, as the ``app`` fixture starts
        with app.app_context():
            db.create_all()
            db.session.remove()
            conn = self._connection()
            self.fingerprint = conn.execute(FINGERPRINT).fetchone()[0]
            self.states["schema"] = Snapshot(conn)
            load_demo()
            db.session.commit()
            db.session.remove()
            self.states["demo"] = Snapshot(conn)
            db.engine.dispose()

    def reset(self, state: str) -> None:
        """The database as ``state`` left it; the schema rebuilt first if a test changed it."""
        conn = self._connection()
        if conn.execute(FINGERPRINT).fetchone()[0] != self.fingerprint:
            conn.rollback()
            conn.close()
            with psycopg.connect(libpq_url(self.url), autocommit=True) as admin:
                wipe_public_schema(admin)
            self._build_schema()
            conn = self._connection()
            assert conn.execute(FINGERPRINT).fetchone()[0] == self.fingerprint, "the rebuilt schema differs"
        conn.rollback()
        try:
            self.states[state].restore(conn)
        except psycopg.errors.LockNotAvailable:
            # A connection a finished test left in a transaction holds a table: as dropping
            # the database at the end of an old-style test would, end it, then try again.
            conn.rollback()
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            conn.commit()
            self.states[state].restore(conn)

    def forget_key_check(self) -> None:
        """The app's start wrote the first key check value into the empty ``key_check`` table;
        on a fresh database the start comes before ``create_all`` and writes none."""
        conn = self._connection()
        with conn.transaction():
            conn.execute("DELETE FROM key_check")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class SqliteStates:
    """Prepared SQLite files, one per state, copied to a test's own file."""

    def __init__(self, folder: Path, make_app):
        from mediation.demo import load_demo

        self.files = {"schema": folder / "schema.sqlite", "demo": folder / "demo.sqlite"}
        for state, path in self.files.items():
            app = make_app(f"sqlite:///{path}")
            with app.app_context():
                db.create_all()
                if state == "demo":
                    load_demo()
                    db.session.commit()
                db.session.remove()
                with db.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                db.engine.dispose()
            for suffix in SQLITE_SIDE_FILES:
                Path(f"{path}{suffix}").unlink(missing_ok=True)

    def put(self, state: str, path: Path) -> None:
        """``path`` becomes a copy of the prepared file (its WAL and journal removed)."""
        for suffix in SQLITE_SIDE_FILES:
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.files[state], path)
