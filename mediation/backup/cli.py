"""``flask --app mediation backup create|restore|verify FILE``: they run whatever state the keys are in."""
import sqlite3
import tempfile
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from .. import crypto
from ..extensions import db
from .archive import BackupError, create, extract
from .restore import restore

backup_cli = AppGroup("backup", help="One archive of the database, the keys and the uploads.")


def _summary(manifest: dict) -> str:
    rows = sum(t["rows"] for t in manifest["tables"].values())
    uploads = (manifest.get("uploads") or {}).get("files", 0)
    return (f"{manifest['dialect']} database at revision {manifest['alembic_revision']}: {len(manifest['tables'])} "
            f"tables, {rows} rows; {uploads} uploaded files; made {manifest['created_at']} by mediation "
            f"{manifest['app_version']}")


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_create(file):
    """Write one archive (.tar.gz, 0600) of the database (a consistent snapshot, while the
    app goes on), the keys and the uploads. It holds the keys: keep it as safe as them."""
    try:
        result = create(current_app._get_current_object(), db.engine, file)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"{file}: {_summary(result.manifest)}.")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def backup_restore(file):
    """Rebuild an archive into this instance folder and database, which must be empty
    (stop the app first)."""
    try:
        report = restore(current_app._get_current_object(), db.engine, file)
    except BackupError as exc:
        _undo_this_start()
        raise click.ClickException(str(exc)) from None
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    for note in report.notes:
        click.echo(note)
    click.echo(f"Restored {_summary(report.manifest)}: {report.rows} rows and {report.uploads} files written.")


@backup_cli.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def backup_verify(file):
    """Read an archive through and check every file against its manifest."""
    with tempfile.TemporaryDirectory(prefix="mediation-verify-") as staging:
        try:
            manifest = extract(file, Path(staging))
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{file} is whole: {_summary(manifest)}.")


def _undo_this_start() -> None:
    """A refused restore leaves the target as it found it: the files this command's own start
    made (a session key, new ID keys, an empty SQLite file) would block the next try."""
    for path in list(crypto.CREATED):
        path.unlink(missing_ok=True)
        crypto.CREATED.discard(path)
    target = db.engine.url.database if db.engine.dialect.name == "sqlite" else None
    db.engine.dispose()
    if target and Path(target).is_file():
        with sqlite3.connect(target) as conn:
            empty = not conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if empty:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
