"""The ID-number keys against the database.

At start-up (``init_app``, from ``create_app``) the keys are looked for (``crypto.configured_keys``)
and compared with the database:

* a key file of the instance folder that is missing is made anew only when the database holds
  nothing it would have to open (no key check value, no encrypted number); otherwise the app
  refuses to start and says which file to restore;
* the configured keys must open the database's key check value (``KeyCheck``: a fixed label
  encrypted with the first encryption key, and its HMAC with the hash key); otherwise the app
  refuses to start and says which key is wrong;
* a database without a check value gets one once a sample of its numbers opens with the keys.

"Refuses to start" is ``KeyProblem`` (a ``RuntimeError``, and a ``click.ClickException``
for the command line) raised by ``create_app``: gunicorn's workers do not boot and
``flask run``, ``flask users ...`` and the like stop with the message, while ``flask keys``,
``flask backup`` and ``flask db`` still run (they are how the state is checked, repaired,
saved or migrated). When the database cannot be read at start-up the comparison waits for the
first request, which is refused (503) while the keys do not match.
"""
from dataclasses import dataclass, field
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError

from .. import crypto
from ..cases.services import SEAL
from ..extensions import db
from ..timeutil import utcnow
from . import models  # noqa: F401  (the key_check table)

KEY_COMMANDS = frozenset({"keys", "backup", "db"})  # flask commands that run whatever state the keys are in
PROBLEM = "mediation_key_problem"  # app.extensions: the problem found at start-up ("" when none)
PENDING = "mediation_key_check_pending"  # app.extensions: True while the comparison waits for the database

# Raw views of the tables (no decrypting types), valid whatever the models become.
check_table = sa.table("key_check", sa.column("id", sa.Integer), sa.column("encryption_check", sa.Text),
                       sa.column("hash_check", sa.String), sa.column("updated_at", sa.DateTime))
party_table = sa.table("party", sa.column("id", sa.Integer), sa.column("id_number_enc", sa.Text),
                       sa.column("id_hash", sa.String))
_draft = sa.table("case_draft", sa.column("id", sa.Integer), sa.column("data", sa.JSON))


class KeyProblem(RuntimeError, click.ClickException):
    """The keys do not fit the database; the message says what to do."""

    def __init__(self, message: str):
        RuntimeError.__init__(self, message)
        click.ClickException.__init__(self, message)

    def __str__(self) -> str:
        return self.message


@dataclass
class DbState:
    """What the database says about the keys it was written with."""

    tables: set[str] = field(default_factory=set)
    check: tuple[str, str] | None = None  # (encryption_check, hash_check)
    sample: list[tuple[int, str, str]] = field(default_factory=list)  # (party id, token, hash)
    sealed_drafts: bool = False  # intake drafts hold fields encrypted with the keys

    @property
    def holds_data(self) -> bool:
        """Something in the database needs the keys it was written with."""
        return bool(self.sample) or self.sealed_drafts


@dataclass
class Verdict:
    problems: list[str] = field(default_factory=list)
    cipher: crypto.IdCipher | None = None
    state: DbState | None = None
    stale_check: bool = False  # no check value, or one of other keys while no data needs them: (re)write it
    stored_check: bool = False  # the check value was written now

    @property
    def problem(self) -> str:
        return "\n".join(self.problems)


def read_state(conn: sa.Connection) -> DbState:
    inspector = sa.inspect(conn)
    state = DbState(tables=set(inspector.get_table_names()))
    if "key_check" in state.tables:
        row = conn.execute(sa.select(check_table.c.encryption_check, check_table.c.hash_check)
                           .where(check_table.c.id == 1)).first()
        state.check = tuple(row) if row is not None else None
    if "party" in state.tables and "id_number_enc" in {c["name"] for c in inspector.get_columns("party")}:
        base = sa.select(party_table.c.id, party_table.c.id_number_enc, party_table.c.id_hash).where(
            party_table.c.id_number_enc != "")
        for order in (party_table.c.id, party_table.c.id.desc()):
            row = conn.execute(base.order_by(order).limit(1)).first()
            if row is not None and tuple(row) not in state.sample:
                state.sample.append(tuple(row))
    if "case_draft" in state.tables:
        state.sealed_drafts = conn.execute(sa.select(_draft.c.id).where(
            sa.cast(_draft.c.data, sa.Text).like(f"%{SEAL}%")).limit(1)).first() is not None
    return state


def source_of(app, kind: str) -> str:
    """Where the key of ``kind`` ("encryption" or "hash") comes from, for messages."""
    path = crypto.key_files(app)[kind]
    if path is not None:
        return str(path)
    return "ID_ENCRYPTION_KEYS" if kind == "encryption" else "ID_HASH_KEY"


def missing_message(path: Path) -> str:
    if path.name == crypto.ID_KEY_FILE:
        return (f"{path} is missing, but the database holds ID numbers encrypted with the key it held. "
                "Restore the file from the backup (see README, Keys); no new key was made, as it would not "
                "open them.")
    return (f"{path} is missing, but the database holds ID numbers hashed with the key it held. Restore the "
            "file from the backup (see README, Keys); if it is lost for good, "
            "`flask --app mediation keys rotate --new-hash-key` makes a new one and hashes every number again.")


def compare(app, cipher: crypto.IdCipher, state: DbState) -> list[str]:
    """What is wrong between these keys and the database's check value (or, without one,
    a sample of its numbers)."""
    problems = []
    enc_source, hash_source = source_of(app, "encryption"), source_of(app, "hash")
    if state.check is not None:
        token, digest = state.check
        if not cipher.opens_check(token):
            problems.append(
                f"The ID encryption key in {enc_source} does not open the database's key check value: it is "
                "not the key the database's ID numbers were encrypted with. Restore the right key from the "
                "backup (see README, Keys).")
        if digest != cipher.hash_check():
            problems.append(
                f"The ID hash key in {hash_source} is not the one the database's ID numbers were hashed with, "
                "so matching them would find nothing. Restore the right key from the backup, or hash every "
                "number again with `flask --app mediation keys rotate` (see README, Keys).")
        return problems
    for _party_id, token, digest in state.sample:
        try:
            number = cipher.decrypt(token)
        except crypto.IdKeyError:
            problems.append(
                f"The ID encryption key in {enc_source} does not open the ID numbers stored in the database. "
                "Restore the right key from the backup (see README, Keys).")
            break
        # Hashes are comparable only once the numbers are folded (the key_check migration).
        if "key_check" in state.tables and digest != cipher.hash(number):
            problems.append(
                f"The ID hash key in {hash_source} is not the one the database's ID numbers were hashed with. "
                "Restore the right key from the backup, or hash every number again with "
                "`flask --app mediation keys rotate` (see README, Keys).")
            break
    return problems


def store_check(conn: sa.Connection, cipher: crypto.IdCipher) -> None:
    """Write (or replace) the key check value for ``cipher``'s keys."""
    values = {"encryption_check": cipher.check_token(), "hash_check": cipher.hash_check(), "updated_at": utcnow()}
    if conn.execute(sa.update(check_table).where(check_table.c.id == 1).values(**values)).rowcount == 0:
        conn.execute(sa.insert(check_table).values(id=1, **values))


def _store_first_check(conn: sa.Connection, cipher: crypto.IdCipher) -> None:
    """The first check value; several workers starting at once write it once."""
    values = {"id": 1, "encryption_check": cipher.check_token(), "hash_check": cipher.hash_check(),
              "updated_at": utcnow()}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    conn.execute(insert(check_table).values(**values).on_conflict_do_nothing())


def examine(app, *, create: bool = False, store: bool = True) -> Verdict:
    """Find the keys and compare them with the database. ``create``: make missing key files
    when the database holds nothing encrypted; ``store``: write the first check value when
    it is missing and the keys open the stored numbers. Sets the app's cipher when the keys
    can be built. Raises ``DBAPIError`` when the database cannot be read."""
    with app.app_context():
        with db.engine.connect() as conn:
            state = read_state(conn)
    verdict = Verdict(state=state)
    try:
        enc, hkey = crypto.configured_keys(app, create=create and not state.holds_data)
        verdict.cipher = crypto.IdCipher(enc, hkey)
    except crypto.MissingKeyFile as exc:
        paths = [p for p in crypto.key_files(app).values() if p is not None and not p.exists()] or [exc.path]
        for path in paths:
            verdict.problems.append(missing_message(path) if state.holds_data else (
                f"{path} is missing: it is made at the next start, as the database holds no ID number yet."))
        return verdict
    except crypto.IdKeyError as exc:
        verdict.problems.append(str(exc))
        return verdict
    crypto.install(app, verdict.cipher)
    verdict.problems = compare(app, verdict.cipher, state)
    first = state.check is None and not verdict.problems
    stale = state.check is not None and verdict.problems and not state.holds_data
    if "key_check" in state.tables and (first or stale):
        # No check value yet, or one of other keys while nothing encrypted needs them: it records these keys.
        verdict.problems, verdict.stale_check = [], True
        if store:
            with app.app_context():
                with db.engine.begin() as conn:
                    if state.check is None:
                        _store_first_check(conn, verdict.cipher)
                    else:
                        store_check(conn, verdict.cipher)
            verdict.stored_check = True
    return verdict


def _command_path(ctx: click.Context) -> list[str]:
    """The flask command being run, below the root group (["db", "upgrade"]); [] while the
    root group is still looking the command up."""
    names = []
    while ctx.parent is not None:
        names.append(ctx.info_name or "")
        ctx = ctx.parent
    return names[::-1]


def _allow_or_refuse(command: str, problem: str) -> None:
    if command not in KEY_COMMANDS:
        raise KeyProblem(problem)
    if command != "keys":  # `keys check` says it itself
        click.echo(f"Warning: {problem}", err=True)


def refuse(app, problem: str) -> None:
    """Stop the start-up with ``problem``, except for the key, backup and database commands."""
    app.extensions[PROBLEM] = problem
    ctx = click.get_current_context(silent=True)
    if ctx is None:  # gunicorn, a WSGI server, a script
        raise KeyProblem(problem)
    path = _command_path(ctx)
    if path:  # flask db ..., flask run, flask shell, flask routes...
        _allow_or_refuse(path[0], problem)
        return
    # The root ``flask`` group loads the app to look up one of its commands: decide there.
    group = app.cli
    lookup = group.get_command

    def get_command(ctx, name):
        command = lookup(ctx, name)
        if command is not None:
            _allow_or_refuse(name, problem)
        return command

    group.get_command = get_command


def _check_before_request():
    """The comparison the start-up could not make (the database was unreachable)."""
    app = current_app._get_current_object()
    if not app.extensions.get(PENDING):
        return None
    try:
        verdict = examine(app, create=True)
    except DBAPIError:
        return None  # still unreachable: the request finds out by itself (/healthz answers 503)
    if verdict.problems:
        app.extensions[PROBLEM] = verdict.problem
        app.logger.error("refusing requests: %s", verdict.problem)
        return _("The service is unavailable: the ID-number keys do not fit the database. "
                 "The operator finds the reason in the server log."), 503
    app.extensions[PENDING] = False
    return None


def init_app(app) -> None:
    app.extensions[PROBLEM] = ""
    app.extensions[PENDING] = False
    app.before_request(_check_before_request)
    try:
        verdict = examine(app, create=True)
    except DBAPIError as exc:
        app.logger.warning("the ID keys are compared with the database at the first request: %s", exc.orig)
        app.extensions[PENDING] = True
        try:
            crypto.init_app(app)  # existing key files; none is made without knowing the database
        except crypto.MissingKeyFile:
            pass
        except crypto.IdKeyError as exc:
            refuse(app, str(exc))
        return
    if verdict.problems:
        refuse(app, verdict.problem)
