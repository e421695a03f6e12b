"""``flask --app mediation keys check|rotate``: they run whatever state the keys are in."""
import secrets
import sys

import click
from cryptography.fernet import Fernet
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import DBAPIError

from .. import audit, crypto
from ..extensions import db
from . import data
from .services import examine, source_of, store_check

keys_cli = AppGroup("keys", help="The keys of the encrypted ID numbers.")


@keys_cli.command("check")
def keys_check():
    """Check that the key files are there, open the database's key check value and every
    stored ID number, and match its hash. Exits 1 naming each problem."""
    app = current_app._get_current_object()
    try:
        verdict = examine(app, store=False)
    except DBAPIError as exc:
        raise click.ClickException(f"The database cannot be read: {exc.orig}") from None
    problems = list(verdict.problems)
    found = None
    if verdict.cipher is not None:
        found = data.scan(db.session.connection(), verdict.cipher)
        problems += found.problems(source_of(app, "encryption"), source_of(app, "hash"))
    db.session.rollback()
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        sys.exit(1)
    if verdict.stale_check:
        store_check(db.session.connection(), verdict.cipher)
        db.session.commit()
        click.echo("The key check value was stored in the database.")
    click.echo(f"Keys OK: {found.numbers} ID number(s) and {found.drafts} draft(s) open with the encryption key in "
               f"{source_of(app, 'encryption')}; the hashes match the key in {source_of(app, 'hash')}.")


def _rotate(new_key: bool, new_hash_key: bool) -> None:
    app = current_app._get_current_object()
    files = crypto.key_files(app)
    if new_key and files["encryption"] is None:
        raise click.ClickException("ID_ENCRYPTION_KEYS is set in the configuration: put a new key first in it "
                                   "(keep the old one after it), run `keys rotate`, then remove the old key.")
    if new_hash_key and files["hash"] is None:
        raise click.ClickException("ID_HASH_KEY is set in the configuration: change it there and run `keys rotate`.")
    try:
        if new_key or new_hash_key:
            enc = crypto.encryption_keys(app)
            hkey = secrets.token_hex(32) if new_hash_key else crypto.hash_key(app)
            cipher = crypto.IdCipher(enc, hkey)
        else:  # the keys the app was started with
            cipher = crypto.cipher_for(app)
    except crypto.IdKeyError as exc:
        raise click.ClickException(str(exc)) from None
    # Nothing is changed unless the present keys open everything.
    found = data.scan(db.session.connection(), cipher)
    db.session.rollback()
    if found.unopened or found.unopened_drafts:
        for problem in found.problems(source_of(app, "encryption"), source_of(app, "hash"))[:2]:
            click.echo(problem, err=True)
        raise click.ClickException("Nothing was changed.")
    if new_key:
        enc = [Fernet.generate_key().decode(), *enc]
        crypto.write_key_file(files["encryption"], "\n".join(enc))  # new first, old still there: all open
        cipher = crypto.IdCipher(enc, hkey)
    if new_hash_key:
        crypto.write_key_file(files["hash"], hkey)  # a crash before the commit: run rotate again
    conn = db.session.connection()
    try:
        parties, drafts = data.rotate(conn, cipher)
    except crypto.IdKeyError as exc:  # a number written meanwhile with another key
        db.session.rollback()
        raise click.ClickException(f"{exc}. Nothing was changed in the database.") from None
    audit.record("keys.reencrypt", details={"parties": parties, "drafts": drafts, "new_key": new_key,
                                            "new_hash_key": new_hash_key})
    db.session.commit()
    if new_key or new_hash_key:
        crypto.reset(app)
    if new_key:
        crypto.write_key_file(files["encryption"], enc[0])
        click.echo(f"A new encryption key is in {files['encryption']}; the old one was removed from it "
                   "(backups made before keep it). Back up the new key now.")
    if new_hash_key:
        click.echo(f"A new hash key is in {files['hash']}. Back it up now.")
    click.echo(f"{parties} ID numbers re-encrypted and hashed again, {drafts} drafts re-encrypted; "
               "the key check value was renewed.")


@keys_cli.command("rotate")
@click.option("--new-key", is_flag=True,
              help="Put a new encryption key in instance/id_key; the old one is removed once every number is "
                   "re-encrypted.")
@click.option("--new-hash-key", is_flag=True, help="Replace instance/id_hash_key by a new key.")
def keys_rotate(new_key, new_hash_key):
    """Re-encrypt every ID number and every sealed draft field with the first encryption key,
    hash the numbers again with the hash key and renew the key check value. Stop the app
    servers first: they hold the old keys."""
    _rotate(new_key, new_hash_key)


@keys_cli.command("reencrypt-ids")
def keys_reencrypt_ids():
    """The same as ``keys rotate`` (its former name)."""
    _rotate(False, False)

