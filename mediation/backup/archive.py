"""Writing an archive (``create``) and reading one back (``extract``), and what both share:
the value encoding of the PostgreSQL rows and the list of tables."""
import base64
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from importlib import metadata
from pathlib import Path, PurePosixPath

import sqlalchemy as sa

from .. import crypto
from ..search.index import include_name
from ..timeutil import utcnow
from . import FORMAT, FORMAT_VERSION, INSTANCE_FILES, MANIFEST

SQLITE_FILE = "database/mediation.sqlite"
CHUNK = 1 << 20
ROWS_PER_FETCH = 1000
TOP_LEVEL = {MANIFEST, "database", "instance", "uploads"}


class BackupError(Exception):
    """The archive cannot be made or used; the message says why."""


@dataclass
class Result:
    manifest: dict
    warnings: list[str] = field(default_factory=list)


# --- values ------------------------------------------------------------------------

def encode(value):
    """A column value as JSON: times and dates in ISO form, decimals as strings, bytes in base64."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def decoder(column: sa.Column):
    """The inverse of ``encode`` for a column of this type."""
    kind = column.type
    if isinstance(kind, sa.DateTime):
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if isinstance(kind, sa.Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    if isinstance(kind, sa.Time):
        return lambda v: None if v is None else time.fromisoformat(v)
    if isinstance(kind, sa.Numeric) and not isinstance(kind, sa.Float):
        return lambda v: None if v is None else Decimal(v)
    if isinstance(kind, sa.LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    return lambda v: v


def data_tables(conn: sa.Connection) -> list[str]:
    """The tables a snapshot holds: all of the default schema's but SQLite's own and the
    FTS5 index (``search_fts`` and its shadow tables, rebuilt from ``search_doc``)."""
    names = sa.inspect(conn).get_table_names()
    return sorted(n for n in names if not n.startswith("sqlite_") and include_name(n, "table", {}))


def app_version() -> str:
    try:
        return metadata.version("mediation")
    except metadata.PackageNotFoundError:
        return "unknown"


def upload_folder(app) -> Path:
    return Path(app.config.get("UPLOAD_FOLDER") or Path(app.instance_path) / "uploads")


# --- the database snapshot -----------------------------------------------------------

_attachment = sa.table("attachment", sa.column("stored_name", sa.String), sa.column("has_thumbnail", sa.Boolean),
                       sa.column("sha256", sa.String))
_alembic = sa.table("alembic_version", sa.column("version_num", sa.String))


def _describe(conn: sa.Connection, tables: list[str]) -> tuple[str | None, list[tuple[str, bool, str]]]:
    """(Alembic revision, attachments as (stored name, has thumbnail, sha256)) of the snapshot."""
    revision = None
    if "alembic_version" in tables:
        revision = conn.execute(sa.select(_alembic.c.version_num)).scalar()
    files = []
    if "attachment" in tables:
        files = [tuple(r) for r in conn.execute(sa.select(_attachment.c.stored_name, _attachment.c.has_thumbnail,
                                                           _attachment.c.sha256).order_by(_attachment.c.stored_name))]
    return revision, files


def sqlite_snapshot(engine: sa.Engine, dest: Path) -> tuple[dict, str | None, list]:
    """Copy the live database through SQLite's online backup API (one step: one read
    transaction, so one consistent state while writers go on) into ``dest``."""
    source = engine.url.database
    if not source or source == ":memory:" or source.startswith("file::memory:"):
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    if not Path(source).exists():
        raise BackupError(f"The SQLite database {source} does not exist.")
    src = sqlite3.connect(source, timeout=30)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if check != "ok":
        raise BackupError(f"The copy of the database fails SQLite's check: {check}")
    copy = sa.create_engine(f"sqlite:///{dest}", poolclass=sa.pool.NullPool)
    try:
        with copy.connect() as conn:
            tables = data_tables(conn)
            info = {}
            inspector = sa.inspect(conn)
            for name in tables:
                columns = [c["name"] for c in inspector.get_columns(name)]
                rows = conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar()
                info[name] = {"columns": columns, "rows": rows}
            revision, files = _describe(conn, tables)
    finally:
        copy.dispose()
    return info, revision, files


def postgresql_snapshot(engine: sa.Engine, folder: Path) -> tuple[dict, str | None, list]:
    """Every table as JSON lines (``<table>.jsonl`` in ``folder``), read in one
    REPEATABLE READ, READ ONLY transaction: one consistent state while writers go on."""
    info = {}
    with engine.connect().execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True) as conn:
        tables = data_tables(conn)
        meta = sa.MetaData()
        meta.reflect(conn, only=tables)
        for name in tables:
            table = meta.tables[name]
            columns = [c for c in table.columns if c.computed is None]  # the search index's tsvector
            order = list(table.primary_key.columns) or [c for c in columns if not isinstance(c.type, sa.JSON)]
            rows = 0
            with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
                result = conn.execution_options(yield_per=ROWS_PER_FETCH).execute(
                    sa.select(*columns).order_by(*order))
                for row in result:
                    fh.write(json.dumps([encode(v) for v in row], ensure_ascii=False, separators=(",", ":")))
                    fh.write("\n")
                    rows += 1
            info[name] = {"columns": [c.name for c in columns], "rows": rows}
        revision, files = _describe(conn, tables)
        conn.rollback()
    return info, revision, files


# --- the archive -------------------------------------------------------------------

class _Hashing:
    """A file object that hashes what is read through it."""

    def __init__(self, fh):
        self.fh, self.sha = fh, hashlib.sha256()

    def read(self, size=-1):
        data = self.fh.read(size)
        self.sha.update(data)
        return data


class _Writer:
    def __init__(self, tar: tarfile.TarFile, mtime: float):
        self.tar, self.mtime, self.files = tar, mtime, {}

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o600, self.mtime
        return info

    def add_file(self, name: str, path: Path) -> str:
        with path.open("rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            reader = _Hashing(fh)
            self.tar.addfile(self._info(name, size), reader)
        digest = reader.sha.hexdigest()
        self.files[name] = {"sha256": digest, "size": size}
        return digest

    def add_bytes(self, name: str, data: bytes) -> None:
        import io

        self.tar.addfile(self._info(name, len(data)), io.BytesIO(data))


def _key_sources(app) -> tuple[dict, list[str]]:
    sources, warnings = {}, []
    for kind, setting in (("encryption", "ID_ENCRYPTION_KEYS"), ("hash", "ID_HASH_KEY")):
        path = crypto.key_files(app)[kind]
        if path is not None:
            sources[kind] = f"instance/{path.name}" if path.exists() else "missing"
            if not path.exists():
                warnings.append(f"{path} is missing: the archive holds no {kind} key.")
        elif os.environ.get(f"MEDIATION_{setting}"):
            sources[kind] = "environment"
            warnings.append(f"{setting} comes from the environment (MEDIATION_{setting}): it is not in the archive; "
                            "keep it with the archive, or its ID numbers cannot be read.")
        else:
            sources[kind] = "instance/config.py"
    return sources, warnings


def create(app, engine: sa.Engine, dest: Path) -> Result:
    """Write the archive of the whole system to ``dest`` (which must not exist), 0600."""
    dest = Path(dest).resolve()
    if dest.exists():
        raise BackupError(f"{dest} already exists: name a new file.")
    if not dest.parent.is_dir():
        raise BackupError(f"{dest.parent} is not a folder.")
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"The {dialect} database is not supported.")
    created_at = utcnow()
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with tempfile.TemporaryDirectory(prefix=".mediation-backup-", dir=dest.parent) as staging, \
                os.fdopen(fd, "wb") as out:
            staging = Path(staging)
            # The database first: the files it refers to were written before it committed them.
            if dialect == "sqlite":
                snapshot = staging / "mediation.sqlite"
                tables, revision, attachments = sqlite_snapshot(engine, snapshot)
            else:
                (staging / "database").mkdir()
                tables, revision, attachments = postgresql_snapshot(engine, staging / "database")
            with tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as tar:
                writer = _Writer(tar, created_at.timestamp())
                if dialect == "sqlite":
                    writer.add_file(SQLITE_FILE, snapshot)
                else:
                    for name in tables:
                        writer.add_file(f"database/{name}.jsonl", staging / "database" / f"{name}.jsonl")
                instance = Path(app.instance_path)
                for name in INSTANCE_FILES:
                    if (instance / name).is_file():
                        writer.add_file(f"instance/{name}", instance / name)
                keys, warnings = _key_sources(app)
                uploads = _add_uploads(writer, upload_folder(app), attachments, warnings)
                manifest = {
                    "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": app_version(),
                    "created_at": created_at.isoformat(timespec="seconds") + "Z", "dialect": dialect,
                    "alembic_revision": revision, "tables": tables, "keys": keys, "uploads": uploads,
                    "files": writer.files,
                }
                writer.add_bytes(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            out.flush()
            os.fsync(out.fileno())
        if dest.exists():
            raise BackupError(f"{dest} appeared meanwhile: name a new file.")
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Result(manifest, warnings)


def _add_uploads(writer: _Writer, folder: Path, attachments: list, warnings: list[str]) -> dict:
    """The files the snapshot refers to (a file written for an upload that was not yet
    committed at the snapshot is not referenced, and left out)."""
    referenced, missing, damaged = set(), [], []
    for stored, has_thumbnail, sha in attachments:
        names = [stored] + ([f"{stored}.thumb.jpg"] if has_thumbnail else [])
        for name in names:
            if "/" in name or "\\" in name or name.startswith("."):
                warnings.append(f"An attachment's stored name is not a plain file name: {name!r}; left out.")
                continue
            referenced.add(name)
            path = folder / name
            if not path.is_file():
                missing.append(name)
                continue
            digest = writer.add_file(f"uploads/{name}", path)
            if name == stored and digest != sha:
                damaged.append(name)
    if missing:
        warnings.append(f"{len(missing)} uploaded file(s) the database refers to are missing from {folder}: "
                        + ", ".join(missing[:5]))
    if damaged:
        warnings.append(f"{len(damaged)} uploaded file(s) differ from the SHA-256 the database recorded: "
                        + ", ".join(damaged[:5]))
    others = sum(1 for p in folder.iterdir() if p.is_file() and p.name not in referenced) if folder.is_dir() else 0
    return {"files": len(referenced) - len(missing), "missing": missing, "damaged": damaged, "not_referenced": others}


# --- reading an archive --------------------------------------------------------------

def extract(archive: Path, staging: Path) -> dict:
    """Unpack ``archive`` into ``staging`` (plain files only, under the four known names),
    check every file against the manifest, and return the manifest."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file.")
    seen = {}
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if (not member.isfile() or not parts or parts[0] not in TOP_LEVEL or ".." in parts
                        or member.name.startswith("/") or (parts[0] == MANIFEST) != (len(parts) == 1)):
                    raise BackupError(f"{archive} holds an unexpected entry: {member.name!r}")
                if member.name in seen:
                    raise BackupError(f"{archive} holds {member.name} twice.")
                target = staging.joinpath(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                sha = hashlib.sha256()
                with tar.extractfile(member) as src, open(target, "xb") as dst:
                    os.chmod(target, 0o600)
                    while chunk := src.read(CHUNK):
                        sha.update(chunk)
                        dst.write(chunk)
                seen[member.name] = {"sha256": sha.hexdigest(), "size": member.size}
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:  # zlib: a damaged gzip stream
        raise BackupError(f"{archive} cannot be read as a mediation backup (damaged?): {exc}") from None
    if MANIFEST not in seen:
        raise BackupError(f"{archive} has no {MANIFEST}: it is not a mediation backup (or it was cut short).")
    try:
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BackupError(f"The manifest of {archive} cannot be read: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a mediation backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{archive} is in backup format {manifest.get('format_version')}; this version of "
                          f"mediation reads format {FORMAT_VERSION}.")
    files = manifest.get("files") or {}
    del seen[MANIFEST]
    for name, info in files.items():
        if name not in seen:
            raise BackupError(f"{archive} lacks {name}, which its manifest lists.")
        if seen[name] != info:
            raise BackupError(f"{name} in {archive} does not match its SHA-256 in the manifest: "
                              "the archive is damaged.")
    if extra := sorted(set(seen) - set(files)):
        raise BackupError(f"{archive} holds files its manifest does not list: {', '.join(extra[:5])}")
    return manifest


def move_into(source: Path, target: Path) -> None:
    """Move a file, across file systems if need be, without leaving a half-written target."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
