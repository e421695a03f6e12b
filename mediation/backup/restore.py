"""Rebuilding an archive into an empty instance folder and an empty database.

"Empty": the instance folder holds nothing but what this very start made (fresh keys and
session key no data depends on), an empty uploads folder, an empty SQLite file (the target
itself) and, if the operator put it there, ``config.py`` (kept; the archive's is then
written beside it as ``config.py.restored``). The database has no table. Anything else
and the restore refuses, naming it, before writing anything.

SQLite archives are restored by putting the snapshot file in place; PostgreSQL archives by
building the schema with the migrations (up to the archive's revision), loading every row
in one transaction (foreign keys in dependency order; the columns of a cycle are set
afterwards) and moving the sequences past the highest id. Either is then migrated to this
version's head. A failed restore takes back what it wrote.
"""
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import Config

from .. import crypto
from ..extensions import db
from ..keys import data as key_data
from ..keys.services import examine, source_of
from . import INSTANCE_FILES
from .archive import SQLITE_FILE, BackupError, data_tables, decoder, extract, move_into, upload_folder

BATCH = 1000
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


@dataclass
class Report:
    manifest: dict
    rows: int = 0
    uploads: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _sqlite_target(engine: sa.Engine) -> Path | None:
    if engine.dialect.name != "sqlite":
        return None
    name = engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        raise BackupError("Restore needs a SQLite database file, not an in-memory one.")
    return Path(name).resolve()


def _tables(engine: sa.Engine) -> list[str]:
    with engine.connect() as conn:
        return sa.inspect(conn).get_table_names()


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []


def target_problems(app, engine: sa.Engine, archive: Path) -> list[str]:
    """Why the target is not empty (nothing when it is)."""
    problems = []
    tables = _tables(engine)
    if tables:
        shown = ", ".join(sorted(tables)[:6]) + ("…" if len(tables) > 6 else "")
        problems.append(f"The database already holds {len(tables)} table(s) ({shown}): restore into an empty one.")
    instance = Path(app.instance_path).resolve()
    uploads = upload_folder(app).resolve()
    sqlite_file = _sqlite_target(engine)
    allowed = {instance / ".gitkeep", instance / "config.py", archive.resolve()}
    if sqlite_file is not None and not tables:
        allowed |= {Path(f"{sqlite_file}{suffix}") for suffix in SQLITE_SUFFIXES}
    held = []
    for entry in sorted(instance.iterdir()) if instance.is_dir() else []:
        entry = entry.resolve()
        if entry == uploads or entry in allowed or entry in crypto.CREATED or entry.name.startswith(".restore-"):
            continue
        if entry.is_dir() and not _files_under(entry):
            continue
        held.append(entry.name)
    if held:
        problems.append(f"The instance folder {instance} already holds {', '.join(held)}: restore into an empty one.")
    if found := _files_under(uploads):
        problems.append(f"The uploads folder {uploads} already holds {len(found)} file(s): restore into an empty one.")
    return problems


def _known_revision(app, revision: str | None) -> None:
    if revision is None:
        raise BackupError("The archive's database has no Alembic revision (it was not made by `flask db upgrade`).")
    from alembic.script import ScriptDirectory  # Alembic only where it is used (see extensions.LazyMigrate)

    directory = app.extensions["migrate"].directory
    config = app.extensions["migrate"].migrate.get_config(directory)
    try:
        ScriptDirectory.from_config(config).get_revision(revision)
    except Exception:  # alembic raises several kinds for an unknown id
        raise BackupError(f"The archive's schema revision {revision} is unknown to this version of mediation: "
                          "restore it with the version that made it (or a later one).") from None


# --- the instance files ------------------------------------------------------------------

def _restore_instance(app, staging: Path, written: list[Path], report: Report) -> bool:
    """Write the archive's instance files; True when its config.py became the instance's."""
    instance = Path(app.instance_path)
    config_restored = False
    for name in INSTANCE_FILES:
        source = staging / "instance" / name
        if not source.is_file():
            continue
        target = instance / name
        if name == "config.py" and target.exists() and target.resolve() not in crypto.CREATED:
            target = instance / "config.py.restored"
            report.warnings.append(f"{instance / 'config.py'} was kept; the archive's config.py is in {target}: "
                                   "copy from it what this instance needs (ID_ENCRYPTION_KEYS, ID_HASH_KEY, "
                                   "SECRET_KEY).")
        elif name == "config.py":
            config_restored = True
        move_into(source, target)
        os.chmod(target, 0o600)
        crypto.CREATED.discard(target.resolve())  # the archive's now, no longer a key this start made
        written.append(target)
    return config_restored


def _reload_config(app, engine: sa.Engine, report: Report) -> None:
    """The restored config.py counts from now on (the environment still wins), as it will at the next start."""
    path = Path(app.instance_path) / "config.py"
    app.config.from_pyfile(str(path))
    app.config.from_prefixed_env("MEDIATION")
    restored = Config(app.instance_path)
    restored.from_pyfile(str(path))
    url = restored.get("DATABASE_URL") or restored.get("SQLALCHEMY_DATABASE_URI")
    if url and not os.environ.get("MEDIATION_DATABASE_URL"):
        here = engine.url.render_as_string(hide_password=True)
        if sa.engine.make_url(url).render_as_string(hide_password=True) != here:
            report.warnings.append(f"The restored {path} sets DATABASE_URL to another database than the one "
                                   f"restored into ({here}): correct it, or set MEDIATION_DATABASE_URL.")


# --- the database -------------------------------------------------------------------------

def _restore_sqlite(engine: sa.Engine, staging: Path) -> None:
    target = _sqlite_target(engine)
    engine.dispose()
    for suffix in SQLITE_SUFFIXES:  # the empty file this start made, if any
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    move_into(staging / SQLITE_FILE, target)
    os.chmod(target, 0o600)


def _load_order(tables: list[sa.Table]) -> tuple[list[sa.Table], dict[str, set[str]]]:
    """Tables in foreign-key order, and per table the columns to set after every row is in:
    a table's references to itself, and the nullable references that close a cycle (a lead
    names its case, a case the lead it came from). A cycle of NOT NULL references cannot be
    loaded."""
    by_name = {t.name: t for t in tables}
    needs: dict[str, dict[str, bool]] = {t.name: {} for t in tables}  # table -> referred table -> NOT NULL?
    for table in tables:
        for fk in table.foreign_key_constraints:
            referred = fk.referred_table.name
            if referred != table.name and referred in by_name:
                hard = any(not c.nullable for c in fk.columns)
                needs[table.name][referred] = needs[table.name].get(referred, False) or hard
    ordered, done, waived, left = [], set(), set(), set(by_name)

    def unmet(n, hard_only=False):
        return [r for r, hard in needs[n].items() if r not in done and (n, r) not in waived and (hard or not hard_only)]

    while left:
        ready = sorted(n for n in left if not unmet(n))
        if not ready:  # a cycle: load the table with the fewest nullable references still open first
            candidates = [n for n in sorted(left) if not unmet(n, hard_only=True)]
            if not candidates:
                raise BackupError(f"The tables {', '.join(sorted(left))} refer to each other through NOT NULL "
                                  "columns: their rows cannot be loaded.")
            pick = min(candidates, key=lambda n: (len(unmet(n)), n))
            waived |= {(pick, r) for r in unmet(pick)}
            continue
        for name in ready:
            ordered.append(by_name[name])
            done.add(name)
            left.discard(name)
    position = {t.name: i for i, t in enumerate(ordered)}
    deferred = {t.name: set() for t in tables}
    for table in ordered:
        for fk in table.foreign_key_constraints:
            referred = fk.referred_table.name
            if referred in position and position[referred] >= position[table.name]:
                deferred[table.name].update(c.name for c in fk.columns)
    return ordered, deferred


def _restore_postgresql(app, engine: sa.Engine, staging: Path, manifest: dict) -> int:
    from flask_migrate import upgrade  # (see _known_revision)

    upgrade(revision=manifest["alembic_revision"])  # the schema the rows were read from
    archived = manifest["tables"]
    rows_in = 0
    with engine.begin() as conn:
        meta = sa.MetaData()
        meta.reflect(conn, only=data_tables(conn))
        missing = sorted(set(archived) - set(meta.tables))
        if missing:
            raise BackupError(f"The schema built for revision {manifest['alembic_revision']} lacks the archive's "
                              f"tables {', '.join(missing)}.")
        tables = [meta.tables[n] for n in sorted(archived) if n != "alembic_version"]
        for table in tables:
            for column in table.columns:  # a missing JSON value is SQL NULL, as it was read
                if isinstance(column.type, sa.JSON):
                    column.type = type(column.type)(none_as_null=True)
        # The migrations' own rows (the audit chain's head, categories...) give way to the archive's.
        prep = conn.dialect.identifier_preparer
        conn.exec_driver_sql("TRUNCATE " + ", ".join(prep.format_table(t) for t in tables))
        ordered, deferred = _load_order(tables)
        later: list[tuple[sa.Table, dict, dict]] = []
        for table in ordered:
            names = archived[table.name]["columns"]
            unknown = [n for n in names if n not in table.columns]
            if unknown:
                raise BackupError(f"The table {table.name} has no column {', '.join(unknown)} at revision "
                                  f"{manifest['alembic_revision']}.")
            decode = [decoder(table.columns[n]) for n in names]
            pk = [c.name for c in table.primary_key.columns]
            batch, count = [], 0
            with (staging / "database" / f"{table.name}.jsonl").open(encoding="utf-8") as fh:
                for line in fh:
                    row = {n: d(v) for n, d, v in zip(names, decode, json.loads(line), strict=True)}
                    hold = {n: row[n] for n in deferred[table.name] if row.get(n) is not None}
                    if hold:
                        later.append((table, {n: row[n] for n in pk}, hold))
                        row.update(dict.fromkeys(hold))
                    batch.append(row)
                    if len(batch) >= BATCH:
                        conn.execute(table.insert(), batch)
                        count += len(batch)
                        batch = []
            if batch:
                conn.execute(table.insert(), batch)
                count += len(batch)
            if count != archived[table.name]["rows"]:
                raise BackupError(f"{table.name}: {count} rows read, the manifest says {archived[table.name]['rows']}.")
            rows_in += count
        for table, key, values in later:
            conn.execute(sa.update(table).where(*[table.c[k] == v for k, v in key.items()]).values(**values))
        for table in ordered:
            _reset_sequence(conn, table)
    return rows_in


def _reset_sequence(conn: sa.Connection, table: sa.Table) -> None:
    """Move the id sequence past the highest id restored, so that new rows do not collide."""
    for column in table.primary_key.columns:
        if not isinstance(column.type, sa.Integer):
            continue
        name = conn.dialect.identifier_preparer.format_table(table)
        sequence = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                {"t": name, "c": column.name}).scalar()
        if sequence:
            top = conn.execute(sa.select(sa.func.max(column))).scalar()
            conn.execute(sa.text("SELECT setval(CAST(:s AS regclass), :v, :called)"),
                         {"s": sequence, "v": top or 1, "called": top is not None})


def _take_back(app, engine: sa.Engine, written: list[Path]) -> None:
    """After a failure: the target as it was (empty)."""
    for path in written:
        path.unlink(missing_ok=True)
    if engine.dialect.name == "sqlite":
        engine.dispose()
        target = _sqlite_target(engine)
        for suffix in SQLITE_SUFFIXES:
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        return
    with engine.begin() as conn:
        prep = conn.dialect.identifier_preparer
        for name in sa.inspect(conn).get_table_names():
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {prep.quote(name)} CASCADE")


def restore(app, engine: sa.Engine, archive: Path) -> Report:
    archive = Path(archive).resolve()
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=instance) as staging:
        staging = Path(staging)
        manifest = extract(archive, staging)
        report = Report(manifest)
        if manifest["dialect"] != engine.dialect.name:
            raise BackupError(f"The archive holds a {manifest['dialect']} database; this instance uses "
                              f"{engine.dialect.name}. Restore it into a {manifest['dialect']} database.")
        _known_revision(app, manifest.get("alembic_revision"))
        if problems := target_problems(app, engine, archive):
            raise BackupError("\n".join(problems))
        written: list[Path] = []
        from flask_migrate import upgrade  # (see _known_revision)

        try:
            if _restore_instance(app, staging, written, report):
                _reload_config(app, engine, report)
            crypto.reset(app)  # the archive's keys, not the ones this start made
            if engine.dialect.name == "sqlite":
                _restore_sqlite(engine, staging)
                written.append(_sqlite_target(engine))
                report.rows = sum(t["rows"] for t in manifest["tables"].values())
            else:
                report.rows = _restore_postgresql(app, engine, staging, manifest)
            upgrade()  # to this version's head (nothing to do when the archive is as new)
            folder = upload_folder(app)
            for source in sorted((staging / "uploads").iterdir()) if (staging / "uploads").is_dir() else []:
                target = folder / source.name
                move_into(source, target)
                written.append(target)
                report.uploads += 1
        except BaseException:
            _take_back(app, engine, written)
            raise
    _check_keys(app, report)
    return report


def _check_keys(app, report: Report) -> None:
    """Do the keys now configured open the restored numbers? (They will be checked at every start.)"""
    crypto.reset(app)
    verdict = examine(app, store=False)
    if verdict.problems:
        report.warnings += verdict.problems
        return
    with app.app_context():
        with db.engine.connect() as conn:
            found = key_data.scan(conn, verdict.cipher)
    report.warnings += found.problems(source_of(app, "encryption"), source_of(app, "hash"))
    if not report.warnings or found.numbers:
        report.notes.append(f"{found.numbers} ID number(s) open with the keys and match their hashes.")
    uploads = report.manifest.get("uploads") or {}
    if uploads.get("missing"):
        report.warnings.append(f"{len(uploads['missing'])} file(s) the database refers to were already missing when "
                               "the archive was made.")
